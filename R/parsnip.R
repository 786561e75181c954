# The "backprop" engine of parsnip's mlp(): registered in parsnip's model
# environment when parsnip loads (see .onLoad), so parsnip stays a
# suggestion. parsnip -> backprop_parsnip() (argument mapping) -> backprop().

#' The backprop engine for tidymodels' `mlp()`
#'
#' With \pkg{parsnip} installed, `parsnip::mlp() |> set_engine("backprop")`
#' fits a network by [backprop()], in the modes `"classification"` and
#' `"regression"`. The engine is registered when parsnip is loaded, whether
#' before or after backprop.
#'
#' @section Arguments:
#' parsnip's main arguments of `mlp()` become [backprop()]'s:
#'
#' | parsnip | backprop |
#' |---|---|
#' | `hidden_units` | `hidden` |
#' | `penalty` | `weight_decay = penalty * (1 - mixture)` and `l1 = penalty * mixture` |
#' | `dropout` | `dropout` |
#' | `epochs` | `epochs` |
#' | `activation` | `activation` |
#' | `learn_rate` | `lr` |
#'
#' `mixture` (between 0, all weight decay, and 1, all L1; default 0) is an
#' engine argument: `set_engine("backprop", mixture = 0.5)`, tunable with
#' `tune()`; it splits `penalty`, and without `penalty` it is refused. Any
#' other [backprop()] argument is an engine argument too, as
#' `set_engine("backprop", optimizer = "adam", batch_size = 64)`, except
#' those a main argument sets (`hidden`, `lr`, `weight_decay`, `l1`, ...):
#' given both ways, they are refused. An
#' argument left out takes [backprop()]'s choice for the data's shape
#' ([backprop_defaults()]); with `penalty` left out, [backprop()] selects
#' the weight decay itself (`set_engine("backprop", select = FALSE)` turns
#' that off).
#'
#' Predictions are of type `"numeric"` (regression, in the response's
#' units), `"pred_int"` (regression: conformal intervals, `.pred_lower` and
#' `.pred_upper`, at parsnip's `level`; see [predict.mlp_fit()] and
#' `conformal` in [mlp_train()], an engine argument), `"class"` and
#' `"prob"`. Case weights (`case_weights` in
#' workflows and tune) are observation weights. Factor predictors are
#' dummy-coded by backprop itself, so a recipe needs no `step_dummy()`;
#' inputs are standardized by [backprop()]. The engine takes parsnip's
#' formula as [backprop()]'s formula method does, so interactions
#' (`wt * hp`) and terms such as `poly(hp, 2)` are fitted and predicted.
#'
#' @section Dropout and learning rate:
#' On small data [backprop()] trains by a second-order optimizer (L-BFGS or
#' Levenberg-Marquardt), which takes neither a dropout rate nor a learning
#' rate. So `dropout` or `learn_rate`, given or tuned without an engine
#' `optimizer`, switch the fit to Adam with the settings [backprop()] uses
#' on larger data (its network and weight decay selection stay), and a
#' message says so once per session. Every value of a tuning grid, 0
#' included, switches alike, so the grid's models are comparable and none
#' fails. `set_engine("backprop", optimizer = "rmsprop")` (or any other)
#' chooses the optimizer instead; where the rule's optimizer was second
#' order, it trains at least the epochs of larger data (see [backprop()]).
#'
#' @section Penalty:
#' `penalty` is [backprop()]'s weight decay as it is: `penalty * w` added
#' to the gradient of the mean loss, as brulee's `penalty` (torch's
#' `weight_decay`) is. nnet's `decay` penalizes the summed loss, so it
#' equals about `penalty` times the training rows. (Levenberg-Marquardt
#' sums the squared errors as nnet does and takes a decay against that
#' sum: a given `penalty` leaves it out of [backprop()]'s search, except
#' where the rule trains by it alone, on many rows.)
#'
#' The engine tunes `penalty` over [penalty_backprop()], \eqn{10^{-5}} to
#' \eqn{10^{-1}}, rather than dials' `penalty()`, \eqn{10^{-10}} to 1.
#' On standardized inputs a decay below \eqn{10^{-5}} of the mean loss
#' is as good as none, so dials' lower half of the range gives one model
#' many times over, and a decay of 1 pulls a classifier's weights to
#' zero: constant predictions, at chance accuracy. A default grid over
#' dials' range spends most of its points on these; the engine's range is
#' the one [backprop()]'s own selection searches.
#'
#' @section Continuing a fit:
#' The engine argument `init` continues a backprop fit (as
#' `workflows::extract_fit_engine(fit)`), as [backprop()]'s `init` does. A
#' workflow trains its preprocessor on the rows it fits, so `init` is
#' refused in a workflow whose recipe has steps that code its inputs (not
#' only drop columns or rows, as `step_zv()`) or whose formula has terms
#' coded by the data (`poly()`, `scale()`, splines): the inputs would keep
#' their names with another coding. Workflows of variables, of formulas
#' without such terms, and with the model's own formula
#' (`add_model(spec, formula = )`) continue exactly.
#'
#' @section Validation rows:
#' The engine argument `validation` takes a fraction of the rows the
#' engine is given, coded as they are. Rows given as such
#' (`list(x =, y =)`) are refused in a workflow that codes its rows (a
#' recipe with steps that code its inputs, a formula with terms coded by
#' the data): the workflow codes the rows it fits, not those, which would
#' be read as if coded. [backprop()]'s own recipe interface codes given
#' validation rows by the recipe.
#'
#' @section Submodels:
#' `multi_predict()` is not offered: predicting at fewer `epochs` than were
#' trained would need the weights of every epoch, which the fit does not
#' keep (and L-BFGS, Levenberg-Marquardt and early stopping make the epoch
#' count a bound rather than a schedule). Each value of `epochs` in a grid
#' is its own fit.
#'
#' @param formula,data The model formula and its data, as parsnip passes
#'   them (parsnip turns `fit_xy()`'s predictors and outcome into both).
#' @param hidden_units,penalty,mixture,dropout,epochs,activation,learn_rate
#'   parsnip's arguments, mapped as above (`NULL`: [backprop()]'s choice).
#' @param weights Case weights, or `NULL`.
#' @param ... Engine arguments: other arguments of [backprop()].
#' @return `backprop_parsnip()`: the `mlp_fit` of [backprop()]. It is the
#'   function parsnip calls; use `mlp()` rather than calling it.
#' @examples
#' if (requireNamespace("parsnip", quietly = TRUE)) {
#'   spec <- parsnip::mlp(hidden_units = 5, penalty = 0.01) |>
#'     parsnip::set_engine("backprop", threads = 1) |>
#'     parsnip::set_mode("classification")
#'   fit <- parsnip::fit(spec, Species ~ ., data = iris)
#'   predict(fit, iris[c(1, 51, 101), ], type = "prob")
#' }
#' @name backprop-engine
#' @aliases details_mlp_backprop
NULL

