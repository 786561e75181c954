#' Fit a neural network to real data, with defaults that adapt to it
#'
#' `backprop()` is the package's modelling function, as [nnet::nnet()] is
#' nnet's: the same network and arguments as [mlp_train()], with defaults
#' chosen so that a first fit on real data is good without tuning. Give it a
#' formula and a data frame, `x` and `y`, or a `recipes::recipe()` and its
#' data; it returns an `mlp_fit`, used with `predict()`, `fitted()`,
#' `summary()`, `plot()` and the other methods of [mlp_train()]'s fits.
#'
#' @section What backprop() does by default:
#' * **Inputs** are standardized (mean 0, standard deviation 1, the
#'   deviation dividing by the rows' total weight, not by n - 1; rows
#'   weighted by their observation and class weights), with the
#'   training statistics kept in the fit and applied by `predict()`. Factor
#'   and character predictors are dummy-coded with the training levels.
#' * **A numeric response** (or several, `cbind(a, b) ~ .`) is standardized
#'   too and fitted by a linear output with the mean squared error;
#'   predictions are in the response's units.
#' * **A factor or logical response** is a classification: a softmax output
#'   and the cross-entropy; `predict(type = "class")` gives the class (with
#'   the factor's levels, every one of them, ordered if the factor is) and
#'   `type = "prob"` the probabilities.
#' * **The shape of the data decides the network and its training.** The
#'   hidden layer has `r rule_constants$units_per_class` tanh units per
#'   class, and at least `r rule_constants$units`. Then, by the work a pass
#'   over the data costs:
#'   - data with at most
#'     `r format(rule_constants$lbfgs_rows, big.mark = ",")` rows whose rows
#'     times parameters stay below
#'     `r format(rule_constants$lbfgs_work, scientific = TRUE)` (and any
#'     numeric response whose network is small for its rows, see below) are
#'     fitted full batch by L-BFGS, a second-order method, for up to
#'     `r rule_constants$lbfgs_epochs` iterations, with a weight decay
#'     selected among `r paste(rule_constants$decays, collapse = ", ")`
#'     (on the mean loss; `r rule_constants$decay` without selection);
#'   - larger data get `r rule_constants$adam_units` relu units (or the
#'     units per class, if more), trained by Adam (learning rate
#'     `r rule_constants$adam_lr`, minibatches of
#'     `r rule_constants$adam_batch` rows, weight decay
#'     `r format(rule_constants$adam_decay)`, in single precision, whose
#'     matrix products run about twice as fast) for up to
#'     `r rule_constants$adam_epochs` epochs, holding out
#'     `r rule_constants$adam_validation * 100` in 100 of the rows for early
#'     stopping (patience `r rule_constants$adam_patience` epochs): the
#'     weights of the epoch with the lowest validation loss are returned.
#'
#'   Second-order methods win on small data (the NNbenchmark study); Adam
#'   reaches a good network in less work once a full pass over the data is
#'   expensive.
#' * **A numeric response on a small network** (rows times squared
#'   parameters at most
#'   `r format(rule_constants$lm_work, scientific = TRUE)`) has
#'   `r 1 + length(rule_constants$lm_lbfgs_decays)` candidates:
#'   Levenberg-Marquardt with the weak decay
#'   `r format(rule_constants$lm_decay)`, for as many steps as a fixed
#'   amount of work allows (between `r rule_constants$lm_epochs[1]` and
#'   `r rule_constants$lm_epochs[2]`), which follows smooth functions with
#'   little noise closely, and L-BFGS with the decays
#'   `r paste(rule_constants$lm_lbfgs_decays, collapse = ", ")`, which win
#'   on noisy data. Selection (below) tells which the data are. (With more
#'   than `r format(rule_constants$lbfgs_rows, big.mark = ",")` rows, so
#'   many per parameter that noise averages out, LM alone.) A given
#'   `weight_decay` (a `penalty` of parsnip, a `decay` of caret) is on the
#'   mean loss, where LM's is on the summed squared errors: it leaves LM
#'   out of the candidates, so that a grid of decays is on one scale
#'   (LM alone on many rows takes it against the summed squares).
#' * **Restarts.** With at most `r rule_constants$restart_rows` rows, LM and
#'   L-BFGS train from `r rule_constants$restarts` starts and keep the one
#'   with the lowest penalized training objective, which escapes the poor
#'   local minima small networks fall into.
#' * **Starting weights** are scaled to the activation: Glorot's uniform
#'   start (`"xavier"`) for tanh units, He's normal start for relu-like
#'   units.
#' * **`dropout` or `lr` without an `optimizer`.** L-BFGS and
#'   Levenberg-Marquardt take neither, so where the rule trains by one of
#'   them a given `dropout` or `lr` (any value, 0 too, so that the models of
#'   a tuning grid are all trained alike) switches the rule's network to
#'   Adam with the settings of larger data above (learning rate, batch,
#'   epochs, early stopping on `r rule_constants$adam_validation * 100` in
#'   100 of the rows, single precision); the weight decay is still
#'   selected among the rule's candidates, on those validation rows (where
#'   the rule compares none, as for Levenberg-Marquardt alone on many rows,
#'   it is Adam's, `r rule_constants$adam_decay`). A message (of class
#'   `backprop_first_order`) says so once per session; give `optimizer` to
#'   choose one yourself.
#' * **A first-order `optimizer` given** (`"adam"`, `"sgd"`, ...) where the
#'   rule trains by L-BFGS or Levenberg-Marquardt trains at least the
#'   epochs of larger data above (`r rule_constants$adam_epochs`), with
#'   Adam's weight decay where the rule compares none; its learning rate
#'   and batch size are its own defaults (see [mlp_train()]). `"lbfgs"`
#'   given where the rule trains by LM alone takes its own
#'   `r rule_constants$lbfgs_epochs` iterations and the decay without
#'   selection, `r rule_constants$decay`.
#' * Every argument given explicitly overrides its default and is removed
#'   from the selection; the others keep the rule's choice.
#'   [backprop_defaults()] shows the choice and the candidates for a data
#'   shape (rows, inputs, classes).
#'
#' The rule's constants were chosen on a corpus of 48 public data sets and
#' judged leave-one-dataset-out (the constants chosen without the data set
#' they are scored on); the package's `bench/` folder has the scripts and
#' the figures.
#'
#' @section Selection:
#' When the rule has several candidates and `select = TRUE`, backprop()
#' judges each by its loss per row, as the fit reports it (the
#' cross-entropy, the mean squared error of the standardized response, or
#' the loss given, without the penalty) on rows it was not
#' trained on: by `r rule_constants$cv_folds`-fold cross-validation with
#' at most `r rule_constants$cv_rows` rows, otherwise on one held-out part of
#' `r rule_constants$holdout * 100` in 100 rows. The search trains on at
#' most `r format(rule_constants$search_rows, big.mark = ",")` rows (a
#' random sample of larger data), so its cost is a few fits of that size
#' whatever the data; the winner is then refitted on every row. Given
#' `validation` rows judge the candidates instead: each trains on every
#' training row and stops early on them (with `patience`), and the winner
#' is kept as fitted (refitted only to honour a given `callback` or
#' `restarts`). Observation and class weights weigh the held-out rows as
#' they weigh the training rows. There is no search with fewer than
#' `r rule_constants$select_rows` rows of positive weight, with given
#' starting weights, with `bias = "row"` or with `epochs = 0`. Every
#' candidate starts from the same state of R's random number generator, so
#' `set.seed()` makes the whole search, and the fit, the same for any
#' `threads`. The progress bar (`verbose = TRUE`) shows the candidates;
#' `print()` names the method and `summary()` lists the candidates with
#' their scores; `fit$selection` holds them. `select = FALSE` switches the
#' search off.
#'
#' @param x A data frame or matrix of predictors, or a `recipes::recipe()`.
#' @param formula A formula such as `y ~ .` or `y ~ x1 + log(x2)`.
#' @param data A data frame: the variables of the formula, or the data of
#'   the recipe.
#' @param y For the x/y interface: the response, a numeric vector or
#'   matrix, a factor or a logical vector, one row per row of `x`.
#' @param weights,subset,na.action As in [mlp_train()] (`weights` for every
#'   interface, `subset` and `na.action` for the formula).
#' @param select If `TRUE` (the default), compare the rule's candidate
#'   settings (see "Selection") and fit the best; `FALSE` fits the rule's
#'   settings for the data's shape without comparing.
#' @param ... Arguments of [mlp_train()], with its meanings: `hidden`,
#'   `epochs`, `lr`, `activation`, `optimizer`, `batch_size`,
#'   `weight_decay`, `validation`, `patience`, `init`, `restarts` (each
#'   left out, or `NULL`, takes the rule's choice above); `scale` (default `TRUE`:
#'   standardize the inputs and a numeric response); `output`, `loss`,
#'   `momentum`, `nesterov`, `threads`, `precision`, `verbose`, and the
#'   training options `dropout`, `l1`, `lr_schedule`, `clip_norm`,
#'   `class_weights`, `huber_delta`, `tau`, `callback` and
#'   `callback_every`. An unknown argument is an error.
#' @return An `mlp_fit` (see [mlp_train()]) whose `call` re-evaluates with
#'   [stats::update()].
#' @seealso [mlp_train()] for the article's network and defaults,
#'   [predict.mlp_fit()].
#' @examples
#' # Classification
#' set.seed(1)
#' idx <- sample(nrow(iris), 100)
#' fit <- backprop(Species ~ ., iris[idx, ], threads = 1)
#' fit
#' mean(predict(fit, iris[-idx, ], type = "class") == iris$Species[-idx])
#'
#' # Regression: predictions in miles per gallon
#' fit <- backprop(mpg ~ ., mtcars, threads = 1)
#' head(cbind(observed = mtcars$mpg, fitted = fitted(fit)[, 1]))
#' @export
backprop <- function(x, ...) {
  UseMethod("backprop")
}

