# The training options: one row each in `option_table`, which holds its
# default (mlp_train()'s, the article's), its check, what it applies to, its
# field in the Rust spec and its printed label. The argument checks, the
# defaults of mlp_train() and backprop(), summary()'s text and the error
# messages all derive from the table. An option given as NULL is an option
# not given: it takes its default, or the value the other options imply.

# The vocabulary (the activations, losses, optimizers, schedules and starts,
# their defaults and which of them combine) is the Rust core's: .onLoad()
# fills `vocabulary` from vocabulary_(), so that a new optimizer, loss or
# activation is written in Rust alone. Its entries:
# hidden_activations, output_activations, loss_functions, optimizers,
# minibatch_optimizers, first_order_optimizers, default_lr (named by
# optimizer), init_methods, lr_schedules, start (the start suited to each
# hidden activation), loss_outputs and loss_parameter (by loss),
# optimizer_losses and optimizer_outputs (by optimizer).
vocabulary <- new.env(parent = emptyenv())

load_vocabulary <- function() {
  v <- vocabulary_()
  act <- v$activations
  loss <- v$losses
  opt <- v$optimizers
  named <- function(values, names) stats::setNames(values, names)
  list2env(list(
    hidden_activations = act$name[act$hidden],
    output_activations = act$name[act$output],
    start = named(act$start, act$name),
    loss_functions = loss$name,
    loss_outputs = named(loss$outputs, loss$name),
    loss_parameter = named(loss$parameter, loss$name),
    optimizers = opt$name,
    minibatch_optimizers = opt$name[opt$minibatch],
    first_order_optimizers = opt$name[opt$first_order],
    default_lr = named(opt$lr, opt$name),
    optimizer_losses = named(opt$losses, opt$name),
    optimizer_outputs = named(opt$outputs, opt$name),
    lr_schedules = v$schedules,
    init_methods = v$starts
  ), envir = vocabulary)
  # The options whose defaults are the core's constants (sgd's momentum,
  # the losses' parameters).
  for (name in names(v$defaults)) {
    option_table[[name]]$default <<- v$defaults[[name]]
    option_defaults[[name]] <<- v$defaults[[name]]
  }
  invisible(vocabulary)
}

# "\"a\", \"b\" or \"c\"", for messages.
quoted_or <- function(x) {
  x <- paste0('"', x, '"')
  if (length(x) < 2L) return(x)
  paste(paste(x[-length(x)], collapse = ", "), "or", x[length(x)])
}

# One row of the table. `check(value, arg)` returns the value normalized or
# calls abort(); `applies(options)` returns NULL when the option applies to
# the resolved options, else the sentence that says what it needs; `field`
# is the Rust spec's field that takes the resolved value as it is (NULL: the
# core reads it transformed, see option_fields(), or not at all); `label`
# names it in print() and summary() (NULL: never listed there); `neutral`
# says that the default asks for nothing (`dropout = 0`, `precision =
# "double"`), so that given where it does not apply it is no error. A
# default that is a setting (sgd's `momentum`, a quantile's `tau`) is one.
# `continues` says what a continued fit (`init = fit`) keeps the option
# with (see kept_training()): "optimizer", its optimizer's settings, kept
# with the optimizer; "objective", the penalties and weights of the loss.
option_row <- function(default, check, applies = NULL, field = NULL, label = NULL, neutral = FALSE,
                       continues = NULL) {
  list(default = default, check = check, applies = applies, field = field, label = label,
       neutral = neutral, continues = continues)
}