#' The engine's tuning range of `penalty`
#'
#' A \pkg{dials} parameter: the weight decay of the backprop engine of
#' `parsnip::mlp()`, on the log10 scale, over the decays that change a
#' network on standardized inputs without flattening it (see "Penalty" in
#' [backprop-engine]). Tuning `penalty` with the engine uses it; give it to
#' a dials grid function to build a grid yourself.
#'
#' @param range The range on the log10 scale: \eqn{10^{-5}} to
#'   \eqn{10^{-1}} by default.
#' @return A `quant_param` of \pkg{dials}, as `dials::penalty()`'s.
#' @examples
#' if (requireNamespace("dials", quietly = TRUE)) {
#'   penalty_backprop()
#'   dials::grid_regular(penalty_backprop(), levels = 3)
#' }
#' @export
penalty_backprop <- function(range = c(-5, -1)) {
  if (!requireNamespace("dials", quietly = TRUE)) {
    abort("`penalty_backprop()` needs the dials package: install.packages(\"dials\").")
  }
  dials::penalty(range = range)
}

#' @rdname backprop-engine
#' @export
backprop_parsnip <- function(formula, data, hidden_units = NULL, penalty = NULL, mixture = NULL,
                             dropout = NULL, epochs = NULL, activation = NULL,
                             learn_rate = NULL, weights = NULL, ...) {
  if (!is.null(mixture)) {
    mixture <- check_number(mixture, "mixture", lower = 0, upper = 1, open = FALSE)
    if (is.null(penalty)) {
      abort("`mixture` splits `penalty` between weight decay and L1; without `penalty` it ",
            "does nothing. Give `penalty` too (mlp(penalty = )), or leave `mixture` out.")
    }
  }
  # The preprocessor of the workflow being fitted, if any (workflows'
  # fit.action_model() holds it), read once for both.
  workflow <- calling_object("workflow", "workflow", "workflows")$pre$mold$blueprint
  refuse_workflow_recoding(list(...), workflow)
  data <- one_column_per_logical(data, workflow)
  args <- list(formula = formula, data = quote(data), weights = weights, hidden = hidden_units,
               epochs = epochs, lr = learn_rate, activation = activation,
               weight_decay = if (!is.null(penalty)) penalty * (1 - (mixture %||% 0)),
               l1 = if (!is.null(penalty)) penalty * (mixture %||% 0),
               dropout = dropout)
  # An engine argument that a main argument also sets would be dropped by
  # R's matching of backprop()'s `...`: refused by both names.
  main <- c(hidden = "hidden_units", epochs = "epochs", lr = "learn_rate",
            activation = "activation", weight_decay = "penalty", l1 = "penalty",
            dropout = "dropout")
  twice <- intersect(names(list(...)), intersect(names(main), names(args)[!vapply(args, is.null, NA)]))
  if (length(twice)) {
    abort("`", twice[1L], "` is given twice: as an engine argument (set_engine()) and by mlp()'s `",
          main[[twice[1L]]], "`. Give it once.")
  }
  # The formula and its data reach backprop()'s formula method as they are:
  # interactions, poly() and the like are its terms, for fitting and
  # predicting alike. `data` stays a name in the fit's call.
  do.call(backprop, c(args[!vapply(args, is.null, logical(1))], list(...)))
}

