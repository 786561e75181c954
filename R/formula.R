#' @rdname mlp_train
#' @param formula For the formula method: a formula such as `y ~ .` or
#'   `y ~ x1 + log(x2)`. The network's biases play the intercept's part,
#'   with or without one in the formula (as in [nnet::nnet()]); without
#'   (`- 1`), the first factor is coded by one indicator per level, as
#'   [stats::model.matrix()] codes it, rather than against a baseline.
#' @param data For the formula method: a data frame holding the variables of
#'   the formula. Factor and character predictors are dummy-coded (treatment
#'   contrasts, polynomial ones for ordered factors, as
#'   [stats::model.matrix()] codes them) with the levels seen
#'   in training, which are kept in the fit and applied by `predict()`; a
#'   factor response makes a classifier; `cbind(a, b) ~ .` fits two outputs
#'   named `a` and `b`.
#' @param subset For the formula method: which rows of `data` to train on,
#'   as in [stats::lm()] (evaluated in `data`).
#' @param na.action For the formula method: what to do with rows that hold
#'   an `NA` in a variable of the formula, as in [stats::lm()]. The default,
#'   [stats::na.omit()], drops them (they are recorded in the fit);
#'   [stats::na.exclude()] drops them too but pads `fitted()`, `residuals()`
#'   and `predict()` with `NA` in their place; [stats::na.fail()] refuses
#'   them.
#' @export
mlp_train.formula <- function(formula, data, weights, subset, na.action = stats::na.omit, ...) {
  if (missing(data) || !is.data.frame(data)) {
    abort("`data` must be a data frame holding the variables of the formula.")
  }
  given <- check_given(list(...))
  design <- mold_formula(match.call(), "formula", parent.frame(), given$init)
  design$interface <- "formula"
  fit <- fit_design(design, given, NULL, call_as(match.call(), "mlp_train"))
  warn_if_wrong_tool(fit)
  fit
}

# The stored call names the exported function, so that update() re-evaluates
# it (a method's own name would not be found outside the namespace).
call_as <- function(call, fun) {
  call[[1L]] <- as.name(fun)
  call
}
