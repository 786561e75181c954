# Conformal intervals and sets, ensembles and quantile bands (R/conformal.R),
# against independent transcriptions of their definitions.

# A smooth function with noise whose size grows with x1.
hetero_data <- function(n, seed) {
  set.seed(seed)
  x <- matrix(runif(2 * n, 0, 3), ncol = 2, dimnames = list(NULL, c("x1", "x2")))
  y <- sin(x[, 1]) + 0.5 * x[, 2] + rnorm(n, sd = 0.05 + 0.3 * x[, 1])
  list(x = x, y = y)
}

quick <- list(hidden = 6, activation = "tanh", output = "linear", loss = "mse",
              optimizer = "lbfgs", epochs = 60, scale = TRUE, threads = 1, verbose = FALSE)
quick_fit <- function(x, y, ...) do.call(mlp_train, c(list(x, y), utils::modifyList(quick, list(...))))

# The network's output, written out: standardized inputs, tanh hidden
# units, a linear output in the response's units.
forward <- function(net, x) {
  s <- net$scaling
  xs <- sweep(sweep(x, 2, s$x$center), 2, s$x$scale, "/")
  h <- tanh(sweep(xs %*% net$weights[[1]], 2, net$biases[[1]], "+"))
  o <- sweep(h %*% net$weights[[2]], 2, net$biases[[2]], "+")
  if (is.null(s$y)) o else sweep(sweep(o, 2, s$y$scale, "*"), 2, s$y$center, "+")
}

# An interval that is the prediction `mu` widened by `q` on both sides.
expect_widened <- function(pi, mu, q) {
  expect_equal(unname(pi[, "lower"]), unname(mu - q), tolerance = 1e-12)
  expect_equal(unname(pi[, "upper"]), unname(mu + q), tolerance = 1e-12)
}

test_that("split conformal on validation rows is the prediction plus and minus a residual quantile", {
  d <- hetero_data(120, 1)
  set.seed(2)
  fit <- quick_fit(d$x, d$y, validation = 0.25)
  expect_identical(fit$calibration$method, "split")
  held <- fit$held_out
  res <- sort(abs(d$y[held] - fitted(fit)[held, 1]))
  new <- hetero_data(15, 3)$x
  mu <- predict(fit, new)[, 1]
  for (level in c(0.8, 0.9, 0.95)) {
    q <- res[ceiling(level * (length(held) + 1))]
    expect_widened(predict(fit, new, type = "pred_int", level = level), mu, q)
  }
})

test_that("CV+ bounds are order statistics of the fold networks' predictions and residuals", {
  d <- hetero_data(60, 4)
  set.seed(5)
  fit <- quick_fit(d$x, d$y, conformal = "cv+", conformal_folds = 4)
  cal <- fit$calibration
  expect_identical(cal$method, "cv+")
  expect_length(cal$folds, 4)
  expect_identical(cal$rows, 60L)
  new <- hetero_data(9, 6)$x
  # Each calibration row: its fold network's residual and its prediction at
  # the new rows.
  lower_values <- upper_values <- NULL
  for (f in cal$folds) {
    r <- abs(f$y - f$pred)[, 1]
    mu <- forward(f$network, new)[, 1]
    lower_values <- cbind(lower_values, outer(mu, r, "-"))
    upper_values <- cbind(upper_values, outer(mu, r, "+"))
  }
  n <- 60
  for (level in c(0.8, 0.9)) {
    a <- 1 - level
    pi <- predict(fit, new, type = "pred_int", level = level)
    want_lower <- apply(lower_values, 1, function(v) sort(v)[floor(a * (n + 1))])
    want_upper <- apply(upper_values, 1, function(v) sort(v)[ceiling((1 - a) * (n + 1))])
    expect_equal(unname(pi[, "lower"]), want_lower, tolerance = 1e-10)
    expect_equal(unname(pi[, "upper"]), want_upper, tolerance = 1e-10)
  }
})

