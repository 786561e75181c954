#' The article's network, interactive: step through it in the browser
#'
#' Makes an interactive page (an htmlwidget) of the article's spreadsheet:
#' the twelve steps of one iteration, for any epoch of training, with the
#' active cell in yellow and the cells that fed it in orange, the formula
#' of the active cell with its numbers, the network diagram, the loss curve
#' and, for two inputs, the decision surface. A cell of `X` or `Y`, the
#' learning rate, the hidden size or the activation can be edited on the
#' page, which then retrains at once.
#'
#' The page trains the network itself, in JavaScript, in double precision,
#' by a transcription of the article's iteration (forward pass, backward
#' pass and update, in the article's order). It starts from the weights
#' [mlp_train()] starts from: they are drawn in R, by `init`, from R's RNG,
#' and handed to the page. So `set.seed(s); mlp_explore(X, Y, ...)` shows the
#' numbers of `set.seed(s); mlp_trace(X, Y, ...)` at epoch 0 and those of
#' `set.seed(s); mlp_train(X, Y, ...)` after training, to rounding. When the
#' hidden size or the activation is changed on the page, it starts from the
#' weights `set.seed(s); mlp_train(X, Y, hidden =, activation =)` would draw
#' (drawn in R beforehand, from the same RNG state, for 1 to `max(8,
#' hidden)` units), unless `init` gives the starting matrices.
#'
#' The epoch slider goes from 0 to `epochs - 1`: epoch `k` is the iteration
#' that starts from the weights after `k` updates, so epoch 0 is what
#' [mlp_trace()] shows, and the last epoch's `output` and updated weights
#' are those [mlp_train()] returns.
#'
#' Keyboard: the left and right arrow keys move through the steps, the up
#' and down arrow keys through the epochs (with Shift, by 100), when the
#' focus is on the page but not in a text field.
#'
#' The page needs no server and no internet connection: it prints in
#' RStudio's viewer, opens in the browser from a plain R session, embeds
#' itself in a knitted HTML document, and `htmlwidgets::saveWidget(page,
#' file)` saves it as one self-contained file.
#'
#' @section What the page offers:
#' The article's training, full-batch gradient descent (`optimizer = "gd"`)
#' with one hidden layer, in either bias layout (`bias = "column"`, the
#' NumPy program, or `"row"`, the R program), with any hidden activation,
#' a `"sigmoid"` or `"linear"` output and the `"sse"` or `"mse"` loss. The
#' other options of [mlp_train()] are accepted at their defaults, and
#' refused otherwise (train such networks with [mlp_train()]). The page is a
#' spreadsheet: it takes up to 200 rows, 16 inputs, 16 hidden units, 4
#' outputs and 100000 epochs.
#'
#' @inheritParams mlp_train
#' @param hidden Units of the one hidden layer (default 3).
#' @param epochs Epochs of training, at least 1 (default 5000).
#' @param output Output activation: `"sigmoid"` (the default) or `"linear"`.
#' @param loss `"sse"` (the article's, the default) or `"mse"`.
#' @param seed `NULL`, or a seed: the starting weights are then those of
#'   `set.seed(seed)` followed by [mlp_train()], and R's RNG is left as it
#'   was. With `NULL` they are drawn from R's RNG as it stands, as
#'   [mlp_train()] draws them.
#' @param lang The language of the page's step names and labels: `"en"` or
#'   `"zh"` (the article's Chinese); the page has a toggle too.
#' @param digits Decimals shown in each cell (the formulas show more, and
#'   each cell's full value is in its tooltip).
#' @param width,height The widget's size, as for any htmlwidget (`NULL`:
#'   the container's).
#' @param elementId An id for the widget's element (`NULL`: one is made).
#' @param ... Other arguments of [mlp_train()]: accepted at their defaults
#'   (`optimizer = "gd"`, `weight_decay = 0`, ...), an error otherwise.
#' @return An htmlwidget of class `mlp_explore`. Printing it shows the page
#'   (in RStudio's viewer, or the browser); [htmlwidgets::saveWidget()]
#'   saves it.
#' @seealso [mlp_trace()] for the numbers of one iteration in R,
#'   [plot.mlp_trace()] for its static pictures.
#' @examples
#' X <- matrix(c(1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1), nrow = 3, byrow = TRUE)
#' Y <- matrix(c(1, 1, 0))
#' page <- mlp_explore(X, Y, bias = "row", seed = 42)
#' if (interactive()) page   # opens the page
#' # The same page, saved as one file (needs pandoc):
#' \donttest{
#' if (nzchar(Sys.which("pandoc"))) {
#'   file <- tempfile(fileext = ".html")
#'   htmlwidgets::saveWidget(page, file)
#'   unlink(file)
#' }
#' }
#' # Two inputs: the page also draws the decision surface
#' xor <- matrix(c(0, 0, 0, 1, 1, 0, 1, 1), ncol = 2, byrow = TRUE)
#' page <- mlp_explore(xor, c(0, 1, 1, 0), hidden = 4, lr = 0.5, seed = 1, lang = "zh")
#' @export
mlp_explore <- function(X, Y, hidden = NULL, epochs = NULL, lr = NULL, bias = NULL, init = NULL,
                        activation = NULL, output = NULL, loss = NULL, seed = NULL,
                        lang = c("en", "zh"), digits = 3, width = NULL, height = NULL,
                        elementId = NULL, ...) {
  if (missing(Y)) abort("`Y` is missing: give the targets, one row per row of `X`.")
  hint <- "see ?mlp_explore for its arguments"
  if (!is.character(lang) || length(lang) < 1L || anyNA(lang) || !all(lang %in% c("en", "zh"))) {
    abort("`lang` must be \"en\" or \"zh\"; not ", show_value(lang), ".")
  }
  lang <- lang[1L]
  digits <- check_count(digits, "digits")
  if (digits > 10) abort("`digits` must be at most 10, not ", digits, ".")
  if (!is.null(seed)) seed <- check_count(seed, "seed")
  own <- list(hidden = hidden, epochs = epochs, lr = lr, bias = bias, init = init,
              activation = activation, output = output, loss = loss)
  given <- check_given(c(own, list(...)), "mlp_explore()", hint)
  explore_offered(given)
  if (!is.null(given$hidden) && length(given$hidden) == 0L) {
    abort("`hidden` must be at least 1: the page shows the article's network, with one hidden layer.")
  }
  if (!is.null(given$hidden) && length(given$hidden) != 1L) {
    abort("`hidden` must be a single number: the page shows the article's network, with one ",
          "hidden layer; not ", length(given$hidden), " layers.")
  }
  if (length(given$activation) > 1L) {
    abort("`activation` must be a single name: the page's network has one hidden layer.")
  }
  x <- mold_xy(X, "X", init = given$init)$x
  target <- as_target(Y, nrow(x))
  if (!is.null(target$levels)) {
    abort("`Y` is a factor: the page shows the article's network with numeric targets; ",
          "give them as 0/1 columns (one per class) or use mlp_train() for classification.")
  }
  explore_size(x, target$y, given)

  rng <- explore_rng(seed)
  on.exit(rng$restore())
  # The start as mlp_train() draws it, from the same options and RNG state.
  spec <- training_spec(x, target, c(given, list(optimizer = "gd", verbose = FALSE, threads = 1)),
                        keep_training = FALSE)
  if (length(spec$hidden) != 1L) {
    abort("`init` must describe a network with one hidden layer: the page shows the ",
          "article's network.")
  }
  if (spec$hidden > 16) {
    abort("`init` has ", spec$hidden, " hidden units; the page shows at most 16.")
  }
  after_start <- rng$state()
  starts <- explore_starts(spec, given, rng)
  rng$set(after_start)

  n <- nrow(spec$x)
  names_of <- function(m, prefix) {
    cn <- colnames(m)
    if (is.null(cn) || anyNA(cn) || !all(nzchar(cn))) paste0(prefix, seq_len(ncol(m))) else cn
  }
  data <- list(
    X = explore_matrix(spec$x), Y = explore_matrix(spec$y),
    x_names = as.list(names_of(spec$x, "x")), y_names = as.list(names_of(spec$y, "y")),
    start = explore_params(spec$params),
    starts = starts,
    settings = list(hidden = spec$hidden, epochs = spec$epochs, lr = sprintf("%.17g", spec$lr),
                    bias = spec$bias, activation = spec$activation, output = spec$output,
                    loss = spec$loss, init = spec$init, init_given = !is.null(given$init),
                    seed = seed, lang = lang, digits = digits, rows = n),
    offered = list(activation = as.list(explore_activations), output = as.list(explore_outputs),
                   loss = as.list(explore_losses)),
    init_of = stats::setNames(lapply(explore_activations, function(a) {
      if (is.character(given$init)) given$init else default_init(a)
    }), explore_activations)
  )
  htmlwidgets::createWidget("mlp_explore", data, width = width, height = height,
                            package = "backprop", elementId = elementId,
                            sizingPolicy = htmlwidgets::sizingPolicy(
                              defaultWidth = "100%", defaultHeight = "auto",
                              viewer.fill = FALSE, browser.fill = FALSE, knitr.figure = FALSE,
                              padding = 8))
}

