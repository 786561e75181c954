#' A caret model for backprop
#'
#' `caret::train(x, y, method = backprop_caret())` tunes and fits
#' [backprop()] networks in caret: classification (with class
#' probabilities) and regression, over a grid of `size` (hidden units) and
#' `decay` (weight decay, on the mean loss; where [backprop()] trains by
#' Levenberg-Marquardt alone, on many rows, on the summed squared errors).
#' Other [backprop()] arguments
#' pass through `train()`'s `...`, as `threads = 1`, or `init` to continue
#' a fit, or `validation` (both refused where caret codes the rows it fits
#' anew: with `preProcess`, a formula's `poly()` or `scale()`, a recipe's
#' steps; a fraction, `validation = 0.2`, is drawn from the coded rows and
#' is not refused).
#'
#' The default grid of `tuneLength = len` takes `size` in 5, 10, 20, ...
#' and `decay` in 0.1, 0.01, 0.001, ...; `search = "random"` draws `size`
#' from 1 to 30 and `decay` log-uniformly from 1e-5 to 1.
#'
#' `caret::varImp()` of the tuned model gives Garson's relative importance
#' of each input column (see [mlp_importance()]), scaled by caret to 0 to
#' 100 unless `scale = FALSE`; it needs networks of one hidden layer, as
#' this model fits.
#'
#' @return A list in caret's format for a custom model (`library`, `type`,
#'   `parameters`, `grid`, `fit`, `predict`, `prob`, `sort`, `levels`,
#'   `varImp`).
#' @examples
#' if (requireNamespace("caret", quietly = TRUE)) {
#'   set.seed(1)
#'   tuned <- caret::train(
#'     iris[, 1:4], iris$Species, method = backprop_caret(),
#'     tuneGrid = expand.grid(size = c(3, 6), decay = c(0.01, 0.1)),
#'     trControl = caret::trainControl(method = "cv", number = 2),
#'     threads = 1
#'   )
#'   tuned$bestTune
#' }
#' @export
backprop_caret <- function() {
  list(
    label = "Multilayer perceptron (backprop)",
    library = "backprop",
    type = c("Classification", "Regression"),
    parameters = data.frame(parameter = c("size", "decay"), class = c("numeric", "numeric"),
                            label = c("Hidden units", "Weight decay"), stringsAsFactors = FALSE),
    grid = function(x, y, len = NULL, search = "grid") {
      if (search == "grid") {
        expand.grid(size = 5 * 2^(seq_len(len) - 1), decay = 10^-seq_len(len))
      } else {
        data.frame(size = sample.int(30, len, replace = TRUE), decay = 10^stats::runif(len, -5, 0))
      }
    },
    fit = function(x, y, wts, param, lev, last, classProbs, ...) {
      refuse_caret_recoding(list(...))
      backprop(x, y, weights = wts, hidden = param$size, weight_decay = param$decay, ...)
    },
    predict = function(modelFit, newdata, submodels = NULL) {
      if (is.null(modelFit$levels)) return(predict(modelFit, newdata)[, 1L])
      as.character(predict(modelFit, newdata, type = "class"))
    },
    prob = function(modelFit, newdata, submodels = NULL) {
      as.data.frame(predict(modelFit, newdata, type = "prob"))
    },
    sort = function(x) x[order(x$size, -x$decay), , drop = FALSE],
    levels = function(x) x$levels,
    # caret asks for importance without data: Garson's weight-based
    # measure needs none, and is one number per input column.
    varImp = function(object, ...) {
      imp <- mlp_importance(object, method = "garson")
      data.frame(Overall = imp$importance, row.names = imp$variable)
    },
    tags = c("Neural Network", "L2 Regularization")
  )
}

# caret codes the data again on each call's rows before the model sees
# them: `preProcess` (createModel()'s `ppObj`), a formula's terms that
# depend on the data (train.formula()'s `Terms`: poly(), scale()) and a
# recipe's steps (rec_model()'s `trained_rec`). Columns of the same names
# then mean other things than those a continued fit (`init`) was trained
# on, or than given validation rows hold: both are refused under such
# coding (`dots`: the engine arguments train() passed on). Steps that only
# drop columns or rows (`preProcess = "zv"`, step_zv()) code nothing.
refuse_caret_recoding <- function(dots) {
  continuing <- inherits(dots$init, "mlp_fit")
  if (!continuing && !given_validation_rows(dots$validation)) return(invisible())
  recipe <- calling_object("trained_rec", "recipe", "caret")
  methods <- names(calling_object("ppObj", "preProcess", "caret")$method)
  recoding <- if (length(setdiff(methods, c("ignore", "remove", "zv", "nzv", "corr", "conditionalX")))) {
    "caret's `preProcess`, which caret estimates"
  } else if (recodes_values(recipe)) {
    "a recipe with steps, which caret trains"
  } else if (!is.null(term <- recoded_term(calling_object("Terms", "terms", "caret")))) {
    paste0("a formula coding `", term, "` by the data, which caret codes")
  }
  if (is.null(recoding)) return(invisible())
  message <- if (continuing) {
    paste0("`init` cannot continue a fit under ", recoding, " again on these rows, so the ",
           "inputs keep their names but not the coding `init` was fitted with. Continue ",
           "without it (backprop standardizes its inputs itself), or fit anew.")
  } else {
    paste0("`validation` rows cannot be given under ", recoding, " on the rows it fits: ",
           "caret does not code the validation rows, which would be read as if coded. Give ",
           "`validation` as a fraction of the rows (such as 0.2), or fit without that coding ",
           "(backprop standardizes its inputs itself).")
  }
  # caret's recipe interface keeps a model's error as its final model,
  # without a word when it fits once (method = "none"): the warning reaches
  # the user. (Resampling reports each fold's error as well.)
  if (!is.null(recipe)) warning(message, call. = FALSE)
  abort(message)
}
