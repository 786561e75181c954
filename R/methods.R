# print(), predict(), fitted(), summary(), plot() and the other methods of a
# fit; they read only the fields new_mlp_fit() guarantees (R/fit.R).

#' @export
print.mlp_fit <- function(x, digits = 4, ...) {
  sizes <- x$sizes
  cat("<mlp_fit> multilayer perceptron ", paste(sizes, collapse = " -> "), "\n", sep = "")
  acts <- c(x$activation, x$output_activation)
  cat("  activations: ", paste(acts, collapse = ", "), "\n", sep = "")
  cat("  loss: ", x$loss_function, ", optimizer: ", x$optimizer,
      if (uses_lr(x$optimizer)) paste0(", lr: ", format(x$lr)), ", epochs: ", length(x$loss), if (length(x$loss) != x$epochs)
        paste0(" of ", x$epochs) else "", "\n", sep = "")
  cat("  bias layout: ", x$bias, ", init: ", x$init,
      if (!is.null(x$scaling)) ", inputs standardized" else "",
      if (identical(x$precision, "single")) ", single precision" else "", "\n", sep = "")
  cat("  parameters: ", n_params(x), ", training rows: ", x$n, "\n", sep = "")
  training <- training_summary(x$options)
  if (length(training)) cat("  training: ", paste(training, collapse = ", "), "\n", sep = "")
  if (length(x$loss)) {
    cat("  final loss: ", format(signif(x$loss[length(x$loss)], digits)), sep = "")
    if (length(x$val_loss)) {
      cat(", best validation loss: ", format(signif(min(x$val_loss), digits)),
          " (epoch ", x$best_epoch, ")", sep = "")
    }
    cat("\n")
  }
  if (x$status != "completed") cat("  status: ", x$status, "\n", sep = "")
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
#'   (classifiers only); `"class"`: the predicted class (classifiers only), a
#'   factor with the response's levels (ordered if the response was), or
#'   `TRUE`/`FALSE` for a logical response; `"raw"`: the network's output as
#'   it is (standardized units when the response was standardized).
#' @param threads Threads for the matrix products (see [mlp_train()]).
#' @param ... Not used: any other argument is an error.
#' @param new_data The tidymodels spelling of `newdata`; give one or the
#'   other.
#' @return A matrix with one row per row of `newdata` (a factor or logical
#'   vector for `type = "class"`).
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
#' @examples
#' set.seed(1)
#' idx <- sample(nrow(iris), 100)
#' fit <- backprop(Species ~ ., iris[idx, ], threads = 1)
#' table(predict(fit, iris[-idx, ], type = "class"), iris$Species[-idx])
#' head(predict(fit, iris[-idx, ], type = "prob"))
#' @export
predict.mlp_fit <- function(object, newdata, type = c("response", "prob", "class", "raw"),
                            threads = NULL, ..., new_data) {
  check_dots(list(...), "predict()",
             "its arguments are `newdata` (or `new_data`), `type` and `threads`")
  if (!missing(new_data)) {
    if (!missing(newdata)) abort("Give `newdata` or `new_data`, not both.")
    newdata <- new_data
    arg <- "new_data"
  } else {
    arg <- "newdata"
  }
  type <- if (missing(type)) "response" else check_choice(type, c("response", "prob", "class", "raw"), "type")
  if (type %in% c("class", "prob") && is.null(object$levels)) {
    abort("`type = \"", type, "\"` needs a classifier (a factor response); this network ",
          "is a regression.")
  }
  if (missing(newdata) || is.null(newdata)) {
    return(to_response(object, stats::napredict(object$na_action, object$fitted_raw), type))
  }
  x <- forge(object$blueprint, newdata, arg)
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
  complete <- !is.na(rowSums(x))
  raw <- matrix(NA_real_, nrow(x), object$sizes[length(object$sizes)])
  if (!is.null(rownames(x)) || !is.null(object$y_names)) dimnames(raw) <- list(rownames(x), object$y_names)
  if (any(complete)) {
    xc <- if (all(complete)) x else x[complete, , drop = FALSE]
    if (!is.null(object$scaling)) xc <- apply_stats(xc, object$scaling$x)
    out <- network_output(object, xc, resolve_threads(threads))
    bad <- !is.finite(rowSums(out))
    if (any(bad)) {
      warning(sum(bad), " row", if (sum(bad) > 1) "s", " of `", arg, "` gave non-finite ",
              "outputs: their inputs are too large for the network's arithmetic ",
              "(first: row ", which(complete)[which(bad)[1]], ").", call. = FALSE)
    }
    raw[complete, ] <- out
  }
  to_response(object, raw, type)
}

# The network's raw output for inputs already scaled as in training.
network_output <- function(object, x, threads) {
  arch <- list(sizes = as.numeric(object$sizes),
               activation = object$activation, output = object$output_activation,
               bias = "column")
  predict_(x, arch, list(weights = object$weights, biases = object$biases), threads)
}

# The network's raw output in the units the user asked for.
to_response <- function(object, raw, type) {
  if (type == "raw") return(raw)
  if (!is.null(object$levels)) {
    colnames(raw) <- object$levels
    if (type == "class") {
      best <- max.col(raw, ties.method = "first")
      best[is.na(rowSums(raw))] <- NA_integer_
      if (isTRUE(object$logical_response)) return(stats::setNames(best == 2L, rownames(raw)))
      return(factor(object$levels[best], levels = object$levels,
                    ordered = isTRUE(object$ordered)))
    }
    return(raw)
  }
  if (!is.null(object$scaling$y)) raw <- undo_stats(raw, object$scaling$y)
  raw
}

#' @export
fitted.mlp_fit <- function(object, ...) {
  stats::napredict(object$na_action, to_response(object, object$fitted_raw, "response"))
}

#' @export
residuals.mlp_fit <- function(object, ...) {
  if (!is.null(object$levels)) abort("`object` is a classifier; residuals are for regression.")
  out <- training_targets(object) - to_response(object, object$fitted_raw, "response")
  stats::naresid(object$na_action, out)
}

# The training targets in the response's units, every data row (the fit
# keeps them as the network saw them, standardized when the response was).
training_targets <- function(object) {
  y <- object$y
  if (!is.null(object$scaling$y)) y <- undo_stats(y, object$scaling$y)
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
#' @return `weights()`: a numeric vector, or `NULL` for a fit without
#'   weights; `nobs()`: a number; `formula()`, `terms()`, `model.frame()`:
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
weights.mlp_fit <- function(object, ...) object$prior_weights

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
#' j) and `layer<l>.b[j]` (or `b[r,j]` for the row layout).
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
#'   regression, accuracy and the confusion table for a classifier).
#' @examples
#' set.seed(1)
#' fit <- backprop(Species ~ ., iris, threads = 1)
#' # The layers, the training, the candidates compared, and the fit to the
#' # training rows:
#' summary(fit)
#' @export
summary.mlp_fit <- function(object, ...) {
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
  # na.exclude's padding.
  fit_stats <- if (!is.null(object$levels)) {
    truth <- factor(object$levels[max.col(object$y, ties.method = "first")], levels = object$levels)
    pred <- to_response(object, object$fitted_raw, "class")
    # Plain factors on both sides (an ordered response predicts ordered classes).
    pred <- factor(if (is.logical(pred)) object$levels[pred + 1L] else as.character(pred),
                   levels = object$levels)
    list(accuracy = mean(pred == truth), confusion = table(predicted = pred, actual = truth))
  } else {
    y <- training_targets(object)
    f <- to_response(object, object$fitted_raw, "response")
    rmse <- sqrt(colMeans((y - f)^2))
    r2 <- 1 - colSums((y - f)^2) / colSums(sweep(y, 2, colMeans(y))^2)
    list(rmse = rmse, r_squared = r2)
  }
  structure(list(
    layers = layers,
    settings = object[c("loss_function", "optimizer", "lr", "epochs", "batch_size",
                        "weight_decay", "bias", "init")],
    training = training_summary(object$options),
    held_out = length(object$held_out),
    epochs_run = length(object$loss),
    loss_first = if (length(object$loss)) object$loss[1] else NA_real_,
    loss_last = if (length(object$loss)) object$loss[length(object$loss)] else NA_real_,
    val_loss_best = if (length(object$val_loss)) min(object$val_loss) else NA_real_,
    best_epoch = object$best_epoch,
    status = object$status,
    starts = object$starts,
    selection = object$selection,
    n = nrow(object$y),
    fit = fit_stats
  ), class = "summary.mlp_fit")
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
  cat("epochs run: ", x$epochs_run, " of ", s$epochs, " (", x$status, ")\n", sep = "")
  cat("training loss: ", format(signif(x$loss_first, digits)), " (first epoch) -> ",
      format(signif(x$loss_last, digits)), " (last)\n", sep = "")
  if (length(x$training)) cat("training: ", paste(x$training, collapse = ", "), "\n", sep = "")
  if (!is.na(x$val_loss_best)) {
    cat("best validation loss: ", format(signif(x$val_loss_best, digits)), " at epoch ",
        x$best_epoch, "\n", sep = "")
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
  cat("\nOn the ", x$n, " rows", if (x$held_out) paste0(" (", x$held_out, " of them held out for validation)"),
      ":\n", sep = "")
  if (!is.null(x$fit$accuracy)) {
    cat("accuracy ", format(signif(x$fit$accuracy, digits)), "\n", sep = "")
    print(x$fit$confusion)
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
#'   small weights thin and faded), with a legend.
#' @param ... Passed to [graphics::plot()] for `type = "loss"`.
#' @return `x`, invisibly. Draws on the current device (never opens a new
#'   one), so it works in knitr and RStudio notebooks.
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
plot.mlp_fit <- function(x, type = c("loss", "network"), ...) {
  type <- check_choice(type[1], c("loss", "network"), "type")
  if (type == "network") return(invisible(plot_network(x)))
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

plot_network <- function(fit) {
  sizes <- fit$sizes
  n_layers <- length(sizes)
  tallest <- max(sizes)
  old <- graphics::par(mar = c(1, 1, 2.5, 1))
  on.exit(graphics::par(old))
  graphics::plot.new()
  # Room on the left and right for the input and output labels.
  graphics::plot.window(xlim = c(0.2, n_layers + 0.8), ylim = c(-0.6, tallest + 1))
  ypos <- lapply(sizes, function(k) (tallest + 1) / 2 + (seq_len(k) - (k + 1) / 2) * min(1, tallest / max(k, 1)))
  wmax <- max(abs(unlist(fit$weights)), .Machine$double.eps)
  # Many lines: thin and fade the small weights so that the large ones show.
  lines_drawn <- sum(vapply(fit$weights, length, integer(1)))
  max_lwd <- if (lines_drawn > 150) 2.5 else 4
  for (l in seq_along(fit$weights)) {
    w <- fit$weights[[l]]
    for (i in seq_len(nrow(w))) for (j in seq_len(ncol(w))) {
      size <- abs(w[i, j]) / wmax
      graphics::segments(l, ypos[[l]][i], l + 1, ypos[[l + 1]][j],
                         lwd = 0.3 + max_lwd * size,
                         col = weight_colour(w[i, j], alpha = 0.15 + 0.85 * size))
    }
  }
  cex <- if (tallest > 10) 1.6 else 3
  for (l in seq_len(n_layers)) {
    graphics::points(rep(l, sizes[l]), ypos[[l]], pch = 21, cex = cex, bg = "grey90")
  }
  label_cex <- if (tallest > 10) 0.6 else 0.8
  labels <- network_labels(fit)
  graphics::text(rep(1 - 0.12, sizes[1]), ypos[[1]], labels$inputs, adj = 1, cex = label_cex, xpd = TRUE)
  graphics::text(rep(n_layers + 0.12, sizes[n_layers]), ypos[[n_layers]], labels$outputs, adj = 0,
                 cex = label_cex, xpd = TRUE)
  graphics::text(seq_len(n_layers), -0.3, labels$layers, cex = 0.75)
  graphics::legend("topright", inset = c(0, -0.02), bty = "n", cex = 0.7, xpd = TRUE,
                   legend = c(paste0("+", format(signif(wmax, 2))), "+ small",
                              paste0("-", format(signif(wmax, 2))), "- small"),
                   col = c(weight_colour(1, 1), weight_colour(1, 0.3),
                           weight_colour(-1, 1), weight_colour(-1, 0.3)),
                   lwd = c(0.3 + max_lwd, 0.3 + max_lwd * 0.15, 0.3 + max_lwd, 0.3 + max_lwd * 0.15),
                   title = "weight")
  graphics::title(paste("Network", paste(sizes, collapse = " - ")))
  fit
}

# The network picture's labels: inputs by variable (dummy columns by
# level), outputs by response or class level, layers by activation.
network_labels <- function(fit) {
  sizes <- fit$sizes
  n_layers <- length(sizes)
  list(inputs = fit$x_names %||% paste0("x", seq_len(sizes[1])),
       outputs = fit$levels %||% fit$y_names %||% paste0("y", seq_len(sizes[n_layers])),
       layers = c("input", paste0("hidden ", seq_along(fit$hidden), "\n(", fit$activation, ")"),
                  paste0("output\n(", fit$output_activation, ")")))
}

# Blue for a positive weight, vermilion for a negative one (Okabe-Ito).
weight_colour <- function(w, alpha) {
  grDevices::adjustcolor(if (w >= 0) "#0072B2" else "#D55E00", alpha.f = alpha)
}
