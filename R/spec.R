# From mlp_train()'s arguments to a checked, fully resolved training spec,
# and from the spec to a fitted network.

hidden_activations <- c("sigmoid", "tanh", "relu", "leaky_relu", "linear",
                        "softplus", "elu", "selu", "gelu", "silu", "mish")
output_activations <- c("sigmoid", "linear", "softmax", "exp")
loss_functions <- c("sse", "mse", "cross_entropy", "mae", "huber", "quantile", "poisson")
optimizers <- c("gd", "sgd", "adam", "adamw", "rmsprop", "lm", "lbfgs")
minibatch_optimizers <- c("sgd", "adam", "adamw", "rmsprop")
init_methods <- c("article", "uniform", "xavier", "he", "nnet")
default_lr <- c(gd = 0.1, sgd = 0.01, adam = 0.001, adamw = 0.001, rmsprop = 0.001, lm = 1, lbfgs = 1)

training_spec <- function(x, target, hidden, hidden_given, epochs, lr, bias,
                          bias_given, init, init_given = TRUE, activation,
                          activation_given = TRUE, output, loss, optimizer,
                          batch_size, momentum, nesterov, weight_decay,
                          validation, patience, scale, threads, verbose,
                          weights = NULL, precision = "double", scaling = NULL,
                          options = training_options()) {
  y <- target$y
  classification <- !is.null(target$levels)
  continuing <- is.list(init) && inherits(init, "mlp_fit")
  if (continuing) {
    # Continuing a fit: its choices hold unless the caller overrides them.
    output <- output %||% init$output_activation
    loss <- loss %||% init$loss_function
    if (!activation_given) activation <- init$activation
  }
  epochs <- check_count(epochs, "epochs")
  optimizer <- check_choice(optimizer, optimizers, "optimizer")
  if (is.null(loss)) loss <- if (classification) "cross_entropy" else "sse"
  loss <- check_choice(loss, loss_functions, "loss")
  if (is.null(output)) {
    output <- if (loss == "poisson") "exp" else if (classification) "softmax" else "sigmoid"
  }
  output <- check_choice(output, output_activations, "output")
  if (loss == "cross_entropy" && !(output %in% c("sigmoid", "softmax"))) {
    abort("`loss = \"cross_entropy\"` needs a sigmoid or softmax `output`, not \"", output, "\".")
  }
  if (loss == "poisson" && output != "exp") {
    abort("`loss = \"poisson\"` needs `output = \"exp\"` (the log link), not \"", output, "\".")
  }
  if (output == "softmax" && loss %in% c("mae", "huber", "quantile")) {
    abort("`loss = \"", loss, "\"` needs an elementwise `output` (\"linear\", \"sigmoid\" or ",
          "\"exp\"), not \"softmax\"; use loss = \"cross_entropy\" for classes.")
  }
  if (loss == "poisson" && any(y < 0)) {
    abort("`loss = \"poisson\"` needs counts (targets >= 0); `Y` has negative values.")
  }
  if (output == "softmax" && ncol(y) < 2L) {
    abort("`output = \"softmax\"` needs at least two columns in `Y` (one per class); ",
          "it has one. Use output = \"sigmoid\" for a single output.")
  }
  # Targets of a sigmoid or softmax output are never standardized, so this
  # checks the targets the loss sees.
  if (loss == "cross_entropy" && (any(y < 0) || any(y > 1))) {
    abort("`loss = \"cross_entropy\"` needs targets in [0, 1]; `Y` has values outside it.")
  }
  if (optimizer == "lm" && (!(loss %in% c("sse", "mse")) || output == "softmax")) {
    abort("`optimizer = \"lm\"` minimises squared errors: it needs `loss = \"sse\"` or ",
          "\"mse\" and a sigmoid or linear `output`; use \"lbfgs\" or \"adam\" otherwise.")
  }
  lr <- if (is.null(lr)) default_lr[[optimizer]] else check_number(lr, "lr", lower = 0)
  if (bias_given) {
    bias <- check_choice(bias, c("column", "row"), "bias")
  } else {
    bias <- "column"
  }
  if (!is.logical(scale) || length(scale) != 1L || is.na(scale)) {
    abort("`scale` must be TRUE or FALSE, not ", show_value(scale), ".")
  }
  if (!is.logical(nesterov) || length(nesterov) != 1L || is.na(nesterov)) {
    abort("`nesterov` must be TRUE or FALSE, not ", show_value(nesterov), ".")
  }
  momentum <- check_number(momentum, "momentum", lower = 0, upper = 1, open = FALSE)
  if (momentum == 1) abort("`momentum` must be below 1, not 1.")
  weight_decay <- check_number(weight_decay, "weight_decay", lower = 0, open = FALSE)
  threads <- resolve_threads(threads)
  precision <- check_choice(precision, c("double", "single"), "precision")
  if (precision == "single" && optimizer %in% c("lm", "lbfgs")) {
    abort("`precision = \"single\"` applies to the first-order optimizers; ",
          "`optimizer = \"", optimizer, "\"` trains in double precision.")
  }
  if (is.null(verbose)) verbose <- interactive()
  if (!is.logical(verbose) || length(verbose) != 1L || is.na(verbose)) {
    abort("`verbose` must be TRUE or FALSE, not ", show_value(verbose), ".")
  }

  # Scaling statistics: from a previous fit when continuing it, else computed.
  if (continuing) scaling <- init$scaling
  if (is.null(scaling) && scale) {
    scaling <- list(x = column_stats(x),
                    y = if (output == "linear") column_stats(y))
  }
  prior_weights <- weights
  if (!is.null(options$class_weights)) weights <- class_row_weights(options$class_weights, target, weights)
  weights <- check_weights(weights, n = nrow(x))
  row_names <- dimnames(x)[[1L]]

  # Starting weights (drawn first, so that set.seed() matches the article).
  n <- nrow(x)
  start <- spec_start(init, init_given, hidden, hidden_given, activation, bias, bias_given,
                      n, ncol(x), ncol(y))
  params <- start$params
  init_name <- start$init
  hidden <- start$hidden
  activation <- start$activation
  sizes <- start$sizes
  bias <- start$bias

  if (bias == "row" && optimizer != "gd") {
    abort("`bias = \"row\"` needs `optimizer = \"gd\"`: per-row biases belong to full-batch training.")
  }
  if (!is.null(scaling)) {
    x <- apply_stats(x, scaling$x)
    if (!is.null(scaling$y)) y <- apply_stats(y, scaling$y)
  }

  held <- spec_validation(validation, x, y, weights, target, scaling, bias)
  x <- held$x
  y <- held$y
  weights <- held$weights
  val <- held$val
  if (!is.null(patience)) {
    if (is.null(val)) abort("`patience` needs `validation`: early stopping watches the validation loss.")
    patience <- check_count(patience, "patience", min = 1)
  }

  batches <- spec_batches(batch_size, optimizer, nrow(x), sizes)
  batch_size <- batches$batch_size
  seed <- batches$seed

  # The Rust entry points read the spec itself: its architecture (sizes,
  # activation, output, bias) and settings, as doubles and strings.
  spec <- list(
    x = x, y = y, val = val, weights = weights, val_weights = val$weights,
    prior_weights = prior_weights, row_names = row_names,
    levels = target$levels, ordered = isTRUE(target$ordered),
    logical_response = isTRUE(target$logical), scaling = scaling,
    sizes = as.numeric(sizes), hidden = hidden, activation = activation, output = output,
    loss = loss, optimizer = optimizer, lr = lr, epochs = epochs,
    batch_size = as.numeric(batch_size), momentum = momentum, nesterov = nesterov,
    beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, rho = 0.9,
    weight_decay = weight_decay, patience = patience, bias = bias,
    init = init_name, params = params, seed = seed, threads = threads,
    precision = precision, verbose = verbose
  )
  c(spec, option_fields(options, spec))
}