#' @rdname backprop
#' @export
backprop.formula <- function(formula, data, weights, subset, na.action = stats::na.omit,
                             select = TRUE, ...) {
  if (missing(data) || !is.data.frame(data)) {
    abort("`data` must be a data frame holding the variables of the formula.")
  }
  given <- check_given(list(...), "backprop()", "see ?backprop for its arguments")
  design <- mold_formula(match.call(), "formula", parent.frame(), given$init)
  design$interface <- "formula"
  backprop_fit(design, given, call_as(match.call(), "backprop"), select)
}

#' @rdname backprop
#' @export
backprop.default <- function(x, y, weights = NULL, select = TRUE, ...) {
  given <- check_given(list(...), "backprop()", "see ?backprop for its arguments")
  if (missing(y)) abort("`y` is missing: give the response, one row per row of `x`.")
  molded <- mold_xy(x, "x", given$threads, given$init)
  design <- list(x = molded$x, y = y, weights = weights, blueprint = molded$blueprint,
                 extent = molded$extent, categories = molded$categories, interface = "xy")
  backprop_fit(design, given, call_as(match.call(), "backprop"), select)
}

#' @rdname backprop
#' @export
backprop.recipe <- function(x, data, weights = NULL, select = TRUE, ...) {
  given <- check_given(list(...), "backprop()", "see ?backprop for its arguments")
  design <- continued_recipe(x, data, weights, given$init) %||% mold_recipe(x, data, weights)
  design$interface <- "recipe"
  backprop_fit(design, given, call_as(match.call(), "backprop"), select)
}

