# Calibrated uncertainty: conformal prediction intervals (regression) and
# prediction sets (classification), from held-out rows a network was not
# trained on.
#
# A fit's `calibration` holds one or more *folds*: a network and the rows it
# did not train on, with its raw output on them and their targets.
# * "split": one fold, the fit's own network (or ensemble) on its
#   validation rows;
# * "oob": one fold, a bootstrap ensemble's out-of-bag rows, each predicted
#   by the members that did not see it;
# * "cv+": K folds, each a network trained without its fold's rows (the
#   K-fold refits of `conformal = "cv"`, or the folds backprop()'s search
#   already trained for the winning candidate).
# Intervals and sets follow CV+ (Barber et al., 2021, "Predictive inference
# with the jackknife+"; Romano, Sesia and Candes, 2020, for the adaptive
# sets), of which split conformal is the one-fold case: a new row's bound
# is an order statistic, over the calibration rows i, of the prediction of
# i's fold network at the new row shifted by i's score.

conformal_methods <- c("auto", "cv", "split", "none")

# One calibration fold: `network` (NULL for the fit's own network, else
# list(weights, biases, sizes, activation, output, scaling)), its raw
# output `raw` on the held-out rows, their targets `y` as that network saw
# them, and their observation weights (rows of weight 0 are dropped: they
# are not part of the data the fit describes).
calibration_fold <- function(network, raw, y, weights = NULL) {
  keep <- if (is.null(weights)) rep(TRUE, nrow(raw)) else weights > 0
  list(network = network, raw = raw[keep, , drop = FALSE], y = y[keep, , drop = FALSE])
}

# A calibration record: the method, a phrase saying where its rows came
# from, and the folds.
new_calibration <- function(method, source, folds) {
  folds <- Filter(function(f) nrow(f$raw) > 0L, folds)
  if (!length(folds)) return(NULL)
  list(method = method, source = source, folds = folds,
       rows = sum(vapply(folds, function(f) nrow(f$raw), 0L)))
}

# A trained spec's network as a calibration fold keeps it: enough to
# predict new rows, scaled as that network's training rows were.
fold_network <- function(spec, res) {
  list(weights = res$weights, biases = res$biases, sizes = spec$sizes,
       activation = spec$activation, output = spec$output, scaling = spec$scaling)
}

# The calibration fold of a trained spec's network on held-out rows: their
# inputs and targets as the design codes them, and their weights.
held_out_fold <- function(spec, res, x, y, weights) {
  network <- fold_network(spec, res)
  if (!is.null(network$scaling$y)) y <- apply_stats(y, network$scaling$y)
  calibration_fold(network, fold_raw(network, x, spec$threads), y, weights)
}

# The raw output of a fold's network on unscaled inputs `x`.
fold_raw <- function(network, x, threads) {
  if (!is.null(network$scaling)) x <- apply_stats(x, network$scaling$x)
  arch <- list(sizes = as.numeric(network$sizes), activation = network$activation,
               output = network$output, bias = "column")
  predict_(x, arch, list(weights = network$weights, biases = network$biases), threads)
}

# Raw outputs (or targets) of a fold in the response's units.
fold_units <- function(network, m, fit) {
  scaling <- if (is.null(network)) fit$scaling else network$scaling
  if (!is.null(scaling$y)) undo_stats(m, scaling$y) else m
}

