# ggplot2 charts of a fit, its importance and its partial dependence.
# ggplot2 stays a suggestion: the autoplot() methods are registered when
# ggplot2 is loaded (NAMESPACE's delayed S3method()), and their data come
# from the same helpers as the base plot() methods.

utils::globalVariables(c("epoch", "loss", "set", "x", "y", "xend", "yend", "sign", "size",
                         "importance", "std_error", "variable", "output", "value", "yhat",
                         "label", "alpha"))

#' ggplot2 charts of a network and its explanations
#'
#' `ggplot2::autoplot()` methods, the ggplot2 counterparts of the `plot()`
#' methods:
#'
#' * an `mlp_fit`: its training loss per epoch, with the validation loss
#'   and the best epoch labelled when it has one (`type = "loss"`); or its
#'   diagram (`type = "network"`), as in [plot.mlp_fit()], with the inputs'
#'   names on the left axis and the outputs' (the response, or its classes)
#'   on the right, and a layer of more than `max_units` units drawn by the
#'   `max_units` with the largest weights out of them.
#' * an `mlp_importance` ([mlp_importance()]): bars sorted, the most
#'   important on top, with error bars of one standard error where
#'   permutation was repeated.
#' * an `mlp_partial` ([mlp_partial()]): a line with a rug of the data's
#'   values for a numeric variable; points for a factor's levels.
#'
#' @param object An `mlp_fit`, `mlp_importance` or `mlp_partial`.
#' @param type `"loss"` or `"network"`.
#' @param max_units For `type = "network"`: the most units drawn per layer.
#' @param ... Unused.
#' @return A ggplot object, to print or add layers to.
#' @examples
#' if (requireNamespace("ggplot2", quietly = TRUE)) {
#'   set.seed(1)
#'   fit <- backprop(mpg ~ wt + hp + qsec, mtcars, validation = 0.2, threads = 1)
#'   ggplot2::autoplot(fit)
#'   ggplot2::autoplot(fit, type = "network")
#'   ggplot2::autoplot(mlp_importance(fit, mtcars, repeats = 5))
#'   ggplot2::autoplot(mlp_partial(fit, mtcars, "wt"))
#' }
#' @name autoplot.mlp_fit
#' @exportS3Method ggplot2::autoplot
autoplot.mlp_fit <- function(object, type = c("loss", "network"), max_units = 30, ...) {
  type <- check_choice(type[1], c("loss", "network"), "type")
  if (type == "network") return(autoplot_network(object, max_units))
  if (!length(object$loss)) abort("`object` was trained for 0 epochs: there is no loss curve to plot.")
  curves <- data.frame(epoch = seq_along(object$loss), loss = object$loss, set = "training")
  validated <- length(object$val_loss) > 0L
  if (validated) {
    curves <- rbind(curves, data.frame(epoch = seq_along(object$val_loss), loss = object$val_loss,
                                       set = "validation"))
  }
  p <- ggplot2::ggplot(curves, ggplot2::aes(epoch, loss, colour = set)) +
    ggplot2::geom_line(linewidth = 0.7) +
    ggplot2::scale_colour_manual(values = c(training = "black", validation = "#D55E00"), name = NULL) +
    ggplot2::labs(x = "epoch", y = paste0("loss (", object$loss_function, ")"),
                  title = paste0(if (validated) "Training and validation loss" else "Training loss",
                                 if (length(object$members) > 1L) " (first member of the ensemble)")) +
    ggplot2::theme_minimal()
  if (all(curves$loss > 0)) p <- p + ggplot2::scale_y_log10()
  if (validated && object$best_epoch > 0) {
    best <- data.frame(epoch = object$best_epoch, loss = object$val_loss[object$best_epoch],
                       label = paste("best epoch", object$best_epoch))
    p <- p + ggplot2::geom_vline(xintercept = object$best_epoch, linetype = 3, colour = "grey40") +
      ggplot2::geom_point(data = best, ggplot2::aes(epoch, loss), inherit.aes = FALSE,
                          colour = "#D55E00", size = 2.5) +
      ggplot2::geom_text(data = best, ggplot2::aes(epoch, loss, label = label), inherit.aes = FALSE,
                         # Left of a late best epoch, right of an early one: inside the panel.
                         hjust = if (object$best_epoch > length(object$val_loss) / 2) 1.1 else -0.1,
                         vjust = -0.6, size = 3.2)
  }
  p
}