# A workflow trains its preprocessor on the rows it fits before parsnip
# calls the engine. Inputs coded by a recipe's steps, or by a formula's
# terms that depend on the data (poly(), scale(), splines), then keep their
# names but not the coding a continued fit (`init`) was trained on, and
# given validation rows are not coded at all. The engine only sees the
# coded columns, so it asks the workflow being fitted (`dots`: the engine
# arguments; `blueprint`: the workflow's preprocessor, NULL outside one).
# Steps that only drop columns or rows (step_zv()) code nothing.
refuse_workflow_recoding <- function(dots, blueprint) {
  continuing <- inherits(dots$init, "mlp_fit")
  if (!continuing && !given_validation_rows(dots$validation)) return(invisible())
  if (inherits(blueprint, "recipe_blueprint") && recodes_values(blueprint$recipe)) {
    if (continuing) {
      abort("`init` cannot continue a fit in a workflow whose recipe has steps that code its ",
            "inputs: the workflow trains them again on these rows, so the inputs keep their ",
            "names but not the coding `init` was fitted with. Code the rows with the first ",
            "workflow's recipe (recipes::bake(workflows::extract_recipe(fit), new_data)) and ",
            "continue on them without steps, or fit anew.")
    }
    abort("`validation` rows cannot be given to the engine in a workflow whose recipe has ",
          "steps that code its inputs: the workflow codes the rows it fits, not these, which ",
          "would be read as if coded. Give `validation` as a fraction of the rows (such as ",
          "0.2), or fit with backprop(recipe, data, validation = rows), which codes them by ",
          "the recipe.")
  }
  if (inherits(blueprint, "formula_blueprint")) {
    term <- recoded_term(blueprint$terms$predictors)
    if (!is.null(term)) {
      if (continuing) {
        abort("`init` cannot continue a fit in a workflow whose formula codes `", term,
              "` by the data: the workflow codes it again on these rows, under the same names. ",
              "Give that formula to the model instead (workflows::add_model(spec, formula = )), ",
              "with the variables as the workflow's preprocessor, or fit anew.")
      }
      abort("`validation` rows cannot be given to the engine in a workflow whose formula codes `",
            term, "` by the data: the workflow codes the rows it fits, not these. Give ",
            "`validation` as a fraction of the rows (such as 0.2), or give that formula to the ",
            "model instead (workflows::add_model(spec, formula = )).")
    }
  }
  invisible()
}

# A workflow's formula preprocessor (hardhat's, with the engine's
# `predictor_indicators = "none"`) passes factors on as they are but
# expands a logical predictor, or a logical term such as I(b > 0), by
# model.matrix() without an intercept: two columns, `LFALSE` and `LTRUE`,
# that sum to 1 (both NA on a row whose L is NA). Every other interface
# codes it as LTRUE alone, and so does the engine: LFALSE goes. (At
# prediction the forged rows hold it too; the fit's formula does not read
# it.) `blueprint`: the workflow's preprocessor, NULL outside one.
one_column_per_logical <- function(data, blueprint) {
  if (!inherits(blueprint, "formula_blueprint")) return(data)
  # The pair's stem is a term of the formula: a logical variable, or an
  # expression (not a column of other type, whose user may have columns
  # named xFALSE and xTRUE of their own).
  predictors <- blueprint$ptypes$predictors
  labels <- attr(blueprint$terms$predictors, "term.labels")
  logical_terms <- labels[vapply(labels, function(term) {
    name <- gsub("`", "", term, fixed = TRUE)
    if (name %in% names(predictors)) is.logical(predictors[[name]]) else !grepl(":", term, fixed = TRUE)
  }, NA)]
  # (model.matrix() names the columns of a non-syntactic name in backticks,
  # `my flag`TRUE, and those of an expression without, I(b > 0)TRUE.)
  stems <- unique(c(logical_terms, gsub("`", "", logical_terms, fixed = TRUE)))
  for (yes in paste0(stems, "TRUE")) {
    no <- sub("TRUE$", "FALSE", yes)
    if (!all(c(yes, no) %in% names(data)) || !is.numeric(data[[yes]]) || !is.numeric(data[[no]])) next
    sum <- data[[yes]] + data[[no]]
    if (identical(is.na(data[[yes]]), is.na(data[[no]])) && all(sum[!is.na(sum)] == 1) &&
        all(data[[yes]] %in% c(0, 1, NA))) {
      data[[no]] <- NULL
    }
  }
  data
}

