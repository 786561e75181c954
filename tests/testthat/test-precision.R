# precision = "single": f32 training, f64 results.

precision_data <- function(n = 300) {
  set.seed(11)
  x <- matrix(runif(n * 4, -1, 1), n, 4)
  y <- cbind(sin(2 * x[, 1]) + x[, 2] * x[, 3], x[, 4]^2)
  list(x = x, y = y)
}

test_that("single precision follows double precision to single-precision accuracy", {
  d <- precision_data()
  for (opt in c("gd", "sgd", "adam")) {
    args <- list(d$x, d$y, hidden = c(8, 5), activation = "tanh", output = "linear",
                 loss = "mse", optimizer = opt, epochs = 30, threads = 2,
                 lr = if (opt == "gd") 1e-3 else 0.01)
    set.seed(3)
    f64 <- do.call(mlp_train, args)
    set.seed(3)
    f32 <- do.call(mlp_train, c(args, precision = "single"))
    expect_identical(f64$precision, "double")
    expect_identical(f32$precision, "single")
    # Results come back as doubles, of the same shapes.
    expect_type(f32$weights[[1]], "double")
    expect_equal(lapply(f32$weights, dim), lapply(f64$weights, dim))
    # Close to the double run, but not the same numbers: it really ran in f32.
    expect_equal(f32$output, f64$output, tolerance = 1e-4)
    expect_equal(f32$loss, f64$loss, tolerance = 1e-4)
    expect_false(identical(f32$weights, f64$weights))
    expect_lt(tail(f32$loss, 1), f32$loss[1])
  }
})

test_that("single precision runs the small path's networks and early stopping", {
  set.seed(1)
  fit <- mlp_train(article_X, article_Y, bias = "row", precision = "single")
  ref <- article_r_program(article_X, article_Y, seed = 1)
  expect_equal(fit$output, ref$output, tolerance = 1e-5, ignore_attr = TRUE)
  d <- precision_data()
  set.seed(4)
  fit <- mlp_train(d$x, d$y[, 1], hidden = 6, output = "linear", loss = "mse",
                   optimizer = "adam", epochs = 200, validation = 0.25, patience = 5,
                   precision = "single", threads = 1)
  expect_true(all(is.finite(fit$val_loss)))
  expect_equal(dim(predict(fit, d$x)), c(nrow(d$x), 1L))
  # Said once, on the training line.
  printed <- capture.output(print(fit))
  expect_equal(sum(grepl("precision", printed)), 1L)
  expect_match(grep("^  training:", printed, value = TRUE), "precision single")
})

test_that("precision is checked", {
  expect_error(mlp_train(article_X, article_Y, precision = "half"),
               "`precision` must be one of \"double\", \"single\"; not \"half\".", fixed = TRUE)
  expect_error(mlp_train(article_X, article_Y, precision = NA),
               "`precision` must be one of", fixed = TRUE)
  expect_error(mlp_train(article_X, article_Y, optimizer = "lm", precision = "single"),
               "`precision = \"single\"` applies to the first-order optimizers; `optimizer = \"lm\"` trains in double precision.",
               fixed = TRUE)
})

test_that("single precision leaves the caller's data alone", {
  d <- precision_data(50)
  x0 <- d$x
  y0 <- d$y
  mlp_train(d$x, d$y, hidden = 3, epochs = 5, output = "linear", loss = "mse", lr = 0.001,
            precision = "single", threads = 1)
  expect_identical(d$x, x0)
  expect_identical(d$y, y0)
})
