# The "backprop" engine of parsnip's mlp(), in workflows, rsample and tune.

test_that("the engine is registered for both modes, with its dependency", {
  need_packages("parsnip")
  engines <- parsnip::show_engines("mlp")
  expect_true(all(c("classification", "regression") %in% engines$mode[engines$engine == "backprop"]))
  deps <- parsnip::get_dependency("mlp")
  expect_true("backprop" %in% unlist(deps$pkg[deps$engine == "backprop"]))
  # Registering again changes nothing.
  expect_false(backprop:::register_parsnip_engine())
  # Parallel tuning workers are told to load backprop.
  spec <- parsnip::mlp() |> parsnip::set_engine("backprop") |> parsnip::set_mode("regression")
  expect_true("backprop" %in% parsnip::required_pkgs(spec))
})

test_that("tune_grid() runs on parallel workers", {
  need_packages("parsnip", "tune", "rsample", "future")
  future::plan(future::multisession, workers = 2)
  withr::defer(future::plan(future::sequential))
  model <- parsnip::mlp(hidden_units = tune::tune()) |>
    parsnip::set_engine("backprop", threads = 1) |>
    parsnip::set_mode("classification")
  set.seed(1)
  tuned <- tune::tune_grid(model, Species ~ ., rsample::vfold_cv(iris, v = 2),
                           grid = data.frame(hidden_units = c(2, 4)))
  expect_equal(nrow(tune::collect_notes(tuned)), 0)
  accuracy <- tune::collect_metrics(tuned)
  expect_true(all(accuracy$mean[accuracy$.metric == "accuracy"] > 0.9))
})

test_that("the engine registers whether parsnip loads before or after backprop", {
  need_packages("parsnip", "callr")
  for (order in list(c("backprop", "parsnip"), c("parsnip", "backprop"))) {
    engines <- callr::r(function(order) {
      for (pkg in order) loadNamespace(pkg)
      parsnip::show_engines("mlp")$engine
    }, args = list(order = order))
    expect_true("backprop" %in% engines, label = paste(order, collapse = " then "))
  }
})

test_that("a classification fit is backprop()'s fit with the mapped arguments", {
  need_packages("parsnip")
  spec <- parsnip::mlp(hidden_units = 4, penalty = 0.02, epochs = 80) |>
    parsnip::set_engine("backprop") |>
    parsnip::set_mode("classification")
  set.seed(1)
  fit <- parsnip::fit(spec, Species ~ ., data = iris)
  expect_s3_class(fit$fit, "mlp_fit")
  set.seed(1)
  direct <- backprop(iris[1:4], iris$Species, hidden = 4, weight_decay = 0.02, epochs = 80)
  expect_equal(fit$fit$weights, direct$weights)
  prob <- predict(fit, iris, type = "prob")
  expect_named(prob, paste0(".pred_", levels(iris$Species)))
  expect_equal(as.matrix(prob), predict(direct, iris, type = "prob"), ignore_attr = TRUE)
  cls <- predict(fit, iris)
  expect_named(cls, ".pred_class")
  expect_identical(cls$.pred_class, unname(predict(direct, iris, type = "class")))
  expect_gt(mean(cls$.pred_class == iris$Species), 0.9)
})