# The starting weights and the network they make: drawn by `init` (a name),
# or given (a list of matrices or a previous fit), which then fixes the
# sizes and the bias layout.
spec_start <- function(init, init_given, hidden, hidden_given, activation, bias, bias_given,
                       n, inputs, outputs) {
  if (is.character(init) && length(init) == 1L && !is.na(init)) {
    init_name <- check_choice(init, init_methods, "init")
    hidden <- check_hidden(hidden)
    activation <- check_activation(activation, length(hidden))
    if (!init_given) init_name <- default_init(activation)
    sizes <- c(inputs, hidden, outputs)
    check_size(n, sizes, if (bias == "row") n else 1, n)
    params <- draw_params(init_name, sizes, bias, n)
  } else if (is.list(init)) {
    init_name <- if (inherits(init, "mlp_fit")) "fit" else "given"
    if (hidden_given) hidden <- check_hidden(hidden)
    params <- given_params(init, inputs, outputs, n, hidden, hidden_given, bias, bias_given)
    bias <- params$bias
    hidden <- vapply(params$weights, ncol, integer(1))
    hidden <- as.numeric(hidden[-length(hidden)])
    activation <- check_activation(activation, length(hidden))
    sizes <- c(inputs, hidden, outputs)
    # (Drawn weights were checked before they were drawn.)
    check_size(n, sizes, if (bias == "row") n else 1, n)
  } else {
    abort("`init` must be one of \"article\", \"uniform\", \"xavier\", \"he\", a list ",
          "of starting matrices or a previous fit; not ", show_value(init), ".")
  }
  list(params = params, init = init_name, hidden = hidden, activation = activation,
       sizes = sizes, bias = bias)
}

