#' Train a multilayer perceptron by backpropagation
#'
#' Trains a fully connected network in backprop's Rust engine. With its
#' defaults, `mlp_train(X, Y)` is the tutorial's network: 3 sigmoid hidden
#' units, a sigmoid output, the sum-of-squared-errors loss and 5000 epochs of
#' full-batch gradient descent with learning rate 0.1 and gradients summed
#' over rows.
#'
#' @section The article's two programs:
#' `bias = "column"` is the NumPy program: `bh` is 1 x h and `bout` 1 x o, and
#' each grows by `lr` times the column sums of its delta. `bias = "row"` is the
#' R program: `bh` is n x h and `bout` n x o, and row i grows by `lr` times the
#' sum of row i of its delta (`bh + rowSums(d_hiddenlayer) * lr`).
#' With `init = "article"` the starting weights are drawn from R's RNG in the R
#' program's order (`rnorm` for `wh`, `runif` for the hidden biases, `rnorm` for
#' `wout`, `runif` for the output bias), so `set.seed(s); mlp_train(X, Y, bias =
#' "row")` returns what the article's R program returns after `set.seed(s)`.
#' The arithmetic is the article's, in its order; the only difference is the
#' exponential inside the sigmoid, which backprop computes with its own
#' vectorized routine (within 2 units in the last place of R's `exp()`), so
#' the results agree with the article's to about 1e-15, not to the last bit.
#'
#' @section Gradients and learning rates:
#' `"gd"` sums the gradient over rows, as the article does, so its `lr` (default
#' 0.1) acts on sums. Every other optimizer averages the gradient over the
#' batch; their default `lr` is 0.01 for `"sgd"`, 0.001 for `"adam"`,
#' `"adamw"` and `"rmsprop"`, and unused by `"lm"` and `"lbfgs"`.
#'
#' @section Output:
#' `output` is the network's output on the training rows. For full-batch
#' `"gd"` without validation it is the forward pass of the last epoch, computed
#' before that epoch's update, exactly as the article prints it; otherwise it
#' is the output of the returned weights. `fitted()`, `residuals()`,
#' `summary()` and `augment()` always use the returned weights' output, as
#' `predict()` gives it.
#'
#' @section Speed:
#' The matrix products run in backprop's Rust engine (the `gemm` crate, with
#' AVX-512 or AVX2 kernels where the processor has them), not in R's BLAS.
#' Large products are cut into fixed bands shared out over `threads`
#' threads, so the results are the same for any thread count. Full batches
#' read `X` where R stores it, without a copy (except with
#' `precision = "single"`). Minibatches copy `X`
#' once, row by row (as much memory again as `X`), so that each batch's
#' rows are contiguous reads rather than one scattered read per column.
#' Networks of up to 16 training rows, such as the article's, train
#' full-batch through a fused epoch that keeps every column in vector
#' registers; with `"gd"` each parameter is updated as soon as its gradient
#' is summed, and a net like the article's (one hidden layer, at most four
#' units per layer, sigmoid units, no weight decay) has an epoch compiled
#' with its whole layout fixed, its values kept in vector registers.
#' `precision = "single"` makes large products faster.
#'
#' @section Interrupting:
#' Training polls for an interrupt (Ctrl-C, or RStudio's stop button) every
#' 0.1 seconds, between epochs and, for `"sgd"` and `"adam"`, between
#' minibatches. An interrupted `mlp_train()` does not throw: it returns the
#' network as it was when it stopped (for minibatch optimizers possibly in the
#' middle of an epoch), with `status = "interrupted"`, the losses of the
#' completed epochs, and a warning.
#'
#' @section Arguments left out:
#' Every training argument defaults to `NULL`, which means "not given": it
#' then takes the article's value (`hidden = 3`, `epochs = 5000`,
#' `bias = "column"`, `activation = "sigmoid"`, `optimizer = "gd"`,
#' `momentum = 0.9`, `nesterov = FALSE`, `weight_decay = 0`, `scale = FALSE`,
#' `dropout = 0`, `l1 = 0`, `lr_schedule = "constant"`, `huber_delta = 1`,
#' `tau = 0.5`, `callback_every = 1`, `precision = "double"`), or the value
#' the other arguments imply (the learning rate of the optimizer, the start
#' of the activation, the output and loss of the response). An argument
#' given for an optimizer or loss that does not use it (`momentum` with
#' `"adam"`, `tau` without the quantile loss, `callback_every` without
#' `callback`) is an error, even at its default value, unless that value
#' asks for nothing (`dropout = 0`, `l1 = 0`, `nesterov = FALSE`,
#' `precision = "double"`). A continued fit (`init = fit`) keeps, unless
#' they are given, its architecture, activations, loss and scaling, and its
#' training: its optimizer with the optimizer's settings (learning rate,
#' batch size, momentum, dropout, schedule, clipping, precision; another
#' optimizer given takes its own), its weight decay (not across a change
#' to or from `"lm"`, whose decay is on the summed squares), L1 penalty and
#' class weights. A kept setting changes when given another value; `NULL`
#' means "not given", so a kept `clip_norm` or `class_weights` cannot be
#' removed (give `class_weights` of 1 for every class; fit anew to stop
#' clipping). [mlp_trace()], [mlp_gradcheck()] and [mlp_explore()] take a
#' fit's network alone.
#'
#' @param X Inputs: a numeric matrix (a sparse `Matrix` is read as the
#'   dense matrix it is), a data frame, or a numeric vector (one input).
#'   Integer data are converted; a data frame's columns are taken by name,
#'   its factor, character and logical columns coded as the formula method
#'   codes them (a level with no training rows is dropped, so new data with
#'   it are refused). Dates are refused: give them as numbers.
#' @param Y Targets: a numeric matrix or vector with one row per row of `X`,
#'   or a factor (classification: one-hot targets, softmax output and
#'   cross-entropy loss by default).
#' @param hidden Units per hidden layer: one number per hidden layer, e.g.
#'   `c(64, 32)`; 0 for none (a linear or logistic model). Default 3.
#' @param epochs Passes over the training data. Default 5000.
#' @param lr Learning rate of the first-order optimizers; `NULL` takes the
#'   optimizer's default (see below). `"lm"` and `"lbfgs"` choose their own
#'   steps, and refuse it.
#' @param bias Bias layout: `"column"` (one bias per unit, the NumPy program)
#'   or `"row"` (one bias per training row and unit, the R program). Only
#'   `"column"` networks can predict new rows.
#' @param init Starting weights. Default: `"article"` for sigmoid hidden
#'   units; for other hidden activations, whose units the article's N(0, 1)
#'   start saturates or blows up, `"he"` (relu-like units) or `"xavier"`
#'   (the others). Choices: `"article"` (normal weights, uniform biases,
#'   in the R program's order), `"uniform"` (all U(0, 1), the NumPy program),
#'   `"xavier"`, `"he"`, `"nnet"` (every weight and bias U(-0.7, 0.7), as
#'   nnet starts; a good start for `"lm"` and `"lbfgs"` on standardized
#'   data), a previous `mlp_fit` (continue training: data holding the
#'   fit's inputs, its formula's or data frame's variables or its
#'   recipe's, are coded as the fit coded its own, as `predict()` codes
#'   new data, and a formula may name another response; other inputs are
#'   matched to the fit's by name, and refused where a name would mean
#'   something else),
#'   `list(wh =, bh =, wout =, bout =)` for one hidden layer, or
#'   `list(weights = list(...), biases = list(...))` for any depth. A 1 x h
#'   bias (or a length-h vector) means the column layout, an n x h bias the
#'   row layout.
#' @param activation Hidden-layer activation: `"sigmoid"`, `"tanh"`,
#'   `"relu"`, `"leaky_relu"`, `"linear"`, `"softplus"`, `"elu"`, `"selu"`,
#'   `"gelu"` (its tanh approximation), `"silu"` (`z * sigmoid(z)`) or
#'   `"mish"` (`z * tanh(softplus(z))`); one for
#'   all layers or one per hidden layer.
#' @param output Output activation: `"sigmoid"`, `"linear"`, `"softmax"` or
#'   `"exp"` (a positive mean; the log link of `loss = "poisson"`). Default:
#'   `"softmax"` for a factor response, `"exp"` for `loss = "poisson"`,
#'   `"sigmoid"` otherwise. A factor response takes `"softmax"` or
#'   `"sigmoid"`, whose outputs are probabilities.
#' @param loss `"sse"` (the article's; reported as the sum of squared errors),
#'   `"mse"`, `"cross_entropy"` (sigmoid or softmax output only), the robust
#'   `"mae"` (absolute error), `"huber"` (squared within `huber_delta`,
#'   absolute beyond) and `"quantile"` (the pinball loss of level `tau`,
#'   for quantile regression), or `"poisson"` (counts; the Poisson deviance
#'   of an `"exp"` output). The robust losses and `"mse"` average over the
#'   outputs and are reported as means over rows and outputs. Default:
#'   `"cross_entropy"` for a factor response, `"sse"` otherwise.
#' @param huber_delta Where `loss = "huber"` turns from squared to absolute
#'   error, in the units the network fits (standardized ones with
#'   `scale = TRUE` and a linear output).
#' @param tau The level of `loss = "quantile"`, in (0, 1): 0.5 fits the
#'   median, 0.9 the 90th percentile.
#' @param optimizer `"gd"` (the article's full-batch gradient descent),
#'   `"sgd"` (minibatch, with momentum), `"adam"`, `"adamw"` (Adam with
#'   decoupled weight decay), `"rmsprop"`, `"lm"` (Levenberg-Marquardt, for
#'   small regression networks) or `"lbfgs"`.
#' @param batch_size Rows per step: 32 by default for `"sgd"`, `"adam"`,
#'   `"adamw"` and `"rmsprop"`, all rows for the others.
#' @param momentum,nesterov Momentum of `"sgd"`, and whether it is Nesterov's.
#' @param weight_decay L2 penalty: `weight_decay * w` is added to the gradient
#'   of every weight (not of the biases). With `"adamw"` it is decoupled
#'   instead: every step shrinks the weights by `lr * weight_decay` of
#'   themselves.
#' @param l1 L1 penalty: `l1 * sign(w)` is added to the gradient of every
#'   weight (not of the biases). With `weight_decay` it makes an elastic
#'   net (tidymodels' `penalty * mixture` is `l1`, `penalty * (1 - mixture)`
#'   is `weight_decay`). Not with `"lm"`; with `"lbfgs"` it is followed as
#'   a subgradient, so weights become small but rarely exactly zero.
#' @param dropout Inverted dropout: the fraction of each hidden layer's units
#'   dropped at each training step, one rate in \[0, 1) for every hidden
#'   layer or one per layer. Kept units are scaled by `1 / (1 - rate)`, so
#'   prediction, [mlp_trace()] and [mlp_gradcheck()] use the whole network.
#'   The masks are drawn from a seed taken from R's RNG, so `set.seed()`
#'   reproduces them. First-order optimizers only.
#' @param lr_schedule The learning rate's multiplier per epoch:
#'   `"constant"` (1), `"step"` (halved every `ceiling(epochs / 4)` epochs),
#'   `"exponential"` (from 1 down to 0.01 over the epochs), `"cosine"` (half
#'   a cosine from 1 towards 0), `"cyclic"` (triangular cycles between 0.1
#'   and 1, starting low, each `2 * ceiling(epochs / 8)` epochs long: four
#'   when `epochs` is a multiple of 8, fewer otherwise), or a function of
#'   the epoch (1, 2, ...) returning the multiplier, called once per epoch
#'   number before training starts.
#'   First-order optimizers only. For `"sgd"` with momentum the multiplier
#'   scales the step added to the velocity (as Keras does), so the
#'   velocity carries on where the multiplier is 0.
#' @param clip_norm `NULL`, or a positive number: when the gradient of a
#'   step (of the loss, before the penalties) is longer than this, it is
#'   rescaled to this length. First-order optimizers only.
#' @param class_weights For classification: `NULL`, `"balanced"` (each class
#'   weighted by rows / (classes * rows of the class), rows counted as the
#'   observation `weights` count them), or a named vector with a weight for
#'   every class. They multiply the observation `weights`.
#' @param callback `NULL`, or a function called after every
#'   `callback_every`-th epoch as `callback(epoch =, loss =, val_loss =,
#'   weights =)`, with the training and validation losses of that epoch
#'   (`val_loss` is `NA` without validation) and the current weights as
#'   `list(weights = list(...), biases = list(...))`. Returning `TRUE` stops
#'   training (`status = "stopped"`, without a warning); any other value
#'   continues. An error in the callback stops training and is reported.
#'   With `restarts`, epochs count from 1 in each start, and `TRUE` ends
#'   every start: the best start so far is kept.
#' @param callback_every Call `callback` after every this many epochs.
#' @param validation `NULL`, a fraction in (0, 1) of the rows to hold out
#'   (drawn among the rows of positive weight; a fit continued with `init`
#'   on the rows it was fitted to keeps its own validation rows, and
#'   continued on other rows it is not calibrated on them, which it may have
#'   been trained on), or
#'   `list(x =, y =)` with `x` in the form of the training inputs (coded by
#'   name, as `predict()` codes new data); for the formula interface also a
#'   data frame holding the response. With observation `weights`, given
#'   rows need theirs: `list(x =, y =, weights =)`, or in a data frame the
#'   weights' column. The validation loss is kept per epoch, and the weights of
#'   the epoch with the lowest validation loss are returned. A fraction
#'   leaves in training a row of each value of an input, or level of a
#'   factor, that only held-out rows would hold (so that no value is
#'   predicted from untrained weights): it may hold out a few rows fewer.
#' @param patience With validation, stop after this many epochs without a
#'   lower validation loss (`NULL`: never stop early).
#' @param restarts Train from this many starting points (default 1) and keep
#'   the network with the lowest penalized training objective, as its
#'   optimizer minimises it: the mean loss over the training rows plus the
#'   weight penalty; for `"gd"`, which sums over rows, the summed loss plus
#'   the penalty (for `loss = "sse"` the loss minimised is half the squared
#'   residuals, whose gradient is the residuals: half the reported training
#'   loss); for `"lm"`, the sum of squared residuals plus
#'   `weight_decay` times the sum of squared weights. Every start is drawn
#'   from R's RNG by `init`, one after the other, so `set.seed()` fixes them
#'   all. Worth it for the second-order
#'   optimizers on small data (`"lm"`, `"lbfgs"`), whose local minima differ
#'   from start to start; `summary()` lists each start's objective. A start
#'   that diverges is skipped while another one does not.
#' @param ensemble Train this many networks (default 1), each from its own
#'   start drawn from R's RNG, one after the other on the fit's threads, and
#'   average their outputs: `predict()` returns the average (the mean class
#'   probabilities of a classifier), and `predict(type = "sd")` the spread
#'   of the members' predictions. `fit$weights` are the first member's;
#'   `fit$members` holds them all.
#' @param bootstrap With `ensemble`, train each member on a bootstrap
#'   sample of the rows (as observation weights that count how often a row
#'   is drawn). The rows a member never saw calibrate the conformal
#'   intervals and sets ("out of bag").
#' @param conformal How `predict(type = "pred_int")` and `predict(type =
#'   "set")` are calibrated: on rows the network was not trained on.
#'   `"auto"` (the default) uses what the fit has without more training:
#'   its `validation` rows, else a bootstrap ensemble's out-of-bag rows,
#'   else the folds of [backprop()]'s search; a fit with none of them is
#'   not calibrated. `"split"`: on the validation rows (split conformal).
#'   `"cv"`: on every row, predicted by one of `conformal_folds` refits of
#'   the network, each trained (with the fit's settings and restarts)
#'   without one fold of the rows. `"cv+"`: the same refits, kept, for
#'   CV+ intervals and sets (each row's own, with a guarantee of coverage;
#'   see [predict.mlp_fit()]). `"none"`:
#'   not calibrated.
#' @param conformal_folds The folds of `conformal = "cv"` and `"cv+"`
#'   (default 5).
#' @param scale If `TRUE`, standardize the inputs (and a numeric response
#'   fed to a linear output; targets of a sigmoid or softmax output are left
#'   as they are, since those outputs lie in (0, 1)); `predict()` applies the
#'   same statistics and returns predictions in the response's units. An
#'   input constant on the training rows becomes 0, in training and in new
#'   data whatever its value there: the network cannot learn what its other
#'   values do, so its predictions ignore it (as `lm()` drops such a column),
#'   and `predict()` warns of new rows that give it another value (as
#'   `lm()` warns of a prediction from a rank-deficient fit): a cell of an
#'   interaction `g:h` with no training rows, for one.
#' @param weights Observation weights: `NULL` (every row counts once) or one
#'   non-negative number per row, which multiplies that row's loss in every
#'   loss and optimizer (and in the validation loss). A weight of k counts
#'   the row k times: in the standardization of `scale = TRUE`, and in the
#'   loss, so that for the full-batch optimizers it equals repeating the row
#'   k times (`"gd"` and `"lm"`, which sum over rows, take the weights as
#'   they are; the others average over them, as weights rescaled to mean 1).
#'   For the formula method, a column of `data` or an expression evaluated
#'   in it, as in [stats::lm()].
#' @param threads Threads for training: default
#'   `getOption("backprop.threads")`, else all physical cores; never more than
#'   the machine's logical cores (a larger number is capped), and the
#'   process keeps one team of threads, whatever the numbers asked for. A batch of at least 256
#'   rows is split into shards of at least 128 rows, passed forward and
#'   backward at once, and large matrix products into bands; how depends on
#'   the batch alone, so every thread count gives the same result. Between
#'   the steps of a fit the threads wait awake for a moment, then sleep.
#' @param precision `"double"` (the default) or `"single"`: train in 32-bit
#'   floating point, whose matrix products run about twice as fast, for
#'   the first-order optimizers (all but `"lm"` and `"lbfgs"`). The inputs
#'   are copied once into single precision (half the size of `X`); the
#'   weights, outputs and losses returned are doubles, accurate to single
#'   precision (about 7 digits).
#'   `"lm"` and `"lbfgs"` train in double only.
#' @param verbose Show a progress bar with epoch, loss and time left (default:
#'   in interactive sessions, for runs that take more than a moment).
#' @param ... Passed between methods; unused arguments are an error.
#' @return An object of class `mlp_fit`: a list with
#'   * `output`: the network's output on the training rows (see Output),
#'     for a standardized response (`scale = TRUE`) standardized too, as
#'     the network computes it (`fitted()` gives it in the response's
#'     units);
#'   * `wh`, `bh`, `wout`, `bout`: the trained weights and biases, for one
#'     hidden layer; `weights` and `biases`: the same as lists, one entry per
#'     layer, for any depth;
#'   * `loss`: the training loss of every epoch (for `"sse"`, the sum of
#'     squared errors); `val_loss`: the validation loss of every epoch.
#'     Both are the losses the network minimised, of the targets as it saw
#'     them: for a response standardized by `scale = TRUE`, in units of
#'     its standard deviation, not the response's units (`print()` and
#'     `summary()` say "standardized response");
#'   * `kept_loss`: the training loss of the returned weights, on the
#'     training rows without dropout (what `print()` and [glance()][mlp_fit-tidiers]
#'     report; the epochs' records need not hold it, see there); for an
#'     ensemble, the first member's, on the rows (or bootstrap sample) it
#'     trained on;
#'   * `best_epoch`, `status` (`"completed"`, `"early_stopped"`,
#'     `"stopped"` by the `callback`, or `"interrupted"`), `seconds` (the
#'     training time, of every start or ensemble member), and the settings
#'     used;
#'   * `starts`: with `restarts` above 1, the penalized training objective
#'     of every start, and which one was kept (`NULL` otherwise);
#'   * `selection`: for [backprop()], the candidates it compared and their
#'     scores (`NULL` otherwise).
#'   * `members`: with `ensemble`, every member's `weights` and `biases`;
#'   * `calibration`: the rows and networks of the conformal calibration
#'     (see `conformal`), or `NULL`;
#'   * `held_out`: the rows a `validation` fraction held out, as positions
#'     among the rows left after `subset` and `na.action` (the rows of
#'     `fitted()` under `na.omit`), named by the data's row names where it
#'     has them, so `data[names(fit$held_out), ]` are those rows (not after
#'     a recipe that drops rows, whose rows are those it kept); `NULL`
#'     without a fraction.
#' @seealso [predict.mlp_fit()], [summary.mlp_fit()], [plot.mlp_fit()]
#' @examples
#' # The article's example
#' X <- matrix(c(1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1), nrow = 3, byrow = TRUE)
#' Y <- matrix(c(1, 1, 0))
#' set.seed(42)
#' fit <- mlp_train(X, Y, bias = "row")
#' fit$output
#' fit$wout
#'
#' # A deeper regression network
#' set.seed(1)
#' x <- matrix(runif(200, -2, 2), ncol = 2)
#' y <- sin(x[, 1]) + x[, 2]^2
#' fit <- mlp_train(x, y, hidden = c(8, 8), activation = "tanh",
#'                  output = "linear", loss = "mse", optimizer = "adam",
#'                  epochs = 200, threads = 1)
#' fit
#' @export
mlp_train <- function(X, ...) {
  UseMethod("mlp_train")
}

