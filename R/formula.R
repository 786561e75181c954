#' @rdname mlp_train
#' @param formula For the formula method: a formula such as `y ~ .` or
#'   `y ~ x1 + log(x2)`.
#' @param data For the formula method: a data frame holding the variables of
#'   the formula. Factor and character predictors are dummy-coded (treatment
#'   contrasts, as [stats::model.matrix()] codes them) with the levels seen
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
  design <- formula_design(match.call(), "formula", parent.frame())
  fit <- mlp_train.default(design$x, design$y, weights = design$weights, ...)
  finish_design_fit(fit, design, call_as(match.call(), "mlp_train"))
}

# The stored call names the exported function, so that update() re-evaluates
# it (a method's own name would not be found outside the namespace).
call_as <- function(call, fun) {
  call[[1L]] <- as.name(fun)
  call
}

# From a formula method's call to a design: the model frame, evaluated in the
# caller's frame as lm() does (so `subset` and `weights` are evaluated in
# `data`), then the numeric design matrix and what predict() needs to code
# new rows the same way. `formula_arg` is the name of the method's formula
# argument.
formula_design <- function(call, formula_arg, env) {
  keep <- match(c(formula_arg, "data", "subset", "weights", "na.action"), names(call), 0L)
  mf <- call[c(1L, keep)]
  names(mf)[names(mf) == formula_arg] <- "formula"
  if (is.null(mf$na.action)) mf$na.action <- quote(stats::na.omit)
  # Unused levels stay: a response's classes are the levels of its factor.
  mf$drop.unused.levels <- FALSE
  mf[[1L]] <- quote(stats::model.frame)
  frame <- tryCatch({
    # `weights` and `subset` evaluated here, in `data` and then the caller's
    # frame, rather than by model.frame() in the formula's environment: so
    # they also work when passed on through a wrapper's `...`.
    data <- eval(mf$data, env)
    mf$data <- data
    for (arg in intersect(c("weights", "subset"), names(mf))) {
      mf[arg] <- list(eval(mf[[arg]], data, env))
    }
    eval(mf, env)
  }, error = function(e) {
    abort("`", formula_arg, "` cannot be used with `data`: ", conditionMessage(e))
  })
  if (is.null(attr(attr(frame, "terms"), "response")) || attr(attr(frame, "terms"), "response") == 0L) {
    abort("`", formula_arg, "` must have a response, as in y ~ x1 + x2.")
  }
  if (nrow(frame) == 0L) {
    abort("No rows are left to train on after `subset` and `na.action`.")
  }
  design <- frame_design(frame)
  y <- stats::model.response(frame)
  # A numeric response keeps its name, as the output's name.
  if (is.numeric(y) && is.null(dim(y))) y <- matrix(y, dimnames = list(names(y), names(frame)[1L]))
  design$y <- y
  design$weights <- stats::model.weights(frame)
  design$na_action <- attr(frame, "na.action")
  design$model <- frame
  design
}

# A data frame x of the x/y interface with factor or character columns:
# coded through the formula `~ .`, as the formula interface codes it.
data_frame_design <- function(x, arg) {
  for (nm in names(x)) {
    if (anyNA(x[[nm]])) {
      abort("`", arg, "` column `", nm, "` contains NA; remove or impute those rows ",
            "(the formula interface drops them with `na.action`).")
    }
    col <- x[[nm]]
    if (!(is.numeric(col) || is.logical(col) || is.factor(col) || is.character(col))) {
      abort("`", arg, "` must have numeric, logical, factor or character columns; column `",
            nm, "` is ", describe(col), ".")
    }
  }
  frame <- stats::model.frame(~ ., data = x, drop.unused.levels = FALSE)
  frame_design(frame)
}

# The design matrix of a model frame (no intercept column) and its coding.
frame_design <- function(frame) {
  terms <- attr(frame, "terms")
  x <- design_matrix(terms, frame)
  contrasts <- attr(x, "contrasts")
  attr(x, "contrasts") <- NULL
  list(x = x, coding = list(terms = terms, xlevels = stats::.getXlevels(terms, frame),
                            contrasts = contrasts))
}

# model.matrix() without its intercept column and assign attribute, for
# training rows and new rows alike; its "contrasts" attribute is the caller's
# to keep or drop.
design_matrix <- function(terms, frame, contrasts = NULL) {
  x <- stats::model.matrix(terms, frame, contrasts.arg = contrasts)
  contrasts <- attr(x, "contrasts")
  x <- x[, colnames(x) != "(Intercept)", drop = FALSE]
  attr(x, "assign") <- NULL
  attr(x, "contrasts") <- contrasts
  x
}

# The fit of a design: coding, rows dropped, observation weights and the
# model frame, for predict(), fitted(), model.frame() and update().
finish_design_fit <- function(fit, design, call) {
  fit$coding <- design$coding
  fit$na_action <- design$na_action
  fit$model <- design$model
  fit$call <- call
  fit
}

# New rows coded as the training rows were: the same variables, each factor
# (or character) column mapped onto the training levels. A level unseen in
# training is an error naming the column and the level. Rows with NA stay,
# as rows of NA.
code_new_data <- function(coding, newdata, arg) {
  if (!is.data.frame(newdata)) {
    abort("`", arg, "` must be a data frame with the training variables, not ", describe(newdata), ".")
  }
  terms <- stats::delete.response(coding$terms)
  vars <- all.vars(terms)
  absent <- vars[!vars %in% names(newdata) &
                   !vapply(vars, exists, TRUE, envir = environment(terms) %||% baseenv())]
  if (length(absent)) {
    abort("`", arg, "` lacks the training column", if (length(absent) > 1) "s", " ",
          paste0("`", absent, "`", collapse = ", "), ".")
  }
  frame <- tryCatch(
    stats::model.frame(terms, newdata, na.action = stats::na.pass),
    error = function(e) abort("`", arg, "` does not hold the training variables: ", conditionMessage(e))
  )
  classes <- attr(coding$terms, "dataClasses")
  for (nm in names(coding$xlevels)) {
    values <- frame[[nm]]
    known <- coding$xlevels[[nm]]
    seen <- unique(as.character(values[!is.na(values)]))
    unseen <- setdiff(seen, known)
    if (length(unseen)) {
      # A term such as factor(g) is named by its variable.
      vars <- all.vars(str2lang(nm))
      column <- if (nm %in% names(newdata) || length(vars) != 1L) nm else vars
      abort("`", arg, "` column `", column, "` has ", if (length(unseen) > 1) "levels " else "level ",
            paste0('"', unseen, '"', collapse = ", "), " not seen in training (its levels: ",
            paste0('"', known, '"', collapse = ", "), ").")
    }
    frame[[nm]] <- factor(as.character(values), levels = known,
                          ordered = identical(unname(classes[nm]), "ordered"))
  }
  numeric_vars <- names(classes)[classes %in% c("numeric", "logical")]
  for (nm in intersect(numeric_vars, names(frame))) {
    if (!(is.numeric(frame[[nm]]) || is.logical(frame[[nm]]))) {
      abort("`", arg, "` column `", nm, "` must be numeric as in training, not ",
            describe(frame[[nm]]), ".")
    }
  }
  x <- design_matrix(terms, frame, coding$contrasts)
  attr(x, "contrasts") <- NULL
  rownames(x) <- row.names(newdata)
  x
}
