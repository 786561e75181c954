# mlp_importance() and mlp_partial(), on data whose truth is known.

# y rises with x1 (a monotone, bent effect); x2, x3, x4 are noise. `class`
# is TRUE where x1 + noise > 0.
truth_data <- function(n, seed) {
  set.seed(seed)
  d <- data.frame(x1 = runif(n, -2, 2), x2 = runif(n, -2, 2), x3 = rnorm(n), x4 = rnorm(n))
  d$y <- 2 * tanh(d$x1) + 0.5 * d$x1 + rnorm(n, sd = 0.2)
  d$class <- factor(d$x1 + rnorm(n, sd = 0.3) > 0, labels = c("no", "yes"))
  d
}
train_rows <- truth_data(500, 1)
test_rows <- truth_data(300, 2)

fit_regression <- function() {
  set.seed(3)
  backprop(y ~ x1 + x2 + x3 + x4, train_rows)
}
fit_classifier <- function() {
  set.seed(4)
  backprop(class ~ x1 + x2 + x3 + x4, train_rows)
}

test_that("the informative variable ranks first under every method", {
  reg <- fit_regression()
  cls <- fit_classifier()
  set.seed(5)
  for (method in c("permutation", "garson", "olden")) {
    imp <- mlp_importance(reg, test_rows, method = method, repeats = 5)
    expect_equal(imp$variable[1], "x1", label = paste("regression,", method))
    imp <- mlp_importance(cls, test_rows, method = method, repeats = 5)
    expect_equal(imp$variable[1], "x1", label = paste("classifier,", method))
  }
  # x1's rise is many standard errors above the noise variables'.
  imp <- mlp_importance(reg, test_rows, repeats = 5)
  expect_gt(imp$importance[1], 1)
  expect_true(all(abs(imp$importance[-1]) < 0.1))
  expect_true(all(imp$importance[1] - 3 * imp$std_error[1] > imp$importance[-1] + 3 * imp$std_error[-1]))
  # Olden's sign follows the effect: rising for y, and for class "yes".
  olden <- mlp_importance(reg, method = "olden")
  expect_gt(olden$importance[olden$variable == "x1"], 0)
  olden <- mlp_importance(cls, method = "olden")
  expect_named(olden, c("variable", "output", "importance"))
  expect_gt(olden$importance[olden$variable == "x1" & olden$output == "yes"], 0)
  expect_lt(olden$importance[olden$variable == "x1" & olden$output == "no"], 0)
})

test_that("permutation importance is the mean rise of the error over shuffles", {
  reg <- fit_regression()
  set.seed(9)
  imp <- mlp_importance(reg, test_rows, repeats = 3, metric = "mae")
  expect_s3_class(imp, "mlp_importance")
  expect_equal(attr(imp, "metric"), "mae")
  mae <- function(d) mean(abs(predict(reg, d)[, 1] - d$y))
  expect_equal(attr(imp, "baseline"), mae(test_rows))
  # The same shuffles, written out: variables in order, repeats within.
  set.seed(9)
  rises <- sapply(c("x1", "x2", "x3", "x4"), function(v) {
    sapply(1:3, function(r) {
      d <- test_rows
      d[[v]] <- d[[v]][sample.int(nrow(d))]
      mae(d) - mae(test_rows)
    })
  })
  expected <- colMeans(rises)
  expect_equal(imp$importance, unname(sort(expected, decreasing = TRUE)))
  expect_equal(imp$std_error[match(names(expected), imp$variable)],
               unname(apply(rises, 2, sd) / sqrt(3)))
  # The caller's data are not changed, and set.seed() repeats the draws.
  copy <- test_rows
  set.seed(9)
  again <- mlp_importance(reg, test_rows, repeats = 3, metric = "mae")
  expect_identical(test_rows, copy)
  expect_identical(again, imp)
})

test_that("permutation counts several outputs alike, whatever their units", {
  set.seed(1)
  d <- data.frame(a = rnorm(200), b = rnorm(200))
  d$u <- sin(2 * d$a) + rnorm(200, sd = 0.05)
  d$v <- 100 * d$b + rnorm(200, sd = 5)
  set.seed(2)
  fit <- backprop(cbind(u, v) ~ a + b, d, hidden = 4, select = FALSE, threads = 1)
  # In raw units v's errors (of spread 100) drowned u's: a, which alone
  # drives u, ranked as irrelevant (0.26 against 99; pass 22).
  set.seed(3)
  imp <- mlp_importance(fit, d, repeats = 3)
  by_name <- stats::setNames(imp$importance, imp$variable)
  expect_gt(by_name[["a"]], 0.3 * by_name[["b"]])
  # Each output's errors are in units of its standard deviation in data.
  shuffled <- d
  set.seed(4)
  shuffled$a <- sample(shuffled$a)
  spread <- function(v) sqrt(mean((v - mean(v))^2))
  e <- sweep(predict(fit, shuffled) - as.matrix(d[c("u", "v")]), 2, c(spread(d$u), spread(d$v)), "/")
  e0 <- sweep(predict(fit, d) - as.matrix(d[c("u", "v")]), 2, c(spread(d$u), spread(d$v)), "/")
  expect_equal(attr(imp, "baseline"), sqrt(mean(rowMeans(e0^2))), tolerance = 1e-12)
  expect_gt(sqrt(mean(rowMeans(e^2))), 2 * attr(imp, "baseline"))
  # A constant output, with weights whose mean rounding leaves off it,
  # counts in its own units: not divided by a spread of 1e-16.
  small <- d[1:49, ]
  small$k <- 0.7
  small$w <- rep(c(0.7, 0.2, 0.1, 3, 1.5, 0.25, 2), 7)
  expect_gt(sqrt(stats::weighted.mean((small$k - stats::weighted.mean(small$k, small$w))^2, small$w)), 0)
  set.seed(2)
  constant <- backprop(cbind(u, k) ~ a + b, small, weights = w, hidden = 4, select = FALSE, threads = 1)
  set.seed(3)
  expect_lt(attr(mlp_importance(constant, small, repeats = 2), "baseline"), 1)
})