# The diagram from network_layout(): units' and layers' names on the axes,
# where ggplot2 makes room for them, so long names are never clipped.
autoplot_network <- function(fit, max_units) {
  lay <- network_layout(fit, max_units)
  nodes <- lay$nodes
  n_layers <- length(fit$sizes)
  inputs <- nodes[nodes$layer == 1L, ]
  outputs <- nodes[nodes$layer == n_layers, ]
  edges <- lay$edges
  edges$sign <- ifelse(edges$weight >= 0, "positive", "negative")
  more <- lay$more
  p <- ggplot2::ggplot() +
    ggplot2::geom_segment(data = edges, ggplot2::aes(x = x, y = y, xend = xend, yend = yend,
                                                     colour = sign, alpha = alpha, linewidth = size)) +
    ggplot2::geom_point(data = nodes, ggplot2::aes(x = x, y = y), shape = 21, fill = "grey90",
                        size = if (lay$tallest > 10) 3 else 6) +
    ggplot2::scale_colour_manual(values = c(positive = "#0072B2", negative = "#D55E00"),
                                 name = "weight") +
    ggplot2::scale_alpha_identity() +
    ggplot2::scale_linewidth_continuous(range = c(0.15, lay$max_lwd / 2), limits = c(0, 1),
                                        name = "|weight| / largest") +
    ggplot2::scale_x_continuous(breaks = seq_len(n_layers), labels = lay$layers,
                                expand = ggplot2::expansion(add = 0.15)) +
    ggplot2::scale_y_continuous(breaks = inputs$y, labels = inputs$label,
                                sec.axis = ggplot2::sec_axis(~., breaks = outputs$y,
                                                             labels = outputs$label)) +
    ggplot2::labs(x = NULL, y = NULL, title = lay$title) +
    ggplot2::theme_minimal() +
    ggplot2::theme(panel.grid = ggplot2::element_blank())
  if (nrow(more)) {
    p <- p + ggplot2::geom_text(data = more, ggplot2::aes(x = x, y = y, label = label),
                                size = 3, colour = "grey30")
  }
  p
}

#' @rdname autoplot.mlp_fit
#' @exportS3Method ggplot2::autoplot
autoplot.mlp_importance <- function(object, ...) {
  chart <- importance_chart(object)
  d <- chart$data
  # The most important on top: the y axis runs upwards.
  d$variable <- factor(d$variable, levels = rev(unique(d$variable)))
  if (is.null(d$output)) {
    p <- ggplot2::ggplot(d, ggplot2::aes(x = importance, y = variable)) +
      ggplot2::geom_col(fill = "#0072B2")
    if (!is.null(d$std_error) && any(is.finite(d$std_error))) {
      p <- p + ggplot2::geom_errorbar(
        data = d[is.finite(d$std_error), , drop = FALSE],
        ggplot2::aes(xmin = importance - std_error, xmax = importance + std_error, y = variable),
        width = 0.3, orientation = "y")
    }
  } else {
    d$output <- factor(d$output, levels = unique(d$output))
    p <- ggplot2::ggplot(d, ggplot2::aes(x = importance, y = variable, fill = output)) +
      ggplot2::geom_col(position = ggplot2::position_dodge(width = 0.8), width = 0.75) +
      ggplot2::scale_fill_manual(values = grDevices::hcl.colors(nlevels(d$output), "Dark 3"))
  }
  p + ggplot2::labs(x = chart$label, y = NULL, title = chart$title) + ggplot2::theme_minimal()
}

#' @rdname autoplot.mlp_fit
#' @exportS3Method ggplot2::autoplot
autoplot.mlp_partial <- function(object, ...) {
  d <- as.data.frame(unclass(object), stringsAsFactors = FALSE)
  variable <- attr(object, "variable")
  several <- length(unique(d$output)) > 1L
  d$output <- factor(d$output, levels = unique(d$output))
  numeric_axis <- is.numeric(d$value)
  if (!numeric_axis) d$value <- factor(as.character(d$value), levels = unique(as.character(d$value)))
  # One curve is blue; several are coloured by output, with a legend.
  fixed <- if (several) list() else list(colour = "#0072B2")
  mapping <- if (several) ggplot2::aes(x = value, y = yhat, colour = output) else
    ggplot2::aes(x = value, y = yhat)
  p <- ggplot2::ggplot(d, mapping)
  if (numeric_axis) {
    p <- p + do.call(ggplot2::geom_line, c(list(linewidth = 0.8), fixed))
    observed <- attr(object, "observed")
    if (length(observed)) {
      p <- p + ggplot2::geom_rug(data = data.frame(value = observed), ggplot2::aes(x = value),
                                 inherit.aes = FALSE, sides = "b", alpha = 0.4)
    }
  } else {
    p <- p + do.call(ggplot2::geom_point, c(list(
      size = 2.5, position = if (several) ggplot2::position_dodge(width = 0.3) else "identity"), fixed))
  }
  if (several) {
    p <- p + ggplot2::scale_colour_manual(values = grDevices::hcl.colors(nlevels(d$output), "Dark 3"))
  }
  p + ggplot2::labs(x = variable,
                    y = if (isTRUE(attr(object, "classifier"))) "mean probability" else "mean prediction",
                    colour = NULL, title = paste0("Partial dependence on ", variable)) +
    ggplot2::theme_minimal()
}
