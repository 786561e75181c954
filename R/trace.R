#' One iteration of the article's network, every matrix of it
#'
#' Runs one iteration (forward pass, backpropagation, update) of a network
#' with one hidden layer through the same Rust core as [mlp_train()], and
#' returns every intermediate matrix under the article's names. The starting
#' weights are drawn exactly as [mlp_train()] draws them, so `set.seed(s);
#' mlp_trace(X, Y)` shows the first iteration of `set.seed(s); mlp_train(X, Y)`.
#'
#' The values follow the article's *code*. Its spreadsheet's step 8 writes
#' `d_output = E * slope_output_layer * lr`, but its code (and this trace)
#' computes `d_output = E * slope_output_layer` and multiplies by `lr` in the
#' updates of steps 11 and 12; the updated weights are the same either way.
#' For other losses and output activations, `d_output` is minus the gradient
#' of the loss with respect to the output layer's input (for the article's
#' sum of squares and sigmoid output it is `E * slope_output_layer`).
#'
#' @inheritParams mlp_train
#' @param hidden Units of the one hidden layer.
#' @return An object of class `mlp_trace`: a list with `X`, `Y`, `lr`, the
#'   starting `start$wh`, `start$bh`, `start$wout`, `start$bout`, and
#'   `hidden_layer_input`, `hiddenlayer_activations`, `output_layer_input`,
#'   `output`, `E`, `slope_output_layer`, `slope_hidden_layer`, `d_output`,
#'   `Error_at_hidden_layer`, `d_hiddenlayer`, and the updated `wout`, `wh`,
#'   `bout`, `bh`.
#' @seealso [plot.mlp_trace()] draws each step as the article's figures do.
#' @examples
#' X <- matrix(c(1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1), nrow = 3, byrow = TRUE)
#' Y <- matrix(c(1, 1, 0))
#' set.seed(42)
#' tr <- mlp_trace(X, Y, bias = "row")
#' tr
#' tr$d_output
#' @export
mlp_trace <- function(X, Y, hidden = NULL, lr = NULL, bias = NULL, init = NULL,
                      activation = NULL, output = NULL, loss = NULL, threads = NULL) {
  if (missing(Y)) abort("`Y` is missing: give the targets, one row per row of `X`.")
  given <- check_given(as.list(environment())[c("hidden", "lr", "bias", "init", "activation",
                                                "output", "loss", "threads")], "mlp_trace()")
  if (!is.null(given$hidden) && length(given$hidden) != 1L) {
    abort("`hidden` must be a single number: the trace shows the article's network, ",
          "with one hidden layer; not ", length(given$hidden), " layers.")
  }
  x <- mold_xy(X, "X", init = given$init)$x
  target <- as_target(Y, nrow(x))
  # One epoch of mlp_train()'s training, from the same starting weights.
  spec <- training_spec(x, target, c(given, list(epochs = 1, optimizer = "gd", verbose = FALSE)),
                        keep_training = FALSE)
  if (length(spec$hidden) != 1L) abort("`init` must describe a network with one hidden layer.")
  res <- trace_(spec$x, spec$y, spec, spec$params)
  start <- list(wh = spec$params$weights[[1]], bh = spec$params$biases[[1]],
                wout = spec$params$weights[[2]], bout = spec$params$biases[[2]])
  structure(c(list(X = spec$x, Y = spec$y, lr = spec$lr, bias = spec$bias,
                   activation = spec$activation, output_activation = spec$output,
                   loss_function = spec$loss, start = start), res),
            class = "mlp_trace")
}

