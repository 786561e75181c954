# Regression tests of issue 23's defects in the data path (R/blueprint.R):
# every interface molds at fit time and forges new data the same way.

mixed_data <- function(n = 40, seed = 2) {
  withr::with_seed(seed, {
    d <- data.frame(a = rnorm(n), g = factor(sample(c("u", "v"), n, TRUE), levels = c("u", "v", "w")),
                    flag = sample(c(TRUE, FALSE), n, TRUE))
    d$y <- d$a + (d$g == "v") + d$flag + rnorm(n, sd = 0.1)
    d
  })
}

test_that("a matrix's column names are unique and non-empty, or absent", {
  set.seed(1)
  x <- matrix(rnorm(60), 20, 3, dimnames = list(NULL, c("a", "a", "b")))
  y <- x[, 1] - 2 * x[, 2] + x[, 3]
  # New data is matched by name: a repeated name would take the first
  # column twice, an empty one no column.
  expect_snapshot(backprop(x, y, threads = 1), error = TRUE)
  colnames(x) <- c("a", "", "b")
  expect_snapshot(mlp_train(x, y), error = TRUE)
  colnames(x) <- NULL
  fit <- mlp_train(x, y, output = "linear", loss = "mse", lr = 0.01, epochs = 5, threads = 1)
  expect_equal(predict(fit, x), fitted(fit))
  # New data with a training column twice is refused, not read from its
  # first copy; other columns may come and go.
  colnames(x) <- c("a", "b", "c")
  fit <- backprop(x, y, threads = 1)
  expect_equal(predict(fit, cbind(x, extra = 1)[, c(4, 3, 1, 2)]), predict(fit, x))
  expect_snapshot(predict(fit, cbind(x, b = 0)), error = TRUE)
  expect_snapshot(predict(fit, data.frame(x, b = 0, check.names = FALSE)), error = TRUE)
})

test_that("a data frame's variable given twice is refused, at fit and predict time", {
  d <- mixed_data(60)
  twice <- cbind(d, a = 0)
  # model.frame() would read the first `a` and ignore the second.
  expect_snapshot(backprop(y ~ a + g, twice, threads = 1), error = TRUE)
  expect_snapshot(mlp_train(y ~ a + flag, twice, epochs = 1), error = TRUE)
  set.seed(3)
  fit <- backprop(y ~ a + g + flag, d, threads = 1)
  expect_snapshot(predict(fit, cbind(d[1:5, ], a = 100)), error = TRUE)
  # Other columns may repeat.
  expect_equal(predict(fit, cbind(d[1:5, ], y = 0, y = 1)), predict(fit, d[1:5, ]))
  need_packages("recipes")
  set.seed(3)
  recipe_fit <- backprop(recipes::recipe(y ~ a + flag, d), data = d, threads = 1)
  expect_snapshot(predict(recipe_fit, cbind(d[1:5, ], flag = FALSE)), error = TRUE)
})

test_that("defect 4: validation = list(x, y) is coded through the formula, by name", {
  d <- mixed_data(60)
  train <- d[1:40, ]
  held <- d[41:60, ]
  fit_with <- function(vx) {
    set.seed(1)
    backprop(y ~ a + g + flag, train, validation = list(x = vx, y = held$y),
             optimizer = "adam", epochs = 20, patience = 20)
  }
  fit <- fit_with(held)
  # The validation loss is the loss of the fit's own predictions of those rows.
  scale_y <- fit$scaling$y$scale
  by_hand <- mean(((predict(fit, held)[, 1] - held$y) / scale_y)^2)
  expect_equal(fit$val_loss[fit$best_epoch], by_hand, tolerance = 1e-10)
  # Columns are taken by name, not position.
  shuffled <- fit_with(held[, c("flag", "y", "g", "a")])
  expect_equal(shuffled$val_loss, fit$val_loss)
  expect_arg_error(fit_with(held[, c("a", "flag")]), "`validation\\$x` lacks the training column `g`")
})

test_that("defect 5: a level with no training rows is an error at predict time", {
  d <- mixed_data()
  set.seed(2)
  fit <- backprop(y ~ a + g, d)
  # "w" is a level of the factor, but no training row has it.
  expect_equal(fit$x_names, c("a", "gv"))
  new <- data.frame(a = 0, g = factor("w", levels = c("u", "v", "w")))
  expect_arg_error(predict(fit, new), "column `g` has level \"w\" with no training rows")
  set.seed(2)
  xy <- backprop(d[c("a", "g")], d$y)
  expect_arg_error(predict(xy, new), "column `g` has level \"w\" with no training rows")
})

