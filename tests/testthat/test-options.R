# The training options of R/options.R: dropout, penalties, schedules,
# clipping, class weights, robust losses, the new activations and
# optimizers, and the callback.

reg_data <- function(n = 60, seed = 1) {
  withr::with_seed(seed, {
    x <- matrix(runif(n * 2, -1, 1), n)
    list(x = x, y = sin(2 * x[, 1]) + x[, 2] + rnorm(n, sd = 0.05))
  })
}

# Gradients agree: to 1e-5 relative where they are not tiny, to 1e-7 absolute
# everywhere (a zero gradient against a finite difference of 1e-11 has a
# relative error of 1).
expect_gradients_agree <- function(gc, label) {
  t <- gc$table
  big <- abs(t$backprop) > 1e-4
  expect_lt(max(t$rel_error[big]), 1e-5, label = label)
  expect_lt(gc$max_abs_error, 1e-7, label = label)
}

test_that("the R side's checks and the core's agree on every loss, output and optimizer", {
  # The R lists and rules derive from the core's vocabulary_(); the core
  # checks its configuration again (TrainConfig::check). A combination R
  # lets through that the core refuses would surface as an internal error.
  v <- backprop:::vocabulary
  expect_setequal(v$optimizers, c("gd", "sgd", "adam", "adamw", "rmsprop", "lm", "lbfgs"))
  expect_setequal(v$minibatch_optimizers, c("sgd", "adam", "adamw", "rmsprop"))
  expect_false(any(c("softmax", "exp") %in% v$hidden_activations))
  expect_identical(unname(v$default_lr[c("gd", "adam")]), c(0.1, 0.001))
  expect_identical(backprop:::option_defaults$momentum, 0.9)
  x <- matrix(c(0.1, 0.4, 0.8, 0.3, 0.9, 0.2), 3)
  y <- cbind(c(1, 0, 0), c(0, 1, 1))
  fitted <- refused <- 0
  for (optimizer in v$optimizers) for (loss in v$loss_functions) for (output in v$output_activations) {
    outcome <- tryCatch({
      # (Two epochs leave some outputs saturated, which warns.)
      suppressWarnings(mlp_train(x, y, hidden = 2, epochs = 2, optimizer = optimizer, loss = loss,
                                 output = output, init = "xavier", verbose = FALSE))
      "fitted"
    }, backprop_error = function(e) conditionMessage(e))
    trains <- output %in% v$loss_outputs[[loss]] && loss %in% v$optimizer_losses[[optimizer]] &&
      output %in% v$optimizer_outputs[[optimizer]]
    label <- paste(optimizer, loss, output)
    if (trains) {
      expect_identical(outcome, "fitted", label = label)
      fitted <- fitted + 1
    } else {
      expect_match(outcome, "^`(loss|optimizer) = ", label = label)
      refused <- refused + 1
    }
  }
  expect_gt(fitted, 100)
  expect_gt(refused, 30)
})

test_that("backpropagation matches finite differences for every activation and loss", {
  d <- reg_data(8)
  counts <- withr::with_seed(3, matrix(rpois(8, 3)))
  targets <- list(sse = matrix(d$y), mse = matrix(d$y), mae = matrix(d$y), huber = matrix(d$y),
                  quantile = matrix(d$y), cross_entropy = matrix(plogis(d$y)), poisson = counts)
  outputs <- c(sse = "linear", mse = "linear", mae = "linear", huber = "linear",
               quantile = "linear", cross_entropy = "sigmoid", poisson = "exp")
  for (act in backprop:::vocabulary$hidden_activations) {
    for (loss in names(targets)) {
      set.seed(11)
      # nnet's start has non-zero biases, so that no relu-like unit sits
      # exactly on its kink.
      gc <- mlp_gradcheck(d$x, targets[[loss]], hidden = c(4, 3), activation = act,
                          output = outputs[[loss]], loss = loss, init = "nnet",
                          huber_delta = if (loss == "huber") 0.3,
                          tau = if (loss == "quantile") 0.8)
      expect_gradients_agree(gc, paste(act, loss))
    }
  }
  # The penalties are part of the objective.
  set.seed(2)
  gc <- mlp_gradcheck(d$x, matrix(d$y), hidden = 3, activation = "silu", output = "linear",
                      loss = "mse", weight_decay = 0.1, l1 = 0.05, init = "nnet")
  expect_gradients_agree(gc, "elastic net")
})

