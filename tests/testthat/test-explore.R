# mlp_explore(): the page's arguments and data in R, then the page itself,
# driven by headless Chromium (see helper-explore.R).

explore_activations <- c("sigmoid", "tanh", "relu", "leaky_relu", "linear", "softplus", "elu",
                         "selu", "gelu", "silu", "mish")
explore_numbers <- function(m) {
  matrix(as.numeric(unlist(m$data)), m$rows, m$cols, byrow = TRUE)
}

test_that("the page transcribes every hidden activation the core has", {
  # A new activation in the Rust core fails here until the page's
  # JavaScript (and this list) is taught it.
  expect_setequal(backprop:::explore_activations, backprop:::vocabulary$hidden_activations)
  expect_setequal(explore_activations, backprop:::explore_activations)
})

test_that("mlp_explore() refuses what the page does not offer, naming the fix", {
  expect_snapshot(error = TRUE, {
    mlp_explore(article_X, article_Y, optimizer = "adam")
    mlp_explore(article_X, article_Y, weight_decay = 0.01)
    mlp_explore(article_X, article_Y, output = "softmax")
    mlp_explore(article_X, article_Y, loss = "cross_entropy")
    mlp_explore(article_X, article_Y, hidden = c(2, 2))
    mlp_explore(article_X, article_Y, hidden = 0)
    mlp_explore(article_X, article_Y, epochs = 0)
    mlp_explore(article_X, article_Y, lr = -1)
    mlp_explore(article_X, article_Y, activation = "swish")
    mlp_explore(article_X, article_Y, colour = "red")
    mlp_explore(article_X, factor(c("a", "b", "a")))
    mlp_explore(article_X, article_Y, lang = "fr")
    mlp_explore(matrix(0, 300, 2), rep(0, 300))
    mlp_explore(article_X, article_Y, hidden = 17)
    mlp_explore(matrix(0, 200, 16), rep(0, 200), epochs = 1e5)
    mlp_explore(article_X)
  })
  # mlp_train()'s other options at their defaults ask for nothing.
  expect_s3_class(mlp_explore(article_X, article_Y, optimizer = "gd", weight_decay = 0, threads = 1),
                  "mlp_explore")
})

test_that("the page starts from mlp_train()'s weights, for every hidden size and activation", {
  set.seed(42)
  page <- mlp_explore(article_X, article_Y, bias = "row")
  after_page <- runif(1)
  set.seed(42)
  tr <- mlp_trace(article_X, article_Y, bias = "row")
  after_train <- runif(1)
  # The same draws, bit for bit, and the RNG advanced as mlp_train() advances it.
  for (name in c("wh", "bh", "wout", "bout")) {
    expect_identical(explore_numbers(page$x$start[[name]]), unname(tr$start[[name]]))
  }
  expect_identical(after_page, after_train)
  expect_identical(explore_numbers(page$x$X), unname(article_X))
  # The starts the page switches to: what set.seed(42); mlp_train(hidden =,
  # activation =) draws.
  for (start in page$x$starts[c(2, 14, 15)]) {
    act <- names(page$x$init_of)[match(start$init, unlist(page$x$init_of))]
    set.seed(42)
    want <- mlp_trace(article_X, article_Y, bias = "row", hidden = start$hidden, activation = act)
    expect_identical(explore_numbers(start$wh), unname(want$start$wh))
    expect_identical(explore_numbers(start$bout), unname(want$start$bout))
  }
  # `seed` leaves the caller's RNG as it was.
  set.seed(7)
  page <- mlp_explore(article_X, article_Y, seed = 42, lang = "zh")
  after_seed <- runif(1)
  set.seed(7)
  expect_identical(after_seed, runif(1))
  expect_identical(explore_numbers(page$x$start$wh), unname(tr$start$wh))
  expect_identical(page$x$settings$lang, "zh")
  # Given matrices: the page keeps them, and the hidden size.
  page <- mlp_explore(article_X, article_Y, init = tr$start)
  expect_identical(page$x$starts, list())
  expect_identical(page$x$settings$bias, "row")
})

