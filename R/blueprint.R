# The one path by which data enters a fit. At fit time mold_*() turns the
# data of an interface into the network's input matrix and a blueprint; at
# predict time forge() turns new data into an input matrix the same way,
# whatever the interface. predict(), fitted(), augment(), mlp_importance(),
# mlp_partial() and validation data all pass through forge(). Kinds:
# * "matrix": a numeric matrix or vector (columns matched by name when it
#   has names, else by position);
# * "formula": a model frame's terms (the formula interface, and a data
#   frame of the x/y interface as `~ .` over its columns): columns matched by
#   name, types checked against training, factor levels coded with the
#   levels that had training rows; a variable the training data held must
#   be in new data, one from outside it may come from the formula's
#   environment, as lm() reads it;
# * "recipe": a hardhat blueprint of a recipes::recipe().

# The x of the x/y interface: list(x = input matrix, blueprint, extent),
# its check on the fit's `threads` (NULL: the default).
mold_xy <- function(X, arg, threads = NULL, init = NULL) {
  if (!is.null(init)) refuse_recipe_fit(init)
  # is.list() first: a primitive, where is.data.frame() is a closure that
  # costs microseconds on the article's tiny calls.
  if (is.list(X) && is.data.frame(X)) return(mold_frame(X, arg, init))
  if (isS4(X) && inherits(X, "Matrix")) X <- sparse_as_matrix(X)
  m <- data_matrix(X, arg, threads = threads)
  x <- m$x
  columns <- dimnames(x)[[2L]]
  # New data is matched to named columns by name: a repeated or empty name
  # would match the wrong column, or none.
  if (!is.null(columns) && (anyDuplicated(columns) || anyNA(columns) || !all(nzchar(columns)))) {
    bad <- columns[is.na(columns) | !nzchar(columns) | duplicated(columns)][1L]
    abort("`", arg, "` must have unique, non-empty column names, or none; ",
          if (is.na(bad) || !nzchar(bad)) "a column has none" else paste0("`", bad, "` repeats"),
          ". Rename the columns, or remove the names with `colnames(", arg, ") <- NULL`.")
  }
  list(x = x, blueprint = list(kind = "matrix", names = columns, ncol = dim(x)[2L]),
       extent = m$extent)
}

# A data frame of the x/y interface, coded as the formula `~ .` codes it;
# the variables of a fit `init` (of a data frame or a formula) continues
# on, as that fit coded them (its factors' levels and contrasts, its
# terms' bases), as predict() codes them.
mold_frame <- function(data, arg, init = NULL) {
  if (ncol(data) == 0L || nrow(data) == 0L) {
    abort("`", arg, "` must have at least one row and one column, not ", nrow(data), " x ",
          ncol(data), ".")
  }
  columns <- names(data)
  if (is.null(columns) || anyNA(columns) || !all(nzchar(columns)) || anyDuplicated(columns)) {
    abort("`", arg, "` must have unique, non-empty column names.")
  }
  for (nm in columns) {
    col <- data[[nm]]
    check_variable_type(col, paste0("`", arg, "` column `", nm, "`"))
    if (anyNA(col)) {
      abort("`", arg, "` column `", nm, "` contains NA; remove or impute those rows ",
            "(the formula interface drops them with `na.action`).")
    }
  }
  continuing <- inherits(init, "mlp_fit")
  if (continuing && identical(init$blueprint$kind, "formula") &&
      setequal(columns, blueprint_variables(init$blueprint))) {
    # (The response and weights are the call's, never in `data`.)
    blueprint <- init$blueprint
    blueprint$outcome <- blueprint$weights <- NULL
    return(list(x = forge(blueprint, data, arg), blueprint = blueprint,
                categories = frame_categories(data)))
  }
  formula <- stats::reformulate(paste0("`", columns, "`"))
  environment(formula) <- baseenv()
  frame <- stats::model.frame(formula, data = data, drop.unused.levels = FALSE)
  molded <- mold_model_frame(frame, arg)
  if (continuing) refuse_recoded_inputs(frame, arg)
  molded$blueprint$columns <- columns
  molded
}

# A variable the network can read: numbers, logicals, factors, characters
# (and numeric matrices, such as poly() makes). Dates and the like are
# refused with a message that says what to do.
check_variable_type <- function(col, what) {
  ok <- (is.numeric(col) && !is.object(col)) || is.logical(col) || is.factor(col) ||
    is.character(col) || (is.matrix(col) && is.numeric(col))
  if (ok) return(invisible())
  class_name <- class(col)[1L]
  if (inherits(col, c("Date", "POSIXt", "difftime"))) {
    abort(what, " is a ", class_name, ": backprop reads numbers, logicals and factors. ",
          "Give it as a number, for example as.numeric() (days or seconds since 1970-01-01), ",
          "or derive features from it (weekday, month) first.")
  }
  abort(what, " must be numeric, logical, a factor or character, not ",
        if (is.list(col)) "a list" else paste0("of class \"", class_name, "\""), ".")
}