# Adds the engine to parsnip's model environment, once.
register_parsnip_engine <- function() {
  if (!requireNamespace("parsnip", quietly = TRUE)) return(invisible(FALSE))
  if ("backprop" %in% parsnip::get_model_env()$mlp$engine) return(invisible(FALSE))
  modes <- c("classification", "regression")
  for (mode in modes) {
    parsnip::set_model_engine("mlp", mode = mode, eng = "backprop")
    parsnip::set_dependency("mlp", eng = "backprop", pkg = "backprop", mode = mode)
  }
  # Tuning ranges from dials; the bridge takes parsnip's names as they are.
  arguments <- list(
    hidden_units = list(pkg = "dials", fun = "hidden_units"),
    # The decays that matter on the mean loss (see ?penalty_backprop).
    penalty = list(pkg = "backprop", fun = "penalty_backprop"),
    mixture = list(pkg = "dials", fun = "mixture"),
    dropout = list(pkg = "dials", fun = "dropout"),
    epochs = list(pkg = "dials", fun = "epochs"),
    activation = list(pkg = "dials", fun = "activation",
                      values = c("relu", "tanh", "sigmoid", "elu", "gelu", "silu")),
    learn_rate = list(pkg = "dials", fun = "learn_rate", range = c(-4, -1))
  )
  for (name in names(arguments)) {
    parsnip::set_model_arg(model = "mlp", eng = "backprop", parsnip = name, original = name,
                           func = arguments[[name]], has_submodel = FALSE)
  }
  for (mode in modes) {
    parsnip::set_fit(model = "mlp", eng = "backprop", mode = mode, value = list(
      interface = "formula",
      protect = c("formula", "data", "weights"),
      func = c(pkg = "backprop", fun = "backprop_parsnip"),
      defaults = list()
    ))
    parsnip::set_encoding(model = "mlp", eng = "backprop", mode = mode, options = list(
      predictor_indicators = "none", compute_intercept = FALSE,
      remove_intercept = FALSE, allow_sparse_x = FALSE
    ))
  }
  predict_call <- function(type) {
    list(object = quote(object$fit), newdata = quote(new_data), type = type)
  }
  parsnip::set_pred(model = "mlp", eng = "backprop", mode = "regression", type = "numeric",
                    value = list(pre = NULL, post = parsnip_numeric, func = c(fun = "predict"),
                                 args = predict_call("response")))
  # Conformal intervals: parsnip passes `level` (see predict.mlp_fit()).
  parsnip::set_pred(model = "mlp", eng = "backprop", mode = "regression", type = "pred_int",
                    value = list(pre = NULL, post = parsnip_interval, func = c(fun = "predict"),
                                 args = c(predict_call("pred_int"), list(level = quote(level)))))
  parsnip::set_pred(model = "mlp", eng = "backprop", mode = "classification", type = "class",
                    value = list(pre = NULL, post = NULL, func = c(fun = "predict"),
                                 args = predict_call("class")))
  parsnip::set_pred(model = "mlp", eng = "backprop", mode = "classification", type = "prob",
                    value = list(pre = NULL, post = parsnip_prob, func = c(fun = "predict"),
                                 args = predict_call("prob")))
  invisible(TRUE)
}

# One output: a vector, as parsnip's numeric predictions are; several: a
# tibble named by the outcomes.
parsnip_numeric <- function(results, object) {
  if (is_band(object$fit)) {
    abort("This network is a quantile band: it predicts two bounds, not one value. ",
          "Use predict(type = \"pred_int\") for its calibrated interval, or fit a ",
          "single `tau`.")
  }
  if (ncol(results) == 1L) return(unname(results[, 1L]))
  tibble::as_tibble(as.data.frame(results))
}

# Bounds as parsnip names them: `.pred_lower` and `.pred_upper`, and per
# outcome for several.
parsnip_interval <- function(results, object) {
  names <- colnames(results)
  colnames(results) <- if (ncol(results) == 2L) c(".pred_lower", ".pred_upper") else
    paste0(".pred_", sub("_(lower|upper)$", "_\\1", names))
  tibble::as_tibble(as.data.frame(results))
}

parsnip_prob <- function(results, object) {
  tibble::as_tibble(as.data.frame(results))
}