test_that("K-fold calibration widens the fit's prediction by a quantile of out-of-fold residuals", {
  d <- hetero_data(60, 4)
  set.seed(5)
  fit <- quick_fit(d$x, d$y, conformal = "cv", conformal_folds = 4)
  cal <- fit$calibration
  expect_identical(cal$method, "cv")
  expect_identical(cal$source, "4-fold refits")
  # The refits are the CV+ calibration's, without their networks.
  set.seed(5)
  plus <- quick_fit(d$x, d$y, conformal = "cv+", conformal_folds = 4)
  expect_identical(fit$weights, plus$weights)
  for (k in 1:4) {
    expect_null(cal$folds[[k]]$network)
    expect_identical(cal$folds[[k]]$pred, plus$calibration$folds[[k]]$pred)
  }
  r <- sort(unlist(lapply(cal$folds, function(f) abs(f$y - f$pred))))
  new <- hetero_data(9, 6)$x
  mu <- predict(fit, new)[, 1]
  for (level in c(0.8, 0.9)) {
    q <- r[ceiling(level * 61)]
    expect_widened(predict(fit, new, type = "pred_int", level = level), mu, q)
  }
})

test_that("the fold networks' held-out predictions are their own on their rows", {
  d <- hetero_data(40, 7)
  set.seed(8)
  fit <- quick_fit(d$x, d$y, conformal = "cv+", conformal_folds = 3)
  # Every row is held out once: the folds' rows partition the data, and each
  # fold's predictions are its network's on the rows it holds out.
  ys <- unlist(lapply(fit$calibration$folds, function(f) f$y[, 1]))
  expect_equal(sort(ys), sort(d$y), tolerance = 1e-12)
  for (f in fit$calibration$folds) {
    rows <- match(round(f$y[, 1], 10), round(d$y, 10))
    expect_equal(f$pred[, 1], forward(f$network, d$x[rows, , drop = FALSE])[, 1], tolerance = 1e-10)
  }
})

test_that("intervals cover new rows at the stated level", {
  d <- hetero_data(3000, 9)
  train <- 1:1000
  test <- 1001:3000
  for (conformal in c("cv", "cv+", "split")) {
    set.seed(10)
    fit <- if (conformal != "split") quick_fit(d$x[train, ], d$y[train], conformal = conformal) else
      quick_fit(d$x[train, ], d$y[train], validation = 0.4)
    for (level in c(0.8, 0.9, 0.95)) {
      pi <- predict(fit, d$x[test, ], type = "pred_int", level = level)
      cover <- mean(d$y[test] >= pi[, 1] & d$y[test] <= pi[, 2])
      # The coverage of one calibration varies with it (a standard error
      # of 0.015 for 400 rows at 90 percent), and 2000 test rows measure it
      # to within 0.007.
      expect_gt(cover, level - 0.045)
      expect_lt(cover, level + 0.045)
    }
  }
})

