# tidy(), glance() and augment(), through the generics package.

article_fit <- function(...) {
  set.seed(42)
  mlp_train(article_X, article_Y, ...)
}

test_that("tidy() lists every weight and bias once, by layer, source and target", {
  fit <- article_fit()
  td <- tidy(fit)
  expect_s3_class(td, "tbl_df")
  expect_named(td, c("layer", "from", "to", "estimate"))
  expect_equal(nrow(td), length(coef(fit)))
  expect_equal(sort(td$estimate), sort(unname(coef(fit))))
  # Row by row against the article's matrices.
  expect_equal(td$estimate[td$layer == 1 & td$from == "x2" & td$to == "h1.3"], fit$wh[2, 3])
  expect_equal(td$estimate[td$layer == 1 & td$from == "bias" & td$to == "h1.2"], fit$bh[1, 2])
  expect_equal(td$estimate[td$layer == 2 & td$from == "h1.1" & td$to == "y"], fit$wout[1, 1])
  expect_equal(td$estimate[td$layer == 2 & td$from == "bias"], fit$bout[1, 1])
  expect_equal(td$layer, rep(1:2, c(4 * 3 + 3, 3 + 1)))
})

test_that("tidy() names variables, classes and the row layout's biases", {
  set.seed(1)
  fit <- backprop(Species ~ Petal.Length + Petal.Width, iris, hidden = 2)
  td <- tidy(fit)
  expect_setequal(td$from[td$layer == 1], c("Petal.Length", "Petal.Width", "bias"))
  expect_setequal(td$to[td$layer == 2], levels(iris$Species))
  row_fit <- article_fit(bias = "row")
  td <- tidy(row_fit)
  expect_equal(td$estimate[td$layer == 1 & td$from == "bias (row 2)" & td$to == "h1.3"], row_fit$bh[2, 3])
  expect_equal(nrow(td), length(coef(row_fit)))
  expect_arg_error(tidy(fit, digits = 2), "tidy\\(\\) got `digits`")
})

test_that("tidy() names a quantile band's outputs by their levels", {
  set.seed(2)
  x <- matrix(runif(200), 100)
  y <- x[, 1] + rnorm(100, sd = 0.2)
  band <- mlp_train(x, y, hidden = 2, output = "linear", loss = "quantile", tau = c(0.1, 0.9),
                    optimizer = "adam", lr = 0.01, epochs = 5, scale = TRUE, threads = 1)
  td <- tidy(band)
  # The network's first output is the upper bound, its second the lower
  # bound negated (predict() returns -raw[, 2] as q0.1).
  expect_equal(unique(td$to[td$layer == 2]), c("q0.9", "-q0.1"))
  expect_equal(td$estimate[td$layer == 2 & td$to == "-q0.1" & td$from != "bias"],
               band$weights[[2]][, 2])
  raw <- predict(band, x[1:3, ], type = "raw")
  bounds <- predict(band, x[1:3, ])
  expect_equal(colnames(bounds), c("q0.1", "q0.9"))
  stats <- band$scaling$y
  expect_equal(unname(bounds[, "q0.1"]), -(raw[, 2] * stats$scale[2] + stats$center[2]))
})

