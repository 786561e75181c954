# backprop(): the modelling function, its defaults' rule and its interfaces.

test_that("backprop() classifies iris well with no tuning, as class and prob", {
  set.seed(1)
  idx <- sample(nrow(iris), 100)
  fit <- backprop(Species ~ ., iris[idx, ])
  cls <- predict(fit, iris[-idx, ], type = "class")
  expect_s3_class(cls, "factor")
  expect_equal(levels(cls), levels(iris$Species))
  expect_gte(mean(cls == iris$Species[-idx]), 0.9)
  prob <- predict(fit, iris[-idx, ], type = "prob")
  expect_equal(colnames(prob), levels(iris$Species))
  expect_equal(rowSums(prob), rep(1, 50), tolerance = 1e-12, ignore_attr = TRUE)
  expect_equal(fit$output_activation, "softmax")
  expect_equal(fit$loss_function, "cross_entropy")
})

test_that("a numeric response is standardized inside and predicted in its units", {
  set.seed(2)
  n <- 300
  d <- data.frame(a = runif(n, 0, 100), b = rnorm(n, 50, 10))
  d$y <- 1000 + 5 * d$a + 0.2 * (d$b - 50)^2 + rnorm(n, sd = 5)
  fit <- backprop(y ~ ., d[1:200, ])
  expect_equal(fit$output_activation, "linear")
  expect_equal(unname(fit$scaling$y$center), mean(d$y[1:200]))
  pred <- predict(fit, d[201:300, ])[, 1]
  # Far better than the mean, in the response's units.
  expect_lt(sqrt(mean((pred - d$y[201:300])^2)), 0.15 * sd(d$y))
  expect_equal(fitted(fit)[, 1] + residuals(fit)[, 1], d$y[1:200], ignore_attr = TRUE)
  # The article's function, given the same data, warns that it cannot fit it.
  expect_warning(mlp_train(y ~ ., d[1:50, ], epochs = 20), "outside \\[0, 1\\].*backprop\\(\\)")
})

test_that("the defaults' rule follows the data's shape, and given arguments win", {
  k <- backprop:::rule_constants
  # A small numeric response: L-BFGS, restarts, and LM with a weak decay
  # against L-BFGS with stronger ones.
  small <- backprop_defaults(500, inputs = 3)
  expect_equal(small$optimizer, "lbfgs")
  expect_equal(small$hidden, k$units)
  expect_equal(small$restarts, k$restarts)
  expect_null(small$validation)
  expect_equal(vapply(small$candidates, `[[`, "", "optimizer"),
               c("lm", rep("lbfgs", length(k$lm_lbfgs_decays))))
  expect_equal(vapply(small$candidates, `[[`, 0, "weight_decay"), c(k$lm_decay, k$lm_lbfgs_decays))
  expect_equal(small$selection$folds, 1)
  expect_equal(backprop_defaults(100, inputs = 3)$selection$folds, k$cv_folds)
  # Many rows per parameter: LM alone, with fewer steps as each costs more.
  many_rows <- backprop_defaults(20000, inputs = 6)
  expect_equal(many_rows$optimizer, "lm")
  expect_length(many_rows$candidates, 0)
  expect_equal(many_rows$epochs, k$lm_epochs[1])
  expect_equal(small$candidates[[1]]$epochs, k$lm_epochs[2])
  # Classes set the units; classification never takes LM.
  many <- backprop_defaults(2000, inputs = 20, classes = 11)
  expect_equal(many$hidden, 11 * k$units_per_class)
  expect_equal(many$optimizer, "lbfgs")
  expect_equal(many$restarts, 1)
  expect_equal(vapply(many$candidates, `[[`, 0, "weight_decay"), k$decays)
  expect_null(many$candidates[[1]]$optimizer)
  # Much work per pass: Adam with early stopping, nothing to select.
  large <- backprop_defaults(8000, inputs = 16, classes = 26)
  expect_equal(large$optimizer, "adam")
  expect_equal(large$activation, "relu")
  expect_equal(large$init, "he")
  expect_equal(large$precision, "single")
  expect_equal(large$hidden, max(k$adam_units, 26 * k$units_per_class))
  expect_gt(large$validation, 0)
  expect_length(large$candidates, 0)

  set.seed(3)
  fit <- backprop(mpg ~ wt + hp, mtcars, hidden = 4, optimizer = "adam", epochs = 30)
  expect_equal(fit$sizes, c(2, 4, 1))
  expect_equal(fit$optimizer, "adam")
  expect_length(fit$loss, 30)
  # A chosen activation takes its own starting weights.
  fit <- backprop(mpg ~ wt + hp, mtcars, activation = "relu", epochs = 5)
  expect_equal(fit$init, "he")
  expect_arg_error(backprop(mpg ~ ., mtcars, colour = "red"), "backprop\\(\\) got `colour` it does not know")
  expect_arg_error(backprop_defaults(0), "`rows`")
  expect_arg_error(backprop_defaults(10, classes = 1), "`classes` must be 0 .* or at least 2, not 1")
  expect_arg_error(backprop_defaults(10, inputs = 0), "`inputs`")
})

