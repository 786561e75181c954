# broom's verbs for a fit, through the generics package: tidy() the
# parameters, glance() the training, augment() data with predictions.

#' @importFrom generics tidy
#' @export
generics::tidy

#' @importFrom generics glance
#' @export
generics::glance

#' @importFrom generics augment
#' @export
generics::augment

#' Tidy summaries of a trained network (broom's verbs)
#'
#' `tidy()` gives the network's parameters, one row per weight and bias (an
#' ensemble's first member's, as `fit$weights`; `fit$members` holds them all);
#' `glance()` gives its training in one row; `augment()` adds predictions
#' (and residuals, where the data hold the response) to data.
#'
#' @param x An `mlp_fit`.
#' @param data For `augment()`: a data frame, usually the training data,
#'   with the training variables (and the response, for residuals). Left
#'   out, the training rows: the fit's model frame (formula fits), or for
#'   the x/y and recipe interfaces, which keep no copy of their data, the
#'   fitted values and residuals alone.
#' @param newdata For `augment()`: new data to predict, as for
#'   [predict.mlp_fit()]; used instead of `data` when given.
#' @param ... Not used: any other argument is an error.
#' @return A tibble. `tidy()`: columns `layer` (1 for the weights from the
#'   inputs), `from` (an input variable, a hidden unit `h<layer>.<unit>`, or
#'   `"bias"`; `"bias (row i)"` for the row layout), `to` (a hidden unit or
#'   an output: the response's name or class level; for a quantile band,
#'   `q<upper level>` and `-q<lower level>`, as the network's second output
#'   is the lower bound negated) and `estimate`.
#'   `glance()`: `nobs`, `loss` (the training loss of the weights the fit
#'   returns, those of the last epoch or with validation of the best, on
#'   the training rows and without dropout, where `fitted()` reads them. The
#'   fit's per-epoch record `fit$loss` need not hold it, as minibatch
#'   optimizers record an epoch's mean over its batches and first-order
#'   optimizers on the full batch, as `"gd"`, the loss of the weights an
#'   epoch starts from, as the article's output is. Of a standardized
#'   response when `scale = TRUE` standardized it; an
#'   ensemble's losses and epochs are its first member's), `val_loss` (the
#'   best validation loss, `NA` without validation), `epochs` (epochs run),
#'   `best_epoch` (`NA` without validation), `status` and `time` (training
#'   time in seconds, of every start or ensemble member). `augment()`: the
#'   data with `.fitted` and `.resid`
#'   (one of each per output, `.fitted_<name>`, for several outputs) for a
#'   regression, `.pred_class` and `.pred_<level>` for a classifier; and
#'   first, when the rows have names other than 1, 2, ..., `.rownames`.
#' @examples
#' fit <- backprop(mpg ~ wt + hp, mtcars, threads = 1)
#' tidy(fit)
#' glance(fit)
#' head(augment(fit, data = mtcars))
#' @name mlp_fit-tidiers
NULL

#' @rdname mlp_fit-tidiers
#' @export
tidy.mlp_fit <- function(x, ...) {
  check_dots(list(...), "tidy()", "it takes only the fit")
  units <- unit_names(x)
  parts <- lapply(seq_along(x$weights), function(l) {
    w <- x$weights[[l]]
    b <- x$biases[[l]]
    bias_from <- if (nrow(b) == 1L) rep("bias", length(b)) else paste0("bias (row ", row(b), ")")
    data.frame(layer = l,
               from = c(units[[l]][row(w)], bias_from),
               to = c(units[[l + 1L]][col(w)], units[[l + 1L]][col(b)]),
               estimate = c(c(w), c(b)),
               stringsAsFactors = FALSE)
  })
  tibble::as_tibble(do.call(rbind, parts))
}

# The names of every layer's units: inputs, hidden units, outputs.
unit_names <- function(fit) {
  labels <- network_labels(fit)
  hidden <- lapply(seq_along(fit$hidden), function(l) paste0("h", l, ".", seq_len(fit$hidden[l])))
  c(list(labels$inputs), hidden, list(labels$outputs))
}

