# Training a spec (R/spec.R): restarts.

# The penalized training objective of a fit's weights on (x, y), computed
# by the core for the options `...`.
fit_objective <- function(fit, x, y, ...) {
  spec <- backprop:::training_spec(x, backprop:::as_target(y, nrow(x)),
                                   backprop:::check_given(list(...)))
  backprop:::start_objective(spec, list(weights = fit$weights, biases = fit$biases))
}

test_that("restarts keep the start with the lowest penalized objective", {
  set.seed(1)
  x <- matrix(runif(120, -2, 2), 60)
  y <- sin(2 * x[, 1]) * x[, 2]
  args <- list(hidden = 5, activation = "tanh", output = "linear", loss = "mse",
               optimizer = "lbfgs", epochs = 40, weight_decay = 0.01, threads = 1)
  set.seed(7)
  best <- do.call(mlp_train, c(list(x, y, restarts = 3), args))
  # The same three starts, one fit each: R's RNG draws them one after another.
  set.seed(7)
  each <- lapply(1:3, function(i) do.call(mlp_train, c(list(x, y), args)))
  objectives <- vapply(each, function(f) do.call(fit_objective, c(list(f, x, y), args)), 0)
  expect_equal(best$starts$objective, objectives, tolerance = 1e-12)
  expect_equal(best$starts$kept, which.min(objectives))
  expect_equal(best$weights, each[[which.min(objectives)]]$weights)
  expect_equal(best$loss, each[[which.min(objectives)]]$loss)
  expect_output(print(summary(best)), "starts: kept [123] of 3 by the penalized training objective")
})

test_that("restarts rank starts by the objective their optimizer minimises", {
  set.seed(41)
  x <- scale(matrix(rnorm(80), 40))
  y <- drop(scale(sin(2 * x[, 1]) + x[, 2]^2 + rnorm(40, sd = 0.2)))
  decay <- 0.5
  squares <- function(f) sum((predict(f, x) - y)^2)
  weights2 <- function(f) sum(unlist(f$weights)^2)
  # Written out: Levenberg-Marquardt minimises the sum of squared residuals
  # plus decay times the squared weights; "gd" sums the rows' mse terms
  # and adds the L2 penalty, decay / 2 times the squared weights.
  cases <- list(
    lm = list(args = list(optimizer = "lm", epochs = 60), objective = function(f) squares(f) + decay * weights2(f)),
    gd = list(args = list(optimizer = "gd", lr = 0.002, epochs = 200),
              objective = function(f) squares(f) + decay / 2 * weights2(f))
  )
  for (name in names(cases)) {
    args <- c(list(hidden = 6, activation = "tanh", output = "linear", loss = "mse",
                   weight_decay = decay, init = "nnet", threads = 1, verbose = FALSE),
              cases[[name]]$args)
    set.seed(5)
    best <- do.call(mlp_train, c(list(x, y, restarts = 4), args))
    set.seed(5)
    each <- lapply(1:4, function(i) do.call(mlp_train, c(list(x, y), args)))
    objectives <- vapply(each, cases[[name]]$objective, 0)
    expect_equal(best$starts$objective, objectives, tolerance = 1e-8, label = paste(name, "objectives"))
    expect_equal(best$starts$kept, which.min(objectives), label = paste(name, "kept start"))
  }
})

test_that("restarts = 1 is the fit without restarts, the article's exactly", {
  set.seed(42)
  plain <- mlp_train(article_X, article_Y, bias = "row")
  set.seed(42)
  one <- mlp_train(article_X, article_Y, bias = "row", restarts = 1)
  expect_identical(one$output, plain$output)
  expect_identical(one$wout, plain$wout)
  expect_null(one$starts)
  # Minibatch restarts draw their shuffles too, and are reproducible.
  set.seed(3)
  a <- mlp_train(article_X, article_Y, optimizer = "adam", batch_size = 2, epochs = 30, restarts = 2)
  set.seed(3)
  b <- mlp_train(article_X, article_Y, optimizer = "adam", batch_size = 2, epochs = 30, restarts = 2)
  expect_identical(a$weights, b$weights)
  expect_length(a$starts$objective, 2)
})

test_that("a callback that stops a later start leaves the fit stopped", {
  calls <- 0
  stop_in_second <- function(epoch, ...) {
    calls <<- calls + 1
    calls == 51
  }
  set.seed(5)
  fit <- mlp_train(article_X, article_Y, epochs = 50, lr = 1, restarts = 3, init = "uniform",
                   callback = stop_in_second)
  # The first start ran its 50 epochs, the second stopped after its first:
  # the first is kept, and the fit says it was stopped (pass 22).
  expect_equal(calls, 51)
  expect_equal(fit$starts$kept, 1L)
  expect_equal(fit$status, "stopped")
})