test_that("a level only on rows the recipe drops is refused; one step_other() pools is not", {
  need_packages("recipes")
  set.seed(21)
  n <- 120
  d <- data.frame(a = rnorm(n), g = sample(c("p", "q", "r"), n, TRUE))
  d$g[1:10] <- "s"
  d$y <- d$a + (d$g == "q") + 10 * (d$g == "s") + rnorm(n, sd = 0.1)
  d_na <- d
  d_na$a[1:10] <- NA
  new <- data.frame(a = 0, g = c("p", "q", "s"))
  # Level "s" trains nothing when its rows are dropped before training: its
  # indicator is 0 on every training row, and a new "s" row would be
  # predicted as the baseline "p".
  dropped <- list(
    list(recipes::recipe(y ~ a + g, d_na) |> recipes::step_naomit(a, skip = TRUE), d_na),
    list(recipes::recipe(y ~ a + g, d) |> recipes::step_filter(g != "s"), d)
  )
  for (case in dropped) {
    for (one_hot in c(FALSE, TRUE)) {
      fit <- backprop(recipes::step_dummy(case[[1]], g, one_hot = one_hot), case[[2]],
                      hidden = 3, select = FALSE, epochs = 20, threads = 1)
      expect_arg_error(predict(fit, new),
                       "column `g` has level \"s\" with no training rows \\(none, or only rows the recipe dropped")
      expect_equal(nrow(predict(fit, new[1:2, ])), 2L)
      # Validation rows and explanations read new data the same way.
      expect_arg_error(mlp_partial(fit, "a", data = new), "level \"s\" with no training rows")
    }
  }
  # step_zv() removes the dropped level's indicator, which was 0 on every
  # training row: its rows would bake as the baseline's.
  for (one_hot in c(FALSE, TRUE)) {
    zv <- backprop(recipes::recipe(y ~ a + g, d) |> recipes::step_filter(g != "s") |>
                     recipes::step_dummy(g, one_hot = one_hot) |> recipes::step_zv(recipes::all_predictors()),
                   d, hidden = 3, select = FALSE, epochs = 20, threads = 1)
    expect_false("g_s" %in% zv$x_names)
    expect_arg_error(predict(zv, new), "level \"s\" with no training rows")
  }
  # Codings the indicators' patterns do not show (step_nzv() removed the
  # indicator, step_integer() codes one column) are checked by the levels
  # of the rows that trained, not of every row of the data.
  others <- list(
    recipes::recipe(y ~ a + g, d) |> recipes::step_filter(g != "s") |> recipes::step_dummy(g) |>
      recipes::step_nzv(recipes::all_predictors()),
    recipes::recipe(y ~ a + g, d) |> recipes::step_filter(g != "s") |> recipes::step_integer(g),
    recipes::recipe(y ~ a + g, d_na) |> recipes::step_naomit(a, skip = TRUE) |> recipes::step_integer(g)
  )
  for (rec in others) {
    data <- if (anyNA(rec$template$a)) d_na else d
    other <- backprop(rec, data, hidden = 3, select = FALSE, epochs = 20, threads = 1)
    expect_arg_error(predict(other, new), "level \"s\" with no training rows")
    expect_equal(nrow(predict(other, new[1:2, ])), 2L)
  }
  # A row step that reads what an earlier step made keeps other rows when run
  # alone: the outcomes tell, and every row of the data counts instead.
  d_x <- data.frame(a = rnorm(80), g = factor(rep(c("lo", "hi"), each = 40)))
  d_x$x <- ifelse(d_x$g == "lo", -1, 1) * runif(80, 0.5, 1)
  d_x$y <- d_x$a + rnorm(80, sd = 0.1)
  flipped <- backprop(recipes::recipe(y ~ a + g + x, d_x) |> recipes::step_mutate(x = -x) |>
                        recipes::step_filter(x > 0) |> recipes::step_integer(g),
                      d_x, hidden = 2, select = FALSE, epochs = 10, threads = 1)
  expect_equal(nrow(predict(flipped, d_x[1:2, ])), 2L)
  # An NA that step_unknown() codes as a level no training row had.
  unknown <- backprop(recipes::recipe(y ~ a + g, d) |> recipes::step_unknown(g) |> recipes::step_dummy(g),
                      d, hidden = 3, select = FALSE, epochs = 20, threads = 1)
  expect_arg_error(predict(unknown, data.frame(a = 0, g = c("p", NA))),
                   "column `g` has NA, which the recipe codes as a level no training row had")
  # The same when step_zv() removed that level's indicator.
  unknown_zv <- backprop(recipes::recipe(y ~ a + g, d) |> recipes::step_unknown(g) |>
                           recipes::step_dummy(g) |> recipes::step_zv(recipes::all_predictors()),
                         d, hidden = 3, select = FALSE, epochs = 20, threads = 1)
  expect_arg_error(predict(unknown_zv, data.frame(a = 0, g = c("p", NA))), "has NA, which the recipe codes")
  # A step on the outcome: the kept rows' outcomes cannot tell, their count
  # does.
  d_pos <- d_na
  d_pos$y <- exp(d_pos$y / 10)
  logged <- backprop(recipes::recipe(y ~ a + g, d_pos) |> recipes::step_naomit(a, skip = TRUE) |>
                       recipes::step_integer(g) |> recipes::step_log(y, skip = TRUE),
                     d_pos, hidden = 3, select = FALSE, epochs = 20, threads = 1)
  expect_arg_error(predict(logged, new), "level \"s\" with no training rows")
  # Rows of weight 0 train nothing either.
  w <- hardhat::importance_weights(ifelse(d$g == "s", 0, 1))
  zero <- backprop(recipes::recipe(y ~ a + g + w, cbind(d, w = w)) |> recipes::step_integer(g),
                   cbind(d, w = w), hidden = 3, select = FALSE, epochs = 20, threads = 1)
  expect_arg_error(predict(zero, new), "level \"s\" with no training rows")
  # An NA is not a level: it predicts as the recipe imputes it, whatever
  # values imputing after the coding gives the indicators (means that no
  # training row, all without NA, had).
  imputed <- backprop(recipes::recipe(y ~ a + g, d_na[-(1:10), ]) |> recipes::step_dummy(g) |>
                        recipes::step_impute_mean(recipes::all_predictors()),
                      d_na[-(1:10), ], hidden = 3, select = FALSE, epochs = 20, threads = 1)
  # (recipes warns of the NA level it cannot code.)
  with_na <- suppressWarnings(predict(imputed, data.frame(a = c(0, 1), g = NA_character_)))
  expect_true(all(is.finite(with_na[, 1])))
  # The formula interface refuses the same level.
  formula_fit <- backprop(y ~ a + g, d_na, hidden = 3, select = FALSE, epochs = 20, threads = 1)
  expect_arg_error(predict(formula_fit, new), "level \"s\" with no training rows")
  # step_other() pools rare levels, and new ones, into "other", whose
  # indicator trained: a new level is predicted as "other".
  d$g[1:10] <- rep(c("s", "t"), 5)
  pooled <- backprop(recipes::recipe(y ~ a + g, d) |> recipes::step_other(g, threshold = 0.05) |>
                       recipes::step_dummy(g), d, hidden = 3, select = FALSE, epochs = 20, threads = 1)
  expect_true("g_other" %in% pooled$x_names)
  expect_equal(predict(pooled, data.frame(a = 0, g = "zz")), predict(pooled, data.frame(a = 0, g = "s")))
  # A recipe that codes a level weighted 0 everywhere names the level.
  w <- hardhat::importance_weights(ifelse(d$g == "r", 0, 1))
  expect_arg_error(backprop(recipes::recipe(y ~ a + g + w, cbind(d, w = w)) |> recipes::step_dummy(g),
                            cbind(d, w = w), threads = 1),
                   "`weights` are 0 on every row of level \"r\" of `g`")
})

