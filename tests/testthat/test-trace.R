# The trace against an independent computation of one iteration, written here.
one_iteration <- function(X, Y, wh, bh, wout, bout, lr, row_layout) {
  sigmoid <- function(x) 1 / (1 + exp(-x))
  n <- nrow(X)
  spread <- function(b) if (row_layout) b else matrix(b, n, length(b), byrow = TRUE)
  hidden_layer_input <- X %*% wh + spread(bh)
  hiddenlayer_activations <- sigmoid(hidden_layer_input)
  output_layer_input <- hiddenlayer_activations %*% wout + spread(bout)
  output <- sigmoid(output_layer_input)
  E <- Y - output
  slope_output_layer <- output * (1 - output)
  slope_hidden_layer <- hiddenlayer_activations * (1 - hiddenlayer_activations)
  d_output <- E * slope_output_layer
  Error_at_hidden_layer <- d_output %*% t(wout)
  d_hiddenlayer <- Error_at_hidden_layer * slope_hidden_layer
  sums <- function(d) if (row_layout) matrix(rowSums(d), n, ncol(d)) else matrix(colSums(d), 1)
  list(hidden_layer_input = hidden_layer_input, hiddenlayer_activations = hiddenlayer_activations,
       output_layer_input = output_layer_input, output = output, E = E,
       slope_output_layer = slope_output_layer, slope_hidden_layer = slope_hidden_layer,
       d_output = d_output, Error_at_hidden_layer = Error_at_hidden_layer,
       d_hiddenlayer = d_hiddenlayer,
       wout = wout + t(hiddenlayer_activations) %*% d_output * lr,
       wh = wh + t(X) %*% d_hiddenlayer * lr,
       bout = bout + sums(d_output) * lr, bh = bh + sums(d_hiddenlayer) * lr)
}

test_that("every matrix of the trace matches the article's arithmetic, both layouts", {
  set.seed(5)
  X <- matrix(runif(5 * 3), 5)
  Y <- matrix(round(runif(10)), 5)
  for (layout in c("row", "column")) {
    set.seed(21)
    tr <- mlp_trace(X, Y, hidden = 4, bias = layout)
    want <- one_iteration(X, Y, tr$start$wh, tr$start$bh, tr$start$wout, tr$start$bout,
                          tr$lr, layout == "row")
    for (name in names(want)) {
      expect_equal(unname(tr[[name]]), unname(want[[name]]), tolerance = 1e-12,
                   label = paste(layout, name))
    }
    # The start is what mlp_train() draws, and the update is its first epoch.
    set.seed(21)
    fit <- mlp_train(X, Y, hidden = 4, bias = layout, epochs = 1)
    expect_equal(fit$wh, tr$wh, tolerance = 1e-14)
    expect_equal(fit$bout, tr$bout, tolerance = 1e-14)
    expect_equal(fit$output, tr$output, tolerance = 1e-14)
  }
})

test_that("a data frame's factor is coded for the trace as for mlp_train()", {
  d <- data.frame(a = c(1, 0, 1, 0), g = factor(c("u", "v", "v", "u")))
  Y <- c(1, 0, 1, 1)
  set.seed(22)
  tr <- mlp_trace(d, Y)
  set.seed(22)
  fit <- mlp_train(d, Y, epochs = 1)
  expect_equal(colnames(tr$X), c("a", "gv"))
  expect_equal(fit$wh, tr$wh, tolerance = 1e-14)
  expect_equal(unname(fit$output), unname(tr$output), tolerance = 1e-14)
  set.seed(23)
  coded <- mlp_gradcheck(d, Y)$table
  set.seed(23)
  expect_equal(coded, mlp_gradcheck(model.matrix(~ a + g, d)[, -1], Y)$table)
})

test_that("mlp_gradcheck() checks the article's network, or the network of `init`", {
  set.seed(3)
  x <- matrix(rnorm(40), 10)
  y <- runif(10)
  article <- mlp_gradcheck(x, y)
  expect_equal(article$settings$sizes, c(4, 3, 1))
  expect_equal(article$settings$activation, "sigmoid")
  fit <- mlp_train(x, y, hidden = 5, activation = "tanh", output = "linear", epochs = 20)
  # Without `hidden` and `activation`: the fit's, at its weights.
  continued <- mlp_gradcheck(x, y, init = fit)
  expect_equal(continued$settings$sizes, c(4, 5, 1))
  expect_equal(continued$settings$activation, "tanh")
  expect_equal(continued$table$parameter, names(coef(fit)))
  expect_lt(continued$max_rel_error, 1e-6)
  expect_error(mlp_gradcheck(x, y, hidden = 3, init = fit), "contradicts the shapes of `init`")
})