# Validation rows: none, a fraction held out of the training rows (drawn
# from R's RNG), or given rows, scaled as the training rows are.
spec_validation <- function(validation, x, y, weights, target, scaling, bias) {
  classification <- !is.null(target$levels)
  n <- nrow(x)
  val <- NULL
  if (!is.null(validation)) {
    if (bias == "row") {
      abort("`validation` cannot be used with `bias = \"row\"`: per-row biases do not ",
            "apply to held-out rows.")
    }
    if (is.numeric(validation) && length(validation) == 1L) {
      frac <- check_number(validation, "validation", lower = 0, upper = 1)
      held <- round(frac * n)
      if (held < 1L || held >= n) {
        abort("`validation = ", frac, "` leaves ", n - held, " training and ", held,
              " validation rows; each needs at least one.")
      }
      idx <- sample.int(n, held)
      # All rows stay too (no copy), for fitted() and residuals() on every row.
      val <- list(x = x[idx, , drop = FALSE], y = y[idx, , drop = FALSE],
                  weights = weights[idx], rows = idx, all_x = x, all_y = y)
      x <- x[-idx, , drop = FALSE]
      y <- y[-idx, , drop = FALSE]
      weights <- weights[-idx]
    } else if (is.list(validation) && all(c("x", "y") %in% names(validation))) {
      vx <- as_data_matrix(validation$x, "validation$x")
      if (ncol(vx) != ncol(x)) {
        abort("`validation$x` must have ", ncol(x), " columns like `X`, not ", ncol(vx), ".")
      }
      vt <- if (classification) {
        as_target(factor(validation$y, levels = target$levels), nrow(vx))
      } else {
        list(y = as_data_matrix(validation$y, "validation$y", rows = nrow(vx),
                                rows_arg = "validation$x"))
      }
      if (ncol(vt$y) != ncol(y)) {
        abort("`validation$y` must have ", ncol(y), " columns like `Y`, not ", ncol(vt$y), ".")
      }
      val <- list(x = vx, y = vt$y)
      if (!is.null(scaling)) {
        val$x <- apply_stats(val$x, scaling$x)
        if (!is.null(scaling$y)) val$y <- apply_stats(val$y, scaling$y)
      }
    } else {
      abort("`validation` must be NULL, a fraction in (0, 1) or list(x =, y =); not ",
            show_value(validation), ".")
    }
  }
  list(x = x, y = y, weights = weights, val = val)
}

# The rows per step, and the seed of the minibatches' shuffle (and of
# dropout's masks) drawn from R's RNG.
spec_batches <- function(batch_size, optimizer, n_train, sizes) {
  minibatch <- optimizer %in% minibatch_optimizers
  if (is.null(batch_size)) {
    batch_size <- if (minibatch) min(32, n_train) else n_train
  } else {
    batch_size <- check_count(batch_size, "batch_size", min = 1)
    if (batch_size > n_train) {
      abort("`batch_size` (", batch_size, ") must not exceed the number of training rows (",
            n_train, ").")
    }
    if (!minibatch && batch_size != n_train) {
      abort("`batch_size` applies to \"sgd\", \"adam\", \"adamw\" and \"rmsprop\"; `optimizer = \"", optimizer,
            "\"` always uses all ", n_train, " rows.")
    }
  }
  # The size was checked above with all n rows in one batch, which bounds
  # any batch of the n_train <= n training rows.
  if (optimizer == "lm") check_lm_size(n_train, sizes)
  seed <- if (minibatch) as.numeric(sample.int(.Machine$integer.max, 1L)) else 0
  list(batch_size = batch_size, seed = seed)
}

