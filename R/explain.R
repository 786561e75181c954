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
#' input columns (a factor's dummy columns each); an ensemble's are its
#' members' averages. They compare inputs on the
#' scale the network saw: comparable when the inputs were standardized (as
#' [backprop()] and `scale = TRUE` do), in the inputs' own units otherwise.
#'
#' @section Workflows and parsnip fits:
#' A fitted workflow, or a parsnip `model_fit`, is explained where
#' tidymodels users hold it: by the variables of the raw data. Permutation
#' shuffles a column of `data` as given and predicts through the
#' workflow's (or parsnip's) `predict()`, so its formula or recipe is
#' applied to the shuffled rows; a variable a recipe turns into several
#' columns is shuffled once. The response is found in `data` by the
#' outcome's name (the workflow's mold, or parsnip's formula). Garson's and
#' Olden's measures read the network inside
#' ([workflows::extract_fit_engine()]), so their variables are its input
#' columns, after the preprocessing.
#'
#' @param fit An `mlp_fit`; or a parsnip fit of `mlp()` with the
#'   `"backprop"` engine, or a fitted workflow holding one (see below).
#' @param data For `"permutation"`: rows to predict, in the form used for
#'   training (a data frame for the formula and recipe interfaces, and for
#'   parsnip fits and workflows), holding the response unless `y` is given.
#'   Where `data` holds the column that gave the fit's observation weights
#'   (a formula's `weights = w`, a recipe's or workflow's case weights),
#'   the error is averaged with them, a weight of k counting the row k
#'   times as in training; otherwise each row counts once.
#'   Not used by the weight-based methods.
#' @param method `"permutation"`, `"garson"` or `"olden"`.
#' @param y The response for `data`, when `data` does not hold it (always
#'   for fits of the x/y interface).
#' @param repeats Shuffles per variable.
#' @param metric How prediction error is measured: `"rmse"` (the default for
#'   a regression) or `"mae"`; `"log_loss"` (the default for a classifier)
#'   or `"error_rate"`. With several outputs, each output's errors are in
#'   units of its response's standard deviation in `data` (weighted as the
#'   errors are), so that outputs in different units count alike.
#' @return An `mlp_importance` data frame sorted by decreasing importance
#'   (by its size, for Olden's signed measure): `variable`, `importance`
#'   and, for permutation, `std_error`; with several outputs, Olden's
#'   method gives one row per variable and output, with a column `output`. Its attributes `method` and, for
#'   permutation, `metric` and `baseline` (the error of the unshuffled data)
#'   say how it was measured. `plot()` and `ggplot2::autoplot()` draw it.
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
#'
#' # A workflow is explained by the variables of its raw data.
#' if (requireNamespace("workflows", quietly = TRUE) &&
#'     requireNamespace("recipes", quietly = TRUE)) {
#'   rec <- recipes::recipe(mpg ~ wt + hp + qsec, data = mtcars) |>
#'     recipes::step_log(hp)
#'   spec <- parsnip::mlp(hidden_units = 3) |>
#'     parsnip::set_engine("backprop", threads = 1) |>
#'     parsnip::set_mode("regression")
#'   wf <- parsnip::fit(workflows::workflow(rec, spec), mtcars[idx, ])
#'   mlp_importance(wf, mtcars[-idx, ], repeats = 5)
#' }
#' @export
mlp_importance <- function(fit, data = NULL, method = c("permutation", "garson", "olden"),
                           y = NULL, repeats = 10, metric = NULL) {
  target <- explain_target(fit, "fit")
  method <- check_choice(method[1], importance_methods, "method")
  if (is_band(target$mlp)) {
    abort("`fit` is a quantile band: its two outputs are a lower and an upper bound, which ",
          "no error metric scores against the response, and its weights lead to the ",
          "response and its negation. Explain a fit of one quantile (`tau = 0.9`, say), or ",
          "use mlp_partial().")
  }
  if (method == "permutation") {
    repeats <- check_count(repeats, "repeats", min = 1)
    out <- said_once(permutation_importance(target, data, y, repeats, metric),
                     "mlp_importance() predicted (`data`, and `data` with a column permuted)")
  } else {
    out <- weight_importance(target$mlp, method)
  }
  measured <- attributes(out)[c("metric", "baseline")]
  # Olden's measure is signed: its size ranks the inputs.
  out <- out[order(-if (method == "olden") abs(out$importance) else out$importance), , drop = FALSE]
  rownames(out) <- NULL
  structure(out, class = c("mlp_importance", "data.frame"), method = method,
            metric = measured$metric, baseline = measured$baseline, levels = target$levels)
}

