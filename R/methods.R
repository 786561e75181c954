# print(), predict(), fitted(), summary(), plot() and the other methods of a
# fit; they read only the fields new_mlp_fit() guarantees (R/fit.R).

#' @export
print.mlp_fit <- function(x, digits = 4, ...) {
  sizes <- x$sizes
  # An ensemble's training history (epochs, losses, status) is its first
  # member's, and says so.
  members <- length(x$members)
  first <- if (members > 1L) " (first member)" else ""
  cat("<mlp_fit> multilayer perceptron ", paste(sizes, collapse = " -> "), "\n", sep = "")
  acts <- c(x$activation, x$output_activation)
  cat("  activations: ", paste(acts, collapse = ", "), "\n", sep = "")
  cat("  loss: ", x$loss_function, ", optimizer: ", x$optimizer,
      if (uses_lr(x$optimizer)) paste0(", lr: ", format(x$lr)), ", epochs", first, ": ", length(x$loss),
      if (length(x$loss) != x$epochs) paste0(" of ", x$epochs) else "", "\n", sep = "")
  cat("  bias layout: ", x$bias, ", init: ", x$init,
      if (!is.null(x$scaling)) ", inputs standardized" else "", "\n", sep = "")
  cat("  parameters: ", n_params(x), if (members > 1L) paste(" in each of", members, "members"),
      ", training rows: ", x$n, "\n", sep = "")
  training <- training_summary(x$options)
  if (length(training)) cat("  training: ", paste(training, collapse = ", "), "\n", sep = "")
  if (length(x$loss)) {
    if (length(x$val_loss)) {
      # The weights kept are the best epoch's: the training loss is theirs.
      cat("  at epoch ", x$best_epoch, " (kept)", first, ": training loss", loss_units(x), " ",
          format(signif(kept_loss(x), digits)), ", validation loss ",
          format(signif(min(x$val_loss), digits)), sep = "")
    } else {
      cat("  final loss", first, loss_units(x), ": ", format(signif(kept_loss(x), digits)),
          sep = "")
    }
    cat("\n")
  }
  if (x$status != "completed") cat("  status", first, ": ", x$status, "\n", sep = "")
  if (!is.null(x$calibration)) {
    cat("  intervals and sets: ", x$calibration$method, " conformal on ", x$calibration$source,
        "\n", sep = "")
  }
  if (!is.null(x$selection)) {
    cat("  selected by ", x$selection$method, " among ", nrow(x$selection$table),
        " candidates (see summary())\n", sep = "")
  }
  shapes <- vapply(seq_along(x$weights), function(l) {
    paste0("W", l, " ", nrow(x$weights[[l]]), "x", ncol(x$weights[[l]]),
           ", b", l, " ", nrow(x$biases[[l]]), "x", ncol(x$biases[[l]]))
  }, character(1))
  cat("  shapes: ", paste(shapes, collapse = "; "), "\n", sep = "")
  invisible(x)
}

uses_lr <- function(optimizer) !(optimizer %in% c("lm", "lbfgs"))

n_params <- function(fit) {
  sum(vapply(c(fit$weights, fit$biases), length, integer(1)))
}