test_that("restarts need drawn starts", {
  set.seed(1)
  fit <- mlp_train(article_X, article_Y, epochs = 5)
  expect_arg_error(mlp_train(article_X, article_Y, init = fit, restarts = 2),
                   "`restarts` needs starting weights drawn by `init`")
  expect_arg_error(mlp_train(article_X, article_Y, restarts = 0), "`restarts`")
  expect_arg_error(mlp_train(article_X, article_Y, restarts = 1.5), "`restarts`")
})

test_that("restarts escape the local minima of the LM setting on NNbenchmark's mIshigami", {
  # nnet users restart by hand; k starts keep the best by the objective, so
  # the objective of 5 starts is never above that of the first of them.
  set.seed(5)
  x <- matrix(runif(600, -pi, pi), 200)
  y <- sin(x[, 1]) + 7 * sin(x[, 2])^2 + 0.1 * x[, 3]^4 * sin(x[, 1])
  args <- list(hidden = 10, activation = "tanh", output = "linear", loss = "mse", optimizer = "lm",
               epochs = 60, scale = TRUE, threads = 1)
  set.seed(9)
  first <- do.call(mlp_train, c(list(x, y), args))
  set.seed(9)
  five <- do.call(mlp_train, c(list(x, y, restarts = 5), args))
  expect_equal(five$starts$objective[1], do.call(fit_objective, c(list(first, x, y), args)),
               tolerance = 1e-12)
  expect_equal(five$starts$kept, which.min(five$starts$objective))
  # Without weight decay LM's objective is the sum of squared residuals of
  # the standardized response, so the kept start fits best.
  squares <- sum(residuals(five)^2) / five$scaling$y$scale^2
  expect_equal(five$starts$objective[five$starts$kept], squares, tolerance = 1e-10)
  expect_lte(mean(residuals(five)^2), mean(residuals(first)^2))
})

test_that("a validation response's columns are matched by name, as its inputs are", {
  set.seed(1)
  x <- matrix(rnorm(120), 60, dimnames = list(NULL, c("a", "b")))
  y <- cbind(p = x[, 1] + rnorm(60, sd = 0.1), q = 10 * x[, 2] + 5)
  xv <- matrix(rnorm(80), 40, dimnames = list(NULL, c("a", "b")))
  yv <- cbind(p = xv[, 1], q = 10 * xv[, 2] + 5)
  fit <- function(vx, vy) {
    set.seed(3)
    mlp_train(x, y, hidden = 3, output = "linear", loss = "mse", optimizer = "lbfgs", epochs = 30,
              scale = TRUE, validation = list(x = vx, y = vy), threads = 1)
  }
  same <- fit(xv, yv)
  expect_equal(fit(xv[, 2:1], yv[, 2:1])$val_loss, same$val_loss)
  expect_equal(fit(xv, unname(yv))$val_loss, same$val_loss)
  expect_snapshot(fit(xv, cbind(p = yv[, 1], p = yv[, 2])), error = TRUE)
  expect_snapshot(fit(xv, cbind(u = yv[, 1], v = yv[, 2])), error = TRUE)
})

test_that("given validation rows weigh as training rows of their class do", {
  set.seed(23)
  make <- function(n) {
    d <- data.frame(a = rnorm(n), b = rnorm(n))
    d$y <- factor(ifelse(d$a + rnorm(n) > 1, "pos", "neg"))
    d
  }
  d <- make(300)
  v <- make(200)
  for (class_weights in list(c(neg = 1, pos = 5), "balanced")) {
    set.seed(1)
    f <- backprop(y ~ a + b, d, validation = v, class_weights = class_weights, patience = 5,
                  threads = 1)
    p <- predict(f, v, type = "prob")
    log_loss <- -log(p[cbind(seq_len(nrow(v)), as.integer(v$y))])
    # The training rows' class weights, as "balanced" draws them from them.
    per_class <- if (is.character(class_weights)) nrow(d) / (2 * table(d$y)) else class_weights
    w <- per_class[as.character(v$y)]
    expect_equal(f$val_loss[f$best_epoch], sum(w * log_loss) / sum(w), tolerance = 1e-8,
                 label = paste("validation loss with class_weights", class_weights[1]))
  }
})