test_that("a response among its own predictors is refused, as NA inputs that na.pass keeps", {
  d <- data.frame(a = runif(40), b = rnorm(40))
  d$y <- d$a + d$b
  # model.matrix() names each input after the one before it here.
  expect_arg_error(backprop(y ~ y + a + b, d, threads = 1),
                   "`formula` has the response `y` among its predictors; remove it")
  expect_arg_error(mlp_train(y ~ a + y, d, epochs = 1), "response `y` among its predictors")
  d$a[3] <- NA
  d$g <- factor(rep(c("u", "v"), 20))
  d$g[5] <- NA
  expect_snapshot(mlp_train(y ~ a + b, d, na.action = na.pass, epochs = 1), error = TRUE)
  expect_arg_error(backprop(y ~ g + b, d, na.action = na.pass, threads = 1),
                   "`formula` variable `g` contains NA or NaN on rows that `na.action` kept")
  expect_arg_error(suppressWarnings(mlp_train(y ~ log(b) + a, d[-3, ], na.action = na.pass, epochs = 1)),
                   "variable `log\\(b\\)` contains NA or NaN")
})

test_that("defect 7: offset() terms are refused, never dropped", {
  expect_arg_error(backprop(mpg ~ wt + offset(log(hp)), mtcars),
                   "`formula` has an offset\\(\\) term; backprop fits no offsets")
  expect_arg_error(mlp_train(mpg ~ wt + offset(hp), mtcars), "offset\\(\\) term")
})