#' Predictions from a trained network
#'
#' @param object An `mlp_fit` from [mlp_train()] or [backprop()].
#' @param newdata New inputs, in the form used for training: a data frame
#'   for the formula interface (the training variables are taken by name;
#'   other columns are ignored), a matrix, data frame or vector for the x/y
#'   interface (a data frame's training columns are taken by name). Missing:
#'   the training rows (as [fitted()]). Rows with an `NA` in an input
#'   predict `NA`.
#' @param type `"response"`: outputs in the units of the response (class
#'   probabilities for a classifier); `"prob"`: class probabilities
#'   (classifiers only; with a sigmoid output each class's own, one against
#'   the rest, which need not sum to 1); `"class"`: the predicted class (classifiers only), a
#'   factor with the response's levels (ordered if the response was), or
#'   `TRUE`/`FALSE` for a logical response; `"raw"`: the network's output as
#'   it is (standardized units when the response was standardized);
#'   `"pred_int"`: conformal prediction intervals for a numeric response;
#'   `"set"`: conformal prediction sets of classes for a classifier;
#'   `"sd"`: the standard deviation of an ensemble's members' predictions
#'   (see `ensemble` in [mlp_train()]).
#' @param level The coverage of `type = "pred_int"` and `type = "set"`: the
#'   probability, over new rows drawn as the calibration rows were, that the
#'   interval or set holds the row's true response.
#' @param threads Threads for the matrix products (see [mlp_train()]).
#' @param ... Not used: any other argument is an error.
#' @param new_data The tidymodels spelling of `newdata`; give one or the
#'   other.
#' @return A matrix with one row per row of `newdata` (a factor or logical
#'   vector for `type = "class"`): for `"pred_int"` the columns `lower` and
#'   `upper` (`<output>_lower`, `<output>_upper` for several outputs); for
#'   `"set"` a logical matrix, one column per class, `TRUE` for the classes
#'   in the row's set.
#' @details New data enter through the fit's one data path, whatever the
#'   interface: columns are matched by name, their types checked against
#'   training (a logical stays logical), factor levels coded with the
#'   training levels (a level with no training rows is an error, as in
#'   [stats::lm()]); a row with an `NA` input predicts `NA`, and an infinite
#'   input is an error.
#'
#'   A network trained with `bias = "row"` (the article's R program)
#'   has one bias per *training row*; such biases do not apply to new rows, so
#'   it predicts its own training rows (in their order) and nothing else. Its training output is in
#'   `fit$output`; train with `bias = "column"` to predict new data.
#'
#' @section How sure is the network?:
#' Intervals and sets are *conformal*: calibrated on rows the network was
#' not trained on, predicted by a network that did not see them. A row's
#' score is how far its response lies from that prediction: its absolute
#' residual; for a quantile band (`loss = "quantile"`, `tau = c(a, 1 - a)`),
#' the distance outside the band, negative inside it, which makes the
#' intervals conformalized quantile regression, wide where the noise is;
#' for a classifier, the APS score below. A new row's interval is the
#' fit's prediction widened by the scores' quantile of rank
#' `ceiling(level * (n + 1))` among the n calibration rows. The fit's
#' `calibration` (see `conformal` in [mlp_train()], and `summary()`) says
#' which rows:
#' * `"split"`: the validation rows, predicted by the fit itself. Split
#'   conformal: for new rows exchangeable with them, the interval or set
#'   holds the response with probability at least `level` (and at most
#'   about `level + 1/(n + 1)`), whatever the network; only approximately
#'   when the same rows also chose the epoch (early stopping) or the
#'   candidate of [backprop()]'s search: chosen for their small losses,
#'   they are kinder to the fit than new rows, and on a few dozen rows
#'   the intervals can fall several points short of `level`. Give
#'   `select = FALSE`, more validation rows, or `conformal = "cv+"` (which
#'   keeps the guarantee) when that matters;
#' * `"oob"`: a bootstrap ensemble's out-of-bag rows, each predicted by the
#'   members that did not see it (fewer than all: no finite-sample
#'   guarantee, and usually on the safe side);
#' * `"cv"`: every row of K folds, predicted by a network trained without
#'   its fold: the refits of `conformal = "cv"`, or the folds
#'   [backprop()]'s search trained for its winner anyway. As
#'   `probably::int_conformal_cv()`, without a finite-sample guarantee: a
#'   fold network, trained on fewer rows, errs as much as the fit or more,
#'   so the intervals tend to the safe side;
#' * `"cv+"`: CV+ (Barber et al., 2021), which has the guarantee (at least
#'   `1 - 2 * (1 - level)`, in practice `level` or more): each calibration
#'   row's term is centred on its own fold network's prediction at the new
#'   row. The fold networks' disagreement widens the intervals.
#'
#' A fold network whose training rows lack a level of a factor (one held by
#' a few rows, all in its fold) does not use that level's input, constant
#' on its training rows (see `scale` in [mlp_train()]): it predicts those
#' rows from their other inputs alone, so their scores, and for CV+ the
#' intervals of new rows of that level, are wide rather than arbitrary.
#'
#' Sets are adaptive (APS; Romano, Sesia and Candes, 2020): a class enters
#' in the order of its probability until the classes taken hold enough
#' probability, so that uncertain rows get larger sets. A uniform draw per
#' row, from R's RNG (`set.seed()` fixes it), makes the coverage exact
#' rather than conservative; a set may be empty when even the likeliest
#' class is not needed to reach `level`. Observation weights do not weigh
#' the calibration rows (rows of weight 0 are left out). Too few
#' calibration rows for a `level` give infinite bounds, with a warning.
#' @examples
#' set.seed(1)
#' idx <- sample(nrow(iris), 100)
#' fit <- backprop(Species ~ ., iris[idx, ], threads = 1)
#' table(predict(fit, iris[-idx, ], type = "class"), iris$Species[-idx])
#' head(predict(fit, iris[-idx, ], type = "prob"))
#' # Sets of classes that hold the true one 90 percent of the time
#' head(predict(fit, iris[-idx, ], type = "set", level = 0.9))
#'
#' # Intervals for a numeric response: CV+, from 5-fold refits kept
#' fit <- backprop(mpg ~ wt + hp, mtcars[1:25, ], conformal = "cv+", threads = 1)
#' predict(fit, mtcars[26:32, ], type = "pred_int", level = 0.8)
#' @export
predict.mlp_fit <- function(object, newdata, type = c("response", "prob", "class", "raw",
                                                     "pred_int", "set", "sd"),
                            level = 0.9, threads = NULL, ..., new_data) {
  check_dots(list(...), "predict()",
             "its arguments are `newdata` (or `new_data`), `type`, `level` and `threads`")
  if (!missing(new_data)) {
    if (!missing(newdata)) abort("Give `newdata` or `new_data`, not both.")
    newdata <- new_data
    arg <- "new_data"
  } else {
    arg <- "newdata"
  }
  type <- if (missing(type)) "response" else
    check_choice(type, c("response", "prob", "class", "raw", "pred_int", "set", "sd"), "type")
  if (type %in% c("class", "prob", "set") && is.null(object$levels)) {
    abort("`type = \"", type, "\"` needs a classifier (a factor response); this network ",
          "is a regression.", if (type == "set") " Use `type = \"pred_int\"` for intervals.")
  }
  if (type == "pred_int" && !is.null(object$levels)) {
    abort("`type = \"pred_int\"` is for a numeric response; this network is a classifier. ",
          "Use `type = \"set\"` for prediction sets of classes.")
  }
  if (type == "sd" && length(object$members) < 2L) {
    abort("`type = \"sd\"` is the spread of an ensemble's members; this fit is one network. ",
          "Fit with `ensemble` (such as `ensemble = 5`).")
  }
  uncertain <- type %in% c("pred_int", "set")
  if (uncertain) {
    level <- check_level(level)
    cal <- fit_calibration(object, type)
  } else if (!missing(level)) {
    abort("`level` applies to `type = \"pred_int\"` and `type = \"set\"`, not \"", type, "\".")
  }
  if (missing(newdata) || is.null(newdata)) {
    if (uncertain || type == "sd") {
      abort("`type = \"", type, "\"` needs `", arg, "`: give the rows to predict (the training ",
            "rows' own outputs were fitted to them).")
    }
    return(to_response(object, stats::napredict(object$na_action, object$fitted_raw), type))
  }
  forged <- forge_inputs(object$blueprint, newdata, arg)
  x <- forged$x
  if (object$bias == "row") {
    # Per-row biases belong to the training rows: their own inputs, in their
    # order, predict the fitted values; nothing else can be predicted.
    xs <- if (is.null(object$scaling)) x else apply_stats(x, object$scaling$x)
    if (identical(unname(xs), unname(object$row_inputs))) {
      raw <- object$fitted_raw
      if (!is.null(rownames(x))) rownames(raw) <- rownames(x)
      return(to_response(object, raw, type))
    }
    abort("`", arg, "` cannot be predicted by a network trained with `bias = \"row\"`: ",
          "its biases belong to the training rows, one per row, and do not apply ",
          "to new rows (only the training rows, in their order, are predicted). Its training ",
          "output is in `fit$output`; train with `bias = \"column\"` to predict new data.")
  }
  # Rows with an NA predict NA; forge's pass told whether there are any
  # (rowSums() makes a pass of its own, and a vector, for every row).
  complete <- if (!forged$any_na) rep.int(TRUE, nrow(x)) else !is.na(rowSums(x))
  raw <- matrix(NA_real_, nrow(x), object$sizes[length(object$sizes)])
  if (!is.null(rownames(x)) || !is.null(object$y_names)) dimnames(raw) <- list(rownames(x), object$y_names)
  if (any(complete)) {
    xc <- if (all(complete)) x else x[complete, , drop = FALSE]
    x_input <- xc
    threads <- resolve_threads(threads)
    if (!is.null(object$scaling)) {
      warn_ignored_inputs(xc, object$scaling$x, which(complete))
      xc <- apply_stats(xc, object$scaling$x)
    }
    if (type == "sd") return(member_spread(object, xc, complete, raw, threads))
    out <- network_output(object, xc, threads)
    bad <- !is.finite(rowSums(out))
    if (any(bad)) {
      warning(sum(bad), " row", if (sum(bad) > 1) "s", " of `", arg, "` gave non-finite ",
              "outputs: their inputs are too large for the network's arithmetic ",
              "(first: row ", which(complete)[which(bad)[1]], ").", call. = FALSE)
    }
    raw[complete, ] <- out
  }
  if (!uncertain) return(to_response(object, raw, type))
  # Intervals and sets: each calibration fold's network predicts the
  # complete rows; incomplete rows get NA.
  out <- matrix(if (type == "set") NA else NA_real_, nrow(raw),
                if (type == "set") length(object$levels) else if (is_band(object)) 2L else 2L * ncol(raw))
  # Named whether or not any row is complete: rows with missing inputs
  # alone still give the columns predict() promises.
  dimnames(out) <- list(rownames(raw), if (type == "set") object$levels else interval_columns(object))
  if (any(complete)) {
    own <- to_response(object, raw[complete, , drop = FALSE], "response")
    bounds <- if (type == "pred_int") conformal_interval(object, cal, x_input, own, level, threads) else
      conformal_set(object, cal, x_input, own, level, threads)
    out[complete, ] <- bounds
  }
  out
}