# What the page's JavaScript transcribes (inst/htmlwidgets/mlp_explore.js):
# every hidden activation of the Rust core as it stands, two outputs, two
# losses. An activation the core gains later is refused by the page until
# the page is taught it.
explore_activations <- c("sigmoid", "tanh", "relu", "leaky_relu", "linear", "softplus", "elu",
                         "selu", "gelu", "silu", "mish")
explore_outputs <- c("sigmoid", "linear")
explore_losses <- c("sse", "mse")
# The options the page sets itself, and those it takes only at mlp_train()'s
# values for the article's training (threads and verbose change nothing).
explore_own <- c("hidden", "epochs", "lr", "bias", "init", "activation", "output", "loss")
explore_ignored <- c("threads", "verbose")

# Options the page does not offer are errors naming them, unless they are
# given at the value that asks for nothing (their default).
explore_offered <- function(given) {
  if (!is.null(given$activation) && !all(given$activation %in% explore_activations)) {
    abort("`activation = \"", setdiff(given$activation, explore_activations)[1], "\"` is not offered by ",
          "the page, which shows ", paste0('"', explore_activations, '"', collapse = ", "),
          "; train it with mlp_train().")
  }
  if (!is.null(given$output) && !(given$output %in% explore_outputs)) {
    abort("`output = \"", given$output, "\"` is not offered by the page, which shows a ",
          "\"sigmoid\" or \"linear\" output; train it with mlp_train().")
  }
  if (!is.null(given$loss) && !(given$loss %in% explore_losses)) {
    abort("`loss = \"", given$loss, "\"` is not offered by the page, which shows the ",
          "\"sse\" (the article's) or \"mse\" loss; train it with mlp_train().")
  }
  if (identical(given$epochs, 0)) {
    abort("`epochs` must be at least 1: the page shows the steps of an epoch.")
  }
  if (!is.null(given$epochs) && given$epochs > 1e5) {
    abort("`epochs` must be at most 100000 for the page, not ", format(given$epochs, scientific = FALSE), ".")
  }
  for (name in setdiff(names(given), c(explore_own, explore_ignored))) {
    if (!identical(given[[name]], option_table[[name]]$default)) {
      value <- given[[name]]
      abort("`", name, " = ", if (is.function(value)) "<function>" else show_value(value),
            "` is not offered by the page, which shows the article's plain gradient descent ",
            "(`optimizer = \"gd\"`, no penalty, scaling, validation or schedule); train it with ",
            "mlp_train(), or leave `", name, "` out.")
    }
  }
  invisible()
}