# The rule's constants (see "What backprop() does by default"), kept here
# once: backprop_defaults() and the documentation read them. bench/rule.R
# chooses them by leave-one-dataset-out on the corpus of bench/data.
rule_constants <- list(
  units = 10,              # the smallest hidden layer
  units_per_class = 3,     # and at least this many hidden units per class
  lm_work = 2e8,           # a Levenberg-Marquardt candidate for a numeric response
                           #   while rows x parameters^2 (its work per step) stays below this,
  lm_decay = 1e-5,         #   with this weight decay
  lm_budget = 2.6e9,       #   and as many steps as this work allows, within
  lm_epochs = c(20, 100),  #   these bounds,
  lm_lbfgs_decays = c(1e-3, 1e-2, 1e-1), # against L-BFGS with these decays
  lbfgs_work = 5e6,        # L-BFGS while rows x parameters stays below this
  lbfgs_rows = 10000,      #   and the rows below this
  lbfgs_epochs = 300,
  decays = c(1e-5, 1e-2, 1e-1), # the candidates' weight decays
  decay = 0.01,            # the decay without selection
  restart_rows = 1000,     # restarts of LM and L-BFGS up to this many rows
  restarts = 3,
  cv_rows = 300,           # cross-validation up to this many rows, one held-out part beyond
  cv_folds = 3,
  holdout = 0.25,
  search_rows = 4000,      # the search fits at most this many rows,
  select_rows = 10,        #   and needs at least this many (of positive weight)
  adam_units = 100,
  adam_batch = 512,
  adam_lr = 0.002,
  adam_epochs = 200,
  adam_decay = 1e-4,
  adam_validation = 0.1,
  adam_patience = 10,
  adam_precision = "single"
)