test_that("a fit's training time counts every start and every ensemble member", {
  set.seed(3)
  x <- matrix(rnorm(60), 30)
  y <- x[, 1] + rnorm(30, sd = 0.3)
  # Each epoch's callback waits 30 ms: three networks of two epochs take
  # at least 0.18 s, one of them 0.06 s.
  pause <- function(epoch, loss, val_loss, weights) {
    Sys.sleep(0.03)
    FALSE
  }
  for (many in list(list(ensemble = 3), list(restarts = 3))) {
    fit <- do.call(mlp_train, c(list(x, y, hidden = 2, optimizer = "adam", epochs = 2, output = "linear",
                                     loss = "mse", threads = 1, verbose = FALSE, callback = pause), many))
    expect_gte(fit$seconds, 0.18)
    expect_equal(glance(fit)$time, fit$seconds)
  }
})

test_that("a callback that stops an ensemble leaves the members it trained, and says so", {
  set.seed(1)
  x <- matrix(rnorm(600), 200)
  y <- sin(x[, 1]) + rnorm(200, sd = 0.3)
  calls <- 0
  fit_stopping <- function(after) {
    calls <<- 0
    set.seed(2)
    mlp_train(x, y, hidden = 3, optimizer = "adam", epochs = 5, ensemble = 3, output = "linear",
              loss = "mse", threads = 1, verbose = FALSE,
              callback = function(epoch, loss, val_loss, weights) {
                calls <<- calls + 1
                calls >= after
              })
  }
  # Stopped in the second member: two members, and the fit says two.
  expect_warning(two <- fit_stopping(7), "stopped training in ensemble member 2 of 3")
  expect_length(two$members, 2)
  expect_equal(two$options$ensemble, 2)
  expect_output(print(two), "in each of 2 members")
  expect_true(all(is.finite(predict(two, x[1:3, ], type = "sd"))))
  # Stopped in the first: one network, and no spread to give.
  expect_warning(one <- fit_stopping(3), "stopped training in ensemble member 1 of 3")
  expect_null(one$members)
  expect_equal(one$options$ensemble, 1)
  expect_error(predict(one, x[1:3, ], type = "sd"), "spread of an ensemble")
})

test_that("a validation loss never finite is refused, not answered with the starting weights", {
  set.seed(1)
  d <- data.frame(a = rnorm(200), b = rnorm(200))
  d$cnt <- rpois(200, exp(1 + d$a))
  v <- d[1:40, ]
  # A missing-value code: the Poisson loss of its output overflows at every epoch.
  v$a[1] <- -9999
  poisson_fit <- function(validation) {
    set.seed(2)
    mlp_train(cnt ~ a + b, d, loss = "poisson", output = "exp", optimizer = "adam", lr = 0.01,
              hidden = 4, activation = "relu", scale = TRUE, validation = validation,
              epochs = 30)
  }
  expect_error(poisson_fit(v), "The validation loss was not finite at any epoch", class = "backprop_diverged")
  # Without that row, an epoch is kept: trained weights, not the start's.
  fit <- poisson_fit(v[-1, ])
  expect_gt(fit$best_epoch, 0)
  expect_gt(cor(fitted(fit)[, 1], exp(1 + d$a)), 0.9)
})

test_that("given validation rows carry their observation weights, or are refused without", {
  set.seed(1)
  n <- 80
  d <- data.frame(a = rnorm(n), b = rnorm(n))
  d$y <- d$a - d$b + rnorm(n, sd = 0.3)
  d$w <- sample(1:4, n, TRUE)
  held <- 61:80
  args <- list(hidden = 3, output = "linear", loss = "mse", optimizer = "adam", epochs = 20,
               threads = 1)
  weighted_mse <- function(fit, x, y, w) sum(w * (y - predict(fit, x))^2) / sum(w)
  set.seed(5)
  f <- do.call(mlp_train, c(list(y ~ a + b, d[-held, ], weights = quote(w), validation = d[held, ]), args))
  expect_equal(f$val_loss[f$best_epoch], weighted_mse(f, d[held, ], d$y[held], d$w[held]),
               tolerance = 1e-10)
  x <- as.matrix(d[c("a", "b")])
  set.seed(5)
  g <- do.call(mlp_train, c(list(x[-held, ], d$y[-held], weights = d$w[-held],
                                 validation = list(x = x[held, ], y = d$y[held], weights = d$w[held])), args))
  expect_equal(g$val_loss[g$best_epoch], weighted_mse(g, x[held, ], d$y[held], d$w[held]),
               tolerance = 1e-10)
  expect_snapshot(do.call(mlp_train, c(list(x[-held, ], d$y[-held], weights = d$w[-held],
                                            validation = list(x = x[held, ], y = d$y[held])), args)),
                  error = TRUE)
})