# The page is a spreadsheet: it shows every cell. And it trains in the
# browser, at about a billion multiply-adds a second: at most two billion
# for the largest hidden size it offers.
explore_size <- function(x, y, given) {
  limit <- function(arg, what, value, max, fix) {
    if (value > max) {
      abort("`", arg, "` has ", value, " ", what, "; the page shows at most ", max, ": ", fix, ".")
    }
  }
  limit("X", "rows", nrow(x), 200, "give a sample of the rows")
  limit("X", "columns", ncol(x), 16, "give at most 16 inputs")
  limit("Y", "columns", ncol(y), 4, "give at most 4 outputs")
  hidden <- given$hidden %||% option_defaults$hidden
  if (hidden > 16) abort("`hidden` must be at most 16 for the page, not ", hidden, ".")
  epochs <- given$epochs %||% option_defaults$epochs
  per_epoch <- nrow(x) * max(8, hidden) * (ncol(x) + ncol(y)) * 3
  if (per_epoch * epochs > 2e9) {
    abort("The page would train for too long (", nrow(x), " rows, ", format(epochs, scientific = FALSE),
          " epochs): give ",
          "at most ", floor(2e9 / per_epoch), " `epochs`, or fewer rows.")
  }
  invisible()
}

# R's RNG for the draws: its state before them (`seed` set, or the state as
# it stands, initialized if there is none yet), with functions to read and
# set it, and to restore the caller's with a `seed` (without one the draws
# advance the stream, as mlp_train()'s do).
explore_rng <- function(seed) {
  env <- globalenv()
  had <- exists(".Random.seed", envir = env, inherits = FALSE)
  saved <- if (had) get(".Random.seed", envir = env, inherits = FALSE)
  if (!is.null(seed)) {
    set.seed(seed)
  } else if (!had) {
    set.seed(NULL)
  }
  state <- function() get(".Random.seed", envir = env, inherits = FALSE)
  list(
    start = state(),
    state = state,
    set = function(s) assign(".Random.seed", s, envir = env),
    restore = function() {
      if (is.null(seed)) return(invisible())
      if (had) assign(".Random.seed", saved, envir = env) else
        rm(".Random.seed", envir = env, inherits = FALSE)
    }
  )
}

