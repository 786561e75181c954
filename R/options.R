# The modern training options shared by mlp_train(), backprop() and
# mlp_gradcheck(): checked once here into one options object, which
# training_spec() then checks against the network and the data.

lr_schedules <- c("constant", "step", "exponential", "cosine", "cyclic")

# Checks what can be checked without the network; returns the options object.
training_options <- function(dropout = 0, l1 = 0, lr_schedule = "constant", clip_norm = NULL,
                             class_weights = NULL, huber_delta = 1, tau = 0.5,
                             callback = NULL, callback_every = 1) {
  # The defaults, as every call of the article's example passes them, need
  # one comparison each rather than the checks below, and make one object.
  if (identical(dropout, 0) && identical(l1, 0) && identical(lr_schedule, "constant") &&
      is.null(clip_norm) && is.null(class_weights) && identical(huber_delta, 1) &&
      identical(tau, 0.5) && is.null(callback) && identical(callback_every, 1)) {
    return(default_options)
  }
  check_training_options(dropout, l1, lr_schedule, clip_norm, class_weights, huber_delta,
                         tau, callback, callback_every)
  options_object(dropout, l1, lr_schedule, clip_norm, class_weights, huber_delta, tau,
                 callback, callback_every)
}

options_object <- function(dropout = 0, l1 = 0, lr_schedule = "constant", clip_norm = NULL,
                           class_weights = NULL, huber_delta = 1, tau = 0.5,
                           callback = NULL, callback_every = 1) {
  list(dropout = as.double(dropout), l1 = as.double(l1), lr_schedule = lr_schedule,
       clip_norm = clip_norm, class_weights = class_weights, huber_delta = as.double(huber_delta),
       tau = as.double(tau), callback = callback, callback_every = as.double(callback_every))
}

# The options object of the defaults, made once. option_fields() knows it by
# its attribute and gives its fields without the checks (a test holds the
# two equal).
default_options <- structure(options_object(), defaults = TRUE)

check_training_options <- function(dropout, l1, lr_schedule, clip_norm, class_weights,
                                   huber_delta, tau, callback, callback_every) {
  if (!is.numeric(dropout) || length(dropout) < 1L || anyNA(dropout) ||
      any(dropout < 0) || any(dropout >= 1)) {
    abort("`dropout` must be a rate in [0, 1), once or once per hidden layer; not ",
          show_value(dropout), ".")
  }
  check_number(l1, "l1", lower = 0, open = FALSE)
  if (!is.null(clip_norm)) check_number(clip_norm, "clip_norm", lower = 0)
  if (!is.function(lr_schedule)) {
    if (!is.character(lr_schedule) || length(lr_schedule) != 1L || !(lr_schedule %in% lr_schedules)) {
      abort("`lr_schedule` must be one of ", paste0('"', lr_schedules, '"', collapse = ", "),
            " or a function of the epoch returning the learning rate's multiplier; not ",
            show_value(lr_schedule), ".")
    }
  }
  if (!is.null(class_weights) && !identical(class_weights, "balanced") &&
      !(is.numeric(class_weights) && !is.null(names(class_weights)))) {
    abort("`class_weights` must be NULL, \"balanced\" or a named numeric vector ",
          "(one weight per class); not ", show_value(class_weights), ".")
  }
  check_number(huber_delta, "huber_delta", lower = 0)
  check_number(tau, "tau", lower = 0, upper = 1)
  if (!is.null(callback) && !is.function(callback)) {
    abort("`callback` must be NULL or a function(epoch, loss, val_loss, weights); not ",
          show_value(callback), ".")
  }
  check_count(callback_every, "callback_every", min = 1)
  invisible()
}

