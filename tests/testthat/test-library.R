sine_data <- function(n = 80) {
  x <- matrix(seq(-2, 2, length.out = n))
  list(x = x, y = sin(x) + 0.5)
}

test_that("deep networks train with every hidden activation", {
  d <- sine_data()
  for (act in c("sigmoid", "tanh", "relu", "leaky_relu", "linear")) {
    set.seed(1)
    fit <- mlp_train(d$x, d$y, hidden = c(8, 6), activation = act, output = "linear",
                     loss = "mse", optimizer = "adam", lr = 0.01, epochs = 100, init = "xavier")
    expect_equal(fit$sizes, c(1, 8, 6, 1))
    expect_equal(fit$activation, c(act, act))
    expect_length(fit$weights, 3)
    expect_null(fit$wh)
    expect_lt(fit$loss[100], fit$loss[1])
  }
  set.seed(1)
  mixed <- mlp_train(d$x, d$y, hidden = c(5, 4), activation = c("tanh", "relu"),
                     output = "linear", loss = "mse", epochs = 5, lr = 0.001)
  expect_equal(mixed$activation, c("tanh", "relu"))
})

test_that("Levenberg-Marquardt and L-BFGS fit a smooth curve closely", {
  d <- sine_data()
  for (opt in c("lm", "lbfgs")) {
    set.seed(2)
    fit <- mlp_train(d$x, d$y, hidden = 5, activation = "tanh", output = "linear",
                     loss = "mse", optimizer = opt, epochs = 300, init = "nnet")
    expect_lt(sqrt(mean((fitted(fit) - d$y)^2)), 0.01)
    expect_true(all(diff(fit$loss) <= 1e-12))  # both only accept steps that lower the loss
  }
})

test_that("a factor response is a softmax classifier; iris held-out accuracy >= 0.95", {
  set.seed(10)
  test_rows <- sample(nrow(iris), 50)
  set.seed(11)
  fit <- mlp_train(Species ~ ., data = iris[-test_rows, ], hidden = 5, optimizer = "lbfgs",
                   epochs = 300, scale = TRUE)
  expect_equal(fit$output_activation, "softmax")
  expect_equal(fit$loss_function, "cross_entropy")
  expect_equal(fit$levels, levels(iris$Species))
  pred <- predict(fit, iris[test_rows, ], type = "class")
  expect_s3_class(pred, "factor")
  expect_gte(mean(pred == iris$Species[test_rows]), 0.95)
  prob <- predict(fit, iris[test_rows, ])
  expect_equal(colnames(prob), levels(iris$Species))
  expect_equal(rowSums(prob), rep(1, 50), tolerance = 1e-12, ignore_attr = TRUE)
})

test_that("the x/y and formula interfaces agree, factor predictors are dummy-coded", {
  df <- data.frame(a = c(0.1, 0.5, 0.9, 0.3, 0.7, 0.2), g = factor(c("u", "v", "w", "u", "v", "w")))
  y <- c(0, 1, 1, 0, 1, 0)
  set.seed(3)
  f1 <- mlp_train(df, y, epochs = 30)
  set.seed(3)
  f2 <- mlp_train(y ~ a + g, data = cbind(df, y = y), epochs = 30)
  # Treatment contrasts, as model.matrix() codes a factor: a, gv, gw.
  expect_equal(f1$sizes, c(3, 3, 1))
  expect_equal(f1$output, f2$output, ignore_attr = TRUE)
  new <- data.frame(a = 0.4, g = factor("v", levels = c("u", "v", "w")))
  expect_equal(predict(f1, new), predict(f2, new), ignore_attr = TRUE)
  expect_arg_error(predict(f2, data.frame(a = 0.4)), "`newdata` lacks the training column `g`")
  expect_arg_error(predict(f2, new_data = data.frame(a = 0.4, g = "z")),
                   "`new_data` column `g` has level \"z\" with no training rows")
})

