# Explanations of a fit: which inputs matter (permutation importance, and
# Garson's and Olden's weight-based measures) and how the prediction moves
# with one of them (partial dependence).

importance_methods <- c("permutation", "garson", "olden")
importance_metrics <- c("rmse", "mae", "log_loss", "error_rate")

#' Variable importance of a trained network
#'
#' * `"permutation"`: how much worse the network predicts `data` when one
#'   variable's values are shuffled across its rows, breaking its link to the
#'   response; averaged over `repeats` shuffles, with the standard error of
#'   that mean. It works for any network and measures importance on the
#'   data given: use held-out rows to see what the network relies on for
#'   new data. Variables are those of the training data (a factor is
#'   shuffled as one variable, not by dummy column). The shuffles are draws
#'   of R's RNG: `set.seed()` makes them reproducible.
#' * `"garson"` (Garson 1991, as in Goh 1995): each input's share of the
#'   absolute products of input-to-hidden and hidden-to-output weights,
#'   taken per hidden unit and summed, scaled to sum to 1. In these shares
#'   a hidden unit's output weight cancels, so the measure is the same for
#'   every output and is given once.
#' * `"olden"` (Olden and Jackson 2002): the sum over hidden units of those
#'   products with their signs, so a negative value marks an input that
#'   lowers the output.
#'
#' The weight-based measures need one hidden layer and read the network's
#' input columns (a factor's dummy columns each). They compare inputs on the
#' scale the network saw: comparable when the inputs were standardized (as
#' [backprop()] and `scale = TRUE` do), in the inputs' own units otherwise.
#'
#' @param fit An `mlp_fit`.
#' @param data For `"permutation"`: rows to predict, in the form used for
#'   training (a data frame for the formula and recipe interfaces), holding
#'   the response unless `y` is given. Not used by the weight-based methods.
#' @param method `"permutation"`, `"garson"` or `"olden"`.
#' @param y The response for `data`, when `data` does not hold it (always
#'   for fits of the x/y interface).
#' @param repeats Shuffles per variable.
#' @param metric How prediction error is measured: `"rmse"` (the default for
#'   a regression) or `"mae"`; `"log_loss"` (the default for a classifier)
#'   or `"error_rate"`.
#' @return An `mlp_importance` data frame sorted by decreasing importance
#'   (by its size, for Olden's signed measure): `variable`, `importance`
#'   and, for permutation, `std_error`; with several outputs, Olden's
#'   method gives one row per variable and output, with a column `output`. Its attributes `method` and, for
#'   permutation, `metric` and `baseline` (the error of the unshuffled data)
#'   say how it was measured. `plot()` draws it.
#' @references Garson, G. D. (1991). Interpreting neural-network connection
#'   weights. *AI Expert*, 6(4), 46-51.
#'
#'   Olden, J. D. and Jackson, D. A. (2002). Illuminating the "black box": a
#'   randomization approach for understanding variable contributions in
#'   artificial neural networks. *Ecological Modelling*, 154, 135-150.
#' @seealso [mlp_partial()] for how a variable moves the prediction.
#' @examples
#' set.seed(1)
#' idx <- sample(nrow(mtcars), 22)
#' fit <- backprop(mpg ~ wt + hp + qsec, mtcars[idx, ], threads = 1)
#' imp <- mlp_importance(fit, mtcars[-idx, ], repeats = 5)
#' imp
#' plot(imp)
#' mlp_importance(fit, method = "olden")
#' @export
mlp_importance <- function(fit, data = NULL, method = c("permutation", "garson", "olden"),
                           y = NULL, repeats = 10, metric = NULL) {
  check_fit(fit, "fit")
  method <- check_choice(method[1], importance_methods, "method")
  if (method == "permutation") {
    out <- permutation_importance(fit, data, y, check_count(repeats, "repeats", min = 1), metric)
  } else {
    out <- weight_importance(fit, method)
  }
  measured <- attributes(out)[c("metric", "baseline")]
  # Olden's measure is signed: its size ranks the inputs.
  out <- out[order(-if (method == "olden") abs(out$importance) else out$importance), , drop = FALSE]
  rownames(out) <- NULL
  structure(out, class = c("mlp_importance", "data.frame"), method = method,
            metric = measured$metric, baseline = measured$baseline)
}