test_that("partial dependence takes the levels the data hold", {
  d <- data.frame(a = rnorm(60), g = factor(rep(c("u", "v"), 30), levels = c("u", "v", "w")))
  d$y <- d$a + (d$g == "v") + rnorm(60, sd = 0.1)
  fit <- backprop(y ~ a + g, d, hidden = 2, select = FALSE, epochs = 10, threads = 1)
  # "w" had no training rows: predicting it is refused, so it is no grid value.
  pd <- mlp_partial(fit, d, "g")
  expect_equal(as.character(pd$value), c("u", "v"))
  # A trained level the data do not hold is one.
  expect_equal(as.character(mlp_partial(fit, d[d$g == "u", ], "g")$value), c("u", "v"))
  # So for a character column (pass 24: the data's one value), and a
  # number the formula makes a factor takes its trained levels (its
  # quantiles, as 2.42, were refused as levels with no training rows).
  # (Unequal counts, so that k's quantiles are not its levels.)
  set.seed(1)
  e <- data.frame(a = rnorm(60), k = rep(c(1, 2, 4), c(7, 40, 13)), ch = rep(c("u", "v"), 30))
  e$y <- e$a + e$k + (e$ch == "v") + rnorm(60, sd = 0.1)
  fit <- backprop(y ~ a + factor(k) + ch, e, hidden = 2, select = FALSE, epochs = 10, threads = 1)
  expect_equal(mlp_partial(fit, e[e$ch == "u", ], "ch")$value, c("u", "v"))
  k <- mlp_partial(fit, e, "k")
  expect_equal(k$value, c(1, 2, 4))
  expect_equal(k$yhat[2], mean(predict(fit, transform(e, k = 2))[, 1]))
  expect_equal(mlp_partial(fit, e, "k", grid = c(4, 1))$value, c(1, 4))
  # Whatever term makes the factor (the review: factor(k, levels =) gave a
  # NaN point, base::factor(k) was refused, factor(ch) took the data's
  # values), and for a parsnip fit as for the network.
  others <- backprop(y ~ a + factor(k, levels = c(4, 2, 1)) + base::factor(ch), e, hidden = 2,
                     select = FALSE, epochs = 10, threads = 1)
  expect_equal(mlp_partial(others, e[e$k == 2, ], "k")$value, c(1, 2, 4))
  expect_equal(mlp_partial(others, e[e$ch == "u", ], "ch")$value, c("u", "v"))
  expect_false(anyNA(mlp_partial(others, e, "k")$yhat))
  need_packages("parsnip")
  spec <- parsnip::mlp(hidden_units = 2, epochs = 10) |>
    parsnip::set_engine("backprop", threads = 1, select = FALSE) |> parsnip::set_mode("regression")
  wrapped <- parsnip::fit(spec, y ~ a + factor(k) + ch, e)
  expect_equal(mlp_partial(wrapped, e, "k")$value, c(1, 2, 4))
  expect_equal(mlp_partial(wrapped, e[e$ch == "u", ], "ch")$value, c("u", "v"))
})

test_that("Garson's and Olden's measures match their formulas", {
  set.seed(10)
  fit <- mlp_train(as.matrix(train_rows[1:4]), train_rows$y, hidden = 3, output = "linear",
                   activation = "tanh", scale = TRUE, optimizer = "lbfgs", epochs = 50)
  w <- fit$wh
  v <- fit$wout[, 1]
  # Olden and Jackson (2002): sum over hidden units of the products.
  olden <- mlp_importance(fit, method = "olden")
  expect_equal(olden$importance[match(c("x1", "x2", "x3", "x4"), olden$variable)],
               unname(drop(w %*% v)))
  # Goh (1995): shares per hidden unit, summed, scaled to one.
  products <- abs(w) * rep(abs(v), each = 4)
  shares <- products / rep(colSums(products), each = 4)
  garson <- mlp_importance(fit, method = "garson")
  expect_equal(garson$importance[match(c("x1", "x2", "x3", "x4"), garson$variable)],
               unname(rowSums(shares) / sum(shares)))
  expect_equal(sum(garson$importance), 1)
})

