# backprop()'s selection among the rule's candidates (R/select.R).

# A smooth function without noise, and a response that is noise alone.
smooth_data <- function(n = 200) {
  x <- matrix(runif(n * 2, -2, 2), n)
  list(x = x, y = sin(2 * x[, 1]) + x[, 2]^2)
}

test_that("selection picks LM's weak decay without noise and a strong decay on noise", {
  k <- backprop:::rule_constants
  set.seed(11)
  d <- smooth_data()
  fit <- backprop(d$x, d$y, threads = 1)
  table <- fit$selection$table
  expect_named(table, c("optimizer", "epochs", "weight_decay", "score", "chosen"))
  expect_equal(table$weight_decay, c(k$lm_decay, k$lm_lbfgs_decays))
  expect_equal(fit$optimizer, "lm")
  expect_equal(fit$weight_decay, k$lm_decay)
  expect_equal(which(table$chosen), which.min(table$score))
  set.seed(12)
  noise <- matrix(rnorm(600), 300)
  fit <- backprop(noise, rnorm(300), threads = 1)
  expect_equal(fit$optimizer, "lbfgs")
  expect_equal(fit$weight_decay, max(k$lm_lbfgs_decays))
  # A classification: decays for L-BFGS.
  set.seed(13)
  cls <- backprop(Species ~ ., iris, threads = 1)
  expect_named(cls$selection$table, c("weight_decay", "score", "chosen"))
  expect_equal(cls$selection$table$weight_decay, k$decays)
})

test_that("the candidates' scores are their losses on the held-out rows", {
  # One held-out part (more rows than cross-validation takes): each score is
  # the mean squared error, on the held-out rows, of the candidate trained
  # on the other rows, with the same start for every candidate.
  n <- backprop:::rule_constants$cv_rows + 100
  set.seed(13)
  x <- matrix(runif(n * 2), n)
  y <- x[, 1] - x[, 2]^2 + rnorm(n, sd = 0.1)
  # Observation weights weigh the training rows and the held-out rows alike.
  w <- rep(c(1, 3, 0, 2), length.out = n)
  set.seed(14)
  fit <- backprop(x, y, weights = w, threads = 1)
  expect_match(fit$selection$method, "percent of the rows held out")
  # The same draws, by hand: the held-out rows, the search's seed, a fit.
  set.seed(14)
  held <- sample.int(n, round(backprop:::rule_constants$holdout * n))
  seed <- sample.int(.Machine$integer.max, 1L)
  table <- fit$selection$table
  for (i in seq_len(nrow(table))) {
    set.seed(seed)
    part <- mlp_train(x[-held, ], y[-held], hidden = backprop:::rule_constants$units,
                      activation = "tanh", optimizer = table$optimizer[i], epochs = table$epochs[i],
                      weight_decay = table$weight_decay[i], output = "linear", loss = "mse",
                      scale = TRUE, weights = w[-held], threads = 1)
    pred <- predict(part, x[held, ])[, 1]
    # The weighted loss of the standardized response.
    mse <- weighted.mean(((pred - y[held]) / part$scaling$y$scale)^2, w[held])
    expect_equal(fit$selection$table$score[i], mse, tolerance = 1e-10)
  }
})

test_that("scores are the loss per row as the fit reports it, folds and validation rows alike", {
  set.seed(31)
  n <- 80
  x <- matrix(rnorm(n * 2), n)
  y <- rpois(n, exp(0.5 + 0.6 * x[, 1]))
  set.seed(7)
  fit <- backprop(x, y, loss = "poisson", threads = 1)
  expect_match(fit$selection$method, "cross-validation")
  # The winner's folds predicted their held-out rows: its score is their
  # mean Poisson deviance, the loss the fit reports (not the half of it
  # that the optimizers minimise; audit 22).
  folds <- fit$calibration$folds
  mu <- unlist(lapply(folds, `[[`, "pred"))
  obs <- unlist(lapply(folds, `[[`, "y"))
  deviance <- 2 * (ifelse(obs > 0, obs * log(obs / mu), 0) - (obs - mu))
  expect_equal(fit$selection$table$score[fit$selection$table$chosen], mean(deviance), tolerance = 1e-10)
  expect_equal(fit$kept_loss, mean(2 * (ifelse(y > 0, y * log(y / fitted(fit)[, 1]), 0) - (y - fitted(fit)[, 1]))),
               tolerance = 1e-10)
  # "sse" reports sums; judged on validation rows, a score is per row.
  set.seed(8)
  v <- sample.int(n, 20)
  sse <- backprop(x[-v, ], y[-v], loss = "sse", validation = list(x = x[v, ], y = y[v]), threads = 1)
  expect_match(sse$selection$method, "validation")
  expect_false(sse$selection$refitted)
  expect_equal(sse$selection$table$score[sse$selection$table$chosen], min(sse$val_loss) / 20)
})