`%||%` <- function(a, b) if (is.null(a)) b else a

# The start a hidden activation needs: the article's N(0, 1) start suits its
# sigmoid units; it saturates tanh units and blows up relu-like ones.
default_init <- function(activation) {
  if (all(activation == "sigmoid")) return("article")
  if (any(activation %in% c("relu", "leaky_relu", "elu", "selu", "gelu", "silu", "mish"))) "he" else "xavier"
}

# Observation weights: NULL, or n finite non-negative numbers not all zero,
# rescaled to mean 1 (see ?mlp_train).
check_weights <- function(weights, n) {
  if (is.null(weights)) return(NULL)
  if (!is.numeric(weights) || !is.null(dim(weights)) && length(dim(weights)) > 1L && ncol(weights) != 1L) {
    abort("`weights` must be NULL or a numeric vector, one weight per row; not ",
          describe(weights), ".")
  }
  if (length(weights) != n) {
    abort("`weights` must have one weight per row of the data (", n, "), not ",
          length(weights), ".")
  }
  weights <- as.double(weights)
  if (anyNA(weights) || any(!is.finite(weights)) || any(weights < 0)) {
    abort("`weights` must be finite and non-negative.")
  }
  if (sum(weights) == 0) abort("`weights` must not all be zero.")
  weights * (n / sum(weights))
}

check_activation <- function(activation, layers) {
  if (!is.character(activation) || !(length(activation) %in% c(1L, layers)) ||
      anyNA(activation) || !all(activation %in% hidden_activations)) {
    abort("`activation` must be one of ", paste0('"', hidden_activations, '"', collapse = ", "),
          ", given once or once per hidden layer (", layers, "); not ",
          show_value(activation), ".")
  }
  rep_len(activation, layers)
}

column_stats <- function(m) {
  center <- colMeans(m)
  spread <- apply(m, 2, sd)
  spread[!is.finite(spread) | spread == 0] <- 1
  list(center = center, scale = spread)
}

apply_stats <- function(m, stats) {
  m <- sweep(m, 2L, stats$center, "-", check.margin = FALSE)
  sweep(m, 2L, stats$scale, "/", check.margin = FALSE)
}

undo_stats <- function(m, stats) {
  m <- sweep(m, 2L, stats$scale, "*", check.margin = FALSE)
  sweep(m, 2L, stats$center, "+", check.margin = FALSE)
}

resolve_threads <- function(threads) {
  if (is.null(threads)) threads <- getOption("backprop.threads") %||% default_threads()
  check_count(threads, "threads", min = 1)
}

# All cores, counted once per session (detectCores() takes milliseconds).
default_threads <- local({
  cores <- NULL
  function() {
    if (is.null(cores)) {
      cores <<- parallel::detectCores(logical = FALSE)
      if (is.na(cores) || cores < 1) cores <<- 1
    }
    cores
  }
})

# Runs the Rust trainer on a spec and wraps the result as an mlp_fit.
run_training <- function(spec, call = NULL, coding = NULL) {
  progress <- if (spec$verbose) progress_reporter(spec$epochs, environment()) else NULL
  watcher <- NULL
  if (!is.null(spec[["callback"]])) {
    failed <- new.env(parent = emptyenv())
    watcher <- callback_watcher(spec[["callback"]], spec, failed)
  }
  res <- train_(spec$x, spec$y, spec, spec$params, spec$val$x, spec$val$y, progress, watcher)
  if (!is.null(progress)) progress(NULL, NULL)
  if (!is.null(watcher) && !is.null(failed$error)) {
    abort("`callback` failed at epoch ", failed$epoch, ": ", conditionMessage(failed$error))
  }
  if (res$status == "diverged") {
    abort("Training diverged at epoch ", res$diverged_at, ": the loss or the weights ",
          "stopped being finite. Try a smaller `lr` (it was ", spec$lr, ")",
          if (is.null(spec$scaling)) " or scale = TRUE" else "", ".",
          class = "backprop_diverged")
  }
  if (res$status == "interrupted") {
    warning("Training was interrupted after epoch ", length(res$loss),
            "; returning the network as it was then.", call. = FALSE)
  }
  new_fit(spec, res, call, coding)
}

