# From mlp_train()'s arguments to a checked, fully resolved training spec,
# and from the spec to a fitted network.

# From a design's inputs and targets and the given options to a checked,
# fully resolved training spec: the options resolved by the option table
# (under the interface's `defaults`, and a continued fit's architecture),
# checked together, the inputs scaled, the starting weights drawn, the
# validation rows and batches set. `blueprint` codes validation data;
# `x_extent` is extent_(x) when the caller has read it; `categories` are
# the data's categorical inputs row by row (frame_categories()). A fit
# continued keeps its training settings (kept_training()) when
# `keep_training`; the trace and the gradient check take its network alone.
training_spec <- function(x, target, given = list(), defaults = NULL, weights = NULL,
                          blueprint = NULL, x_extent = NULL, categories = NULL,
                          keep_training = TRUE) {
  y <- target$y
  classification <- !is.null(target$levels)
  init <- given$init
  continuing <- is.list(init) && inherits(init, "mlp_fit")
  if (continuing) {
    continued_fit_checks(init, given)
    init <- given$init <- aligned_fit(init, dimnames(x)[[2L]], dimnames(y)[[2L]], target$levels)
    # A continued fit keeps its architecture, activations, loss (with its
    # parameters: a quantile fit at tau = 0.9 or a band must not go on at
    # the default tau = 0.5) and scaling unless the caller gives others.
    kept <- list(hidden = init$hidden, activation = init$activation,
                 output = init$output_activation, loss = init$loss_function, bias = init$bias,
                 scale = !is.null(init$scaling))
    for (name in c("tau", "huber_delta")) {
      if (!is.null(init$options[[name]])) kept[[name]] <- init$options[[name]]
    }
    training <- if (keep_training) kept_training(init, given)
    defaults[names(kept)] <- kept
    if (length(training)) defaults[names(training)] <- training
  }
  o <- resolve_options(given, defaults, classification)
  # A kept setting that does not apply to the continued fit (the fit's L1
  # for a given optimizer = "lm") is refused, as given ones are, saying whose.
  if (continuing) refuse_inapplicable(training, o, kept = TRUE)
  loss <- o$loss
  output <- o$output
  optimizer <- o$optimizer
  check_combination(loss, output, optimizer)
  # predict() reads a classifier's outputs as probabilities, and its
  # targets (0 and 1) are never standardized.
  if (classification && output != "softmax" && output != "sigmoid") {
    abort("`output = \"", output, "\"` gives no class probabilities; a factor response takes ",
          "output = \"softmax\" (the default) or \"sigmoid\" (one probability per class).")
  }
  # (== rather than %in% on these single strings: this runs on every fit.)
  if (!is.null(target$band) && output != "linear") {
    abort("A quantile band (`tau = c(a, 1 - a)`) needs `output = \"linear\"`: its lower bound is ",
          "fitted as the upper bound of the negated response.")
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
  prior_weights <- weights
  if (!is.null(weights)) weights <- check_weights(weights, n = nrow(x))
  per_class <- NULL
  if (classification && !is.null(o$class_weights)) {
    per_class <- class_factors(o$class_weights, target, weights)
    weights <- check_weights(class_row_weights(o$class_weights, target, weights, per_class), nrow(x))
  }
  row_names <- dimnames(x)[[1L]]

  # Starting weights (drawn first, so that set.seed() matches the article).
  n <- nrow(x)
  start <- spec_start(o, given, n, ncol(x), ncol(y))
  sizes <- start$sizes
  bias <- start$bias
  if (bias == "row" && optimizer != "gd") {
    abort("`bias = \"row\"` needs `optimizer = \"gd\"`: per-row biases belong to full-batch training.")
  }
  if (!is.null(o$validation) && bias == "row") {
    abort("`validation` cannot be used with `bias = \"row\"`: per-row biases do not ",
          "apply to held-out rows.")
  }
  held_rows <- NULL
  # Whether the validation rows are rows the network never trained on, as
  # split-conformal calibration needs.
  unseen_validation <- TRUE
  if (is.numeric(o$validation)) {
    # A fit continued on its own rows keeps its validation rows: drawn
    # afresh, most would be rows it was trained on, their loss optimistic
    # and their residuals too small for intervals.
    pool <- validation_pool(weights, n)
    held_rows <- if (continuing) kept_validation_rows(init, x, pool, o$validation, o$threads)
    unseen_validation <- !continuing || !is.null(held_rows)
    if (!unseen_validation && o$conformal == "split") {
      abort("`conformal = \"split\"` calibrates on validation rows the network was not trained ",
            "on, but `init` is a fit that may have been trained on any of these rows. Continue ",
            "it on the rows it was fitted to (it keeps its validation rows), or give ",
            "`validation` rows it has not seen.")
    }
    held_rows <- held_rows %||%
      validation_draw(o$validation, pool, x, with_classes(categories, y, target$levels))
  }
  # Scaling statistics: from a previous fit when continuing it, else
  # computed on the training rows (not the rows a validation fraction holds
  # out, which pick the epoch and calibrate the intervals), weighted by the
  # observation (and class) weights: a weight of k counts as k rows.
  scaling <- NULL
  counted <- weights
  if (!is.null(held_rows)) {
    counted <- counted %||% rep(1, n)
    counted[held_rows] <- 0
  }
  if (continuing) {
    scaling <- init$scaling
    # An input the fit ignored (constant on its rows, its weights 0) that
    # varies on these rows is scaled by them: the continued fit learns it.
    ignored <- which(is.infinite(scaling$x$scale))
    if (length(ignored)) {
      fresh <- column_stats(x[, ignored, drop = FALSE], counted, constant_scale = Inf)
      for (field in c("center", "scale", "low", "high")) scaling$x[[field]][ignored] <- fresh[[field]]
    }
  } else if (o$scale) {
    scaling <- list(x = column_stats(x, counted, constant_scale = Inf),
                    y = if (output == "linear") column_stats(y, counted))
  }
  # The response's own units are squared too (residuals, scores, the
  # search's losses), standardized for training or not.
  y_largest <- extent_of(y, o$threads)[1L]
  if (y_largest > 1e150) too_large(y, "Y", "double")
  if (!is.null(scaling)) {
    x <- apply_stats(x, scaling$x)
    if (!is.null(scaling$y)) y <- apply_stats(y, scaling$y)
  }
  # Per-row biases belong to their rows: a row-bias fit goes on with them.
  if (continuing && bias == "row" && !identical(unname(x), init$row_inputs)) {
    abort("`init` has per-row biases (`bias = \"row\"`) for its ", init$n, " training rows: ",
          "continue it on those rows, in their order.")
  }
  limit <- if (o$precision == "single") 1e18 else 1e150
  # (x and y hold finite numbers: their largest magnitude is the first of
  # extent_(), which the caller's check of x may have read already.)
  if (!is.null(scaling) || is.null(x_extent)) x_extent <- extent_of(x, o$threads)
  if (x_extent[1L] > limit) too_large(x, "X", o$precision, scaled = !is.null(scaling))
  if (!is.null(scaling$y)) y_largest <- extent_of(y, o$threads)[1L]
  if (y_largest > limit) too_large(y, "Y", o$precision, scaled = !is.null(scaling$y))

  held <- if (is.null(o$validation)) list(x = x, y = y, weights = weights) else
    spec_validation(o$validation, held_rows, x, y, weights, target, scaling, blueprint, per_class,
                    weighted = !is.null(prior_weights))
  if (!is.null(o$patience) && is.null(held$val)) {
    abort("`patience` needs `validation`: early stopping watches the validation loss.")
  }
  # A batch size kept from a continued fit fits the rows it goes on with.
  if (continuing && !is.null(training$batch_size)) o$batch_size <- min(o$batch_size, nrow(held$x))
  batches <- spec_batches(o, nrow(held$x), sizes)
  train <- core_weights(held$weights, optimizer)

  # The Rust entry points read the spec itself: its architecture (sizes,
  # activation, output, bias) and settings, as doubles and strings.
  c(list(
    x = held$x, y = held$y, val = held$val, weights = train$weights,
    counted_rows = train$counted_rows, prior_train_weights = held$weights,
    val_weights = held$val$weights, prior_weights = prior_weights, row_names = row_names,
    levels = target$levels, ordered = isTRUE(target$ordered),
    logical_response = isTRUE(target$logical), scaling = scaling,
    sizes = as.numeric(sizes), hidden = start$hidden, activation = start$activation,
    batch_size = as.numeric(batches$batch_size), bias = bias, init = start$init,
    params = if (is.character(start$init)) without_ignored_inputs(start$params, scaling) else start$params,
    seed = batches$seed,
    # (The training rows' levels, for bootstrap samples.)
    categories = if (is.numeric(held_rows)) subset_categories(categories, -held_rows) else categories,
    options = o, unseen_validation = unseen_validation
  ), option_fields(o, length(start$hidden)))
}

# The error for data whose size the network's arithmetic cannot hold
# (after scaling; training_spec() compares with the limits): squares of
# values past 1e150 overflow in double precision, and single precision holds
# no value past 3.4e38, so its squares need values below 1e18.
too_large <- function(m, arg, precision, scaled = FALSE) {
  big <- max(max(m), -min(m))
  abort("`", arg, "` holds values as large as ", format(signif(big, 3)), ", too large for ",
        if (precision == "single") "single precision" else "the network's arithmetic",
        " (their squares overflow)", if (scaled) " even standardized", ": rescale it",
        if (precision == "single") ", or use precision = \"double\"" else "",
        if (arg == "X" && !scaled) ", or standardize it with scale = TRUE" else "", ".")
}

# The starting weights and the network they make: drawn by `init` (a name),
# or given (a list of matrices or a previous fit), which then fixes the
# sizes and the bias layout unless `hidden` or `bias` are given too, when
# they must agree.
spec_start <- function(o, given, n, inputs, outputs) {
  init <- o$init
  if (is.character(init)) {
    hidden <- o$hidden
    activation <- check_activation(o$activation, length(hidden))
    sizes <- c(inputs, hidden, outputs)
    bias <- o$bias
    check_size(n, sizes, if (bias == "row") n else 1, n)
    params <- draw_params(init, sizes, bias, n)
    init_name <- init
  } else {
    init_name <- if (inherits(init, "mlp_fit")) "fit" else "given"
    params <- given_params(init, inputs, outputs, n, hidden = given$hidden,
                           hidden_given = !is.null(given$hidden), bias = o$bias,
                           bias_given = !is.null(given$bias))
    bias <- params$bias
    hidden <- vapply(params$weights, ncol, integer(1))
    hidden <- as.numeric(hidden[-length(hidden)])
    activation <- check_activation(o$activation, length(hidden))
    sizes <- c(inputs, hidden, outputs)
    check_size(n, sizes, if (bias == "row") n else 1, n)
  }
  list(params = params, init = init_name, hidden = hidden, activation = activation,
       sizes = sizes, bias = bias)
}

# Validation rows (training_spec() calls it when there are some): the rows
# `idx` of a fraction (validation_draw()) held out of the training rows, or
# given rows, coded by the fit's blueprint and scaled as the training rows
# are; `weighted`: the fit has observation weights, which given rows need
# too.
spec_validation <- function(validation, idx, x, y, weights, target, scaling, blueprint,
                            per_class = NULL, weighted = FALSE) {
  if (is.numeric(validation)) {
    # All rows stay too (no copy), for fitted() and residuals() on every row.
    val <- list(x = x[idx, , drop = FALSE], y = y[idx, , drop = FALSE],
                weights = weights[idx], rows = idx, all_x = x)
    return(list(x = x[-idx, , drop = FALSE], y = y[-idx, , drop = FALSE],
                weights = weights[-idx], val = val))
  }
  val <- validation_rows(validation, blueprint, target, weighted)
  # Given rows weigh as training rows do: by their own weights, times their
  # class's weight.
  if (!is.null(per_class)) {
    val$weights <- (val$weights %||% 1) * per_class[class_index(val$y)]
  }
  if (!is.null(scaling)) {
    # Given rows are new rows to the network, as rows to predict are.
    warn_ignored_inputs(val$x, scaling$x, seq_len(nrow(val$x)), " of `validation`")
    val$x <- apply_stats(val$x, scaling$x)
    if (!is.null(scaling$y)) val$y <- apply_stats(val$y, scaling$y)
  }
  list(x = x, y = y, weights = weights, val = val)
}

# The training settings a continued fit keeps unless they are given, those
# that acted on it (the option table's `continues`): its optimizer with the
# settings that are the optimizer's (unless another optimizer is given,
# which takes its own), and the objective's penalties and class weights.
# Without them, continuing a
# class-weighted classifier undid its weighting, and an Adam fit went on
# by "gd" at the article's learning rate. (Levenberg-Marquardt's decay is
# on the summed squared errors, the others' on the mean loss: across a
# change to or from it, the decay does not carry.)
kept_training <- function(init, given) {
  own_optimizer <- is.null(given$optimizer) || identical(given$optimizer, init$optimizer)
  decay_carries <- own_optimizer || !any(c(init$optimizer, given$optimizer) == "lm")
  names <- option_names[option_continues == "objective" | (own_optimizer & option_continues == "optimizer")]
  names <- setdiff(names, c(names(given), if (!decay_carries) "weight_decay"))
  kept <- init$options[names]
  names(kept) <- names
  # (Resolved values that did not act on the fit, as L-BFGS's learning
  # rate, are not its settings.)
  acted <- vapply(names, function(name) {
    applies <- option_table[[name]]$applies
    is.null(applies) || is.null(applies(name, init$options))
  }, NA)
  kept[acted]
}

# The validation rows of a fit `init` continued on `x` with a validation
# fraction: its own, when `x` holds the rows it was fitted to, in their
# order, and the fraction holds out as many (fewer when the draw gave rows
# back to training); else NULL.
kept_validation_rows <- function(init, x, pool, validation, threads) {
  held <- init$held_out
  # (Rows the fit kept from a fit that had trained on them are no better.)
  # (A draw may give rows back to training: as many or fewer.)
  if (is.null(held) || !isTRUE(init$held_out_unseen) || init$n + length(held) != nrow(x) ||
      length(held) > round(validation * length(pool))) {
    return(NULL)
  }
  row_names <- dimnames(x)[[1L]]
  if (!is.null(names(held)) && !is.null(row_names) && !identical(names(held), row_names[held])) {
    return(NULL)
  }
  # The same rows in the same order: the fit's output on them is the one it
  # recorded (a count, or data without row names, cannot tell reordered
  # rows apart).
  own <- network_output(init, if (is.null(init$scaling)) x else apply_stats(x, init$scaling$x),
                        threads)
  # (`init` is aligned to the data's outputs; its record keeps its order.)
  recorded <- init$fitted_raw
  outputs <- init$levels %||% init$y_names
  if (length(outputs) > 1L && all(outputs %in% colnames(recorded))) {
    recorded <- recorded[, outputs, drop = FALSE]
  }
  if (!isTRUE(all.equal(unname(own), unname(recorded), tolerance = 1e-10))) return(NULL)
  unname(held)
}

# The rows a validation fraction may hold out: those of positive weight (a
# row of weight 0 counts nowhere, and validation rows that all weigh 0
# would score every epoch 0).
validation_pool <- function(weights, n) {
  if (is.null(weights)) seq_len(n) else which(weights > 0)
}

# `categories` with a classifier's classes among them (`y` one-hot), as
# the factor "(response)": the draws of validation rows and of bootstrap
# samples keep every class among the training rows, as they keep every
# input's levels.
with_classes <- function(categories, y, levels) {
  if (is.null(levels)) return(categories)
  classes <- factor(levels[class_index(y)], levels = levels)
  c(categories, list("(response)" = classes))
}

# The rows a validation fraction holds out of the rows `pool` of `x`. A
# held-out row goes back to training when the training rows would
# otherwise hold one value of an input the pool varies, or lack a level of
# a categorical input (`categories`, frame_categories()) the pool holds:
# the network would predict that value or level (a rare level of a
# factor, whose rows were all held out; its baseline too) from weights no
# row trained.
validation_draw <- function(validation, pool, x, categories = NULL) {
  n <- length(pool)
  held <- round(validation * n)
  if (held >= 1L && held < n) {
    held <- pool[sample.int(n, held)]
    for (untrained in untrained_values(x, categories, setdiff(pool, held), pool)) {
      # (A row back for an earlier value may hold this one too.)
      if (!all(untrained$holders %in% held)) next
      if (length(held) == 1L) {
        # One row held out, the only one of something training needs:
        # another row instead, one that leaves nothing untrained.
        others <- setdiff(pool, untrained$holders)
        for (other in others[sample.int(length(others), min(length(others), 20L))]) {
          if (!length(untrained_values(x, categories, setdiff(pool, other), pool))) return(other)
        }
        abort("`validation = ", validation, "` leaves one row held out, and it alone has its ",
              untrained$what, ", which training needs. Give a larger `validation`, or ",
              "validation rows as data.")
      }
      held <- setdiff(held, held[held %in% untrained$holders][1L])
    }
    return(held)
  }
  abort("`validation = ", validation, "` leaves ", n - held, " training and ", held,
        " validation rows", if (n < nrow(x)) " of positive weight", "; each needs at least one.")
}

# The values that rows `rows` lack but rows `among` hold: of each input
# column constant on `rows` (its other values), and of each categorical
# input (its levels). One entry each: `holders`, the rows of `among` that
# hold it; `what` it is, for messages; `level` and `name` of a category's
# level, or `column` of an input's values.
untrained_values <- function(x, categories, rows, among) {
  columns <- lapply(constant_inputs(x, rows, among), function(j) {
    list(holders = among[x[among, j] != x[rows[1L], j]], column = j,
         what = paste0("value of input ", input_name(x, j), " (a factor's level, say)"))
  })
  levels <- lapply(names(categories), function(name) {
    level <- categories[[name]]
    lapply(setdiff(level[among], level[rows]), function(lacking) {
      list(holders = among[level[among] %in% lacking], level = lacking, name = name,
           what = if (name == "(response)") paste0("class \"", lacking, "\"") else
             paste0("level \"", lacking, "\" of `", name, "`"))
    })
  })
  c(columns, unlist(levels, recursive = FALSE))
}

# Input column j of x in a message: `name`, or column j.
input_name <- function(x, j) {
  name <- dimnames(x)[[2L]][j]
  if (is.null(name)) paste("column", j) else paste0("`", name, "`")
}

# The input columns that take one value on every row of `rows` but another
# on some row of `among`: a network trained on `rows` cannot learn what
# their other values mean (a level of a factor with no rows among them).
constant_inputs <- function(x, rows, among) {
  if (length(rows) == 0L || ncol(x) == 0L) return(integer(0))
  role <- integer(nrow(x))
  role[among] <- 2L
  role[rows] <- 1L
  if (!is.double(x)) storage.mode(x) <- "double"
  which(constant_columns_(x, role))
}

# Rows of weight 0 count nowhere: an indicator (0 or 1) whose other value
# is only on such rows would be predicted from weights no row trained (a
# level of a factor none of whose rows weighs anything). Refused, as the
# factor without those rows would be. (A continued fit's weights for them
# are its own, trained before. Other inputs that vary only on such rows,
# as with one row of positive weight, are the caller's to extrapolate.)
refuse_untrained_inputs <- function(x, weights, init, categories = NULL) {
  if (is.null(weights) || !is.numeric(weights) || length(weights) != nrow(x) || anyNA(weights) ||
      !any(weights == 0) || inherits(init, "mlp_fit")) {
    return(invisible())
  }
  untrained <- untrained_values(x, categories, which(weights > 0), seq_len(nrow(x)))
  levels <- Filter(function(u) !is.null(u$name), untrained)
  if (length(levels)) {
    abort("`weights` are 0 on every row of ", levels[[1L]]$what, ": the network cannot learn ",
          "what it means. Remove those rows (and the level, with droplevels()), or give them a ",
          "weight.")
  }
  indicators <- Filter(function(u) !is.null(u$column) && all(x[, u$column] %in% c(0, 1)),
                       untrained)
  if (length(indicators)) {
    abort("`weights` are 0 on every row where input ", input_name(x, indicators[[1L]]$column),
          " differs from its value on the other rows: the network cannot learn what it means. ",
          "Remove those rows (and a factor's unused level, with droplevels()), or give them a ",
          "weight.")
  }
}

# Given validation data, through the one data path: `x` forged by the
# blueprint as new data is for predict(), the response coded as the
# training response (the classes of a classifier).
validation_rows <- function(validation, blueprint, target, weighted = FALSE) {
  vw <- NULL
  if (is.data.frame(validation)) {
    vy <- outcome_in(blueprint, validation)
    if (is.null(vy)) {
      abort("`validation` as a data frame must hold the response; for the x/y interface ",
            "give list(x =, y =).")
    }
    vx <- validation
    # The weights' column (or expression of columns), read in these rows.
    if (weighted) vw <- weights_in(blueprint, validation)
  } else {
    vx <- validation$x
    vy <- validation$y
    vw <- validation$weights
  }
  if (weighted && is.null(vw)) {
    abort("`validation` needs the observation weights of its rows, as the training rows have ",
          "them: give them as `validation$weights`, or for a formula or recipe fit as the ",
          "weights' column of the validation data frame.")
  }
  x <- forge(blueprint, vx, "validation$x")
  if (anyNA(x)) {
    abort("`validation$x` must not contain NA: remove or impute those rows.")
  }
  y <- if (!is.null(target$levels)) {
    if (is.data.frame(vy) && ncol(vy) == 1L) vy <- vy[[1L]]
    values <- as.character(vy)
    if (anyNA(values) || !all(values %in% target$levels)) {
      abort("`validation$y` must hold the classes of the response (",
            paste0('"', target$levels, '"', collapse = ", "), ") and no NA.")
    }
    # One-hot, as as_target() codes the response; validation rows may hold
    # one class, or one row (the response needs two classes, they do not).
    if (length(values) != nrow(x)) {
      abort("`validation$y` must have as many rows as `validation$x` (", nrow(x), "), not ",
            length(values), ".")
    }
    one_hot(factor(values, levels = target$levels))
  } else {
    v <- as_data_matrix(vy, "validation$y", rows = nrow(x), rows_arg = "validation$x")
    v <- validation_outputs(v, dimnames(target$y)[[2L]], target$band)
    if (!is.null(target$band) && ncol(v) == 1L) cbind(v, -v) else v
  }
  if (ncol(y) != ncol(target$y)) {
    abort("`validation$y` must have ", ncol(target$y), " column", if (ncol(target$y) > 1) "s",
          " like the response, not ", ncol(y), ".")
  }
  if (inherits(vw, "hardhat_case_weights")) vw <- as.double(unclass(vw))
  if (!is.null(vw)) vw <- check_weights(vw, nrow(x))
  list(x = x, y = y, weights = vw)
}

# Validation responses of several named columns, matched to the
# response's columns by name, as validation inputs are: given in another
# order, they are put in the response's; other, repeated or missing names
# are refused (a column matched by position would score one output's
# predictions against another's targets).
validation_outputs <- function(v, names, band) {
  have <- dimnames(v)[[2L]]
  if (!is.null(band) || length(names) < 2L || is.null(have) || identical(have, names)) return(v)
  if (anyDuplicated(have) || length(have) != length(names) || !setequal(have, names)) {
    abort("`validation$y` must have the response's columns ", name_list(names),
          ", in any order, or no column names; it has ", name_list(have), ".")
  }
  v[, names, drop = FALSE]
}

# The rows per step, and the seed of the minibatches' shuffle (and of
# dropout's masks) drawn from R's RNG. A batch size given larger than the
# training rows is an error; backprop()'s rule asks for at most the rows.
spec_batches <- function(o, n_train, sizes) {
  minibatch <- any(o$optimizer == vocabulary$minibatch_optimizers)
  batch_size <- o$batch_size
  if (!minibatch) {
    batch_size <- n_train
  } else if (is.null(batch_size)) {
    batch_size <- min(32, n_train)
  } else if (batch_size > n_train) {
    abort("`batch_size` (", batch_size, ") must not exceed the number of training rows (",
          n_train, ").")
  }
  # The size was checked above with all n rows in one batch, which bounds
  # any batch of the n_train <= n training rows.
  if (o$optimizer == "lm") check_lm_size(n_train, sizes)
  seed <- if (minibatch) as.numeric(sample.int(.Machine$integer.max, 1L)) else 0
  list(batch_size = batch_size, seed = seed)
}

`%||%` <- function(a, b) if (is.null(a)) b else a

# The start a hidden activation needs: the article's N(0, 1) start suits its
# sigmoid units; it saturates tanh units and blows up relu-like ones, which
# get the start the core names for them.
default_init <- function(activation) {
  if (all(activation == "sigmoid")) return("article")
  if (any(vocabulary$start[activation] == "he")) "he" else "xavier"
}

# The loss, the output and the optimizer must combine into a fit that
# trains, by the core's rules (its vocabulary).
check_combination <- function(loss, output, optimizer) {
  outputs <- vocabulary$loss_outputs[[loss]]
  if (!any(output == outputs)) {
    abort("`loss = \"", loss, "\"` needs an `output` of ", quoted_or(outputs), ", not \"", output, "\"",
          if (output == "softmax") "; use loss = \"cross_entropy\" for classes", ".")
  }
  losses <- vocabulary$optimizer_losses[[optimizer]]
  outputs <- vocabulary$optimizer_outputs[[optimizer]]
  if (!any(loss == losses) || !any(output == outputs)) {
    abort("`optimizer = \"", optimizer, "\"` needs a `loss` of ", quoted_or(losses), " and an `output` of ",
          quoted_or(outputs), "; use \"lbfgs\" or \"adam\" otherwise.")
  }
}

# Observation weights: NULL, or n finite non-negative numbers not all zero.
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
  weights
}