test_that("an ensemble's Garson and Olden measures are its members' averages", {
  set.seed(11)
  fit <- backprop(as.matrix(train_rows[1:4]), train_rows$y, hidden = 3, ensemble = 3,
                  conformal = "none", threads = 1)
  expect_length(fit$members, 3)
  olden_of <- function(m) drop(m$weights[[1]] %*% m$weights[[2]][, 1])
  garson_of <- function(m) {
    products <- abs(m$weights[[1]]) * rep(abs(m$weights[[2]][, 1]), each = 4)
    shares <- products / rep(colSums(products), each = 4)
    rowSums(shares) / sum(shares)
  }
  olden <- mlp_importance(fit, method = "olden")
  garson <- mlp_importance(fit, method = "garson")
  inputs <- c("x1", "x2", "x3", "x4")
  expect_equal(olden$importance[match(inputs, olden$variable)],
               unname(Reduce(`+`, lapply(fit$members, olden_of)) / 3))
  expect_equal(garson$importance[match(inputs, garson$variable)],
               unname(Reduce(`+`, lapply(fit$members, garson_of)) / 3))
  # (The first member alone is not the average.)
  expect_false(isTRUE(all.equal(garson$importance[match(inputs, garson$variable)],
                                unname(garson_of(fit$members[[1]])))))
  expect_output(print(fit), "parameters: 19 in each of 3 members")
  # Its losses are its first member's, and say so.
  expect_output(print(fit), "final loss \\(first member\\)")
  expect_output(print(summary(fit)), "training loss \\(first member\\)")
  expect_output(print(fit), "epochs \\(first member\\)")
  validated <- backprop(as.matrix(train_rows[1:4]), train_rows$y, hidden = 3, ensemble = 2,
                        validation = 0.2, optimizer = "adam", epochs = 20, conformal = "none",
                        threads = 1)
  expect_output(print(summary(validated)), "best validation loss \\(first member\\)")
})

test_that("a factor is shuffled as one variable, and x/y fits take y", {
  set.seed(11)
  d <- train_rows
  d$g <- factor(sample(c("a", "b", "c"), nrow(d), replace = TRUE))
  fit <- backprop(y ~ x1 + g, d)
  imp <- mlp_importance(fit, d, repeats = 2)
  expect_setequal(imp$variable, c("x1", "g"))
  xy <- backprop(as.matrix(train_rows[1:4]), train_rows$y)
  imp <- mlp_importance(xy, as.matrix(test_rows[1:4]), y = test_rows$y, repeats = 2)
  expect_equal(imp$variable[1], "x1")
  expect_snapshot(mlp_importance(xy, as.matrix(test_rows[1:4])), error = TRUE)
})

test_that("mlp_importance() refuses what it cannot measure", {
  reg <- fit_regression()
  expect_snapshot(error = TRUE, {
    mlp_importance(reg)
    mlp_importance(reg, test_rows, method = "shap")
    mlp_importance(reg, test_rows, metric = "log_loss")
    mlp_importance(reg, test_rows, repeats = 0)
    mlp_importance(reg, test_rows[c("x1", "x2", "y")])
    mlp_importance(list(), test_rows)
    mlp_importance(reg, replace(test_rows, "x2", list(c(NA, test_rows$x2[-1]))))
  })
  set.seed(12)
  deep <- backprop(y ~ x1 + x2, train_rows, hidden = c(3, 3))
  expect_snapshot(mlp_importance(deep, method = "garson"), error = TRUE)
  expect_s3_class(mlp_importance(deep, test_rows, repeats = 2), "mlp_importance")
})

test_that("partial dependence recovers the known monotone effect", {
  reg <- fit_regression()
  pd <- mlp_partial(reg, train_rows, "x1", grid = 15)
  expect_s3_class(pd, "mlp_partial")
  expect_named(pd, c("value", "output", "yhat"))
  expect_equal(nrow(pd), 15L)
  expect_true(all(diff(pd$yhat) > 0))
  # Against the true curve, shifted by the noise variables' mean effect (none).
  truth <- 2 * tanh(pd$value) + 0.5 * pd$value
  expect_lt(max(abs(pd$yhat - truth)), 0.3)
  # A noise variable barely moves the prediction.
  flat <- mlp_partial(reg, train_rows, "x3", grid = 10)
  expect_lt(diff(range(flat$yhat)), 0.2 * diff(range(pd$yhat)))
  # By hand: every row set to the value, predictions averaged.
  d <- train_rows
  d$x1 <- pd$value[4]
  expect_equal(pd$yhat[4], mean(predict(reg, d)[, 1]))
})

test_that("a classifier's partial dependence gives one curve per class", {
  cls <- fit_classifier()
  pd <- mlp_partial(cls, train_rows, "x1", grid = c(-1.5, -0.5, 0.5, 1.5))
  expect_equal(pd$value, rep(c(-1.5, -0.5, 0.5, 1.5), each = 2))
  expect_equal(pd$output, rep(c("no", "yes"), 4))
  yes <- pd$yhat[pd$output == "yes"]
  expect_true(all(diff(yes) > 0))
  expect_equal(pd$yhat[pd$output == "no"], 1 - yes)
  d <- train_rows
  d$g <- factor(ifelse(d$x1 > 0, "up", "down"))
  set.seed(13)
  fit <- backprop(y ~ g + x2, d)
  pd <- mlp_partial(fit, d, "g")
  expect_equal(as.character(pd$value), c("down", "up"))
  expect_gt(pd$yhat[2], pd$yhat[1])
  expect_snapshot(error = TRUE, {
    mlp_partial(fit, d, "x9")
    mlp_partial(fit, d)
    mlp_partial(fit, d, "x2", grid = 1)
  })
})