#' @rdname mlp_train
#' @export
mlp_train.default <- function(X, Y, hidden = NULL, epochs = NULL, lr = NULL, bias = NULL,
                              init = NULL, activation = NULL, output = NULL, loss = NULL,
                              optimizer = NULL, batch_size = NULL, momentum = NULL,
                              nesterov = NULL, weight_decay = NULL, validation = NULL,
                              patience = NULL, restarts = NULL, ensemble = NULL,
                              bootstrap = NULL, conformal = NULL, conformal_folds = NULL,
                              scale = NULL, weights = NULL, dropout = NULL,
                              l1 = NULL, lr_schedule = NULL, clip_norm = NULL,
                              class_weights = NULL, huber_delta = NULL, tau = NULL,
                              callback = NULL, callback_every = NULL, threads = NULL,
                              precision = NULL, verbose = NULL, ...) {
  check_dots(list(...))
  if (missing(Y)) abort("`Y` is missing: give the targets, one row per row of `X`.")
  # The options given: those the call names (the others are NULL).
  call <- match.call()
  supplied <- names(call)
  given <- check_given(mget(supplied[supplied %in% option_names], environment()))
  molded <- mold_xy(X, "X", given$threads, given$init)
  design <- list(x = molded$x, y = Y, weights = weights, blueprint = molded$blueprint,
                 extent = molded$extent, categories = molded$categories, interface = "xy")
  fit <- fit_design(design, given, NULL, call_as(call, "mlp_train"))
  warn_if_wrong_tool(fit)
  fit
}