test_that("penalty and mixture become weight decay and L1, other engine arguments pass", {
  need_packages("parsnip")
  spec <- parsnip::mlp(hidden_units = 3, penalty = 0.1, epochs = 30, learn_rate = 0.01,
                       dropout = 0.1, activation = "relu") |>
    parsnip::set_engine("backprop", mixture = 0.25, optimizer = "adam", batch_size = 8) |>
    parsnip::set_mode("regression")
  set.seed(2)
  fit <- parsnip::fit(spec, mpg ~ wt + hp + qsec, data = mtcars)$fit
  expect_equal(c(fit$weight_decay, fit$options$l1), c(0.075, 0.025))
  expect_equal(c(fit$hidden, fit$epochs, fit$lr, fit$batch_size), c(3, 30, 0.01, 8))
  expect_equal(fit$options$dropout, 0.1)
  expect_equal(fit$activation, "relu")
  expect_equal(fit$optimizer, "adam")
  spec <- parsnip::mlp() |> parsnip::set_engine("backprop", mixture = 2) |> parsnip::set_mode("regression")
  expect_error(parsnip::fit(spec, mpg ~ wt, data = mtcars), "`mixture` must be a finite number in \\[0, 1\\]")
  spec <- parsnip::mlp() |> parsnip::set_engine("backprop", typo = 1) |> parsnip::set_mode("regression")
  expect_error(parsnip::fit(spec, mpg ~ wt, data = mtcars), "backprop\\(\\) got `typo`")
  # mixture without penalty split nothing, and a tuned mixture tuned
  # nothing: mixture = 1 trained a weight-decay fit with no L1.
  spec <- parsnip::mlp(hidden_units = 3) |> parsnip::set_engine("backprop", mixture = 1) |>
    parsnip::set_mode("regression")
  expect_snapshot(parsnip::fit(spec, mpg ~ wt, data = mtcars), error = TRUE)
  # An engine argument that a main argument sets too was dropped (R keeps
  # the first of two `l1`): l1 = 0.2 trained with l1 = 0.
  spec <- parsnip::mlp(hidden_units = 4, penalty = 0.01) |>
    parsnip::set_engine("backprop", threads = 1, l1 = 0.2) |> parsnip::set_mode("regression")
  expect_snapshot(parsnip::fit(spec, mpg ~ wt, data = mtcars), error = TRUE)
  spec <- parsnip::mlp(learn_rate = 0.01) |> parsnip::set_engine("backprop", lr = 0.1) |>
    parsnip::set_mode("regression")
  expect_error(parsnip::fit(spec, mpg ~ wt, data = mtcars), "`lr` is given twice")
})

test_that("regression predictions are numeric in the response's units, one per row", {
  need_packages("parsnip")
  spec <- parsnip::mlp(hidden_units = 5) |> parsnip::set_engine("backprop") |> parsnip::set_mode("regression")
  set.seed(3)
  fit <- parsnip::fit_xy(spec, x = mtcars[c("wt", "hp")], y = mtcars$mpg)
  pred <- predict(fit, mtcars[1:5, ])
  expect_named(pred, ".pred")
  set.seed(3)
  direct <- backprop(mtcars[c("wt", "hp")], mtcars$mpg, hidden = 5)
  expect_equal(pred$.pred, unname(predict(direct, mtcars[1:5, ])[, 1]))
  expect_lt(sqrt(mean((predict(fit, mtcars)$.pred - mtcars$mpg)^2)), 3)
})

test_that("case weights of a workflow are observation weights", {
  need_packages("parsnip", "workflows", "hardhat")
  cars <- mtcars
  cars$w <- hardhat::importance_weights(mtcars$cyl)
  wf <- workflows::workflow() |>
    workflows::add_formula(mpg ~ wt + hp) |>
    workflows::add_model(parsnip::mlp() |> parsnip::set_engine("backprop") |> parsnip::set_mode("regression")) |>
    workflows::add_case_weights(w)
  set.seed(4)
  fit <- parsnip::fit(wf, cars)
  set.seed(4)
  direct <- backprop(mtcars[c("wt", "hp")], mtcars$mpg, weights = mtcars$cyl)
  expect_equal(predict(fit, cars)$.pred, unname(predict(direct, mtcars)[, 1]))
  expect_equal(workflows::extract_fit_engine(fit)$prior_weights, mtcars$cyl)
})