# An input constant on the training rows is standardized to 0 whatever its
# value (see `scale` in mlp_train()): the network never learned what its
# other values do. A new row that gives it another value, such as a cell
# of `g:h` with no training rows, is predicted as if it held the training
# value; as lm() does for a rank-deficient fit, predict() says so, as does
# a fit of given validation rows (`whose`: which rows, after their count).
# A value is new outside the training rows' values (a column whose values
# lie a few units in the last place apart counts as constant); a fit
# saved before those were kept compares with their mean.
warn_ignored_inputs <- function(x, stats, rows, whose = " to predict") {
  ignored <- which(is.infinite(stats$scale))
  if (!length(ignored)) return(invisible())
  center <- stats$center[ignored]
  low <- stats$low[ignored] %||% center
  high <- stats$high[ignored] %||% center
  # (Values a few units in the last place from those, as 0.1 + 0.2 from
  # 0.3, are those values.)
  slack <- 16 * .Machine$double.eps * pmax(abs(low), abs(high))
  low <- low - slack
  high <- high + slack
  values <- x[, ignored, drop = FALSE]
  off <- values < rep(low, each = nrow(x)) | values > rep(high, each = nrow(x))
  moved <- which(colSums(off) > 0)
  if (!length(moved)) return(invisible())
  names <- colnames(x)[ignored[moved]] %||% paste0("column ", ignored[moved])
  shown <- paste0("`", names, "` (", vapply(center[moved], format, "", digits = 4), ")")
  offending <- which(rowSums(off) > 0)
  n <- length(offending)
  first <- if (is.null(rownames(x))) rows[offending[1L]] else paste0("\"", rownames(x)[offending[1L]], "\"")
  message <- paste0(
    n, " row", if (n > 1) "s", whose, " give", if (n == 1) "s", " another value to ",
    if (length(moved) > 1) "inputs" else "an input", " that was constant on the rows the ",
    "network was trained on: ", paste(utils::head(shown, 3), collapse = ", "),
    if (length(moved) > 3) ", ...", " (first: row ", first, "). The network ",
    "never learned what other values do and predicts such rows as if they held the training ",
    "value, which may mislead (as a prediction from a rank-deficient lm()).")
  # A class of its own, so that the explanations, which predict rows they
  # made, can say it once.
  warning(structure(class = c("backprop_ignored_inputs", "warning", "condition"),
                    list(message = message, call = NULL)))
}

