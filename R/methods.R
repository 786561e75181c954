#' @export
print.mlp_fit <- function(x, digits = 4, ...) {
  sizes <- x$sizes
  cat("<mlp_fit> multilayer perceptron ", paste(sizes, collapse = " -> "), "\n", sep = "")
  acts <- c(x$activation, x$output_activation)
  cat("  activations: ", paste(acts, collapse = ", "), "\n", sep = "")
  cat("  loss: ", x$loss_function, ", optimizer: ", x$optimizer, ", lr: ",
      format(x$lr), ", epochs: ", length(x$loss), if (length(x$loss) != x$epochs)
        paste0(" of ", x$epochs) else "", "\n", sep = "")
  cat("  bias layout: ", x$bias, ", init: ", x$init,
      if (!is.null(x$scaling)) ", inputs standardized" else "", "\n", sep = "")
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

n_params <- function(fit) {
  sum(vapply(c(fit$weights, fit$biases), length, integer(1)))
}