#' The settings backprop() chooses for a data shape
#'
#' Shows [backprop()]'s rule (see "What backprop() does by default" there)
#' for data of a given shape: the settings it uses when selection is off or
#' decided, and the candidates it compares otherwise.
#'
#' @param rows Training rows.
#' @param inputs Input columns, after factors are coded as dummy columns.
#' @param classes Classes of a factor response; 0 for a numeric one.
#' @return A named list of [mlp_train()] arguments (`hidden`, `activation`,
#'   `optimizer`, `epochs`, `lr`, `batch_size`, `weight_decay`,
#'   `validation`, `patience`, `init`, `restarts`, and for Adam
#'   `precision`), then `candidates`: a
#'   list of the settings selection compares (each a list of arguments that
#'   replace the ones above), and `selection`: how it judges them (`folds`,
#'   the folds of cross-validation, 1 for one held-out part; `holdout`, that
#'   part's share of the rows; `validation`, TRUE when the candidates are
#'   judged on the validation rows instead).
#' @examples
#' str(backprop_defaults(150, inputs = 4, classes = 3))
#' str(backprop_defaults(20000, inputs = 30))
#' @export
backprop_defaults <- function(rows, inputs = 1, classes = 0) {
  rows <- check_count(rows, "rows", min = 1)
  inputs <- check_count(inputs, "inputs", min = 1)
  classes <- check_count(classes, "classes")
  if (classes == 1) abort("`classes` must be 0 (a numeric response) or at least 2, not 1.")
  k <- rule_constants
  units <- max(k$units, k$units_per_class * classes)
  params <- units * (inputs + 1) + max(classes, 1) * (units + 1)
  restarts <- if (rows <= k$restart_rows) k$restarts else 1
  plan <- list(folds = if (rows <= k$cv_rows) k$cv_folds else 1, holdout = k$holdout,
               rows = k$search_rows, validation = FALSE)
  lm_fits <- classes == 0 && rows * params^2 <= k$lm_work
  if (lm_fits || rows * params <= k$lbfgs_work && rows <= k$lbfgs_rows) {
    settings <- list(hidden = units, activation = "tanh", optimizer = "lbfgs",
                     epochs = k$lbfgs_epochs, lr = NULL, batch_size = NULL,
                     weight_decay = k$decay, validation = NULL, patience = NULL,
                     init = "xavier", restarts = restarts)
    candidates <- lapply(k$decays, function(d) list(weight_decay = d))
    if (lm_fits) {
      # A numeric response and a network small for its rows: LM with a
      # weak decay (smooth functions, little noise) against L-BFGS with
      # the stronger ones (noisy data).
      steps <- floor(k$lm_budget / (rows * params^2))
      lm <- list(optimizer = "lm", epochs = min(max(steps, k$lm_epochs[1]), k$lm_epochs[2]),
                 weight_decay = k$lm_decay)
      # (Past L-BFGS's rows, LM alone: with so many rows per parameter,
      # noise averages out.)
      strong <- if (rows <= k$lbfgs_rows) k$lm_lbfgs_decays
      candidates <- c(list(lm), lapply(strong, function(d) {
        list(optimizer = "lbfgs", epochs = k$lbfgs_epochs, weight_decay = d)
      }))
      if (length(candidates) == 1L) {
        settings[names(lm)] <- lm
        candidates <- list()
      }
    }
  } else {
    settings <- list(hidden = max(k$adam_units, units), activation = "relu", optimizer = "adam",
                     epochs = k$adam_epochs, lr = k$adam_lr, batch_size = k$adam_batch,
                     weight_decay = k$adam_decay, validation = k$adam_validation,
                     patience = k$adam_patience, init = "he", restarts = 1,
                     precision = k$adam_precision)
    candidates <- list()
    plan$validation <- TRUE
  }
  c(settings, list(candidates = candidates, selection = plan))
}