# A design (inputs, response, weights, blueprint) and the given options to
# a fit: the targets coded, the spec resolved under the interface's
# `defaults` (a list, or a function of the targets that returns one), the
# network trained and the fit built.
fit_design <- function(design, given, defaults, call, logical_classes = FALSE) {
  target <- band_target(as_target(design$y, nrow(design$x), logical_classes), given)
  if (is.function(defaults)) defaults <- defaults(target)
  refuse_untrained_inputs(design$x, design$weights, given$init, design$categories)
  spec <- training_spec(design$x, target, given, defaults, design$weights, design$blueprint,
                        design$extent, design$categories)
  fit_spec(spec, design, target, given, defaults, call)
}

# An unknown argument (one of `dots`, a list of a function's `...`) is an
# error naming it, never silently ignored; `fun` and `hint` say whose
# arguments they are.
check_dots <- function(dots, fun = "mlp_train()", hint = "see ?mlp_train for its arguments") {
  if (length(dots) > 0L) {
    nm <- names(dots)
    nm <- if (is.null(nm) || !nzchar(nm[1])) "an unnamed argument" else paste0("`", nm[1], "`")
    abort(fun, " got ", nm, " it does not know; ", hint, ".")
  }
}

# Targets: list(y = double matrix, levels = NULL or the factor's levels,
# ordered = whether the factor is ordered). Every level of a factor is a
# class, used in the data or not.
as_target <- function(Y, n, logical_classes = FALSE) {
  if (is.character(Y) && is.null(dim(Y))) {
    abort("`Y` must be numeric or a factor, not a character vector; ",
          "use factor(Y) for classification.")
  }
  if (is.list(Y) && is.data.frame(Y) && ncol(Y) == 1L && (is.factor(Y[[1]]) || is.logical(Y[[1]]))) Y <- Y[[1]]
  if (logical_classes && (is.logical(Y) && is.matrix(Y) ||
                          is.data.frame(Y) && ncol(Y) > 0L && all(vapply(Y, is.logical, TRUE)))) {
    # A logical response is classes however it comes, as a vector or a column.
    if (ncol(Y) != 1L) {
      abort("`Y` has ", ncol(Y), " logical columns; a classifier takes one logical or factor ",
            "response. Give one column, or the columns as numbers (Y * 1) to regress each.")
    }
    Y <- if (is.data.frame(Y)) Y[[1L]] else Y[, 1L]
  }
  logical_response <- logical_classes && is.logical(Y) && is.null(dim(Y))
  if (logical_response) Y <- factor(Y, levels = c(FALSE, TRUE))
  if (is.object(Y) && is.factor(Y)) {
    if (length(Y) != n) {
      abort("`Y` must have as many rows as `X` (", n, "), not ", length(Y), ".")
    }
    if (anyNA(Y)) abort("`Y` must not contain NA.")
    observed <- length(unique(as.integer(Y)))
    if (nlevels(Y) < 2L || observed < 2L) {
      abort("`Y` is a factor with ", observed, " observed class",
            if (observed != 1L) "es", "; classification needs at least 2.")
    }
    return(list(y = one_hot(Y), levels = levels(Y), ordered = is.ordered(Y), logical = logical_response))
  }
  list(y = as_data_matrix(Y, "Y", rows = n), levels = NULL)
}

