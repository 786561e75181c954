# Starting weights. Every draw comes from R's RNG, so set.seed() governs them.

# Draws (weights, biases) for layer sizes `sizes` = c(d, h1, ..., o), layer by
# layer, weights before biases: for one hidden layer the article's order
# wh, bias_in, wout, bias_out. The draws are R's own rnorm() and runif()
# deviates, made in Rust (draw_params_ in src/rust/src/lib.rs lists them per
# `init`) under one fetch of R's RNG state. The article's R program lays a
# per-unit bias vector out as an n x units matrix with
# `matrix(rep(b, n), nrow = n, byrow = FALSE)`: column-wise recycling, so row
# i of column j holds b[((j - 1) * n + i - 1) %% units + 1]; `bias = "row"`
# reproduces it literally, quirk included.
draw_params <- function(init, sizes, bias, n) {
  draw_params_(init, as.numeric(sizes), if (bias == "row") as.numeric(n) else 1)
}

# The caller's starting matrices: list(wh, bh, wout, bout), list(weights,
# biases), or a previous fit. Returns list(weights, biases, bias) after
# checking every shape; the caller's objects are only read.
given_params <- function(init, d, o, n, hidden, hidden_given, bias, bias_given) {
  if (inherits(init, "mlp_fit")) {
    init <- list(weights = init$weights, biases = init$biases)
  }
  article_names <- c("wh", "bh", "wout", "bout")
  if (all(article_names %in% names(init))) {
    weights <- list(init$wh, init$wout)
    biases <- list(init$bh, init$bout)
    wnames <- c("init$wh", "init$wout")
    bnames <- c("init$bh", "init$bout")
  } else if (all(c("weights", "biases") %in% names(init)) &&
             is.list(init$weights) && is.list(init$biases) &&
             length(init$weights) >= 1L && length(init$weights) == length(init$biases)) {
    weights <- init$weights
    biases <- init$biases
    wnames <- paste0("init$weights[[", seq_along(weights), "]]")
    bnames <- paste0("init$biases[[", seq_along(biases), "]]")
  } else {
    abort("`init` must be \"article\", \"uniform\", \"xavier\", \"he\", a previous fit, ",
          "list(wh =, bh =, wout =, bout =) or list(weights =, biases =) ",
          "with one matrix per layer in each.")
  }
  layers <- length(weights)
  for (l in seq_len(layers)) {
    weights[[l]] <- as_param_matrix(weights[[l]], wnames[l])
  }
  sizes <- c(nrow(weights[[1]]), vapply(weights, ncol, integer(1)))
  if (sizes[1] != d) {
    abort("`", wnames[1], "` must have one row per column of `X` (", d, "), not ",
          sizes[1], ".")
  }
  for (l in seq_len(layers)[-1]) {
    if (nrow(weights[[l]]) != sizes[l]) {
      abort("`", wnames[l], "` must have ", sizes[l], " rows (the units of the layer ",
            "below), not ", nrow(weights[[l]]), ".")
    }
  }
  if (sizes[layers + 1L] != o) {
    abort("`", wnames[layers], "` must have one column per column of `Y` (", o,
          "), not ", sizes[layers + 1L], ".")
  }
  if (hidden_given && !identical(as.numeric(hidden), as.numeric(sizes[-c(1, layers + 1L)]))) {
    abort("`hidden` (", paste(hidden, collapse = ", "), ") contradicts the shapes of ",
          "`init`, which have ", paste(sizes[-c(1, layers + 1L)], collapse = ", "),
          " hidden units.")
  }
  # Each bias block tells its layout by its shape: 1 x units (or a vector) is
  # the column layout, n x units the row layout.
  layouts <- character(layers)
  for (l in seq_len(layers)) {
    units <- sizes[l + 1L]
    b <- biases[[l]]
    if (is.null(dim(b)) && is.numeric(b) && length(b) == units) b <- matrix(b, nrow = 1L)
    b <- as_param_matrix(b, bnames[l])
    if (ncol(b) != units || !(nrow(b) %in% c(1L, n))) {
      abort("`", bnames[l], "` must be 1 x ", units, " (column layout) or ", n, " x ",
            units, " (row layout), not ", nrow(b), " x ", ncol(b), ".")
    }
    layouts[l] <- if (nrow(b) == n && n != 1L) "row" else "column"
    biases[[l]] <- b
  }
  if (n == 1L) layouts[] <- bias
  if (length(unique(layouts)) != 1L) {
    abort("`init` mixes bias layouts: every bias must be 1 x units (column layout) ",
          "or every one n x units (row layout).")
  }
  if (bias_given && layouts[1] != bias) {
    abort("`bias = \"", bias, "\"` contradicts the shape of `", bnames[1], "` (",
          nrow(biases[[1]]), " x ", ncol(biases[[1]]), "), which is the ",
          layouts[1], " layout.")
  }
  list(weights = weights, biases = biases, bias = layouts[1])
}