test_that("glance() gives the training in one row", {
  fit <- article_fit()
  gl <- glance(fit)
  expect_s3_class(gl, "tbl_df")
  expect_named(gl, c("nobs", "loss", "val_loss", "epochs", "best_epoch", "status", "time"))
  expect_equal(gl$nobs, 3L)
  # The returned weights' "sse", not the last record (taken before the
  # last update, as the article's output is).
  expect_equal(gl$loss, sum((article_Y - fitted(fit))^2), tolerance = 1e-12)
  expect_false(isTRUE(all.equal(gl$loss, fit$loss[5000], tolerance = 1e-12)))
  expect_equal(gl$epochs, 5000L)
  expect_true(is.na(gl$val_loss) && is.na(gl$best_epoch))
  expect_equal(gl$status, "completed")
  expect_true(gl$time >= 0 && gl$time < 60)
  set.seed(3)
  x <- matrix(rnorm(400), ncol = 2)
  val <- mlp_train(x, x[, 1, drop = FALSE] * 0.5, output = "linear", validation = 0.25,
                   patience = 3, epochs = 400, optimizer = "adam", lr = 0.01)
  gl <- glance(val)
  expect_equal(gl$val_loss, min(val$val_loss))
  expect_equal(gl$best_epoch, as.integer(val$best_epoch))
  expect_equal(gl$epochs, length(val$loss))
  expect_equal(gl$nobs, 200L)
  # The training loss is the kept epoch's: for full-batch L-BFGS, that of
  # the weights returned, recomputed here from fitted().
  set.seed(2)
  kept <- backprop(mpg ~ wt + hp + cyl, mtcars, validation = 0.25, optimizer = "lbfgs",
                   weight_decay = 0, hidden = 10, threads = 1)
  expect_lt(kept$best_epoch, length(kept$loss))
  rows <- setdiff(seq_len(nrow(mtcars)), kept$held_out)
  standardized <- function(v) (v - kept$scaling$y$center) / kept$scaling$y$scale
  own <- mean((standardized(mtcars$mpg) - standardized(fitted(kept)[, 1]))[rows]^2)
  expect_equal(glance(kept)$loss, own, tolerance = 1e-10)
  # Full-batch gd, whose best epoch is not its last.
  set.seed(7)
  gd <- mlp_train(x, x[, 1, drop = FALSE] * 0.5, hidden = 4, epochs = 60, optimizer = "gd",
                  lr = 0.005, output = "linear", loss = "mse", activation = "tanh",
                  validation = 0.3, threads = 1)
  expect_lt(gd$best_epoch, length(gd$loss))
  rows <- setdiff(seq_len(nrow(x)), gd$held_out)
  expect_equal(glance(gd)$loss, mean((x[rows, 1] * 0.5 - fitted(gd)[rows, 1])^2),
               tolerance = 1e-10)
  # So does Adam on the full batch (140 training rows), here overfitting.
  set.seed(4)
  noisy <- x[, 1, drop = FALSE] * 0.5 + rnorm(200, sd = 0.5)
  set.seed(7)
  full <- mlp_train(x, noisy, hidden = 16, epochs = 200, optimizer = "adam", lr = 0.1,
                    batch_size = 140, output = "linear", loss = "mse", activation = "tanh",
                    validation = 0.3, threads = 1)
  expect_lt(full$best_epoch, length(full$loss))
  rows <- setdiff(seq_len(nrow(x)), full$held_out)
  expect_equal(glance(full)$loss, mean((noisy[rows] - fitted(full)[rows, 1])^2),
               tolerance = 1e-10)
})

test_that("a fit saved before kept_loss reports its last epoch's loss", {
  fit <- article_fit()
  old <- fit
  old$kept_loss <- NULL
  expect_equal(glance(old)$loss, fit$loss[5000])
  expect_output(print(old), format(signif(fit$loss[5000], 4)), fixed = TRUE)
})