# K-fold refits for CV+ (`conformal = "cv"`): each fold's network trained,
# with the fit's settings, on the other folds' rows. Folds are drawn from
# R's RNG; the refits run on the fit's threads, one after another.
cv_calibration <- function(design, target, given, defaults, folds) {
  x <- design$x
  n <- nrow(x)
  weights <- design$weights
  folds <- min(folds, n)
  fold_of <- sample(rep_len(seq_len(folds), n))
  quiet <- given
  quiet$verbose <- FALSE
  quiet$restarts <- 1
  quiet$ensemble <- 1
  # One network per fold: no ensemble, so no bootstrap samples either (which
  # need one, and whose out-of-bag rows the refits do not use).
  quiet$bootstrap <- NULL
  quiet$callback <- NULL
  quiet$conformal <- "none"
  quiet$conformal_folds <- NULL
  verbose <- given$verbose %||% interactive()
  bar <- if (verbose && requireNamespace("cli", quietly = TRUE)) {
    cli::cli_progress_bar(total = folds, clear = TRUE,
                          format = "{cli::pb_bar} calibrating: fold {cli::pb_current}/{cli::pb_total}")
  }
  out <- vector("list", folds)
  for (f in seq_len(folds)) {
    held <- fold_of == f
    train <- !held
    if (!is.null(weights) && sum(weights[train]) == 0) next
    if (!is.null(given$batch_size)) quiet$batch_size <- min(given$batch_size, sum(train))
    part <- list(y = target$y[train, , drop = FALSE], levels = target$levels)
    spec <- training_spec(x[train, , drop = FALSE], part, quiet, defaults, weights[train],
                          design$blueprint)
    res <- train_spec(spec)
    if (res$status == "interrupted") {
      if (!is.null(bar)) cli::cli_progress_done(id = bar)
      abort("The conformal calibration was interrupted at fold ", f, " of ", folds,
            "; no network was fitted. Give `conformal = \"none\"` to fit without it.",
            class = "backprop_interrupted")
    }
    if (res$status == "diverged") {
      abort("A refit of the conformal calibration diverged (fold ", f, " of ", folds, "); ",
            "give `conformal = \"none\"`, or settings that train stably.",
            class = "backprop_diverged")
    }
    out[[f]] <- held_out_fold(spec, res, x[held, , drop = FALSE], target$y[held, , drop = FALSE],
                              weights[held])
    if (!is.null(bar)) cli::cli_progress_update(id = bar, set = f)
  }
  if (!is.null(bar)) cli::cli_progress_done(id = bar)
  new_calibration("cv+", paste0(folds, "-fold refits"), Filter(Negate(is.null), out))
}

# The rank of the conformal quantile of n calibration scores at `level`:
# ceiling(level (n + 1)). The product is often an integer in exact
# arithmetic (n = 99 at 0.9, n = 4 at 0.8) that floating point misses by a
# hair (1 - 0.8 is 0.19999999999999996), which would move the rank by one;
# rounding it first keeps the rank exact.
conformal_rank <- function(level, n) as.integer(ceiling(round(level * (n + 1), 8)))

# The warning for a calibration too small for `level`: the fewest rows that
# give finite bounds (rank at most n) are ceiling(level / (1 - level)).
too_few_rows <- function(n, level, what) {
  needed <- as.integer(ceiling(round(level / (1 - level), 8)))
  warning("The calibration has ", n, " rows, too few for a ", 100 * level, " percent ",
          what, ". Calibrate on at least ", needed, " rows (a larger `conformal_folds` or ",
          "`validation`), or ask for a lower `level`.", call. = FALSE)
}

# The level of a prediction interval or set, checked.
check_level <- function(level) {
  if (!is.numeric(level) || length(level) != 1L || is.na(level) || level <= 0 || level >= 1) {
    abort("`level` must be one number between 0 and 1 (such as 0.9 for 90 percent), not ",
          show_value(level), ".")
  }
  level
}

# The calibration of a fit for predict(), or an error that says how to get
# one.
fit_calibration <- function(object, type) {
  cal <- object$calibration
  if (is.null(cal)) {
    abort("`type = \"", type, "\"` needs a calibrated fit: rows the network was not ",
          "trained on. Fit with `conformal = \"cv\"` (K-fold refits), or with `validation` ",
          "rows (`conformal = \"split\"`), or an `ensemble` with `bootstrap = TRUE`.")
  }
  cal
}

# Each fold's prediction for new rows `x` (unscaled, complete) in the
# response's units (probabilities for a classifier; a band's bounds): a
# list of matrices. `own` is the fit's own prediction.
fold_predictions <- function(object, cal, x, own, threads) {
  lapply(cal$folds, function(f) {
    if (is.null(f$network)) own else fold_response(object, f$network, fold_raw(f$network, x, threads))
  })
}

# A fold network's raw output as predict() returns it.
fold_response <- function(object, network, raw) {
  m <- fold_units(network, raw, object)
  if (is_band(object)) band_bounds(object, m) else m
}