test_that("defect 8: a logical given as 0/1 and a Date say what is wrong", {
  d <- mixed_data()
  set.seed(3)
  fit <- backprop(y ~ a + flag, d)
  new <- data.frame(a = 0.1, flag = 1)
  expect_arg_error(predict(fit, new),
                   "`newdata` column `flag` must be logical \\(TRUE/FALSE\\) as in training, not a numeric vector")
  dated <- data.frame(a = rnorm(10), date = as.Date("2024-01-01") + 0:9)
  expect_arg_error(backprop(dated, rnorm(10)),
                   "`x` column `date` is a Date: backprop reads numbers, logicals and factors.*as.numeric")
  expect_arg_error(backprop(y ~ a + date, cbind(dated, y = rnorm(10))),
                   "variable `date` is a Date")
})

test_that("NA and Inf in new data have one outcome through every interface", {
  d <- mixed_data()
  set.seed(4)
  f1 <- backprop(y ~ a + g, d)
  set.seed(4)
  f2 <- backprop(d[c("a", "g")], d$y)
  new <- data.frame(a = c(0.5, NA, 1), g = c("u", "v", NA))
  p1 <- predict(f1, new)
  # (The x/y interface's response has no name.)
  expect_equal(predict(f2, new), p1, ignore_attr = TRUE)
  expect_equal(unname(is.na(p1[, 1])), c(FALSE, TRUE, TRUE))
  expect_arg_error(predict(f1, data.frame(a = Inf, g = "u")), "must not contain Inf")
  expect_arg_error(predict(f2, data.frame(a = Inf, g = "u")), "must not contain Inf")
  xm <- as.matrix(d["a"])
  set.seed(4)
  f3 <- backprop(xm, d$y)
  expect_arg_error(predict(f3, matrix(Inf, dimnames = list(NULL, "a"))), "must not contain Inf")
  expect_true(is.na(predict(f3, matrix(NA_real_, dimnames = list(NULL, "a")))[1, 1]))
})

test_that("defect 10: a recipe's case_weights column gives the observation weights", {
  need_packages("recipes", "hardhat")
  cars <- mtcars[c("mpg", "wt", "hp")]
  cars$w <- hardhat::frequency_weights(mtcars$cyl)
  rec <- recipes::recipe(mpg ~ ., data = cars)
  set.seed(5)
  weighted <- backprop(rec, cars)
  set.seed(5)
  direct <- backprop(mpg ~ wt + hp, mtcars, weights = mtcars$cyl)
  expect_equal(weighted$prior_weights, mtcars$cyl)
  expect_equal(unname(predict(weighted, cars)), unname(predict(direct, mtcars)), tolerance = 1e-12)
  expect_arg_error(backprop(rec, cars, weights = rep(1, 32)), "both give weights; give one")
})

test_that("a recipe's outcome in other data is the one the network fits, or refused", {
  need_packages("recipes", "hardhat")
  set.seed(18)
  d <- data.frame(a = rnorm(120), b = rnorm(120))
  d$y <- exp(1 + d$a + rnorm(120, sd = 0.1))
  train <- d[1:80, ]
  # A recipe that keeps the outcome: augment() with data and the
  # importance's baseline read it as the training rows did.
  plain <- backprop(recipes::recipe(y ~ a + b, train), train, threads = 1)
  expect_equal(broom::augment(plain, data = train)$.resid, unname(residuals(plain)[, 1]),
               tolerance = 1e-12)
  # step_log(y, skip = TRUE) logs the training rows' outcome alone: data
  # given later hold the raw outcome, which would be scored against log
  # predictions (residuals of 5 for a fit whose residuals are 0.1).
  logged <- backprop(recipes::step_log(recipes::recipe(y ~ a + b, train), y, skip = TRUE), train,
                     threads = 1)
  expect_lt(max(abs(broom::augment(logged)$.resid)), 1)
  expect_snapshot(broom::augment(logged, data = train), error = TRUE)
  expect_error(mlp_importance(logged, train), "changes the outcome on its training rows alone")
  expect_error(backprop(recipes::step_log(recipes::recipe(y ~ a + b, train), y, skip = TRUE), train,
                        validation = d[81:120, ], threads = 1),
               "changes the outcome on its training rows alone")
})