# A model frame's inputs: the design matrix (treatment contrasts, no
# intercept column) and the blueprint that codes new data the same way.
# Factor levels with no training rows are dropped, so that new data holding
# one is refused, as lm() refuses it, rather than predicted from an
# untrained dummy column.
mold_model_frame <- function(frame, arg) {
  terms <- attr(frame, "terms")
  if (length(attr(terms, "offset"))) {
    abort("`", arg, "` has an offset() term; backprop fits no offsets. Remove it, or ",
          "give the variable as a predictor.")
  }
  classes <- attr(terms, "dataClasses")
  response <- attr(terms, "response")
  # The response as a term of its own (y ~ y + x): model.matrix() would
  # name every input after the one before it, and no warning says so.
  factors <- attr(terms, "factors")
  if (response > 0L && length(factors) && any(factors[response, ] != 0L)) {
    abort("`", arg, "` has the response `", rownames(factors)[response], "` among its ",
          "predictors; remove it from the right-hand side.")
  }
  xterms <- stats::delete.response(terms)
  # The predictors are the variables of the terms without the response;
  # dataClasses also lists the model frame's "(weights)".
  variables <- vapply(as.list(attr(xterms, "variables"))[-1L],
                      function(v) paste(deparse(v, width.cutoff = 500L), collapse = ""), "")
  predictors <- intersect(names(classes), variables)
  for (nm in predictors) {
    if (identical(unname(classes[nm]), "other")) {
      check_variable_type(frame[[nm]], paste0("`", arg, "` variable `", nm, "`"))
    }
    col <- frame[[nm]]
    if (is.factor(col) || is.character(col)) {
      col <- if (is.factor(col)) droplevels(col) else factor(col)
      if (nlevels(col) < 2L) {
        abort("`", arg, "` variable `", nm, "` has ",
              if (nlevels(col) == 1L) paste0("one level with training rows (\"", levels(col), "\")")
              else "no values", "; a factor needs at least two. Drop it from the predictors.")
      }
      frame[[nm]] <- col
    }
  }
  xlevels <- stats::.getXlevels(terms, frame)
  x <- design_matrix(xterms, frame)
  contrasts <- attr(x, "contrasts")
  attr(x, "contrasts") <- NULL
  if (ncol(x) == 0L) abort("`", arg, "` has no predictors: the network needs at least one input.")
  # The one pass over the inputs at fit time (see mold_xy()).
  extent <- extent_of(x)
  if (extent[3L] > 0) {
    abort("`", arg, "` variable `", colnames(x)[which(colSums(is.infinite(x)) > 0L)[1L]],
          "` contains Inf; remove or replace those values: the network needs finite inputs.")
  }
  # NA inputs that `na.action` kept (na.pass): a network has no value for them.
  if (extent[2L] > 0) {
    with_na <- predictors[vapply(frame[predictors], anyNA, logical(1))]
    abort("`", arg, "` variable `", c(with_na, colnames(x)[colSums(is.na(x)) > 0L])[1L],
          "` contains NA or NaN on rows that `na.action` kept; remove those rows (the default ",
          "`na.action = na.omit` does) or impute them: the network needs every input.")
  }
  # A matrix predictor's column names, by which new data's are matched.
  matrix_columns <- Filter(Negate(is.null), lapply(frame[predictors], function(col) {
    if (is.matrix(col)) colnames(col)
  }))
  list(x = x, frame = frame, extent = extent, categories = frame_categories(frame[predictors]),
       blueprint = list(
    kind = "formula", terms = xterms, classes = classes[predictors], xlevels = xlevels,
    contrasts = contrasts, names = colnames(x), ncol = ncol(x),
    matrix_columns = if (length(matrix_columns)) matrix_columns,
    # The response as the fit evaluated it: its predvars keep the training
    # rows' centre and spread of a scale(y), which outcome_in() applies to
    # other rows.
    outcome = if (response > 0L) evaluated_response(terms)
  ))
}

# The response of model frame terms as the frame evaluated it: its
# predvars keep a scale(y)'s training centre and spread.
evaluated_response <- function(terms) {
  (attr(terms, "predvars") %||% attr(terms, "variables"))[[attr(terms, "response") + 1L]]
}

# The terms `own` with the response of `formula` read against `data`, so
# that a model frame of them evaluates the inputs as `own` codes them (its
# poly() and scale() bases) and the response as `formula` gives it: its
# predvars are those of a frame of the response alone, as a frame of
# `formula` would compute them on the same rows.
with_response <- function(own, formula, data) {
  response <- formula[[2L]]
  lhs <- stats::as.formula(call("~", response, 1), env = environment(formula))
  alone <- attr(stats::model.frame(lhs, data = data, na.action = stats::na.pass), "terms")
  at <- attr(own, "response") + 1L
  terms <- own
  terms[[2L]] <- response
  environment(terms) <- environment(formula)
  variables <- attr(own, "variables")
  variables[[at]] <- response
  predvars <- attr(own, "predvars") %||% attr(own, "variables")
  predvars[[at]] <- evaluated_response(alone)
  attr(terms, "variables") <- variables
  attr(terms, "predvars") <- predvars
  if (length(attr(terms, "factors"))) {
    rownames(attr(terms, "factors"))[at - 1L] <- names(attr(alone, "dataClasses"))
  }
  classes <- attr(own, "dataClasses")
  classes[at - 1L] <- attr(alone, "dataClasses")
  names(classes)[at - 1L] <- names(attr(alone, "dataClasses"))
  attr(terms, "dataClasses") <- classes
  terms
}

# model.matrix() without its intercept column and assign attribute; its
# "contrasts" attribute is the caller's to keep or drop.
design_matrix <- function(terms, frame, contrasts = NULL) {
  x <- stats::model.matrix(terms, frame, contrasts.arg = contrasts)
  contrasts <- attr(x, "contrasts")
  x <- x[, colnames(x) != "(Intercept)", drop = FALSE]
  attr(x, "assign") <- NULL
  attr(x, "contrasts") <- contrasts
  storage.mode(x) <- "double"
  x
}

