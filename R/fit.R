# A fit is built complete, once, by new_mlp_fit(), which checks every field;
# nothing patches a fit afterwards, and the methods read only the fields it
# guarantees:
# * the network: `weights`, `biases` (lists of matrices, one per layer),
#   `sizes`, `hidden`, `activation`, `output_activation`, `bias` ("column" or
#   "row"), and for one hidden layer the article's `wh`, `bh`, `wout`, `bout`;
# * the training: `loss_function`, `optimizer`, `lr`, `epochs`, `batch_size`,
#   `weight_decay`, `init`, `precision`, `options` (every training option,
#   resolved), `loss`, `val_loss`, `best_epoch`, `kept_loss` (the returned
#   network's training loss), `status`, `seconds`;
# * the data: `n` (training rows, held-out rows excluded), `y` (the targets
#   of every row as the network saw them, standardized when the response
#   was), `fitted_raw` (the returned network's raw output on every row, held
#   out rows included), `output` (the article's training output: for
#   full-batch "gd", computed before the last update), `held_out` (and
#   `held_out_unseen`, whether no fit it continued trained on those rows),
#   `levels`, `ordered`, `logical_response`, `scaling`, `x_names`,
#   `y_names`, `prior_weights`, `na_action`, and for a row-bias network the
#   training rows' inputs, `row_inputs` (as the network saw them), which
#   are all it can predict;
# * the search: `starts` (with restarts, each start's penalized training
#   objective and the one kept) and `selection` (backprop()'s candidates
#   and their scores, see R/select.R), each NULL when there was none;
# * uncertainty: `members` (an ensemble's networks, list(weights, biases)
#   each; NULL for one network) and `calibration` (the conformal
#   calibration, see R/conformal.R; NULL when the fit has none);
# * the interface: `blueprint` (see R/blueprint.R), `model` (the model frame
#   of a formula fit), `interface` and `call`.

fit_interfaces <- c("xy", "formula", "recipe")

# The fit of a trained spec: its fields gathered, then built by
# new_mlp_fit().
fit_of <- function(spec, res, design, call, starts = NULL, selection = NULL, members = NULL,
                   calibration = NULL) {
  weights <- res$weights
  biases <- res$biases
  o <- ncol(spec$y)
  # dimnames()[[2]] and dimnames<- are primitives, cheaper than colnames()
  # and rownames() on the article's tiny network.
  y_names <- dimnames(spec$y)[[2L]]
  output <- res$output
  held <- spec$val$rows
  # The network (or ensemble) as predict() reads it.
  network <- list(sizes = spec$sizes, activation = spec$activation,
                  output_activation = spec$output, weights = weights, biases = biases,
                  members = members)
  # (Not on validation rows a continued fit may have been trained on.)
  if (is.null(calibration) && !is.null(spec$val) && spec$options$conformal != "none" &&
      !isFALSE(spec$unseen_validation)) {
    # Split conformal on the validation rows, by the returned network.
    raw <- network_output(network, spec$val$x, spec$threads)
    calibration <- new_calibration("split", "the validation rows", list(
      spec_fold(spec, raw, spec$val$y, spec$val$weights)))
  }
  if (is.null(held)) {
    fitted_raw <- res$fitted
    y <- spec$y
    if (!is.null(y_names) || !is.null(spec$row_names)) {
      dimnames(output) <- dimnames(fitted_raw) <- list(spec$row_names, y_names)
    }
  } else {
    # Held-out rows too: the returned network's output on every data row.
    fitted_raw <- network_output(network, spec$val$all_x, spec$threads)
    y <- matrix(0, nrow(fitted_raw), o)
    y[-held, ] <- spec$y
    y[held, ] <- spec$val$y
    dimnames(output) <- list(NULL, y_names)
    dimnames(fitted_raw) <- dimnames(y) <- list(spec$row_names, y_names)
    held <- sort(held)
    # Named by the data's row names, which survive na.action: the positions
    # count the rows after it.
    if (!is.null(spec$row_names)) names(held) <- spec$row_names[held]
  }
  one_hidden <- length(weights) == 2L
  # The spec's fields the fit keeps, taken in one subset: `$` scans a long
  # list's names once per look-up, which costs more than the subset.
  settings <- spec[fit_settings]
  names(settings) <- names(fit_settings)
  new_mlp_fit(c(
    list(output = output,
         wh = if (one_hidden) weights[[1L]], bh = if (one_hidden) biases[[1L]],
         wout = if (one_hidden) weights[[2L]], bout = if (one_hidden) biases[[2L]],
         weights = weights, biases = biases),
    res[fit_results], settings,
    list(# A row-bias network can predict only its training rows: their inputs.
         row_inputs = if (settings$bias == "row") unname(spec$x),
         n = dim(spec$x)[1L], y = y, fitted_raw = fitted_raw, held_out = held,
         # Whether no network of its history trained on the held-out rows.
         held_out_unseen = if (!is.null(held)) !isFALSE(spec$unseen_validation),
         x_names = dimnames(spec$x)[[2L]], y_names = y_names,
         na_action = design$na_action, blueprint = design$blueprint, model = design$model,
         interface = design$interface, starts = starts, selection = selection,
         members = members, calibration = calibration, call = call)
  ))
}