test_that("a recipe's row filters are not outcome changes; an outcome step that runs on new data is named", {
  need_packages("recipes")
  set.seed(19)
  d <- data.frame(a = rnorm(80), b = rnorm(80))
  d$y <- d$a + rnorm(80, sd = 0.1)
  d$a[3] <- NA
  # step_naomit() skips new data: the training rows are fewer than the
  # data's, but no row's outcome changed.
  filtered <- backprop(recipes::step_naomit(recipes::recipe(y ~ a + b, d), recipes::all_predictors()),
                       d, threads = 1)
  complete <- na.omit(d)
  augmented <- broom::augment(filtered, data = complete)
  expect_equal(augmented$.fitted, unname(predict(filtered, complete)[, 1]))
  expect_equal(augmented$.resid, complete$y - augmented$.fitted)
  # A step on the outcome without `skip = TRUE` cannot bake new data, which
  # come without their outcome.
  logged <- backprop(recipes::step_log(recipes::recipe(mpg ~ wt + hp, mtcars), mpg), mtcars,
                     hidden = 2, threads = 1)
  expect_snapshot(predict(logged, mtcars), error = TRUE)
})

test_that("a recipe's unseen levels are refused, step_novel() too; its row drops are refused", {
  need_packages("recipes")
  set.seed(20)
  d <- data.frame(a = rnorm(60), g = factor(sample(c("u", "v", "w"), 60, TRUE)))
  d$y <- d$a + (d$g == "v") + rnorm(60, sd = 0.1)
  # step_novel()'s level had no training rows: its dummy's weight is the
  # random start's, and its predictions would change with the seed.
  rec <- recipes::recipe(y ~ a + g, d) |> recipes::step_novel(g) |> recipes::step_dummy(g)
  fit <- backprop(rec, d, hidden = 3, threads = 1)
  expect_error(predict(fit, data.frame(a = 0, g = "new")), "no training rows")
  expect_equal(dim(predict(fit, data.frame(a = 0, g = "u"))), c(1L, 1L))
  dropping <- backprop(recipes::recipe(y ~ a + g, d) |> recipes::step_naomit(a, skip = FALSE) |>
                         recipes::step_dummy(g), d, hidden = 3, threads = 1)
  expect_snapshot(predict(dropping, data.frame(a = c(NA, 1), g = "u")), error = TRUE)
  # A row filter with skip = TRUE over every column, the outcome too,
  # changes no row's outcome.
  d$a[3] <- NA
  filtered <- backprop(recipes::recipe(y ~ a + g, d) |>
                         recipes::step_naomit(recipes::all_predictors(), recipes::all_outcomes(),
                                              skip = TRUE) |>
                         recipes::step_dummy(g), d, hidden = 3, threads = 1)
  complete <- na.omit(d)
  expect_equal(broom::augment(filtered, data = complete)$.fitted,
               unname(predict(filtered, complete)[, 1]))
})

test_that("a column of weights or subset given twice is refused", {
  d <- cbind(mixed_data(60), w = rep(1:2, 30), keep = rep(c(TRUE, FALSE), 30))
  expect_snapshot(backprop(y ~ a, cbind(d, w = 1), weights = w, threads = 1), error = TRUE)
  expect_snapshot(mlp_train(y ~ a, cbind(d, keep = TRUE), subset = keep, epochs = 1),
                  error = TRUE)
})

test_that("an infinite input of a data frame is refused at fit time, by name", {
  d <- data.frame(a = c(Inf, rnorm(29)), b = rnorm(30), y = rnorm(30))
  expect_snapshot(backprop(y ~ a + b, d, threads = 1), error = TRUE)
  expect_snapshot(mlp_train(d[c("b", "a")], d$y, epochs = 5), error = TRUE)
})

test_that("defect 11: parsnip keeps interactions and poly() terms", {
  need_packages("parsnip")
  spec <- parsnip::mlp(hidden_units = 4) |> parsnip::set_engine("backprop") |>
    parsnip::set_mode("regression")
  for (form in list(mpg ~ wt * hp, mpg ~ poly(hp, 2) + wt)) {
    set.seed(6)
    via <- parsnip::fit(spec, form, data = mtcars)
    set.seed(6)
    direct <- backprop(form, mtcars, hidden = 4)
    expect_equal(via$fit$x_names, direct$x_names)
    expect_equal(predict(via, mtcars[1:5, ])$.pred, unname(predict(direct, mtcars[1:5, ])[, 1]),
                 tolerance = 1e-12)
  }
})