check_fit <- function(fit, arg) {
  if (!inherits(fit, "mlp_fit")) {
    abort("`", arg, "` must be a network from mlp_train() or backprop(), not ", describe(fit), ".")
  }
}

permutation_importance <- function(fit, data, y, repeats, metric) {
  if (is.null(data)) {
    abort("`data` is needed for permutation importance: rows with the response, ",
          "preferably held out from training.")
  }
  check_data_rows(data, "data")
  truth <- y %||% outcome_in(fit$blueprint, data)
  if (is.null(truth)) {
    abort("`y` is needed: `data` does not hold the response (a fit of the x/y interface ",
          "never finds it there).")
  }
  if (NROW(truth) != NROW(data)) {
    abort("`y` must have one row per row of `data` (", NROW(data), "), not ", NROW(truth), ".")
  }
  classifier <- !is.null(fit$levels)
  metric <- metric %||% if (classifier) "log_loss" else "rmse"
  metric <- check_choice(metric, importance_metrics, "metric")
  if (classifier != (metric %in% c("log_loss", "error_rate"))) {
    abort("`metric = \"", metric, "\"` is for ", if (classifier) "a regression" else "a classifier",
          "; this network is ", if (classifier) "a classifier: use \"log_loss\" or \"error_rate\"."
          else "a regression: use \"rmse\" or \"mae\".")
  }
  variables <- fit_variables(fit, data)
  incomplete <- variables[vapply(variables, function(v) anyNA(data_column(data, v)), logical(1))]
  if (length(incomplete)) {
    abort("`data` has NA in ", paste0("`", incomplete, "`", collapse = ", "), ": shuffling would move ",
          "them between rows; remove those rows first, as with stats::na.omit().")
  }
  error_of <- prediction_error(fit, truth, metric)
  baseline <- error_of(data)
  n <- NROW(data)
  rises <- vapply(variables, function(v) {
    vapply(seq_len(repeats), function(r) {
      shuffled <- data
      data_column(shuffled, v) <- data_column(data, v)[sample.int(n)]
      error_of(shuffled) - baseline
    }, numeric(1))
  }, numeric(repeats))
  rises <- matrix(rises, nrow = repeats)
  out <- data.frame(variable = variables, importance = colMeans(rises),
                    std_error = if (repeats > 1) apply(rises, 2, stats::sd) / sqrt(repeats) else NA_real_,
                    stringsAsFactors = FALSE)
  structure(out, metric = metric, baseline = baseline)
}

# function(rows) -> the error of the network's predictions of `rows`
# against `truth`, by `metric`.
prediction_error <- function(fit, truth, metric) {
  if (!is.null(fit$levels)) {
    truth <- as.character(truth)
    if (anyNA(truth) || !all(truth %in% fit$levels)) {
      abort("The response in `data` (or `y`) must hold the classes of the fit (",
            paste0('"', fit$levels, '"', collapse = ", "), ") and no NA.")
    }
    index <- cbind(seq_along(truth), match(truth, fit$levels))
    return(function(rows) {
      p <- predict(fit, newdata = rows, type = "prob")
      if (metric == "log_loss") -mean(log(pmax(p[index], 1e-15)))
      else mean(max.col(p, ties.method = "first") != index[, 2L])
    })
  }
  truth <- as.matrix(truth)
  if (!is.numeric(truth) || anyNA(truth)) abort("The response in `data` (or `y`) must be numeric with no NA.")
  function(rows) {
    e <- predict(fit, newdata = rows) - truth
    if (metric == "rmse") sqrt(mean(e^2)) else mean(abs(e))
  }
}

# The variables of the training data, by which permutation and partial
# dependence address columns of `data`: the formula's or the recipe's
# predictors, the data frame's columns, or a matrix's column names (or
# numbers).
fit_variables <- function(fit, data) {
  vars <- blueprint_variables(fit$blueprint)
  if (is.numeric(vars)) return(vars)
  absent <- setdiff(vars, colnames(data))
  if (length(absent)) {
    abort("`data` lacks the training column", if (length(absent) > 1) "s", " ",
          paste0("`", absent, "`", collapse = ", "), ".")
  }
  vars
}