test_that("the reported training loss is the returned weights', whichever epoch they are", {
  # Over generated fits: validated or not, the best epoch the last or not,
  # full batch or minibatches, with dropout and weights; the loss glance(),
  # print() and summary() report is the loss of fitted() on the training rows.
  for (case in 1:8) {
    set.seed(40 + case)
    n <- sample(30:80, 1)
    x <- matrix(rnorm(n * 2), ncol = 2)
    y <- sin(x[, 1]) + 0.3 * x[, 2] + rnorm(n, sd = 0.1)
    w <- if (case %% 2 == 0) sample(1:3, n, replace = TRUE)
    optimizer <- c("gd", "adam", "sgd", "rmsprop")[(case - 1) %% 4 + 1]
    args <- list(x, y, hidden = 5, epochs = sample(c(5, 40), 1), output = "linear",
                 loss = "mse", activation = "tanh", threads = 1, weights = w,
                 optimizer = optimizer, lr = 0.01,
                 batch_size = if (optimizer != "gd" && case > 4) 16,
                 dropout = if (case == 7) 0.2 else 0,
                 validation = if (case %% 3 != 0) 0.25)
    fit <- do.call(mlp_train, args)
    rows <- setdiff(seq_len(n), fit$held_out)
    ww <- if (is.null(w)) rep(1, n) else w
    own <- sum(ww[rows] * (y[rows] - fitted(fit)[rows, 1])^2) / sum(ww[rows])
    expect_equal(glance(fit)$loss, own, tolerance = 1e-10)
    expect_equal(summary(fit)$loss_kept, own, tolerance = 1e-10)
    expect_output(print(fit), format(signif(own, 4)), fixed = TRUE)
  }
  # The case the epochs' records miss: full-batch "gd" whose best epoch is
  # its last (the validation loss falls throughout).
  set.seed(9)
  x <- matrix(rnorm(200), ncol = 2)
  gd <- mlp_train(x, x[, 1, drop = FALSE] * 0.5, hidden = 4, epochs = 20, optimizer = "gd",
                  lr = 0.005, output = "linear", loss = "mse", activation = "tanh",
                  validation = 0.3, threads = 1)
  expect_equal(gd$best_epoch, 20)
  rows <- setdiff(seq_len(nrow(x)), gd$held_out)
  own <- mean((x[rows, 1] * 0.5 - fitted(gd)[rows, 1])^2)
  expect_equal(glance(gd)$loss, own, tolerance = 1e-12)
  expect_gt(abs(gd$loss[20] - own), 1e-6)
})

test_that("augment() adds fitted values and residuals to a regression's data", {
  set.seed(5)
  fit <- backprop(mpg ~ wt + log(hp), mtcars)
  au <- augment(fit, data = mtcars)
  expect_s3_class(au, "tbl_df")
  # The cars' names first, as broom's augment() methods give them.
  expect_equal(names(au), c(".rownames", names(mtcars), ".fitted", ".resid"))
  expect_equal(au$.rownames, rownames(mtcars))
  expect_equal(au$.fitted, unname(fitted(fit)[, 1]))
  expect_equal(au$.resid, unname(residuals(fit)[, 1]))
  expect_equal(au$mpg, mtcars$mpg)
  # Without data: the model frame, row for row.
  mf <- augment(fit)
  expect_equal(names(mf), c(".rownames", "mpg", "wt", "log(hp)", ".fitted", ".resid"))
  expect_equal(mf$.rownames, rownames(mtcars))
  expect_equal(mf$.fitted, au$.fitted)
  # New rows without the response: predictions only.
  new <- mtcars[1:3, c("wt", "hp")]
  an <- augment(fit, newdata = new)
  expect_equal(names(an), c(".rownames", "wt", "hp", ".fitted"))
  # Rows named 1, 2, ... need no column, whatever their storage; nor a
  # tibble's; rows after na.omit keep their numbers.
  expect_named(augment(fit, newdata = data.frame(wt = 3, hp = 100)), c("wt", "hp", ".fitted"))
  plain <- data.frame(x = c(1, NA, 3:30), y = sin(1:30))
  numbered <- backprop(y ~ x, plain, hidden = 2, epochs = 20, select = FALSE, threads = 1)
  expect_identical(augment(numbered)$.rownames, as.character(c(1, 3:30)))
  expect_named(augment(numbered, data = plain[-2, ]), c(".rownames", "x", "y", ".fitted", ".resid"))
  expect_named(augment(numbered, data = plain[3:30, ]), c(".rownames", "x", "y", ".fitted", ".resid"))
  expect_named(augment(numbered, data = plain), c("x", "y", ".fitted", ".resid"))
  expect_named(augment(numbered, data = tibble::as_tibble(plain)), c("x", "y", ".fitted", ".resid"))
  complete <- plain[-2, ]
  rownames(complete) <- NULL
  complete <- backprop(y ~ x, complete, hidden = 2, epochs = 20, select = FALSE, threads = 1)
  expect_named(augment(complete), c("y", "x", ".fitted", ".resid"))
  expect_named(augment(complete, data = data.frame(x = 1:3, y = 0)), c("x", "y", ".fitted", ".resid"))
  # An x/y fit of a data frame, without data: the fitted values alone.
  xy <- backprop(plain[-2, "x", drop = FALSE], plain$y[-2], hidden = 2, epochs = 20, select = FALSE,
                 threads = 1)
  expect_named(augment(xy), c(".rownames", ".fitted", ".resid"))
  expect_named(augment(backprop(complete$model["x"], complete$model$y, hidden = 2, epochs = 20,
                                select = FALSE, threads = 1)), c(".fitted", ".resid"))
  expect_equal(an$.fitted, unname(predict(fit, new)[, 1]))
})