test_that("a scale(y) response is read from other rows with the training rows' centre and spread", {
  set.seed(10)
  d <- data.frame(a = rnorm(300), b = rnorm(300))
  d$y <- 10 + 3 * d$a + rnorm(300, sd = 0.3)
  train <- d[1:200, ]
  later <- d[201:300, ][d$a[201:300] > 0, ]
  # The network's outputs are scale(y) with the training rows' centre and
  # spread; scale() afresh on other rows would centre them on their own.
  truth <- (later$y - mean(train$y)) / sd(train$y)
  fit <- mlp_train(scale(y) ~ a + b, train, hidden = 3, optimizer = "adam", lr = 0.02,
                   epochs = 60, output = "linear", loss = "mse", validation = later, threads = 1)
  out <- predict(fit, later)[, 1]
  expect_equal(fit$val_loss[fit$best_epoch], mean((truth - out)^2), tolerance = 1e-6)
  expect_equal(broom::augment(fit, data = later)$.resid, truth - out, tolerance = 1e-10,
               ignore_attr = TRUE)
  set.seed(1)
  given <- mlp_importance(fit, data = later, y = truth, repeats = 2)
  set.seed(1)
  read <- mlp_importance(fit, data = later, repeats = 2)
  expect_equal(read, given)
})

test_that("a matrix predictor's columns are matched by name", {
  set.seed(6)
  n <- 150
  d <- data.frame(a = rnorm(n))
  d$m2 <- cbind(p = rnorm(n), q = rnorm(n))
  d$y <- d$a + 2 * d$m2[, "p"] - d$m2[, "q"] + rnorm(n, sd = 0.1)
  fit <- backprop(y ~ a + m2, data = d, hidden = 2, threads = 1)
  swapped <- d
  swapped$m2 <- swapped$m2[, c("q", "p")]
  expect_equal(predict(fit, swapped), predict(fit, d))
  other <- d
  colnames(other$m2) <- c("p", "r")
  expect_error(predict(fit, other), "matrix `m2` must have the training columns `p`, `q`, by name")
  dated <- d
  dated$a <- as.Date("2020-01-01") + seq_len(n)
  expect_error(predict(fit, dated), "column `a` must be numeric as in training, not a Date vector")
})

test_that("a factor with NA as a level predicts its training rows", {
  set.seed(1)
  n <- 90
  g <- sample(c("a", "b", NA), n, TRUE)
  d <- data.frame(x = rnorm(n), g = addNA(factor(g)))
  d$y <- d$x + ifelse(is.na(g), 4, ifelse(g == "b", 2, 0)) + rnorm(n, sd = 0.1)
  fit <- backprop(y ~ x + g, d, hidden = 3, select = FALSE, threads = 1)
  expect_equal(fit$x_names, c("x", "gb", "gNA"))
  expect_equal(predict(fit, d), fitted(fit))
  xy <- backprop(d[c("x", "g")], d$y, hidden = 3, select = FALSE, threads = 1)
  expect_equal(predict(xy, d[c("x", "g")]), fitted(xy))
})

test_that("weights of a recipe that drops rows are asked for as a column", {
  need_packages("recipes")
  rec <- recipes::recipe(Temp ~ Ozone + Wind, data = airquality) |>
    recipes::step_naomit(recipes::all_predictors(), skip = TRUE)
  expect_snapshot(backprop(rec, airquality, weights = rep(1, nrow(airquality)), threads = 1),
                  error = TRUE)
})

test_that("a recipe that reorders the rows is refused", {
  need_packages("recipes")
  set.seed(1)
  d <- data.frame(x = rnorm(30), z = rnorm(30))
  d$y <- d$x * 2 + rnorm(30, sd = 0.1)
  # Predictions would come back in the order of x, under newdata's rows.
  arranged <- recipes::recipe(y ~ x + z, d) |> recipes::step_arrange(x)
  expect_snapshot(backprop(arranged, d, hidden = 3, threads = 1), error = TRUE)
  # So do step_sample() (a permutation by default) and step_slice().
  sampled <- recipes::recipe(y ~ x + z, d) |> recipes::step_sample()
  expect_error(backprop(sampled, d, hidden = 3, threads = 1), "has step_sample\\(\\)")
  sliced <- recipes::recipe(y ~ x + z, d) |> recipes::step_slice(30:1)
  expect_error(backprop(sliced, d, hidden = 3, threads = 1), "has step_slice\\(\\)")
})