# What the explanations need of a model, however it was fitted: the network
# (`mlp`), predictions of rows of raw data (`predict(rows, type)`, a
# matrix with a column per output), the raw variables to shuffle or vary
# (`variables(data)`), the response in raw data (`truth(data)`, NULL when
# absent), the column of raw data that gave the observation weights
# (`weights(data)`, NULL for none) and the outputs' names. A workflow or
# parsnip fit predicts through its own preprocessing (formula, recipe), so
# the explanations are of the variables the user holds, not of the
# network's input columns.
explain_target <- function(model, arg) {
  if (inherits(model, "mlp_fit")) {
    return(list(
      kind = "mlp_fit", model = model, mlp = model, levels = model$levels,
      # A band's outputs as predict() names its bounds, not the network's
      # response and negated response.
      outputs = model$levels %||%
        if (is_band(model)) paste0("q", format(model$options$tau)) else network_labels(model)$outputs,
      outcomes = outcome_names(model$blueprint),
      weights = function(data) weights_column(model$blueprint),
      weight_values = function(data) weights_in(model$blueprint, data),
      predict = function(rows, type) predict(model, newdata = rows, type = type),
      variables = function(data) fit_variables(model, data),
      truth = function(data) outcome_in(model$blueprint, data)
    ))
  }
  if (inherits(model, "workflow")) return(workflow_target(model, arg))
  if (inherits(model, "model_fit")) return(parsnip_target(model, arg))
  abort("`", arg, "` must be a network from mlp_train() or backprop(), a parsnip fit of ",
        "mlp() with engine \"backprop\", or a fitted workflow holding one; not ",
        if (is.object(model)) paste0("an object of class ", class(model)[1L]) else describe(model), ".")
}

# The outcome columns a fit's training data had by name (none for the x/y
# interface).
outcome_names <- function(blueprint) {
  switch(blueprint$kind,
         recipe = blueprint$outcome_names,
         formula = if (!is.null(blueprint$outcome)) all.vars(blueprint$outcome),
         NULL)
}

# The columns of the training data that gave the observation weights (a
# recipe's case_weights column, or those of a formula fit's `weights = w`
# or `weights = w / 2`), if any.
weights_column <- function(blueprint) {
  if (is.language(blueprint$weights)) all.vars(blueprint$weights)
}


workflow_target <- function(model, arg) {
  if (!requireNamespace("workflows", quietly = TRUE)) {
    abort("`", arg, "` is a workflow: explaining it needs the workflows package; install it ",
          "with install.packages(\"workflows\").")
  }
  if (!workflows::is_trained_workflow(model)) {
    abort("`", arg, "` is a workflow that has not been fitted: fit it first, as with ",
          "fit(workflow, data).")
  }
  mlp <- engine_network(workflows::extract_fit_parsnip(model), arg)
  # The mold's ptypes are the raw columns the preprocessor reads, before a
  # recipe's or formula's transformations.
  mold <- workflows::extract_mold(model)
  ptypes <- mold$blueprint$ptypes
  predictors <- names(ptypes$predictors)
  outcomes <- names(ptypes$outcomes)
  target <- tidy_target(model, mlp, predictors, outcomes)
  # The outcome as the network was fitted to it: a formula's left-hand side
  # evaluated (log(y) ~ .), a recipe's steps run.
  recipe <- if (inherits(mold$blueprint, "recipe_blueprint")) workflows::extract_recipe(model)
  target$truth <- function(data) {
    if (!is.data.frame(data) || !length(outcomes) || !all(outcomes %in% names(data))) return(NULL)
    if (!is.null(recipe) && outcome_steps(recipe, outcomes)) abort_skipped_outcome()
    forged_outcome(mold$blueprint, data, outcomes)
  }
  # add_case_weights() keeps a tidyselect expression of the weights' column.
  selector <- model$pre$actions$case_weights$col
  # (tidyselect comes with workflows.)
  if (!is.null(selector) && requireNamespace("tidyselect", quietly = TRUE)) {
    target$weights <- function(data) {
      tryCatch(names(tidyselect::eval_select(selector, data)), error = function(e) NULL)
    }
    target$weight_values <- function(data) {
      column <- target$weights(data)
      if (length(column) == 1L) data[[column]]
    }
  }
  target
}