test_that("print and plot methods draw without error", {
  reg <- fit_regression()
  set.seed(14)
  imp <- mlp_importance(reg, test_rows, repeats = 2)
  # Garson's shares of hand-set weights, worked out by hand: column 1's
  # |products| are 3, 1, 0, 0 and column 2's 2, 4, 2, 0; the shares averaged
  # over the two columns are 1/2, 3/8, 1/8, 0. (The fitted weights would
  # differ in their last digits between machines' matrix kernels.)
  by_hand <- reg
  by_hand$weights <- list(cbind(c(3, 1, 0, 0), c(1, 2, 1, 0)), matrix(c(1, -2)))
  garson <- mlp_importance(by_hand, method = "garson")
  expect_equal(garson$importance, c(1 / 2, 3 / 8, 1 / 8, 0))
  expect_snapshot(print(garson))
  path <- withr::local_tempfile(fileext = ".pdf")
  grDevices::pdf(path)
  expect_identical(plot(imp), imp)
  cls <- fit_classifier()
  by_output <- mlp_importance(cls, method = "olden")
  expect_identical(plot(by_output), by_output)
  pd <- mlp_partial(cls, train_rows, "x1", grid = 5)
  expect_identical(plot(pd), pd)
  grDevices::dev.off()
  expect_gt(file.size(path), 1000)
})

test_that("recipe fits are explained by their original variables", {
  need_packages("recipes")
  rec <- recipes::recipe(class ~ x1 + x2 + x3 + x4, data = train_rows) |>
    recipes::step_normalize(recipes::all_numeric_predictors())
  set.seed(15)
  fit <- backprop(rec, data = train_rows)
  set.seed(16)
  imp <- mlp_importance(fit, test_rows, repeats = 3)
  expect_equal(imp$variable[1], "x1")
  expect_setequal(imp$variable, c("x1", "x2", "x3", "x4"))
  pd <- mlp_partial(fit, train_rows, "x1", grid = 5)
  expect_true(all(diff(pd$yhat[pd$output == "yes"]) > 0))
  rec <- recipes::recipe(y ~ x1 + x2, data = train_rows)
  set.seed(17)
  reg <- backprop(rec, data = train_rows)
  au <- augment(reg, data = test_rows)
  expect_equal(au$.resid, test_rows$y - au$.fitted)
})

# Workflows and parsnip fits: explained by the raw variables, predicted
# through their own preprocessing.

regression_spec <- function() {
  parsnip::mlp(hidden_units = 4, penalty = 0.01) |>
    parsnip::set_engine("backprop") |>
    parsnip::set_mode("regression")
}

test_that("a plain-formula workflow's importance is its network's", {
  need_packages("workflows", "parsnip")
  set.seed(20)
  wf <- workflows::workflow(y ~ x1 + x2 + x3 + x4, regression_spec()) |> parsnip::fit(train_rows)
  net <- workflows::extract_fit_engine(wf)
  set.seed(21)
  via_workflow <- mlp_importance(wf, test_rows, repeats = 3)
  set.seed(21)
  # parsnip's fit_xy() names the network's response "..y": `y` gives it.
  via_network <- mlp_importance(net, test_rows, y = test_rows$y, repeats = 3)
  expect_equal(via_workflow, via_network)
  expect_equal(via_workflow$variable[1], "x1")
  expect_equal(attr(via_workflow, "baseline"),
               sqrt(mean((predict(wf, test_rows)$.pred - test_rows$y)^2)))
  # The weight-based measures read the network inside.
  expect_equal(mlp_importance(wf, method = "garson"), mlp_importance(net, method = "garson"))
  # Partial dependence likewise, its output named by the real response.
  pd <- mlp_partial(wf, train_rows, "x1", grid = 5)
  expect_equal(pd$yhat, mlp_partial(net, train_rows, "x1", grid = 5)$yhat)
  expect_equal(unique(pd$output), "y")
})

test_that("a recipe workflow is explained by the variable the recipe expands", {
  need_packages("workflows", "parsnip", "recipes")
  # x1 reaches the network only as two polynomial columns.
  rec <- recipes::recipe(y ~ x1 + x2 + x3 + x4, data = train_rows) |>
    recipes::step_poly(x1, degree = 2)
  set.seed(22)
  wf <- workflows::workflow(rec, regression_spec()) |> parsnip::fit(train_rows)
  expect_false("x1" %in% workflows::extract_fit_engine(wf)$x_names)
  pd <- mlp_partial(wf, train_rows, "x1", grid = 6)
  expect_equal(nrow(pd), 6L)
  expect_true(all(diff(pd$yhat) > 0))
  # By hand: x1 set in the raw rows, predicted through the recipe.
  d <- train_rows
  d$x1 <- pd$value[3]
  expect_equal(pd$yhat[3], mean(predict(wf, d)$.pred))
  set.seed(23)
  imp <- mlp_importance(wf, test_rows, repeats = 3)
  expect_setequal(imp$variable, c("x1", "x2", "x3", "x4"))
  expect_equal(imp$variable[1], "x1")
  expect_snapshot(mlp_importance(wf, test_rows[c("x2", "y")]), error = TRUE)
})