test_that("a quantile band's conformal intervals follow the noise", {
  d <- hetero_data(2400, 11)
  train <- 1:800
  test <- 801:2400
  set.seed(12)
  fit <- quick_fit(d$x[train, ], d$y[train], loss = "quantile", tau = c(0.05, 0.95),
                   validation = 0.3, epochs = 150)
  band <- predict(fit, d$x[test, ])
  expect_identical(colnames(band), c("q0.05", "q0.95"))
  expect_true(mean(band[, 1] <= band[, 2]) > 0.99)
  pi <- predict(fit, d$x[test, ], type = "pred_int", level = 0.9)
  cover <- mean(d$y[test] >= pi[, 1] & d$y[test] <= pi[, 2])
  expect_gt(cover, 0.86)
  expect_lt(cover, 0.94)
  width <- pi[, 2] - pi[, 1]
  x1 <- d$x[test, 1]
  # The noise's sd is 0.05 + 0.3 x1: 0.2 at x1 = 0.5, 0.8 at x1 = 2.5.
  expect_gt(mean(width[x1 > 2]) / mean(width[x1 < 1]), 2.5)
  # CQR's scores: the distance outside the band on the validation rows.
  held <- fit$held_out
  f <- fitted(fit)[held, ]
  e <- sort(pmax(f[, 1] - d$y[train][held], d$y[train][held] - f[, 2]))
  q <- e[ceiling(0.9 * (length(held) + 1))]
  expect_equal(unname(pi), unname(cbind(band[, 1] - q, band[, 2] + q)), tolerance = 1e-12)
  # The fitted band is the two quantiles: the pinball loss at 0.95 on y and
  # on -y (level 0.05 of y) in one network.
  expect_error(residuals(fit), "quantile band")
  expect_snapshot(summary(fit)$fit)
  # Calibrated to a level far below its own 90 percent, the band shrinks
  # past its width in some rows: empty intervals, given as a point at the
  # band's centre, with a warning that counts them; never lower > upper.
  expect_warning(low <- predict(fit, d$x[test, ], type = "pred_int", level = 0.1),
                 "intervals of [0-9]+ of 1600 rows are empty.*shrinks the quantile band")
  expect_true(all(low[, 1] <= low[, 2]))
  q_low <- e[ceiling(0.1 * (length(held) + 1))]
  shrunk <- cbind(band[, 1] - q_low, band[, 2] + q_low)
  crossed <- shrunk[, 1] > shrunk[, 2]
  expect_true(any(crossed) && !all(crossed))
  expect_equal(unname(low[!crossed, ]), unname(shrunk[!crossed, ]), tolerance = 1e-12)
  expect_equal(unname(low[crossed, 1]), unname(rowMeans(shrunk[crossed, ])), tolerance = 1e-12)
  expect_equal(low[crossed, 1], low[crossed, 2])
})

test_that("CV+ intervals at a low level are never empty pairs with lower above upper", {
  set.seed(1)
  x <- matrix(runif(40, -2, 2), dimnames = list(NULL, "x"))
  y <- sin(2 * x[, 1]) + rnorm(40, sd = 0.3)
  set.seed(2)
  fit <- mlp_train(x, y, hidden = 4, activation = "tanh", output = "linear", loss = "mse",
                   optimizer = "lbfgs", epochs = 50, scale = TRUE, conformal = "cv+",
                   conformal_folds = 5, threads = 1)
  expect_warning(low <- predict(fit, x, type = "pred_int", level = 0.1),
                 "intervals of [0-9]+ of 40 rows are empty .*Ask for a higher `level`")
  expect_true(all(low[, 1] <= low[, 2]))
  expect_silent(high <- predict(fit, x, type = "pred_int", level = 0.9))
  expect_true(all(high[, 1] <= high[, 2]))
})

test_that("adaptive sets follow their definition, with one uniform draw per row", {
  set.seed(13)
  idx <- sample(150, 100)
  fit <- backprop(Species ~ ., iris[idx, ], validation = 0.3, hidden = 4, weight_decay = 0.01,
                  optimizer = "lbfgs", epochs = 100, threads = 1, verbose = FALSE)
  expect_identical(fit$calibration$method, "split")
  held <- fit$held_out
  # The calibration rows are the validation rows, in the order they were
  # drawn: their probabilities are the fit's predictions of those rows.
  fold <- fit$calibration$folds[[1]]
  p_held <- fold$pred
  truth <- max.col(fold$y)
  by_row <- function(m) m[do.call(order, as.data.frame(m)), ]
  expect_equal(unname(by_row(p_held)),
               unname(by_row(predict(fit, iris[idx, ][held, ], type = "prob"))), tolerance = 1e-12)
  expect_identical(sort(truth), sort(as.integer(iris$Species[idx][held])))
  p_new <- predict(fit, iris[-idx, ], type = "prob")
  aps <- function(p, u) t(vapply(seq_len(nrow(p)), function(i) {
    vapply(seq_len(ncol(p)), function(c) sum(p[i, p[i, ] > p[i, c]]) + u[i] * p[i, c], 0)
  }, numeric(ncol(p))))
  for (level in c(0.8, 0.95)) {
    set.seed(14)
    sets <- predict(fit, iris[-idx, ], type = "set", level = level)
    set.seed(14)
    e <- aps(p_held, stats::runif(length(held)))[cbind(seq_along(truth), truth)]
    s <- aps(p_new, stats::runif(nrow(p_new)))
    count_below <- matrix(vapply(s, function(v) sum(e < v), 0), nrow(s))
    want <- count_below < level * (length(held) + 1)
    expect_identical(unname(sets), want)
    expect_identical(colnames(sets), levels(iris$Species))
  }
})