test_that("a recipe workflow resamples and tunes hidden_units, penalty and epochs", {
  need_packages("parsnip", "workflows", "recipes", "rsample", "tune", "yardstick", "dials")
  model <- parsnip::mlp(hidden_units = tune::tune(), penalty = tune::tune(), epochs = tune::tune()) |>
    parsnip::set_engine("backprop") |>
    parsnip::set_mode("classification")
  rec <- recipes::recipe(Species ~ ., data = iris) |> recipes::step_normalize(recipes::all_numeric_predictors())
  wf <- workflows::workflow() |> workflows::add_recipe(rec) |> workflows::add_model(model)
  set.seed(5)
  folds <- rsample::vfold_cv(iris, v = 2, strata = Species)
  grid <- expand.grid(hidden_units = c(2, 5), penalty = c(0.001, 0.1), epochs = c(10, 60))
  tuned <- tune::tune_grid(wf, folds, grid = grid,
                           metrics = yardstick::metric_set(yardstick::accuracy, yardstick::roc_auc))
  metrics <- tune::collect_metrics(tuned)
  expect_equal(nrow(metrics), nrow(grid) * 2)
  expect_true(all(metrics$n == 2))
  expect_gt(max(metrics$mean[metrics$.metric == "accuracy"]), 0.9)
  expect_equal(nrow(tune::collect_notes(tuned)), 0)
  best <- tune::select_best(tuned, metric = "accuracy")
  final <- tune::finalize_workflow(wf, best) |> parsnip::fit(iris)
  engine <- workflows::extract_fit_engine(final)
  expect_equal(c(engine$hidden, engine$epochs, engine$weight_decay),
               c(best$hidden_units, best$epochs, best$penalty))
  # The tuning parameters' ranges come from dials, with the engine's activations.
  params <- hardhat::extract_parameter_set_dials(model)
  expect_setequal(params$id, c("hidden_units", "penalty", "epochs"))
  set.seed(6)
  resampled <- tune::fit_resamples(
    parsnip::mlp() |> parsnip::set_engine("backprop") |> parsnip::set_mode("regression"),
    mpg ~ ., rsample::vfold_cv(mtcars, v = 2)
  )
  rmse <- tune::collect_metrics(resampled)
  expect_equal(sort(rmse$.metric), c("rmse", "rsq"))
  expect_lt(rmse$mean[rmse$.metric == "rmse"], 5)
})

test_that("mixture and activation are tunable engine arguments", {
  need_packages("parsnip", "dials", "hardhat")
  model <- parsnip::mlp(activation = tune::tune()) |>
    parsnip::set_engine("backprop", mixture = tune::tune()) |>
    parsnip::set_mode("regression")
  params <- hardhat::extract_parameter_set_dials(model)
  expect_setequal(params$id, c("activation", "mixture"))
  act <- params$object[[which(params$id == "activation")]]
  expect_true(all(dials::value_seq(act, 10) %in% backprop:::vocabulary$hidden_activations))
})

test_that("the engine's conformal intervals reach parsnip and workflows", {
  need_packages(c("parsnip", "workflows"))
  spec <- parsnip::mlp(hidden_units = 4, penalty = 0.01, epochs = 50) |>
    parsnip::set_engine("backprop", conformal = "cv", conformal_folds = 4, threads = 1,
                        verbose = FALSE) |>
    parsnip::set_mode("regression")
  set.seed(1)
  fit <- parsnip::fit(spec, mpg ~ wt + hp, data = mtcars[1:26, ])
  pi <- predict(fit, mtcars[27:32, ], type = "pred_int", level = 0.8)
  expect_named(pi, c(".pred_lower", ".pred_upper"))
  direct <- predict(fit$fit, mtcars[27:32, ], type = "pred_int", level = 0.8)
  expect_equal(pi$.pred_lower, unname(direct[, "lower"]))
  expect_equal(pi$.pred_upper, unname(direct[, "upper"]))
  expect_true(all(pi$.pred_lower < predict(fit, mtcars[27:32, ])$.pred))
  # Through a workflow, the same.
  set.seed(1)
  wf <- workflows::workflow(mpg ~ wt + hp, spec) |> parsnip::fit(mtcars[1:26, ])
  expect_equal(predict(wf, mtcars[27:32, ], type = "pred_int", level = 0.8), pi)
  # A quantile band has no single numeric prediction to give.
  band <- parsnip::mlp(hidden_units = 4, epochs = 50) |>
    parsnip::set_engine("backprop", loss = "quantile", tau = c(0.1, 0.9), validation = 0.3,
                        threads = 1, verbose = FALSE) |>
    parsnip::set_mode("regression")
  set.seed(2)
  band_fit <- parsnip::fit(band, mpg ~ wt + hp, data = mtcars)
  expect_error(predict(band_fit, mtcars[1:2, ]), "quantile band")
  expect_named(predict(band_fit, mtcars[1:2, ], type = "pred_int", level = 0.8),
               c(".pred_lower", ".pred_upper"))
})