test_that("a transformed outcome is explained on the scale the network fits", {
  need_packages("workflows", "parsnip", "recipes", "DALEX")
  train <- transform(train_rows, g = exp(y))[c("x1", "x2", "g")]
  test <- transform(test_rows, g = exp(y))[c("x1", "x2", "g")]
  # parsnip's formula and a formula workflow fit log(g), while the data
  # hold g: the importance scores predictions against log(g), not g.
  set.seed(31)
  via_parsnip <- parsnip::fit(regression_spec(), log(g) ~ x1 + x2, data = train)
  set.seed(31)
  via_workflow <- workflows::workflow(log(g) ~ x1 + x2, regression_spec()) |> parsnip::fit(train)
  for (model in list(via_parsnip, via_workflow)) {
    rmse <- sqrt(mean((predict(model, test)$.pred - log(test$g))^2))
    expect_lt(rmse, 0.5)
    expect_equal(attr(mlp_importance(model, test, repeats = 2), "baseline"), rmse)
    expect_equal(explain_backprop(model, test)$y, log(test$g))
  }
  # A recipe that logs the outcome of the training rows alone is refused,
  # as it is for a backprop() fit.
  rec <- recipes::recipe(g ~ x1 + x2, data = train) |> recipes::step_log(g, skip = TRUE)
  set.seed(32)
  skipped <- workflows::workflow(rec, regression_spec()) |> parsnip::fit(train)
  expect_snapshot(mlp_importance(skipped, test), error = TRUE)
  expect_error(explain_backprop(skipped, test), "changes the outcome on its training rows alone")
  # After fit_xy() of a vector the output is parsnip's `.pred`, not `..y`.
  set.seed(33)
  xy <- parsnip::fit_xy(regression_spec(), x = train[c("x1", "x2")], y = log(train$g))
  expect_equal(unique(mlp_partial(xy, train, "x1", grid = 3)$output), ".pred")
})

test_that("a parsnip classifier finds its response by the formula's name", {
  need_packages("parsnip")
  spec <- parsnip::mlp(hidden_units = 4, penalty = 0.01) |>
    parsnip::set_engine("backprop") |>
    parsnip::set_mode("classification")
  set.seed(24)
  fitted <- parsnip::fit(spec, class ~ x1 + x2 + x3 + x4, data = train_rows)
  set.seed(25)
  imp <- mlp_importance(fitted, test_rows, repeats = 3, metric = "error_rate")
  set.seed(25)
  expect_equal(imp, mlp_importance(fitted$fit, test_rows, repeats = 3, metric = "error_rate"))
  expect_equal(imp$variable[1], "x1")
  pd <- mlp_partial(fitted, train_rows, "x1", grid = c(-1, 1))
  expect_equal(pd$output, c("no", "yes", "no", "yes"))
  prob <- predict(fitted, transform(train_rows, x1 = 1), type = "prob")
  expect_equal(pd$yhat[4], mean(prob$.pred_yes))
})

test_that("models that are not backprop networks are refused by name", {
  need_packages("workflows", "parsnip")
  untrained <- workflows::workflow(y ~ x1, regression_spec())
  other <- structure(list(fit = lm(y ~ x1, train_rows), spec = list(engine = "lm")),
                     class = "model_fit")
  expect_snapshot(error = TRUE, {
    mlp_importance(untrained, test_rows)
    mlp_partial(other, train_rows, "x1")
    mlp_importance(lm(y ~ x1, train_rows), test_rows)
  })
})

# DALEX.

test_that("a DALEX explainer predicts as predict() does and runs DALEX's explanations", {
  need_packages("DALEX")
  reg <- fit_regression()
  explainer <- explain_backprop(reg, test_rows)
  expect_s3_class(explainer, "explainer")
  expect_equal(explainer$y, test_rows$y)
  expect_named(explainer$data, c("x1", "x2", "x3", "x4", "class"))
  expect_equal(explainer$y_hat, unname(predict(reg, test_rows)[, 1]))
  expect_equal(DALEX::yhat(reg, test_rows[1:5, ]), unname(predict(reg, test_rows[1:5, ])[, 1]))
  expect_equal(explainer$model_info$type, "regression")
  set.seed(26)
  parts <- DALEX::model_parts(explainer, B = 2, variables = c("x1", "x2", "x3", "x4"))
  loss <- tapply(parts$dropout_loss, parts$variable, mean)
  expect_equal(names(which.max(loss[c("x1", "x2", "x3", "x4")])), "x1")
  profile <- DALEX::model_profile(explainer, variables = "x1", N = 50)
  curve <- profile$agr_profiles
  expect_true(all(diff(curve$`_yhat_`[order(curve$`_x_`)]) > 0))
  # With DALEX loaded, DALEX::explain() finds the yhat() method itself.
  plain <- DALEX::explain(reg, data = test_rows[1:4], y = test_rows$y, verbose = FALSE)
  expect_equal(plain$y_hat, explainer$y_hat)
  expect_equal(plain$model_info$package, "backprop")
})