# The activations, one per hidden layer. Their names were checked with the
# options (the option table's check_activation_names()); here their number.
check_activation <- function(activation, layers) {
  if (length(activation) != 1L && length(activation) != layers) {
    abort("`activation` must be one of ", paste0('"', vocabulary$hidden_activations, '"', collapse = ", "),
          ", given once or once per hidden layer (", layers, "); not ",
          show_value(activation), ".")
  }
  rep_len(activation, layers)
}

# Column means and standard deviations (the root mean square deviation,
# dividing by the rows, not one fewer), weighted as if each row were
# repeated as often as its weight says: a weight of k is k copies of the
# row, and weights that are all equal are no weights. A column constant on
# the counted rows has no spread: it is divided by `constant_scale`. For
# the inputs that is Inf, which maps every value of it to 0 (the training
# rows' too): the network learns nothing from such a column (the loss
# gives its weights no gradient, and they start at 0: see
# without_ignored_inputs()), so it ignores its values in new data, as lm()
# drops a column it cannot estimate. The response's is 1.
column_stats <- function(m, weights = NULL, constant_scale = 1) {
  if (is.null(weights)) weights <- rep(1, nrow(m))
  total <- sum(weights)
  counted <- weights > 0
  # A column at a time, in two passes: no copy of m, and no cancellation.
  # The deviations are squared relative to the largest, so that values
  # near 1e-170 do not underflow to a spread of 0, nor 1e200 overflow.
  moments <- vapply(seq_len(ncol(m)), function(j) {
    col <- m[, j]
    center <- sum(weights * col) / total
    # (A mean past the doubles' range: left uncentred and unscaled, for
    # the check of magnitudes to refuse.)
    if (!is.finite(center)) return(c(0, 1))
    # A column constant on the counted rows has no spread, whatever the
    # rounding of its mean leaves (1/3 gives 5.6e-17, which would blow new
    # values up by 1e16).
    values <- col[counted]
    if (all(values == values[1L])) return(c(center, 0))
    deviation <- col - center
    largest <- max(abs(deviation))
    if (!(largest > 0 && is.finite(largest))) return(c(center, 0))
    spread <- largest * sqrt(sum(weights * (deviation / largest)^2) / total)
    # (Values a few units in the last place apart, as 1 and 1 - 1.1e-16,
    # are constant too.)
    if (spread <= 8 * .Machine$double.eps * max(abs(values))) spread <- 0
    c(center, spread)
  }, numeric(2))
  center <- stats::setNames(moments[1L, ], colnames(m))
  spread <- stats::setNames(moments[2L, ], colnames(m))
  spread[!is.finite(spread)] <- 1
  # The values a column without spread held on the counted rows (one, or a
  # few a unit in the last place apart): predict() tells new values of an
  # ignored input from them.
  low <- high <- stats::setNames(rep(NA_real_, ncol(m)), colnames(m))
  for (j in which(spread == 0)) {
    held <- range(m[counted, j])
    low[j] <- held[1L]
    high[j] <- held[2L]
  }
  spread[spread == 0] <- constant_scale
  list(center = center, scale = spread, low = low, high = high)
}