# A factor as one indicator column per level, named by the levels.
one_hot <- function(f) {
  y <- outer(as.integer(f), seq_len(nlevels(f)), "==") * 1
  colnames(y) <- levels(f)
  y
}

# The class of each row of a one-hot target (as_target()'s `y`), as an index
# into its levels. "first": max.col()'s default breaks ties at random, and a
# draw here would move every later draw of set.seed().
class_index <- function(y) max.col(y, ties.method = "first")

# The targets of a quantile band (`loss = "quantile"`, `tau = c(a, 1 - a)`):
# the response and its negation, both fitted at level 1 - a. The pinball
# loss of level t on (y, output) equals that of level 1 - t on (-y,
# -output), so the negated second output is the response's quantile a: one
# network, one level in the core, two bounds.
band_target <- function(target, given) {
  loss <- given$loss
  tau <- given$tau
  init <- given$init
  # A continued fit keeps its loss and levels unless others are given (as
  # training_spec() keeps them): a band continued is still a band.
  if (inherits(init, "mlp_fit")) {
    if (is.null(loss)) loss <- init$loss_function
    if (is.null(tau) && identical(loss, init$loss_function)) tau <- init$options$tau
  }
  if (!identical(loss, "quantile") || length(tau) != 2L) return(target)
  y <- target$y
  if (!is.null(target$levels) || ncol(y) != 1L) {
    abort("`tau = c(", tau[1L], ", ", tau[2L], ")` fits the bounds of a band for one ",
          "numeric response; `Y` has ", if (is.null(target$levels)) paste(ncol(y), "columns") else
            "classes", ".")
  }
  name <- colnames(y) %||% "y"
  target$y <- cbind(y, -y)
  colnames(target$y) <- c(name, paste0("-", name))
  target$band <- tau
  target
}