weight_importance <- function(fit, method) {
  if (length(fit$weights) != 2L) {
    abort("`method = \"", method, "\"` needs a network with one hidden layer; this one has ",
          length(fit$hidden), ". Use `method = \"permutation\"`.")
  }
  w_in <- fit$weights[[1L]]
  w_out <- fit$weights[[2L]]
  labels <- network_labels(fit)
  # Garson's shares do not depend on the output (see the documentation).
  outputs <- if (method == "garson") 1L else seq_len(ncol(w_out))
  per_output <- lapply(outputs, function(k) {
    products <- sweep(w_in, 2L, w_out[, k], `*`)
    importance <- if (method == "olden") {
      rowSums(products)
    } else {
      share <- sweep(abs(products), 2L, pmax(colSums(abs(products)), .Machine$double.xmin), `/`)
      rowSums(share) / sum(share)
    }
    data.frame(variable = labels$inputs, output = labels$outputs[k], importance = importance,
               stringsAsFactors = FALSE)
  })
  out <- do.call(rbind, per_output)
  if (length(outputs) == 1L) out$output <- NULL
  out
}

#' @export
print.mlp_importance <- function(x, digits = 4, ...) {
  method <- attr(x, "method")
  cat("Variable importance (", method,
      if (method == "permutation") paste0(", rise in ", attr(x, "metric"), " from ",
                                          format(signif(attr(x, "baseline"), digits))),
      ")\n", sep = "")
  print(as.data.frame(unclass(x), stringsAsFactors = FALSE), digits = digits, row.names = FALSE)
  invisible(x)
}

#' @rdname mlp_importance
#' @param x An `mlp_importance`.
#' @param ... Graphical parameters for [graphics::barplot()].
#' @export
plot.mlp_importance <- function(x, ...) {
  method <- attr(x, "method")
  label <- switch(method,
                  permutation = paste0("rise in ", attr(x, "metric"), " when shuffled"),
                  garson = "Garson's relative importance",
                  olden = "Olden's connection weight")
  old <- graphics::par(mar = c(4.5, max(4, 0.6 * max(nchar(x$variable))), 2.5, 1))
  on.exit(graphics::par(old))
  if (is.null(x$output)) {
    ord <- rev(seq_len(nrow(x)))
    mids <- graphics::barplot(x$importance[ord], names.arg = x$variable[ord], horiz = TRUE,
                              las = 1, xlab = label, col = "#0072B2", border = NA,
                              main = "Variable importance", ...)
    if (!is.null(x$std_error) && any(is.finite(x$std_error))) {
      se <- x$std_error[ord]
      # Bars too short to draw are left out (arrows() warns of them).
      ok <- is.finite(se) & se > 0.005 * max(abs(x$importance), se)
      graphics::arrows(x$importance[ord][ok] - se[ok], mids[ok], x$importance[ord][ok] + se[ok],
                       mids[ok], angle = 90, code = 3, length = 0.03)
    }
  } else {
    table <- tapply(x$importance, list(x$output, x$variable), identity)
    outputs <- rownames(table)
    graphics::barplot(table, beside = TRUE, horiz = TRUE, las = 1, xlab = label,
                      col = grDevices::hcl.colors(length(outputs), "Dark 3"), border = NA,
                      legend.text = outputs, args.legend = list(bty = "n", cex = 0.8),
                      main = "Variable importance by output", ...)
  }
  invisible(x)
}