# `applies` of options that need one of a kind of optimizers: `kind` names
# the vocabulary's list of them, `what` says what kind in the message.
for_optimizers <- function(kind, what) {
  force(kind)
  force(what)
  function(name, o) {
    allowed <- vocabulary[[kind]]
    if (o$optimizer %in% allowed) return(NULL)
    paste0("`", name, "` needs ", what, " `optimizer` (", quoted_or(allowed), "); `optimizer = \"",
           o$optimizer, "\"` ",
           if (o$optimizer %in% vocabulary$first_order_optimizers) "does not use it." else "takes its own steps.")
  }
}
first_order_only <- for_optimizers("first_order_optimizers", "a first-order")
for_sgd <- function(name, o) {
  if (o$optimizer != "sgd") {
    paste0("`", name, "` needs `optimizer = \"sgd\"`; `optimizer = \"", o$optimizer, "\"` ",
           if (o$optimizer %in% vocabulary$first_order_optimizers) "does not use it." else "takes its own steps.")
  }
}
for_loss <- function(loss) {
  function(name, o) {
    if (identical(o$loss, loss)) return(NULL)
    paste0("`", name, "` applies to `loss = \"", loss, "\"`; this fit's loss is \"", o$loss, "\".")
  }
}

check_flag <- function(x, arg) {
  if (!is.logical(x) || length(x) != 1L || is.na(x)) {
    abort("`", arg, "` must be TRUE or FALSE, not ", show_value(x), ".")
  }
  x
}
# A quantile level in (0, 1), or a pair c(a, 1 - a) of levels below and
# above the median: the lower and upper bounds of a quantile band.
check_tau <- function(x, arg) {
  if (is.numeric(x) && length(x) == 2L && !anyNA(x) && all(x > 0 & x < 1) && x[1L] < x[2L] &&
      abs(x[1L] + x[2L] - 1) < 1e-9) {
    return(as.double(x))
  }
  if (!is.numeric(x) || length(x) != 1L) {
    abort("`", arg, "` must be one level in (0, 1), or a pair c(a, 1 - a) with a < 0.5 for ",
          "the bounds of a quantile band (such as c(0.05, 0.95)), not ", show_value(x), ".")
  }
  check_number(x, arg, lower = 0, upper = 1)
}
choice_of <- function(choices) {
  force(choices)
  function(x, arg) check_choice(x, choices, arg)
}
# A check of one of the vocabulary's names, `kind` naming its list.
vocabulary_choice <- function(kind) {
  force(kind)
  function(x, arg) check_choice(x, vocabulary[[kind]], arg)
}
check_rates <- function(x, arg) {
  if (!is.numeric(x) || length(x) < 1L || anyNA(x) || any(x < 0) || any(x >= 1)) {
    abort("`", arg, "` must be a rate in [0, 1), once or once per hidden layer; not ",
          show_value(x), ".")
  }
  as.double(x)
}
check_activation_names <- function(x, arg) {
  if (!is.character(x) || length(x) < 1L || anyNA(x) || !all(x %in% vocabulary$hidden_activations)) {
    abort("`activation` must be one of ", paste0('"', vocabulary$hidden_activations, '"', collapse = ", "),
          ", given once or once per hidden layer; not ", show_value(x), ".")
  }
  x
}
check_schedule <- function(x, arg) {
  if (is.function(x)) return(x)
  if (!is.character(x) || length(x) != 1L || is.na(x) || !(x %in% vocabulary$lr_schedules)) {
    abort("`lr_schedule` must be one of ", paste0('"', vocabulary$lr_schedules, '"', collapse = ", "),
          " or a function of the epoch returning the learning rate's multiplier; not ",
          show_value(x), ".")
  }
  x
}

# Whether `validation` gives rows (a list or data frame) rather than a
# fraction of the training rows. (Anything else is neither, and its own
# check says so.)
given_validation_rows <- function(validation) is.list(validation)