test_that("importance and partial dependence weigh rows as the fit's weights do", {
  rows <- train_rows[1:200, c("x1", "x2", "y")]
  rows$w <- rep(c(1, 3), 100)
  set.seed(34)
  fit <- backprop(y ~ x1 + x2, rows, weights = w, hidden = 3, threads = 1)
  # A weight of k counts the row k times: as the rows repeated.
  repeated <- rows[rep(seq_len(200), rows$w), ]
  repeated$w <- 1
  expect_equal(attr(mlp_importance(fit, rows, repeats = 1), "baseline"),
               sqrt(mean((predict(fit, repeated)[, 1] - repeated$y)^2)))
  expect_equal(mlp_partial(fit, rows, "x1", grid = c(-1, 0, 1))$yhat,
               mlp_partial(fit, repeated, "x1", grid = c(-1, 0, 1))$yhat)
  # Weights given as an expression of the data's columns, alike.
  halved <- backprop(y ~ x1 + x2, rows, weights = w / 2, init = fit, epochs = 0, threads = 1)
  expect_equal(attr(mlp_importance(halved, rows, repeats = 1), "baseline"),
               attr(mlp_importance(fit, rows, repeats = 1), "baseline"))
  # Without the weights' column, each row counts once, as said.
  expect_warning(unweighted <- mlp_importance(fit, rows[1:3], repeats = 1),
                 "observation weights that `data` does not hold")
  expect_equal(attr(unweighted, "baseline"), sqrt(mean((predict(fit, rows)[, 1] - rows$y)^2)))
})

test_that("a DALEX explainer leaves out the column of observation weights", {
  need_packages("DALEX", "recipes", "workflows", "parsnip")
  rows <- train_rows[c("x1", "x2", "y")]
  rows$w <- hardhat::frequency_weights(rep(1:3, length.out = nrow(rows)))
  set.seed(30)
  formula_fit <- backprop(y ~ x1 + x2, transform(rows, w = as.integer(w)), weights = w,
                          threads = 1)
  recipe_fit <- backprop(recipes::recipe(y ~ ., rows), data = rows, threads = 1)
  spec <- parsnip::mlp(hidden_units = 3, mode = "regression") |> parsnip::set_engine("backprop")
  wf <- workflows::workflow(y ~ x1 + x2, spec) |> workflows::add_case_weights(w) |>
    parsnip::fit(rows)
  # DALEX would vary the weights as a variable, with importance 0.
  for (model in list(formula_fit, recipe_fit, wf)) {
    explainer <- explain_backprop(model, rows)
    expect_named(explainer$data, c("x1", "x2"))
    expect_equal(explainer$y, rows$y)
  }
})

test_that("DALEX gets the second class's probability, or the matrix for more classes", {
  need_packages("DALEX", "workflows", "parsnip")
  spec <- parsnip::mlp(hidden_units = 3) |>
    parsnip::set_engine("backprop") |>
    parsnip::set_mode("classification")
  set.seed(27)
  wf <- workflows::workflow(class ~ x1 + x2, spec) |> parsnip::fit(train_rows)
  explainer <- explain_backprop(wf, test_rows)
  expect_equal(explainer$y, as.numeric(test_rows$class == "yes"))
  expect_equal(explainer$y_hat, predict(wf, test_rows, type = "prob")$.pred_yes)
  expect_equal(explainer$model_info$type, "classification")
  expect_equal(explainer$label, "backprop (workflow)")
  expect_false("class" %in% names(explainer$data))
  set.seed(28)
  expect_s3_class(DALEX::model_parts(explainer, B = 1), "model_parts")
  set.seed(29)
  iris_fit <- backprop(Species ~ ., iris, hidden = 3)
  multi <- explain_backprop(iris_fit, iris)
  expect_equal(multi$model_info$type, "multiclass")
  expect_equal(multi$y_hat, predict(iris_fit, iris, type = "prob"))
  expect_identical(multi$y, iris$Species)
  set.seed(33)
  xy <- backprop(as.matrix(train_rows[1:2]), train_rows$y, hidden = 2)
  expect_snapshot(error = TRUE, {
    explain_backprop(fit_regression(), test_rows[1:4])
    explain_backprop(xy, as.matrix(test_rows[1:2]))
    explain_backprop(xy, as.matrix(test_rows[1:2]), y = test_rows$y[-1])
  })
  expect_equal(explain_backprop(xy, as.matrix(test_rows[1:2]), y = test_rows$y)$y_hat,
               unname(predict(xy, as.matrix(test_rows[1:2]))[, 1]))
})

test_that("DALEX's own explain() refuses a fit of several outputs, as explain_backprop() does", {
  need_packages("DALEX")
  set.seed(34)
  two <- mlp_train(cbind(y, y2 = -y) ~ x1 + x2, train_rows, hidden = 3, output = "linear",
                   loss = "mse", optimizer = "lbfgs", epochs = 20, threads = 1)
  set.seed(35)
  band <- backprop(y ~ x1 + x2, train_rows, loss = "quantile", tau = c(0.1, 0.9), threads = 1)
  # Through yhat(), DALEX would explain the first output (or the band's
  # lower bound) as the prediction of the response it is given.
  # (DALEX::explain() keeps the error of its first prediction to itself:
  # the explanations raise it.)
  for (fit in list(two, band)) {
    explainer <- DALEX::explain(fit, data = test_rows[c("x1", "x2")], y = test_rows$y, verbose = FALSE)
    expect_null(explainer$y_hat)
    expect_error(DALEX::model_parts(explainer, B = 1), "2 outputs; DALEX explains one response at a time")
    expect_error(explain_backprop(fit, test_rows), "2 outputs; DALEX explains one response at a time")
  }
})

