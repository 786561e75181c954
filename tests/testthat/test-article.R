test_that("the row layout reproduces the article's R program for many seeds and shapes", {
  shapes <- list(
    list(n = 3, d = 4, h = 3, o = 1),   # the article's example
    list(n = 7, d = 2, h = 5, o = 3),   # n != h, several outputs
    list(n = 10, d = 6, h = 2, o = 2)
  )
  for (s in shapes) {
    set.seed(100 + s$n)
    X <- matrix(round(runif(s$n * s$d), 2), s$n, s$d)
    Y <- matrix(round(runif(s$n * s$o)), s$n, s$o)
    for (seed in c(1, 7, 42, 2024, 31337)) {
      ref <- article_r_program(X, Y, seed, hiddenlayer_neurons = s$h, epoch = 500)
      set.seed(seed)
      fit <- mlp_train(X, Y, hidden = s$h, epochs = 500, bias = "row")
      expect_same_network(fit, ref)
      expect_equal(fit$loss, ref$loss, tolerance = 1e-10)
      expect_equal(dim(fit$bh), c(s$n, s$h))
      expect_equal(dim(fit$bout), c(s$n, s$o))
    }
  }
})

test_that("the row layout trains more rows than one block of prediction", {
  # The fitted outputs are computed in blocks of rows; per-row biases need
  # every row in one block (this fit once failed past 4096 rows).
  set.seed(5)
  X <- matrix(round(runif(4100 * 2), 2), 4100, 2)
  Y <- matrix(round(runif(4100)), 4100, 1)
  ref <- article_r_program(X, Y, seed = 3, hiddenlayer_neurons = 2, epoch = 3, lr = 0.001)
  set.seed(3)
  fit <- mlp_train(X, Y, hidden = 2, epochs = 3, lr = 0.001, bias = "row")
  expect_same_network(fit, ref)
  set.seed(3)
  single <- mlp_train(X, Y, hidden = 2, epochs = 3, lr = 0.001, bias = "row", precision = "single")
  expect_equal(unname(single$wout), unname(ref$wout), tolerance = 1e-5)
  expect_equal(dim(fitted(single)), c(4100L, 1L))
})

test_that("the article's example runs its full 5000 epochs to the article's result", {
  ref <- article_r_program(article_X, article_Y, seed = 1)
  set.seed(1)
  fit <- mlp_train(article_X, article_Y, bias = "row")
  expect_same_network(fit, ref)
  expect_length(fit$loss, 5000)
  expect_s3_class(fit, "mlp_fit")
  # The trained network separates the targets as the article's does.
  expect_true(all(fit$output[1:2] > 0.9) && fit$output[3] < 0.1)
})

test_that("the column layout follows the NumPy program from given matrices", {
  set.seed(3)
  wh <- matrix(runif(12), 4, 3)
  bh <- matrix(runif(3), 1, 3)
  wout <- matrix(runif(3), 3, 1)
  bout <- matrix(runif(1), 1, 1)
  ref <- numpy_program(article_X, article_Y, wh, bh, wout, bout)
  fit <- mlp_train(article_X, article_Y, init = list(wh = wh, bh = bh, wout = wout, bout = bout))
  expect_same_network(fit, ref)
  expect_equal(fit$bias, "column")
  expect_equal(dim(fit$bh), c(1, 3))

  # A length-h bias vector also means the column layout.
  fit2 <- mlp_train(article_X, article_Y, init = list(wh = wh, bh = c(bh), wout = wout, bout = c(bout)))
  expect_same_network(fit2, ref)
})

test_that("init = 'uniform' draws wh, bh, wout, bout from runif in the NumPy program's order", {
  set.seed(9)
  wh <- matrix(runif(12), 4, 3)
  bh <- runif(3)
  wout <- matrix(runif(3), 3, 1)
  bout <- runif(1)
  ref <- numpy_program(article_X, article_Y, wh, bh, wout, bout, epoch = 300)
  set.seed(9)
  fit <- mlp_train(article_X, article_Y, epochs = 300, init = "uniform")
  expect_same_network(fit, ref)
})

test_that("init = 'article' with the column layout draws the R program's numbers", {
  set.seed(5)
  wh <- matrix(rnorm(12), 4, 3)
  bh <- runif(3)
  wout <- matrix(rnorm(3), 3, 1)
  bout <- runif(1)
  ref <- numpy_program(article_X, article_Y, wh, bh, wout, bout, epoch = 200)
  set.seed(5)
  fit <- mlp_train(article_X, article_Y, epochs = 200)
  expect_same_network(fit, ref)
})