# A fit continued on data whose input columns, classes or output columns
# come in another order than the fit's: matched by name, as predict()
# matches new data, with the fit's parameters and scaling permuted to the
# new order. Inputs or classes that are not the fit's are refused: matched
# by position, they would pair a weight with another column, silently.
# (A single output, or a quantile band's two, may be renamed.)
aligned_fit <- function(fit, x_names, y_names, levels) {
  if (!is.null(fit$levels) && is.null(levels)) {
    abort("`init` is a classifier of the classes ", name_list(fit$levels), ", but this response ",
          "is numbers (a logical response read by mlp_train() as 0 and 1, or one-hot columns): ",
          "give it as a factor of those classes. (backprop() reads a logical response as two ",
          "classes.)")
  }
  if (is.null(fit$levels) && !is.null(levels)) {
    abort("`init` is a regression, but this response is the classes ", name_list(levels),
          ": continue it with a numeric response, or fit a classifier anew.")
  }
  fit <- align_side(fit, "inputs", fit$x_names, x_names, first = TRUE)
  if (!is.null(fit$levels) && !is.null(levels)) {
    fit <- align_side(fit, "classes", fit$levels, levels, first = FALSE)
  } else if (is.null(fit$levels) && is.null(levels) && length(y_names) > 1L &&
             is.null(band_levels(fit$loss_function, fit$options))) {
    fit <- align_side(fit, "outputs", fit$y_names, y_names, first = FALSE)
  }
  fit
}

# What a fit cannot be continued with: an ensemble (a continued fit is one
# network, and its other members would be dropped), or a `scale` other
# than the fit's own (its weights are in the units it was trained in).
continued_fit_checks <- function(fit, given) {
  members <- length(fit$members)
  if (members > 1L) {
    abort("`init` is an ensemble of ", members, " networks; a continued fit is one network. ",
          "Fit the ensemble again with more `epochs`.")
  }
  scaled <- !is.null(fit$scaling)
  if (!is.null(given$scale) && !identical(given$scale, scaled)) {
    abort("`scale = ", given$scale, "` contradicts `init`, a fit trained ",
          if (scaled) "on" else "without", " standardized data: a continued fit keeps its ",
          "scaling, in whose units its weights are. Leave `scale` out.")
  }
}

# The fit with its first layer's rows (`first`) or its last layer's
# columns, and the matching scaling, in the order of `new` names.
align_side <- function(fit, what, old, new, first) {
  if (is.null(old) || is.null(new) || identical(old, new)) return(fit)
  at <- match(new, old)
  if (length(new) != length(old) || anyNA(at) || anyDuplicated(at)) {
    abort("`init` is a fit of the ", what, " ", name_list(old), "; the data have ",
          name_list(new), ". Continue a fit on the same ", what, ", in any order.")
  }
  permute <- function(net) {
    last <- length(net$weights)
    if (first) {
      net$weights[[1L]] <- net$weights[[1L]][at, , drop = FALSE]
    } else {
      net$weights[[last]] <- net$weights[[last]][, at, drop = FALSE]
      net$biases[[last]] <- net$biases[[last]][, at, drop = FALSE]
    }
    net
  }
  permuted <- permute(fit[c("weights", "biases")])
  fit[c("weights", "biases")] <- permuted
  if (!is.null(fit$members)) fit$members <- lapply(fit$members, permute)
  side <- if (first) "x" else "y"
  if (!is.null(fit$scaling[[side]])) {
    fit$scaling[[side]] <- lapply(fit$scaling[[side]], function(s) s[at])
  }
  switch(what, inputs = fit$x_names <- new, classes = fit$levels <- new, outputs = fit$y_names <- new)
  fit
}

