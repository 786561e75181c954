# Regression tests of issue 23's defects in building a fit (R/fit.R and
# the interfaces that call it), each named after its defect.

small_class_data <- function(n = 40, seed = 1) {
  withr::with_seed(seed, {
    d <- data.frame(a = rnorm(n), b = rnorm(n))
    d$y <- factor(ifelse(d$a + d$b + rnorm(n, sd = 0.3) > 0, "yes", "no"))
    d
  })
}

test_that("defect 1: summary() works with a validation fraction, na.exclude and no hidden layer", {
  d <- small_class_data()
  set.seed(1)
  fit <- backprop(y ~ a + b, d, validation = 0.25, optimizer = "adam", epochs = 5)
  s <- summary(fit)
  expect_equal(sum(s$fit$confusion), nrow(d))
  expect_output(print(s), "On the 40 rows \\(10 of them held out for validation\\)")
  d$a[c(3, 7)] <- NA
  set.seed(1)
  fit <- backprop(y ~ a + b, d, na.action = na.exclude, epochs = 5)
  expect_equal(sum(summary(fit)$fit$confusion), 38)
  expect_equal(nrow(fitted(fit)), 40)
  expect_true(all(is.na(fitted(fit)[c(3, 7), ])))
  set.seed(1)
  linear <- backprop(mpg ~ wt + hp, mtcars, hidden = 0)
  expect_equal(linear$sizes, c(2, 1))
  expect_equal(summary(linear)$layers$layer, c("input", "output"))
  expect_output(print(summary(linear)), "RMSE")
})

test_that("defect 2: fitted() of full-batch first-order fits is the returned weights' output", {
  d <- small_class_data(20)
  for (optimizer in c("sgd", "adam", "rmsprop", "adamw", "gd")) {
    set.seed(2)
    fit <- backprop(y ~ a + b, d, optimizer = optimizer, batch_size = if (optimizer != "gd") 20,
                    epochs = 7, lr = 0.05)
    expect_equal(fitted(fit), predict(fit, d, type = "prob"), tolerance = 1e-14, label = optimizer)
  }
  # backprop(optimizer = "adam") on 32 rows or fewer is full batch by default.
  set.seed(3)
  fit <- backprop(mpg ~ wt + hp, mtcars, optimizer = "adam", epochs = 5)
  expect_equal(fitted(fit), predict(fit, mtcars), tolerance = 1e-14)
  expect_equal(residuals(fit), mtcars$mpg - predict(fit, mtcars), tolerance = 1e-12,
               ignore_attr = TRUE)
})

test_that("defect 3: continuing a fit keeps its architecture and activations", {
  set.seed(4)
  sig <- backprop(mpg ~ wt + hp, mtcars, activation = "sigmoid", hidden = 4)
  more <- backprop(mpg ~ wt + hp, mtcars, init = sig, epochs = 0)
  expect_equal(more$activation, "sigmoid")
  expect_equal(more$sizes, sig$sizes)
  expect_equal(predict(more, mtcars), predict(sig, mtcars), tolerance = 1e-15)
  set.seed(4)
  relu <- backprop(mpg ~ wt + hp, mtcars, activation = "relu", hidden = 6)
  cont <- backprop(mpg ~ wt + hp, mtcars, init = relu, epochs = 3)
  expect_equal(cont$activation, "relu")
  expect_equal(cont$hidden, 6)
  expect_arg_error(backprop(mpg ~ wt + hp, mtcars, init = relu, hidden = 7),
                   "`hidden` \\(7\\) contradicts the shapes of `init`")
})

test_that("defect 6: augment() of a bias = \"row\" fit predicts only its training rows", {
  set.seed(5)
  fit <- mlp_train(article_X, article_Y, bias = "row", epochs = 50)
  expect_equal(augment(fit, data = article_X)$.fitted, unname(fitted(fit)[, 1]))
  other <- article_X[c(3, 2, 1), ]
  expect_arg_error(augment(fit, data = other), "biases belong to the training rows")
})