#' @rdname mlp_fit-tidiers
#' @export
glance.mlp_fit <- function(x, ...) {
  check_dots(list(...), "glance()", "it takes only the fit")
  epochs <- length(x$loss)
  validated <- length(x$val_loss) > 0L
  tibble::tibble(
    nobs = as.integer(stats::nobs(x)),
    loss = kept_loss(x),
    val_loss = if (validated) min(x$val_loss) else NA_real_,
    epochs = as.integer(epochs),
    best_epoch = if (validated) as.integer(x$best_epoch) else NA_integer_,
    status = x$status,
    time = x$seconds %||% NA_real_
  )
}

#' @rdname mlp_fit-tidiers
#' @export
augment.mlp_fit <- function(x, data = NULL, newdata = NULL, ...) {
  check_dots(list(...), "augment()", "its arguments are `data` and `newdata`")
  type <- if (is.null(x$levels)) "response" else "prob"
  if (!is.null(newdata) || !is.null(data)) {
    # New rows (or the training rows given again) through the fit's one data
    # path, as predict() takes them.
    rows <- newdata %||% data
    arg <- if (!is.null(newdata)) "newdata" else "data"
    check_data_rows(rows, arg)
    out <- rows
    pred <- predict(x, newdata = rows, type = type)
    truth <- outcome_in(x$blueprint, rows)
  } else {
    # The training rows: a formula fit's model frame, else (the x/y and
    # recipe interfaces keep no copy of their data) the fitted values
    # alone, row for row.
    out <- x$model
    if (x$interface != "formula") {
      out <- as.data.frame(matrix(nrow = nrow(x$fitted_raw), ncol = 0L))
      row.names(out) <- rownames(x$fitted_raw)
    }
    pred <- to_response(x, x$fitted_raw, type)
    truth <- training_targets(x)
  }
  # Row names other than 1, 2, ... go in a first column, as broom's
  # augment() methods put them (a tibble has none, and rows after na.omit()
  # keep their numbers).
  had_names <- !tibble::is_tibble(out)
  out <- as.data.frame(out, stringsAsFactors = FALSE)
  row_names <- row.names(out)
  if (!had_names || ".rownames" %in% names(out) || identical(row_names, as.character(seq_len(nrow(out))))) {
    row_names <- NULL
  }
  out <- tibble::as_tibble(out, .name_repair = "minimal")
  if (!is.null(row_names)) out <- tibble::add_column(out, .rownames = row_names, .before = 1L)
  if (!is.null(x$levels)) {
    out$.pred_class <- to_response(x, pred, "class")
    for (k in seq_along(x$levels)) out[[paste0(".pred_", x$levels[k])]] <- unname(pred[, k])
    return(out)
  }
  names <- if (ncol(pred) == 1L) "" else paste0("_", colnames(pred) %||% seq_len(ncol(pred)))
  for (k in seq_len(ncol(pred))) out[[paste0(".fitted", names[k])]] <- unname(pred[, k])
  # (A quantile band's two bounds have no residuals.)
  if (is.numeric(truth) && NCOL(truth) == ncol(pred)) {
    truth <- as.matrix(truth)
    for (k in seq_len(ncol(pred))) out[[paste0(".resid", names[k])]] <- unname(truth[, k] - pred[, k])
  }
  out
}

# Rows for prediction: a data frame, or a matrix for a fit of the x/y
# interface; `arg` names them in the error, `hint` adds to it.
check_data_rows <- function(data, arg, hint = "") {
  if (!is.data.frame(data) && !is.matrix(data)) {
    abort("`", arg, "` must be a data frame (or a matrix for a fit of the x/y interface)", hint,
          ", not ", describe(data), ".")
  }
}

# Column `v` of a data frame or matrix, and the same with it replaced.
data_column <- function(data, v) if (is.data.frame(data)) data[[v]] else data[, v]
`data_column<-` <- function(data, v, value) {
  if (is.data.frame(data)) data[[v]] <- value else data[, v] <- value
  data
}
