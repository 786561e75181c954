# Real data, no tuning: backprop() with no argument but the formula and the
# data, against nnet(size = 10) and scikit-learn's default pipeline
# (StandardScaler + MLPClassifier / MLPRegressor, Debian python3-sklearn), on
# the public data sets of bench/data/realdata (none from mlbench). Each data
# set is split 75/25 at random, BENCH_SPLITS times (default 1); held-out
# accuracy or RMSE, and fit time, per data set and split.
source(file.path("bench", "common.R"))
splits <- as.integer(Sys.getenv("BENCH_SPLITS", "1"))
threads <- 2L
dir <- file.path(bench_data_dir, "realdata")
index <- utils::read.csv(file.path(dir, "index.csv"))
only <- Sys.getenv("BENCH_ONLY", "")
if (nzchar(only)) index <- index[index$name %in% strsplit(only, ",")[[1]], ]
# Debian's python3 first: its scikit-learn is the peer.
has_sklearn <- function(python) nzchar(python) && file.exists(python) &&
  system2(python, c("-c", shQuote("import sklearn")), stdout = FALSE, stderr = FALSE) == 0
pythons <- Filter(has_sklearn, c("/usr/bin/python3", Sys.which("python3")))
have_sklearn <- length(pythons) > 0
python <- if (have_sklearn) pythons[[1]] else ""
options(width = 160)
exchange <- file.path(tempdir(), "realdata")
dir.create(exchange, showWarnings = FALSE)

score <- function(task, pred, truth) {
  if (task == "classification") mean(as.character(pred) == as.character(truth))
  else sqrt(mean((pred - truth)^2))
}
write_matrix <- function(m, file) utils::write.table(m, file, sep = ",", row.names = FALSE, col.names = FALSE)

rows <- list()
jobs <- list()
for (k in seq_len(nrow(index))) {
  name <- index$name[k]
  task <- index$task[k]
  data <- utils::read.csv(gzfile(file.path(dir, paste0(name, ".csv.gz"))), stringsAsFactors = TRUE)
  if (task == "classification") data$y <- factor(data$y)
  for (s in seq_len(splits)) {
    seed <- 1000 * k + s
    set.seed(seed)
    test_rows <- sample(nrow(data), round(nrow(data) / 4))
    train <- data[-test_rows, ]
    test <- data[test_rows, ]
    set.seed(seed)
    b <- timed(backprop(y ~ ., train, threads = threads, verbose = FALSE))
    b_metric <- score(task, predict(b$value, test, type = if (task == "classification") "class" else "response"), test$y)
    set.seed(seed)
    n <- timed(nnet::nnet(y ~ ., train, size = 10, linout = task == "regression",
                          trace = FALSE, MaxNWts = 1e5))
    n_pred <- if (task == "classification") {
      if (nlevels(train$y) == 2) levels(train$y)[1 + (predict(n$value, test)[, 1] > 0.5)]
      else predict(n$value, test, type = "class")
    } else predict(n$value, test)[, 1]
    n_metric <- score(task, n_pred, test$y)
    id <- paste0(name, "_", s)
    if (have_sklearn) {
      # The same split, numerically coded as backprop codes it.
      tt <- stats::terms(stats::model.frame(y ~ ., train))
      code <- function(df) {
        m <- stats::model.matrix(tt, stats::model.frame(tt, df, xlev = stats::.getXlevels(tt, stats::model.frame(tt, train))))
        m[, colnames(m) != "(Intercept)", drop = FALSE]
      }
      ycode <- function(y) if (task == "classification") as.integer(y) else y
      write_matrix(code(train), file.path(exchange, paste0(id, "_xtrain.csv")))
      write_matrix(ycode(train$y), file.path(exchange, paste0(id, "_ytrain.csv")))
      write_matrix(code(test), file.path(exchange, paste0(id, "_xtest.csv")))
      write_matrix(ycode(test$y), file.path(exchange, paste0(id, "_ytest.csv")))
      jobs[[id]] <- data.frame(name = id, task = task, seed = seed)
    }
    rows[[id]] <- data.frame(name = id, dataset = name, task = task, rows = nrow(train),
                             backprop = b_metric, backprop_s = b$seconds,
                             nnet = n_metric, nnet_s = n$seconds)
  }
}
res <- do.call(rbind, rows)
if (have_sklearn) {
  utils::write.csv(do.call(rbind, jobs), file.path(exchange, "index.csv"), row.names = FALSE)
  out <- system2(python, c(file.path("bench", "sklearn_realdata.py"), exchange), stdout = TRUE,
                 env = c(paste0("OPENBLAS_NUM_THREADS=", threads), paste0("OMP_NUM_THREADS=", threads)))
  sk <- utils::read.csv(text = out)
  res <- merge(res, sk, by = "name", sort = FALSE)
} else {
  res$sklearn_metric <- NA_real_
  res$sklearn_s <- NA_real_
}
cls <- res$task == "classification"
# Within 2 accuracy points, or RMSE within 5 percent, of scikit-learn; no
# worse than nnet.
res$near_sklearn <- ifelse(cls, res$backprop >= res$sklearn_metric - 0.02,
                           res$backprop <= 1.05 * res$sklearn_metric)
res$no_worse_than_nnet <- ifelse(cls, res$backprop >= res$nnet, res$backprop <= res$nnet)
rule(sprintf("real data, no tuning: held-out accuracy (classification) or RMSE (regression), %d split(s)", splits))
shown <- res[, c("dataset", "task", "rows", "backprop", "nnet", "sklearn_metric", "backprop_s", "nnet_s", "sklearn_s")]
names(shown)[names(shown) == "sklearn_metric"] <- "sklearn"
num <- vapply(shown, is.numeric, logical(1))
shown[num] <- lapply(shown[num], signif, 4)
print(shown, row.names = FALSE)
if (!have_sklearn) cat("scikit-learn is not installed (Debian python3-sklearn): its columns are NA\n")
cat(sprintf("\nwithin 2 points / 5 percent of scikit-learn: %d of %d; no worse than nnet: %d of %d\n",
            sum(res$near_sklearn, na.rm = TRUE), sum(!is.na(res$near_sklearn)),
            sum(res$no_worse_than_nnet), nrow(res)))
cat(sprintf("total fit time: backprop %.2f s, nnet %.2f s, scikit-learn %.2f s; backprop / nnet = %.2f, backprop / scikit-learn = %.2f\n",
            sum(res$backprop_s), sum(res$nnet_s), sum(res$sklearn_s),
            sum(res$backprop_s) / sum(res$nnet_s), sum(res$backprop_s) / sum(res$sklearn_s)))