test_that("scale = TRUE keeps the statistics and predict applies them", {
  set.seed(4)
  x <- cbind(a = rnorm(40, 100, 20), b = runif(40, 0, 0.01))
  y <- 3 * x[, "a"] + 1000 * x[, "b"]
  fit <- mlp_train(x, y, hidden = 3, activation = "tanh", output = "linear", loss = "mse",
                   optimizer = "lm", epochs = 100, scale = TRUE)
  expect_equal(fit$scaling$x$center, colMeans(x))
  expect_equal(unname(fit$scaling$y$center), mean(y))
  expect_equal(predict(fit, x), fitted(fit), ignore_attr = TRUE, tolerance = 1e-10)
  expect_lt(sqrt(mean((fitted(fit) - y)^2)) / sd(y), 0.01)
  # Columns are matched by name.
  expect_equal(predict(fit, x[, c("b", "a")]), predict(fit, x))
  expect_arg_error(predict(fit, x[, "a", drop = FALSE]), "`newdata` lacks the training column `b`")
  expect_arg_error(predict(fit, unname(x[, 1, drop = FALSE])), "`newdata` must have 2 columns")
})

test_that("minibatch training is reproducible with set.seed()", {
  d <- sine_data(100)
  run <- function(seed) {
    set.seed(seed)
    mlp_train(d$x, d$y, hidden = 4, output = "linear", loss = "mse", optimizer = "sgd",
              batch_size = 16, epochs = 20)
  }
  expect_identical(run(5)$weights, run(5)$weights)
  expect_false(identical(run(5)$weights, run(6)$weights))
  expect_equal(run(5)$batch_size, 16)
})

test_that("one and two threads train the same bits, also in a forked process", {
  # Batches of 512 rows go to four shards; dropout draws a stream per shard.
  set.seed(11)
  x <- matrix(rnorm(1500 * 6), ncol = 6)
  y <- sin(x[, 1]) + x[, 2] * x[, 3]
  run <- function(threads, batch_size = 512, ...) {
    set.seed(12)
    mlp_train(x, y, hidden = 16, activation = "tanh", output = "linear", loss = "mse",
              optimizer = "adam", lr = 0.01, batch_size = batch_size, epochs = 4,
              threads = threads, ...)
  }
  for (dropout in c(0, 0.2)) {
    one <- run(1, dropout = dropout)
    two <- run(2, dropout = dropout)
    expect_identical(two$weights, one$weights)
    expect_identical(two$loss, one$loss)
  }
  full <- run(2, batch_size = 1500)
  expect_identical(full$weights, run(1, batch_size = 1500)$weights)
  expect_lt(tail(full$loss, 1), full$loss[1])
  # A child forked after the threads started trains as the parent does (its
  # copy of the threads' bookkeeping has no threads behind it).
  skip_on_os("windows")
  forked <- parallel::mclapply(1:2, function(i) run(2)$weights, mc.cores = 2)
  expect_identical(forked[[1]], one_thread <- run(1)$weights)
  expect_identical(forked[[2]], one_thread)
})

test_that("validation keeps per-epoch losses and restores the best epoch", {
  set.seed(6)
  x <- matrix(rnorm(200), 100)
  y <- x[, 1] - x[, 2] + rnorm(100, sd = 0.5)
  vx <- matrix(rnorm(100), 50)
  vy <- vx[, 1] - vx[, 2] + rnorm(50, sd = 0.5)
  fit <- mlp_train(x, y, hidden = 30, activation = "tanh", output = "linear", loss = "mse",
                   optimizer = "adam", lr = 0.01, epochs = 300, validation = list(x = vx, y = vy),
                   patience = 20)
  expect_equal(length(fit$val_loss), length(fit$loss))
  expect_equal(fit$best_epoch, which.min(fit$val_loss))
  expect_equal(mean((predict(fit, vx) - vy)^2), min(fit$val_loss), tolerance = 1e-10)
  if (fit$status == "early_stopped") {
    expect_equal(length(fit$loss), fit$best_epoch + 20)
  }
  set.seed(7)
  frac <- mlp_train(x, y, epochs = 10, output = "linear", loss = "mse", validation = 0.2,
                    lr = 0.001)
  expect_equal(frac$n, 80)
  expect_length(frac$val_loss, 10)
})