check_class_weights <- function(x, arg) {
  if (identical(x, "balanced")) return(x)
  if (!(is.numeric(x) && !is.null(names(x)) && is.null(dim(x)))) {
    abort("`class_weights` must be NULL, \"balanced\" or a named numeric vector ",
          "(one weight per class); not ", show_value(x), ".")
  }
  if (anyDuplicated(names(x))) {
    abort("`class_weights` must name each class once; \"", names(x)[anyDuplicated(names(x))],
          "\" is named twice.")
  }
  if (anyNA(x) || any(!is.finite(x)) || any(x < 0)) {
    abort("`class_weights` must be finite and non-negative.")
  }
  x
}
check_callback <- function(x, arg) {
  if (!is.function(x)) {
    abort("`callback` must be NULL or a function(epoch, loss, val_loss, weights); not ",
          show_value(x), ".")
  }
  x
}
check_validation_arg <- function(x, arg) {
  ok <- (is.numeric(x) && length(x) == 1L) || is.data.frame(x) ||
    (is.list(x) && all(c("x", "y") %in% names(x)))
  if (!ok) {
    abort("`validation` must be NULL, a fraction in (0, 1), list(x =, y =) or (for the ",
          "formula and recipe interfaces) a data frame holding the response; not ",
          show_value(x), ".")
  }
  if (is.numeric(x)) check_number(x, "validation", lower = 0, upper = 1)
  x
}
check_init_arg <- function(x, arg) {
  if (is.character(x) && length(x) == 1L && !is.na(x)) return(check_choice(x, vocabulary$init_methods, "init"))
  if (is.list(x)) return(x)
  abort("`init` must be one of ", paste0('"', vocabulary$init_methods, '"', collapse = ", "), ", a list ",
        "of starting matrices or a previous fit; not ", show_value(x), ".")
}