# Checks the options against the resolved network; returns the spec's fields
# for them, as the Rust core reads them.
option_fields <- function(options, spec) {
  layers <- length(spec$hidden)
  if (isTRUE(attr(options, "defaults", exact = TRUE))) {
    loss <- spec$loss
    return(list(dropout = rep.int(0, layers), l1 = 0, clip_norm = NULL, lr_schedule = "constant",
                lr_factors = NULL, loss_param = switch(loss, huber = 1, quantile = 0.5, 0),
                huber_delta = if (loss == "huber") 1, tau = if (loss == "quantile") 0.5,
                callback = NULL, callback_every = 1, class_weights = NULL))
  }
  if (!(length(options$dropout) %in% c(1L, layers))) {
    abort("`dropout` must be given once or once per hidden layer (", layers, "), not ",
          length(options$dropout), " times.")
  }
  dropout <- rep_len(options$dropout, layers)
  optimizer <- spec$optimizer
  second_order <- optimizer %in% c("lm", "lbfgs")
  schedule_given <- is.function(options$lr_schedule) || options$lr_schedule != "constant"
  if (second_order) {
    used <- c(dropout = any(dropout > 0), lr_schedule = schedule_given,
              clip_norm = !is.null(options$clip_norm))
    if (any(used)) {
      abort("`", names(used)[used][1], "` needs a first-order `optimizer` (\"gd\", \"sgd\", ",
            "\"adam\", \"adamw\" or \"rmsprop\"); `optimizer = \"", optimizer,
            "\"` takes its own steps.")
    }
  }
  if (optimizer == "lm" && options$l1 > 0) {
    abort("`l1` cannot be used with `optimizer = \"lm\"`, which minimises squared errors ",
          "with an L2 penalty only; use \"lbfgs\" or \"adam\".")
  }
  factors <- NULL
  if (is.function(options$lr_schedule)) {
    factors <- vapply(seq_len(spec$epochs), function(e) {
      f <- options$lr_schedule(e)
      if (!is.numeric(f) || length(f) != 1L || is.na(f) || !is.finite(f) || f < 0) {
        abort("`lr_schedule` must return one finite non-negative number per epoch; at epoch ",
              e, " it returned ", show_value(f), ".")
      }
      as.double(f)
    }, numeric(1))
  }
  list(dropout = dropout, l1 = options$l1, clip_norm = options$clip_norm,
       lr_schedule = if (is.function(options$lr_schedule)) "function" else options$lr_schedule,
       lr_factors = factors, loss_param = loss_param_of(spec$loss, options),
       huber_delta = if (spec$loss == "huber") options$huber_delta,
       tau = if (spec$loss == "quantile") options$tau,
       callback = options$callback, callback_every = options$callback_every,
       class_weights = options$class_weights)
}

# The one parameter a loss has (0 for those without one).
loss_param_of <- function(loss, options) {
  switch(loss, huber = options$huber_delta, quantile = options$tau, 0)
}

# Observation weights times the weight of each row's class; NULL when
# neither is given.
class_row_weights <- function(class_weights, target, weights) {
  if (is.null(class_weights)) return(weights)
  levels <- target$levels
  if (is.null(levels)) {
    abort("`class_weights` applies to classification (a factor response); this response is numeric.")
  }
  class <- max.col(target$y, ties.method = "first")
  if (identical(class_weights, "balanced")) {
    counts <- tabulate(class, length(levels))
    per_class <- ifelse(counts > 0, length(class) / (length(levels) * pmax(counts, 1)), 0)
  } else {
    unknown <- setdiff(names(class_weights), levels)
    missing_levels <- setdiff(levels, names(class_weights))
    if (length(unknown) || length(missing_levels)) {
      abort("`class_weights` must name every class once: ",
            if (length(unknown)) paste0("\"", unknown[1], "\" is not a class"),
            if (length(unknown) && length(missing_levels)) " and ",
            if (length(missing_levels)) paste0("\"", missing_levels[1], "\" has no weight"),
            "; the classes are ", paste0('"', levels, '"', collapse = ", "), ".")
    }
    if (anyNA(class_weights) || any(!is.finite(class_weights)) || any(class_weights < 0)) {
      abort("`class_weights` must be finite and non-negative.")
    }
    per_class <- as.double(class_weights[levels])
  }
  row_weights <- per_class[class]
  if (!is.null(weights)) {
    if (length(weights) != length(row_weights)) return(weights) # check_weights() reports it
    row_weights <- row_weights * weights
  }
  row_weights
}

# The function the Rust core calls after every `every`-th epoch: it hands the
# user's callback the epoch, the losses and the weights as mlp_fit holds
# them, and asks the core to stop when the callback returns TRUE. An error
# in the callback stops training and is kept in `state` for run_training().
callback_watcher <- function(callback, spec, state) {
  sizes <- spec$sizes
  bias_rows <- if (spec$bias == "row") nrow(spec$x) else 1
  function(epoch, loss, val_loss, params) {
    weights <- unflatten_params(params, sizes, bias_rows)
    result <- tryCatch(
      callback(epoch = epoch, loss = loss, val_loss = if (is.nan(val_loss)) NA_real_ else val_loss,
               weights = weights),
      error = function(e) {
        state$error <- e
        state$epoch <- epoch
        TRUE
      }
    )
    isTRUE(result)
  }
}

# The core's flat parameters as list(weights = list(...), biases = list(...)).
unflatten_params <- function(flat, sizes, bias_rows) {
  layers <- length(sizes) - 1L
  weights <- vector("list", layers)
  biases <- vector("list", layers)
  at <- 0
  for (l in seq_len(layers)) {
    nw <- sizes[l] * sizes[l + 1L]
    weights[[l]] <- matrix(flat[at + seq_len(nw)], sizes[l], sizes[l + 1L])
    at <- at + nw
    nb <- bias_rows * sizes[l + 1L]
    biases[[l]] <- matrix(flat[at + seq_len(nb)], bias_rows, sizes[l + 1L])
    at <- at + nb
  }
  list(weights = weights, biases = biases)
}