# Conformal prediction intervals: a matrix of lower and upper bounds per
# output (columns `lower`, `upper`, prefixed by the output's name when
# there are several). A row's score is how far its response lies outside
# the fold's prediction: the absolute residual, or for a quantile band the
# distance outside the band (negative inside it), which makes the
# intervals conformalized quantile regression (Romano, Patterson and
# Candes, 2019), as wide as the band says where it says so.
conformal_interval <- function(object, cal, preds, level) {
  n <- cal$rows
  r_up <- conformal_rank(level, n)
  # The lower bound's rank mirrors the upper's (floor(alpha (n + 1)) in
  # exact arithmetic), so that split intervals are symmetric.
  r_low <- n + 1L - r_up
  if (r_up > n) too_few_rows(n, level, "interval: its bounds are infinite")
  band <- is_band(object)
  outputs <- if (band) 1L else ncol(preds[[1L]])
  rows <- nrow(preds[[1L]])
  out <- matrix(NA_real_, rows, 2L * outputs)
  for (j in seq_len(outputs)) {
    # Which columns of a fold's prediction are the output's lower and
    # upper centres.
    cols <- if (band) 1:2 else c(j, j)
    scores <- lapply(cal$folds, function(f) {
      m <- fold_response(object, f$network, f$raw)
      y <- fold_units(f$network, f$y, object)[, j]
      sort(pmax(m[, cols[1L]] - y, y - m[, cols[2L]]))
    })
    centres <- lapply(cols, function(col) {
      centre <- vapply(preds, function(p) p[, col], numeric(rows))
      dim(centre) <- c(rows, length(preds))
      centre
    })
    out[, 2L * j - 1L] <- if (r_low < 1) -Inf else union_order_stat(centres[[1L]], scores, r_low, -1)
    out[, 2L * j] <- if (r_up > n) Inf else union_order_stat(centres[[2L]], scores, r_up, 1)
  }
  dimnames(out) <- list(rownames(preds[[1L]]), interval_columns(object))
  # Counts and rates (an exp output) are not negative.
  if (identical(object$output_activation, "exp")) out[, c(TRUE, FALSE)] <- pmax(out[, c(TRUE, FALSE)], 0)
  out
}

# The columns of a fit's intervals: `lower`, `upper`, prefixed by the
# output's name when there are several (a band's two outputs are one
# interval).
interval_columns <- function(object) {
  outputs <- if (is_band(object)) 1L else object$sizes[length(object$sizes)]
  names <- c("lower", "upper")
  if (outputs == 1L) return(names)
  paste(rep(object$y_names %||% paste0("y", seq_len(outputs)), each = 2L), names, sep = "_")
}

# The r-th smallest, per row, of the values centre[row, k] + sign * s over
# the folds k and the scores s of fold k (`scores[[k]]`, sorted). One fold
# is split conformal, read off directly; with several, a bisection on the
# value whose count of values below it reaches r, to the last bit.
union_order_stat <- function(centre, scores, r, sign) {
  if (length(scores) == 1L) {
    s <- scores[[1L]]
    return(centre[, 1L] + sign * (if (sign > 0) s[r] else s[length(s) + 1L - r]))
  }
  count_le <- function(t) {
    total <- 0
    for (k in seq_along(scores)) {
      s <- scores[[k]]
      total <- total + if (sign > 0) {
        findInterval(t - centre[, k], s)
      } else {
        length(s) - findInterval(centre[, k] - t, s, left.open = TRUE)
      }
    }
    total
  }
  # Below every value and above every value (scores may be negative).
  reach <- max(abs(unlist(scores))) + 1
  lo <- apply(centre, 1L, min) - reach
  hi <- apply(centre, 1L, max) + reach
  for (step in 1:2000) {
    mid <- lo + (hi - lo) / 2
    moved <- mid > lo & mid < hi
    if (!any(moved)) break
    enough <- count_le(mid) >= r
    hi[enough & moved] <- mid[enough & moved]
    lo[!enough & moved] <- mid[!enough & moved]
  }
  hi
}

# Adaptive prediction sets (APS): a class is in a row's set when its score,
# the probability of the classes ranked above it plus a uniform share of its
# own, is below the calibration's threshold. The uniform draws (one per row,
# from R's RNG) make the coverage exact rather than conservative.
conformal_set <- function(object, cal, preds, level) {
  n <- cal$rows
  r_up <- conformal_rank(level, n)
  if (r_up > n) too_few_rows(n, level, "set: every set holds every class")
  scores <- lapply(cal$folds, function(f) {
    class <- max.col(f$y, ties.method = "first")
    sort(aps_score(f$raw, stats::runif(nrow(f$raw)))[cbind(seq_along(class), class)])
  })
  rows <- nrow(preds[[1L]])
  u <- stats::runif(rows)
  below <- 0
  for (k in seq_along(preds)) {
    s <- aps_score(preds[[k]], u)
    below <- below + matrix(findInterval(s, scores[[k]], left.open = TRUE), rows)
  }
  # (below counts calibration scores, an integer: below < r_up is below <
  # level (n + 1).)
  sets <- below < r_up
  dimnames(sets) <- list(rownames(preds[[1L]]), object$levels)
  sets
}

# Every class's APS score for rows of probabilities `p`, with one uniform
# draw `u` per row.
aps_score <- function(p, u) {
  out <- p
  for (c in seq_len(ncol(p))) {
    out[, c] <- rowSums(p * (p > p[, c])) + u * p[, c]
  }
  out
}