test_that("a constant input is ignored, whatever rounding leaves of its spread", {
  set.seed(15)
  d <- data.frame(a = rnorm(100), k = 1 / 3)
  d$y <- d$a + rnorm(100, sd = 0.1)
  # The mean of 1/3, as a sum over rows, rounds: the spread comes out
  # 5.6e-17, not 0.
  k <- d$k - sum(d$k) / 100
  expect_gt(sqrt(sum(k^2) / 100), 0)
  w <- runif(100)
  for (weights in list(NULL, w)) {
    set.seed(16)
    third <- mlp_train(d[c("a", "k")], d$y, weights = weights, output = "linear", loss = "mse",
                       optimizer = "adam", epochs = 5, scale = TRUE, threads = 1)
    expect_equal(unname(third$scaling$x$scale["k"]), Inf)
    # The network learnt nothing of the constant's other values: they move
    # no prediction (they moved it by its starting weights before).
    expect_warning(moved <- predict(third, data.frame(a = 0, k = 1 / 3 + c(0, 0.01, 10, -1e6))),
                   "3 rows to predict give another value to an input that was constant")
    expect_equal(moved[-1], rep(moved[1], 3))
  }
  # Through backprop()'s defaults, for any new value (pass 19: -3.8e-05,
  # -0.0064, -0.055 and 0.150 for k = 5, 5.5, 10 and 50).
  set.seed(1)
  five <- data.frame(a = rnorm(80), k = 5)
  five$y <- five$a^2
  fit <- backprop(y ~ a + k, five, threads = 1)
  expect_warning(moved <- predict(fit, data.frame(a = 0, k = c(5, 5.5, 10, 50)))[, 1],
                 "`k` \\(5\\)")
  expect_identical(unname(moved), rep(unname(moved[1]), 4))
  # A column that varies, however little against its size, is scaled by
  # its spread: microsecond timestamps spread over a millisecond.
  stamps <- 1.7e15 + seq(0, 990, by = 10)
  set.seed(16)
  timed <- mlp_train(data.frame(a = d$a, t = stamps), d$y, output = "linear", loss = "mse",
                     optimizer = "adam", epochs = 2, scale = TRUE, threads = 1)
  expect_equal(unname(timed$scaling$x$scale["t"]), sqrt(mean((stamps - mean(stamps))^2)))
  # Values a unit in the last place apart (row shares that sum to 1) are
  # constant too.
  shares <- rep(c(1, 1 - 1.1e-16), 50)
  set.seed(16)
  summed <- mlp_train(data.frame(a = d$a, total = shares), d$y, output = "linear", loss = "mse",
                      optimizer = "adam", epochs = 2, scale = TRUE, threads = 1)
  expect_equal(unname(summed$scaling$x$scale["total"]), Inf)
  # A mean past the doubles' range cannot be standardized.
  d$a[1:2] <- 1.5e308
  expect_snapshot(backprop(y ~ a + k, d, select = FALSE, threads = 1), error = TRUE)
})

test_that("a validation fraction's rows are left out of the scaling statistics", {
  set.seed(17)
  n <- 100
  x <- matrix(rnorm(2 * n), n)
  y <- x[, 1] + rnorm(n)
  w <- runif(n)
  set.seed(18)
  fit <- mlp_train(x, y, weights = w, output = "linear", loss = "mse", optimizer = "adam",
                   epochs = 3, scale = TRUE, validation = 0.3, threads = 1)
  train <- setdiff(seq_len(n), fit$held_out)
  # The statistics are the training rows' alone: the held-out rows pick the
  # epoch and calibrate the intervals.
  expect_equal(unname(fit$scaling$y$center), weighted.mean(y[train], w[train]))
  expect_equal(unname(fit$scaling$x$center), colSums(x[train, ] * w[train]) / sum(w[train]))
  expect_equal(unname(fit$scaling$x$scale[1]),
               sqrt(weighted.mean((x[train, 1] - fit$scaling$x$center[1])^2, w[train])))
  # The rows are drawn as before, after the starting weights.
  set.seed(18)
  unscaled <- mlp_train(x, y, weights = w, output = "linear", loss = "mse", optimizer = "adam",
                        epochs = 3, validation = 0.3, threads = 1)
  expect_equal(unscaled$held_out, fit$held_out)
})

