# A fit is built complete, once, by new_mlp_fit(), which checks every field;
# nothing patches a fit afterwards, and the methods read only the fields it
# guarantees:
# * the network: `weights`, `biases` (lists of matrices, one per layer),
#   `sizes`, `hidden`, `activation`, `output_activation`, `bias` ("column" or
#   "row"), and for one hidden layer the article's `wh`, `bh`, `wout`, `bout`;
# * the training: `loss_function`, `optimizer`, `lr`, `epochs`, `batch_size`,
#   `weight_decay`, `init`, `precision`, `options` (every training option,
#   resolved), `loss`, `val_loss`, `best_epoch`, `status`, `seconds`;
# * the data: `n` (training rows, held-out rows excluded), `y` (the targets
#   of every row as the network saw them, standardized when the response
#   was), `fitted_raw` (the returned network's raw output on every row, held
#   out rows included), `output` (the article's training output: for
#   full-batch "gd", computed before the last update), `held_out`,
#   `levels`, `ordered`, `logical_response`, `scaling`, `x_names`,
#   `y_names`, `prior_weights`, `na_action`, and for a row-bias network the
#   training rows' inputs, `row_inputs` (as the network saw them), which
#   are all it can predict;
# * the interface: `blueprint` (see R/blueprint.R), `model` (the model frame
#   of a formula fit), `interface` and `call`.

fit_interfaces <- c("xy", "formula", "recipe")

# The fit of a trained spec: its fields gathered, then built by
# new_mlp_fit().
fit_of <- function(spec, res, design, call) {
  weights <- res$weights
  biases <- res$biases
  o <- ncol(spec$y)
  # dimnames()[[2]] and dimnames<- are primitives, cheaper than colnames()
  # and rownames() on the article's tiny network.
  y_names <- dimnames(spec$y)[[2L]]
  output <- res$output
  held <- spec$val$rows
  if (is.null(held)) {
    fitted_raw <- res$fitted
    y <- spec$y
    if (!is.null(y_names) || !is.null(spec$row_names)) {
      dimnames(output) <- dimnames(fitted_raw) <- list(spec$row_names, y_names)
    }
  } else {
    # Held-out rows too: the returned network's output on every data row.
    fitted_raw <- network_output(list(sizes = spec$sizes, activation = spec$activation,
                                      output_activation = spec$output, weights = weights,
                                      biases = biases), spec$val$all_x, spec$threads)
    y <- matrix(0, nrow(fitted_raw), o)
    y[-held, ] <- spec$y
    y[held, ] <- spec$val$y
    dimnames(output) <- list(NULL, y_names)
    dimnames(fitted_raw) <- dimnames(y) <- list(spec$row_names, y_names)
    held <- sort(held)
  }
  o_opts <- spec$options
  new_mlp_fit(list(
    output = output,
    wh = if (length(weights) == 2L) weights[[1L]],
    bh = if (length(weights) == 2L) biases[[1L]],
    wout = if (length(weights) == 2L) weights[[2L]],
    bout = if (length(weights) == 2L) biases[[2L]],
    weights = weights, biases = biases,
    loss = res$loss, val_loss = res$val_loss, best_epoch = res$best_epoch,
    status = res$status, seconds = res$seconds,
    sizes = spec$sizes, hidden = spec$hidden, activation = spec$activation,
    output_activation = spec$output, loss_function = spec$loss, optimizer = spec$optimizer,
    lr = spec$lr, epochs = spec$epochs, batch_size = spec$batch_size,
    weight_decay = spec$weight_decay, precision = spec$precision, bias = spec$bias,
    init = spec$init, options = o_opts,
    # A row-bias network can predict only its training rows: their inputs.
    row_inputs = if (spec$bias == "row") unname(spec$x),
    n = dim(spec$x)[1L], y = y, fitted_raw = fitted_raw, held_out = held,
    levels = spec$levels, ordered = spec$ordered, logical_response = spec$logical_response,
    scaling = spec$scaling, x_names = dimnames(spec$x)[[2L]], y_names = y_names,
    prior_weights = spec$prior_weights, na_action = design$na_action,
    blueprint = design$blueprint, model = design$model, interface = design$interface,
    call = call
  ))
}

# The one constructor of an mlp_fit: checks every field, then sets the
# class. A failed check is a bug of backprop, not of the caller. (The checks
# are written with primitives: they run on every fit, the article's tiny
# one included.)
new_mlp_fit <- function(fields) {
  sizes <- fields$sizes
  layers <- length(sizes) - 1L
  n <- fields$n
  o <- sizes[layers + 1L]
  weights <- fields$weights
  biases <- fields$biases
  shapes_ok <- is.list(weights) && length(weights) == layers && length(biases) == layers
  if (shapes_ok) {
    for (l in seq_len(layers)) {
      w <- dim(weights[[l]])
      b <- dim(biases[[l]])
      shapes_ok <- shapes_ok && length(w) == 2L && w[1L] == sizes[l] && w[2L] == sizes[l + 1L] &&
        length(b) == 2L && b[2L] == sizes[l + 1L] && (b[1L] == 1L || b[1L] == n)
    }
  }
  rows <- dim(fields$y)[1L]
  kept <- c(
    sizes = is.numeric(sizes) && layers >= 1L && all(sizes >= 1),
    `weights and biases` = shapes_ok,
    `hidden and activation` = length(fields$hidden) == layers - 1L &&
      length(fields$activation) == layers - 1L,
    bias = identical(fields$bias, "column") || identical(fields$bias, "row"),
    status = any(fields$status == c("completed", "early_stopped", "stopped", "interrupted")),
    y = is.matrix(fields$y) && dim(fields$y)[2L] == o && rows == n + length(fields$held_out),
    fitted_raw = identical(dim(fields$fitted_raw), dim(fields$y)),
    output = identical(dim(fields$output), c(as.integer(n), as.integer(o))),
    levels = is.null(fields$levels) || length(fields$levels) == o,
    prior_weights = is.null(fields$prior_weights) || length(fields$prior_weights) == rows,
    blueprint = is.list(fields$blueprint) && fields$blueprint$ncol == sizes[1L],
    interface = any(fields$interface == fit_interfaces),
    options = is.list(fields$options),
    model = fields$interface != "formula" || is.data.frame(fields$model),
    row_inputs = fields$bias == "column" || identical(dim(fields$row_inputs), as.integer(c(n, sizes[1L])))
  )
  if (!all(kept)) abort("internal: an mlp_fit's `", names(kept)[!kept][1L], "` is not valid.")
  class(fields) <- "mlp_fit"
  fields
}
