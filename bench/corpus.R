# The corpus of bench/data/realdata (48 public data sets, see
# bench/data/make_realdata.R) and its splits, shared by bench/realdata.R
# (backprop's defaults against nnet and scikit-learn) and bench/rule.R (the
# rule's constants judged leave-one-dataset-out). None of the data sets is
# from mlbench, kernlab, AppliedPredictiveModeling, ISLR, ISLR2, arules,
# nycflights13 or AER, whose data are kept for independent checks.
corpus_dir <- file.path(bench_data_dir, "realdata")
corpus_index <- function() {
  index <- utils::read.csv(file.path(corpus_dir, "index.csv"))
  only <- Sys.getenv("BENCH_ONLY", "")
  if (nzchar(only)) index <- index[index$name %in% strsplit(only, ",")[[1]], ]
  index
}
corpus_data <- function(name, task) {
  data <- utils::read.csv(gzfile(file.path(corpus_dir, paste0(name, ".csv.gz"))), stringsAsFactors = TRUE)
  if (task == "classification") data$y <- factor(data$y)
  data
}

# The `k`-th data set of `index` and its `splits` splits, named
# "<name>_<split>": list(name, task, parts).
corpus_parts <- function(index, k, splits) {
  name <- index$name[k]
  task <- index$task[k]
  data <- corpus_data(name, task)
  parts <- lapply(seq_len(splits), function(s) corpus_split(data, k, s))
  names(parts) <- paste0(name, "_", seq_len(splits))
  list(name = name, task = task, parts = parts)
}

# Split `s` of a data set: 30 percent of the rows held out at random (the
# seed fixed by the set's position and the split), less the held-out rows
# with a factor level that no training row has, which no model fitted to
# the training rows can code.
corpus_split <- function(data, k, s) {
  set.seed(1000 * k + s)
  test <- sample(nrow(data), round(0.3 * nrow(data)))
  train <- setdiff(seq_len(nrow(data)), test)
  seen <- rep(TRUE, length(test))
  for (v in setdiff(names(data), "y")) {
    if (is.factor(data[[v]])) seen <- seen & data[[v]][test] %in% data[[v]][train]
  }
  list(train = data[train, ], test = data[test[seen], ], seed = 1000 * k + s)
}

corpus_score <- function(task, pred, truth) {
  if (task == "classification") mean(as.character(pred) == as.character(truth))
  else sqrt(mean((pred - truth)^2))
}

# Held-out score and seconds of backprop()'s defaults (extra arguments in `args`).
run_backprop <- function(split, task, threads = 2L, args = list()) {
  set.seed(split$seed)
  fit <- timed(do.call(backprop, c(list(y ~ ., split$train, threads = threads, verbose = FALSE), args)))
  pred <- predict(fit$value, split$test, type = if (task == "classification") "class" else "response")
  if (is.matrix(pred)) pred <- pred[, 1]
  list(score = corpus_score(task, pred, split$test$y), seconds = fit$seconds, fit = fit$value)
}

run_nnet <- function(split, task) {
  set.seed(split$seed)
  fit <- timed(nnet::nnet(y ~ ., split$train, size = 10, linout = task == "regression",
                          trace = FALSE, MaxNWts = 1e6))
  train <- split$train
  pred <- if (task == "classification") {
    if (nlevels(train$y) == 2) levels(train$y)[1 + (predict(fit$value, split$test)[, 1] > 0.5)]
    else predict(fit$value, split$test, type = "class")
  } else predict(fit$value, split$test)[, 1]
  list(score = corpus_score(task, pred, split$test$y), seconds = fit$seconds)
}

# Debian's python3 first: its scikit-learn is the peer.
sklearn_python <- function() {
  has <- function(python) nzchar(python) && file.exists(python) &&
    system2(python, c("-c", shQuote("import sklearn")), stdout = FALSE, stderr = FALSE) == 0
  pythons <- Filter(has, c("/usr/bin/python3", Sys.which("python3")))
  if (length(pythons)) pythons[[1]] else ""
}

# scikit-learn's default pipeline on a list of splits (one Python process),
# each numerically coded as backprop codes it. Returns data.frame(id,
# score, seconds).
run_sklearn <- function(splits, task, python, threads = 2L) {
  exchange <- tempfile("sklearn")
  dir.create(exchange)
  on.exit(unlink(exchange, recursive = TRUE))
  write <- function(m, file) utils::write.table(m, file, sep = ",", row.names = FALSE, col.names = FALSE)
  jobs <- list()
  for (id in names(splits)) {
    train <- splits[[id]]$train
    test <- splits[[id]]$test
    frame <- stats::model.frame(y ~ ., train)
    tt <- stats::terms(frame)
    xlev <- stats::.getXlevels(tt, frame)
    code <- function(df) {
      m <- stats::model.matrix(tt, stats::model.frame(tt, df, xlev = xlev))
      m[, colnames(m) != "(Intercept)", drop = FALSE]
    }
    ycode <- function(y) if (task == "classification") as.integer(y) else y
    write(code(train), file.path(exchange, paste0(id, "_xtrain.csv")))
    write(ycode(train$y), file.path(exchange, paste0(id, "_ytrain.csv")))
    write(code(test), file.path(exchange, paste0(id, "_xtest.csv")))
    write(ycode(test$y), file.path(exchange, paste0(id, "_ytest.csv")))
    jobs[[id]] <- data.frame(name = id, task = task, seed = splits[[id]]$seed)
  }
  utils::write.csv(do.call(rbind, jobs), file.path(exchange, "index.csv"), row.names = FALSE)
  out <- system2(python, c(file.path("bench", "sklearn_realdata.py"), exchange), stdout = TRUE,
                 env = c(paste0("OPENBLAS_NUM_THREADS=", threads), paste0("OMP_NUM_THREADS=", threads)))
  sk <- utils::read.csv(text = out)
  data.frame(id = sk$name, score = sk$sklearn_metric, seconds = sk$sklearn_s)
}

# Within 2 accuracy points, or RMSE within 5 percent, of a peer's score;
# no worse than a peer's. (Equal scores are equal whether or not a CSV file
# rounded one of them to 15 digits.)
near_peer <- function(task, score, peer) {
  ifelse(task == "classification", score >= peer - 0.02 - 1e-12, score <= 1.05 * peer * (1 + 1e-12))
}
no_worse <- function(task, score, peer) {
  ifelse(task == "classification", score >= peer - 1e-12, score <= peer * (1 + 1e-12))
}
