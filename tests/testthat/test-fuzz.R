# Malformed and extreme arguments, thrown at every exported function in a
# child R process: each call must end in an R error or a valid result; the
# child must survive every one of them.

fuzz_calls <- function(n_calls, seed) {
  library(backprop)
  options(backprop.threads = 2, warn = -1)
  set.seed(seed)
  good_x <- matrix(runif(24), 8, 3)
  pick <- function(pool) pool[[sample.int(length(pool), 1)]]
  xs <- list(
    good_x, good_x[, 1], as.data.frame(good_x), good_x > 0.5, round(good_x * 10),
    matrix(NA_real_, 8, 3), replace(good_x, 5, NaN), replace(good_x, 2, Inf), replace(good_x, 3, -Inf),
    good_x[0, ], good_x[, 0], matrix(numeric(0), 0, 0), NULL, "x", letters, factor(1:8),
    list(1, 2, 3), list(a = 1:8, b = 1:7), array(runif(48), c(8, 3, 2)), matrix(1i, 8, 3),
    data.frame(a = 1:8, b = I(as.list(1:8))), data.frame(a = 1:8, f = factor(rep(c("u", "v"), 4))),
    matrix(1e308, 8, 3), matrix(-1e308, 8, 3), matrix(.Machine$double.xmin, 8, 3),
    structure(good_x, dimnames = list(NULL, c("a%s", "b%n", "%d%%"))), matrix(runif(9), 9, 1)
  )
  ys <- list(
    runif(8), matrix(runif(16), 8), round(runif(8)), factor(rep(c("a", "b"), 4)),
    factor(rep("a", 8)), factor(c(rep("a", 7), NA)), c(runif(7), NA), c(runif(7), Inf),
    runif(7), runif(9), NULL, "y", list(1), matrix(runif(8), 8, 1) * 1e300, -runif(8),
    character(8), matrix(NaN, 8, 2), as.data.frame(matrix(runif(16), 8))
  )
  values <- list(
    hidden = list(3, 1, c(2, 2), 0, -1, 2.5, NA, Inf, 1e9, 1e12, c(1e6, 1e6), "3", NULL, list(2), c(3, NA)),
    epochs = list(0, 1, 2, 5, -1, 0.5, NA, Inf, "1", NULL, c(1, 2)),
    lr = list(NULL, 0.1, 1e-3, 1e10, 1e300, 0, -1, NA, NaN, Inf, "a", c(0.1, 0.2)),
    bias = list("column", "row", "diag", NA, 1, c("row", "column"), "%s"),
    init = list("article", "uniform", "xavier", "he", "nnet", "zeros", "%n%s", NA, 5, list(), list(wh = 1),
                list(wh = matrix(1, 3, 3), bh = 1:3, wout = matrix(1, 3, 1), bout = 1),
                list(weights = list(matrix(1, 3, 2)), biases = list())),
    activation = list("sigmoid", "tanh", "relu", "leaky_relu", "linear", "softmax", "gelu", NA, c("tanh", "relu"), 1),
    output = list(NULL, "sigmoid", "linear", "softmax", "tanh", NA, 2),
    loss = list(NULL, "sse", "mse", "cross_entropy", "hinge", NA, TRUE),
    optimizer = list("gd", "sgd", "adam", "lm", "lbfgs", "newton", NA, 0),
    batch_size = list(NULL, 1, 4, 8, 9, 0, -2, 2.5, NA, 1e12),
    validation = list(NULL, 0.25, 0, 1, -0.5, 2, NA, "a", list(x = good_x, y = runif(8)), list(x = 1)),
    patience = list(NULL, 1, 3, 0, -1, NA, 1.5),
    weight_decay = list(0, 0.01, -1, NA, Inf, 1e300),
    momentum = list(0.9, 0, 1, -0.1, NA),
    threads = list(NULL, 1, 2, 0, -1, NA, 1.5, 1e9),
    scale = list(FALSE, TRUE, NA, "yes"),
    precision = list("double", "single", "half", NA, 32, c("single", "double"), "%d")
  )
  outcome <- character(n_calls)
  # Breaches of the invariants by valid results, one line each: a key that
  # groups them, then the call and details.
  violations <- character(0)
  note <- function(i, key, detail = "") {
    violations <<- c(violations, paste0(key, " | call ", i, ": ", substr(detail, 1, 300)))
  }
  # Invariant 1 (fitted() is predict() on the training x, where new data can
  # be predicted) and invariant 6 (the methods work) on a valid fit. R's RNG
  # is restored afterwards, so the calls drawn after it are as before.
  check_fit <- function(fit, train_x, i) {
    seed <- get(".Random.seed", envir = globalenv())
    on.exit(assign(".Random.seed", seed, envir = globalenv()))
    attempt <- function(expr) tryCatch(suppressWarnings(expr), error = function(e) e)
    failed <- function(res) inherits(res, "error")
    where <- paste0("optimizer ", fit$optimizer, ", bias ", fit$bias, ", precision ", fit$precision,
                    ", epochs run ", length(fit$loss), if (!is.null(fit$held_out)) ", validation fraction",
                    ", x a ", if (is.data.frame(train_x)) "data frame" else if (is.matrix(train_x)) "matrix" else "vector",
                    ";")
    type <- if (is.null(fit$levels)) "response" else "prob"
    fv <- attempt(fitted(fit))
    if (failed(fv)) return(note(i, "inv1: fitted() failed", conditionMessage(fv)))
    if (fit$bias == "row") {
      p <- attempt(predict(fit, type = type))
      if (failed(p) || !isTRUE(all.equal(p, fv, tolerance = 1e-8))) {
        note(i, "inv1: predict(fit) differs from fitted() (bias row)", where)
      }
      if (!inherits(attempt(predict(fit, train_x)), "backprop_error")) {
        note(i, "inv1: predict(fit, newdata) of a bias = \"row\" fit is not backprop's error", where)
      }
    } else {
      p <- attempt(predict(fit, train_x, type = type))
      if (failed(p)) {
        note(i, "inv1: predict(fit, training x) failed", paste(where, conditionMessage(p)))
      } else {
        # Values, row names and column names (a NULL dimnames and
        # list(NULL, NULL) are the same names).
        same <- all.equal(unname(fv), unname(p), tolerance = 1e-8)
        if (!identical(rownames(fv), rownames(p))) same <- c(if (!isTRUE(same)) same, "row names differ")
        if (!identical(colnames(fv), colnames(p))) same <- c(if (!isTRUE(same)) same, "column names differ")
        if (!isTRUE(same)) {
          names_of <- function(m) paste0("(", paste(lengths(dimnames(m)), collapse = ","), ")")
          note(i, paste0("inv1: fitted() differs from predict(fit, training x) (optimizer ", fit$optimizer,
                         if (!is.null(fit$held_out)) ", validation fraction", ")"),
               paste(where, paste(same, collapse = "; "), "; row and column names of fitted()",
                     names_of(fv), "and predict()", names_of(p)))
        }
      }
    }
    method <- function(name, expr) {
      res <- attempt(expr)
      if (failed(res)) note(i, paste0("inv6: ", name, " failed"), paste(where, conditionMessage(res)))
      res
    }
    method("print(summary())", utils::capture.output(print(summary(fit))))
    method("print()", utils::capture.output(print(fit)))
    grDevices::pdf(NULL)
    if (length(fit$loss)) {
      method("plot()", plot(fit))
    } else if (!inherits(attempt(plot(fit)), "backprop_error")) {
      note(i, "inv6: plot() of a fit with no epoch is not backprop's error", where)
    }
    method("plot(type = \"network\")", plot(fit, type = "network"))
    grDevices::dev.off()
    td <- method("tidy()", tidy(fit))
    cf <- method("coef()", coef(fit))
    if (!failed(td) && !failed(cf) && nrow(td) != length(cf)) {
      note(i, "inv6: tidy() rows differ from length(coef())", paste(nrow(td), length(cf)))
    }
    method("glance()", glance(fit))
    method("nobs()", nobs(fit))
    data <- if (is.null(dim(train_x))) as.matrix(train_x) else train_x
    method("augment(fit, data = training x)", augment(fit, data = data))
    method("augment(fit) without data", augment(fit))
    method("update()", update(fit))
    file <- tempfile(fileext = ".rds")
    back <- method("saveRDS() and readRDS()", { saveRDS(fit, file); readRDS(file) })
    unlink(file)
    if (!failed(back) && fit$bias == "column") {
      a <- attempt(predict(back, train_x))
      b <- attempt(predict(fit, train_x))
      if (!identical(a, b)) note(i, "inv6: predict() after readRDS() differs", where)
    }
    invisible()
  }
  for (i in seq_len(n_calls)) {
    args <- list(X = pick(xs), Y = pick(ys))
    for (name in sample(names(values), sample(0:6, 1))) args[name] <- list(pick(values[[name]]))
    target <- sample(c("train", "train", "train", "backprop", "trace", "gradcheck"), 1)
    result <- tryCatch({
      if (target %in% c("train", "backprop")) {
        fit <- if (target == "train") do.call(mlp_train, args) else {
          names(args)[1:2] <- c("x", "y")
          do.call(backprop, args[setdiff(names(args), "bias")])
        }
        stopifnot(inherits(fit, "mlp_fit"), all(is.finite(unlist(fit$weights))))
        check_fit(fit, args[[1L]], i)
        utils::capture.output(print(fit), print(summary(fit)))
        coef(fit)
        fitted(fit)
        nd <- pick(xs)
        warned <- FALSE
        p <- tryCatch(withCallingHandlers(predict(fit, nd), warning = function(w) {
          warned <<- TRUE
          invokeRestart("muffleWarning")
        }), error = function(e) NULL)
        # A non-finite prediction is acceptable for a row with an NA input
        # (it predicts NA) and otherwise only with a warning.
        if (!is.null(p)) {
          bad <- !is.finite(rowSums(as.matrix(p)))
          na_row <- if (length(dim(nd)) == 2 && nrow(nd) == length(bad)) rowSums(is.na(as.matrix(nd))) > 0 else FALSE
          stopifnot(!any(bad & !na_row) || warned)
        }
        tryCatch(predict(fit, nd, type = pick(list("class", "raw", "bad", NA))), error = function(e) NULL)
        utils::capture.output(tidy(fit), glance(fit))
        # The tidiers and explanations on random data: a result or backprop's error.
        explain <- pick(list(
          function() augment(fit, data = pick(xs)),
          function() augment(fit, newdata = pick(xs)),
          function() mlp_importance(fit, pick(xs), y = pick(ys), repeats = pick(list(1, 2, 0, NA)),
                                    method = pick(list("permutation", "garson", "olden", "x", NA))),
          function() mlp_partial(fit, pick(xs), pick(list("V1", "a", 1, 2, NA, "zz", c("a", "b"))),
                                 grid = pick(list(3, 1, NA, c(0, 1), "a")))
        ))
        tryCatch(explain(), error = function(e) {
          if (!inherits(e, "backprop_error")) stop(e)
        })
        "result"
      } else if (target == "trace") {
        keep <- intersect(names(args), c("X", "Y", "hidden", "lr", "bias", "init", "activation",
                                         "output", "loss", "threads"))
        tr <- do.call(mlp_trace, args[keep])
        utils::capture.output(print(tr))
        "result"
      } else {
        keep <- intersect(names(args), c("X", "Y", "hidden", "activation", "output", "loss",
                                         "bias", "init", "weight_decay"))
        g <- do.call(mlp_gradcheck, args[keep])
        stopifnot(inherits(g, "mlp_gradcheck"))
        "result"
      }
    }, error = function(e) {
      msg <- conditionMessage(e)
      if (inherits(e, "backprop_error")) "backprop_error" else paste("other error:", msg)
    })
    outcome[i] <- result
  }
  list(outcome = outcome, violations = violations)
}

