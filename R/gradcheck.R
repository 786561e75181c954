#' Check backpropagation against finite differences
#'
#' Computes the gradient of the training objective by backpropagation (the
#' Rust core's backward pass) and by central finite differences, for any
#' architecture, activation, loss and bias layout, and compares them.
#'
#' The objective is the mean over rows of the per-row loss (half the squared
#' error for `"sse"`; the mean over outputs for `"mse"`, `"mae"`, `"huber"`
#' and `"quantile"`; the cross-entropy; half the mean Poisson deviance for
#' `"poisson"`), plus `weight_decay / 2` times the sum of squared weights and
#' `l1` times the sum of their absolute values. Dropout plays no part: the
#' check is of the whole network. `"mae"`, `"quantile"`, `"relu"`-like
#' units and `l1` have kinks, where finite differences disagree with any
#' gradient; away from them they agree.
#'
#' With `bias = "row"` the biases are checked against their gradient proper,
#' the delta of each row and unit. Training does not follow that gradient for
#' them: it applies the article's R program's rule, `bh + rowSums(d) * lr`,
#' which moves every bias of a row by the sum of that row's deltas.
#'
#' The network is [mlp_train()]'s for the same arguments: by default the
#' article's (3 sigmoid hidden units, its starting weights), and with
#' `init = fit` the fit's, at its weights.
#'
#' @inheritParams mlp_train
#' @param h Step of the central differences.
#' @return An object of class `mlp_gradcheck`: `table`, a data frame with one
#'   row per parameter (`parameter`, `backprop`, `numeric`, `abs_error`,
#'   `rel_error`), and `max_rel_error`.
#' @examples
#' set.seed(1)
#' x <- matrix(rnorm(20), 10)
#' y <- matrix(runif(20), 10)
#' mlp_gradcheck(x, y, hidden = c(4, 3), activation = "tanh")
#' @export
mlp_gradcheck <- function(X, Y, hidden = NULL, activation = NULL, output = NULL,
                          loss = NULL, bias = c("column", "row"), init = NULL,
                          weight_decay = 0, l1 = 0, huber_delta = NULL, tau = NULL, h = 1e-6) {
  if (missing(Y)) abort("`Y` is missing: give the targets, one row per row of `X`.")
  h <- check_number(h, "h", lower = 0)
  x <- mold_xy(X, "X", init = init)$x
  target <- as_target(Y, nrow(x))
  given <- check_given(list(hidden = hidden, activation = activation, output = output, loss = loss,
                            bias = if (!missing(bias)) bias, init = init,
                            weight_decay = weight_decay, l1 = l1,
                            huber_delta = huber_delta, tau = tau), "mlp_gradcheck()")
  spec <- training_spec(x, target, c(given, list(epochs = 0, optimizer = "gd", threads = 1,
                                                 verbose = FALSE)), keep_training = FALSE)
  # theta: the parameters in the core's order, W1, b1, W2, b2, ...
  blocks <- c(rbind(spec$params$weights, spec$params$biases))
  theta <- unlist(lapply(blocks, c))
  bias_rows <- nrow(spec$params$biases[[1]])
  rebuild <- function(theta) unflatten_params(theta, spec$sizes, bias_rows)
  value <- function(theta) objective_(spec$x, spec$y, spec, rebuild(theta))$value
  analytic <- objective_(spec$x, spec$y, spec, spec$params)$gradient
  numeric <- vapply(seq_along(theta), function(i) {
    up <- theta
    down <- theta
    up[i] <- up[i] + h
    down[i] <- down[i] - h
    (value(up) - value(down)) / (2 * h)
  }, numeric(1))
  abs_error <- abs(analytic - numeric)
  rel_error <- abs_error / pmax(abs(analytic) + abs(numeric), 1e-8)
  fit_like <- list(weights = spec$params$weights, biases = spec$params$biases)
  table <- data.frame(parameter = names(coef.mlp_fit(fit_like)), backprop = analytic,
                      numeric = numeric, abs_error = abs_error, rel_error = rel_error)
  structure(list(table = table, max_rel_error = max(rel_error),
                 max_abs_error = max(abs_error),
                 settings = list(sizes = spec$sizes, activation = spec$activation,
                                 output = spec$output, loss = spec$loss, bias = spec$bias)),
            class = "mlp_gradcheck")
}

#' @export
print.mlp_gradcheck <- function(x, ...) {
  s <- x$settings
  cat("<mlp_gradcheck> ", paste(s$sizes, collapse = " -> "), ", ",
      paste(c(s$activation, s$output), collapse = "/"), ", loss ", s$loss, ", ",
      s$bias, " biases\n", sep = "")
  cat(nrow(x$table), " parameters; largest relative error ",
      format(signif(x$max_rel_error, 3)), ", largest absolute error ",
      format(signif(x$max_abs_error, 3)), "\n", sep = "")
  if (s$bias == "row") {
    cat("(row biases: checked against their gradient; training moves them by the article's rowSums rule)\n")
  }
  worst <- x$table[order(-x$table$rel_error), ][seq_len(min(5, nrow(x$table))), ]
  print(worst, row.names = FALSE, digits = 6)
  invisible(x)
}