apply_stats <- function(m, stats) {
  m <- sweep(m, 2L, stats$center, "-", check.margin = FALSE)
  sweep(m, 2L, stats$scale, "/", check.margin = FALSE)
}

undo_stats <- function(m, stats) {
  m <- sweep(m, 2L, stats$scale, "*", check.margin = FALSE)
  sweep(m, 2L, stats$center, "+", check.margin = FALSE)
}

# The threads of a call: `threads`, else the option backprop.threads, else
# every core; never more than the machine's logical cores (more would only
# wait for one another, and the results do not depend on the count).
resolve_threads <- function(threads) {
  if (is.null(threads)) threads <- getOption("backprop.threads") %||% default_threads()
  cap_threads(check_count(threads, "threads", min = 1))
}

# A checked thread count, capped. (One thread needs no cap, nor the parallel
# package loaded to count cores.)
cap_threads <- function(threads) if (threads > 1) min(threads, max_threads()) else threads

# The physical cores (the default thread count) and the logical cores (the
# cap), each counted once per session: detectCores() takes milliseconds.
core_count <- local({
  counts <- c(physical = NA_real_, logical = NA_real_)
  function(kind) {
    if (is.na(counts[[kind]])) {
      k <- parallel::detectCores(logical = kind == "logical")
      counts[[kind]] <<- if (is.na(k) || k < 1) 1 else k
    }
    counts[[kind]]
  }
})
default_threads <- function() core_count("physical")
max_threads <- function() core_count("logical")