# `a`, `b` and `c` (at most six names, then how many more).
name_list <- function(names) {
  shown <- paste0("`", utils::head(names, 6L), "`", collapse = ", ")
  if (length(names) > 6L) paste0(shown, " and ", length(names) - 6L, " more") else shown
}

as_param_matrix <- function(x, arg) {
  if (!is.numeric(x) || !is.matrix(x)) {
    abort("`", arg, "` must be a numeric matrix, not ", describe(x), ".")
  }
  if (anyNA(x) || any(is.infinite(x))) {
    abort("`", arg, "` must contain finite numbers only.")
  }
  # A fresh double copy: the caller's matrix is never touched.
  matrix(as.double(x), nrow(x), ncol(x))
}

# Data that continue a fit `init` are coded by the fit's own blueprint, as
# predict() codes new data: coded afresh, terms such as poly() and scale()
# and a recipe's trained steps (step_normalize(), step_pca()) would be
# recomputed on the new rows and mean other things under the same names.
# The fit's inputs (its formula's terms, its data frame's columns, its
# recipe) are coded the fit's way; other inputs are matched by name, and
# refused where a name could mean something else; a formula's other
# response is the new call's.

# How data given with `formula` continue a formula fit `init`: "own" when
# `formula`, read against `data`, is the fit's formula (the same input
# terms, intercept and response): mold_formula() then evaluates the data's
# frame with the fit's terms (the fit's poly() and scale() bases, for the
# response too); "inputs" when only the response differs: the frame is
# evaluated with the fit's terms holding the call's response
# (with_response()). Both code the inputs with continued_inputs().
# NULL: other inputs, molded afresh and matched to the fit's by name.
continued_formula <- function(init, formula, data) {
  if (!inherits(init, "mlp_fit") || !identical(init$blueprint$kind, "formula") ||
      !inherits(formula, "formula")) {
    return(NULL)
  }
  own <- attr(init$model, "terms")
  given <- tryCatch(stats::terms(formula, data = data), error = function(e) NULL)
  # (An offset is refused by the fresh mold.)
  if (is.null(own) || is.null(given) || attr(given, "response") == 0L ||
      length(attr(given, "offset"))) {
    return(NULL)
  }
  response <- function(terms) deparse(attr(terms, "variables")[[attr(terms, "response") + 1L]])
  inputs <- setequal(attr(given, "term.labels"), attr(own, "term.labels")) &&
    identical(attr(given, "intercept"), attr(own, "intercept"))
  if (!inputs) NULL else if (identical(response(given), response(own))) "own" else "inputs"
}

# The mold of a model frame whose inputs are `init`'s: coded by the fit's
# blueprint from the frame's rows of `data`. The response is the frame's,
# as the blueprint's outcome.
continued_inputs <- function(init, frame, data) {
  at <- match(row.names(frame), row.names(data))
  if (anyNA(at)) {
    # (model.frame() renames a row that `subset` repeats.)
    abort("`subset` repeats rows of `data`; a fit continued with `init` takes each row once. ",
          "Give a row more weight with `weights`.")
  }
  rows <- data[at, , drop = FALSE]
  # Variables outside `data` are the call's, in the frame's environment (a
  # fresh frame's, as mold_formula() evaluates it), not the fit's; those
  # of one value per row of `data` are taken on the frame's rows, as the
  # frame took them.
  blueprint <- init$blueprint
  environment(blueprint$terms) <- environment(attr(frame, "terms"))
  for (name in setdiff(all.vars(blueprint$terms), names(data))) {
    value <- get0(name, envir = environment(blueprint$terms))
    if (is.atomic(value) && NROW(value) == nrow(data)) {
      rows[[name]] <- if (is.matrix(value)) value[at, , drop = FALSE] else value[at]
    }
  }
  x <- forge(blueprint, rows, "data")
  refuse_na_inputs(x)
  dimnames(x)[[1L]] <- row.names(frame)
  blueprint$outcome <- evaluated_response(attr(frame, "terms"))
  # (The frame's first column is its response.)
  list(x = x, frame = frame, blueprint = blueprint, categories = frame_categories(frame[-1L]))
}