test_that("the engine is listed by show_engines() and its help is parsnip's details page", {
  need_packages("parsnip")
  expect_true("backprop" %in% parsnip::show_engines("mlp")$engine)
  # parsnip's engine pages are topics details_<model>_<engine>.
  expect_length(help("details_mlp_backprop", package = "backprop"), 1)
  expect_length(help("backprop-engine", package = "backprop"), 1)
})

test_that("tune_grid() over dropout and learn_rate fits every model, saying so once", {
  need_packages("parsnip", "tune", "rsample", "yardstick")
  notices <- backprop:::session_notices
  rm(list = ls(notices), envir = notices)
  model <- parsnip::mlp(dropout = tune::tune(), learn_rate = tune::tune()) |>
    parsnip::set_engine("backprop", threads = 1) |>
    parsnip::set_mode("classification")
  set.seed(7)
  folds <- rsample::vfold_cv(iris, v = 2, strata = Species)
  grid <- expand.grid(dropout = c(0, 0.2), learn_rate = c(0.002, 0.02))
  shown <- 0
  tuned <- withCallingHandlers(
    tune::tune_grid(model, Species ~ ., folds, grid = grid,
                    metrics = yardstick::metric_set(yardstick::accuracy)),
    backprop_first_order = function(m) {
      shown <<- shown + 1
      invokeRestart("muffleMessage")
    }
  )
  expect_equal(shown, 1)
  expect_equal(nrow(tune::collect_notes(tuned)), 0)
  metrics <- tune::collect_metrics(tuned)
  expect_equal(nrow(metrics), nrow(grid))
  expect_true(all(metrics$n == 2))
  expect_gt(max(metrics$mean), 0.9)
  # The fit trains by Adam, with the grid's dropout and learning rate.
  set.seed(8)
  fit <- parsnip::fit(tune::finalize_model(model, data.frame(dropout = 0.2, learn_rate = 0.02)),
                      Species ~ ., data = iris)$fit
  expect_equal(c(fit$optimizer, fit$lr, fit$options$dropout), c("adam", 0.02, 0.2))
})

test_that("penalty is tuned over the engine's range, where no network is flattened", {
  need_packages("parsnip", "tune", "dials", "hardhat")
  model <- parsnip::mlp(penalty = tune::tune()) |>
    parsnip::set_engine("backprop") |>
    parsnip::set_mode("classification")
  params <- hardhat::extract_parameter_set_dials(model)
  penalty <- params$object[[which(params$id == "penalty")]]
  expect_equal(penalty$range, list(lower = -5, upper = -1))
  expect_equal(penalty_backprop()$range, penalty$range)
  expect_equal(dials::grid_regular(penalty, levels = 3)$penalty, c(1e-5, 1e-3, 1e-1))
  # At the range's top a classifier still separates the classes; dials'
  # default top, a decay of 1, flattens it to constant probabilities.
  set.seed(9)
  top <- backprop(Species ~ ., iris, weight_decay = 0.1, threads = 1)
  expect_gt(mean(predict(top, iris, type = "class") == iris$Species), 0.9)
  set.seed(9)
  expect_warning(flat <- backprop(Species ~ ., iris, weight_decay = 1, threads = 1), "saturated")
  expect_lt(max(apply(predict(flat, iris, type = "prob"), 2, sd)), 0.05)
})