# `expr` with warn_ignored_inputs()'s warning said once, after it, however
# often it came: an explanation predicts many sets of rows it made
# (`made`: which, for the message), and backprop()'s search reads given
# validation rows once per candidate.
said_once <- function(expr, made = NULL) {
  first <- NULL
  # (Said also when `expr` fails after it.)
  on.exit(if (!is.null(first)) {
    if (!is.null(made)) first$message <- paste0("In the rows ", made, ": ", first$message)
    warning(first)
  })
  withCallingHandlers(expr, backprop_ignored_inputs = function(w) {
    if (is.null(first)) first <<- w
    invokeRestart("muffleWarning")
  })
}

# The spread (standard deviation) of an ensemble's members' predictions, in
# the response's units (class probabilities for a classifier).
member_spread <- function(object, xc, complete, raw, threads) {
  each <- lapply(member_outputs(object, xc, threads), function(m) to_response(object, m, "response"))
  mean <- Reduce(`+`, each) / length(each)
  spread <- sqrt(Reduce(`+`, lapply(each, function(m) (m - mean)^2)) / (length(each) - 1))
  raw[complete, ] <- spread
  # The columns as predict() names them (a quantile band's bounds, not the
  # network's outputs; a classifier's levels).
  colnames(raw) <- colnames(each[[1L]]) %||% object$levels %||% colnames(raw)
  raw
}

# The network's raw output for inputs already scaled as in training.
# An ensemble's is its members' average.
network_output <- function(object, x, threads) {
  members <- object$members
  if (is.null(members)) {
    return(predict_(x, output_arch(object), list(weights = object$weights, biases = object$biases),
                    threads))
  }
  Reduce(`+`, member_outputs(object, x, threads)) / length(members)
}

# Every member's raw output, a list of matrices.
member_outputs <- function(object, x, threads) {
  arch <- output_arch(object)
  lapply(object$members, function(m) predict_(x, arch, m, threads))
}

# The architecture predict_() reads, of a fit (or the network fit_of()
# builds).
output_arch <- function(object) {
  list(sizes = as.numeric(object$sizes), activation = object$activation,
       output = object$output_activation, bias = "column")
}

# The network's raw output in the units the user asked for.
to_response <- function(object, raw, type) {
  if (type == "raw") return(raw)
  if (!is.null(object$levels)) {
    colnames(raw) <- object$levels
    if (type == "class") {
      best <- max.col(raw, ties.method = "first")
      best[is.na(rowSums(raw))] <- NA_integer_
      # Unnamed, as the factor of classes is.
      if (isTRUE(object$logical_response)) return(best == 2L)
      return(factor(object$levels[best], levels = object$levels,
                    ordered = isTRUE(object$ordered)))
    }
    return(raw)
  }
  as_response(raw, object$scaling, band_levels(object$loss_function, object$options))
}

# Whether a fit is a quantile band (see band_target()).
is_band <- function(object) !is.null(band_levels(object$loss_function, object$options))

#' @export
fitted.mlp_fit <- function(object, ...) {
  check_dots(list(...), "fitted()", "it gives the response's fitted values; use predict() for other types")
  stats::napredict(object$na_action, to_response(object, object$fitted_raw, "response"))
}

#' @export
residuals.mlp_fit <- function(object, ...) {
  check_dots(list(...), "residuals()",
             "it gives response residuals (the response less fitted()) and takes only the fit")
  if (!is.null(object$levels)) abort("`object` is a classifier; residuals are for regression.")
  if (is_band(object)) {
    abort("`object` is a quantile band: it fits two bounds, not one value, and so has no ",
          "residuals. Compare the response with `fitted(object)`, its lower and upper bounds.")
  }
  out <- training_targets(object) - to_response(object, object$fitted_raw, "response")
  stats::naresid(object$na_action, out)
}

# The training targets in the response's units, every data row (the fit
# keeps them as the network saw them, standardized when the response was).
training_targets <- function(object) {
  y <- object$y
  if (!is.null(object$scaling$y)) y <- undo_stats(y, object$scaling$y)
  if (is_band(object)) y <- y[, 1L, drop = FALSE]
  y
}

#' Modelling-interface methods for a trained network
#'
#' The generics of \pkg{stats} that R's modelling functions answer:
#' `weights()` gives the observation weights the fit was given (not the
#' network's weights: those are [coef()] and `fit$weights`), `nobs()` the
#' number of rows it was fitted on (held-out validation rows included;
#' rows of weight zero are not counted, as in [stats::nobs()]),
#' and for the formula interface `formula()`, `terms()` and
#' `model.frame()`. [stats::update()] refits with changed arguments.
#' @param object,formula,x An `mlp_fit`.
#' @param ... Unused.
#' @return `weights()`: a numeric vector (with `NA` for the rows
#'   `na.exclude` dropped, as `fitted()` and `residuals()` have), or `NULL`
#'   for a fit without weights; `nobs()`: a number; `formula()`, `terms()`, `model.frame()`:
#'   as for [stats::lm()] (an error for a fit of the x/y interface).
#' @examples
#' fit <- backprop(mpg ~ wt + hp, mtcars, weights = cyl, threads = 1)
#' nobs(fit)
#' head(weights(fit))
#' formula(fit)
#' fit2 <- update(fit, . ~ . + qsec)
#' formula(fit2)
#' @name mlp_fit-methods
NULL

#' @rdname mlp_fit-methods
#' @export
weights.mlp_fit <- function(object, ...) {
  check_dots(list(...), "weights()", "it takes only the fit (its prior weights)")
  # Padded as fitted() and residuals() are under na.exclude, row for row.
  if (is.null(object$prior_weights)) NULL else stats::naresid(object$na_action, object$prior_weights)
}