# ggplot2.

test_that("autoplot() draws importance sorted, with error bars of the repeats", {
  need_packages("ggplot2")
  reg <- fit_regression()
  set.seed(30)
  imp <- mlp_importance(reg, test_rows, repeats = 4)
  p <- ggplot2::autoplot(imp)
  expect_s3_class(p, "ggplot")
  bars <- ggplot2::layer_data(p, 1)
  # The most important variable is the top bar.
  expect_equal(bars$x[which.max(bars$y)], imp$importance[1])
  expect_equal(sort(bars$x), sort(imp$importance))
  errors <- ggplot2::layer_data(p, 2)
  top <- which.max(errors$y)
  expect_equal(c(errors$xmin[top], errors$xmax[top]),
               imp$importance[1] + c(-1, 1) * imp$std_error[1])
  # Weight-based importance has no error bars.
  expect_length(ggplot2::autoplot(mlp_importance(reg, method = "garson"))$layers, 1L)
})

test_that("a two-class Olden chart shows the second class once, sorted by size", {
  cls <- fit_classifier()
  olden <- mlp_importance(cls, method = "olden")
  chart <- backprop:::importance_chart(olden)$data
  expect_null(chart$output)
  expect_setequal(chart$variable, c("x1", "x2", "x3", "x4"))
  expect_equal(chart$importance,
               olden$importance[olden$output == "yes"][order(-abs(olden$importance[olden$output == "yes"]))])
  expect_equal(backprop:::importance_chart(olden)$title, "Variable importance for class \"yes\"")
  set.seed(31)
  three <- mlp_importance(backprop(Species ~ ., iris, hidden = 3), method = "olden")
  chart <- backprop:::importance_chart(three)$data
  expect_equal(nrow(chart), 12L)
  # Variables by their largest size over the classes; classes in level order.
  sizes <- tapply(abs(three$importance), three$variable, max)
  expect_equal(unique(chart$variable), names(sort(sizes, decreasing = TRUE)))
  expect_equal(chart$output[1:3], levels(iris$Species))
  need_packages("ggplot2")
  p <- ggplot2::autoplot(olden)
  expect_equal(nrow(ggplot2::layer_data(p, 1)), 4L)
  expect_equal(nrow(ggplot2::layer_data(ggplot2::autoplot(three), 1)), 12L)
})

test_that("autoplot() draws partial dependence as a line with a rug, or points", {
  need_packages("ggplot2")
  reg <- fit_regression()
  pd <- mlp_partial(reg, train_rows, "x1", grid = 8)
  expect_equal(attr(pd, "observed"), sort(train_rows$x1))
  p <- ggplot2::autoplot(pd)
  expect_s3_class(p$layers[[1]]$geom, "GeomLine")
  expect_s3_class(p$layers[[2]]$geom, "GeomRug")
  expect_equal(ggplot2::layer_data(p, 1)$y, pd$yhat)
  expect_equal(nrow(ggplot2::layer_data(p, 2)), nrow(train_rows))
  d <- train_rows
  d$g <- factor(ifelse(d$x1 > 0, "up", "down"))
  set.seed(32)
  fit <- backprop(y ~ g + x2, d)
  p <- ggplot2::autoplot(mlp_partial(fit, d, "g"))
  expect_s3_class(p$layers[[1]]$geom, "GeomPoint")
  expect_length(p$layers, 1L)
  expect_equal(nrow(ggplot2::layer_data(p, 1)), 2L)
  cls <- fit_classifier()
  p <- ggplot2::autoplot(mlp_partial(cls, train_rows, "x1", grid = 5))
  expect_equal(length(unique(ggplot2::layer_data(p, 1)$colour)), 2L)
})

test_that("a quantile band's partial dependence names its bounds; its importance is refused", {
  set.seed(1)
  d <- data.frame(a = runif(100, -1, 1), b = rnorm(100))
  d$y <- d$a + rnorm(100, sd = 0.2 + 0.3 * (d$a > 0))
  band <- backprop(y ~ a + b, d, loss = "quantile", tau = c(0.1, 0.9), select = FALSE,
                   threads = 1)
  pd <- mlp_partial(band, d, "a", grid = 3)
  expect_setequal(unique(pd$output), c("q0.1", "q0.9"))
  # Each curve is the average of predict()'s bound of that name.
  for (v in unique(pd$value)) {
    varied <- d
    varied$a <- v
    means <- colMeans(predict(band, varied))
    expect_equal(pd$yhat[pd$value == v], unname(means[pd$output[pd$value == v]]), tolerance = 1e-12)
  }
  for (method in c("permutation", "olden", "garson")) {
    expect_error(mlp_importance(band, d, method = method), "is a quantile band")
  }
})