option_table <- list(
  hidden = option_row(3, function(x, arg) check_hidden(x)),
  epochs = option_row(5000, function(x, arg) check_count(x, arg), field = "epochs"),
  lr = option_row(NULL, function(x, arg) check_number(x, arg, lower = 0),
                  applies = first_order_only, field = "lr", continues = "optimizer"),
  bias = option_row("column", choice_of(c("column", "row"))),
  init = option_row(NULL, check_init_arg),
  activation = option_row("sigmoid", check_activation_names),
  output = option_row(NULL, vocabulary_choice("output_activations"), field = "output"),
  loss = option_row(NULL, vocabulary_choice("loss_functions"), field = "loss"),
  optimizer = option_row("gd", vocabulary_choice("optimizers"), field = "optimizer",
                         continues = "optimizer"),
  batch_size = option_row(NULL, function(x, arg) check_count(x, arg, min = 1),
                          applies = for_optimizers("minibatch_optimizers", "a minibatch"),
                          continues = "optimizer"),
  # The default is sgd's, set from the vocabulary when the package loads.
  momentum = option_row(NULL, function(x, arg) {
    x <- check_number(x, arg, lower = 0, upper = 1, open = FALSE)
    if (x == 1) abort("`momentum` must be below 1, not 1.")
    x
  }, applies = for_sgd, label = "momentum", field = "momentum", continues = "optimizer"),
  nesterov = option_row(FALSE, check_flag, applies = for_sgd,
                        label = "nesterov", field = "nesterov", neutral = TRUE, continues = "optimizer"),
  weight_decay = option_row(0, function(x, arg) check_number(x, arg, lower = 0, open = FALSE),
                            label = "weight decay", field = "weight_decay", continues = "objective"),
  restarts = option_row(1, function(x, arg) check_count(x, arg, min = 1), applies = function(name, o) {
    if (!is.character(o$init)) {
      "`restarts` needs starting weights drawn by `init` (a name), not given ones."
    }
  }, label = "restarts", neutral = TRUE),
  ensemble = option_row(1, function(x, arg) check_count(x, arg, min = 1), applies = function(name, o) {
    if (!is.character(o$init)) {
      "`ensemble` needs starting weights drawn by `init` (a name), not given ones."
    } else if (o$restarts > 1) {
      "`ensemble` and `restarts` do not combine: each member is one start. Give one of them."
    } else if (o$bias == "row") {
      "`ensemble` needs `bias = \"column\"`: per-row biases belong to one network."
    }
  }, label = "ensemble of", neutral = TRUE),
  bootstrap = option_row(FALSE, check_flag, applies = function(name, o) {
    if (o$ensemble < 2) "`bootstrap` trains an ensemble's members on bootstrap samples: give `ensemble` of 2 or more."
  }, label = "bootstrap samples", neutral = TRUE),
  conformal = option_row("auto", choice_of(conformal_methods), applies = function(name, o) {
    # ("none", as the default, asks for nothing.)
    if (o$conformal == "none") {
      NULL
    } else if (o$bias == "row") {
      "`conformal` needs `bias = \"column\"`: per-row biases predict no held-out rows."
    } else if (o$conformal == "split" && is.null(o$validation)) {
      "`conformal = \"split\"` calibrates on the validation rows: give `validation` too."
    } else if (any(o$conformal == c("cv", "cv+")) && inherits(o$init, "mlp_fit")) {
      # Each refit would start from the given fit, which was trained on the
      # rows the refit holds out: their residuals would be those of fitted
      # rows, and the intervals far too narrow.
      paste0("`conformal = \"", o$conformal, "\"` refits the network without each fold's rows, ",
             "but `init` is a fit that may have been trained on them. Fit with `conformal = \"",
             o$conformal, "\"` from ",
             "a drawn start (without `init`), or calibrate on `validation` rows that `init` ",
             "was not trained on.")
    }
  }, label = "conformal", neutral = TRUE),
  conformal_folds = option_row(5, function(x, arg) check_count(x, arg, min = 2), applies = function(name, o) {
    if (o$conformal != "cv" && o$conformal != "cv+") {
      "`conformal_folds` applies to `conformal = \"cv\"` and `\"cv+\"`."
    }
  }, label = "conformal folds"),
  validation = option_row(NULL, check_validation_arg),
  patience = option_row(NULL, function(x, arg) check_count(x, arg, min = 1), applies = function(name, o) {
    if (is.null(o$validation)) "`patience` needs `validation`: early stopping watches the validation loss."
  }, field = "patience"),
  scale = option_row(FALSE, check_flag),
  dropout = option_row(0, check_rates, applies = first_order_only, label = "dropout", neutral = TRUE,
                       continues = "optimizer"),
  l1 = option_row(0, function(x, arg) check_number(x, arg, lower = 0, open = FALSE),
                  applies = function(name, o) {
                    if (o$optimizer == "lm") {
                      paste0("`l1` cannot be used with `optimizer = \"lm\"`, which minimises squared errors ",
                             "with an L2 penalty only; use \"lbfgs\" or \"adam\".")
                    }
                  }, field = "l1", label = "l1", neutral = TRUE, continues = "objective"),
  lr_schedule = option_row("constant", check_schedule, applies = first_order_only, label = "lr schedule",
                           neutral = TRUE, continues = "optimizer"),
  clip_norm = option_row(NULL, function(x, arg) check_number(x, arg, lower = 0),
                         applies = first_order_only,
                         label = "gradient norm clipped to", field = "clip_norm",
                         continues = "optimizer"),
  class_weights = option_row(NULL, check_class_weights, applies = function(name, o) {
    if (!o$classification) "`class_weights` applies to classification (a factor response); this response is numeric."
  }, label = "class weights", continues = "objective"),
  # The losses' parameters: their defaults are the core's, set when the
  # package loads (as momentum's).
  huber_delta = option_row(NULL, function(x, arg) check_number(x, arg, lower = 0),
                           applies = for_loss("huber"), label = "huber delta"),
  tau = option_row(NULL, check_tau, applies = for_loss("quantile"), label = "quantile"),
  callback = option_row(NULL, check_callback, field = "callback"),
  callback_every = option_row(1, function(x, arg) check_count(x, arg, min = 1), applies = function(name, o) {
    if (is.null(o$callback)) "`callback_every` says how often `callback` is called: give `callback` too."
  }, field = "callback_every"),
  threads = option_row(NULL, function(x, arg) check_count(x, arg, min = 1), field = "threads"),
  precision = option_row("double", choice_of(c("double", "single")), applies = function(name, o) {
    if (!(o$optimizer %in% vocabulary$first_order_optimizers)) {
      paste0("`precision = \"single\"` applies to the first-order optimizers; `optimizer = \"",
             o$optimizer, "\"` trains in double precision.")
    }
  }, label = "precision", field = "precision", neutral = TRUE, continues = "optimizer"),
  verbose = option_row(NULL, check_flag, field = "verbose")
)

