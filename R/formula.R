#' @rdname mlp_train
#' @param data For the formula method: a data frame holding the variables of
#'   the formula. Factor predictors are dummy-coded (one column per level); a
#'   factor response makes a classifier.
#' @export
mlp_train.formula <- function(X, data, ...) {
  if (missing(data) || !is.data.frame(data)) {
    abort("`data` must be a data frame holding the variables of the formula.")
  }
  processed <- mold_formula(X, data)
  outcomes <- processed$outcomes
  if (ncol(outcomes) == 0L) abort("`X` (the formula) must have a response, as in y ~ x1 + x2.")
  Y <- if (ncol(outcomes) == 1L && is.factor(outcomes[[1]])) outcomes[[1]] else as.matrix(outcomes)
  fit <- mlp_train.default(as.matrix(processed$predictors), Y, ...)
  fit$blueprint <- processed$blueprint
  fit$call <- match.call()
  fit
}

formula_blueprint <- function() {
  hardhat::default_formula_blueprint(indicators = "traditional", intercept = FALSE)
}

mold_formula <- function(formula, data) {
  tryCatch(
    hardhat::mold(formula, data, blueprint = formula_blueprint()),
    error = function(e) abort("`X` (the formula) cannot be used with `data`: ", conditionMessage(e))
  )
}

# Data frames with factor or character columns are dummy-coded through the
# same blueprint as the formula interface; returns list(x, blueprint).
mold_data_frame <- function(df) {
  processed <- hardhat::mold(~ ., df, blueprint = formula_blueprint())
  list(x = as.matrix(processed$predictors), blueprint = processed$blueprint)
}

# New data through a fit's blueprint; hardhat's warnings about novel levels
# become errors, since silently predicting NA would be a wrong answer.
forge_new_data <- function(new_data, blueprint) {
  if (!is.data.frame(new_data)) {
    abort("`new_data` must be a data frame with the training columns, not ", describe(new_data), ".")
  }
  forged <- withCallingHandlers(
    tryCatch(hardhat::forge(new_data, blueprint),
             error = function(e) abort("`new_data` does not match the training data: ",
                                       conditionMessage(e))),
    warning = function(w) abort("`new_data` does not match the training data: ",
                                conditionMessage(w))
  )
  x <- as.matrix(forged$predictors)
  rownames(x) <- rownames(new_data)
  x
}