test_that("1200 malformed argument combinations end in errors or valid results, never a crash", {
  skip_if_not_installed("callr")
  res <- callr::r(fuzz_calls, list(n_calls = 1200, seed = 20261129))
  outcome <- res$outcome
  expect_length(outcome, 1200)
  expect_gt(sum(outcome == "backprop_error"), 600)
  expect_gt(sum(outcome == "result"), 20)
  # Errors that do not come from backprop's own checks are listed for review.
  others <- unique(outcome[startsWith(outcome, "other error")])
  expect_true(length(others) == 0, label = paste(head(others, 10), collapse = "\n"))
  # Every valid result satisfies invariant 1 (fitted() is predict() on the
  # training x) and invariant 6 (the methods work): breaches are listed by
  # kind, with a count and the first call of each.
  keys <- sub(" \\| .*", "", res$violations)
  first <- res$violations[!duplicated(keys)]
  counts <- table(keys)[unique(keys)]
  expect_true(length(res$violations) == 0,
              label = paste0("invariant breaches by valid results:\n",
                             paste0(counts, " x ", first, collapse = "\n")))
})

test_that("no message from Rust reaches R's printf with a percent sign in it", {
  # extendr 0.9 hands error messages to Rf_error as a format: a "%s" or "%n"
  # there would read or write arbitrary memory. The internal entry points are
  # called directly with such text, in a child process so a crash would show.
  skip_if_not_installed("callr")
  res <- callr::r(function() {
    library(backprop)
    ns <- asNamespace("backprop")
    x <- matrix(runif(6), 3)
    y <- matrix(runif(3), 3)
    blocks <- list(weights = list(matrix(0.1, 2, 2), matrix(0.1, 2, 1)),
                   biases = list(matrix(0, 1, 2), matrix(0, 1, 1)))
    config <- list(loss = "sse", optimizer = "gd", lr = 0.1, epochs = 3, batch_size = 3,
                   weight_decay = 0, patience = NULL, seed = 0, threads = 1, momentum = 0,
                   nesterov = FALSE)
    arch <- function(act, bias = "column") list(sizes = c(2, 2, 1), activation = act, output = "sigmoid", bias = bias)
    # A training spec as train_() reads it: architecture and settings in one list.
    spec <- function(act, bias = "column", loss = "sse") {
      utils::modifyList(c(arch(act, bias), config), list(loss = loss))
    }
    grab <- function(expr) tryCatch({ expr; "no error" }, error = function(e) conditionMessage(e))
    c(
      activation = grab(ns$train_(x, y, spec("%s%s%n%n"), blocks, NULL, NULL, NULL, NULL)),
      bias = grab(ns$train_(x, y, spec("tanh", "100%n"), blocks, NULL, NULL, NULL, NULL)),
      loss = grab(ns$train_(x, y, spec("tanh", loss = "%s%s%n%n"), blocks, NULL, NULL, NULL, NULL)),
      progress = grab(ns$train_(x, y, spec("tanh"), blocks, NULL, NULL,
                                function(epoch, loss) stop("%s%n%s%n in the callback"), NULL)),
      watcher = grab(ns$train_(x, y, c(spec("tanh"), callback_every = 1), blocks, NULL, NULL, NULL,
                               function(epoch, loss, val_loss, params) stop("%s%n%s%n in the watcher"))),
      predict = grab(ns$predict_(x, arch("%d%x%n"), blocks, 1))
    )
  })
  expect_match(res[["activation"]], "unknown activation")
  expect_match(res[["bias"]], "unknown bias layout")
  expect_match(res[["loss"]], "unknown loss")
  expect_match(res[["progress"]], "the progress report failed")
  expect_match(res[["watcher"]], "the callback failed")
  expect_match(res[["predict"]], "unknown activation")
  for (msg in res) expect_false(grepl("%", msg, fixed = TRUE))
})