# The fit's names of the spec's fields it keeps, and the trainer's results.
fit_settings <- c(sizes = "sizes", hidden = "hidden", activation = "activation",
                  output_activation = "output", loss_function = "loss", optimizer = "optimizer",
                  lr = "lr", epochs = "epochs", batch_size = "batch_size",
                  weight_decay = "weight_decay", precision = "precision", bias = "bias",
                  init = "init", options = "options", levels = "levels", ordered = "ordered",
                  logical_response = "logical_response", scaling = "scaling",
                  prior_weights = "prior_weights")
fit_results <- c("loss", "val_loss", "best_epoch", "kept_loss", "status", "seconds")

# The one constructor of an mlp_fit: checks every field, then sets the
# class. A failed check is a bug of backprop, not of the caller. (The checks
# are few vectorized expressions of primitives: they run on every fit, the
# article's tiny one included, where each R operation counts.)
new_mlp_fit <- function(fields) {
  sizes <- fields[["sizes"]]
  layers <- length(sizes) - 1L
  n <- fields[["n"]]
  o <- sizes[layers + 1L]
  rows <- n + length(fields[["held_out"]])
  bias <- fields[["bias"]]
  bias_rows <- if (bias == "row") n else 1
  weights <- fields[["weights"]]
  biases <- fields[["biases"]]
  shapes_ok <- length(weights) == layers && length(biases) == layers
  for (l in seq_len(layers)) {
    w <- dim(weights[[l]])
    b <- dim(biases[[l]])
    shapes_ok <- shapes_ok && length(w) == 2L && length(b) == 2L &&
      all(c(w, b) == c(sizes[l], sizes[l + 1L], bias_rows, sizes[l + 1L]))
  }
  data_dims <- c(dim(fields[["y"]]), dim(fields[["fitted_raw"]]), dim(fields[["output"]]))
  prior_weights <- fields[["prior_weights"]]
  interface <- fields[["interface"]]
  kept <- c(
    network = layers >= 1L && all(sizes >= 1) && any(bias == c("column", "row")) && shapes_ok &&
      length(fields[["hidden"]]) == layers - 1L && length(fields[["activation"]]) == layers - 1L,
    # Targets and outputs of every row; the article's output of the training rows.
    data = length(data_dims) == 6L && all(data_dims == c(rows, o, rows, o, n, o)) &&
      (is.null(fields[["levels"]]) || length(fields[["levels"]]) == o) &&
      (is.null(prior_weights) || length(prior_weights) == rows),
    training = any(fields[["status"]] == c("completed", "early_stopped", "stopped", "interrupted")) &&
      is.list(fields[["options"]]) && is.double(fields[["kept_loss"]]) && length(fields[["kept_loss"]]) == 1L,
    interface = any(interface == fit_interfaces) && fields[["blueprint"]][["ncol"]] == sizes[1L] &&
      (interface != "formula" || is.data.frame(fields[["model"]])),
    row_inputs = bias_rows == 1 || all(dim(fields[["row_inputs"]]) == c(n, sizes[1L])),
    held_out = is.null(fields[["held_out"]]) == is.null(unseen <- fields[["held_out_unseen"]]) &&
      (is.null(unseen) || isTRUE(unseen) || isFALSE(unseen)),
    search = (is.null(starts <- fields[["starts"]]) ||
                length(starts$objective) >= 2L && starts$kept %in% seq_along(starts$objective)) &&
      (is.null(selection <- fields[["selection"]]) || is.data.frame(selection$table)),
    members = is.null(members <- fields[["members"]]) ||
      length(members) >= 1L && identical(dim(members[[1L]]$weights[[1L]]), dim(weights[[1L]])),
    calibration = is.null(cal <- fields[["calibration"]]) ||
      any(cal$method == c("split", "oob", "cv", "cv+")) && length(cal$folds) >= 1L &&
      all(vapply(cal$folds, function(f) nrow(f$pred) == nrow(f$y) && ncol(f$pred) == o &&
                   (cal$method != "cv+" || !is.null(f$network)), NA))
  )
  if (!all(kept)) abort("internal: an mlp_fit's ", names(kept)[!kept][1L], " fields are not valid.")
  class(fields) <- "mlp_fit"
  fields
}