# The article's twelve steps: title, formula, and the matrices each shows.
trace_steps <- list(
  list(title = "Read input and output", formula = "X, Y", show = c("X", "Y")),
  list(title = "Initialize weights and biases with random values",
       formula = "wh, bh, wout, bout", show = c("start$wh", "start$bh", "start$wout", "start$bout")),
  list(title = "Calculate hidden layer input",
       formula = "hidden_layer_input = matrix_dot_product(X, wh) + bh",
       show = c("X", "start$wh", "start$bh", "hidden_layer_input")),
  list(title = "Perform non-linear transformation on hidden linear input",
       formula = "hiddenlayer_activations = sigmoid(hidden_layer_input)",
       show = c("hidden_layer_input", "hiddenlayer_activations")),
  list(title = "Linear and non-linear transformation of hidden layer activation at output layer",
       formula = "output_layer_input = matrix_dot_product(hiddenlayer_activations, wout) + bout; output = sigmoid(output_layer_input)",
       show = c("hiddenlayer_activations", "start$wout", "start$bout", "output")),
  list(title = "Calculate gradient of error (E) at output layer",
       formula = "E = y - output", show = c("Y", "output", "E")),
  list(title = "Compute slope at output and hidden layer",
       formula = "slope_output_layer = derivatives_sigmoid(output); slope_hidden_layer = derivatives_sigmoid(hiddenlayer_activations)",
       show = c("output", "slope_output_layer", "hiddenlayer_activations", "slope_hidden_layer")),
  list(title = "Compute delta at output layer",
       formula = "d_output = E * slope_output_layer   (the spreadsheet also multiplies by lr here; the code does so in steps 11-12)",
       show = c("E", "slope_output_layer", "d_output")),
  list(title = "Calculate error at hidden layer",
       formula = "Error_at_hidden_layer = matrix_dot_product(d_output, wout.Transpose)",
       show = c("d_output", "start$wout", "Error_at_hidden_layer")),
  list(title = "Compute delta at hidden layer",
       formula = "d_hiddenlayer = Error_at_hidden_layer * slope_hidden_layer",
       show = c("Error_at_hidden_layer", "slope_hidden_layer", "d_hiddenlayer")),
  list(title = "Update weight at both output and hidden layer",
       formula = "wout = wout + matrix_dot_product(hiddenlayer_activations.Transpose, d_output) * learning_rate; wh = wh + matrix_dot_product(X.Transpose, d_hiddenlayer) * learning_rate",
       show = c("hiddenlayer_activations", "d_output", "wout", "X", "d_hiddenlayer", "wh")),
  list(title = "Update biases at both output and hidden layer",
       formula = "bh = bh + sum(d_hiddenlayer, axis=0) * learning_rate; bout = bout + sum(d_output, axis=0) * learning_rate",
       show = c("d_hiddenlayer", "bh", "d_output", "bout"))
)

# The steps as this trace computed them: the activations it used, and with
# `bias = "row"` the R program's row-sum rule for the biases.
trace_steps_of <- function(trace) {
  steps <- trace_steps
  hidden <- trace$activation[1]
  out <- trace$output_activation
  steps[[4]]$formula <- sub("sigmoid", hidden, steps[[4]]$formula, fixed = TRUE)
  steps[[4]]$title <- paste0(if (hidden == "linear") "Perform the identity (linear) transformation" else
    "Perform non-linear transformation", " on hidden linear input (", hidden, ")")
  steps[[5]]$formula <- sub("output = sigmoid", paste0("output = ", out), steps[[5]]$formula, fixed = TRUE)
  steps[[5]]$title <- paste0(steps[[5]]$title, " (", out, ")")
  steps[[7]]$formula <- paste0("slope_output_layer = derivatives_", out,
                               "(output); slope_hidden_layer = derivatives_", hidden,
                               "(hiddenlayer_activations)")
  steps[[7]]$title <- paste0(steps[[7]]$title, " (", if (out == hidden) out else paste(out, "and", hidden), ")")
  if (!identical(trace$loss_function, "sse") || out != "sigmoid") {
    steps[[8]]$formula <- paste0("d_output = -(gradient of the ", trace$loss_function,
                                 " loss at the output layer's input)")
  }
  if (identical(trace$bias, "row")) {
    steps[[12]]$formula <- paste0("bh = bh + rowSums(d_hiddenlayer) * learning_rate; ",
                                  "bout = bout + rowSums(d_output) * learning_rate   ",
                                  "(the R program: each row's bias grows by its row's delta sum)")
  }
  steps
}

trace_matrix <- function(trace, name) {
  if (startsWith(name, "start$")) trace$start[[sub("start$", "", name, fixed = TRUE)]] else trace[[name]]
}

#' @export
print.mlp_trace <- function(x, digits = 3, ...) {
  cat("<mlp_trace> one iteration of a ", ncol(x$X), " -> ", ncol(x$start$wh), " -> ",
      ncol(x$Y), " network, ", x$bias, " biases, lr = ", format(x$lr), "\n", sep = "")
  steps <- trace_steps_of(x)
  for (k in seq_along(steps)) {
    step <- steps[[k]]
    cat("\nStep ", k, ": ", step$title, "\n  ", step$formula, "\n", sep = "")
    for (name in step$show) {
      cat(name, ":\n", sep = "")
      print(round(trace_matrix(x, name), digits))
    }
  }
  invisible(x)
}