test_that("defect 12: mlp_trace() starts where mlp_train() starts, for every activation", {
  for (act in c("sigmoid", "tanh", "relu", "gelu")) {
    set.seed(6)
    tr <- mlp_trace(article_X, article_Y, activation = act)
    set.seed(6)
    fit <- mlp_train(article_X, article_Y, activation = act, epochs = 1)
    expect_equal(tr$wh, fit$wh, tolerance = 1e-15, label = act)
    expect_equal(tr$wout, fit$wout, tolerance = 1e-15, label = act)
  }
})

test_that("defect 13: threads are capped by the machine's cores", {
  expect_equal(backprop:::resolve_threads(1e6), parallel::detectCores(logical = TRUE))
  expect_arg_error(backprop:::resolve_threads(0), "`threads` must be a whole number >= 1")
})

test_that("defect 14: the small ones", {
  d <- small_class_data(30)
  # One behaviour for a batch larger than the data: an error in both.
  expect_arg_error(backprop(y ~ a + b, d, optimizer = "adam", batch_size = 31),
                   "`batch_size` \\(31\\) must not exceed the number of training rows \\(30\\)")
  expect_arg_error(mlp_train(as.matrix(d[1:2]), d$y, optimizer = "adam", batch_size = 31),
                   "`batch_size` \\(31\\) must not exceed")
  expect_arg_error(backprop(y ~ a + b, d, class_weights = c(no = 1, no = 2, yes = 1)),
                   "`class_weights` must name each class once; \"no\" is named twice")
  set.seed(7)
  fit <- backprop(y ~ a + b, d)
  expect_arg_error(predict(fit, d, type = c("raw", "response")), "`type` must be one of")
  # A sparse Matrix is read as the dense matrix it is.
  need_packages("Matrix")
  x <- as.matrix(d[1:2])
  set.seed(8)
  dense <- backprop(x, d$y)
  set.seed(8)
  sparse <- backprop(Matrix::Matrix(x, sparse = TRUE), d$y)
  expect_equal(predict(sparse, Matrix::Matrix(x, sparse = TRUE)), predict(dense, x))
  # Values the arithmetic cannot hold say so, not "diverged".
  expect_arg_error(backprop(x, c(1e300, rep(1, 29))), "`Y` holds values as large as .* too large for the network's arithmetic")
  expect_arg_error(mlp_train(x * 1e200, d$y, optimizer = "adam", precision = "single", epochs = 1),
                   "`X` holds values as large as .* single precision")
  # X is read once for both checks; scaled, it is checked as scaled.
  expect_arg_error(mlp_train(x * 1e152, d$y, epochs = 1), "`X` holds values as large as .* network's arithmetic")
  expect_s3_class(mlp_train(x * 1e152, d$y, epochs = 1, scale = TRUE), "mlp_fit")
  expect_arg_error(backprop(x * 1e152, d$y, scale = FALSE, select = FALSE), "`X` holds values as large as")
})

test_that("defect 14: recipe fits name their outputs and their errors name the recipe", {
  need_packages("recipes")
  rec <- recipes::recipe(mpg ~ wt + hp, data = mtcars)
  set.seed(9)
  fit <- backprop(rec, mtcars)
  expect_equal(colnames(fitted(fit)), "mpg")
  expect_equal(tidy(fit)$to[tidy(fit)$layer == 2][1], "mpg")
  expect_arg_error(formula(fit), "recipe interface")
  expect_named(augment(fit), c(".rownames", ".fitted", ".resid"))
})

test_that("defect 9: LM's memory is counted for the system it solves", {
  # 200 rows, 1981 parameters: the 200 x 200 system, not 1981 x 1981.
  expect_equal(backprop:::check_lm_size(200, c(20, 90, 1)), 8 * (200 * (1981 + 65) + 3 * 200^2))
  # More rows than parameters: 256-row chunks of the Jacobian.
  expect_equal(backprop:::check_lm_size(5000, c(10, 16, 1)),
               8 * (256 * 194 + 2 * 193^2 + 64 * 193))
  withr::local_options(backprop.lm_max_bytes = 1e5)
  x <- matrix(runif(400), 200)
  expect_arg_error(mlp_train(x, x[, 1], hidden = 90, optimizer = "lm", output = "linear", loss = "mse"),
                   "`optimizer = \"lm\"` would need .* more than")
})