#' @rdname mlp_fit-methods
#' @export
nobs.mlp_fit <- function(object, ...) {
  # As stats counts them: rows with a zero weight are not observations.
  w <- object$prior_weights
  if (is.null(w)) nrow(object$y) else sum(w != 0)
}

#' @rdname mlp_fit-methods
#' @export
formula.mlp_fit <- function(x, ...) stats::formula(fit_terms(x))

#' @rdname mlp_fit-methods
#' @export
terms.mlp_fit <- function(x, ...) fit_terms(x)

#' @rdname mlp_fit-methods
#' @export
model.frame.mlp_fit <- function(formula, ...) {
  fit_terms(formula, "model frame")
  formula$model
}

# The terms of a formula fit; other fits have none (`what` says what was
# asked for).
fit_terms <- function(fit, what = "formula") {
  if (fit$interface != "formula") {
    abort("This network was fitted through the ", interface_name(fit), "; it has no ", what, ".")
  }
  attr(fit$model, "terms")
}

interface_name <- function(fit) {
  switch(fit$interface, xy = "x/y interface", recipe = "recipe interface (its recipe is in the fit's blueprint)",
         "formula interface")
}

#' All weights and biases as one named vector
#'
#' Names are `layer<l>.w[i,j]` (weight from unit i of the layer below to unit
#' j) and `layer<l>.b[j]` (or `b[r,j]` for the row layout). For an ensemble,
#' the first member's, as `fit$weights` (`fit$members` holds them all).
#' @param object An `mlp_fit`.
#' @param ... Unused.
#' @return A named numeric vector.
#' @examples
#' set.seed(1)
#' fit <- backprop(mpg ~ wt + hp, mtcars, hidden = 2, threads = 1)
#' coef(fit)
#' # The first hidden unit's weights from the two inputs, and its bias:
#' coef(fit)[c("layer1.w[1,1]", "layer1.w[2,1]", "layer1.b[1]")]
#' @export
coef.mlp_fit <- function(object, ...) {
  check_dots(list(...), "coef()", "it takes only the fit")
  out <- list()
  for (l in seq_along(object$weights)) {
    w <- object$weights[[l]]
    b <- object$biases[[l]]
    wn <- paste0("layer", l, ".w[", row(w), ",", col(w), "]")
    bn <- if (nrow(b) == 1L) paste0("layer", l, ".b[", col(b), "]") else
      paste0("layer", l, ".b[", row(b), ",", col(b), "]")
    out[[l]] <- c(stats::setNames(c(w), wn), stats::setNames(c(b), bn))
  }
  unlist(out)
}

#' Summary of a trained network
#'
#' @param object An `mlp_fit`.
#' @param ... Unused.
#' @return An object of class `summary.mlp_fit`: the layers, the training
#'   settings, the loss at the start, end and best epoch, and how well the
#'   network fits its training rows (RMSE and R-squared per output for a
#'   regression, accuracy and the confusion table for a classifier), with
#'   each row counted as often as its observation weight says.
#' @examples
#' set.seed(1)
#' fit <- backprop(Species ~ ., iris, threads = 1)
#' # The layers, the training, the candidates compared, and the fit to the
#' # training rows:
#' summary(fit)
#' @export
summary.mlp_fit <- function(object, ...) {
  check_dots(list(...), "summary()", "it takes only the fit (print() of the summary takes `digits`)")
  layers <- data.frame(
    layer = c("input", sprintf("hidden %d", seq_along(object$hidden)), "output"),
    units = object$sizes,
    activation = c("", object$activation, object$output_activation),
    parameters = c(0, vapply(seq_along(object$weights), function(l) {
      length(object$weights[[l]]) + length(object$biases[[l]])
    }, numeric(1))),
    stringsAsFactors = FALSE
  )
  # Every row the network was fitted to, held-out rows included, without
  # na.exclude's padding; a row of weight k counts k times, as in training.
  w <- object$prior_weights
  mean_w <- function(v) weighted_mean(v, w)
  fit_stats <- if (!is.null(object$levels)) {
    truth <- factor(object$levels[class_index(object$y)], levels = object$levels)
    pred <- to_response(object, object$fitted_raw, "class")
    # Plain factors on both sides (an ordered response predicts ordered classes).
    pred <- factor(if (is.logical(pred)) object$levels[pred + 1L] else as.character(pred),
                   levels = object$levels)
    confusion <- if (is.null(w)) table(predicted = pred, actual = truth) else
      as.table(tapply(w, list(predicted = pred, actual = truth), sum, default = 0))
    list(accuracy = mean_w(pred == truth), confusion = confusion)
  } else {
    y <- training_targets(object)
    f <- to_response(object, object$fitted_raw, "response")
    if (is_band(object)) {
      # A band's fit is how often it holds the response.
      list(inside = mean_w(y[, 1L] >= f[, 1L] & y[, 1L] <= f[, 2L]), levels = object$options$tau)
    } else {
      squares <- apply((y - f)^2, 2L, mean_w)
      spread <- apply(y, 2L, function(v) mean_w((v - mean_w(v))^2))
      list(rmse = sqrt(squares), r_squared = 1 - squares / spread)
    }
  }
  structure(list(
    layers = layers,
    settings = object[c("loss_function", "optimizer", "lr", "epochs", "batch_size",
                        "weight_decay", "bias", "init")],
    training = training_summary(object$options),
    held_out = length(object$held_out),
    epochs_run = length(object$loss),
    members = length(object$members),
    loss_first = if (length(object$loss)) object$loss[1] else NA_real_,
    loss_last = if (length(object$loss)) object$loss[length(object$loss)] else NA_real_,
    loss_kept = kept_loss(object),
    val_loss_best = if (length(object$val_loss)) min(object$val_loss) else NA_real_,
    best_epoch = object$best_epoch,
    status = object$status,
    standardized = !is.null(object$scaling$y),
    starts = object$starts,
    selection = object$selection,
    calibration = if (!is.null(cal <- object$calibration)) {
      list(method = cal$method, source = cal$source, rows = cal$rows, folds = length(cal$folds))
    },
    n = nrow(object$y),
    # (Rows of weight 0 are in the data but count in no statistic.)
    unweighted = if (!is.null(w)) sum(w == 0) else 0L,
    fit = fit_stats
  ), class = "summary.mlp_fit")
}