test_that("sets cover new rows at the stated level", {
  set.seed(15)
  n <- 3000
  x <- matrix(rnorm(2 * n), ncol = 2)
  # Three overlapping classes: no classifier is sure of every row.
  cls <- factor(max.col(cbind(x[, 1], x[, 2], -x[, 1] - x[, 2]) + matrix(rnorm(3 * n), n)),
                labels = c("a", "b", "c"))
  train <- 1:600
  test <- 601:n
  fit <- backprop(x[train, ], cls[train], conformal = "cv", threads = 1, verbose = FALSE)
  for (level in c(0.8, 0.9, 0.95)) {
    sets <- predict(fit, x[test, ], type = "set", level = level)
    cover <- mean(sets[cbind(seq_along(test), as.integer(cls[test]))])
    expect_gt(cover, level - 0.03)
    expect_lt(cover, level + 0.03)
  }
})

test_that("backprop()'s search calibrates its fit with the winner's folds", {
  d <- hetero_data(150, 16)
  set.seed(17)
  fit <- backprop(d$x, d$y, threads = 1, verbose = FALSE)
  cal <- fit$calibration
  expect_identical(cal$method, "cv")
  expect_identical(cal$source, "the search's 3-fold cross-validation")
  expect_identical(cal$rows, 150L)
  expect_length(cal$folds, 3)
  pi <- predict(fit, d$x[1:5, ], type = "pred_int")
  expect_true(all(pi[, "lower"] < pi[, "upper"]))
  # No search, no calibration, unless asked.
  set.seed(17)
  plain <- backprop(d$x, d$y, select = FALSE, threads = 1, verbose = FALSE)
  expect_null(plain$calibration)
  expect_snapshot(predict(plain, d$x[1:2, ], type = "pred_int"), error = TRUE)
  set.seed(17)
  none <- backprop(d$x, d$y, conformal = "none", threads = 1, verbose = FALSE)
  expect_null(none$calibration)
})

test_that("an ensemble predicts its members' average, and their spread", {
  d <- hetero_data(80, 18)
  set.seed(19)
  fit <- quick_fit(d$x, d$y, ensemble = 3)
  expect_length(fit$members, 3)
  expect_identical(fit$members[[1]]$weights, fit$weights)
  new <- hetero_data(7, 20)$x
  each <- vapply(fit$members, function(m) forward(c(m, list(scaling = fit$scaling)), new)[, 1],
                 numeric(7))
  expect_equal(unname(predict(fit, new)[, 1]), rowMeans(each), tolerance = 1e-12)
  expect_equal(unname(predict(fit, new, type = "sd")[, 1]), apply(each, 1, stats::sd),
               tolerance = 1e-10)
  # Fitted values are the ensemble's predictions of the training rows.
  expect_equal(unname(fitted(fit)), unname(predict(fit, d$x)), tolerance = 1e-12)
  # A quantile band's spread is named as its bounds are (its outputs are
  # the upper bound and the lower one negated).
  set.seed(19)
  band <- quick_fit(d$x, d$y, ensemble = 2, loss = "quantile", tau = c(0.1, 0.9))
  expect_identical(colnames(predict(band, new, type = "sd")), colnames(predict(band, new)))
  # Members are distinct starts, and set.seed() fixes them all.
  expect_false(identical(fit$members[[1]]$weights, fit$members[[2]]$weights))
  set.seed(19)
  again <- quick_fit(d$x, d$y, ensemble = 3)
  expect_identical(again$members, fit$members)
  # The first member is the network one start would train.
  set.seed(19)
  one <- quick_fit(d$x, d$y)
  expect_identical(one$weights, fit$weights)
})

