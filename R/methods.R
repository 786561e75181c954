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
  if (length(x$loss)) {
    cat("  final loss: ", format(signif(x$loss[length(x$loss)], digits)), sep = "")
    if (length(x$val_loss)) {
      cat(", best validation loss: ", format(signif(min(x$val_loss), digits)),
          " (epoch ", x$best_epoch, ")", sep = "")
    }
    cat("\n")
  }
  if (x$status != "completed") cat("  status: ", x$status, "\n", sep = "")
  shapes <- vapply(seq_along(x$weights), function(l) {
    paste0("W", l, " ", nrow(x$weights[[l]]), "x", ncol(x$weights[[l]]),
           ", b", l, " ", nrow(x$biases[[l]]), "x", ncol(x$biases[[l]]))
  }, character(1))
  cat("  shapes: ", paste(shapes, collapse = "; "), "\n", sep = "")
  invisible(x)
}

uses_lr <- function(optimizer) optimizer %in% c("gd", "sgd", "adam")

n_params <- function(fit) {
  sum(vapply(c(fit$weights, fit$biases), length, integer(1)))
}

#' Predictions from a trained network
#'
#' @param object An `mlp_fit` from [mlp_train()].
#' @param new_data New inputs, in the form used for training: a matrix, data
#'   frame or vector for `mlp_train(X, Y)`, a data frame for the formula
#'   interface. Missing: the training rows (as [fitted()]).
#' @param type `"response"`: outputs in the units of the response (class
#'   probabilities for a classifier); `"class"`: the predicted class, as a
#'   factor (classifiers only); `"raw"`: the network's output as it is
#'   (standardized units when `scale = TRUE`).
#' @param threads Threads for the matrix products (see [mlp_train()]).
#' @param ... Unused.
#' @return A matrix with one row per row of `new_data` (a factor for
#'   `type = "class"`).
#' @details A network trained with `bias = "row"` (the article's R program)
#'   has one bias per *training row*; such biases do not apply to new rows, so
#'   predicting new data from it is an error. Its training output is in
#'   `fit$output`; train with `bias = "column"` to predict new data.
#' @examples
#' set.seed(1)
#' idx <- sample(nrow(iris), 100)
#' fit <- mlp_train(Species ~ ., iris[idx, ], hidden = 5, optimizer = "lbfgs",
#'                  epochs = 200, scale = TRUE, threads = 1)
#' table(predict(fit, iris[-idx, ], type = "class"), iris$Species[-idx])
#' @export
predict.mlp_fit <- function(object, new_data, type = c("response", "class", "raw"),
                            threads = NULL, ...) {
  type <- check_choice(type[1], c("response", "class", "raw"), "type")
  if (type == "class" && is.null(object$levels)) {
    abort("`type = \"class\"` needs a classifier (a factor response); this network ",
          "is a regression.")
  }
  if (missing(new_data) || is.null(new_data)) {
    raw <- object$output
  } else {
    if (object$bias == "row") {
      abort("`new_data` cannot be predicted by a network trained with `bias = \"row\"`: ",
            "its biases belong to the training rows, one per row, and do not apply ",
            "to new rows. Its training output is in `fit$output`; train with ",
            "`bias = \"column\"` to predict new data.")
    }
    x <- new_inputs(object, new_data)
    if (!is.null(object$scaling)) x <- apply_stats(x, object$scaling$x)
    arch <- list(sizes = as.numeric(object$sizes),
                 activation = object$activation, output = object$output_activation,
                 bias = "column")
    raw <- predict_(x, arch, list(weights = object$weights, biases = object$biases),
                    resolve_threads(threads))
    rownames(raw) <- rownames(x)
    colnames(raw) <- colnames(object$output)
    bad <- !is.finite(rowSums(raw))
    if (any(bad)) {
      warning(sum(bad), " row", if (sum(bad) > 1) "s", " of `new_data` gave non-finite ",
              "outputs: their inputs are too large for the network's arithmetic ",
              "(first: row ", which(bad)[1], ").", call. = FALSE)
    }
  }
  to_response(object, raw, type)
}

# The network's raw output in the units the user asked for.
to_response <- function(object, raw, type) {
  if (type == "raw") return(raw)
  if (!is.null(object$levels)) {
    colnames(raw) <- object$levels
    if (type == "class") {
      return(factor(object$levels[max.col(raw, ties.method = "first")], levels = object$levels))
    }
    return(raw)
  }
  if (!is.null(object$scaling$y)) raw <- undo_stats(raw, object$scaling$y)
  raw
}

new_inputs <- function(object, new_data) {
  if (!is.null(object$blueprint)) return(forge_new_data(new_data, object$blueprint))
  x <- as_data_matrix(new_data, "new_data")
  d <- object$sizes[1]
  names_known <- !is.null(object$x_names) && !is.null(colnames(x))
  if (names_known) {
    missing_cols <- setdiff(object$x_names, colnames(x))
    if (length(missing_cols)) {
      abort("`new_data` lacks the training column", if (length(missing_cols) > 1) "s", " ",
            paste0("`", missing_cols, "`", collapse = ", "), ".")
    }
    x <- x[, object$x_names, drop = FALSE]
  }
  if (ncol(x) != d) {
    abort("`new_data` must have ", d, " column", if (d > 1) "s", " like the training inputs, not ",
          ncol(x), ".")
  }
  x
}