test_that("every init draws R's own rnorm() and runif() numbers, in order, and leaves R's RNG where R would", {
  # The draws are made in Rust; this is what they must equal, written in R.
  reference <- function(init, sizes, bias, n) {
    layers <- length(sizes) - 1L
    weights <- biases <- vector("list", layers)
    for (l in seq_len(layers)) {
      fan_in <- sizes[l]
      fan_out <- sizes[l + 1L]
      w <- switch(init,
        article = rnorm(fan_in * fan_out), uniform = runif(fan_in * fan_out),
        xavier = runif(fan_in * fan_out, -sqrt(6 / (fan_in + fan_out)), sqrt(6 / (fan_in + fan_out))),
        he = rnorm(fan_in * fan_out, sd = sqrt(2 / fan_in)),
        nnet = runif(fan_in * fan_out, -0.7, 0.7))
      b <- switch(init, article = , uniform = runif(fan_out), xavier = , he = numeric(fan_out),
                  nnet = runif(fan_out, -0.7, 0.7))
      weights[[l]] <- matrix(w, fan_in, fan_out)
      biases[[l]] <- matrix(rep(b, if (bias == "row") n else 1), nrow = if (bias == "row") n else 1)
    }
    list(weights = weights, biases = biases)
  }
  draw <- backprop:::draw_params
  for (init in c("article", "uniform", "xavier", "he", "nnet")) {
    for (bias in c("column", "row")) {
      for (sizes in list(c(4, 3, 1), c(2, 5, 4, 3))) {
        set.seed(21)
        want <- reference(init, sizes, bias, 7)
        after_want <- runif(1)
        set.seed(21)
        got <- draw(init, sizes, bias, 7)
        expect_identical(got, want, label = paste(init, bias, length(sizes)))
        expect_identical(runif(1), after_want)
      }
    }
  }
})

test_that("row-layout starting matrices can be given, and bias may then be omitted", {
  set.seed(11)
  ref <- article_r_program(article_X, article_Y, seed = 11, epoch = 50)
  set.seed(11)
  wh <- matrix(rnorm(12), 4, 3)
  bh <- matrix(rep(runif(3), 3), nrow = 3)
  wout <- matrix(rnorm(3), 3, 1)
  bout <- matrix(rep(runif(1), 3), nrow = 3)
  fit <- mlp_train(article_X, article_Y, epochs = 50, init = list(wh = wh, bh = bh, wout = wout, bout = bout))
  expect_equal(fit$bias, "row")
  expect_same_network(fit, ref)
})

test_that("output is the last epoch's forward pass, before its update", {
  set.seed(2)
  fit0 <- mlp_train(article_X, article_Y, epochs = 0)
  expect_length(fit0$loss, 0)
  sig <- function(x) 1 / (1 + exp(-x))
  h <- sig(article_X %*% fit0$wh + matrix(fit0$bh, 3, 3, byrow = TRUE))
  expect_equal(fit0$output, sig(h %*% fit0$wout + fit0$bout[1, 1]), ignore_attr = TRUE)

  fit1 <- mlp_train(article_X, article_Y, epochs = 1, init = fit0)
  # One epoch: the output is that of the starting weights; the weights moved.
  expect_equal(fit1$output, fit0$output)
  expect_false(isTRUE(all.equal(fit1$wout, fit0$wout)))
  expect_equal(fit1$loss, sum((article_Y - fit0$output)^2))
})

test_that("the caller's data and starting matrices are never modified", {
  X <- article_X
  Y <- article_Y
  X_copy <- X + 0
  init <- list(wh = matrix(0.1, 4, 3), bh = matrix(0.2, 1, 3),
               wout = matrix(0.3, 3, 1), bout = matrix(0.4, 1, 1))
  init_copy <- lapply(init, function(m) m + 0)
  fit <- mlp_train(X, Y, epochs = 100, init = init)
  expect_identical(X, X_copy)
  expect_identical(init, init_copy)
  expect_false(isTRUE(all.equal(fit$wh, init$wh)))
})

test_that("integer, logical, data-frame and vector inputs are converted", {
  set.seed(4)
  ref <- mlp_train(article_X, article_Y, epochs = 20)
  Xi <- article_X
  storage.mode(Xi) <- "integer"
  set.seed(4)
  expect_equal(mlp_train(Xi, article_Y, epochs = 20)$output, ref$output)
  set.seed(4)
  expect_equal(mlp_train(Xi == 1, c(1, 1, 0), epochs = 20)$output, ref$output, ignore_attr = TRUE)
  set.seed(4)
  expect_equal(mlp_train(as.data.frame(article_X), article_Y, epochs = 20)$output, ref$output,
               ignore_attr = TRUE)
  set.seed(4)
  v <- mlp_train(c(0, 0.5, 1), article_Y, epochs = 20)
  expect_equal(dim(v$wh), c(1, 3))
})

test_that("print() shows shapes, settings and the final loss", {
  set.seed(1)
  fit <- mlp_train(article_X, article_Y, epochs = 10, bias = "row")
  out <- capture.output(print(fit))
  expect_match(out[1], "4 -> 3 -> 1", fixed = TRUE)
  expect_true(any(grepl("optimizer: gd, lr: 0.1, epochs: 10", out, fixed = TRUE)))
  expect_true(any(grepl("bias layout: row", out, fixed = TRUE)))
  expect_true(any(grepl(format(signif(fit$kept_loss, 4)), out, fixed = TRUE)))
  expect_true(any(grepl("W1 4x3, b1 3x3; W2 3x1, b2 3x1", out, fixed = TRUE)))
})