test_that("continuing from a fit equals training longer", {
  set.seed(8)
  long <- mlp_train(article_X, article_Y, epochs = 200)
  set.seed(8)
  first <- mlp_train(article_X, article_Y, epochs = 120)
  second <- mlp_train(article_X, article_Y, epochs = 80, init = first)
  expect_equal(second$weights, long$weights, tolerance = 1e-12)
  expect_equal(second$output, long$output, tolerance = 1e-12)
})

test_that("weight decay shrinks the weights", {
  d <- sine_data()
  set.seed(9)
  plain <- mlp_train(d$x, d$y, hidden = 6, output = "linear", loss = "mse", optimizer = "adam",
                     lr = 0.01, epochs = 200)
  set.seed(9)
  decayed <- mlp_train(d$x, d$y, hidden = 6, output = "linear", loss = "mse", optimizer = "adam",
                       lr = 0.01, epochs = 200, weight_decay = 0.1)
  norm <- function(f) sum(unlist(f$weights)^2)
  expect_lt(norm(decayed), norm(plain))
})

test_that("predict() refuses new rows for a row-bias fit and explains why", {
  set.seed(1)
  fit <- mlp_train(article_X, article_Y, epochs = 10, bias = "row")
  expect_arg_error(predict(fit, article_X[c(2, 1, 3), ]),
                   "biases belong to the training rows.*fit\\$output.*bias = \"column\"")
  expect_arg_error(predict(fit, article_X[1:2, ]), "biases belong to the training rows")
  # Its own training rows, in their order, are its fitted values.
  expect_equal(predict(fit, article_X), fitted(fit))
  # Without new data: the fitted values, the returned weights' outputs.
  expect_equal(predict(fit), fitted(fit))
  expect_arg_error(predict(fit, type = "class"), "`type = \"class\"` needs a classifier")
})

test_that("coef, fitted, summary and print describe the fit", {
  set.seed(1)
  fit <- mlp_train(article_X, article_Y, epochs = 10)
  expect_length(coef(fit), 12 + 3 + 3 + 1)
  expect_equal(unname(coef(fit)[1:12]), c(fit$wh))
  expect_equal(names(coef(fit))[13], "layer1.b[1]")
  # fitted() is the returned network's output, as predict() gives it; the
  # article's `output` is the last epoch's, before its update.
  expect_equal(fitted(fit), predict(fit, article_X), tolerance = 1e-15)
  expect_false(isTRUE(all.equal(fitted(fit), fit$output, tolerance = 1e-12)))
  s <- summary(fit)
  expect_s3_class(s, "summary.mlp_fit")
  expect_equal(s$epochs_run, 10)
  expect_equal(s$layers$parameters, c(0, 15, 4))
  expect_output(print(s), "On the 3 rows")
})

test_that("plot() draws loss curves and the network on any device", {
  set.seed(1)
  fit <- mlp_train(article_X, article_Y, epochs = 50)
  file <- tempfile(fileext = ".png")
  grDevices::png(file)
  expect_invisible(plot(fit))
  plot(fit, type = "network")
  grDevices::dev.off()
  expect_gt(file.size(file), 1000)
  expect_arg_error(plot(fit, type = "pie"), "`type` must be one of")
})