test_that("the Adam branch early-stops on a validation split and restores the best epoch", {
  set.seed(4)
  n <- 12000
  x <- matrix(rnorm(n * 3), n)
  # 26 classes: enough work per pass for the rule to take Adam.
  y <- cut(x[, 1] + 0.5 * x[, 2] + rnorm(n, sd = 0.05), 26, labels = letters)
  expect_equal(backprop_defaults(n, 3, 26)$optimizer, "adam")
  fit <- backprop(x, y, epochs = 30)
  expect_equal(fit$optimizer, "adam")
  expect_null(fit$selection)
  expect_equal(fit$n, round(0.9 * n))
  expect_length(fit$held_out, n - fit$n)
  expect_equal(fit$best_epoch, which.min(fit$val_loss))
  expect_gt(mean(predict(fit, x, type = "class") == y), 0.6)
})

test_that("x/y, formula and recipe interfaces agree", {
  set.seed(5)
  fx <- backprop(mtcars[, c("wt", "hp")], mtcars$mpg)
  set.seed(5)
  ff <- backprop(mpg ~ wt + hp, mtcars)
  expect_equal(fx$weights, ff$weights)
  expect_equal(predict(fx, mtcars[1:3, ]), predict(ff, mtcars[1:3, ]), ignore_attr = TRUE)
  skip_if_not_installed("recipes")
  rec <- recipes::recipe(mpg ~ wt + hp, data = mtcars)
  set.seed(5)
  fr <- backprop(rec, mtcars)
  expect_equal(fr$weights, ff$weights)
  expect_equal(predict(fr, mtcars[1:3, ]), predict(ff, mtcars[1:3, ]), ignore_attr = TRUE)
  rec_chr <- recipes::recipe(Species ~ ., data = transform(iris, g = as.character(Species)))
  expect_arg_error(backprop(rec_chr, transform(iris, g = as.character(Species))),
                   "must turn every predictor numeric")
})

test_that("a data-frame x predicts from new data frames by column name", {
  set.seed(6)
  d <- data.frame(a = runif(50), b = runif(50), g = factor(sample(c("u", "v"), 50, TRUE)))
  y <- d$a - d$b + (d$g == "v")
  fit <- backprop(d, y)
  new <- data.frame(extra = factor("q"), g = factor("v", levels = c("v", "u")), b = 0.2, a = 0.5,
                    other = "ignored")
  expect_equal(predict(fit, new), predict(fit, data.frame(a = 0.5, b = 0.2, g = "v")), ignore_attr = TRUE)
  numeric_fit <- backprop(d[c("a", "b")], y)
  expect_equal(predict(numeric_fit, new), predict(numeric_fit, cbind(a = 0.5, b = 0.2)), ignore_attr = TRUE)
  expect_arg_error(predict(numeric_fit, data.frame(a = 1)), "`newdata` lacks the training column `b`")
})

test_that("ordered, logical and unused-level responses stay what they are", {
  set.seed(7)
  x <- matrix(runif(300), 150)
  lev <- c("low", "mid", "high", "never")
  y <- factor(lev[1 + (x[, 1] + x[, 2] > 0.7) + (x[, 1] + x[, 2] > 1.3)], levels = lev, ordered = TRUE)
  fit <- backprop(x, y)
  cls <- predict(fit, x, type = "class")
  expect_true(is.ordered(cls))
  expect_equal(levels(cls), lev)
  expect_equal(ncol(predict(fit, x, type = "prob")), 4)
  expect_gt(mean(cls == y), 0.85)
  yl <- x[, 1] > 0.5
  fl <- backprop(x, yl)
  expect_type(predict(fl, x, type = "class"), "logical")
  expect_gt(mean(predict(fl, x, type = "class") == yl), 0.9)
  expect_arg_error(backprop(x, factor(rep("a", 150), levels = c("a", "b"))),
                   "1 observed class; classification needs at least 2")
})

test_that("a logical response is a classifier as a vector, a column or a data frame", {
  set.seed(8)
  x <- data.frame(a = rnorm(60), b = rnorm(60))
  yes <- x$a + rnorm(60, sd = 0.5) > 0
  fits <- lapply(list(yes, as.matrix(yes), data.frame(yes)), function(y) {
    set.seed(9)
    backprop(x, y, hidden = 3, threads = 1)
  })
  for (fit in fits[-1]) {
    expect_equal(fit$levels, c("FALSE", "TRUE"))
    expect_equal(predict(fit, x, type = "prob"), predict(fits[[1]], x, type = "prob"))
  }
  expect_snapshot(backprop(x, cbind(yes, !yes), threads = 1), error = TRUE)
})