test_that("init continues a fit through parsnip and workflows exactly, or refuses", {
  need_packages("parsnip", "workflows", "recipes")
  first <- mtcars[1:20, ]
  rows <- mtcars[13:32, ]
  spec <- function(epochs, init = NULL) {
    engine <- c(list("backprop", threads = 1, optimizer = "adam"), if (!is.null(init)) list(init = init))
    do.call(parsnip::set_engine, c(list(parsnip::mlp(hidden_units = 3, epochs = epochs)), engine)) |>
      parsnip::set_mode("regression")
  }
  continued <- function(wf, formula = NULL) {
    set.seed(1)
    fitted <- parsnip::fit(wf, first)
    model <- spec(0, workflows::extract_fit_engine(fitted))
    again <- parsnip::fit(workflows::update_model(wf, model, formula = formula), rows)
    max(abs(predict(again, mtcars)$.pred - predict(fitted, mtcars)$.pred))
  }
  # With epochs = 0, a continued fit predicts as the fit it continues:
  # with a parsnip formula, with the workflow's variables, and with the
  # data-dependent terms in the model's formula.
  set.seed(1)
  fitted <- parsnip::fit(spec(20), mpg ~ poly(wt, 2) + hp, data = first)
  again <- parsnip::fit(spec(0, fitted$fit), mpg ~ poly(wt, 2) + hp, data = rows)
  expect_equal(predict(again, mtcars)$.pred, predict(fitted, mtcars)$.pred, tolerance = 1e-12)
  variables <- workflows::workflow() |> workflows::add_variables(mpg, c(wt, hp))
  expect_lt(continued(variables |> workflows::add_model(spec(20))), 1e-12)
  model_formula <- mpg ~ poly(wt, 2) + hp
  expect_lt(continued(variables |> workflows::add_model(spec(20), formula = model_formula),
                      model_formula), 1e-12)
  expect_lt(continued(workflows::workflow() |> workflows::add_formula(mpg ~ wt + hp) |>
                        workflows::add_model(spec(20))), 1e-12)
  # A preprocessor the workflow trains again on the new rows would move
  # the predictions (by 1.8 and 0.75 here): refused.
  recipe <- recipes::recipe(mpg ~ wt + hp, data = first) |> recipes::step_normalize(wt, hp)
  expect_snapshot(error = TRUE, {
    continued(workflows::workflow() |> workflows::add_recipe(recipe) |> workflows::add_model(spec(20)))
    continued(workflows::workflow() |> workflows::add_formula(mpg ~ poly(wt, 2) + hp) |>
                workflows::add_model(spec(20)))
  })
  # A recipe without steps trains nothing.
  plain <- recipes::recipe(mpg ~ wt + hp, data = first)
  expect_lt(continued(workflows::workflow() |> workflows::add_recipe(plain) |>
                        workflows::add_model(spec(20))), 1e-12)
  # A workflow of the caller's, not the one being fitted, is not asked.
  with_workflow <- function() {
    workflow <- parsnip::fit(workflows::workflow() |> workflows::add_recipe(recipe) |>
                               workflows::add_model(spec(20)), first)
    parsnip::fit(spec(0, fitted$fit), mpg ~ wt + hp, data = rows)
  }
  set.seed(1)
  fitted <- parsnip::fit(spec(20), mpg ~ wt + hp, data = first)
  expect_equal(predict(with_workflow(), mtcars)$.pred, predict(fitted, mtcars)$.pred,
               tolerance = 1e-12)
})