test_that("a recipe step the package does not know that moves or adds rows is refused", {
  need_packages("recipes")
  # A user's row step: `rows` picks the rows bake() returns.
  user_step <- function(recipe, rows, skip) {
    recipes::add_step(recipe, recipes::step("user_rows", rows = rows, trained = FALSE,
                                            role = NA, skip = skip, id = recipes::rand_id("rows")))
  }
  registerS3method("prep", "step_user_rows", function(x, training, info = NULL, ...) {
    x$trained <- TRUE
    x
  }, envir = asNamespace("recipes"))
  registerS3method("bake", "step_user_rows", function(object, new_data, ...) {
    new_data[object$rows(nrow(new_data)), ]
  }, envir = asNamespace("recipes"))
  registerS3method("tidy", "step_user_rows", function(x, ...) {
    tibble::tibble(terms = character(), id = x$id)
  }, envir = asNamespace("recipes"))
  set.seed(2)
  d <- data.frame(x = runif(40), z = rnorm(40))
  d$y <- 3 * d$x + rnorm(40, sd = 0.05)
  d$class <- factor(ifelse(d$x + rnorm(40, sd = 0.2) > 0.5, "yes", "no"))
  fit_with <- function(formula, rows, skip) {
    backprop(user_step(recipes::recipe(formula, d), rows, skip), d, hidden = 3, epochs = 20,
             select = FALSE, threads = 1)
  }
  # Reversed at fit and predict time: fitted values had correlation -0.05
  # with the data's response, and predictions came back reversed.
  expect_snapshot(fit_with(y ~ x + z, function(n) rev(seq_len(n)), FALSE), error = TRUE)
  # A training permutation of a classifier's rows.
  expect_error(fit_with(class ~ x + z, function(n) c(2:n, 1L), TRUE),
               "moves the rows of `data`: its training rows' `class`", fixed = TRUE)
  # Rows drawn with replacement, as many as the data's (a bootstrap).
  expect_error(fit_with(y ~ x + z, function(n) sample(n, replace = TRUE), TRUE),
               "moves the rows of `data`")
  # Rows added (upsampling) too, in order or not.
  expect_snapshot(fit_with(y ~ x + z, function(n) c(seq_len(n), 1:5), TRUE), error = TRUE)
  expect_error(fit_with(class ~ x, function(n) sort(c(seq_len(n), 1:5)), TRUE), "trains on 45 rows")
  # Rows dropped in order are the data's rows: accepted, fitted() on them.
  kept <- fit_with(y ~ x + z, function(n) seq_len(n)[-c(3, 17)], TRUE)
  expect_equal(nrow(fitted(kept)), 38L)
  expect_equal(unname(fitted(kept)[, 1]), unname(predict(kept, d[-c(3, 17), ])[, 1]),
               tolerance = 1e-12)
  # A response with ties (two classes) dropped in order, as a filter does.
  expect_no_error(fit_with(class ~ x, function(n) which(d$z > -1), TRUE))
  # A user's step that changes the outcome's values, in place, is no move.
  registerS3method("bake", "step_user_values", function(object, new_data, ...) {
    new_data$y <- new_data$y * 2
    new_data
  }, envir = asNamespace("recipes"))
  registerS3method("prep", "step_user_values", function(x, training, info = NULL, ...) {
    x$trained <- TRUE
    x
  }, envir = asNamespace("recipes"))
  registerS3method("tidy", "step_user_values", function(x, ...) {
    tibble::tibble(terms = character(), id = x$id)
  }, envir = asNamespace("recipes"))
  doubled <- recipes::add_step(recipes::recipe(y ~ x + z, d), recipes::step(
    "user_values", trained = FALSE, role = NA, skip = FALSE, id = "values"))
  expect_no_error(backprop(doubled, d, hidden = 3, epochs = 20, select = FALSE, threads = 1))
})

test_that("a subsequence is told from a reordering, NA matching NA", {
  expect_true(is_subsequence(c(1, 3), c(1, 2, 3)))
  expect_true(is_subsequence(c("a", "a"), c("a", "b", "a")))
  expect_true(is_subsequence(c(NA, 2), c(1, NA, 2)))
  expect_true(is_subsequence(numeric(), c(1, 2)))
  expect_false(is_subsequence(c(3, 1), c(1, 2, 3)))
  expect_false(is_subsequence(c("a", "a"), c("a", "b")))
  expect_false(is_subsequence(c(2, NA), c(NA, 2)))
  expect_false(is_subsequence(1, numeric()))
})