# One page per bias layout, each run of the hook set as the page's controls
# would set it; compared with mlp_trace() at epochs 0, 1, 100 and the last.
explore_runs <- function(epochs) {
  runs <- lapply(explore_activations, function(act) {
    list(activation = act, lr = 0.1, hidden = 3, output = "sigmoid", loss = "sse", epochs = epochs)
  })
  c(runs, list(
    list(activation = "sigmoid", lr = 0.5, hidden = 3, output = "sigmoid", loss = "sse", epochs = epochs),
    list(activation = "tanh", lr = 0.05, hidden = 5, output = "linear", loss = "mse", epochs = epochs),
    # Last: the edits stay for the runs after it.
    list(edit = list(list("X", 0, 1, 0.5), list("Y", 2, 0, 0.25)), activation = "sigmoid", lr = 0.1,
         hidden = 3, output = "sigmoid", loss = "sse", epochs = epochs)
  ))
}

for (layout in c("row", "column")) {
  test_that(paste0("the page shows mlp_trace()'s numbers at every epoch, bias = \"", layout, "\""), {
    need_browser()
    epochs <- c(0, 1, 100, 4999)
    set.seed(42)
    file <- explore_save(mlp_explore(article_X, article_Y, bias = layout))
    runs <- explore_runs(epochs)
    out <- explore_dump(file, list(runs = runs))
    expect_identical(out$errors, list())
    expect_length(out$test$runs, length(runs))
    for (r in seq_along(runs)) {
      run <- runs[[r]]
      shown <- out$test$runs[[r]]
      expect_identical(shown$settings$activation, run$activation)
      args <- list(bias = layout, activation = run$activation, lr = run$lr, hidden = run$hidden,
                   output = run$output, loss = run$loss)
      data <- explore_edited(article_X, article_Y, run$edit)
      diffs <- do.call(explore_compare, c(list(shown, data$X, data$Y, 42), args))
      expect_equal(nrow(diffs), length(epochs) * 12)
      expect_lt(max(diffs$diff), 1e-12, label = paste(layout, run$activation, "largest difference"))
      # After the last epoch: mlp_train()'s weights and loss.
      set.seed(42)
      fit <- suppressWarnings(do.call(mlp_train, c(list(data$X, data$Y), args)))
      for (name in c("wh", "bh", "wout", "bout")) {
        expect_lt(max(abs(explore_rows(shown$final[[name]]) - unname(fit[[name]]))), 1e-12,
                  label = paste(layout, run$activation, name))
      }
      expect_lt(abs(shown$loss_last - fit$loss[5000]), 1e-12)
    }
    # The learning rate edited on the page: mlp_train() with that rate, not the first one's.
    set.seed(42)
    slow <- mlp_train(article_X, article_Y, bias = layout)
    fast <- explore_rows(out$test$runs[[12]]$final$wout)
    expect_gt(max(abs(fast - slow$wout)), 0.1)
  })
}

test_that("the page loads without an error, in Chinese, and a screenshot is written", {
  need_browser()
  xor <- matrix(c(0, 0, 0, 1, 1, 0, 1, 1), ncol = 2, byrow = TRUE)
  file <- explore_save(mlp_explore(xor, c(0, 1, 1, 0), hidden = 4, lr = 0.5, seed = 1, lang = "zh"))
  keys <- list("ArrowRight", "ArrowRight", "ArrowUp", "Shift+ArrowUp", "ArrowDown", "ArrowLeft")
  out <- explore_dump(file, list(step = 3, epoch = 20, cell = c(1, 2), keys = keys))
  expect_identical(out$errors, list())
  # The arrow keys: two steps right and one left, epochs 20 + 1 + 100 - 1.
  expect_identical(out$test$state$step, 4L)
  expect_identical(out$test$state$epoch, 120L)
  expect_match(out$test$title, "步骤 4: 对隐藏的线性输入进行非线性变换", fixed = TRUE)
  expect_match(out$dom, "决策面", fixed = TRUE)
  # The learner's controls have labels a screen reader reads.
  expect_match(out$dom, "<label for=\"[^\"]*-lr\">学习率</label>")
  expect_match(out$dom, "aria-label=\"X row 2 column 1\"", fixed = TRUE)
  # The page times its training (bench/explore.R reports it); here only
  # that it ran.
  expect_gt(out$test$ms, 0)
  png <- explore_screenshot(file, tempfile(fileext = ".png"), list(step = 5, epoch = 2000))
  expect_true(file.exists(png))
  expect_gt(file.size(png), 20000)
  expect_identical(readBin(png, "raw", 8), as.raw(c(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)))
})