test_that("selection is reproducible under set.seed() for any thread count", {
  d <- smooth_data(150)
  set.seed(21)
  one <- backprop(d$x, d$y, threads = 1)
  set.seed(21)
  two <- backprop(d$x, d$y, threads = 2)
  expect_identical(one$selection$table, two$selection$table)
  expect_identical(one$weights, two$weights)
  set.seed(21)
  cls <- backprop(Species ~ ., iris, threads = 1)
  set.seed(21)
  again <- backprop(Species ~ ., iris, threads = 2)
  expect_identical(cls$weights, again$weights)
})

test_that("given arguments are removed from the search and select = FALSE turns it off", {
  d <- smooth_data(120)
  set.seed(31)
  fit <- backprop(d$x, d$y, hidden = 4, threads = 1)
  expect_equal(fit$hidden, 4)
  expect_named(fit$selection$table, c("optimizer", "epochs", "weight_decay", "score", "chosen"))
  # A given optimizer takes its own epochs: the decays are left to select.
  set.seed(31)
  adam <- backprop(d$x, d$y, optimizer = "adam", threads = 1)
  expect_named(adam$selection$table, c("weight_decay", "score", "chosen"))
  expect_equal(adam$optimizer, "adam")
  # A loss LM cannot minimise leaves it out.
  set.seed(31)
  huber <- backprop(d$x, d$y, loss = "huber", threads = 1)
  expect_false("lm" %in% huber$selection$table$optimizer)
  set.seed(31)
  fixed <- backprop(d$x, d$y, weight_decay = 0.05, threads = 1)
  # The decay given (on the mean loss, which LM's is not), L-BFGS alone is
  # left: nothing to select.
  expect_null(fixed$selection)
  expect_equal(fixed$optimizer, "lbfgs")
  expect_equal(fixed$weight_decay, 0.05)
  set.seed(31)
  decided <- backprop(d$x, d$y, weight_decay = 0.05, optimizer = "lbfgs", threads = 1)
  expect_null(decided$selection)
  set.seed(31)
  off <- backprop(d$x, d$y, select = FALSE, threads = 1)
  expect_null(off$selection)
  expect_equal(off$weight_decay, backprop:::rule_constants$decay)
  expect_arg_error(backprop(d$x, d$y, select = NA), "`select` must be TRUE or FALSE")
  # Given validation rows judge the candidates; the winner is kept as fitted.
  set.seed(32)
  val <- backprop(d$x, d$y, validation = 0.25, threads = 1)
  expect_false(val$selection$refitted)
  expect_equal(val$selection$method, "the validation rows")
  expect_equal(min(val$selection$table$score), min(val$val_loss))
  expect_equal(fitted(val), predict(val, d$x), tolerance = 1e-14, ignore_attr = TRUE)
})

test_that("a fit chosen by selection is a whole fit: fitted equals predict", {
  set.seed(41)
  idx <- sample(nrow(iris), 120)
  fit <- backprop(Species ~ ., iris[idx, ], threads = 1)
  expect_false(is.null(fit$selection))
  expect_equal(fitted(fit), predict(fit, iris[idx, ], type = "prob"), tolerance = 1e-14,
               ignore_attr = TRUE)
  expect_output(print(fit), "selected by 3-fold cross-validation among 3 candidates")
})