test_that("scale = TRUE standardizes data of any magnitude alike", {
  set.seed(19)
  x <- matrix(runif(100), 50)
  y <- x[, 1] - x[, 2] + rnorm(50, sd = 0.1)
  fit_at <- function(x_size, y_size) {
    set.seed(20)
    mlp_train(x * x_size, y * y_size, output = "linear", loss = "mse", optimizer = "lbfgs",
              epochs = 20, scale = TRUE, threads = 1)
  }
  unit <- fit_at(1, 1)
  # Squared deviations of 1e-170 underflow to 0 and of 1e200 overflow: the
  # data would have been left unscaled (or refused), the fit flat.
  for (size in list(c(1e-170, 1e-170), c(1e200, 1), c(1, 1e-170))) {
    fit <- fit_at(size[1], size[2])
    expect_equal(unname(fitted(fit)) / size[2], unname(fitted(unit)), tolerance = 1e-8)
  }
})

test_that("a classifier's output gives probabilities", {
  x <- matrix(rnorm(60), 30)
  g <- factor(rep(c("a", "b", "c"), 10))
  # A linear output's standardized scores were read as probabilities.
  expect_snapshot({
    backprop(x, g, output = "linear", loss = "mse", threads = 1)
    mlp_train(x, g, output = "exp", loss = "mse", scale = TRUE)
  }, error = TRUE)
  set.seed(21)
  one_each <- mlp_train(x, g, output = "sigmoid", loss = "cross_entropy", epochs = 10, scale = TRUE)
  prob <- predict(one_each, x, type = "prob")
  expect_true(all(prob > 0 & prob < 1))
  expect_null(one_each$scaling$y)
})

test_that("a validation fraction holds out rows of positive weight, and a continued fit keeps its own", {
  set.seed(22)
  n <- 200
  x <- matrix(rnorm(2 * n), n, dimnames = list(paste0("r", 1:n), c("a", "b")))
  y <- x[, 1] - x[, 2] + rnorm(n, sd = 0.3)
  adam <- list(output = "linear", loss = "mse", optimizer = "adam", lr = 0.01, scale = TRUE,
               threads = 1)
  # Rows of weight 0 count nowhere: held out, they would score every epoch 0.
  w <- c(rep(0, 150), rep(1, 50))
  fit <- do.call(mlp_train, c(list(x, y, weights = w, epochs = 5, validation = 0.2), adam))
  expect_length(fit$held_out, 10)
  expect_true(all(fit$held_out > 150))
  expect_output(print(summary(fit)), "150 of weight 0, counted nowhere")
  # Continued on its rows, a fit keeps its validation rows, and calibrates
  # on them: none of them trained it.
  first <- do.call(mlp_train, c(list(x, y, epochs = 5, validation = 0.2), adam))
  more <- do.call(mlp_train, c(list(x, y, epochs = 5, validation = 0.2, init = first), adam))
  expect_equal(more$held_out, first$held_out)
  expect_equal(sort(more$calibration$folds[[1]]$y), sort(first$calibration$folds[[1]]$y))
  # On other rows the fraction may hold out rows it trained on: no
  # calibration from them, and split conformal is refused.
  other <- do.call(mlp_train, c(list(x[-1, ], y[-1], epochs = 5, validation = 0.2, init = first), adam))
  expect_null(other$calibration)
  expect_snapshot(do.call(mlp_train, c(list(x[-1, ], y[-1], epochs = 5, validation = 0.2,
                                            init = first, conformal = "split"), adam)),
                  error = TRUE)
})

test_that("constant_inputs() finds the columns one value on the rows and another among others", {
  naive <- function(x, rows, among) {
    which(vapply(seq_len(ncol(x)), function(j) {
      length(unique(x[rows, j])) == 1L && length(unique(x[among, j])) > 1L
    }, logical(1)))
  }
  for (seed in 1:60) {
    set.seed(seed)
    n <- sample(2:150, 1)
    d <- sample(1:8, 1)
    # Rare dummies, constants and numbers, in random columns.
    x <- sapply(seq_len(d), function(j) switch(sample(3, 1),
      as.numeric(seq_len(n) %in% sample(n, sample(0:2, 1))), rep(runif(1), n), rnorm(n)))
    x <- matrix(x, n)
    among <- sort(sample(n, sample(2:n, 1)))
    rows <- among[sample(length(among), sample(length(among), 1))]
    expect_equal(backprop:::constant_inputs(x, rows, among), naive(x, rows, among))
  }
})