test_that("dropout is reproducible from set.seed(), trains and is off in prediction", {
  d <- reg_data(80)
  fit_with <- function(seed, dropout) {
    set.seed(seed)
    mlp_train(d$x, d$y, hidden = 16, activation = "relu", output = "linear", loss = "mse",
              optimizer = "adam", epochs = 30, dropout = dropout, threads = 1)
  }
  a <- fit_with(5, 0.3)
  expect_identical(a$weights, fit_with(5, 0.3)$weights)
  expect_false(identical(a$weights, fit_with(6, 0.3)$weights))
  plain <- fit_with(5, 0)
  expect_false(identical(a$weights, plain$weights))
  # dropout = 0 takes no dropout path at all.
  set.seed(5)
  none <- mlp_train(d$x, d$y, hidden = 16, activation = "relu", output = "linear", loss = "mse",
                    optimizer = "adam", epochs = 30, threads = 1)
  expect_identical(plain$weights, none$weights)
  # The fit's output and predict() use the whole network.
  expect_equal(unname(a$output), unname(predict(a, d$x)), tolerance = 1e-12)
  expect_equal(a$options$dropout, 0.3)
  # One rate per hidden layer, full batch too.
  set.seed(1)
  deep <- mlp_train(d$x, d$y, hidden = c(8, 8), activation = "tanh", output = "linear",
                    loss = "mse", optimizer = "gd", lr = 0.005, epochs = 20, dropout = c(0.5, 0))
  expect_equal(deep$options$dropout, c(0.5, 0))
  expect_true(all(is.finite(deep$loss)))
})

test_that("the quantile loss puts the share tau of the rows below its fit", {
  set.seed(3)
  x <- matrix(runif(400))
  y <- 2 * x[, 1] + runif(400)
  for (tau in c(0.1, 0.9)) {
    set.seed(4)
    fit <- backprop(x, y, loss = "quantile", tau = tau, hidden = 5, threads = 1)
    below <- mean(y <= predict(fit, x))
    expect_gt(below, tau - 0.05)
    expect_lt(below, tau + 0.05)
  }
})

test_that("huber and mae resist outliers that pull mse away", {
  set.seed(8)
  x <- matrix(runif(300, -1, 1))
  y <- x[, 1] + rnorm(300, sd = 0.05)
  y[1:15] <- y[1:15] + 40
  err <- function(loss) {
    set.seed(9)
    fit <- backprop(x, y, loss = loss, hidden = 3, threads = 1)
    grid <- matrix(seq(-0.9, 0.9, length.out = 19))
    mean(abs(predict(fit, grid) - grid[, 1]))
  }
  mse <- err("mse")
  expect_lt(err("huber"), mse / 3)
  expect_lt(err("mae"), mse / 3)
})

test_that("the poisson loss fits a log-linear mean of counts", {
  set.seed(12)
  x <- matrix(runif(2000, -1, 1))
  mu <- exp(0.5 + 0.8 * x[, 1])
  y <- rpois(2000, mu)
  set.seed(13)
  fit <- backprop(x, y, loss = "poisson", hidden = 3, threads = 1)
  expect_equal(fit$output_activation, "exp")
  grid <- matrix(seq(-0.8, 0.8, by = 0.2))
  expect_equal(c(predict(fit, grid)), exp(0.5 + 0.8 * grid[, 1]), tolerance = 0.08)
  expect_snapshot(mlp_train(x, -y, loss = "poisson"), error = TRUE)
  expect_snapshot(mlp_train(x, y, loss = "poisson", output = "linear"), error = TRUE)
})

test_that("class weights are observation weights by class", {
  set.seed(1)
  idx <- c(1:50, 51:70, 101:150)
  x <- as.matrix(iris[idx, 1:4])
  y <- droplevels(iris$Species[idx])
  counts <- table(y)
  balanced_rows <- as.numeric(length(y) / (3 * counts[as.integer(y)]))
  fit <- function(...) {
    set.seed(2)
    backprop(x, y, hidden = 4, epochs = 30, threads = 1, ...)
  }
  expect_equal(fit(class_weights = "balanced")$weights, fit(weights = balanced_rows)$weights)
  named <- c(setosa = 1, versicolor = 3, virginica = 0.5)
  expect_equal(fit(class_weights = named)$weights,
               fit(weights = unname(named[as.character(y)]))$weights)
  # They multiply the observation weights.
  w <- rep(c(1, 2), length.out = length(y))
  expect_equal(fit(class_weights = named, weights = w)$weights,
               fit(weights = w * unname(named[as.character(y)]))$weights)
  expect_snapshot(fit(class_weights = c(setosa = 1, virginica = 2)), error = TRUE)
  expect_snapshot(mlp_train(x, x[, 1], class_weights = "balanced"), error = TRUE)
})