# The formula interface: the model frame, evaluated in the caller's frame as
# lm() does (so `subset` and `weights` are evaluated in `data`), molded.
# Returns the design: x, y (the response as the model frame holds it),
# weights, the rows na.action dropped, the model frame and the blueprint.
mold_formula <- function(call, formula_arg, env, init = NULL) {
  refuse_recipe_fit(init)
  keep <- match(c(formula_arg, "data", "subset", "weights", "na.action"), names(call), 0L)
  mf <- call[c(1L, keep)]
  names(mf)[names(mf) == formula_arg] <- "formula"
  if (is.null(mf$na.action)) mf$na.action <- quote(stats::na.omit)
  # Unused levels stay here: a response's classes are the levels of its
  # factor. mold_model_frame() drops the predictors' unused levels.
  mf$drop.unused.levels <- FALSE
  mf[[1L]] <- quote(stats::model.frame)
  frame <- tryCatch({
    # `weights` and `subset` evaluated here, in `data` and then the caller's
    # frame, rather than by model.frame() in the formula's environment: so
    # they also work when passed on through a wrapper's `...`.
    data <- eval(mf$data, env)
    mf$data <- data
    for (arg in intersect(c("weights", "subset"), names(mf))) {
      mf[arg] <- list(eval(mf[[arg]], data, env))
    }
    formula <- eval(mf$formula, env)
    continuing <- continued_formula(init, formula, data)
    # A continued fit's terms read variables outside `data` where the call
    # does (its formula's environment), as a fresh frame reads them.
    if (!is.null(continuing)) {
      own <- attr(init$model, "terms")
      if (continuing == "own") {
        environment(own) <- environment(formula)
        mf$formula <- own
      } else {
        mf$formula <- with_response(own, formula, data)
      }
    }
    eval(mf, env)
  }, error = function(e) {
    abort("`", formula_arg, "` cannot be used with `data`: ", conditionMessage(e))
  })
  terms <- attr(frame, "terms")
  if (is.data.frame(data)) {
    refuse_repeated(names(data), c(all.vars(terms), all.vars(call$weights), all.vars(call$subset)),
                    "data")
  }
  if (is.null(attr(terms, "response")) || attr(terms, "response") == 0L) {
    abort("`", formula_arg, "` must have a response, as in y ~ x1 + x2.")
  }
  if (nrow(frame) == 0L) abort("No rows are left to train on after `subset` and `na.action`.")
  if (is.null(continuing)) {
    molded <- mold_model_frame(frame, formula_arg)
    if (inherits(init, "mlp_fit")) refuse_recoded_inputs(frame, formula_arg)
  } else {
    molded <- continued_inputs(init, frame, data)
  }
  y <- stats::model.response(frame)
  # A numeric response keeps its name, as the output's name.
  if (is.numeric(y) && is.null(dim(y))) y <- matrix(y, dimnames = list(names(y), names(frame)[1L]))
  blueprint <- molded$blueprint
  # How the weights were given, so that validation rows given as data can
  # be weighted alike: a column of `data` (or an expression of its columns).
  blueprint$weights <- call$weights
  # The variables that `data` held (of the inputs, the response and the
  # weights), which new data must hold too: only those from outside `data`
  # are read from the formula's environment.
  blueprint$data_variables <- if (!is.null(names(data))) {
    intersect(c(all.vars(terms), all.vars(blueprint$terms), all.vars(call$weights)), names(data))
  }
  list(x = molded$x, y = y, weights = stats::model.weights(frame),
       categories = molded$categories,
       na_action = attr(frame, "na.action"), model = molded$frame,
       blueprint = blueprint, extent = molded$extent)
}

# A recipe and its data, through hardhat's mold(): the predictors must be
# numeric after the recipe's steps; a column with the "case_weights" role
# gives the observation weights.
mold_recipe <- function(recipe, data, weights) {
  if (missing(data) || !is.data.frame(data)) {
    abort("`data` must be a data frame: the data of the recipe.")
  }
  # A fit's rows, and a prediction's, are the data's rows in their order:
  # the row steps that may reorder them (step_sample() permutes them by
  # default) would hand them back in another, under the data's names.
  reordering <- vapply(recipe$steps, inherits, logical(1), what = row_steps$reorder)
  if (any(reordering)) {
    abort("`x` (the recipe) has ", class(recipe$steps[[which(reordering)[1L]]])[1L], "(), ",
          "which may reorder or resample the rows: fitted values, weights and predictions ",
          "would no longer follow the rows of the data. Order or sample the data before the ",
          "recipe.")
  }
  processed <- tryCatch(
    hardhat::mold(recipe, data),
    error = function(e) abort("`x` (the recipe) cannot be used with `data`: ", conditionMessage(e))
  )
  outcomes <- processed$outcomes
  if (ncol(outcomes) == 0L) abort("`x` (the recipe) must have an outcome role.")
  refuse_moved_rows(processed, data)
  y <- if (ncol(outcomes) == 1L) outcomes[[1L]] else as.matrix(outcomes)
  if (is.numeric(y) && is.null(dim(y))) y <- matrix(y, dimnames = list(NULL, names(outcomes)))
  # The recipe's steps see the rows as they are; the network needs every
  # input, as the x/y interface does (impute with the recipe's steps).
  x <- recipe_inputs(processed$predictors, "x (after the recipe's steps)", allow_na = FALSE)
  if (nrow(x) == nrow(data)) rownames(x) <- row.names(data)
  case_weights <- processed$extras$roles$case_weights
  if (!is.null(case_weights) && ncol(case_weights) > 0L) {
    if (!is.null(weights)) {
      abort("`weights` and the recipe's case_weights column `", names(case_weights)[1],
            "` both give weights; give one.")
    }
    weights <- as.double(unclass(case_weights[[1L]]))
  } else if (!is.null(weights) && length(weights) == nrow(data) && nrow(x) != nrow(data)) {
    abort("`weights` has one weight per row of `data` (", nrow(data), "), but the recipe ",
          "trains on ", nrow(x), " of them (a step with `skip = TRUE` drops rows): give the ",
          "weights as a column of `data` with the case weights role ",
          "(hardhat::frequency_weights() or importance_weights()), which keeps them with ",
          "their rows.")
  }
  # The levels of the original factor and character predictors that had
  # training rows: forge() refuses the others, as for the formula interface
  # (those of a factor step_dummy() codes, by its indicators).
  originals <- names(processed$blueprint$ptypes$predictors)
  trained <- trained_rows(recipe, data, outcomes, weights, processed$blueprint$recipe)
  xlevels <- lapply(trained[intersect(originals, names(trained))], function(col) {
    if (is.factor(col)) levels(droplevels(col)) else if (is.character(col)) sort(unique(col[!is.na(col)]))
  })
  xlevels <- xlevels[!vapply(xlevels, is.null, logical(1))]
  blocks <- dummy_blocks(processed$blueprint$recipe, x)
  blueprint <- list(kind = "recipe", hardhat = processed$blueprint, names = colnames(x),
                    ncol = ncol(x), outcome_names = names(outcomes), xlevels = xlevels,
                    dummy_blocks = blocks,
                    outcome_baked = outcome_bakes(processed, data),
                    signature = tryCatch(recipe_signature(recipe), error = function(e) NULL),
                    weights = if (!is.null(case_weights) && ncol(case_weights) > 0L) as.name(names(case_weights)[1L]))
  list(x = x, y = y, weights = weights, blueprint = blueprint,
       categories = dummy_categories(blocks, x))
}