test_that("augment() keeps rows with NA and names several outputs", {
  set.seed(6)
  fit <- backprop(cbind(mpg, qsec) ~ wt + hp, mtcars)
  au <- augment(fit, data = mtcars)
  expect_true(all(c(".fitted_mpg", ".fitted_qsec", ".resid_mpg", ".resid_qsec") %in% names(au)))
  expect_equal(au$.resid_qsec, mtcars$qsec - au$.fitted_qsec)
  holes <- mtcars
  holes$wt[4] <- NA
  au <- augment(fit, data = holes)
  expect_equal(nrow(au), 32L)
  expect_true(is.na(au$.fitted_mpg[4]) && !anyNA(au$.fitted_mpg[-4]))
})

test_that("augment() gives a classifier's class and probabilities", {
  set.seed(7)
  fit <- backprop(Species ~ ., iris)
  au <- augment(fit, data = iris)
  expect_equal(names(au), c(names(iris), ".pred_class", paste0(".pred_", levels(iris$Species))))
  expect_equal(au$.pred_class, predict(fit, iris, type = "class"), ignore_attr = TRUE)
  expect_equal(as.matrix(au[paste0(".pred_", levels(iris$Species))]),
               predict(fit, iris, type = "prob"), ignore_attr = TRUE)
  expect_equal(rowSums(au[paste0(".pred_", levels(iris$Species))]), rep(1, 150))
  expect_false(".resid" %in% names(augment(fit)))
})

test_that("augment() of an x/y fit gives its fitted values, and a row-layout fit augments no data", {
  set.seed(8)
  fit <- backprop(as.matrix(mtcars[, c("wt", "hp")]), mtcars$mpg)
  # Without data: the training rows' fitted values and residuals alone.
  bare <- augment(fit)
  expect_named(bare, c(".rownames", ".fitted", ".resid"))
  expect_equal(bare$.rownames, rownames(mtcars))
  expect_equal(bare$.fitted, unname(fitted(fit)[, 1]))
  expect_equal(bare$.resid, unname(residuals(fit)[, 1]))
  au <- augment(fit, data = mtcars[, c("wt", "hp")])
  expect_equal(au$.fitted, unname(fitted(fit)[, 1]))
  expect_false(".resid" %in% names(au))
  # Its biases belong to its training rows: data are predicted, or refused,
  # as predict() does, whatever their number of rows (defect 6 of issue 23).
  row_fit <- article_fit(bias = "row")
  au <- augment(row_fit, data = as.data.frame(article_X))
  expect_equal(au$.fitted, unname(fitted(row_fit)[, 1]))
  expect_arg_error(augment(row_fit, data = as.data.frame(article_X[c(3, 1, 2), ])),
                   "biases belong to the training rows")
  expect_arg_error(augment(row_fit, data = as.data.frame(article_X + 1)),
                   "biases belong to the training rows")
  expect_arg_error(augment(fit, data = 1:3), "`data` must be a data frame")
})

test_that("the verbs are the generics' and broom's", {
  fit <- article_fit()
  expect_identical(tidy, generics::tidy)
  skip_if_not_installed("broom")
  expect_equal(broom::tidy(fit), tidy(fit))
  expect_equal(broom::glance(fit)$epochs, 5000L)
})