# The innermost object `name` of class `class` among the frames of the
# calls that led here, or NULL: how the engines that workflows and caret
# call learn how those coded the data they pass on.
calling_object <- function(name, class, package) {
  frames <- sys.frames()
  for (i in rev(seq_along(frames))) {
    # (Only the package's own functions: a user's object of that name and
    # class elsewhere on the stack is not what the package passed on.)
    if (!identical(environmentName(environment(sys.function(i))), package)) next
    object <- get0(name, envir = frames[[i]], inherits = FALSE)
    if (inherits(object, class)) return(object)
  }
  NULL
}

# Whether a recipe has steps that code the values of its columns, rather
# than only dropping columns (step_zv(), step_rm(), ...), dropping or
# ordering rows (step_naomit(), step_filter(), step_arrange()) or checking
# (check_missing()): under such steps, rows the recipe did not bake are
# not in the coding the network was fitted to.
recodes_values <- function(recipe) {
  # (Not step_select(), which can rename.)
  dropping <- c("step_zv", "step_nzv", "step_rm", "step_corr", "step_lincomb",
                "step_filter_missing", "step_naomit", "step_filter", "step_slice", "step_sample",
                "step_arrange")
  any(!vapply(recipe$steps, function(step) {
    # (A check_*() step checks and codes nothing.)
    inherits(step, "check") || any(class(step)[1L] == dropping)
  }, NA))
}

# The first term of `terms` whose coding depends on the data it was
# evaluated on (its predvars differ from its variables: poly(), scale(),
# splines), deparsed, or NULL.
recoded_term <- function(terms) {
  if (is.null(terms)) return(NULL)
  variables <- as.list(attr(terms, "variables"))[-1L]
  predvars <- as.list(attr(terms, "predvars") %||% attr(terms, "variables"))[-1L]
  recoded <- !vapply(seq_along(variables), function(i) identical(variables[[i]], predvars[[i]]),
                     logical(1))
  if (any(recoded)) paste(deparse(variables[[which(recoded)[1L]]]), collapse = "")
}

# Other inputs than the fit's are matched to its inputs by name: refused
# when a name may mean something else on these rows, as a term whose
# coding depends on the data (poly(), scale(), splines) or an ordered
# factor (whose contrasts depend on its levels) has.
refuse_recoded_inputs <- function(frame, arg) {
  terms <- attr(frame, "terms")
  variables <- as.list(attr(terms, "variables"))[-1L]
  predvars <- as.list(attr(terms, "predvars") %||% attr(terms, "variables"))[-1L]
  inputs <- setdiff(seq_along(variables), attr(terms, "response"))
  recoded <- inputs[!vapply(inputs, function(i) identical(variables[[i]], predvars[[i]]), logical(1)) |
                      vapply(inputs, function(i) is.ordered(frame[[i]]), logical(1))]
  if (length(recoded)) {
    term <- paste(deparse(variables[[recoded[1L]]]), collapse = "")
    abort("`", arg, "` gives other inputs than `init`'s, and `", term, "` would be coded on ",
          "these rows as the fit did not code it, under the same names. Continue with the ",
          "fit's inputs (a formula's response may differ), or fit anew.")
  }
}