test_that("a validation fraction leaves every class among the training rows", {
  # One row of class "c": drawn into the validation rows, the class trained
  # as absent, without a word (pass 22).
  d <- data.frame(a = rnorm(40), g = factor(c("c", rep(c("a", "b"), length.out = 39))))
  held <- vapply(1:12, function(seed) {
    set.seed(seed)
    fit <- mlp_train(g ~ a, d, hidden = 2, optimizer = "adam", epochs = 2, validation = 0.5,
                     scale = TRUE, threads = 1)
    expect_true(length(fit$held_out) %in% 19:20)
    1L %in% fit$held_out
  }, logical(1))
  expect_false(any(held))
})

test_that("one held-out row that training needs is swapped, and bootstrap bags keep every class", {
  d <- data.frame(a = rnorm(20), g = factor(c("c", rep(c("a", "b"), length.out = 19))))
  for (seed in 1:30) {
    set.seed(seed)
    fit <- mlp_train(g ~ a, d, hidden = 2, optimizer = "adam", epochs = 1, validation = 0.05,
                     scale = TRUE, threads = 1)
    expect_length(fit$held_out, 1L)
    expect_false(1L %in% fit$held_out)
  }
  target <- backprop:::as_target(d$g, nrow(d))
  classes <- backprop:::with_classes(NULL, target$y, target$levels)
  for (seed in 1:30) {
    set.seed(seed)
    counts <- backprop:::bootstrap_counts(as.matrix(d["a"]), NULL, classes)
    expect_gt(counts[1L], 0L)
  }
})

test_that("validation and bootstrap samples train every value of every input", {
  for (seed in 1:40) {
    set.seed(seed)
    n <- sample(10:120, 1)
    x <- cbind(rnorm(n), as.numeric(seq_len(n) %in% sample(n, sample(1:3, 1))),
               as.numeric(seq_len(n) %in% sample(n, 1)))
    weights <- if (seed %% 2 == 0) sample(0:2, n, replace = TRUE, prob = c(0.2, 0.4, 0.4))
    pool <- backprop:::validation_pool(weights, n)
    if (length(pool) < 5L) next
    varying <- backprop:::constant_inputs(x, pool[1L], pool)
    held <- backprop:::validation_draw(0.3, pool, x)
    expect_true(all(held %in% pool))
    expect_length(backprop:::constant_inputs(x, setdiff(pool, held), pool), 0L)
    # Only rows of the inputs' rare values go back, one per input.
    expect_gte(length(held), round(0.3 * length(pool)) - length(varying))
    counts <- backprop:::bootstrap_counts(x, weights)
    expect_length(backprop:::constant_inputs(x, pool[counts[pool] > 0], pool), 0L)
    expect_lte(sum(counts), n + ncol(x))
  }
  # A single held-out row that training needs is refused, by input.
  expect_snapshot(backprop:::validation_draw(0.25, 1:4, diag(4)), error = TRUE)
  # A draw that needs no change is the plain draw, from the same RNG.
  x <- cbind(rnorm(50), rep(0:1, 25))
  set.seed(3)
  held <- backprop:::validation_draw(0.2, seq_len(50), x)
  set.seed(3)
  expect_equal(held, sample.int(50, 10))
})

test_that("a level whose rows all are held out, out of bag or of weight 0 is not left untrained", {
  set.seed(1)
  n <- 60
  d <- data.frame(x = rnorm(n), g = factor(sample(c("a", "b"), n, TRUE), levels = c("a", "b", "c")))
  d$g[1:2] <- "c"
  d$y <- d$x + 2 * (d$g == "b") + 5 * (d$g == "c") + rnorm(n, sd = 0.1)
  new_rows <- data.frame(x = 0, g = factor("c", levels = c("a", "b", "c")))
  # Seeds whose validation draw held out both rows of "c": one comes back.
  for (seed in c(10, 14, 24)) {
    set.seed(seed)
    fit <- backprop(y ~ x + g, d, validation = 0.3, threads = 1)
    expect_false(all(c("1", "2") %in% names(fit$held_out)))
    expect_equal(predict(fit, new_rows)[, 1], 5, tolerance = 0.1, ignore_attr = TRUE)
  }
  # Every member of a bootstrap ensemble draws a row of a level of one row.
  d$g[2] <- "a"
  set.seed(3)
  fit <- backprop(y ~ x + g, d, ensemble = 5, bootstrap = TRUE, hidden = 3, select = FALSE,
                  threads = 1)
  truth <- d$y[1]
  for (member in fit$members) {
    one <- fit
    one$members <- NULL
    one[c("weights", "biases")] <- member[c("weights", "biases")]
    expect_equal(predict(one, d[1, ])[, 1], truth, tolerance = 0.5, ignore_attr = TRUE)
  }
  # Rows of weight 0 cannot train their level: refused; a continued fit's
  # weights for it are its own.
  weights <- rep(1, n)
  weights[1] <- 0
  expect_snapshot(backprop(y ~ x + g, d, weights = weights, threads = 1), error = TRUE)
  one <- backprop(y ~ x + g, d, hidden = 3, select = FALSE, threads = 1)
  again <- backprop(y ~ x + g, d, weights = weights, init = one, epochs = 0, threads = 1)
  expect_equal(predict(again, d[1, ]), predict(one, d[1, ]))
})

