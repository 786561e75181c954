# DALEX: an explainer for a network, a parsnip fit or a workflow, so that
# DALEX's model_parts(), model_profile(), predict_parts() and the rest work
# on it. DALEX stays a suggestion: yhat() and model_info() methods are
# registered only when DALEX is loaded (NAMESPACE's delayed S3method()).

#' A DALEX explainer for a network
#'
#' Wraps a network, or a parsnip fit or workflow holding one, in
#' [DALEX::explain()] with a prediction function that DALEX understands,
#' so that DALEX's explanations (`model_parts()`, `model_profile()`,
#' `predict_parts()`, `model_performance()`, ...) run on it.
#'
#' The prediction function gives, for a regression, the prediction in the
#' response's units; for a classifier with two classes, the probability of
#' the second class (DALEX's convention, with `y` coded 1 for that class
#' and 0 for the first); for more classes, the matrix of class
#' probabilities (DALEX's `"multiclass"` type, with `y` the factor). A
#' workflow or parsnip fit predicts through its own `predict()`, so its
#' formula or recipe applies and DALEX varies the raw variables.
#'
#' With DALEX loaded, `DALEX::yhat()` and `DALEX::model_info()` also answer
#' for an `mlp_fit` directly, so `DALEX::explain(fit, data, y)` works too.
#'
#' @param model An `mlp_fit`, a parsnip fit of `mlp()` with the
#'   `"backprop"` engine, or a fitted workflow holding one.
#' @param data The rows to explain with (a data frame; a matrix for a fit
#'   of the x/y interface), usually held-out data. Outcome columns, and the
#'   column that gave the fit's observation weights, are dropped from it,
#'   so that DALEX does not vary them.
#' @param y The response for `data`. `NULL`: taken from `data` by the
#'   outcome's name (formula, recipe, parsnip and workflow fits).
#' @param label The model's name in DALEX's plots; `NULL`: "backprop", with
#'   "workflow" or "parsnip" added for those fits.
#' @param ... Other arguments of [DALEX::explain()], as `weights` or
#'   `residual_function`.
#' @param verbose Passed to [DALEX::explain()]: `TRUE` prints its checks.
#' @return A DALEX `explainer`.
#' @seealso [mlp_importance()] and [mlp_partial()], this package's own
#'   explanations.
#' @examples
#' if (requireNamespace("DALEX", quietly = TRUE)) {
#'   set.seed(1)
#'   idx <- sample(nrow(mtcars), 22)
#'   fit <- backprop(mpg ~ wt + hp + qsec, mtcars[idx, ], threads = 1)
#'   explainer <- explain_backprop(fit, mtcars[-idx, c("mpg", "wt", "hp", "qsec")])
#'   DALEX::model_parts(explainer, B = 2)
#' }
#' @export
explain_backprop <- function(model, data, y = NULL, label = NULL, ..., verbose = FALSE) {
  if (!requireNamespace("DALEX", quietly = TRUE)) {
    abort("explain_backprop() needs the DALEX package: install it with ",
          "install.packages(\"DALEX\").")
  }
  target <- explain_target(model, "model")
  if (missing(data)) abort("`data` must be a data frame of rows to explain with, usually held out.")
  check_data_rows(data, "data")
  target$variables(data)
  y <- y %||% target$truth(data)
  if (is.null(y)) {
    outcomes <- target$outcomes
    abort("`y` is needed: ", if (length(outcomes)) {
      paste0("`data` lacks the response column", if (length(outcomes) > 1L) "s", " ",
             paste0("`", outcomes, "`", collapse = ", "), "; add it, or give the response as `y`.")
    } else {
      "a fit of the x/y interface never finds its response in `data`; give it as `y`."
    })
  }
  if (NROW(y) != NROW(data)) {
    abort("`y` must have one row per row of `data` (", NROW(data), "), not ", NROW(y), ".")
  }
  check_one_output(target)
  # DALEX varies every column of `data`: the response and the observation
  # weights must not be one.
  if (is.data.frame(data)) data <- data[setdiff(names(data), c(target$outcomes, target$weights(data)))]
  type <- dalex_type(target)
  if (type == "classification") {
    # DALEX's binary convention: 1 for the second class.
    y <- if (is.numeric(y) || is.logical(y)) as.numeric(y) else
      as.numeric(as.character(y) == target$levels[2L])
  } else if (type == "multiclass") {
    y <- factor(as.character(y), levels = target$levels)
  } else {
    y <- as.numeric(if (is.matrix(y)) y[, 1L] else y)
  }
  label <- label %||% switch(target$kind, mlp_fit = "backprop",
                             workflow = "backprop (workflow)", model_fit = "backprop (parsnip)")
  DALEX::explain(model, data = data, y = y, predict_function = dalex_predict, label = label,
                 model_info = dalex_model_info(target, type), type = type, verbose = verbose, ...)
}

dalex_type <- function(target) {
  if (is.null(target$levels)) "regression"
  else if (length(target$levels) == 2L) "classification"
  else "multiclass"
}

# DALEX explains one response: a fit of several outputs (or a quantile
# band's bounds) has no one prediction to explain.
check_one_output <- function(target) {
  outputs <- target$outputs
  if (is.null(target$levels) && length(outputs) > 1L) {
    abort("`model` has ", length(outputs), " outputs; DALEX explains one response at a time.")
  }
}

# DALEX's predict_function(model, newdata): see explain_backprop(). (Also
# yhat()'s, by which DALEX::explain() may reach a fit without
# explain_backprop()'s checks.)
dalex_predict <- function(model, newdata) {
  target <- explain_target(model, "model")
  check_one_output(target)
  type <- dalex_type(target)
  if (type == "regression") return(unname(target$predict(newdata, "response")[, 1L]))
  p <- target$predict(newdata, "prob")
  if (type == "classification") unname(p[, 2L]) else p
}

dalex_model_info <- function(target, type) {
  version <- as.character(utils::packageVersion("backprop"))
  info <- if (target$kind == "mlp_fit") {
    list(package = "backprop", ver = version, type = type)
  } else {
    wrapper <- if (target$kind == "workflow") "workflows" else "parsnip"
    list(package = c(wrapper = wrapper, package = "backprop"),
         ver = c(wrapper = as.character(utils::packageVersion(wrapper)), package = version),
         type = type)
  }
  structure(info, class = "model_info")
}

#' DALEX methods for a network
#'
#' `yhat()` and `model_info()` of \pkg{DALEX}, registered when DALEX is
#' loaded: `DALEX::explain(fit, data, y)` then needs no
#' `predict_function`. [explain_backprop()] does the same and also takes
#' parsnip fits and workflows.
#' @param X.model,model An `mlp_fit`.
#' @param newdata Rows to predict.
#' @param is_multiclass Ignored: the network's classes decide.
#' @param ... Unused.
#' @return `yhat()`: the prediction for a regression, the second class's
#'   probability for two classes, the probability matrix for more.
#'   `model_info()`: a DALEX `model_info` list.
#' @keywords internal
#' @name backprop-dalex
#' @exportS3Method DALEX::yhat
yhat.mlp_fit <- function(X.model, newdata, ...) dalex_predict(X.model, newdata)

#' @rdname backprop-dalex
#' @exportS3Method DALEX::model_info
model_info.mlp_fit <- function(model, is_multiclass = FALSE, ...) {
  target <- explain_target(model, "model")
  dalex_model_info(target, dalex_type(target))
}