# From a resolved spec to the fit: with `conformal = "cv"`, the refits of
# the calibration first (R/conformal.R), then the network itself. Under
# "auto", the search's folds (`calibration`) calibrate only a fit that has
# neither validation rows nor a bootstrap ensemble's out-of-bag rows, which
# calibrate the returned network itself.
fit_spec <- function(spec, design, target, given, defaults, call, selection = NULL,
                     calibration = NULL) {
  conformal <- spec$options$conformal
  if (conformal == "cv" || conformal == "cv+") {
    calibration <- cv_calibration(design, target, given, defaults, spec$options$conformal_folds,
                                  conformal)
  } else if (conformal != "auto" || !is.null(spec$val) || isTRUE(spec$options$bootstrap)) {
    calibration <- NULL
  }
  run_training(spec, design, call, selection, calibration)
}

# Runs the Rust trainer on a spec and builds the fit, complete, from the
# spec, the result, the design it came from and the call. `calibration` is
# a conformal calibration made before (the search's folds, or the refits of
# conformal = "cv"); the fit's own held-out or out-of-bag rows make one
# here when there is none.
run_training <- function(spec, design, call, selection = NULL, calibration = NULL) {
  starts <- spec$options$restarts
  members <- spec$options$ensemble
  runs <- max(starts, members)
  progress <- if (spec$verbose) progress_reporter(spec$epochs * runs, environment()) else NULL
  failed <- watcher <- NULL
  if (!is.null(spec[["callback"]])) {
    failed <- new.env(parent = emptyenv())
    watcher <- callback_watcher(spec[["callback"]], spec, failed)
  }
  objectives <- rep(NA_real_, starts)
  best <- NULL
  trained <- list()
  bags <- list()
  first <- spec
  seconds <- 0
  for (s in seq_len(runs)) {
    if (s > 1L) spec <- redraw_start(first)
    if (isTRUE(spec$options$bootstrap)) {
      bag <- bootstrap_counts(first$x, first$prior_train_weights,
                              with_classes(first$categories, first$y, first$levels))
      bags[[s]] <- bag
      spec <- bootstrap_spec(spec, bag)
    }
    shown <- if (!is.null(progress) && s > 1L) {
      offset <- (s - 1) * spec$epochs
      function(epoch, loss) progress(epoch + offset, loss)
    } else progress
    res <- train_(spec$x, spec$y, spec, spec$params, spec$val$x, spec$val$y, shown, watcher)
    seconds <- seconds + res$seconds
    if (!is.null(failed) && !is.null(failed$error)) {
      if (!is.null(progress)) progress(NULL, NULL)
      abort("`callback` failed at epoch ", failed$epoch, ": ", conditionMessage(failed$error))
    }
    # Early stopping keeps the epoch of the lowest validation loss; with
    # none finite (outputs that overflow the loss on a validation row) no
    # epoch was kept, and the weights would be the random start's: in any
    # start or ensemble member.
    if (res$status != "diverged" && !is.null(spec$val) && length(res$val_loss) &&
        !any(is.finite(res$val_loss))) {
      if (!is.null(progress)) progress(NULL, NULL)
      abort("The validation loss was not finite at any epoch: the network's outputs on the ",
            "validation rows overflow the loss (a row's inputs far outside the training rows' ",
            "range, say), so no epoch can be chosen by it. Check the validation rows, or train ",
            "without `validation`.", class = "backprop_diverged")
    }
    if (starts > 1L && res$status != "diverged") {
      objectives[s] <- start_objective(spec, res)
      if (is.null(best) || objectives[s] < objectives[best]) best <- s
    }
    if (s == 1L || identical(best, s)) kept <- res
    if (members > 1L) {
      if (res$status == "diverged") break
      trained[[s]] <- res
    }
    interrupted <- res$status == "interrupted"
    # An interrupt, or the callback asking to stop, ends every start.
    if (interrupted || res$status == "stopped") break
  }
  if (!is.null(progress)) progress(NULL, NULL)
  stopped_at <- length(res$loss)
  last_status <- res$status
  if (members > 1L && res$status == "diverged") kept <- res
  res <- kept
  # The fit's training time is that of every start or member.
  res$seconds <- seconds
  # The callback stopped the fit, whichever start is kept.
  if (last_status == "stopped") res$status <- "stopped"
  if (res$status == "diverged") {
    abort("Training diverged at epoch ", res$diverged_at, if (members > 1L)
            paste0(" of ensemble member ", s), ": the loss or the weights ",
          "stopped being finite. Try a smaller `lr` (it was ", spec$lr, ")",
          if (is.null(spec$scaling)) " or scale = TRUE" else "", ".",
          class = "backprop_diverged")
  }
  # (An interrupt in a later start keeps the best start so far, which may
  # be a completed one: the warning says so either way.)
  if (interrupted) {
    what <- if (members > 1L) "ensemble member" else "start"
    warning("Training was interrupted after epoch ", stopped_at,
            if (runs > 1L) paste0(" of ", what, " ", s, " of ", runs), "; returning ",
            if (members > 1L) paste0("the ", length(trained), " member", if (length(trained) > 1L) "s",
                                     " trained so far") else
              if (starts > 1L) "the network of the best start so far" else "the network as it was then",
            ".", call. = FALSE)
  }
  if (members > 1L && last_status == "stopped" && length(trained) < members) {
    warning("The callback stopped training in ensemble member ", length(trained), " of ",
            members, " (after its epoch ", stopped_at, "); returning the ", length(trained),
            " member", if (length(trained) > 1L) "s", " trained so far.", call. = FALSE)
  }
  ensemble <- NULL
  # An ensemble stopped within its first member is that one network.
  if (members > 1L && length(trained) < 2L) first$options$ensemble <- 1L
  if (members > 1L && length(trained) >= 2L) {
    if (length(trained) < members) first$options$ensemble <- length(trained)
    ensemble <- lapply(trained, function(r) list(weights = r$weights, biases = r$biases))
    # The ensemble's output on the training rows: the members' average.
    res$fitted <- Reduce(`+`, lapply(trained, `[[`, "fitted")) / length(trained)
    if (is.null(calibration) && length(bags) == length(trained) && spec$options$conformal == "auto" &&
        is.null(spec$val)) {
      calibration <- oob_calibration(first, trained, bags)
    }
  }
  fit_of(first, res, design, call,
         starts = if (starts > 1L) list(objective = objectives, kept = best %||% 1L),
         selection = selection, members = ensemble, calibration = calibration)
}