test_that("backprop() warns of a fit its given settings ruined, as mlp_train() does", {
  set.seed(10)
  d <- data.frame(a = rnorm(60), b = runif(60))
  d$y <- d$a + 2 * d$b + rnorm(60, sd = 0.3)
  set.seed(3)
  # Summed gradients at lr 0.1 over 60 rows diverge.
  expect_snapshot(diverged <- backprop(y ~ a + b, d, optimizer = "gd", epochs = 30, select = FALSE,
                                       threads = 1))
  expect_gt(max(abs(fitted(diverged))), 1e10)
  d$y <- 50 + 10 * d$a
  expect_warning(backprop(y ~ a + b, d, output = "sigmoid", threads = 1),
                 "lies outside \\[0, 1\\]")
  # The defaults' fit of the same data says nothing, nor does a Poisson
  # fit whose rates all lie above 1 (an exp output does not saturate).
  expect_no_warning(backprop(y ~ a + b, d, threads = 1))
  d$count <- rpois(60, exp(1.5 + d$b))
  expect_no_warning(backprop(count ~ b, d, loss = "poisson", threads = 1))
  # A data loss that rose is suspect for a given optimizer or learning
  # rate; under backprop()'s own choice it is its search's strong decay.
  rose <- list(status = "completed", y = matrix(0:1), output = matrix(c(0.2, 0.8)),
               output_activation = "linear", loss = c(1, 2))
  expect_no_warning(backprop:::warn_if_wrong_tool(rose, "backprop", list()))
  expect_warning(backprop:::warn_if_wrong_tool(rose, "backprop", list(lr = 0.1)), "did not fall")
  # Under a penalty a modest rise is the penalty's; a tenfold one is not.
  rose$weight_decay <- 1
  expect_no_warning(backprop:::warn_if_wrong_tool(rose, "backprop", list(optimizer = "lbfgs")))
  rose$loss <- c(1, 20)
  expect_warning(backprop:::warn_if_wrong_tool(rose, "backprop", list()), "did not fall")
})

test_that("weights of the wrong length or with NA are refused before the search", {
  x <- matrix(rnorm(40), 20)
  expect_snapshot({
    backprop(x, rnorm(20), weights = runif(19), threads = 1)
    backprop(x, rnorm(20), weights = c(NA, runif(19)), threads = 1)
  }, error = TRUE)
})

test_that("weights work in backprop(): zero-weight rows are ignored", {
  d <- mtcars
  w <- rep(1, nrow(d))
  w[1:5] <- 0
  set.seed(8)
  fw <- backprop(mpg ~ wt + hp, d, weights = w)
  expect_equal(weights(fw), w, ignore_attr = TRUE)
  expect_equal(nobs(fw), nrow(d) - 5)
})

test_that("backprop() does not modify the caller's data", {
  d <- mtcars
  d0 <- d
  x <- as.matrix(d[, -1])
  x0 <- x
  backprop(mpg ~ ., d)
  backprop(x, d$mpg)
  expect_identical(d, d0)
  expect_identical(x, x0)
})

test_that("backprop() errors name the argument and the fix", {
  expect_snapshot(error = TRUE, {
    backprop(mpg ~ ., "mtcars")
    backprop(as.matrix(mtcars))
    backprop(mpg ~ ., mtcars, hidden = -1)
    backprop(mpg ~ ., mtcars, weights = rep(-1, 32))
  })
})