#' @export
fitted.mlp_fit <- function(object, ...) {
  to_response(object, object$output, "response")
}

#' @export
residuals.mlp_fit <- function(object, ...) {
  if (!is.null(object$levels)) abort("`object` is a classifier; residuals are for regression.")
  training_targets(object) - fitted(object)
}

# The training targets in the response's units (the fit keeps them as the
# network saw them, standardized when `scale = TRUE`).
training_targets <- function(object) {
  y <- object$y
  if (!is.null(object$scaling$y)) y <- undo_stats(y, object$scaling$y)
  y
}

#' All weights and biases as one named vector
#'
#' Names are `layer<l>.w[i,j]` (weight from unit i of the layer below to unit
#' j) and `layer<l>.b[j]` (or `b[r,j]` for the row layout).
#' @param object An `mlp_fit`.
#' @param ... Unused.
#' @return A named numeric vector.
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
#' @export
summary.mlp_fit <- function(object, ...) {
  layers <- data.frame(
    layer = c("input", paste("hidden", seq_along(object$hidden)), "output"),
    units = object$sizes,
    activation = c("", object$activation, object$output_activation),
    parameters = c(0, vapply(seq_along(object$weights), function(l) {
      length(object$weights[[l]]) + length(object$biases[[l]])
    }, numeric(1))),
    stringsAsFactors = FALSE
  )
  fit_stats <- if (!is.null(object$levels)) {
    truth <- factor(object$levels[max.col(object$y, ties.method = "first")], levels = object$levels)
    pred <- predict(object, type = "class")
    list(accuracy = mean(pred == truth), confusion = table(predicted = pred, actual = truth))
  } else {
    y <- training_targets(object)
    f <- fitted(object)
    rmse <- sqrt(colMeans((y - f)^2))
    r2 <- 1 - colSums((y - f)^2) / colSums(sweep(y, 2, colMeans(y))^2)
    list(rmse = rmse, r_squared = r2)
  }
  structure(list(
    layers = layers,
    settings = object[c("loss_function", "optimizer", "lr", "epochs", "batch_size",
                        "weight_decay", "bias", "init")],
    epochs_run = length(object$loss),
    loss_first = if (length(object$loss)) object$loss[1] else NA_real_,
    loss_last = if (length(object$loss)) object$loss[length(object$loss)] else NA_real_,
    val_loss_best = if (length(object$val_loss)) min(object$val_loss) else NA_real_,
    best_epoch = object$best_epoch,
    status = object$status,
    n = object$n,
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
      ", batch size ", s$batch_size, ", weight decay ", format(s$weight_decay),
      ", bias layout ", s$bias, ", init ", s$init, "\n", sep = "")
  cat("epochs run: ", x$epochs_run, " of ", s$epochs, " (", x$status, ")\n", sep = "")
  cat("training loss: ", format(signif(x$loss_first, digits)), " (first epoch) -> ",
      format(signif(x$loss_last, digits)), " (last)\n", sep = "")
  if (!is.na(x$val_loss_best)) {
    cat("best validation loss: ", format(signif(x$val_loss_best, digits)), " at epoch ",
        x$best_epoch, "\n", sep = "")
  }
  cat("\nOn the ", x$n, " training rows:\n", sep = "")
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
#'   scale when every value is positive; `"network"`: the network diagram,
#'   with line width and colour by weight (blue positive, red negative).
#' @param ... Passed to [graphics::plot()] for `type = "loss"`.
#' @return `x`, invisibly. Draws on the current device (never opens a new
#'   one), so it works in knitr and RStudio notebooks.
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
                 main = "Training loss", ...)
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
  old <- graphics::par(mar = c(1, 1, 2, 1))
  on.exit(graphics::par(old))
  graphics::plot.new()
  graphics::plot.window(xlim = c(0.5, n_layers + 0.5), ylim = c(0, max(sizes) + 1))
  ypos <- lapply(sizes, function(k) (max(sizes) + 1) / 2 + (seq_len(k) - (k + 1) / 2))
  wmax <- max(abs(unlist(fit$weights)))
  for (l in seq_along(fit$weights)) {
    w <- fit$weights[[l]]
    for (i in seq_len(nrow(w))) for (j in seq_len(ncol(w))) {
      graphics::segments(l, ypos[[l]][i], l + 1, ypos[[l + 1]][j],
                         lwd = 0.5 + 4 * abs(w[i, j]) / wmax,
                         col = if (w[i, j] >= 0) "#0072B2" else "#D55E00")
    }
  }
  labels <- c("input", rep("hidden", length(fit$hidden)), "output")
  for (l in seq_len(n_layers)) {
    graphics::points(rep(l, sizes[l]), ypos[[l]], pch = 21, cex = 3, bg = "grey90")
    graphics::text(l, 0.2, paste0(labels[l], "\n", sizes[l]), cex = 0.8)
  }
  graphics::title(paste("Network", paste(sizes, collapse = " - ")))
  fit
}