# How often each row of `x` is drawn in a bootstrap sample (from R's RNG).
# An input that varies on the rows of positive weight varies in every
# sample: a sample that drew one value only (a rare level's rows all
# missed) draws one more row, of another value, so that no member predicts
# it from weights no row trained.
bootstrap_counts <- function(x, weights = NULL, categories = NULL) {
  n <- nrow(x)
  counts <- tabulate(sample.int(n, n, replace = TRUE), n)
  pool <- if (is.null(weights)) seq_len(n) else which(weights > 0)
  for (untrained in untrained_values(x, categories, pool[counts[pool] > 0], pool)) {
    # (A row drawn for an earlier value may hold this one too.)
    if (any(counts[untrained$holders] > 0)) next
    pick <- untrained$holders[sample.int(length(untrained$holders), 1L)]
    counts[pick] <- counts[pick] + 1L
  }
  counts
}

# Categories (frame_categories()) of the rows `rows`.
subset_categories <- function(categories, rows) {
  if (!is.null(categories)) lapply(categories, function(level) level[rows])
}

# Training weights as the core takes them: gradient descent and
# Levenberg-Marquardt sum over rows and take the weights as they are, so
# that a weight of k is k copies of the row; the other optimizers average,
# over weights rescaled to mean 1. `counted_rows`, the weights' total before
# rescaling, is the rows the reported loss counts.
core_weights <- function(weights, optimizer) {
  if (is.null(weights)) return(list(weights = NULL, counted_rows = NULL))
  total <- sum(weights)
  if (optimizer != "gd" && optimizer != "lm") weights <- weights * (length(weights) / total)
  list(weights = weights, counted_rows = total)
}