parsnip_target <- function(model, arg) {
  mlp <- engine_network(model, arg)
  # parsnip's formula or fit_xy() data keep the raw names; the network's
  # own formula (`..y ~ .` after fit_xy()) names the predictors.
  predictors <- blueprint_variables(mlp$blueprint)
  outcomes <- model$preproc$y_var
  if (!length(outcomes)) outcomes <- NULL
  target <- tidy_target(model, mlp, predictors, outcomes)
  # A formula's outcome as the network was fitted to it (log(y) ~ .), where
  # y_var names the raw column; after fit_xy() the network's formula reads
  # `..y`, which data do not hold, and the raw column is the outcome.
  raw_truth <- target$truth
  target$truth <- function(data) outcome_in(mlp$blueprint, data) %||% raw_truth(data)
  target
}

# The mlp_fit inside a parsnip fit.
engine_network <- function(parsnip_fit, arg) {
  if (!inherits(parsnip_fit$fit, "mlp_fit")) {
    abort("`", arg, "` holds a model of engine \"", parsnip_fit$spec$engine %||% "unknown",
          "\": only the \"backprop\" engine's networks are explained here.")
  }
  parsnip_fit$fit
}

tidy_target <- function(model, mlp, predictors, outcomes) {
  levels <- mlp$levels
  # The response's own name: the network of a parsnip fit_xy() (and so of
  # every workflow) knows it only as "..y".
  outputs <- levels %||% if (length(outcomes) == mlp$sizes[length(mlp$sizes)]) outcomes else
    network_labels(mlp)$outputs
  # (After fit_xy() of a vector, parsnip's name for the prediction.)
  outputs[outputs == "..y"] <- ".pred"
  if (is.null(levels) && !is.null(outcomes)) mlp$y_names <- outputs
  list(
    kind = if (inherits(model, "workflow")) "workflow" else "model_fit",
    model = model, mlp = mlp, levels = levels, outputs = outputs, outcomes = outcomes,
    weights = function(data) NULL,
    weight_values = function(data) NULL,
    predict = function(rows, type) {
      if (is.matrix(rows)) rows <- as.data.frame(rows)
      pred <- stats::predict(model, new_data = rows, type = if (type == "prob") "prob" else "numeric")
      tidy_prediction(pred, outputs)
    },
    variables = function(data) {
      absent <- setdiff(predictors, colnames(data))
      if (length(absent)) {
        abort("`data` lacks the training column", if (length(absent) > 1) "s", " ",
              paste0("`", absent, "`", collapse = ", "), ".")
      }
      predictors
    },
    truth = function(data) {
      if (!is.data.frame(data) || !length(outcomes) || !all(outcomes %in% names(data))) return(NULL)
      if (length(outcomes) == 1L) data[[outcomes]] else as.matrix(as.data.frame(data)[outcomes])
    }
  )
}

# tidymodels' predictions (`.pred`, `.pred_<class>`) as a matrix with a
# column per output, as predict.mlp_fit() gives them.
tidy_prediction <- function(pred, outputs) {
  pred <- as.data.frame(pred)
  if (ncol(pred) == 1L) {
    out <- matrix(pred[[1L]], ncol = 1L)
  } else {
    wanted <- paste0(".pred_", outputs)
    out <- as.matrix(if (all(wanted %in% names(pred))) pred[wanted] else pred)
  }
  dimnames(out) <- list(NULL, outputs)
  out
}