# mlp_train() keeps the article's defaults, which suit the article's problem
# and few others: it says so when a fit shows it was the wrong tool. So does
# backprop(), whose given settings can be as wrong (`fun`: whose fit; the
# fixes differ).
warn_if_wrong_tool <- function(fit, fun = "mlp_train", given = NULL) {
  # ([[ rather than $: exact look-ups in the fit's long list of fields.)
  if (fit[["status"]] == "interrupted") return(invisible())
  y <- fit[["y"]]
  out <- fit[["output"]]
  output <- fit[["output_activation"]]
  tutorial <- fun == "mlp_train"
  fix <- NULL
  if (is.null(fit[["levels"]]) && output == "sigmoid" && (min(y) < 0 || max(y) > 1)) {
    fix <- c(fix, paste0(if (tutorial) "`Y`" else "The response", " lies outside [0, 1], the ",
                         "range of the sigmoid output, so the ",
                         "network cannot fit it; use output = \"linear\"",
                         if (tutorial) " with scale = TRUE, or backprop(), which does both" else
                           " (backprop()'s choice for a numeric response)"))
  }
  losses <- fit[["loss"]]
  k <- length(losses)
  # (A loss of 0 throughout, as on one row, is a fit, not a stall. The data
  # loss may rise a little under a penalty, or where backprop()'s own
  # search chose a strong decay: there only a growth past tenfold is.)
  rose <- k >= 2L && !(losses[k] < losses[1L] || losses[k] == 0)
  penalised <- isTRUE(fit[["weight_decay"]] > 0) || isTRUE(fit[["options"]][["l1"]] > 0)
  suspect <- (tutorial || !is.null(given$optimizer) || !is.null(given$lr)) && !penalised
  if (rose && (suspect || !(losses[k] <= 10 * losses[1L]))) {
    fix <- c(fix, paste0("the training loss did not fall over ", k, " epochs (",
                         format(signif(losses[1L], 4)), " to ", format(signif(losses[k], 4)),
                         "); try a smaller `lr`, ", if (tutorial) "scale = TRUE, or backprop()" else
                           "or leave `optimizer` and `lr` to backprop()"))
  }
  # (Sigmoid and softmax outputs saturate at 0 and 1; exp's rates may all
  # lie above 1.)
  if (dim(out)[1L] >= 2L && (output == "sigmoid" || output == "softmax")) {
    low <- min(out)
    high <- max(out)
    spread_y <- max(y) - min(y)
    if (spread_y > 0 && (high < 1e-6 || low > 1 - 1e-6 || high - low < 1e-6 * spread_y)) {
      fix <- c(fix, paste0("the outputs are saturated: the network gives (nearly) the same ",
                           "output for every training row; use scale = TRUE",
                           if (tutorial) ", output = \"linear\" for a numeric response, or backprop()" else
                             ", or a smaller `lr`"))
    }
  }
  if (length(fix)) {
    warning(paste0(toupper(substr(fix, 1, 1)), substring(fix, 2), ".", collapse = "\n"),
            call. = FALSE)
  }
  invisible()
}