# The bridge from a design to the fit: the rule's settings for the data's
# shape are the defaults of the options not given; with `select`, the
# candidates that the given options leave open are compared first (see
# R/select.R); then mlp_train()'s spec and training.
backprop_fit <- function(design, given, call, select = TRUE) {
  select <- check_flag(select, "select")
  # (Checked here as well as by the spec: the search counts weighted rows.)
  check_weights(design$weights, nrow(design$x))
  refuse_untrained_inputs(design$x, design$weights, given$init, design$categories)
  target <- band_target(as_target(design$y, nrow(design$x), logical_classes = TRUE), given)
  classification <- !is.null(target$levels)
  shape <- backprop_defaults(nrow(design$x), ncol(design$x),
                             if (classification) length(target$levels) else 0)
  shape <- first_order_shape(shape, given)
  rule <- rule_defaults(shape, nrow(design$x), given, classification)
  # Nothing to select: given starting weights fix the network; row biases
  # cannot be scored on held-out rows; zero epochs train nothing; too few
  # rows (of positive weight) to hold any out.
  weighted_rows <- if (is.null(design$weights)) nrow(design$x) else sum(design$weights > 0)
  searchable <- (is.null(given$init) || is.character(given$init)) &&
    !identical(given$bias, "row") && !identical(given$epochs, 0) &&
    weighted_rows >= rule_constants$select_rows
  candidates <- if (select && searchable) search_candidates(shape$candidates, given)
  # Levenberg-Marquardt minimises squared errors with an L2 penalty: not a
  # candidate for a given loss, output or L1 penalty it cannot take. Nor
  # for a given weight decay, which is on the mean loss, where LM's is on
  # the summed squares: compared with L-BFGS at the same value, LM's decay
  # was hundreds of times weaker, and a tuning grid's values would not be
  # on one scale (the winner switching from one to the other along it).
  if ((!is.null(given$loss) && !any(given$loss == c("mse", "sse"))) ||
      (!is.null(given$output) && !any(given$output == c("linear", "sigmoid"))) ||
      (!is.null(given$l1) && given$l1 != 0) || !is.null(given$weight_decay)) {
    candidates <- Filter(function(cand) !identical(cand$optimizer, "lm"), candidates)
  }
  # (Each candidate and the fit read given validation rows: what they say
  # of those rows is said once.)
  fit <- said_once({
    chosen <- NULL
    if (length(candidates) > 1L) {
      chosen <- select_settings(design, target, given, rule, candidates, shape$selection)
      rule[names(chosen$winner)] <- chosen$winner
    }
    if (!is.null(chosen$kept)) {
      fit_of(chosen$kept$spec, chosen$kept$res, design, call, selection = chosen$record)
    } else {
      spec <- training_spec(design$x, target, given, rule, design$weights, design$blueprint,
                            design$extent, design$categories)
      fit_spec(spec, design, target, given, rule, call, selection = chosen$record,
               calibration = chosen$calibration)
    }
  })
  warn_if_wrong_tool(fit, "backprop", given)
  fit
}