permutation_importance <- function(target, data, y, repeats, metric) {
  if (is.null(data)) {
    abort("`data` is needed for permutation importance: rows with the response, ",
          "preferably held out from training.")
  }
  check_data_rows(data, "data")
  # (The variables first: the response of data that lack them cannot be
  # baked as the fit's was.)
  variables <- target$variables(data)
  truth <- y %||% target$truth(data)
  if (is.null(truth)) {
    abort("`y` is needed: `data` does not hold the response (a fit of the x/y interface ",
          "never finds it there).")
  }
  if (NROW(truth) != NROW(data)) {
    abort("`y` must have one row per row of `data` (", NROW(data), "), not ", NROW(truth), ".")
  }
  classifier <- !is.null(target$levels)
  metric <- metric %||% if (classifier) "log_loss" else "rmse"
  metric <- check_choice(metric, importance_metrics, "metric")
  if (classifier != (metric %in% c("log_loss", "error_rate"))) {
    abort("`metric = \"", metric, "\"` is for ", if (classifier) "a regression" else "a classifier",
          "; this network is ", if (classifier) "a classifier: use \"log_loss\" or \"error_rate\"."
          else "a regression: use \"rmse\" or \"mae\".")
  }
  incomplete <- variables[vapply(variables, function(v) anyNA(data_column(data, v)), logical(1))]
  if (length(incomplete)) {
    abort("`data` has NA in ", paste0("`", incomplete, "`", collapse = ", "), ": shuffling would move ",
          "them between rows; remove those rows first, as with stats::na.omit().")
  }
  error_of <- prediction_error(target, truth, metric, data_weights(target, data))
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

# function(rows) -> the error of the model's predictions of `rows`
# against `truth`, by `metric`.
prediction_error <- function(target, truth, metric, weights = NULL) {
  # Each row's error, averaged with its weight: a weight of k counts the
  # row k times, as in training.
  average <- function(v) weighted_mean(v, weights)
  levels <- target$levels
  if (!is.null(levels)) {
    truth <- as.character(truth)
    if (anyNA(truth) || !all(truth %in% levels)) {
      abort("The response in `data` (or `y`) must hold the classes of the fit (",
            paste0('"', levels, '"', collapse = ", "), ") and no NA.")
    }
    index <- cbind(seq_along(truth), match(truth, levels))
    return(function(rows) {
      p <- target$predict(rows, "prob")
      if (metric == "log_loss") -average(log(pmax(p[index], 1e-15)))
      else average(max.col(p, ties.method = "first") != index[, 2L])
    })
  }
  truth <- as.matrix(truth)
  if (!is.numeric(truth) || anyNA(truth)) abort("The response in `data` (or `y`) must be numeric with no NA.")
  # Several outputs count alike whatever their units: each one's errors in
  # units of its standard deviation in `data`, weighted as the errors are
  # (the network trained on them alike when it standardized them).
  # (A constant output, whose weighted spread rounding need not leave at 0,
  # counts in its own units.)
  spread <- rep(1, ncol(truth))
  if (ncol(truth) > 1L) {
    spread <- apply(truth, 2L, function(col) {
      if (all(col == col[1L])) 1 else sqrt(average((col - average(col))^2))
    })
    spread[!(spread > 0)] <- 1
  }
  function(rows) {
    e <- sweep(target$predict(rows, "response") - truth, 2L, spread, "/")
    if (metric == "rmse") sqrt(average(rowMeans(e^2))) else average(rowMeans(abs(e)))
  }
}

# The observation weights of the rows of `data`, from the column that gave
# the fit's (see `weights(data)` of explain_target()), or NULL: each row
# counts once.
data_weights <- function(target, data) {
  values <- if (is.data.frame(data)) target$weight_values(data)
  if (is.null(values)) {
    # Weights the fit took as a vector (`weights = d$w`) belong to its
    # training rows, not to the rows of `data`; a column `data` lacks
    # cannot be read; parsnip keeps case weights as values: said, not
    # dropped unseen. (The x/y interface's data hold no weights.)
    trained <- target$mlp$prior_weights
    why <- if (length(trained) && any(trained != trained[1L])) {
      switch(target$kind,
        mlp_fit = if (!is.null(target$mlp$blueprint$weights)) {
          paste0("observation weights that `data` does not hold (the weights' column, or the ",
                 "columns of their expression). Give `data` that column; weights given as a ",
                 "vector (`weights = d$w`) are the training rows' and not read in other rows, ",
                 "as `weights = w` is.")
        },
        model_fit = paste0("case weights, which parsnip keeps as values rather than as a column ",
                           "of the data. Fit a workflow with workflows::add_case_weights() to ",
                           "have them read from `data`."),
        workflow = "case weights whose column `data` lacks. Give `data` that column.")
    }
    if (!is.null(why)) {
      warning("`fit` was trained with ", why, " Until then each row of `data` counts once.",
              call. = FALSE)
    }
    return(NULL)
  }
  weights <- as.double(unclass(values))
  if (length(weights) != nrow(data) || anyNA(weights) || any(weights < 0) || sum(weights) == 0) {
    abort("`data` column ", paste0("`", target$weights(data), "`", collapse = ", "),
          " gives the rows' weights; they must be one per row, non-negative, not all 0, ",
          "and not NA.")
  }
  weights
}

# Column means of `m`, weighted by `weights` (NULL: plain), over the rows
# that are not NA.
weighted_means <- function(m, weights) {
  if (is.null(weights)) return(colMeans(m, na.rm = TRUE))
  vapply(seq_len(ncol(m)), function(j) {
    keep <- !is.na(m[, j])
    weighted_mean(m[keep, j], weights[keep])
  }, numeric(1))
}

# The variables of the training data, by which permutation and partial
# dependence address columns of `data`: the formula's or the recipe's
# predictors, the data frame's columns, or a matrix's column names (or
# numbers).
fit_variables <- function(fit, data) {
  vars <- blueprint_variables(fit$blueprint)
  if (is.numeric(vars)) return(vars)
  # A formula's variables from outside the training data (a constant of
  # the workspace) are read where predict() reads them, not explained.
  inside <- fit$blueprint$data_variables
  if (!is.null(inside)) vars <- intersect(vars, inside)
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
  labels <- network_labels(fit)
  # Garson's shares do not depend on the output (see the documentation).
  outputs <- if (method == "garson") 1L else seq_len(ncol(fit$weights[[2L]]))
  # An ensemble's importance is its members' average.
  networks <- fit$members %||% list(fit[c("weights", "biases")])
  per_output <- lapply(outputs, function(k) {
    importance <- Reduce(`+`, lapply(networks, function(net) {
      products <- sweep(net$weights[[1L]], 2L, net$weights[[2L]][, k], `*`)
      if (method == "olden") {
        rowSums(products)
      } else {
        share <- sweep(abs(products), 2L, pmax(colSums(abs(products)), .Machine$double.xmin), `/`)
        rowSums(share) / sum(share)
      }
    })) / length(networks)
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
#' @details `plot()` draws the bars sorted, the most important on top, with
#'   the standard errors of permutation importance as error bars. Olden's
#'   measure of a classifier with two classes is drawn for the second class
#'   only: with a softmax of two outputs only the difference of their
#'   weights moves the prediction, so the first class's bars are (nearly)
#'   the mirror image of the second's; the table keeps both.
#' @export
plot.mlp_importance <- function(x, ...) {
  chart <- importance_chart(x)
  d <- chart$data
  label <- chart$label
  old <- graphics::par(mar = c(4.5, 4, 2.5, 1))
  on.exit(graphics::par(old))
  # The left margin from the names' widths, so that none is clipped.
  width <- max(graphics::strwidth(d$variable, units = "inches", cex = 1), 0)
  graphics::par(mai = replace(graphics::par("mai"), 2, width + 0.3))
  if (is.null(d$output)) {
    ord <- rev(seq_len(nrow(d)))
    mids <- graphics::barplot(d$importance[ord], names.arg = d$variable[ord], horiz = TRUE,
                              las = 1, xlab = label, col = "#0072B2", border = NA,
                              main = chart$title, ...)
    if (!is.null(d$std_error) && any(is.finite(d$std_error))) {
      se <- d$std_error[ord]
      # Bars too short to draw are left out (arrows() warns of them).
      ok <- is.finite(se) & se > 0.005 * max(abs(d$importance), se)
      graphics::arrows(d$importance[ord][ok] - se[ok], mids[ok], d$importance[ord][ok] + se[ok],
                       mids[ok], angle = 90, code = 3, length = 0.03)
    }
  } else {
    outputs <- unique(d$output)
    variables <- rev(unique(d$variable))
    table <- matrix(d$importance[match(paste(rep(outputs, length(variables)),
                                             rep(variables, each = length(outputs))),
                                       paste(d$output, d$variable))],
                    nrow = length(outputs), dimnames = list(outputs, variables))
    graphics::barplot(table, beside = TRUE, horiz = TRUE, las = 1, xlab = label,
                      col = grDevices::hcl.colors(length(outputs), "Dark 3"), border = NA,
                      legend.text = outputs, args.legend = list(bty = "n", cex = 0.8),
                      main = chart$title, ...)
  }
  invisible(x)
}

# What the importance charts (base and ggplot2) draw: rows sorted, the most
# important first; a two-class classifier's Olden measure by its second
# class only (see plot.mlp_importance()).
importance_chart <- function(x) {
  method <- attr(x, "method")
  d <- as.data.frame(unclass(x), stringsAsFactors = FALSE)
  title <- "Variable importance"
  levels <- attr(x, "levels")
  if (!is.null(d$output) && length(levels) == 2L && all(d$output %in% levels)) {
    d <- d[d$output == levels[2L], setdiff(names(d), "output"), drop = FALSE]
    title <- paste0("Variable importance for class \"", levels[2L], "\"")
  }
  size <- if (method == "olden") abs(d$importance) else d$importance
  if (is.null(d$output)) {
    d <- d[order(-size), , drop = FALSE]
  } else {
    title <- "Variable importance by output"
    largest <- tapply(size, d$variable, max)
    outputs <- union(intersect(levels, d$output), unique(d$output))
    d <- d[order(-largest[d$variable], d$variable, match(d$output, outputs)), , drop = FALSE]
  }
  rownames(d) <- NULL
  label <- switch(method,
                  permutation = paste0("rise in ", attr(x, "metric"), " when shuffled"),
                  garson = "Garson's relative importance",
                  olden = "Olden's connection weight")
  list(data = d, title = title, label = label)
}

#' Partial dependence of a network's prediction on one variable
#'
#' For each value on a grid of `variable`, every row of `data` gets that
#' value and the network's predictions are averaged: the curve shows how
#' the prediction moves with the variable, the others held at their
#' observed values (Friedman 2001). A classifier gives one curve per class,
#' of its probability.
#'
#' @param fit An `mlp_fit`; or a parsnip fit of `mlp()` with the
#'   `"backprop"` engine, or a fitted workflow holding one: their raw
#'   variables are varied, and predictions made through their `predict()`
#'   (so a formula or recipe applies), as in [mlp_importance()].
#' @param data Rows in the form used for training (a data frame for the
#'   formula and recipe interfaces, and for parsnip fits and workflows),
#'   usually the training data. The predictions are averaged with the
#'   fit's observation weights where `data` holds their column, as
#'   [mlp_importance()] averages its errors.
#' @param variable The variable's name, or for a matrix without column
#'   names its column number.
#' @param grid The number of grid points for a numeric variable, placed at
#'   its quantiles; or the values themselves. A factor or character
#'   variable takes each level the fit trained on, a logical one both
#'   values, and a number the formula makes a factor (`factor(k)`) its
#'   trained levels.
#' @return An `mlp_partial` data frame: `value`, `output` (the response's
#'   name, or the class), and `yhat` (the mean prediction: response units
#'   for a regression, probability for a classifier), with the attribute
#'   `variable`. `plot()` and `ggplot2::autoplot()` draw it.
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
  target <- explain_target(fit, "fit")
  if (missing(data)) {
    abort("`data` must be a data frame (or a matrix for a fit of the x/y interface), usually ",
          "the training data.")
  }
  check_data_rows(data, "data", ", usually the training data")
  variables <- target$variables(data)
  if (missing(variable) || length(variable) != 1L || is.na(variable) ||
      !(variable %in% variables)) {
    abort("`variable` must be one of the training variables: ",
          paste0("`", utils::head(variables, 10), "`", collapse = ", "),
          if (length(variables) > 10) ", ...", ".")
  }
  column <- data_column(data, variable)
  # A factor's levels with training rows, where the fit's blueprint knows
  # them: an unused level has none, and predict() refuses it.
  # (A workflow's network knows the columns its preprocessor made.)
  blueprint <- if (!inherits(fit, "workflow")) target$mlp$blueprint
  known <- blueprint$xlevels[[variable]] %||% blueprint$dummy_blocks[[variable]]$trained
  values <- if (is.null(known) && length(grid) == 1L) term_grid(blueprint, variable, column, grid)
  values <- values %||% partial_grid(column, grid, known)
  weights <- data_weights(target, data)
  output_names <- target$outputs
  type <- if (is.null(target$levels)) "response" else "prob"
  means <- said_once(lapply(seq_along(values), function(i) {
    changed <- data
    data_column(changed, variable) <- rep(values[i], NROW(changed))
    weighted_means(target$predict(changed, type), weights)
  }), paste0("mlp_partial() predicted (`data` with `", variable, "` set to each grid value)"))
  out <- data.frame(value = rep(values, each = length(output_names)),
                    output = rep(output_names, times = length(values)),
                    yhat = unlist(means, use.names = FALSE), stringsAsFactors = FALSE)
  structure(out, class = c("mlp_partial", "data.frame"), variable = as.character(variable),
            classifier = !is.null(target$levels), observed = observed_values(column))
}

# The grid of a variable the formula makes a factor (`factor(k)`,
# `factor(k, levels = )`, `factor(ch)`): values whose coded
# level trained, as predict() takes them (a number between two levels of
# factor(k) is a level it never had). The candidates are the data's values
# (a numeric grid's quantiles when there are more) and the terms' levels
# that read as values; NULL when no term codes the variable alone, or none
# can be evaluated.
term_grid <- function(blueprint, variable, column, grid) {
  if (!is.numeric(column) && !is.character(column)) return(NULL)
  xlevels <- blueprint$xlevels
  calls <- lapply(names(xlevels), function(term) tryCatch(str2lang(term), error = function(e) NULL))
  names(calls) <- names(xlevels)
  calls <- Filter(function(call) is.call(call) && identical(all.vars(call), as.character(variable)),
                  calls)
  terms <- names(calls)
  if (!length(terms)) return(NULL)
  seen <- unique(column[!is.na(column)])
  # The levels of factor(k) and the like are values of k; those of other
  # terms (factor(k %% 2)) are not.
  of_values <- Filter(function(term) {
    call <- calls[[term]]
    fun <- call[[1L]]
    # (base::factor names factor as its third part.)
    if (is.call(fun) && identical(fun[[1L]], as.name("::"))) fun <- fun[[3L]]
    identical(call[[2L]], as.name(variable)) &&
      any(as.character(fun) == c("factor", "as.factor", "ordered", "as.ordered"))
  }, terms)
  levels <- unlist(xlevels[of_values], use.names = FALSE)
  candidates <- if (is.character(column)) {
    sort(union(seen, levels))
  } else {
    values <- if (length(seen) > check_count(grid, "grid", min = 2)) partial_grid(column, grid) else seen
    sort(union(values, stats::na.omit(suppressWarnings(as.numeric(levels)))))
  }
  env <- formula_env(blueprint)
  trained <- rep(TRUE, length(candidates))
  for (term in terms) {
    coded <- tryCatch(eval(calls[[term]], stats::setNames(list(candidates), variable), env),
                      error = function(e) NULL)
    if (length(coded) != length(candidates)) return(NULL)
    trained <- trained & as.character(coded) %in% xlevels[[term]]
  }
  if (!any(trained)) return(NULL)
  candidates[trained]
}

# The variable's values in the data, for the rug under a numeric curve: at
# most 1000 of them (quantiles, so a big data set keeps its shape).
observed_values <- function(column) {
  if (!is.numeric(column)) return(NULL)
  column <- column[is.finite(column)]
  if (length(column) <= 1000L) return(sort(column))
  unname(stats::quantile(column, seq(0, 1, length.out = 1000L), type = 1))
}

# The values at which partial dependence is computed; a factor's levels
# among `known` when given.
partial_grid <- function(column, grid, known = NULL) {
  if (is.factor(column)) {
    values <- levels(column)
    if (!is.null(known)) values <- values[values %in% known]
    return(factor(values, levels = levels(column)))
  }
  if (is.logical(column)) return(c(FALSE, TRUE))
  if (is.character(column)) return(known %||% sort(unique(column[!is.na(column)])))
  if (!is.numeric(column)) abort("`variable` must be a numeric, factor, character or logical column.")
  if (length(grid) > 1L) {
    if (!is.numeric(grid) || anyNA(grid)) abort("`grid` must be a number of points or numeric values.")
    values <- sort(unique(grid))
  } else {
    points <- check_count(grid, "grid", min = 2)
    values <- unique(stats::quantile(column, seq(0, 1, length.out = points), names = FALSE, na.rm = TRUE))
  }
  # An integer column takes whole numbers: a workflow's hardhat refuses
  # 2.5 in it as a loss of precision.
  if (is.integer(column)) values <- unique(as.integer(round(values)))
  values
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
#' @details `plot()` draws a line for a numeric variable, with a rug of its
#'   values in `data` (the attribute `observed`) showing where the curve
#'   rests on data; points for a factor's levels.
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
  if (numeric_axis && length(attr(x, "observed"))) {
    graphics::rug(attr(x, "observed"), col = grDevices::adjustcolor("black", alpha.f = 0.4))
  }
  if (length(outputs) > 1L) {
    graphics::legend("topright", legend = outputs, col = colours, lwd = 1.5, bty = "n", cex = 0.8)
  }
  invisible(x)
}