test_that("balanced class weights count rows as the observation weights count them", {
  idx <- c(1:50, 51:70, 101:150)
  x <- as.matrix(iris[idx, 1:4])
  y <- droplevels(iris$Species[idx])
  fit <- function(x, y, ...) {
    set.seed(2)
    mlp_train(x, y, hidden = 3, optimizer = "lbfgs", epochs = 20, scale = TRUE, threads = 1,
              verbose = FALSE, class_weights = "balanced", ...)
  }
  # Weight 0 on half the setosa rows is those rows dropped; weight 2 on the
  # versicolor rows is each of them twice.
  w <- ifelse(seq_along(y) <= 25, 0, ifelse(y == "versicolor", 2, 1))
  kept <- rep(seq_along(y), w)
  expect_equal(predict(fit(x, y, weights = w), x), predict(fit(x[kept, ], y[kept]), x),
               tolerance = 1e-6)
})

test_that("a schedule written as a function equals the built-in one", {
  d <- reg_data(40)
  run <- function(schedule, epochs = 20) {
    set.seed(7)
    mlp_train(d$x, d$y, hidden = 4, activation = "tanh", output = "linear", loss = "mse",
              optimizer = "sgd", lr = 0.05, epochs = epochs, lr_schedule = schedule, threads = 1)
  }
  step <- run("step")
  expect_identical(step$weights, run(function(e) 0.5^((e - 1) %/% 5))$weights)
  expect_equal(run("cosine")$weights, run(function(e) 0.5 * (1 + cos(pi * (e - 1) / 20)))$weights,
               tolerance = 1e-12)
  expect_false(identical(step$weights, run("constant")$weights))
  # Full-batch gd: the article's path takes the schedule too.
  set.seed(1)
  half <- mlp_train(article_X, article_Y, epochs = 50, lr_schedule = function(e) 0.5)
  set.seed(1)
  expect_equal(half$weights, mlp_train(article_X, article_Y, epochs = 50, lr = 0.05)$weights,
               tolerance = 1e-13)
  expect_snapshot(run(function(e) if (e == 3) NA else 1), error = TRUE)
  expect_snapshot(run("linear"), error = TRUE)
})

test_that("clipping, l1 and the new optimizers do what they say", {
  d <- reg_data(60)
  run <- function(...) {
    set.seed(3)
    mlp_train(d$x, d$y, hidden = 6, activation = "tanh", output = "linear", loss = "mse",
              epochs = 40, threads = 1, ...)
  }
  adam <- run(optimizer = "adam")
  # A norm no gradient reaches changes nothing; a small one changes the path.
  expect_identical(run(optimizer = "adam", clip_norm = 1e6)$weights, adam$weights)
  expect_false(identical(run(optimizer = "adam", clip_norm = 1e-3)$weights, adam$weights))
  # L1 shrinks the weights' absolute sum.
  abs_sum <- function(fit) sum(abs(unlist(fit$weights)))
  expect_lt(abs_sum(run(optimizer = "adam", l1 = 0.05, lr = 0.01)),
            abs_sum(run(optimizer = "adam", lr = 0.01)))
  # AdamW without decay is Adam; with it, it shrinks the weights apart from the gradient.
  expect_identical(run(optimizer = "adamw")$weights, adam$weights)
  expect_false(identical(run(optimizer = "adamw", weight_decay = 0.1)$weights,
                         run(optimizer = "adam", weight_decay = 0.1)$weights))
  rms <- run(optimizer = "rmsprop", lr = 0.01)
  expect_lt(tail(rms$loss, 1), rms$loss[1] / 2)
  expect_snapshot(run(optimizer = "lbfgs", dropout = 0.2), error = TRUE)
  # The second-order methods take their own steps: a learning rate given
  # to them would change nothing.
  expect_snapshot(run(optimizer = "lbfgs", lr = 0.5), error = TRUE)
  expect_snapshot(run(optimizer = "lm", lr = 0.5), error = TRUE)
  expect_snapshot(run(optimizer = "lm", l1 = 0.1), error = TRUE)
  expect_snapshot(run(optimizer = "adam", dropout = 1), error = TRUE)
})