# The training loss of the weights a fit returns (`kept_loss`, see
# R/fit.R); a fit saved by a version before it has its last epoch's record.
kept_loss <- function(fit) {
  fit$kept_loss %||% if (length(fit$loss)) fit$loss[length(fit$loss)] else NA_real_
}

# The losses of a standardized response are in its standard deviations,
# not its units: said where they are printed (`x` a fit or its summary).
loss_units <- function(x) {
  if (isTRUE(x$standardized) || !is.null(x$scaling$y)) " (standardized response)" else ""
}

#' @export
print.summary.mlp_fit <- function(x, digits = 4, ...) {
  cat("Multilayer perceptron trained by backprop\n\n")
  print(x$layers, row.names = FALSE)
  s <- x$settings
  cat("\nloss ", s$loss_function, ", optimizer ", s$optimizer,
      if (uses_lr(s$optimizer)) paste0(", lr ", format(s$lr)),
      ", batch size ", s$batch_size,
      ", bias layout ", s$bias, ", init ", s$init, "\n", sep = "")
  first <- if (isTRUE(x$members > 1L)) " (first member)" else ""
  cat("epochs run", first, ": ", x$epochs_run, " of ", s$epochs, " (", x$status, ")\n", sep = "")
  cat("training loss", first, loss_units(x), ": ", format(signif(x$loss_first, digits)),
      " (first epoch) -> ",
      format(signif(x$loss_last, digits)), " (last)\n", sep = "")
  if (length(x$training)) cat("training: ", paste(x$training, collapse = ", "), "\n", sep = "")
  if (!is.na(x$val_loss_best)) {
    cat("best validation loss", first, ": ", format(signif(x$val_loss_best, digits)), " at epoch ",
        x$best_epoch, ", whose weights are kept (training loss ",
        format(signif(x$loss_kept, digits)), ")\n", sep = "")
  }
  if (!is.null(x$starts)) {
    cat("starts: kept ", x$starts$kept, " of ", length(x$starts$objective),
        " by the penalized training objective (",
        paste(format(signif(x$starts$objective, digits)), collapse = ", "), ")\n", sep = "")
  }
  if (!is.null(x$selection)) {
    sel <- x$selection
    cat("\nSelection by ", sel$method, " (score: the held-out loss; ",
        if (sel$refitted) "the chosen one refitted on every row" else "the chosen one kept as fitted",
        "):\n", sep = "")
    table <- sel$table
    # Each setting as it would be typed (0.01, not 1e-02 beside 1e-05).
    settings <- setdiff(names(table), c("score", "chosen"))
    table[settings] <- lapply(table[settings], function(col) vapply(col, format, ""))
    table$score <- signif(table$score, digits)
    table$chosen <- ifelse(table$chosen, "*", "")
    print(table, row.names = FALSE)
  }
  cal <- x$calibration
  cat("intervals and sets: ", if (is.null(cal)) "not calibrated (see `conformal` in ?mlp_train)" else
    paste0(cal$method, " conformal, on ", cal$source, " (", cal$rows, " rows",
           if (cal$folds > 1L) paste0(", ", cal$folds, " folds"), ")"), "\n", sep = "")
  notes <- c(if (x$held_out) paste(x$held_out, "of them held out for validation"),
             if (isTRUE(x$unweighted > 0)) paste(x$unweighted, "of weight 0, counted nowhere"))
  cat("\nOn the ", x$n, " rows", if (length(notes)) paste0(" (", paste(notes, collapse = "; "), ")"),
      ":\n", sep = "")
  if (!is.null(x$fit$accuracy)) {
    cat("accuracy ", format(signif(x$fit$accuracy, digits)), "\n", sep = "")
    print(x$fit$confusion)
  } else if (!is.null(x$fit$inside)) {
    cat("the band from quantile ", x$fit$levels[1L], " to ", x$fit$levels[2L], " holds ",
        format(signif(100 * x$fit$inside, digits)), " percent of them\n", sep = "")
  } else {
    print(data.frame(RMSE = signif(x$fit$rmse, digits), R2 = signif(x$fit$r_squared, digits),
                     row.names = names(x$fit$rmse) %||% paste0("y", seq_along(x$fit$rmse))))
  }
  invisible(x)
}