# The rows of `data` that trained the network, as the data hold them
# (before the recipe's other steps), without rows of weight 0: the rows the
# recipe's row steps keep (step_naomit(), step_filter(), with `skip =
# TRUE`), found by running those steps alone. Where that cannot tell them
# (a row step that reads what an earlier step makes: other rows, or an
# outcome other than the training rows', told where no step changes the
# outcome), every row of `data`. `outcomes`: the training rows' outcomes;
# `weights`: their weights; `prepped`: the trained recipe.
trained_rows <- function(recipe, data, outcomes, weights, prepped) {
  if (nrow(outcomes) != nrow(data)) {
    rows_only <- recipe
    rows_only$steps <- Filter(function(step) inherits(step, c("step_naomit", "step_filter")),
                              recipe$steps)
    kept <- tryCatch(recipes::bake(recipes::prep(rows_only, training = data, fresh = TRUE),
                                   new_data = NULL),
                     error = function(e) NULL)
    if (is.null(kept) || nrow(kept) != nrow(outcomes)) return(data)
    # The kept rows' outcomes tell them apart, where no step changes the outcome.
    names <- names(outcomes)
    same_outcomes <- all(names %in% names(kept)) &&
      isTRUE(all.equal(as.data.frame(kept[names]), as.data.frame(outcomes), check.attributes = FALSE))
    if (!same_outcomes && !changes_outcome(prepped, names)) return(data)
    data <- kept
  }
  if (!is.null(weights) && length(weights) == nrow(data)) data <- data[weights > 0, , drop = FALSE]
  data
}

# Refuses a recipe whose training rows are not rows of `data` in their
# order, some perhaps dropped: steps the class list above does not know
# (a user's or another package's) may sort, sample or add rows. Rows carry
# no identity through a recipe; the outcome does, when no step changes it:
# the training rows' outcomes must then be the data's, in order.
refuse_moved_rows <- function(processed, data) {
  outcomes <- processed$outcomes
  if (nrow(outcomes) > nrow(data)) {
    abort("`x` (the recipe) trains on ", nrow(outcomes), " rows from the ", nrow(data),
          " rows of `data`: a step adds rows (as upsampling does), so fitted values, weights ",
          "and predictions would no longer follow the rows of the data. Weight the rows ",
          "instead (`weights`, or `class_weights = \"balanced\"` for rare classes).")
  }
  recipe <- processed$blueprint$recipe
  names <- names(outcomes)
  if (!all(names %in% names(data)) || changes_outcome(recipe, names)) return(invisible())
  as_key <- function(v) if (is.numeric(v)) as.double(v) else as.character(v)
  for (name in names) {
    trained <- as_key(outcomes[[name]])
    given <- as_key(data[[name]])
    # Rows moved, when the training rows' values are the data's but not in
    # their order: sorted, permuted, or drawn with replacement. (Values the
    # data do not hold: a step the check of steps could not read changed
    # the outcome, and the rows cannot be told.)
    moved <- all(trained %in% given) && if (length(trained) == length(given)) {
      !identical(trained, given)
    } else {
      !is_subsequence(trained, given)
    }
    if (moved) {
      abort("`x` (the recipe) moves the rows of `data`: its training rows' `", name,
            "` is not the data's in its order (a step sorts, samples or duplicates rows), ",
            "so fitted values, weights and predictions would no longer follow the rows of ",
            "the data. Order or sample the data before the recipe.")
    }
  }
  invisible()
}

# Whether `short` is `long` with some elements dropped, the rest in order
# (NA matching NA): one pass, matching each element at its first chance.
is_subsequence <- function(short, long) {
  short_na <- is.na(short)
  long_na <- is.na(long)
  n <- length(long)
  j <- 1L
  for (i in seq_along(short)) {
    repeat {
      if (j > n) return(FALSE)
      if (if (short_na[i]) long_na[j] else !long_na[j] && long[j] == short[i]) break
      j <- j + 1L
    }
    j <- j + 1L
  }
  TRUE
}