# The table's functions are made when the package is installed, before R
# compiles its functions, and so are not compiled with them: compiled here,
# or the JIT would compile them in the first fit of every session.
#' @importFrom compiler cmpfun
option_table <- lapply(option_table, function(row) {
  for (f in c("check", "applies")) {
    if (is.function(row[[f]])) row[[f]] <- cmpfun(row[[f]])
  }
  row
})

option_names <- names(option_table)
option_defaults <- lapply(option_table, `[[`, "default")
# Which options apply only to some fits (those with an `applies` rule).
option_applies <- !vapply(lapply(option_table, `[[`, "applies"), is.null, NA)
# What a continued fit keeps each option with ("" for neither).
option_continues <- vapply(option_table, function(row) if (is.null(row$continues)) "" else row$continues, "")
# The Rust spec's fields that take an option as it is, named by option.
option_spec_fields <- unlist(lapply(option_table, `[[`, "field"))
option_spec_renamed <- !identical(names(option_spec_fields), unname(option_spec_fields))

# The options given (a named list; NULL entries are not given), checked one
# by one. An unknown name is an error naming it; `fun` and `hint` say whose
# arguments they are.
check_given <- function(given, fun = "mlp_train()", hint = "see ?mlp_train for its arguments") {
  nm <- names(given)
  if (length(given) && (is.null(nm) || !all(nzchar(nm)))) {
    abort(fun, " got an unnamed argument it does not know; ", hint, ".")
  }
  # R matches a repeated name to its first value and drops the others
  # unseen: a wrapper's own argument and the same option passed through
  # its `...` (parsnip's set_engine(), caret's train()) meet here.
  if (anyDuplicated(nm)) {
    abort(fun, " got `", nm[anyDuplicated(nm)], "` twice; give it once.")
  }
  # A loop over the few names given: cheaper than vectorized calls such as
  # vapply(), which call a function per element.
  checked <- list()
  for (name in nm) {
    row <- option_table[[name]]
    if (is.null(row)) abort(fun, " got `", name, "` it does not know; ", hint, ".")
    value <- given[[name]]
    if (!is.null(value)) checked[[name]] <- row[["check"]](value, name)
  }
  checked
}

# The options of a fit: the defaults (the table's, overridden by `defaults`,
# e.g. backprop()'s rule or a continued fit's architecture) under the given
# ones, then those implied by others: the learning rate by the optimizer,
# the start by the activation, output and loss by the response.
resolve_options <- function(given, defaults = NULL, classification = FALSE) {
  o <- option_defaults
  if (length(defaults)) o[names(defaults)] <- defaults
  if (length(given)) o[names(given)] <- given
  # The implied ones. (A given `threads` was checked with the other options.
  # Plain ifs rather than %||%: this runs on every fit, and each closure
  # call costs.)
  o[["classification"]] <- classification
  if (is.null(o[["loss"]])) o[["loss"]] <- if (classification) "cross_entropy" else "sse"
  if (is.null(o[["output"]])) {
    o[["output"]] <- if (o[["loss"]] == "poisson") "exp" else if (classification) "softmax" else "sigmoid"
  }
  if (is.null(o[["lr"]])) o[["lr"]] <- vocabulary$default_lr[[o[["optimizer"]]]]
  if (is.null(o[["init"]])) o[["init"]] <- default_init(o[["activation"]])
  if (is.null(o[["verbose"]])) o[["verbose"]] <- interactive()
  threads <- o[["threads"]]
  o[["threads"]] <- if (is.null(threads)) resolve_threads(NULL) else cap_threads(threads)
  refuse_inapplicable(given, o)
  o
}

# An option set (`values`: given, or with `kept` kept from a continued fit)
# that does not apply to the resolved options `o` is an error, never
# silently dropped, unless its value asks for nothing (`dropout = 0`; not
# `momentum = 0.9`, which is a setting).
refuse_inapplicable <- function(values, o, kept = FALSE) {
  for (name in names(values)[option_applies[names(values)]]) {
    row <- option_table[[name]]
    if (row[["neutral"]] && identical(values[[name]], row[["default"]])) next
    why <- row[["applies"]](name, o)
    if (!is.null(why)) {
      abort(why, if (kept) paste0(" (`", name, "` is kept from `init`; give it to change it.)"))
    }
  }
}