test_that("the callback sees every k-th epoch, its losses and weights, and can stop", {
  d <- reg_data(50)
  seen <- list()
  watch <- function(epoch, loss, val_loss, weights) {
    seen[[length(seen) + 1L]] <<- list(epoch = epoch, loss = loss, val_loss = val_loss,
                                       weights = weights)
    "anything but TRUE continues"
  }
  set.seed(4)
  fit <- mlp_train(d$x, d$y, hidden = 5, activation = "tanh", output = "linear", loss = "mse",
                   optimizer = "adam", epochs = 12, validation = 0.2, callback = watch,
                   callback_every = 3, threads = 1)
  expect_equal(vapply(seen, `[[`, 0, "epoch"), c(3, 6, 9, 12))
  expect_equal(vapply(seen, `[[`, 0, "loss"), fit$loss[c(3, 6, 9, 12)])
  expect_equal(vapply(seen, `[[`, 0, "val_loss"), fit$val_loss[c(3, 6, 9, 12)])
  expect_equal(lapply(seen[[1]]$weights$weights, dim), lapply(fit$weights, dim))
  expect_equal(fit$status, "completed")
  # Through backprop()'s search and the refits of conformal = "cv", which
  # train quietly: callback_every went to them without its callback and
  # was refused there.
  seen <- list()
  set.seed(4)
  searched <- backprop(mpg ~ wt + hp, mtcars, epochs = 6, callback = watch, callback_every = 3,
                       conformal = "cv", conformal_folds = 2, threads = 1)
  # (Every start of the rule's restarts calls it.)
  epochs <- vapply(seen, `[[`, 0, "epoch")
  expect_equal(epochs, rep(c(3, 6), length(epochs) / 2))
  expect_gte(length(epochs), 2)
  # Without validation val_loss is NA; the last epoch's weights are the fit's.
  seen <- list()
  set.seed(4)
  fit <- mlp_train(article_X, article_Y, epochs = 30, callback = watch)
  expect_true(is.na(seen[[30]]$val_loss))
  expect_equal(seen[[30]]$weights$weights, fit$weights)
  # TRUE stops, on the small path too, without a warning.
  for (bias in c("column", "row")) {
    set.seed(1)
    expect_silent(stopped <- mlp_train(article_X, article_Y, epochs = 5000, bias = bias,
                                       callback = function(epoch, ...) epoch == 17))
    expect_equal(stopped$status, "stopped")
    expect_length(stopped$loss, 17)
    set.seed(1)
    expect_equal(stopped$weights, mlp_train(article_X, article_Y, epochs = 17, bias = bias)$weights)
  }
  expect_snapshot(mlp_train(article_X, article_Y, epochs = 10,
                            callback = function(epoch, ...) if (epoch == 4) stop("enough")),
                  error = TRUE)
  expect_snapshot(mlp_train(article_X, article_Y, callback = "print"), error = TRUE)
})

test_that("the options do not touch the article's defaults", {
  set.seed(42)
  plain <- mlp_train(article_X, article_Y, bias = "row")
  set.seed(42)
  explicit <- mlp_train(article_X, article_Y, bias = "row", dropout = 0, l1 = 0,
                        lr_schedule = "constant", clip_norm = NULL)
  expect_identical(plain$weights, explicit$weights)
  expect_identical(plain$output, explicit$output)
})

test_that("print() lists the training options in use", {
  set.seed(1)
  fit <- backprop(mpg ~ ., data = mtcars, optimizer = "adamw", weight_decay = 1e-3,
                  dropout = 0.2, lr_schedule = "cosine", clip_norm = 1, loss = "huber",
                  l1 = 1e-4, epochs = 20, threads = 1)
  expect_snapshot(print(fit))
})

test_that("every hidden activation computes its R transcription", {
  # Each activation written out in R, as ?mlp_train defines it.
  sigmoid <- function(z) 1 / (1 + exp(-z))
  softplus <- function(z) pmax(z, 0) + log1p(exp(-abs(z)))
  transcriptions <- list(
    sigmoid = sigmoid, tanh = tanh, relu = function(z) pmax(z, 0),
    leaky_relu = function(z) ifelse(z > 0, z, 0.01 * z), linear = identity,
    softplus = softplus, elu = function(z) ifelse(z > 0, z, exp(z) - 1),
    selu = function(z) 1.0507009873554805 * ifelse(z > 0, z, 1.6732632423543773 * (exp(z) - 1)),
    gelu = function(z) 0.5 * z * (1 + tanh(sqrt(2 / pi) * (z + 0.044715 * z^3))),
    silu = function(z) z * sigmoid(z), mish = function(z) z * tanh(softplus(z))
  )
  expect_setequal(names(transcriptions), backprop:::vocabulary$hidden_activations)
  d <- reg_data(30)
  for (act in backprop:::vocabulary$hidden_activations) {
    set.seed(4)
    fit <- mlp_train(d$x, d$y, hidden = 5, activation = act, output = "linear", loss = "mse",
                     optimizer = "adam", epochs = 3, threads = 1, verbose = FALSE)
    hidden <- transcriptions[[act]](d$x %*% fit$weights[[1]] + rep(fit$biases[[1]], each = nrow(d$x)))
    by_hand <- hidden %*% fit$weights[[2]] + fit$biases[[2]][1, 1]
    expect_equal(predict(fit, d$x), by_hand, tolerance = 1e-12, ignore_attr = TRUE, label = act)
  }
})