# The fit's names of the spec's settings it keeps, and the response's fields.
fit_settings <- c(sizes = "sizes", hidden = "hidden", activation = "activation",
                  output_activation = "output", loss_function = "loss", optimizer = "optimizer",
                  lr = "lr", epochs = "epochs", batch_size = "batch_size",
                  weight_decay = "weight_decay", l1 = "l1", dropout = "dropout",
                  lr_schedule = "lr_schedule", clip_norm = "clip_norm",
                  class_weights = "class_weights", huber_delta = "huber_delta", tau = "tau",
                  precision = "precision", bias = "bias", init = "init")
fit_response <- c("y", "levels", "ordered", "logical_response", "scaling")

# The fit, built in one piece: for the article's tiny network, building it
# field by field cost as much as a few hundred epochs.
new_fit <- function(spec, res, call = NULL, coding = NULL) {
  weights <- res$weights
  biases <- res$biases
  output <- res$output
  # dimnames()[[2]] and class<- are primitives; colnames() and structure()
  # are not, and cost more than the article network's training.
  y_names <- dimnames(spec$y)[[2L]]
  if (!is.null(y_names)) colnames(output) <- y_names
  if (!is.null(spec$row_names) && is.null(spec$val$rows)) rownames(output) <- spec$row_names
  # The article's names for a network with one hidden layer.
  article <- if (length(weights) == 2L) {
    list(wh = weights[[1]], bh = biases[[1]], wout = weights[[2]], bout = biases[[2]])
  }
  # The spec's fields the fit keeps, taken in one subset: `$` looks each
  # name up along the spec's names, which cost more than the subset.
  settings <- spec[fit_settings]
  names(settings) <- names(fit_settings)
  response <- spec[fit_response]
  fit <- c(list(output = output), article, list(
    weights = weights,
    biases = biases,
    loss = res$loss,
    val_loss = res$val_loss,
    best_epoch = res$best_epoch,
    status = res$status,
    seconds = res$seconds
  ), settings, list(n = dim(spec$x)[1L]), response, list(
    x_names = dimnames(spec$x)[[2L]],
    y_names = y_names,
    coding = coding,
    prior_weights = spec$prior_weights,
    held_out = if (!is.null(spec$val$rows)) sort(spec$val$rows),
    call = call
  ))
  class(fit) <- "mlp_fit"
  if (!is.null(spec$val$rows)) fit <- add_all_rows(fit, spec)
  fit
}

# With a validation fraction, fitted() and residuals() cover every data row,
# the held-out ones included: the network's raw output and the targets of
# all rows, in the data's order.
add_all_rows <- function(fit, spec) {
  fit$all_y <- spec$val$all_y
  fit$all_output <- network_output(fit, spec$val$all_x, spec$threads)
  dimnames(fit$all_output) <- list(spec$row_names, dimnames(fit$output)[[2L]])
  fit
}

# A function(epoch, loss) that moves a cli progress bar; (NULL, NULL) closes
# it. The bar belongs to `envir`, the frame of the caller that trains.
progress_reporter <- function(epochs, envir) {
  if (!requireNamespace("cli", quietly = TRUE) || epochs < 1) return(NULL)
  id <- cli::cli_progress_bar(
    total = epochs, .envir = envir, clear = TRUE, extra = list(loss = ""),
    format = "{cli::pb_bar} epoch {cli::pb_current}/{cli::pb_total} | loss {cli::pb_extra$loss} | ETA {cli::pb_eta}"
  )
  function(epoch, loss) {
    if (is.null(epoch)) {
      cli::cli_progress_done(id = id, .envir = envir)
    } else {
      cli::cli_progress_update(id = id, set = epoch, .envir = envir,
                               extra = list(loss = format(signif(loss, 4))))
    }
    invisible(NULL)
  }
}