#' Plot a trained network: its loss curves or its diagram
#'
#' @param x An `mlp_fit`.
#' @param type `"loss"`: training (and validation) loss per epoch, on a log
#'   scale when every value is positive, with the best epoch marked when
#'   there is a validation loss; `"network"`: the network diagram, inputs
#'   and outputs labelled with the variable names (and class levels), line
#'   width, colour and opacity by weight (blue positive, vermilion negative;
#'   small weights thin and faded), with a legend. A layer of more than
#'   `max_units` units shows the `max_units` with the largest weights out
#'   of them and notes how many more there are; labels shrink, or move
#'   apart, rather than overlap, and the margins widen to hold the longest
#'   name.
#' @param max_units For `type = "network"`: the most units drawn per
#'   layer.
#' @param ... Passed to [graphics::plot()] for `type = "loss"`.
#' @return `x`, invisibly. Draws on the current device (never opens a new
#'   one), so it works in knitr and RStudio notebooks.
#' @seealso `ggplot2::autoplot()` draws the same with ggplot2
#'   ([autoplot.mlp_fit()]).
#' @examples
#' set.seed(1)
#' fit <- backprop(Species ~ ., iris, threads = 1)
#' plot(fit)                    # the loss per iteration
#' plot(fit, type = "network")  # the diagram, by weight
#' # With validation rows, the validation loss and the best epoch too:
#' fit <- backprop(Species ~ ., iris, optimizer = "adam", validation = 0.2,
#'                 patience = 20, threads = 1)
#' plot(fit)
#' @export
plot.mlp_fit <- function(x, type = c("loss", "network"), max_units = 30, ...) {
  type <- check_choice(type[1], c("loss", "network"), "type")
  if (type == "network") return(invisible(plot_network(x, max_units)))
  if (!length(x$loss)) abort("`x` was trained for 0 epochs: there is no loss curve to plot.")
  curves <- list(training = x$loss)
  if (length(x$val_loss)) curves$validation <- x$val_loss
  all_values <- unlist(curves)
  log_scale <- all(all_values > 0)
  epochs <- seq_along(x$loss)
  graphics::plot(epochs, x$loss, type = "l", col = "black", lwd = 1.5,
                 ylim = range(all_values), log = if (log_scale) "y" else "",
                 xlab = "epoch", ylab = paste0("loss (", x$loss_function, ")"),
                 main = if (length(x$val_loss)) "Training and validation loss" else "Training loss", ...)
  if (!is.null(curves$validation)) {
    graphics::lines(seq_along(curves$validation), curves$validation, col = "#D55E00", lwd = 1.5)
    if (x$best_epoch > 0) graphics::abline(v = x$best_epoch, lty = 3, col = "grey40")
    graphics::legend("topright", c("training", "validation"), col = c("black", "#D55E00"),
                     lwd = 1.5, bty = "n")
  }
  invisible(x)
}

# The base-graphics network diagram, drawn from network_layout().
plot_network <- function(fit, max_units = 30) {
  lay <- network_layout(fit, max_units)
  nodes <- lay$nodes
  n_layers <- length(fit$sizes)
  inputs <- nodes[nodes$layer == 1L, ]
  outputs <- nodes[nodes$layer == n_layers, ]
  # Margins from the labels' widths, so that no name is clipped; names
  # wider than a third of the figure shrink instead.
  fin <- graphics::par("fin")
  label_cex <- if (lay$tallest > 10) 0.7 else 0.85
  widths <- c(max(graphics::strwidth(inputs$label, units = "inches", cex = 1), 0),
              max(graphics::strwidth(outputs$label, units = "inches", cex = 1), 0))
  label_cex <- min(label_cex, (fin[1] / 3) / pmax(widths, 1e-6))
  old <- graphics::par(mai = c(1.4, widths[1] * label_cex + 0.25, 0.8, widths[2] * label_cex + 0.25))
  on.exit(graphics::par(old))
  graphics::plot.new()
  graphics::plot.window(xlim = c(0.9, n_layers + 0.1), ylim = lay$ylim)
  edges <- lay$edges
  graphics::segments(edges$x, edges$y, edges$xend, edges$yend, lwd = 0.3 + lay$max_lwd * edges$size,
                     col = mapply(weight_colour, edges$weight, edges$alpha))
  # Units no wider than the space between them (a circle of cex 1 is about
  # a tenth of an inch across), so that they do not merge on a small device.
  per_inch <- diff(graphics::par("usr")[3:4]) / graphics::par("pin")[2]
  node_cex <- min(if (lay$tallest > 10) 1.6 else 3, 0.9 * (1 / per_inch) / 0.1)
  graphics::points(nodes$x, nodes$y, pch = 21, cex = node_cex, bg = "grey90")
  # Label heights against the space between units: shrunk, and if need be
  # moved apart, so that no two overlap.
  height <- graphics::par("cin")[2] * label_cex * per_inch
  for (side in list(list(d = inputs, x = 1 - 0.06, adj = 1), list(d = outputs, x = n_layers + 0.06, adj = 0))) {
    placed <- spread_labels(side$d$y, height, lay$ylim[1], lay$ylim[2])
    graphics::text(rep(side$x, nrow(side$d)), placed$y, side$d$label, adj = c(side$adj, 0.5),
                   cex = label_cex * placed$scale, xpd = TRUE)
  }
  # Layer names and the units left out in the margins, clear of the units.
  graphics::mtext(lay$layers, side = 1, at = seq_len(n_layers), line = 0.4, padj = 1, cex = 0.75)
  if (nrow(lay$more)) {
    graphics::mtext(lay$more$label, side = 3, at = lay$more$x, line = 0.1, cex = 0.7, col = "grey30")
  }
  wmax <- lay$wmax
  graphics::legend("bottom", inset = c(0, -1.2 / graphics::par("pin")[2]), horiz = TRUE, bty = "n", cex = 0.7, xpd = TRUE,
                   legend = c(paste0("+", format(signif(wmax, 2))), "+ small",
                              paste0("-", format(signif(wmax, 2))), "- small"),
                   col = c(weight_colour(1, 1), weight_colour(1, 0.3),
                           weight_colour(-1, 1), weight_colour(-1, 0.3)),
                   lwd = 0.3 + lay$max_lwd * c(1, 0.15, 1, 0.15), title = "weight")
  graphics::title(lay$title, line = 1.6)
  fit
}