# The starts the page switches to when its hidden size or activation is
# changed: for 1 to max(8, hidden) units and each start family the
# activations use, what mlp_train() would draw from the same RNG state. Not
# when `init` gives the matrices (the page then keeps the hidden size).
explore_starts <- function(spec, given, rng) {
  if (!is.null(given$init) && !is.character(given$init)) return(list())
  inits <- if (is.character(given$init)) given$init else
    unique(vapply(explore_activations, default_init, ""))
  d <- ncol(spec$x)
  o <- ncol(spec$y)
  n <- nrow(spec$x)
  out <- list()
  for (h in seq_len(max(8, spec$hidden))) for (init in inits) {
    rng$set(rng$start)
    params <- draw_params(init, c(d, h, o), spec$bias, n)
    out[[length(out) + 1L]] <- c(list(hidden = h, init = init), explore_params(params))
  }
  out
}

# Matrices for the page: rows, columns and the values row by row, each
# written with 17 significant digits, so that the page reads the same doubles.
explore_matrix <- function(m) {
  list(rows = nrow(m), cols = ncol(m), data = as.list(sprintf("%.17g", t(m))))
}

explore_params <- function(params) {
  list(wh = explore_matrix(params$weights[[1]]), bh = explore_matrix(params$biases[[1]]),
       wout = explore_matrix(params$weights[[2]]), bout = explore_matrix(params$biases[[2]]))
}