# The fit's options that differ from their defaults, as print() and
# summary() list them ("dropout 0.2", "weight decay 0.01").
training_summary <- function(options) {
  out <- character()
  for (name in option_names) {
    label <- option_table[[name]]$label
    value <- options[[name]]
    if (is.null(label) || is.null(value)) next
    if (!is.null(option_table[[name]]$applies) && !is.null(option_table[[name]]$applies(name, options))) next
    if (identical(value, option_table[[name]]$default)) next
    if (name == "dropout" && all(value == 0)) next
    text <- if (is.function(value)) "function" else
      if (is.numeric(value) && !is.null(names(value))) paste0(names(value), "=", format(value), collapse = " ")
      else if (identical(value, TRUE)) "" else paste(format(value), collapse = "/")
    out <- c(out, trimws(paste(label, text)))
  }
  out
}

# The spec's fields of the options: those the Rust core reads as they are
# (`field` in the table), and those it reads transformed: dropout once per
# hidden layer (`layers`), the schedule's name and its factors, and the
# loss's parameter.
option_fields <- function(o, layers) {
  fields <- o[names(option_spec_fields)]
  if (option_spec_renamed) names(fields) <- option_spec_fields
  dropout <- o$dropout
  if (length(dropout) != layers) {
    if (length(dropout) != 1L && layers > 0L) {
      abort("`dropout` must be given once or once per hidden layer (", layers, "), not ",
            length(dropout), " times.")
    }
    dropout <- rep_len(dropout, layers)
  }
  schedule <- o$lr_schedule
  factors <- NULL
  if (is.function(schedule)) {
    factors <- vapply(seq_len(o$epochs), function(e) {
      f <- schedule(e)
      if (!is.numeric(f) || length(f) != 1L || is.na(f) || !is.finite(f) || f < 0) {
        abort("`lr_schedule` must return one finite non-negative number per epoch; at epoch ",
              e, " it returned ", show_value(f), ".")
      }
      as.double(f)
    }, numeric(1))
    schedule <- "function"
  }
  # The option holding the loss's parameter (huber_delta, tau), if any. A
  # band's lower bound is the upper one of the negated response (see
  # band_target()), so a band's taus send the upper one.
  param <- o[[vocabulary$loss_parameter[[o$loss]]]]
  c(fields, list(dropout = dropout, lr_schedule = schedule, lr_factors = factors,
                 loss_param = if (is.null(param)) 0 else param[length(param)]))
}

# Observation weights times the weight of each row's class; NULL when
# neither is given. (`per_class`: class_factors(), when the caller has it.)
class_row_weights <- function(class_weights, target, weights,
                              per_class = class_factors(class_weights, target, weights)) {
  if (is.null(class_weights)) return(weights)
  row_weights <- per_class[class_index(target$y)]
  if (!is.null(weights)) {
    if (length(weights) != length(row_weights)) return(weights) # check_weights() reports it
    row_weights <- row_weights * weights
  }
  row_weights
}

# The weight of each class (in the order of target$levels) that
# `class_weights` gives: named, or "balanced" over the target's rows
# counted as the observation `weights` count them.
class_factors <- function(class_weights, target, weights) {
  levels <- target$levels
  class <- class_index(target$y)
  if (identical(class_weights, "balanced")) {
    # Rows counted as the weights count them: a weight of k is k rows.
    counts <- if (is.null(weights) || length(weights) != length(class)) {
      tabulate(class, length(levels))
    } else {
      vapply(seq_along(levels), function(k) sum(weights[class == k]), numeric(1))
    }
    per_class <- ifelse(counts > 0, sum(counts) / (length(levels) * counts), 0)
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
    per_class <- as.double(class_weights[levels])
  }
  per_class
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