test_that("every level trains, the baseline too, whatever the interface", {
  set.seed(42)
  n <- 100
  g <- factor(c("A", "A", sample(c("B", "C"), n - 2, TRUE)), levels = c("A", "B", "C"))
  x <- rnorm(n)
  d <- data.frame(y = ifelse(g == "A", 5, ifelse(g == "B", 0, 1)) + 0.3 * x + rnorm(n, sd = 0.1),
                  g, x)
  new_rows <- data.frame(g = factor("A", levels = c("A", "B", "C")), x = 0)
  settings <- list(hidden = 3, epochs = 300, optimizer = "lbfgs", output = "linear", loss = "mse",
                   scale = TRUE, threads = 1)
  fit <- function(...) do.call(mlp_train, c(list(...), settings))
  # A validation draw that held out both rows of the baseline "A" gives
  # one back, for the formula and the data frame interfaces alike.
  set.seed(2)
  formula <- fit(y ~ g + x, data = d, validation = 0.3)
  expect_false(all(1:2 %in% formula$held_out))
  expect_equal(predict(formula, new_rows)[, 1], 5, tolerance = 0.05, ignore_attr = TRUE)
  set.seed(2)
  frame <- fit(d[c("g", "x")], d$y, validation = 0.3)
  expect_equal(frame$held_out, formula$held_out)
  # Rows of weight 0 alone holding the baseline are refused.
  expect_snapshot(fit(y ~ g + x, data = d, weights = ifelse(d$g == "A", 0, 1)), error = TRUE)
  # Every member of a bootstrap ensemble draws a row of "A".
  set.seed(3)
  ensemble <- fit(y ~ g + x, data = d, ensemble = 10, bootstrap = TRUE)
  for (member in ensemble$members) {
    one <- ensemble
    one$members <- NULL
    one[c("weights", "biases")] <- member[c("weights", "biases")]
    expect_equal(predict(one, new_rows)[, 1], 5, tolerance = 0.1, ignore_attr = TRUE)
  }
  # A recipe's step_dummy() levels are read from its indicator columns, so
  # that the steps before it (step_rm() of an id, step_other()) are seen.
  need_packages("recipes")
  d$id <- factor(seq_len(n))
  recipe <- recipes::recipe(y ~ g + x + id, data = d) |> recipes::step_rm(id) |>
    recipes::step_dummy(g)
  set.seed(2)
  cooked <- backprop(recipe, d, validation = 0.3, hidden = 3, select = FALSE, threads = 1)
  expect_false(all(1:2 %in% cooked$held_out))
  expect_length(cooked$held_out, 29L)
  # Indicators that step_normalize() rescaled still mark their levels.
  normalized <- recipe |> recipes::step_normalize(recipes::all_numeric_predictors())
  set.seed(2)
  cooked <- backprop(normalized, d, validation = 0.3, hidden = 3, select = FALSE, threads = 1)
  expect_false(all(1:2 %in% cooked$held_out))
})