test_that("a variable the training data held is never read from the formula's environment", {
  set.seed(1)
  d <- data.frame(a = rnorm(60), b = rnorm(60))
  d$y <- d$a + 3 * d$b
  fit <- backprop(y ~ a + b, d, hidden = 3, epochs = 30, select = FALSE, threads = 1)
  new <- data.frame(a = c(0, 0, 0), b = c(-1, 0, 1))
  # An unrelated `b` where the formula was written: predict() read it,
  # three equal predictions and no error.
  b <- c(2, 2, 2)
  expect_arg_error(predict(fit, new["a"]), "`newdata` lacks the training column `b`.")
  expect_arg_error(augment(fit, newdata = new["a"]), "lacks the training column `b`")
  # A variable from outside the training data still comes from there, as
  # lm() reads it.
  z <- rnorm(60)
  outside <- backprop(y ~ a + z, d, hidden = 3, epochs = 30, select = FALSE, threads = 1)
  expect_equal(predict(outside, d["a"]), fitted(outside), tolerance = 1e-12, ignore_attr = TRUE)
})

test_that("a weights expression is read in other rows as model.frame() read it at fit time", {
  # Pass 25: `weights = w^p`, `p` a constant of the caller's, counted every
  # row once in the explanations and refused validation rows holding `w`.
  set.seed(1)
  d <- data.frame(a = rnorm(120), b = rnorm(120), w = sample(1:5, 120, TRUE))
  d$y <- ifelse(d$w >= 4, 3 * d$a, d$b) + rnorm(120, sd = 0.1)
  p <- 3
  d$w3 <- d$w^p
  fit_by <- function(weights, ...) {
    set.seed(2)
    eval(substitute(backprop(y ~ a + b, d[21:120, ], weights = weights, hidden = 3, select = FALSE,
                             optimizer = "adam", epochs = 10, threads = 1, ...)))
  }
  expression <- fit_by(w^p, validation = d[1:20, ])
  column <- fit_by(w3, validation = d[1:20, ])
  expect_equal(expression$val_loss, column$val_loss, tolerance = 1e-12)
  set.seed(3)
  by_expression <- mlp_importance(expression, d, repeats = 2)
  set.seed(3)
  expect_equal(by_expression, mlp_importance(column, d, repeats = 2), tolerance = 1e-12)
  expect_equal(mlp_partial(expression, d, "a", grid = 3)$yhat,
               mlp_partial(column, d, "a", grid = 3)$yhat, tolerance = 1e-12)
  # A vector of the caller's belongs to the training rows, not to others:
  # validation rows need their own.
  vector <- d$w[21:120]
  # A variable of the training data must come from the rows, not from a
  # number of the caller's by its name (the review: 4 for 16).
  d$q <- 2
  q <- 1
  expect_error(fit_by(w^q, validation = d[1:20, setdiff(names(d), "q")]),
               "`validation` needs the observation weights of its rows")
  expect_snapshot(fit_by(vector * w, validation = d[1:20, ]), error = TRUE)
})

test_that("a response the formula wraps in I() is read from validation rows", {
  # Pass 25: I(y / 1000) fitted, but validation rows were refused, the
  # response keeping I()'s class.
  set.seed(1)
  d <- data.frame(a = rnorm(80), b = rnorm(80))
  d$y <- 1000 * (d$a + rnorm(80, sd = 0.1))
  d$y1000 <- d$y / 1000
  fit_of <- function(formula) {
    set.seed(2)
    backprop(formula, d[21:80, ], validation = d[1:20, ], hidden = 2, select = FALSE,
             optimizer = "adam", epochs = 5, threads = 1)
  }
  expect_equal(fit_of(I(y / 1000) ~ a + b)$val_loss, fit_of(y1000 ~ a + b)$val_loss, tolerance = 1e-12)
  # A constant of the caller's in it, as in the weights; a column of the
  # rows by its name is not it (pass 27: it replaced the constant).
  s <- 1000
  expect_equal(fit_of(I(y / s) ~ a + b)$val_loss, fit_of(y1000 ~ a + b)$val_loss, tolerance = 1e-12)
  d$s <- 1
  held <- d[1:20, ]
  set.seed(2)
  masked <- backprop(I(y / s) ~ a + b, d[21:80, setdiff(names(d), "s")], validation = held,
                     hidden = 2, select = FALSE, optimizer = "adam", epochs = 5, threads = 1)
  expect_equal(masked$val_loss, fit_of(y1000 ~ a + b)$val_loss, tolerance = 1e-12)
  # A variable of the training data must come from the rows (pass 27: a
  # number of the caller's was taken for it).
  expect_error(backprop(I(y / s) ~ a + b, d[21:80, ], validation = held[setdiff(names(d), "s")],
                        hidden = 2, select = FALSE, epochs = 2, threads = 1),
               "`validation` as a data frame must hold the response")
})