# A recipe's design for data that continue `init`, or NULL for a fresh
# mold: when `recipe` is the fit's recipe (rebuilt or not: the same
# signature), the data are coded by the fit's trained recipe, as predict()
# codes them, and the recipe is not trained on them. (Their outcome is the
# data's: a step that changes the outcome on new data is refused at fit
# time, and one with skip = TRUE here.) Another recipe with steps is
# refused: its steps, trained on these rows, would give the fit's names
# other meanings.
continued_recipe <- function(recipe, data, weights, init) {
  if (!inherits(init, "mlp_fit")) return(NULL)
  own <- init$blueprint
  if (!identical(own$kind, "recipe")) {
    if (length(recipe$steps) == 0L) return(NULL)
    abort("`x` (the recipe) has steps that would code these rows anew, under names `init` ",
          "gives other meanings: `init` was not fitted with it. Continue with the fit's ",
          "interface, or fit anew.")
  }
  if (is.null(own$signature) || !identical(recipe_signature(recipe), own$signature)) {
    if (length(recipe$steps) == 0L && length(own$hardhat$recipe$steps) == 0L) return(NULL)
    abort("`x` (the recipe) is not the recipe `init` was fitted with: its steps, trained on ",
          "these rows, would give the fit's inputs other meanings. Continue with the fit's ",
          "recipe, or fit anew.")
  }
  if (!is.data.frame(data)) abort("`data` must be a data frame: the data of the recipe.")
  if (isFALSE(own$outcome_baked)) {
    abort("`init`'s recipe changes the outcome on its training rows alone (a step with ",
          "`skip = TRUE`): the outcome of other rows cannot be coded as it was. Transform the ",
          "outcome in the data, before the recipe.")
  }
  if (any(vapply(own$hardhat$recipe$steps, function(step) {
    isTRUE(step$skip) && inherits(step, unlist(row_steps))
  }, logical(1)))) {
    abort("`init`'s recipe drops rows of `data` on its training rows alone (a step with ",
          "`skip = TRUE`): the rows it would code are not those it trains on. Continue the ",
          "fit on data without the rows the recipe drops.")
  }
  x <- forge(own, data, "data")
  refuse_na_inputs(x)
  dimnames(x)[[1L]] <- row.names(data)
  outcomes <- tryCatch(
    suppressWarnings(hardhat::forge(data, own$hardhat, outcomes = TRUE)$outcomes),
    error = function(e) abort("`data` cannot give the outcome ", name_list(own$outcome_names),
                              " as `init`'s recipe codes it: ", conditionMessage(e))
  )
  # (hardhat turns a class the fit lacks into NA, with a warning.)
  for (name in names(outcomes)) {
    if (anyNA(outcomes[[name]]) && !anyNA(data[[name]])) {
      abort("`data`'s outcome `", name, "` has classes `init` was not fitted to (its classes: ",
            name_list(levels(outcomes[[name]])), "). Continue on rows of those classes, or ",
            "fit anew.")
    }
  }
  y <- if (ncol(outcomes) == 1L) outcomes[[1L]] else as.matrix(outcomes)
  if (is.numeric(y) && is.null(dim(y))) y <- matrix(y, dimnames = list(NULL, names(outcomes)))
  # The case weights are the recipe's column, as at fit time.
  if (!is.null(own$weights)) {
    if (!is.null(weights)) {
      abort("`weights` and the recipe's case_weights column `", own$weights, "` both give ",
            "weights; give one.")
    }
    weights <- as.double(unclass(data[[as.character(own$weights)]]))
  }
  list(x = x, y = y, weights = weights, blueprint = own,
       categories = dummy_categories(dummy_blocks(own$hardhat$recipe, x), x))
}

# A fit of a recipe with steps codes its inputs by those steps: data given
# another way, under the same names, would mean something else.
refuse_recipe_fit <- function(init) {
  if (inherits(init, "mlp_fit") && identical(init$blueprint$kind, "recipe") &&
      length(init$blueprint$hardhat$recipe$steps) > 0L) {
    abort("`init` was fitted with a recipe whose steps code its inputs; continue it with that ",
          "recipe, as backprop(recipe, data, init = fit), or fit anew.")
  }
}

refuse_na_inputs <- function(x) {
  if (anyNA(x)) {
    abort("`data` has rows that `init`'s coding leaves with NA inputs; remove or impute them.")
  }
}

# What makes a recipe the one a fit was trained with, before training: its
# variables and their roles, and each step's class and arguments (the
# fields given before training; the id, which update() keeps, left out;
# selectors as their expressions, not their environments).
recipe_signature <- function(recipe) {
  steps <- lapply(recipe$steps, function(step) {
    given <- names(step)[!vapply(step, is.null, logical(1))]
    fields <- unclass(step)[setdiff(given, c("id", "trained"))]
    list(class = class(step), fields = lapply(fields, step_value))
  })
  variables <- recipe$var_info
  list(variables = sort(paste(variables$variable, variables$role)), steps = steps)
}

# A step's field without environments: a selector (a quosure) as its
# expression, a function as its code.
step_value <- function(x) {
  if (inherits(x, "formula")) {
    x <- unclass(x)
    return(if (length(x)) paste(deparse(x[[length(x)]]), collapse = "") else "")
  }
  if (is.function(x)) return(paste(deparse(x), collapse = "\n"))
  if (is.list(x) && !is.data.frame(x)) return(lapply(unclass(x), step_value))
  x
}