#' Draw one of the article's twelve steps
#'
#' Draws the matrices of step `step` as annotated tables, as the article's
#' spreadsheet figures do: the computed cell in yellow and the cells it is
#' computed from in orange.
#'
#' @param x An `mlp_trace` from [mlp_trace()].
#' @param step The step, 1 to 12.
#' @param cell The row and column of the computed cell to highlight.
#' @param digits Decimals shown in each cell.
#' @param ... Unused.
#' @return `x`, invisibly. Draws on the current device without opening one.
#' @examples
#' X <- matrix(c(1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1), nrow = 3, byrow = TRUE)
#' set.seed(42)
#' tr <- mlp_trace(X, c(1, 1, 0))
#' plot(tr, step = 3)
#' @export
plot.mlp_trace <- function(x, step = 3, cell = c(1, 1), digits = 2, ...) {
  if (!is.numeric(step) || length(step) != 1L || !(step %in% 1:12)) {
    abort("`step` must be one of the article's steps, 1 to 12; not ", show_value(step), ".")
  }
  s <- trace_steps_of(x)[[step]]
  mats <- lapply(s$show, function(name) trace_matrix(x, name))
  names(mats) <- s$show
  marks <- step_marks(x, step, cell, mats)
  old <- graphics::par(mar = c(0.5, 0.5, 3, 0.5))
  on.exit(graphics::par(old))
  widths <- vapply(mats, ncol, integer(1)) + 1
  heights <- vapply(mats, nrow, integer(1))
  graphics::plot.new()
  graphics::plot.window(xlim = c(0, sum(widths)), ylim = c(-max(heights) - 1.5, 0.5), asp = NA)
  left <- 0
  for (k in seq_along(mats)) {
    label <- sub("^start\\$(.*)$", "\\1 (start)", names(mats)[k])
    draw_table(mats[[k]], left, label, marks[[k]], digits)
    left <- left + widths[k]
  }
  graphics::title(main = paste0("Step ", step, ": ", s$title), cex.main = 0.95)
  graphics::mtext(s$formula, side = 3, line = 0.2, cex = 0.6)
  invisible(x)
}

# Per matrix shown, a matrix of marks: 2 = the computed cell, 1 = its inputs.
step_marks <- function(x, step, cell, mats) {
  i <- cell[1]
  j <- cell[2]
  none <- lapply(mats, function(m) matrix(0L, nrow(m), ncol(m)))
  mark <- function(m, rows = NULL, cols = NULL, value = 1L) {
    r <- if (is.null(rows)) seq_len(nrow(m)) else pmin(rows, nrow(m))
    c <- if (is.null(cols)) seq_len(ncol(m)) else pmin(cols, ncol(m))
    m[r, c] <- value
    m
  }
  out <- none
  name <- names(mats)
  last <- length(mats)
  elementwise <- function(targets, sources) {
    for (t in targets) out[[t]] <<- mark(out[[t]], i, j, 2L)
    for (s in sources) out[[s]] <<- mark(out[[s]], i, j)
  }
  bias_row <- function(b) if (nrow(b) == 1L) 1L else i
  switch(step,
    NULL, NULL,
    { # X %*% wh + bh
      out[[4]] <- mark(out[[4]], i, j, 2L)
      out[[1]] <- mark(out[[1]], i, NULL)
      out[[2]] <- mark(out[[2]], NULL, j)
      out[[3]] <- mark(out[[3]], bias_row(mats[[3]]), j)
    },
    elementwise(2, 1),
    { # H %*% wout + bout, then sigmoid
      out[[4]] <- mark(out[[4]], i, j, 2L)
      out[[1]] <- mark(out[[1]], i, NULL)
      out[[2]] <- mark(out[[2]], NULL, j)
      out[[3]] <- mark(out[[3]], bias_row(mats[[3]]), j)
    },
    elementwise(3, 1:2),
    { elementwise(2, 1); elementwise(4, 3) },
    elementwise(3, 1:2),
    { # d_output %*% t(wout)
      out[[3]] <- mark(out[[3]], i, j, 2L)
      out[[1]] <- mark(out[[1]], i, NULL)
      out[[2]] <- mark(out[[2]], j, NULL)
    },
    elementwise(3, 1:2),
    { # wout[i, j] from column i of H and column j of d_output
      out[[3]] <- mark(out[[3]], i, j, 2L)
      out[[1]] <- mark(out[[1]], NULL, i)
      out[[2]] <- mark(out[[2]], NULL, j)
      out[[6]] <- mark(out[[6]], i, j, 2L)
      out[[4]] <- mark(out[[4]], NULL, i)
      out[[5]] <- mark(out[[5]], NULL, j)
    },
    { # biases: column sums (column layout) or row sums (row layout)
      for (k in c(1, 3)) {
        b <- mats[[k + 1]]
        out[[k + 1]] <- mark(out[[k + 1]], bias_row(b), j, 2L)
        out[[k]] <- if (nrow(b) == 1L) mark(out[[k]], NULL, j) else mark(out[[k]], i, NULL)
      }
    }
  )
  out
}

draw_table <- function(m, left, label, marks, digits) {
  fill <- c("white", "#FDBF6F", "#FFFF66")
  for (r in seq_len(nrow(m))) for (c in seq_len(ncol(m))) {
    x0 <- left + c - 1
    y0 <- -r
    graphics::rect(x0, y0, x0 + 1, y0 + 1, col = fill[marks[r, c] + 1], border = "grey50")
    graphics::text(x0 + 0.5, y0 + 0.5, formatC(m[r, c], format = "f", digits = digits), cex = 0.7)
  }
  graphics::text(left + ncol(m) / 2, 0.35, label, cex = 0.75, font = 2)
}