test_that("the progress bar shows the search", {
  skip_if_not_installed("cli")
  d <- smooth_data(60)
  withr::local_options(cli.progress_show_after = 0, cli.dynamic = FALSE, cli.width = 200)
  set.seed(51)
  shown <- capture.output(fit <- backprop(d$x, d$y, threads = 1, verbose = TRUE), type = "message")
  expect_true(any(grepl("selecting candidate 1/4 \\(lm, decay 1e-05\\), fold 1/3", shown)))
})

test_that("a selected fit continues with the optimizer and decay it chose", {
  d <- smooth_data(100)
  set.seed(61)
  fit <- backprop(d$x, d$y, threads = 1)
  more <- backprop(d$x, d$y, init = fit, epochs = 0, threads = 1)
  expect_null(more$selection)
  expect_equal(more$optimizer, fit$optimizer)
  expect_equal(more$weight_decay, fit$weight_decay)
  expect_equal(predict(more, d$x), predict(fit, d$x), tolerance = 1e-15)
  set.seed(62)
  noisy <- backprop(d$x, d$y + rnorm(100, sd = 2), threads = 1)
  again <- backprop(d$x, d$y, init = noisy, epochs = 3, threads = 1)
  expect_equal(again$weight_decay, noisy$weight_decay)
})

test_that("the search's edge cases: validation on many rows, zero weights, row biases, no epochs", {
  # Given validation rows on more than the search's rows: the winner is
  # kept as fitted, so it is trained on every training row (no sample).
  set.seed(71)
  n <- backprop:::rule_constants$search_rows + 500
  d <- data.frame(a = rnorm(n), b = rnorm(n))
  d$y <- d$a + rnorm(n)
  fit <- backprop(y ~ ., d, validation = 0.2, epochs = 5, threads = 1)
  expect_false(fit$selection$refitted)
  expect_equal(fit$n + length(fit$held_out), n)
  expect_equal(NROW(fitted(fit)), n)
  # A given restarts is honoured: the winner is refitted with it.
  small <- d[1:300, ]
  set.seed(72)
  again <- backprop(y ~ ., small, validation = 0.2, restarts = 2, epochs = 5, threads = 1)
  expect_true(again$selection$refitted)
  expect_length(again$starts$objective, 2)
  # A fold whose training rows all weigh 0 counts for nothing; too few
  # weighted rows skip the search.
  w <- c(rep(1, 12), rep(0, 48))
  set.seed(73)
  expect_s3_class(backprop(y ~ ., d[1:60, ], weights = w, threads = 1), "mlp_fit")
  set.seed(73)
  one <- backprop(y ~ ., d[1:60, ], weights = c(1, rep(0, 59)), threads = 1)
  expect_null(one$selection)
  expect_null(backprop(matrix(1, 1, 1), 2, threads = 1)$selection)
  # Row biases and zero epochs: nothing to select.
  set.seed(74)
  row <- backprop(y ~ ., d[1:30, ], bias = "row", optimizer = "gd", lr = 0.001, epochs = 5, threads = 1)
  expect_null(row$selection)
  expect_null(backprop(y ~ ., d[1:30, ], epochs = 0, validation = 0.2, threads = 1)$selection)
})

test_that("a callback that asks to stop ends every start", {
  set.seed(81)
  d <- smooth_data(150)
  seen <- NULL
  fit <- backprop(d$x, d$y, threads = 1, callback = function(epoch, ...) {
    seen <<- c(seen, epoch)
    epoch >= 5
  })
  expect_equal(seen, 1:5)
  expect_equal(fit$status, "stopped")
})

test_that("summary() of an ordered response", {
  set.seed(91)
  x <- matrix(runif(200), 100)
  y <- factor(c("lo", "mid", "hi")[1 + (x[, 1] > 0.3) + (x[, 1] > 0.7)], levels = c("lo", "mid", "hi"),
              ordered = TRUE)
  s <- summary(backprop(x, y, threads = 1))
  expect_gt(s$fit$accuracy, 0.8)
  expect_equal(dimnames(s$fit$confusion)$actual, c("lo", "mid", "hi"))
})