# The factors a trained recipe's step_dummy() coded, each as its indicator
# columns in `x` (the training inputs), the levels they mark, the baseline
# (the level of no indicator; NA for one-hot coding), the rows' patterns
# of indicator values that training saw, and the levels they code. (Not
# the data's factors: steps may remove, pool or reorder them, and rows the
# recipe drops do not train. Indicators that later steps turned into other
# numbers are left to the check of columns.) An indicator step_zv() removed
# was constant, 0, on every training row: its level, `untrained`, had no
# training rows.
dummy_blocks <- function(recipe, x) {
  blocks <- list()
  # The indicators step_zv() removed, and the level step_unknown() codes a
  # factor's NA as, by factor.
  zero_variance <- character()
  na_levels <- list()
  for (step in recipe$steps) {
    if (!isTRUE(step$trained)) next
    if (inherits(step, "step_zv")) zero_variance <- c(zero_variance, step$removals)
    if (inherits(step, "step_unknown")) {
      for (term in names(step$objects)) na_levels[[term]] <- step$new_level
    }
  }
  for (step in recipe$steps) {
    if (!inherits(step, "step_dummy") || !isTRUE(step$trained)) next
    coded <- recipes::tidy(step)
    for (term in unique(coded$terms)) {
      levels <- coded$columns[coded$terms == term]
      columns <- step$naming(term, levels)
      kept <- columns %in% colnames(x)
      if (!any(kept) || !all(kept | columns %in% zero_variance)) next
      # An indicator that a later step rescaled (step_normalize()) still
      # takes two values; its larger one marks the level.
      block <- x[, columns[kept], drop = FALSE]
      if (!all(apply(block, 2L, function(col) length(unique(col)) <= 2L))) next
      baseline <- setdiff(attr(step$levels[[term]], "values"), levels)
      # Indicators constant on the training rows, at their one value.
      constant <- apply(block, 2L, function(col) length(unique(col)) == 1L)
      b <- list(columns = columns[kept], levels = levels[kept],
                baseline = if (length(baseline)) baseline[1L] else NA_character_,
                seen = unique(pattern_keys(block)), untrained = levels[!kept],
                constant = stats::setNames(block[1L, constant], colnames(block)[constant]))
      b$na_level <- na_levels[[term]]
      trained <- levels(dummy_categories(list(b), block)[[1L]])
      b$trained <- trained[order(match(trained, c(b$baseline, levels)))]
      blocks[[term]] <- b
    }
  }
  if (length(blocks)) blocks
}

# One key per row of an indicator block: its values, pasted.
pattern_keys <- function(block) {
  do.call(paste, c(unname(as.data.frame(block)), sep = "\r"))
}

# The levels of the factors of `blocks` (see dummy_blocks()), row by row,
# read from their indicator columns in `x`: what frame_categories() gives
# the formula interface, each level named as the data name it.
dummy_categories <- function(blocks, x) {
  if (is.null(blocks)) return(NULL)
  lapply(blocks, function(b) {
    block <- x[, b$columns, drop = FALSE]
    marks <- apply(block, 2L, function(col) col == max(col) & col != min(col))
    marks <- matrix(marks, nrow(block))
    code <- drop(marks %*% 2^(seq_along(b$columns) - 1L))
    first <- !duplicated(code)
    labels <- apply(marks[first, , drop = FALSE], 1L, function(on) {
      if (any(on)) paste(b$levels[on], collapse = " + ") else if (is.na(b$baseline)) "(none)" else b$baseline
    })
    factor(code, levels = code[first], labels = labels)
  })
}

# New rows whose indicators of a factor form a pattern no training row had
# are refused, as a level with no training rows: a level the data held only
# on rows the recipe dropped (step_naomit(), step_filter()), or a new level
# (step_novel()'s, or one step_dummy() cannot code). Its indicator was 0 on
# every training row, so its weights were never trained. A new level that
# a step maps onto a trained one (step_other()) is accepted.
refuse_untrained_patterns <- function(blocks, x, newdata, arg) {
  for (term in names(blocks)) {
    b <- blocks[[term]]
    if (!all(b$columns %in% colnames(x))) next
    block <- x[, b$columns, drop = FALSE]
    given <- if (term %in% names(newdata)) newdata[[term]]
    # (A row whose value is NA is not a level: it predicts NA, or as the
    # recipe imputes it, which may give indicators values of their own.)
    present <- if (is.null(given)) !is.na(rowSums(block)) else !is.na(given)
    unseen <- present & !(pattern_keys(block) %in% b$seen)
    if (!is.null(given)) unseen <- unseen | present & as.character(given) %in% b$untrained
    # An NA that the recipe codes as a level of its own (step_unknown()),
    # whose indicator never varied in training.
    # (Or whose indicator step_zv() removed.)
    if (!is.null(given) && any(is.na(given))) {
      coded <- FALSE
      if (length(b$constant)) {
        shifted <- block[, names(b$constant), drop = FALSE] != rep(b$constant, each = nrow(block))
        coded <- is.na(given) & !is.na(rowSums(block)) & rowSums(shifted) > 0
      }
      if (any(coded) || isTRUE(b$na_level %in% b$untrained)) {
        abort("`", arg, "` column `", term, "` has NA, which the recipe codes as a level no ",
              "training row had (step_unknown() codes NA so): the network never learnt what ",
              "it means.")
      }
    }
    if (!any(unseen)) next
    if (is.null(given)) {
      abort("`", arg, "` has rows whose indicators ", name_list(b$columns), " of `", term,
            "` no training row had: a level with no training rows.")
    }
    levels <- unique(as.character(given[unseen]))
    abort("`", arg, "` column `", term, "` has ", if (length(levels) > 1) "levels " else "level ",
          paste0('"', levels, '"', collapse = ", "), " with no training rows (none, or only ",
          "rows the recipe dropped; the levels the network was trained on: ",
          paste0('"', b$trained, '"', collapse = ", "), ").")
  }
}

