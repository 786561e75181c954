# The formula interface: model frames as lm() builds them, the coding of
# factor and character predictors, and new data coded the same way.

regression_frame <- function(n = 40) {
  set.seed(21)
  d <- data.frame(x1 = runif(n), x2 = runif(n), g = sample(c("a", "b", "c"), n, TRUE))
  d$y <- sin(3 * d$x1) + d$x2 + (d$g == "b") - 0.5 * (d$g == "c")
  d
}

small_fit <- function(formula, data, ...) {
  set.seed(1)
  mlp_train(formula, data, hidden = 3, output = "linear", loss = "mse", optimizer = "lbfgs",
            epochs = 40, activation = "tanh", ...)
}

test_that("weights count rows: a weight of 2 is a duplicated row", {
  d <- regression_frame()
  w <- rep(1, nrow(d))
  w[c(3, 8, 20)] <- 2
  weighted <- small_fit(y ~ x1 + x2 + g, d, weights = w)
  duplicated <- small_fit(y ~ x1 + x2 + g, d[c(seq_len(nrow(d)), 3, 8, 20), ])
  expect_equal(weighted$weights, duplicated$weights, tolerance = 1e-8)
  # A column of data, as in lm().
  d$w <- w
  by_name <- small_fit(y ~ x1 + x2 + g, d, weights = w)
  expect_equal(by_name$weights, weighted$weights)
  expect_equal(weights(by_name), w, ignore_attr = TRUE)
  # Zero weights drop rows.
  zero <- small_fit(y ~ x1 + x2 + g, d, weights = ifelse(seq_len(nrow(d)) > 30, 0, 1))
  first30 <- small_fit(y ~ x1 + x2 + g, d[1:30, ])
  expect_equal(zero$weights, first30$weights, tolerance = 1e-8)
  expect_arg_error(small_fit(y ~ x1, d, weights = -w), "`weights` must be finite and non-negative")
  expect_arg_error(small_fit(y ~ x1, d, weights = w * 0), "`weights` must not all be zero")
})

test_that("subset is evaluated in data, as in lm()", {
  d <- regression_frame()
  set.seed(1)
  sub <- mlp_train(y ~ x1 + x2, d, subset = x1 > 0.3, hidden = 3, output = "linear",
                   loss = "mse", optimizer = "lbfgs", epochs = 40, activation = "tanh")
  direct <- small_fit(y ~ x1 + x2, d[d$x1 > 0.3, ])
  expect_equal(sub$weights, direct$weights)
  expect_equal(nobs(sub), sum(d$x1 > 0.3))
  expect_equal(rownames(fitted(sub)), rownames(d)[d$x1 > 0.3])
  expect_arg_error(mlp_train(y ~ x1, d, subset = x1 > 2), "No rows are left to train on")
  # Passed on through a wrapper's `...`, an index vector works too.
  expect_equal(small_fit(y ~ x1 + x2, d, subset = which(d$x1 > 0.3))$weights, sub$weights)
})

test_that("na.action drops rows with NA and pads fitted, residuals and predict with na.exclude", {
  d <- regression_frame()
  d$x1[c(2, 5)] <- NA
  d$y[7] <- NA
  omit <- small_fit(y ~ x1 + x2, d)
  expect_equal(nobs(omit), nrow(d) - 3)
  expect_equal(nrow(fitted(omit)), nrow(d) - 3)
  expect_equal(as.integer(omit$na_action), c(2L, 5L, 7L))
  exclude <- small_fit(y ~ x1 + x2, d, na.action = na.exclude)
  expect_equal(exclude$weights, omit$weights)
  expect_equal(nrow(fitted(exclude)), nrow(d))
  expect_true(all(is.na(fitted(exclude)[c(2, 5, 7), 1])))
  expect_equal(fitted(exclude)[-c(2, 5, 7), 1], fitted(omit)[, 1])
  expect_true(all(is.na(residuals(exclude)[c(2, 5, 7), 1])))
  expect_equal(nrow(predict(exclude)), nrow(d))
  expect_arg_error(small_fit(y ~ x1 + x2, d, na.action = na.fail), "`formula` cannot be used with `data`: .*missing values")
  # The x/y interface refuses NA, naming the column.
  x <- as.matrix(d[, c("x1", "x2")])
  expect_arg_error(mlp_train(x, d$x2), "`X` must contain finite numbers only; it contains NA or NaN \\(column `x1`\\)")
})

test_that("character and factor(g) predictors are coded from the training levels", {
  set.seed(2)
  train <- data.frame(x = runif(60), g = rep(c("a", "b", "c"), 20))
  train$y <- train$x + c(a = 0, b = 1, c = 2)[train$g]
  for (formula in list(y ~ x + g, y ~ x + factor(g))) {
    fit <- small_fit(formula, train)
    # Rows holding only some of the levels, or one row, are coded as in training.
    new <- data.frame(x = c(0.2, 0.5, 0.8), g = c("c", "a", "c"))
    full <- predict(fit, rbind(new, data.frame(x = 0.1, g = "b")))
    expect_equal(predict(fit, new), full[1:3, , drop = FALSE], ignore_attr = TRUE)
    expect_equal(predict(fit, new[2, ]), full[2, , drop = FALSE], ignore_attr = TRUE)
    expect_equal(predict(fit, new)[, 1], new$x + c(a = 0, b = 1, c = 2)[new$g], tolerance = 0.1,
                 ignore_attr = TRUE)
    expect_arg_error(predict(fit, data.frame(x = 0, g = c("a", "c", "zzz"))),
                     "`newdata` column `g` has level \"zzz\" with no training rows \\(the levels the network was trained on: \"a\", \"b\", \"c\"\\)")
  }
  # Factors with other level orders map by label.
  fit <- small_fit(y ~ x + g, train)
  shuffled <- data.frame(x = 0.3, g = factor("b", levels = c("c", "b", "a")))
  expect_equal(predict(fit, shuffled), predict(fit, data.frame(x = 0.3, g = "b")))
  expect_arg_error(predict(fit, data.frame(x = "0.3", g = "b")), "`newdata` column `x` must be numeric")
})

test_that("cbind() responses name the outputs", {
  d <- regression_frame()
  fit <- small_fit(cbind(y, x2) ~ x1 + g, d)
  expect_equal(colnames(fitted(fit)), c("y", "x2"))
  expect_equal(colnames(predict(fit, d[1:2, ])), c("y", "x2"))
  expect_equal(colnames(residuals(fit)), c("y", "x2"))
})

test_that("formula errors name the argument", {
  d <- regression_frame()
  expect_arg_error(mlp_train(y ~ nothere, d), "`formula` cannot be used with `data`: .*nothere")
  expect_arg_error(mlp_train(~ x1, d), "`formula` must have a response")
  expect_arg_error(mlp_train(y ~ x1, as.matrix(d[1:3])), "`data` must be a data frame")
  expect_arg_error(small_fit(y ~ x1, d, weights = 1:3), "`formula` cannot be used with `data`: .*weights")
})

test_that("the formula interface does not modify the caller's data", {
  d <- regression_frame()
  d$x1[3] <- NA
  d0 <- d
  small_fit(y ~ ., d, na.action = na.exclude)
  expect_identical(d, d0)
})