test_that("dropout or lr without an optimizer trains the rule's network by Adam", {
  # The once-per-session flag, cleared so that this test sees the message.
  notices <- backprop:::session_notices
  rm(list = ls(notices), envir = notices)
  k <- backprop:::rule_constants
  set.seed(11)
  expect_snapshot(fit <- backprop(Species ~ ., iris, dropout = 0.1, threads = 1))
  expect_equal(fit$optimizer, "adam")
  expect_equal(fit$options$dropout, 0.1)
  expect_equal(c(fit$lr, fit$epochs), c(k$adam_lr, k$adam_epochs))
  expect_length(fit$held_out, round(k$adam_validation * nrow(iris)))
  # The rule's network for the shape stays; the decay is still selected, on
  # the validation rows, among the candidates' decays alone.
  expect_equal(c(fit$hidden, fit$activation), c(max(k$units, 3 * k$units_per_class), "tanh"))
  expect_named(fit$selection$table, c("weight_decay", "score", "chosen"))
  expect_match(fit$selection$method, "validation")
  expect_gt(mean(predict(fit, iris, type = "class") == iris$Species), 0.9)
  # Once per session: not again, for dropout = 0 or for a learning rate.
  expect_no_message(zero <- backprop(Species ~ ., iris, dropout = 0, threads = 1))
  expect_equal(zero$optimizer, "adam")
  d <- mtcars
  expect_no_message(lr <- backprop(mpg ~ wt + hp, d, lr = 0.01, threads = 1, select = FALSE))
  expect_equal(c(lr$optimizer, lr$lr), c("adam", 0.01))
  # The message for a learning rate, of its class.
  rm(list = ls(notices), envir = notices)
  expect_message(backprop(mpg ~ wt + hp, d, lr = 0.01, epochs = 5, threads = 1),
                 "learning rate", class = "backprop_first_order")
  # A given optimizer is kept, and says nothing; one that takes its own
  # steps refuses a learning rate.
  rm(list = ls(notices), envir = notices)
  expect_error(backprop(mpg ~ wt + hp, d, lr = 0.5, optimizer = "lbfgs", threads = 1),
               "`optimizer = \"lbfgs\"` takes its own steps", fixed = TRUE)
  expect_no_message(rms <- backprop(mpg ~ wt + hp, d, dropout = 0.1, optimizer = "rmsprop", threads = 1))
  expect_equal(rms$optimizer, "rmsprop")
  # Nor does data whose rule is Adam already.
  expect_equal(backprop_defaults(20000, 10)$optimizer, "adam")
  # Where the rule compares no decays (LM alone, on many rows of a numeric
  # response), the decay is Adam's, not LM's.
  lm_alone <- backprop_defaults(20000, 2)
  expect_equal(c(lm_alone$optimizer, length(lm_alone$candidates)), c("lm", "0"))
  rm(list = ls(notices), envir = notices)
  switched <- suppressMessages(backprop:::first_order_shape(lm_alone, list(dropout = 0.1)))
  expect_equal(c(switched$optimizer, switched$weight_decay), c("adam", k$adam_decay))
})

test_that("a given first-order optimizer takes first-order epochs, not a second-order rule's", {
  k <- backprop:::rule_constants
  # L-BFGS's iteration cap was RMSprop's epochs; LM's steps and its decay
  # on the summed squares were Adam's (audit 22).
  set.seed(12)
  rms <- backprop(mpg ~ wt + hp, mtcars, optimizer = "rmsprop", threads = 1)
  expect_equal(c(rms$optimizer, rms$epochs, rms$lr), c("rmsprop", max(k$lbfgs_epochs, k$adam_epochs), 0.001))
  expect_true(rms$weight_decay %in% c(k$decays, k$lm_decay, k$lm_lbfgs_decays))
  lm_alone <- backprop_defaults(20000, 2)
  for (optimizer in c("adam", "sgd", "gd")) {
    shape <- backprop:::first_order_shape(lm_alone, list(optimizer = optimizer))
    expect_equal(c(shape$epochs, shape$weight_decay), c(k$adam_epochs, k$adam_decay))
  }
  # L-BFGS took LM's steps and its decay on the summed squares too.
  lbfgs <- backprop:::first_order_shape(lm_alone, list(optimizer = "lbfgs"))
  expect_equal(c(lbfgs$epochs, lbfgs$weight_decay), c(k$lbfgs_epochs, k$decay))
  # Given epochs are the user's; the rule's own optimizer keeps its settings.
  set.seed(12)
  expect_equal(backprop(mpg ~ wt + hp, mtcars, optimizer = "adam", epochs = 7, threads = 1)$epochs, 7)
  expect_identical(backprop:::first_order_shape(lm_alone, list(optimizer = "lm")), lm_alone)
})

test_that("a given weight decay leaves Levenberg-Marquardt out of the search", {
  set.seed(1)
  n <- 150
  d <- data.frame(x1 = runif(n, -2, 2))
  d$y <- sin(2 * d$x1) + rnorm(n, sd = 0.05)
  # The rule's search compares LM with L-BFGS here.
  set.seed(4)
  free <- backprop(y ~ x1, d, hidden = 5, threads = 1)
  expect_true("lm" %in% free$selection$table$optimizer)
  # A decay of 1 on the mean loss flattens this network (L-BFGS); LM took
  # it against the summed squares, 150 times weaker, and won the search:
  # a tuning grid's decays were on two scales (pass 20).
  for (decay in c(0.001, 0.1, 1)) {
    set.seed(4)
    fit <- backprop(y ~ x1, d, hidden = 5, weight_decay = decay, threads = 1)
    expect_identical(fit$optimizer, "lbfgs")
    expect_identical(fit$weight_decay, decay)
  }
  expect_gt(sqrt(mean((fitted(fit)[, 1] - d$y)^2)), 0.5)
})
