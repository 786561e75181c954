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
#' * **Inputs** are standardized (mean 0, standard deviation 1), with the
#'   training statistics kept in the fit and applied by `predict()`. Factor
#'   and character predictors are dummy-coded with the training levels.
#' * **A numeric response** (or several, `cbind(a, b) ~ .`) is standardized
#'   too and fitted by a linear output with the mean squared error;
#'   predictions are in the response's units.
#' * **A factor or logical response** is a classification: a softmax output
#'   and the cross-entropy; `predict(type = "class")` gives the class (with
#'   the factor's levels, every one of them, ordered if the factor is) and
#'   `type = "prob"` the probabilities.
#' * **Size of the data decides the training.** With at most
#'   `r format(small_rows, big.mark = ",", scientific = FALSE)` training rows, the network has one hidden layer of
#'   `r small_hidden` tanh units and is trained full batch by L-BFGS, a
#'   second-order method, for up to `r small_epochs` iterations, with weight
#'   decay `r small_decay` (on the mean loss) and no validation split:
#'   second-order methods win on small data (the NNbenchmark study), and
#'   the weight decay keeps the fit smooth where early stopping would have
#'   few rows to watch. With more rows, it has
#'   one hidden layer of `r large_hidden` relu units trained by Adam
#'   (learning rate 0.001, minibatches of `r large_batch` rows, weight decay
#'   `r large_decay`) for up to `r large_epochs` epochs, holding out
#'   `r large_validation * 100` in 100 of the rows for early stopping
#'   (patience `r large_patience` epochs): the weights of the epoch with the
#'   lowest validation loss are returned.
#' * **Starting weights** are scaled to the activation: Glorot's uniform
#'   start (`"xavier"`) for tanh units, He's normal start for relu-like
#'   units.
#' * Every argument given explicitly overrides its default; the others keep
#'   the rule's choice. [backprop_defaults()] shows the choice for a given
#'   data size.
#' The rule was chosen by measurement on public data sets (in the package's
#' `bench/` folder).
#'
#' @param x A data frame or matrix of predictors, or a `recipes::recipe()`.
#' @param formula A formula such as `y ~ .` or `y ~ x1 + log(x2)`.
#' @param data A data frame: the variables of the formula, or the data of
#'   the recipe.
#' @param y For the x/y interface: the response, a numeric vector or
#'   matrix, a factor or a logical vector, one row per row of `x`.
#' @param weights,subset,na.action As in [mlp_train()] (`weights` for every
#'   interface, `subset` and `na.action` for the formula).
#' @param ... Arguments of [mlp_train()], with its meanings: `hidden`,
#'   `epochs`, `lr`, `activation`, `optimizer`, `batch_size`,
#'   `weight_decay`, `validation`, `patience`, `init` (each left out, or
#'   `NULL`, takes the rule's choice above); `scale` (default `TRUE`:
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
backprop.formula <- function(formula, data, weights, subset, na.action = stats::na.omit, ...) {
  if (missing(data) || !is.data.frame(data)) {
    abort("`data` must be a data frame holding the variables of the formula.")
  }
  given <- check_given(list(...), "backprop()", "see ?backprop for its arguments")
  design <- mold_formula(match.call(), "formula", parent.frame())
  design$interface <- "formula"
  backprop_fit(design, given, call_as(match.call(), "backprop"))
}

#' @rdname backprop
#' @export
backprop.default <- function(x, y, weights = NULL, ...) {
  given <- check_given(list(...), "backprop()", "see ?backprop for its arguments")
  if (missing(y)) abort("`y` is missing: give the response, one row per row of `x`.")
  molded <- mold_xy(x, "x")
  design <- list(x = molded$x, y = y, weights = weights, blueprint = molded$blueprint,
                 interface = "xy")
  backprop_fit(design, given, call_as(match.call(), "backprop"))
}

#' @rdname backprop
#' @export
backprop.recipe <- function(x, data, weights = NULL, ...) {
  given <- check_given(list(...), "backprop()", "see ?backprop for its arguments")
  design <- mold_recipe(x, data, weights)
  design$interface <- "recipe"
  backprop_fit(design, given, call_as(match.call(), "backprop"))
}

# The rule's settings (see "What backprop() does by default"), kept here
# once: the documentation reads them too.
small_rows <- 10000
small_hidden <- 10
small_epochs <- 150
small_decay <- 0.01
large_hidden <- 100
large_batch <- 200
large_epochs <- 200
large_decay <- 1e-4
large_validation <- 0.1
large_patience <- 10

#' The settings backprop() chooses for a data size
#'
#' @param rows Training rows.
#' @return A named list of [mlp_train()] arguments: `hidden`, `activation`,
#'   `optimizer`, `epochs`, `lr`, `batch_size`, `weight_decay`,
#'   `validation`, `patience` and `init`.
#' @examples
#' str(backprop_defaults(150))
#' str(backprop_defaults(20000))
#' @export
backprop_defaults <- function(rows) {
  rows <- check_count(rows, "rows", min = 1)
  if (rows <= small_rows) {
    list(hidden = small_hidden, activation = "tanh",
         optimizer = "lbfgs",
         epochs = small_epochs, lr = NULL, batch_size = NULL, weight_decay = small_decay,
         validation = NULL, patience = NULL, init = "xavier")
  } else {
    list(hidden = large_hidden, activation = "relu", optimizer = "adam",
         epochs = large_epochs, lr = 0.001, batch_size = large_batch,
         weight_decay = large_decay, validation = large_validation,
         patience = large_patience, init = "he")
  }
}

# The bridge from a design to the fit: the rule's settings are the defaults
# of the options not given, then mlp_train()'s spec and training.
backprop_fit <- function(design, given, call) {
  rows <- nrow(design$x)
  rule <- function(target) rule_defaults(rows, given, !is.null(target$levels))
  fit_design(design, given, rule, call, logical_classes = TRUE)
}

# The defaults backprop() gives the options: the rule for the data's size,
# standardized inputs and response, and the response's output and loss. A
# chosen optimizer takes its own batch and learning rate unless given.
rule_defaults <- function(rows, given, classification) {
  rule <- backprop_defaults(rows)
  rule$init <- NULL # follows the activation, given or not
  if (!is.null(given$optimizer) && given$optimizer != rule$optimizer) {
    rule["batch_size"] <- list(NULL)
    rule["lr"] <- list(NULL)
  }
  optimizer <- given$optimizer %||% rule$optimizer
  if (!(optimizer %in% minibatch_optimizers)) rule["batch_size"] <- list(NULL)
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