# A spec with the training weights of one bootstrap sample: its weights (1
# when none) times the counts, as training_spec() gives weights to the core.
bootstrap_spec <- function(spec, counts) {
  core <- core_weights(counts * (spec$prior_train_weights %||% 1), spec$optimizer)
  spec$weights <- core$weights
  spec$counted_rows <- core$counted_rows
  spec
}

# The out-of-bag calibration of a bootstrap ensemble: each training row
# predicted by the members whose sample did not hold it (rows every member
# saw are left out).
oob_calibration <- function(spec, trained, bags) {
  total <- 0
  seen_by <- 0
  for (m in seq_along(trained)) {
    out <- bags[[m]] == 0
    total <- total + trained[[m]]$fitted * out
    seen_by <- seen_by + out
  }
  rows <- seen_by > 0
  raw <- total[rows, , drop = FALSE] / seen_by[rows]
  weights <- spec$prior_train_weights
  new_calibration("oob", "the out-of-bag rows", list(spec_fold(
    spec, raw, spec$y[rows, , drop = FALSE], if (!is.null(weights)) weights[rows])))
}

# Drawn starting weights with the first layer's weights of the inputs the
# scaling ignores (divided by Inf, see column_stats()) set to 0: their
# inputs are 0, so the loss never moves them, and the weights would show
# an effect that is none (in coef(), Garson's and Olden's importance) and
# take one if a continued fit learns the input.
without_ignored_inputs <- function(params, scaling) {
  ignored <- is.infinite(scaling$x$scale)
  if (any(ignored)) params$weights[[1L]][ignored, ] <- 0
  params
}