test_that("a formula's variable from outside the training data is read, not explained", {
  set.seed(8)
  d <- data.frame(a = rnorm(50), b = rnorm(50))
  d$y <- d$a + 2 * d$b
  k <- 2
  fit <- backprop(y ~ a + I(b * k), d, hidden = 3, epochs = 30, select = FALSE, threads = 1)
  # Refused before: "`data` lacks the training column `k`".
  imp <- mlp_importance(fit, data = d, repeats = 2)
  expect_setequal(imp$variable, c("a", "b"))
  expect_equal(nrow(mlp_partial(fit, d, "b", grid = 3)), 3L)
})

test_that("explanations say once that the rows they made give ignored inputs new values", {
  # Permuting g of `y ~ g:h + a` makes rows of the cell r:t, which had no
  # training rows: predict() warns of each set of rows (the review of pass
  # 24 counted 20 warnings), the explanation once.
  set.seed(1)
  d <- data.frame(a = rnorm(200), g = sample(c("p", "q", "r"), 200, TRUE), h = sample(c("s", "t"), 200, TRUE))
  d <- d[!(d$g == "r" & d$h == "t"), ]
  d$y <- d$a + 2 * (d$g == "q") + rnorm(nrow(d), sd = 0.1)
  fit <- backprop(y ~ g:h + a, d, hidden = 2, select = FALSE, epochs = 5, threads = 1)
  said <- character()
  keep <- function(w) {
    said <<- c(said, conditionMessage(w))
    invokeRestart("muffleWarning")
  }
  withCallingHandlers(mlp_importance(fit, d, repeats = 3), warning = keep)
  expect_length(said, 1L)
  expect_match(said, "^In the rows mlp_importance\\(\\) predicted \\(`data`, and `data` with a column permuted\\): .*`gr:ht` \\(0\\)")
  said <- character()
  withCallingHandlers(mlp_partial(fit, d[d$h == "t", ], "g"), warning = keep)
  expect_length(said, 1L)
  expect_match(said, "\\(`data` with `g` set to each grid value\\)")
  # Rows of trained cells only: nothing to say.
  said <- character()
  withCallingHandlers(mlp_partial(fit, d[d$h == "s", ], "g"), warning = keep)
  expect_length(said, 0L)
})

test_that("explanations say when the fit's weights are not a column of the data", {
  # Pass 26: `weights = d$w` belongs to the training rows; the explanations
  # counted every row of `data` once, without a word.
  set.seed(1)
  d <- data.frame(a = rnorm(60), b = rnorm(60), w = sample(1:3, 60, TRUE))
  d$y <- d$a + rnorm(60, sd = 0.1)
  vector <- backprop(y ~ a + b, d, weights = d$w, hidden = 2, select = FALSE, epochs = 5, threads = 1)
  expect_warning(mlp_partial(vector, d, "a", grid = 3),
                 "`fit` was trained with observation weights that `data` does not hold")
  column <- backprop(y ~ a + b, d, weights = w, hidden = 2, select = FALSE, epochs = 5, threads = 1)
  expect_no_warning(mlp_partial(column, d, "a", grid = 3))
  # The x/y interface's data hold no weights: nothing to say.
  xy <- backprop(d[c("a", "b")], d$y, weights = d$w, hidden = 2, select = FALSE, epochs = 5, threads = 1)
  expect_no_warning(mlp_partial(xy, d[c("a", "b")], "a", grid = 3))
  # parsnip keeps case weights as values (pass 27: explained unweighted
  # without a word); a workflow reads their column, which data must hold.
  need_packages("parsnip", "workflows")
  d$cw <- hardhat::frequency_weights(d$w)
  spec <- parsnip::mlp(hidden_units = 2, epochs = 5) |>
    parsnip::set_engine("backprop", threads = 1, select = FALSE) |> parsnip::set_mode("regression")
  wrapped <- parsnip::fit(spec, y ~ a + b, d, case_weights = d$cw)
  expect_warning(mlp_partial(wrapped, d, "a", grid = 3), "parsnip keeps as values")
  flow <- workflows::workflow(y ~ a + b, spec) |> workflows::add_case_weights(cw)
  flow <- parsnip::fit(flow, d)
  expect_no_warning(mlp_partial(flow, d, "a", grid = 3))
  expect_warning(mlp_partial(flow, d[c("a", "b", "y")], "a", grid = 3), "whose column `data` lacks")
})

test_that("partial dependence grids stay among a variable's values, whole for an integer", {
  # Pass 27: a workflow's hardhat refused an integer column's quantiles as
  # a loss of precision; the levels of factor(k %% 2) were taken for
  # values of k.
  set.seed(1)
  d <- data.frame(a = rnorm(80), k = sample(1:4, 80, TRUE))
  d$y <- d$a + d$k %% 2 + rnorm(80, sd = 0.1)
  fit <- backprop(y ~ a + k + factor(k %% 2), d, hidden = 2, select = FALSE, epochs = 5, threads = 1)
  expect_equal(mlp_partial(fit, d, "k")$value, 1:4)
  need_packages("parsnip", "workflows")
  spec <- parsnip::mlp(hidden_units = 2, epochs = 5) |>
    parsnip::set_engine("backprop", threads = 1, select = FALSE) |> parsnip::set_mode("regression")
  flow <- parsnip::fit(workflows::workflow(y ~ a + k, spec), d)
  expect_true(is.integer(mlp_partial(flow, d, "k", grid = 3)$value))
})