test_that("an input ignored for being constant starts at weight 0, and a continued fit learns it", {
  set.seed(6)
  n <- 60
  d <- data.frame(a = rnorm(n), b = rnorm(n), k = 3)
  d$y <- sin(d$a) + d$b + rnorm(n, sd = 0.1)
  f <- mlp_train(y ~ a + b + k, d, hidden = 4, epochs = 200, optimizer = "adam", lr = 0.01,
                 output = "linear", scale = TRUE, threads = 1)
  # No effect, and none shown: its weights never trained (Garson's share
  # was 0.137 from them).
  expect_identical(f$x_names[3], "k")
  expect_equal(f$weights[[1]][3, ], rep(0, 4))
  garson <- mlp_importance(f, method = "garson")
  expect_equal(garson$importance[garson$variable == "k"], 0)
  # New rows where k varies and matters: the continued fit scales k by
  # them and learns it (R-squared 0.17 when k stayed ignored).
  d3 <- d
  d3$k <- rnorm(n)
  d3$y <- d3$y + 2 * d3$k
  same <- mlp_train(y ~ a + b + k, d3, init = f, epochs = 0, threads = 1)
  expect_warning(before <- predict(f, d3), "`k`")
  expect_equal(fitted(same), before, tolerance = 1e-12, ignore_attr = TRUE)
  more <- mlp_train(y ~ a + b + k, d3, init = f, epochs = 300, threads = 1)
  expect_true(is.finite(more$scaling$x$scale[["k"]]))
  expect_gt(1 - mean((d3$y - fitted(more)[, 1])^2) / var(d3$y), 0.9)
})

test_that("a continued fit's weight decay does not carry to or from Levenberg-Marquardt", {
  set.seed(4)
  n <- 200
  x <- matrix(rnorm(n * 2), n, 2)
  y <- sin(2 * x[, 1]) + x[, 2] + rnorm(n, sd = 0.1)
  set.seed(5)
  lm_fit <- mlp_train(x, y, hidden = 5, epochs = 50, output = "linear", optimizer = "lm",
                      weight_decay = 0.1, scale = TRUE, threads = 1)
  # LM's 0.1 is on the summed squares; on L-BFGS's mean loss it undid the
  # fit (R-squared 0.99 to 0.47).
  on <- mlp_train(x, y, init = lm_fit, epochs = 100, optimizer = "lbfgs", threads = 1)
  expect_equal(on$weight_decay, 0)
  expect_gt(1 - mean((y - fitted(on)[, 1])^2) / var(y), 0.98)
  # Kept with LM itself.
  expect_equal(mlp_train(x, y, init = lm_fit, epochs = 1, threads = 1)$weight_decay, 0.1)
})

test_that("validation rows of one class, or one row, are taken", {
  # Pass 25: refused as "`Y` is a factor with 1 observed class".
  set.seed(1)
  d <- data.frame(a = rnorm(90), b = rnorm(90))
  d$cl <- factor(ifelse(d$a > 0, "pos", "neg"), levels = c("neg", "pos", "none"))
  held <- d[1:30, ][d$cl[1:30] == "pos", ]
  fit <- backprop(cl ~ a + b, d[31:90, ], validation = held, hidden = 2, select = FALSE,
                  optimizer = "adam", epochs = 5, threads = 1)
  # Cross-entropy of the kept epoch's network on the held rows.
  p <- predict(fit, held, type = "prob")[, "pos"]
  expect_equal(fit$val_loss[fit$best_epoch], -mean(log(p)), tolerance = 1e-10)
  one <- backprop(d[31:90, c("a", "b")], d$cl[31:90], hidden = 2, select = FALSE, optimizer = "adam",
                  epochs = 5, threads = 1, validation = list(x = held[1, c("a", "b")], y = held$cl[1]))
  expect_length(one$val_loss, 5L)
  expect_snapshot(error = TRUE, {
    backprop(d[31:90, c("a", "b")], d$cl[31:90], hidden = 2, select = FALSE, threads = 1,
             validation = list(x = held[1:2, c("a", "b")], y = held$cl[1]))
  })
})

test_that("given validation rows that move an ignored input are said once", {
  # Pass 26: rows of `validation` were scored with such an input ignored,
  # without the word predict() says of the same rows.
  set.seed(1)
  d <- data.frame(a = rnorm(100), k = 1)
  d$y <- d$a^2 + rnorm(100, sd = 0.1)
  v <- data.frame(a = rnorm(20), k = c(1, rep(2, 19)))
  v$y <- v$a^2
  said <- character()
  keep <- function(w) {
    said <<- c(said, conditionMessage(w))
    invokeRestart("muffleWarning")
  }
  # backprop()'s search reads them once per candidate: one warning.
  withCallingHandlers(backprop(y ~ a + k, d, validation = v, threads = 1), warning = keep)
  expect_length(said, 1L)
  expect_match(said, "^19 rows of `validation` give another value .*`k` \\(1\\) \\(first: row \"2\"\\)")
  said <- character()
  withCallingHandlers(backprop(y ~ a + k, d, validation = 0.2, threads = 1), warning = keep)
  withCallingHandlers(backprop(y ~ a + k, d, validation = v[1, ], threads = 1), warning = keep)
  expect_length(said, 0L)
})