#' Partial dependence of a network's prediction on one variable
#'
#' For each value on a grid of `variable`, every row of `data` gets that
#' value and the network's predictions are averaged: the curve shows how
#' the prediction moves with the variable, the others held at their
#' observed values (Friedman 2001). A classifier gives one curve per class,
#' of its probability.
#'
#' @param fit An `mlp_fit`.
#' @param data Rows in the form used for training (a data frame for the
#'   formula and recipe interfaces), usually the training data.
#' @param variable The variable's name, or for a matrix without column
#'   names its column number.
#' @param grid The number of grid points for a numeric variable, placed at
#'   its quantiles; or the values themselves. A factor, character or
#'   logical variable takes each of its values.
#' @return An `mlp_partial` data frame: `value`, `output` (the response's
#'   name, or the class), and `yhat` (the mean prediction: response units
#'   for a regression, probability for a classifier), with the attribute
#'   `variable`. `plot()` draws it.
#' @references Friedman, J. H. (2001). Greedy function approximation: a
#'   gradient boosting machine. *Annals of Statistics*, 29(5), 1189-1232.
#' @seealso [mlp_importance()].
#' @examples
#' fit <- backprop(mpg ~ wt + hp, mtcars, threads = 1)
#' pd <- mlp_partial(fit, mtcars, "wt")
#' head(pd)
#' plot(pd)
#' @export
mlp_partial <- function(fit, data, variable, grid = 20) {
  check_fit(fit, "fit")
  if (missing(data)) {
    abort("`data` must be a data frame (or a matrix for a fit of the x/y interface), usually ",
          "the training data.")
  }
  check_data_rows(data, "data", ", usually the training data")
  variables <- fit_variables(fit, data)
  if (missing(variable) || length(variable) != 1L || is.na(variable) ||
      !(variable %in% variables)) {
    abort("`variable` must be one of the training variables: ",
          paste0("`", utils::head(variables, 10), "`", collapse = ", "),
          if (length(variables) > 10) ", ...", ".")
  }
  column <- data_column(data, variable)
  values <- partial_grid(column, grid)
  output_names <- fit$levels %||% network_labels(fit)$outputs
  type <- if (is.null(fit$levels)) "response" else "prob"
  means <- lapply(seq_along(values), function(i) {
    changed <- data
    data_column(changed, variable) <- rep(values[i], NROW(changed))
    colMeans(predict(fit, newdata = changed, type = type), na.rm = TRUE)
  })
  out <- data.frame(value = rep(values, each = length(output_names)),
                    output = rep(output_names, times = length(values)),
                    yhat = unlist(means, use.names = FALSE), stringsAsFactors = FALSE)
  structure(out, class = c("mlp_partial", "data.frame"), variable = as.character(variable),
            classifier = !is.null(fit$levels))
}

# The values at which partial dependence is computed.
partial_grid <- function(column, grid) {
  if (is.factor(column)) return(factor(levels(column), levels = levels(column)))
  if (is.logical(column)) return(c(FALSE, TRUE))
  if (is.character(column)) return(sort(unique(column[!is.na(column)])))
  if (!is.numeric(column)) abort("`variable` must be a numeric, factor, character or logical column.")
  if (length(grid) > 1L) {
    if (!is.numeric(grid) || anyNA(grid)) abort("`grid` must be a number of points or numeric values.")
    return(sort(unique(grid)))
  }
  points <- check_count(grid, "grid", min = 2)
  unique(stats::quantile(column, seq(0, 1, length.out = points), names = FALSE, na.rm = TRUE))
}

#' @export
print.mlp_partial <- function(x, digits = 4, ...) {
  cat("Partial dependence on `", attr(x, "variable"), "` (", length(unique(x$value)),
      " values)\n", sep = "")
  print(as.data.frame(unclass(x), stringsAsFactors = FALSE), digits = digits, row.names = FALSE)
  invisible(x)
}

#' @rdname mlp_partial
#' @param x An `mlp_partial`.
#' @param ... Graphical parameters for [graphics::matplot()].
#' @export
plot.mlp_partial <- function(x, ...) {
  outputs <- unique(x$output)
  values <- unique(x$value)
  yhat <- matrix(x$yhat, ncol = length(outputs), byrow = TRUE)
  numeric_axis <- is.numeric(values)
  at <- if (numeric_axis) values else seq_along(values)
  colours <- if (length(outputs) == 1L) "#0072B2" else grDevices::hcl.colors(length(outputs), "Dark 3")
  graphics::matplot(at, yhat, type = if (numeric_axis) "l" else "b", lty = 1, lwd = 1.5, pch = 19,
                    col = colours, xaxt = if (numeric_axis) "s" else "n",
                    xlab = attr(x, "variable"),
                    ylab = if (isTRUE(attr(x, "classifier"))) "mean probability" else "mean prediction",
                    main = paste0("Partial dependence on ", attr(x, "variable")), ...)
  if (!numeric_axis) graphics::axis(1, at = at, labels = as.character(values))
  if (length(outputs) > 1L) {
    graphics::legend("topright", legend = outputs, col = colours, lwd = 1.5, bty = "n", cex = 0.8)
  }
  invisible(x)
}