# The categorical variables (factors, characters) of a data frame, as
# factors: their levels, row by row, which the rows that train a network
# must all hold (see validation_draw()), whatever the coding of the
# network's inputs (a level of treatment contrasts, the baseline too, or
# of an ordered factor's polynomial contrasts).
frame_categories <- function(frame) {
  categorical <- vapply(frame, function(col) is.factor(col) || is.character(col), logical(1))
  if (!any(categorical)) return(NULL)
  lapply(frame[categorical], function(col) {
    if (is.factor(col)) droplevels(col) else factor(col, exclude = NULL)
  })
}

# The predictors a recipe's blueprint gives, as the input matrix.
recipe_inputs <- function(predictors, arg, allow_na = TRUE) {
  predictors <- as.data.frame(predictors)
  bad <- !vapply(predictors, function(col) is.numeric(col) || is.logical(col), logical(1))
  if (any(bad)) {
    abort("`x` (the recipe) must turn every predictor numeric, for example with ",
          "recipes::step_dummy(); `", names(predictors)[which(bad)[1]], "` is ",
          describe(predictors[[which(bad)[1]]]), ".")
  }
  as_data_matrix(predictors, arg, allow_na = allow_na)
}

# New data as the network's input matrix, coded as the training inputs were.
# Rows with an NA input stay, as rows of NA (they predict NA); an infinite
# input is an error. `arg` names the data in errors.
forge <- function(blueprint, newdata, arg = "newdata") {
  forge_inputs(blueprint, newdata, arg)$x
}

# forge()'s matrix `x`, and whether it holds an NA (`any_na`), from the one
# pass over it that also looks for infinite values.
forge_inputs <- function(blueprint, newdata, arg = "newdata") {
  x <- switch(blueprint$kind,
              matrix = forge_matrix(blueprint, newdata, arg),
              formula = forge_formula(blueprint, newdata, arg),
              recipe = forge_recipe(blueprint, newdata, arg))
  if (ncol(x) != blueprint$ncol) {
    abort("`", arg, "` must have ", blueprint$ncol, " column", if (blueprint$ncol > 1) "s",
          " like the training inputs, not ", ncol(x), ".")
  }
  # (One pass in Rust; is.infinite() would allocate a logical copy of x.)
  extent <- extent_of(x)
  if (extent[3L] > 0) {
    col <- which(colSums(is.infinite(x)) > 0L)[1L]
    name <- blueprint$names[col]
    abort("`", arg, "` must not contain Inf (", if (is.null(name)) paste("column", col) else
      paste0("column `", name, "`"), "); rows with NA predict NA, but an infinite input has no prediction.")
  }
  list(x = x, any_na = extent[2L] > 0)
}

forge_matrix <- function(blueprint, newdata, arg) {
  if (is.list(newdata) && is.data.frame(newdata) && !is.null(blueprint$names)) {
    newdata <- training_columns(newdata, blueprint$names, arg)
  }
  if (isS4(newdata) && inherits(newdata, "Matrix")) newdata <- sparse_as_matrix(newdata)
  x <- as_data_matrix(newdata, arg, allow_na = TRUE)
  if (!is.null(blueprint$names) && !is.null(dimnames(x)[[2L]])) {
    x <- training_columns(x, blueprint$names, arg)
  }
  x
}

forge_formula <- function(blueprint, newdata, arg) {
  if (is.matrix(newdata) && !is.null(colnames(newdata))) newdata <- as.data.frame(newdata)
  if (!is.data.frame(newdata)) {
    abort("`", arg, "` must be a data frame with the training variables, not ", describe(newdata), ".")
  }
  terms <- blueprint$terms
  # A formula may also read variables of its environment, those that were
  # not in the training data; a data frame's columns come only from the data.
  vars <- blueprint$columns %||% all.vars(terms)
  absent <- vars[!vars %in% names(newdata)]
  if (is.null(blueprint$columns)) {
    outside <- !absent %in% blueprint$data_variables
    absent <- absent[!outside | !vapply(absent, exists, TRUE, envir = formula_env(blueprint))]
  }
  if (length(absent)) {
    abort("`", arg, "` lacks the training column", if (length(absent) > 1) "s", " ",
          paste0("`", absent, "`", collapse = ", "), ".")
  }
  refuse_repeated(names(newdata), vars, arg)
  frame <- tryCatch(
    stats::model.frame(terms, newdata, na.action = stats::na.pass),
    error = function(e) abort("`", arg, "` does not hold the training variables: ", conditionMessage(e))
  )
  classes <- blueprint$classes
  categorical <- c("factor", "ordered", "character")
  for (nm in names(classes)) {
    want <- unname(classes[nm])
    have <- stats::.MFclass(frame[[nm]])
    if (identical(want, have) || (want %in% categorical && have %in% categorical)) next
    column <- variable_name(nm, newdata)
    abort("`", arg, "` column `", column, "` must be ", class_words(want), " as in training, not ",
          describe(frame[[nm]]), ".")
  }
  for (nm in names(blueprint$matrix_columns)) {
    want <- blueprint$matrix_columns[[nm]]
    have <- colnames(frame[[nm]])
    if (identical(have, want)) next
    if (is.null(have) || !setequal(have, want) || anyDuplicated(have)) {
      abort("`", arg, "` matrix `", variable_name(nm, newdata), "` must have the training columns ",
            name_list(want), ", by name.")
    }
    frame[[nm]] <- frame[[nm]][, want, drop = FALSE]
  }
  for (nm in names(blueprint$xlevels)) {
    values <- frame[[nm]]
    known <- blueprint$xlevels[[nm]]
    check_levels(values, known, variable_name(nm, newdata), arg)
    # (A factor with NA as a level, as addNA() makes, keeps it.)
    frame[[nm]] <- factor(as.character(values), levels = known, exclude = if (!anyNA(known)) NA,
                          ordered = identical(unname(classes[nm]), "ordered"))
  }
  x <- design_matrix(terms, frame, blueprint$contrasts)
  attr(x, "contrasts") <- NULL
  rownames(x) <- row.names(newdata)
  x
}