# The next start of a fit with restarts: new starting weights drawn by the
# fit's `init` from R's RNG, and a new seed for the minibatches' shuffle.
redraw_start <- function(spec) {
  spec$params <- without_ignored_inputs(draw_params(spec$init, spec$sizes, spec$bias, nrow(spec$x)),
                                        spec$scaling)
  if (spec$seed != 0) spec$seed <- as.numeric(sample.int(.Machine$integer.max, 1L))
  spec
}

# The best of a spec's restarts, trained quietly (no progress, callback or
# ensemble): the result with the lowest penalized training objective.
best_start <- function(spec) {
  best <- NULL
  for (s in seq_len(spec$options$restarts)) {
    if (s > 1L) spec <- redraw_start(spec)
    res <- train_spec(spec)
    if (res$status == "interrupted") return(res)
    if (res$status == "diverged") {
      if (is.null(best)) best <- res
      next
    }
    res$objective <- start_objective(spec, res)
    if (is.null(best) || best$status == "diverged" || res$objective < best$objective) best <- res
  }
  best
}

# The penalized training objective of a trained start, as its optimizer
# minimises it (the core's minimised_objective_(): the mean loss over the
# training rows plus the weight penalty; the sum for "gd"; Levenberg-
# Marquardt's own), so that restarts keep the start it would choose.
start_objective <- function(spec, res) {
  minimised_objective_(spec$x, spec$y, spec, list(weights = res$weights, biases = res$biases))
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