test_that("a bootstrap ensemble calibrates on its out-of-bag rows", {
  d <- hetero_data(300, 21)
  set.seed(22)
  fit <- quick_fit(d$x, d$y, ensemble = 4, bootstrap = TRUE)
  cal <- fit$calibration
  expect_identical(cal$method, "oob")
  # A row is out of every bag but one with probability about 1 - 0.632^4.
  expect_gt(cal$rows, 0.7 * 300)
  expect_lt(cal$rows, 300)
  pi <- predict(fit, d$x[1:4, ], type = "pred_int", level = 0.9)
  mu <- predict(fit, d$x[1:4, ])[, 1]
  expect_equal(unname(pi[, "upper"] - mu), unname(mu - pi[, "lower"]), tolerance = 1e-12)
  # A member's sample differs from the data: members differ more than
  # starts alone make them.
  expect_false(isTRUE(all.equal(fit$members[[1]]$weights, fit$members[[2]]$weights)))
})

test_that("intervals and sets ignore column order, other rows and the thread count", {
  d <- hetero_data(90, 23)
  df <- data.frame(d$x, y = d$y)
  set.seed(24)
  fit <- backprop(y ~ ., df, conformal = "cv", conformal_folds = 3, select = FALSE,
                  threads = 2, verbose = FALSE)
  new <- data.frame(hetero_data(6, 25)$x)
  pi <- predict(fit, new, type = "pred_int")
  expect_equal(predict(fit, new[, 2:1], type = "pred_int"), pi)
  expect_equal(predict(fit, new[3, ], type = "pred_int"), pi[3, , drop = FALSE])
  expect_equal(predict(fit, new, type = "pred_int", threads = 1), pi)
  # A row with a missing input has missing bounds.
  new$x1[2] <- NA
  pi_na <- predict(fit, new, type = "pred_int")
  expect_true(all(is.na(pi_na[2, ])))
  expect_equal(pi_na[-2, ], pi[-2, ])
})

test_that("a small calibration warns that its bounds are infinite", {
  d <- hetero_data(24, 26)
  set.seed(27)
  fit <- quick_fit(d$x, d$y, validation = 0.25)
  expect_snapshot(pi <- predict(fit, d$x[1:2, ], type = "pred_int", level = 0.95))
  expect_identical(unname(pi[, "upper"]), c(Inf, Inf))
})

test_that("the uncertainty arguments are checked", {
  d <- hetero_data(30, 28)
  fit <- quick_fit(d$x, d$y)
  cls <- factor(d$y > 1)
  expect_snapshot(error = TRUE, {
    predict(fit, d$x, type = "pred_int")
    predict(fit, d$x, type = "sd")
    predict(fit, d$x, type = "set")
    predict(fit, d$x, type = "response", level = 0.9)
    quick_fit(d$x, d$y, conformal = "split")
    quick_fit(d$x, d$y, ensemble = 2, restarts = 2)
    quick_fit(d$x, d$y, bootstrap = TRUE)
    quick_fit(d$x, d$y, loss = "quantile", tau = c(0.1, 0.8))
    quick_fit(d$x, cbind(d$y, d$y), loss = "quantile", tau = c(0.1, 0.9))
    quick_fit(d$x, d$y, output = "sigmoid", loss = "quantile", tau = c(0.1, 0.9))
    quick_fit(d$x, d$y, conformal = "cv", conformal_folds = 1)
    quick_fit(d$x, d$y, conformal_folds = 4)
  })
  set.seed(29)
  v <- quick_fit(d$x, d$y, validation = 0.5)
  expect_snapshot(error = TRUE, {
    predict(v, d$x, type = "pred_int", level = 1)
    predict(v, type = "pred_int")
  })
  fit_c <- backprop(d$x, cls, select = FALSE, threads = 1, verbose = FALSE)
  expect_snapshot(predict(fit_c, d$x, type = "pred_int"), error = TRUE)
})