test_that("the option table's defaults pass its own checks and make the article's fit", {
  table <- backprop:::option_table
  for (name in names(table)) {
    default <- table[[name]]$default
    if (!is.null(default)) {
      expect_identical(table[[name]]$check(default, name), default, label = name)
    }
  }
  # NULL is "not given": the article's defaults, whatever the interface.
  set.seed(42)
  plain <- mlp_train(article_X, article_Y)
  set.seed(42)
  nulls <- do.call(mlp_train, c(list(article_X, article_Y),
                                stats::setNames(vector("list", length(table)), names(table))))
  expect_identical(plain$weights, nulls$weights)
  o <- plain$options
  expect_identical(o[c("hidden", "epochs", "lr", "bias", "activation", "optimizer", "init")],
                   list(hidden = 3, epochs = 5000, lr = 0.1, bias = "column",
                        activation = "sigmoid", optimizer = "gd", init = "article"))
  # An option that does not apply is an error naming it and what it needs,
  # unless its value asks for nothing.
  expect_arg_error(mlp_train(article_X, article_Y, momentum = 0.5, optimizer = "adam"),
                   "`momentum` needs `optimizer = \"sgd\"`")
  expect_arg_error(mlp_train(article_X, article_Y, tau = 0.2), "`tau` applies to `loss = \"quantile\"`")
  expect_arg_error(mlp_train(article_X, article_Y, huber_delta = 2, loss = "mse"),
                   "`huber_delta` applies to `loss = \"huber\"`")
  expect_no_error(mlp_train(article_X, article_Y, epochs = 1, dropout = 0, optimizer = "lbfgs"))
  # A default that is a setting is asked for when given: momentum = 0.9 with
  # "gd", the median (tau = 0.5) with the squared error, and five folds of
  # a calibration that is not cross-validation were dropped without a word.
  expect_arg_error(mlp_train(article_X, article_Y, momentum = 0.9), "`momentum` needs")
  expect_arg_error(mlp_train(article_X, article_Y, tau = 0.5), "`tau` applies")
  expect_arg_error(mlp_train(article_X, article_Y, huber_delta = 1, loss = "mse"), "`huber_delta` applies")
  expect_arg_error(mlp_train(article_X, article_Y, conformal_folds = 5), "`conformal_folds` applies")
  expect_no_error(mlp_train(article_X, article_Y, bias = "row", conformal = "none", epochs = 1))
  expect_arg_error(mlp_train(article_X, article_Y, callback_every = 1),
                   "`callback_every` says how often `callback` is called: give `callback` too.")
  # Every option whose default asks for nothing is accepted at it, whatever
  # else the fit is (L-BFGS from given weights, to which most of them do
  # not apply).
  neutral <- names(table)[vapply(table, function(row) isTRUE(row$neutral), NA)]
  expect_setequal(neutral, c("nesterov", "restarts", "ensemble", "bootstrap", "conformal",
                             "dropout", "l1", "lr_schedule", "precision"))
  for (name in setdiff(neutral, "l1")) {
    args <- c(list(article_X, article_Y, epochs = 1, optimizer = "lbfgs",
                   init = list(weights = list(matrix(0.1, 4, 3), matrix(0.1, 3, 1)),
                               biases = list(matrix(0, 1, 3), matrix(0, 1, 1)))),
              table[[name]]["default"] |> stats::setNames(name))
    expect_no_error(do.call(mlp_train, args))
  }
  expect_arg_error(mlp_train(article_X, article_Y, foo = 1), "mlp_train\\(\\) got `foo`")
  # A name given twice through `...` kept its first value, silently.
  expect_arg_error(backprop(mpg ~ wt, mtcars, hidden = 3, hidden = 5),
                   "backprop\\(\\) got `hidden` twice; give it once.")
  expect_arg_error(mlp_train(y ~ x, data.frame(x = 1:4, y = 0:3 / 3), epochs = 2, epochs = 3),
                   "mlp_train\\(\\) got `epochs` twice; give it once.")
})