test_that("the trace prints the twelve steps and draws each of them", {
  set.seed(42)
  tr <- mlp_trace(article_X, article_Y, bias = "row")
  out <- capture.output(print(tr))
  expect_true(any(grepl("^Step 1: Read input and output", out)))
  expect_true(any(grepl("^Step 12: Update biases", out)))
  expect_true(any(grepl("d_output = E * slope_output_layer", out, fixed = TRUE)))
  file <- tempfile(fileext = ".png")
  grDevices::png(file, width = 1200, height = 400)
  for (k in 1:12) expect_invisible(plot(tr, step = k, cell = c(2, 1)))
  grDevices::dev.off()
  expect_gt(file.size(file), 5000)
  expect_error(plot(tr, step = 13), "`step` must be one of the article's steps", class = "backprop_error")
  expect_error(mlp_trace(article_X, article_Y, hidden = c(2, 2)), "`hidden` must be a single number",
               class = "backprop_error")
})

test_that("the steps name the activations used and, with bias = 'row', the row-sum rule", {
  set.seed(42)
  article <- capture.output(print(mlp_trace(article_X, article_Y, bias = "row")))
  expect_true(any(grepl("bh = bh + rowSums(d_hiddenlayer) * learning_rate", article, fixed = TRUE)))
  expect_false(any(grepl("axis=0", article, fixed = TRUE)))
  expect_true(any(grepl("Perform non-linear transformation on hidden linear input (sigmoid)", article, fixed = TRUE)))
  set.seed(42)
  tanh_trace <- capture.output(print(mlp_trace(article_X, matrix(c(0.5, -1, 2)), activation = "tanh",
                                               output = "linear", loss = "mse")))
  expect_true(any(grepl("hidden linear input (tanh)", tanh_trace, fixed = TRUE)))
  expect_true(any(grepl("output = linear", tanh_trace, fixed = TRUE)))
  expect_true(any(grepl("derivatives_tanh(hiddenlayer_activations)", tanh_trace, fixed = TRUE)))
  expect_true(any(grepl("gradient of the mse loss", tanh_trace, fixed = TRUE)))
  expect_false(any(grepl("sigmoid", tanh_trace, fixed = TRUE)))
  column <- capture.output(print(mlp_trace(article_X, article_Y)))
  expect_true(any(grepl("sum(d_hiddenlayer, axis=0)", column, fixed = TRUE)))
})

test_that("backpropagation matches finite differences for every architecture choice", {
  set.seed(3)
  x <- matrix(rnorm(8 * 3), 8)
  targets <- list(
    probability = matrix(runif(16), 8),
    onehot = diag(2)[sample(2, 8, TRUE), ],
    real = matrix(rnorm(16), 8)
  )
  heads <- list(
    list(output = "sigmoid", loss = "sse", y = "probability"),
    list(output = "sigmoid", loss = "mse", y = "probability"),
    list(output = "sigmoid", loss = "cross_entropy", y = "probability"),
    list(output = "linear", loss = "sse", y = "real"),
    list(output = "linear", loss = "mse", y = "real"),
    list(output = "softmax", loss = "cross_entropy", y = "onehot"),
    list(output = "softmax", loss = "mse", y = "onehot")
  )
  checked <- 0
  for (act in c("sigmoid", "tanh", "relu", "leaky_relu", "linear")) {
    for (head in heads) {
      for (layout in c("column", "row")) {
        for (hidden in list(4, c(4, 3))) {
          # "article" starts have non-zero biases, so no relu input sits
          # exactly on its kink (where finite differences see half a slope).
          set.seed(checked)
          g <- mlp_gradcheck(x, targets[[head$y]], hidden = hidden, activation = act,
                             output = head$output, loss = head$loss, bias = layout,
                             init = "article", weight_decay = 0.01)
          ok <- g$table$rel_error < 1e-5 | g$table$abs_error < 1e-8
          expect_true(all(ok), label = paste(act, head$output, head$loss, layout, length(hidden)))
          checked <- checked + 1
        }
      }
    }
  }
  expect_equal(checked, 5 * 7 * 2 * 2)
})