test_that("split conformal intervals equal probably's around the same workflow", {
  need_packages(c("parsnip", "workflows", "probably"))
  set.seed(30)
  idx <- sample(nrow(mtcars))
  train <- mtcars[idx[1:16], ]
  cal <- mtcars[idx[17:26], ]
  test <- mtcars[idx[27:32], ]
  # The calibration rows are the fit's validation rows, given as data (as
  # x and y: a workflow hands the engine its outcome as "..y").
  vars <- c("wt", "hp", "qsec")
  spec <- parsnip::mlp(hidden_units = 3, penalty = 0.01, epochs = 40) |>
    parsnip::set_engine("backprop", validation = list(x = cal[vars], y = cal$mpg), threads = 1,
                        verbose = FALSE) |>
    parsnip::set_mode("regression")
  wf <- parsnip::fit(workflows::workflow(mpg ~ wt + hp + qsec, spec), train)
  expect_identical(workflows::extract_fit_engine(wf)$calibration$method, "split")
  theirs <- predict(probably::int_conformal_split(wf, cal), test, level = 0.8)
  ours <- predict(wf, test, type = "pred_int", level = 0.8)
  expect_equal(ours$.pred_lower, theirs$.pred_lower, tolerance = 1e-12)
  expect_equal(ours$.pred_upper, theirs$.pred_upper, tolerance = 1e-12)
})

test_that("split intervals stay symmetric when level (n + 1) is a whole number", {
  # 99 validation rows: (n + 1) level is 90 at 0.9 and 80 at 0.8, which
  # floating point misses by a hair (1 - 0.8 is 0.19999999999999996); the
  # lower bound took the 79th largest residual instead of the 80th.
  d <- hetero_data(300, 30)
  set.seed(31)
  fit <- quick_fit(d$x, d$y, validation = 0.33)
  held <- fit$held_out
  expect_length(held, 99)
  res <- sort(abs(d$y[held] - fitted(fit)[held, 1]))
  new <- hetero_data(5, 32)$x
  mu <- predict(fit, new)[, 1]
  for (level in c(0.8, 0.9)) {
    q <- res[round(level * 100)]
    expect_widened(predict(fit, new, type = "pred_int", level = level), mu, q)
  }
})

test_that("a set too small for its level warns, as an interval does", {
  set.seed(33)
  idx <- sample(150, 60)
  fit <- backprop(Species ~ ., iris[idx, ], validation = 0.25, hidden = 3, optimizer = "lbfgs",
                  epochs = 50, threads = 1, verbose = FALSE)
  expect_identical(fit$calibration$rows, 15L)
  expect_warning(sets <- predict(fit, iris[1:3, ], type = "set", level = 0.95),
                 "15 rows, too few for a 95 percent set")
  # A level near 1 needs more rows than an integer counts: still a number.
  expect_warning(predict(fit, iris[1:3, ], type = "set", level = 1 - 1e-10),
                 "Calibrate on at least [0-9]{10} rows")
  expect_true(all(sets))
  # 9 rows are enough at 0.9: the 9th of 9 scores.
  expect_no_warning(predict(fit, iris[1:3, ], type = "set", level = 0.9))
})

test_that("a bootstrap ensemble can be calibrated by CV+ refits", {
  d <- hetero_data(60, 34)
  set.seed(35)
  fit <- quick_fit(d$x, d$y, ensemble = 2, bootstrap = TRUE, conformal = "cv", conformal_folds = 3)
  expect_identical(fit$calibration$method, "cv")
  expect_length(fit$calibration$folds, 3)
  expect_identical(fit$calibration$rows, 60L)
})