# `dropout` or a learning rate given without an optimizer, where the rule
# trains by L-BFGS or Levenberg-Marquardt (which take neither): the rule's
# network is trained by Adam with the rule's Adam settings instead. Without
# this, a tuning grid over dropout or learn_rate would fail every model on
# small data. Any given value switches, 0 too, so that a grid's models are
# all trained alike. Another optimizer given there does not take the
# rule's optimizer's steps and decay where they do not suit it: LM's decay
# is on the summed squares, its 20 to 100 steps are not as many epochs. A
# first-order one trains at least the epochs of larger data, and with
# Adam's decay where LM's was the only one; L-BFGS takes its own epochs,
# and the decay without selection. Its other settings are its own. A
# continued fit keeps its optimizer.
first_order_shape <- function(shape, given) {
  k <- rule_constants
  if (inherits(given$init, "mlp_fit") || any(shape$optimizer == vocabulary$first_order_optimizers)) {
    return(shape)
  }
  lm_alone <- shape$optimizer == "lm" && !length(shape$candidates)
  if (any(given$optimizer == vocabulary$first_order_optimizers)) {
    shape$epochs <- max(shape$epochs, k$adam_epochs)
    if (lm_alone) shape$weight_decay <- k$adam_decay
    return(shape)
  }
  if (identical(given$optimizer, "lbfgs") && lm_alone) {
    shape[c("epochs", "weight_decay")] <- list(k$lbfgs_epochs, k$decay)
    return(shape)
  }
  asked <- intersect(c("dropout", "lr"), names(given))
  if (!length(asked) || !is.null(given$optimizer)) return(shape)
  replaced <- shape$optimizer
  shape[c("optimizer", "epochs", "lr", "batch_size", "validation", "patience", "restarts",
          "precision")] <- list("adam", k$adam_epochs, k$adam_lr, k$adam_batch,
                                k$adam_validation, k$adam_patience, 1, k$adam_precision)
  # The candidates' optimizers and epochs were second order's; their weight
  # decays remain, judged on the validation rows as on larger data.
  shape$candidates <- search_candidates(shape$candidates, list(optimizer = "adam"))
  # Without candidates (LM alone, on many rows) the decay was LM's: Adam's
  # is that of larger data.
  if (!length(shape$candidates)) shape$weight_decay <- k$adam_decay
  shape$selection$validation <- TRUE
  what <- if (asked[1] == "dropout") "`dropout` needs" else "A learning rate (`lr`, parsnip's `learn_rate`) means"
  inform_once("first_order", paste0(
    what, " a first-order optimizer: training by Adam instead of ",
    c(lbfgs = "L-BFGS", lm = "Levenberg-Marquardt")[[replaced]],
    ", with the rule's Adam settings (?backprop); give `optimizer` to choose. Shown once per session."
  ), class = "backprop_first_order")
  shape
}

# A message shown once per R session: `key` marks it shown in
# session_notices. Its class lets callers catch or muffle it.
session_notices <- new.env(parent = emptyenv())
inform_once <- function(key, msg, class = NULL) {
  if (isTRUE(session_notices[[key]])) return(invisible(FALSE))
  session_notices[[key]] <- TRUE
  message(structure(class = c(class, "backprop_message", "message", "condition"),
                    list(message = paste0(msg, "\n"), call = NULL)))
  invisible(TRUE)
}

# The defaults backprop() gives the options: the rule for the data's shape,
# standardized inputs and response, and the response's output and loss. A
# chosen optimizer takes its own batch and learning rate unless given.
rule_defaults <- function(shape, rows, given, classification) {
  rule <- shape[setdiff(names(shape), c("candidates", "selection"))]
  rule$init <- NULL # follows the activation, given or not
  # A fit continued keeps the optimizer it was trained (or selected) with,
  # unless one is given, and with it its settings (see kept_training()).
  if (inherits(given$init, "mlp_fit")) rule$optimizer <- given$init$optimizer
  # Restarts pay for the second-order optimizers; given starting weights
  # (or a fit to continue) are one start.
  optimizer <- given$optimizer %||% rule$optimizer
  # An ensemble's members are a start each.
  if (!any(optimizer == c("lm", "lbfgs")) || !is.null(given$init) && !is.character(given$init) ||
      (given$ensemble %||% 1) > 1) {
    rule$restarts <- 1
  }
  if (!is.null(given$optimizer) && given$optimizer != rule$optimizer) {
    rule["batch_size"] <- list(NULL)
    rule["lr"] <- list(NULL)
  }
  optimizer <- given$optimizer %||% rule$optimizer
  if (!(optimizer %in% vocabulary$minibatch_optimizers)) rule["batch_size"] <- list(NULL)
  # Single precision is the first-order optimizers' alone.
  if (!any(optimizer == vocabulary$first_order_optimizers)) rule$precision <- NULL
  if (!is.null(rule$batch_size)) {
    validation <- given$validation %||% rule$validation
    held <- if (is.numeric(validation)) round(validation * rows) else 0
    rule$batch_size <- max(1, min(rule$batch_size, rows - held))
  }
  rule$scale <- TRUE
  rule$loss <- if (classification) "cross_entropy" else "mse"
  rule$output <- if (classification) "softmax" else if (identical(given$loss, "poisson")) "exp" else "linear"
  rule
}