test_that("the core checks a configuration once more and names the field it refuses", {
  # The R side sends only what its checks passed; the core's own check
  # (TrainConfig::check) guards its internal entry points against the rest.
  ns <- asNamespace("backprop")
  x <- matrix(runif(6), 3)
  y <- matrix(runif(3), 3)
  blocks <- list(weights = list(matrix(0.1, 2, 2), matrix(0.1, 2, 1)),
                 biases = list(matrix(0, 1, 2), matrix(0, 1, 1)))
  spec <- list(sizes = c(2, 2, 1), activation = "tanh", output = "linear", bias = "column",
               loss = "sse", optimizer = "gd", lr = 0.1, epochs = 3, batch_size = 3,
               weight_decay = 0, patience = NULL, seed = 0, threads = 1)
  train <- function(...) ns$train_(x, y, utils::modifyList(spec, list(...)), blocks, NULL, NULL, NULL, NULL)
  expect_type(train()$loss, "double")
  expect_error(train(loss = "cross_entropy"), "internal: loss cross_entropy does not fit a linear output", fixed = TRUE)
  expect_error(train(optimizer = "lm", loss = "mae"), "internal: optimizer lm cannot minimise mae on a linear output", fixed = TRUE)
  expect_error(train(lr = -1), "internal: lr must be finite and not negative", fixed = TRUE)
  expect_error(train(optimizer = "sgd", momentum = 1), "internal: optimizer sgd has a constant out of range", fixed = TRUE)
  expect_error(train(output = "tanh"), "internal: output cannot be tanh", fixed = TRUE)
})