test_that("CV+ refits do not start from a fit trained on their held-out rows", {
  # Started from `init`, each refit began at a network fitted to the rows
  # it held out: 46 percent coverage at a stated 90.
  d <- hetero_data(60, 36)
  set.seed(37)
  base <- quick_fit(d$x, d$y)
  expect_error(mlp_train(d$x, d$y, init = base, conformal = "cv", threads = 1, verbose = FALSE),
               "`init` is a fit that may have been trained on them")
  expect_error(backprop(d$x, d$y, init = base, conformal = "cv", threads = 1, verbose = FALSE),
               "`init` is a fit")
})

test_that("a continued quantile fit keeps its levels, and a band stays a band", {
  d <- hetero_data(150, 38)
  set.seed(39)
  upper <- quick_fit(d$x, d$y, loss = "quantile", tau = 0.9)
  # Continued without `tau`, it went on at the default 0.5: the median.
  more <- mlp_train(d$x, d$y, init = upper, optimizer = "lbfgs", epochs = 30, threads = 1,
                    verbose = FALSE)
  expect_identical(more$options$tau, 0.9)
  expect_gt(mean(d$y <= fitted(more)[, 1]), 0.8)
  set.seed(40)
  band <- quick_fit(d$x, d$y, loss = "quantile", tau = c(0.1, 0.9), validation = 0.3)
  # Continued, a band failed: its two outputs met one column of `Y`.
  set.seed(41)
  again <- mlp_train(d$x, d$y, init = band, optimizer = "lbfgs", epochs = 30, validation = 0.3,
                     threads = 1, verbose = FALSE)
  expect_identical(again$options$tau, c(0.1, 0.9))
  expect_identical(colnames(fitted(again)), c("q0.1", "q0.9"))
  expect_identical(colnames(predict(again, d$x[1:2, ], type = "pred_int")), c("lower", "upper"))
})

test_that("rows with missing inputs alone still give named bounds and sets", {
  d <- hetero_data(60, 42)
  df <- data.frame(d$x, y = d$y)
  set.seed(43)
  fit <- backprop(y ~ ., df, conformal = "cv", conformal_folds = 3, select = FALSE, threads = 1,
                  verbose = FALSE)
  new <- df[1:2, ]
  new$x1 <- NA_real_
  # The columns were unnamed when no row was complete.
  pi <- predict(fit, new, type = "pred_int")
  expect_identical(colnames(pi), c("lower", "upper"))
  expect_true(all(is.na(pi)))
  expect_identical(colnames(predict(fit, df[0, ], type = "pred_int")), c("lower", "upper"))
  set.seed(44)
  fc <- backprop(Species ~ ., iris[sample(150, 90), ], validation = 0.3, select = FALSE,
                 threads = 1, verbose = FALSE)
  ni <- iris[1:2, ]
  ni$Sepal.Length <- NA_real_
  sets <- predict(fc, ni, type = "set")
  expect_identical(colnames(sets), levels(iris$Species))
  expect_true(all(is.na(sets)))
})

test_that("a fold network whose rows lack a level does not use its input", {
  set.seed(3)
  n <- 80
  d <- data.frame(a = runif(n), g = factor(sample(c("p", "q"), n, replace = TRUE),
                                           levels = c("p", "q", "r")))
  d$g[7] <- "r"
  d$y <- 2 * d$a + (d$g == "q") + 3 * (d$g == "r") + rnorm(n, sd = 0.1)
  set.seed(4)
  fit <- backprop(y ~ a + g, d, conformal = "cv+", select = FALSE, threads = 1)
  lacking <- Filter(function(f) is.infinite(f$network$scaling$x$scale[["gr"]]), fit$calibration$folds)
  expect_length(lacking, 1L)
  # Its prediction of the row of "r" is that of the same row at "p" (the
  # baseline): the input it never trained moves nothing.
  x <- model.matrix(~ a + g, d)[, -1]
  net <- lacking[[1]]$network
  at_p <- x[7, , drop = FALSE]
  at_p[, "gr"] <- 0
  expect_identical(backprop:::fold_raw(net, x[7, , drop = FALSE], 1L),
                   backprop:::fold_raw(net, at_p, 1L))
})