# A level of new data that had no training rows is an error, as in lm():
# the network never learnt what it means.
check_levels <- function(values, known, column, arg) {
  seen <- unique(as.character(values[!is.na(values)]))
  unseen <- setdiff(seen, known)
  if (length(unseen)) {
    abort("`", arg, "` column `", column, "` has ", if (length(unseen) > 1) "levels " else "level ",
          paste0('"', unseen, '"', collapse = ", "), " with no training rows (the levels ",
          "the network was trained on: ", paste0('"', known, '"', collapse = ", "), ").")
  }
}

# A term such as factor(g) is named by its variable in messages.
variable_name <- function(term, newdata) {
  vars <- all.vars(str2lang(term))
  if (term %in% names(newdata) || length(vars) != 1L) term else vars
}

class_words <- function(data_class) {
  switch(data_class, numeric = "numeric", logical = "logical (TRUE/FALSE)",
         factor = , ordered = , character = "a factor or character",
         paste0("a numeric matrix (", data_class, ")"))
}

forge_recipe <- function(blueprint, newdata, arg) {
  if (!is.data.frame(newdata)) {
    abort("`", arg, "` must be a data frame with the training columns, not ", describe(newdata), ".")
  }
  refuse_repeated(names(newdata), names(blueprint$hardhat$ptypes$predictors), arg)
  # Levels with no training rows are refused: a factor that step_dummy()
  # codes by its indicators after baking (refuse_untrained_patterns()), any
  # other by its values. (recipes warns of a level it cannot code: the
  # warning waits for the refusal.)
  blocks <- blueprint$dummy_blocks
  for (nm in setdiff(intersect(names(blueprint$xlevels), names(newdata)), names(blocks))) {
    check_levels(newdata[[nm]], blueprint$xlevels[[nm]], nm, arg)
  }
  warned <- list()
  forged <- withCallingHandlers(tryCatch(hardhat::forge(newdata, blueprint$hardhat), error = function(e) {
    # New data are baked without their outcome: a step on it cannot run.
    outcomes <- blueprint$outcome_names
    if (outcome_steps(blueprint$hardhat$recipe, outcomes, skipped = FALSE)) {
      abort("The recipe has a step on the outcome (", paste0("`", outcomes, "`", collapse = ", "),
            ") that runs on new data too, which are baked without their outcome: give that ",
            "step `skip = TRUE`, or transform the outcome in the data, before the recipe.")
    }
    abort("`", arg, "` does not match the training data: ", conditionMessage(e))
  }), warning = function(w) {
    warned[[length(warned) + 1L]] <<- w
    invokeRestart("muffleWarning")
  })
  x <- recipe_inputs(forged$predictors, arg)
  if (nrow(x) != nrow(newdata)) {
    abort("The recipe drops rows of `", arg, "` (a step such as step_naomit() without ",
          "`skip = TRUE`), but a prediction is one per row: give that step `skip = TRUE`; ",
          "rows with NA then predict NA.")
  }
  refuse_untrained_patterns(blocks, x, newdata, arg)
  for (w in warned) warning(w)
  rownames(x) <- row.names(newdata)
  x
}


# The training columns of new data, by name; other columns are ignored.
training_columns <- function(newdata, names, arg) {
  have <- colnames(newdata)
  if (is.null(have)) return(newdata)
  missing_cols <- setdiff(names, have)
  if (length(missing_cols)) {
    abort("`", arg, "` lacks the training column", if (length(missing_cols) > 1) "s", " ",
          paste0("`", missing_cols, "`", collapse = ", "), ".")
  }
  if (identical(have, names)) return(newdata)
  refuse_repeated(have, names, arg)
  newdata[, names, drop = FALSE]
}

# Matched by name, a column given twice would be read from its first copy,
# whatever the second holds: refused. `have`: the data's column names;
# `wanted`: the names the fit reads.
refuse_repeated <- function(have, wanted, arg) {
  twice <- intersect(wanted, have[duplicated(have)])
  if (length(twice)) {
    abort("`", arg, "` has the ", if (arg == "data") "" else "training ", "column `", twice[1L],
          "` more than once; keep one column of each name.")
  }
}

# Whether baking data through the recipe gives the outcome its training
# rows were fitted to: not when a step changes the outcome with `skip =
# TRUE` (it runs on the training rows alone), as step_log(y, skip = TRUE).
# Baked again, the training rows show it; when a row filter with `skip =
# TRUE` (step_naomit(), step_filter()) left fewer rows to compare, the
# recipe's steps tell.
outcome_bakes <- function(processed, data) {
  baked <- tryCatch(hardhat::forge(data, processed$blueprint, outcomes = TRUE)$outcomes,
                    error = function(e) NULL)
  if (is.null(baked)) return(FALSE)
  if (nrow(baked) != nrow(processed$outcomes)) {
    return(!outcome_steps(processed$blueprint$recipe, names(processed$outcomes)))
  }
  isTRUE(all.equal(as.data.frame(baked), as.data.frame(processed$outcomes),
                   check.attributes = FALSE))
}

# Whether a prepped recipe has a step on an outcome column, skipped on new
# data or not (see outcome_steps()).
changes_outcome <- function(recipe, outcomes) {
  outcome_steps(recipe, outcomes) || outcome_steps(recipe, outcomes, skipped = FALSE)
}