test_that("bad library arguments are errors that name the argument", {
  d <- sine_data(20)
  expect_arg_error(mlp_train(d$x, d$y, activation = "swish"), "`activation` must be one of")
  expect_arg_error(mlp_train(d$x, d$y, hidden = c(3, 3), activation = c("tanh", "relu", "relu")),
                   "`activation` must be one of .* once per hidden layer \\(2\\)")
  expect_arg_error(mlp_train(d$x, d$y, output = "tanh"), "`output` must be one of \"sigmoid\", \"linear\", \"softmax\"")
  expect_arg_error(mlp_train(d$x, d$y, loss = "hinge"), "`loss` must be one of")
  expect_arg_error(mlp_train(d$x, d$y, optimizer = "adagrad"), "`optimizer` must be one of")
  expect_arg_error(mlp_train(d$x, d$y, output = "linear", loss = "cross_entropy"),
                   "`loss = \"cross_entropy\"` needs an `output` of \"sigmoid\" or \"softmax\", not \"linear\"")
  expect_arg_error(mlp_train(d$x, d$y, optimizer = "adam", batch_size = 21),
                   "`batch_size` \\(21\\) must not exceed the number of training rows \\(20\\)")
  expect_arg_error(mlp_train(d$x, d$y, optimizer = "gd", batch_size = 5), "`batch_size` needs a minibatch `optimizer`")
  for (bad in list(0, 1, -0.2, 1.5, "a")) {
    expect_arg_error(mlp_train(d$x, d$y, validation = bad), "`validation`")
  }
  expect_arg_error(mlp_train(d$x, factor(rep("a", 20))), "`Y` is a factor with 1 observed class")
  expect_arg_error(mlp_train(d$x, d$y, patience = 5), "`patience` needs `validation`")
  expect_arg_error(mlp_train(d$x, d$y, bias = "row", optimizer = "adam"), "`bias = \"row\"` needs `optimizer = \"gd\"`")
  expect_arg_error(mlp_train(d$x, d$y, output = "softmax"), "`output = \"softmax\"` needs at least two columns")
  expect_arg_error(mlp_train(Species ~ ., iris, optimizer = "lm"), "`optimizer = \"lm\"` needs a `loss` of \"sse\" or \"mse\"")
  expect_arg_error(mlp_train(y ~ x, data = list(x = 1)), "`data` must be a data frame")
  expect_arg_error(mlp_train(d$x, d$y, momentum = 1), "`momentum`")
  expect_arg_error(mlp_train(d$x, d$y, threads = 0), "`threads` must be a whole number >= 1")
})

test_that("divergence stops with an error naming the epoch, for every first-order optimizer", {
  d <- sine_data(30)
  for (opt in c("gd", "sgd", "adam")) {
    set.seed(1)
    expect_error(
      mlp_train(d$x, d$y * 1e3, hidden = 4, activation = "linear", output = "linear",
                loss = "mse", optimizer = opt, lr = 1e100, epochs = 500),
      "Training diverged at epoch [0-9]+", class = "backprop_diverged"
    )
  }
  # The second-order methods only accept steps that lower the loss.
  for (opt in c("lm", "lbfgs")) {
    set.seed(1)
    fit <- mlp_train(d$x, d$y * 1e3, hidden = 4, activation = "linear", output = "linear",
                     loss = "mse", optimizer = opt, epochs = 50)
    expect_true(all(is.finite(unlist(fit$weights))))
  }
})

test_that("continuing a fit keeps its activation, output and loss unless told otherwise", {
  d <- sine_data(40)
  set.seed(12)
  first <- mlp_train(d$x, d$y, hidden = 4, activation = "tanh", output = "linear", loss = "mse",
                     optimizer = "lm", epochs = 5)
  more <- mlp_train(d$x, d$y, epochs = 5, optimizer = "lm", init = first)
  expect_equal(more$activation, "tanh")
  expect_equal(more$output_activation, "linear")
  expect_equal(more$loss_function, "mse")
  other <- mlp_train(d$x, d$y, epochs = 1, optimizer = "lm", init = first, activation = "sigmoid")
  expect_equal(other$activation, "sigmoid")
})

test_that("residuals are in the response's units, with or without scaling", {
  set.seed(13)
  x <- matrix(runif(60), 30)
  y <- 100 + 50 * x[, 1]
  fit <- mlp_train(x, y, hidden = 3, activation = "tanh", output = "linear", loss = "mse",
                   optimizer = "lm", epochs = 50, scale = TRUE)
  expect_equal(c(residuals(fit)), y - c(fitted(fit)), tolerance = 1e-12)
})