test_that("validation rows given to the engine are refused where a workflow codes its rows", {
  need_packages("parsnip", "workflows", "recipes")
  train_rows <- mtcars[1:24, ]
  held <- mtcars[25:32, ]
  spec <- function(validation) {
    parsnip::mlp(hidden_units = 3, epochs = 30) |>
      parsnip::set_engine("backprop", threads = 1, optimizer = "adam", select = FALSE,
                          validation = validation) |>
      parsnip::set_mode("regression")
  }
  given <- list(x = held[c("wt", "hp")], y = held$mpg)
  # A recipe's steps code the rows the workflow fits under the same names;
  # the given rows would be read as if coded: refused, as a formula coding
  # a term by the data is.
  recipe <- recipes::recipe(mpg ~ wt + hp, data = train_rows) |> recipes::step_normalize(wt, hp)
  # A fraction is drawn from the coded rows; a workflow that codes nothing
  # reads the given rows as they are, as backprop() does.
  set.seed(1)
  drawn <- parsnip::fit(workflows::workflow(recipe, spec(0.25)), train_rows)
  expect_length(workflows::extract_fit_engine(drawn)$held_out, 6L)
  set.seed(1)
  plain <- parsnip::fit(workflows::workflow(mpg ~ wt + hp, spec(given)), train_rows)
  set.seed(1)
  direct <- backprop(mpg ~ wt + hp, train_rows, hidden = 3, epochs = 30, threads = 1,
                     optimizer = "adam", select = FALSE, validation = given)
  expect_equal(workflows::extract_fit_engine(plain)$val_loss, direct$val_loss, tolerance = 1e-12)
  # So does a recipe whose steps only drop columns (the review of f0316cc:
  # step_zv() was refused).
  dropping <- recipes::recipe(mpg ~ wt + hp, data = train_rows) |> recipes::check_missing(wt) |>
    recipes::step_zv(recipes::all_predictors()) |> recipes::step_arrange(wt)
  set.seed(1)
  zv <- parsnip::fit(workflows::workflow(dropping, spec(given)), train_rows)
  expect_equal(workflows::extract_fit_engine(zv)$val_loss, direct$val_loss, tolerance = 1e-12)
  expect_snapshot(error = TRUE, {
    parsnip::fit(workflows::workflow(recipe, spec(given)), train_rows)
    parsnip::fit(workflows::workflow(mpg ~ poly(wt, 2) + hp, spec(given)), train_rows)
  })
})

test_that("a workflow's formula codes a logical predictor as every other interface does", {
  need_packages("parsnip", "workflows")
  # Pass 24: hardhat's formula preprocessor expanded a logical `L` into
  # LFALSE and LTRUE; the other interfaces give the network LTRUE alone.
  set.seed(1)
  d <- data.frame(a = rnorm(60), L = rep(c(TRUE, FALSE), 30))
  d$y <- d$a + 2 * d$L + rnorm(60, sd = 0.1)
  spec <- parsnip::mlp(hidden_units = 3, epochs = 20) |>
    parsnip::set_engine("backprop", threads = 1, select = FALSE) |> parsnip::set_mode("regression")
  set.seed(3)
  flow <- parsnip::fit(workflows::workflow(y ~ a + L, spec), d)
  set.seed(3)
  direct <- backprop(y ~ a + L, d, hidden = 3, epochs = 20, threads = 1, select = FALSE)
  expect_identical(workflows::extract_fit_engine(flow)$x_names, c("a", "LTRUE"))
  expect_equal(predict(flow, d[1:5, ])$.pred, unname(predict(direct, d[1:5, ])[, 1]), tolerance = 1e-12)
  # So with a logical the formula makes (the review: I(a > 0) and a
  # logical with NA were still two columns).
  set.seed(3)
  flow <- parsnip::fit(workflows::workflow(y ~ a + I(a > 0), spec), d)
  expect_identical(workflows::extract_fit_engine(flow)$x_names, c("a", "`I(a > 0)TRUE`"))
  d$L[3] <- NA
  set.seed(3)
  flow <- suppressWarnings(parsnip::fit(workflows::workflow(y ~ a + L, spec), d))
  expect_identical(workflows::extract_fit_engine(flow)$x_names, c("a", "LTRUE"))
  # A user's own columns named so are the user's (pass 26: xFALSE went).
  d$L[3] <- TRUE
  d$xTRUE <- as.numeric(d$L)
  d$xFALSE <- 1 - d$xTRUE
  flow <- parsnip::fit(workflows::workflow(y ~ a + xFALSE + xTRUE, spec), d)
  expect_identical(workflows::extract_fit_engine(flow)$x_names, c("a", "xFALSE", "xTRUE"))
  # A non-syntactic name, whose columns model.matrix() names in backticks.
  d$`my flag` <- d$L
  flow <- parsnip::fit(workflows::workflow(y ~ a + `my flag`, spec), d)
  expect_length(workflows::extract_fit_engine(flow)$x_names, 2L)
})