# Whether a prepped recipe has a step on an outcome column with `skip =
# TRUE` (`skipped`; a step whose columns cannot be told counts too), or
# without it.
outcome_steps <- function(recipe, outcomes, skipped = TRUE) {
  for (i in seq_along(recipe$steps)) {
    if (isTRUE(recipe$steps[[i]]$skip) != skipped) next
    # (A row step drops or moves rows but changes no row's outcome.)
    if (inherits(recipe$steps[[i]], unlist(row_steps))) next
    terms <- tryCatch(recipes::tidy(recipe, number = i)$terms, error = function(e) NA)
    if ((skipped && anyNA(terms)) || any(terms %in% outcomes)) return(TRUE)
  }
  FALSE
}

# recipes' steps on rows, not on columns: those that may reorder or
# resample the rows (refused, see mold_recipe()) and those that drop rows.
row_steps <- list(reorder = c("step_arrange", "step_sample", "step_slice"),
                  drop = c("step_naomit", "step_filter", "step_filter_missing"))

# The error for an outcome a recipe changes on its training rows alone.
abort_skipped_outcome <- function() {
  abort("The recipe changes the outcome on its training rows alone (a step with ",
        "`skip = TRUE`), so the outcome in other data is not the one the network fits. ",
        "Transform the outcome in the data, before the recipe.")
}

# The outcome columns `names` of data baked by a hardhat blueprint (a
# formula's left-hand side evaluated, a recipe's steps run), or NULL when
# the data do not hold them.
forged_outcome <- function(hardhat_blueprint, data, names) {
  if (!length(names) || !all(names %in% names(data))) return(NULL)
  outcomes <- tryCatch(hardhat::forge(data, hardhat_blueprint, outcomes = TRUE)$outcomes,
                       error = function(e) NULL)
  if (is.null(outcomes)) return(NULL)
  if (ncol(outcomes) == 1L) outcomes[[1L]] else as.matrix(outcomes)
}

# The response in data, as the fit saw it (numeric, a matrix of several
# outcomes, or a factor), or NULL when the data do not hold it: by the
# formula's left-hand side or the recipe's outcomes; never for the x/y
# interface, whose response is not in its data.
outcome_in <- function(blueprint, data) {
  if (!is.data.frame(data)) return(NULL)
  if (blueprint$kind == "recipe") {
    names <- blueprint$outcome_names
    if (!length(names) || !all(names %in% names(data))) return(NULL)
    if (isFALSE(blueprint$outcome_baked)) abort_skipped_outcome()
    # The outcome after the recipe's steps, as the network was fitted to it.
    return(forged_outcome(blueprint$hardhat, data, names))
  }
  lhs <- blueprint$outcome
  if (blueprint$kind != "formula" || is.null(lhs)) return(NULL)
  y <- values_in(lhs, blueprint, data)
  if (is.null(y) || NROW(y) != nrow(data)) return(NULL)
  # (As model.response() at fit time: I(y / 1000) is a number, not "AsIs".)
  if (inherits(y, "AsIs")) class(y) <- setdiff(oldClass(y), "AsIs")
  y
}

# The weights of the rows of `data` by the expression `weights` gave them
# at fit time (a column, or an expression of columns), or NULL when they
# cannot be read there (see values_in()): validation data and the
# explanations read them.
weights_in <- function(blueprint, data) {
  expr <- blueprint$weights
  if (!is.data.frame(data) || !is.language(expr)) return(NULL)
  w <- values_in(expr, blueprint, data)
  if (!is.numeric(w) || length(w) != nrow(data)) return(NULL)
  w
}

# A formula fit's response or weights expression evaluated in other rows,
# `data`, as model.frame() evaluated it at fit time, or NULL where it
# cannot be: a variable the training data held comes from `data` (a number
# of the caller's by its name is not it), and one from outside them from
# the formula's environment (a column of `data` by its name is not it),
# where it must be one number (`p` in `w^p`; a vector there belongs to the
# training rows). At least one variable must be of the rows.
values_in <- function(expr, blueprint, data) {
  vars <- all.vars(expr)
  env <- formula_env(blueprint)
  constant <- function(name) {
    value <- get0(name, envir = env)
    is.numeric(value) && length(value) == 1L
  }
  # (A fit saved before the response's variables were kept among the data's
  # takes any variable that is not such a number from the rows.)
  of_rows <- vars %in% blueprint$data_variables | !vapply(vars, constant, NA)
  if (!any(of_rows) || !all(vars[of_rows] %in% names(data))) return(NULL)
  scope <- as.list(data)[vars[of_rows]]
  for (name in vars[!of_rows]) scope[[name]] <- get0(name, envir = env)
  tryCatch(eval(expr, scope, env), error = function(e) NULL)
}

# Where a formula fit's terms look for what the data lack.
formula_env <- function(blueprint) {
  if (is.null(blueprint$terms)) baseenv() else environment(blueprint$terms) %||% baseenv()
}

# The variables of the training data, by which permutation importance and
# partial dependence address columns of data: the formula's or the recipe's
# predictors, the data frame's columns, or a matrix's column names (or
# numbers).
blueprint_variables <- function(blueprint) {
  switch(blueprint$kind,
         recipe = names(blueprint$hardhat$ptypes$predictors),
         formula = blueprint$columns %||% all.vars(blueprint$terms),
         matrix = blueprint$names %||% seq_len(blueprint$ncol))
}

# A Matrix package matrix (sparse or dense) as a base matrix.
sparse_as_matrix <- function(x) {
  if (!requireNamespace("Matrix", quietly = TRUE)) {
    abort("A Matrix object needs the Matrix package to be read; convert it with as.matrix().")
  }
  as.matrix(x)
}