# Where the network diagram (base and ggplot2) puts its units, lines and
# labels. A layer of more than `max_units` units shows the `max_units` with
# the largest outgoing weights (incoming, for the output layer) and notes
# how many it leaves out: a hundred lines from each of a hundred units
# would be a grey block. Units run top to bottom in their order.
network_layout <- function(fit, max_units = 30) {
  max_units <- check_count(max_units, "max_units", min = 2)
  sizes <- fit$sizes
  n_layers <- length(sizes)
  weights <- fit$weights
  labels <- network_labels(fit)
  shown <- lapply(seq_len(n_layers), function(l) {
    k <- sizes[l]
    if (k <= max_units) return(seq_len(k))
    strength <- if (l < n_layers) rowSums(abs(weights[[l]])) else colSums(abs(weights[[l - 1L]]))
    sort(order(-strength)[seq_len(max_units)])
  })
  counts <- lengths(shown)
  tallest <- max(counts)
  # A small layer spreads over the height of the tallest, one step apart at most.
  ypos <- lapply(counts, function(k) {
    (tallest + 1) / 2 + ((k + 1) / 2 - seq_len(k)) * min(1, tallest / max(k, 1))
  })
  node_labels <- c(list(labels$inputs), rep(list(NULL), n_layers - 2L), list(labels$outputs))
  nodes <- do.call(rbind, lapply(seq_len(n_layers), function(l) {
    data.frame(layer = l, unit = shown[[l]], x = l, y = ypos[[l]],
               label = if (is.null(node_labels[[l]])) NA_character_ else node_labels[[l]][shown[[l]]],
               stringsAsFactors = FALSE)
  }))
  wmax <- max(abs(unlist(weights)), .Machine$double.eps)
  edges <- do.call(rbind, lapply(seq_along(weights), function(l) {
    from <- rep(seq_along(shown[[l]]), times = length(shown[[l + 1L]]))
    to <- rep(seq_along(shown[[l + 1L]]), each = length(shown[[l]]))
    w <- weights[[l]][cbind(shown[[l]][from], shown[[l + 1L]][to])]
    data.frame(layer = l, x = l, y = ypos[[l]][from], xend = l + 1, yend = ypos[[l + 1L]][to],
               weight = w, size = abs(w) / wmax)
  }))
  # Opacity by size; among hundreds of lines the middling ones fade faster,
  # so that the strong ones stand out of the mass.
  edges$alpha <- 0.15 + 0.85 * edges$size
  if (nrow(edges) > 300) edges$alpha <- 0.04 + 0.96 * edges$size^2
  # Draw the strong lines last, on top of the faint ones.
  edges <- edges[order(edges$size), , drop = FALSE]
  rownames(edges) <- NULL
  hidden_out <- which(counts < sizes)
  more <- data.frame(layer = hidden_out, x = hidden_out, y = rep(tallest + 0.9, length(hidden_out)),
                     label = sprintf("+%d more", sizes[hidden_out] - counts[hidden_out]),
                     stringsAsFactors = FALSE)
  list(nodes = nodes, edges = edges, more = more, layers = labels$layers,
       ylim = c(0.5, tallest + 0.5), tallest = tallest, wmax = wmax,
       # Many lines: thinner, so that the large weights show.
       max_lwd = if (nrow(edges) > 150) 2.5 else 4,
       title = paste("Network", paste(sizes, collapse = " - ")))
}

# Vertical positions for labels of height `height` wanted at `y`: as near
# to them as they can be with no two overlapping, inside [lower, upper].
# When they cannot all fit, `scale` (below 1) is how much to shrink them
# and their height.
spread_labels <- function(y, height, lower, upper) {
  n <- length(y)
  if (!n) return(list(y = numeric(0), scale = 1))
  scale <- min(1, (upper - lower) / (n * height))
  h <- height * scale
  ord <- order(y)
  z <- pmin(pmax(y[ord], lower + h / 2), upper - h / 2)
  # Up from the lowest, each at least a height above the one below; then
  # down from the top, so that the highest stays inside.
  for (i in seq_len(n)[-1L]) z[i] <- max(z[i], z[i - 1L] + h)
  z[n] <- min(z[n], upper - h / 2)
  for (i in rev(seq_len(n - 1L))) z[i] <- min(z[i], z[i + 1L] - h)
  out <- numeric(n)
  out[ord] <- z
  list(y = out, scale = scale)
}

# The network picture's labels: inputs by variable (dummy columns by
# level), outputs by response or class level, layers by activation.
network_labels <- function(fit) {
  sizes <- fit$sizes
  n_layers <- length(sizes)
  # A quantile band's outputs are its upper bound and its lower bound
  # negated (see band_target()), named by their levels as predict() names
  # the bounds.
  tau <- band_levels(fit$loss_function, fit$options)
  band <- if (!is.null(tau)) paste0(c("", "-"), "q", format(tau)[2:1])
  list(inputs = fit$x_names %||% paste0("x", seq_len(sizes[1])),
       outputs = band %||% fit$levels %||% fit$y_names %||% output_names(fit),
       layers = c("input", paste0("hidden ", seq_along(fit$hidden), "\n(", fit$activation, ")"),
                  paste0("output\n(", fit$output_activation, ")")))
}

# Outputs without a name of their own: the response's name where the
# data had one, else y (one output) or y1, y2, ...
output_names <- function(fit) {
  k <- fit$sizes[length(fit$sizes)]
  named <- if (!is.null(fit$blueprint)) outcome_names(fit$blueprint)
  if (length(named) == k) return(named)
  if (k == 1L) "y" else paste0("y", seq_len(k))
}

# Blue for a positive weight, vermilion for a negative one (Okabe-Ito).
weight_colour <- function(w, alpha) {
  grDevices::adjustcolor(if (w >= 0) "#0072B2" else "#D55E00", alpha.f = alpha)
}
