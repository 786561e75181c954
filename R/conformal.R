# Calibrated uncertainty: conformal prediction intervals (regression) and
# prediction sets (classification), from held-out rows a network was not
# trained on.
#
# A fit's `calibration` holds one or more *folds*: rows that a network did
# not train on, with that network's predictions of them and their
# responses, both as predict() gives them (the response's units, a band's
# bounds, class probabilities). A row's *score* says how far its response
# lies from the prediction: the absolute residual; for a quantile band the
# distance outside the band, negative inside it (conformalized quantile
# regression, Romano, Patterson and Candes, 2019); for a classifier the
# APS score (Romano, Sesia and Candes, 2020).
# * "split": one fold, the fit's own network (or ensemble) on its
#   validation rows: split conformal, exact for exchangeable rows;
# * "oob": one fold, a bootstrap ensemble's out-of-bag rows, each predicted
#   by the members that did not see it;
# * "cv": K folds, each predicted by a network trained without it (the
#   K-fold refits of `conformal = "cv"`, or the folds backprop()'s search
#   trained for the winning candidate);
# * "cv+": the same refits, kept: CV+ (Barber et al., 2021).
# All but CV+ centre a new row's interval on the fit's prediction and
# widen it by a quantile of the pooled scores. CV+ centres each
# calibration row's term on its own fold network's prediction; it has a
# finite-sample guarantee, and pays for it with width (see bench/).

conformal_methods <- c("auto", "cv", "cv+", "split", "none")

# One calibration fold: the predictions `pred` of its held-out rows and
# their responses `y` (both as predict() gives them), less the rows of
# weight 0 (not part of the data the fit describes); for CV+, the
# `network` that made them (list(weights, biases, sizes, activation,
# output, scaling)), which predicts new rows.
calibration_fold <- function(pred, y, weights = NULL, network = NULL) {
  keep <- if (is.null(weights)) rep(TRUE, nrow(pred)) else weights > 0
  list(pred = pred[keep, , drop = FALSE], y = y[keep, , drop = FALSE], network = network)
}

# A calibration record: the method, a phrase saying where its rows came
# from, and the folds.
new_calibration <- function(method, source, folds) {
  folds <- Filter(function(f) !is.null(f) && nrow(f$pred) > 0L, folds)
  if (!length(folds)) return(NULL)
  list(method = method, source = source, folds = folds,
       rows = sum(vapply(folds, function(f) nrow(f$pred), 0L)))
}

# Raw outputs or targets of a spec's network (scaled as its training rows
# were) as predict() gives them: in the response's units, and a quantile
# band's two outputs as its lower and upper bounds (see band_target()).
as_response <- function(m, scaling, tau = NULL) {
  if (!is.null(scaling$y)) m <- undo_stats(m, scaling$y)
  if (length(tau) == 2L) {
    m <- cbind(-m[, 2L], m[, 1L])
    colnames(m) <- paste0("q", format(tau))
  }
  m
}

# The band levels of a spec or fit's options (NULL when not a band).
band_levels <- function(loss, options) {
  if (identical(loss, "quantile") && length(options$tau) == 2L) options$tau
}

# The calibration fold of rows held out of a spec's training, predicted by
# the spec's network `raw` (scaled), with their targets `y` (scaled as
# the network saw them) and weights.
spec_fold <- function(spec, raw, y, weights) {
  tau <- band_levels(spec$loss, spec$options)
  y <- as_response(y, spec$scaling, tau)
  if (!is.null(tau)) y <- y[, 2L, drop = FALSE]
  calibration_fold(as_response(raw, spec$scaling, tau), y, weights)
}

# The calibration fold of a fold network (fold_network()) on the rows it
# did not train on: their inputs and targets as the design codes them
# (the response's units; a band's targets are the response and its
# negation); `keep` keeps the network, for CV+.
held_out_fold <- function(network, x, y, weights, threads, keep = FALSE) {
  pred <- as_response(fold_raw(network, x, threads), network$scaling, network$tau)
  if (!is.null(network$tau)) y <- y[, 1L, drop = FALSE]
  calibration_fold(pred, y, weights, if (keep) network)
}

# The options of a network trained within a fit's own work (a candidate of
# its search, a refit of its calibration): the given options without what
# belongs to the fit alone. No progress bar or callback; one network, so no
# ensemble and no bootstrap samples (which need one, and whose out-of-bag
# rows these networks do not use); no refits of a calibration of its own. A
# split-conformal calibration stays: it decides which rows train.
quiet_options <- function(given) {
  given$verbose <- FALSE
  given$callback <- given$callback_every <- NULL
  given$ensemble <- given$bootstrap <- NULL
  given$conformal_folds <- NULL
  if (any(given$conformal == c("cv", "cv+"))) given$conformal <- "none"
  given
}

# The spec of a network trained on the design's rows `rows` only (a fold's
# training rows), with the options `quiet` (a given batch size within those
# rows) under `defaults`.
fold_spec <- function(design, target, rows, quiet, given, defaults) {
  if (!is.null(given$batch_size)) quiet$batch_size <- min(given$batch_size, sum(rows))
  part <- list(y = target$y[rows, , drop = FALSE], levels = target$levels)
  training_spec(design$x[rows, , drop = FALSE], part, quiet, defaults, design$weights[rows],
                design$blueprint, categories = subset_categories(design$categories, rows))
}

# A trained spec's network as CV+ keeps it: enough to predict new rows as
# predict() does.
fold_network <- function(spec, res) {
  list(weights = res$weights, biases = res$biases, sizes = spec$sizes,
       activation = spec$activation, output = spec$output, scaling = spec$scaling,
       tau = band_levels(spec$loss, spec$options))
}

# The raw output of a fold's network on unscaled inputs `x`.
fold_raw <- function(network, x, threads) {
  if (!is.null(network$scaling)) x <- apply_stats(x, network$scaling$x)
  arch <- list(sizes = as.numeric(network$sizes), activation = network$activation,
               output = network$output, bias = "column")
  predict_(x, arch, list(weights = network$weights, biases = network$biases), threads)
}

# K-fold refits for CV+ (`conformal = "cv"`): each fold's network trained,
# with the fit's settings (its restarts too, which make the fold networks
# as good as the fit's; an ensemble's refits are one network each), on
# the other folds' rows. Folds are drawn from
# R's RNG; the refits run on the fit's threads, one after another.
cv_calibration <- function(design, target, given, defaults, folds, method = "cv") {
  x <- design$x
  n <- nrow(x)
  weights <- design$weights
  folds <- min(folds, n)
  fold_of <- sample(rep_len(seq_len(folds), n))
  quiet <- quiet_options(given)
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
    spec <- fold_spec(design, target, train, quiet, given, defaults)
    res <- best_start(spec)
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
    out[[f]] <- held_out_fold(fold_network(spec, res), x[held, , drop = FALSE],
                              target$y[held, , drop = FALSE], weights[held], spec$threads,
                              keep = method == "cv+")
    if (!is.null(bar)) cli::cli_progress_update(id = bar, set = f)
  }
  if (!is.null(bar)) cli::cli_progress_done(id = bar)
  new_calibration(method, paste0(folds, "-fold refits"), out)
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
  # (A double: a level near 1 needs more rows than an integer holds.)
  needed <- format(ceiling(round(level / (1 - level), 8)), scientific = FALSE)
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

# The scores of a calibration: per fold, sorted. `j` is the output (a
# band has one); a classifier's scores take one uniform draw per row.
calibration_scores <- function(cal, band, j) {
  lapply(cal$folds, function(f) {
    if (band) return(sort(pmax(f$pred[, 1L] - f$y[, 1L], f$y[, 1L] - f$pred[, 2L])))
    sort(abs(f$y[, j] - f$pred[, j]))
  })
}

# The centres of new rows' intervals or sets, and the scores against which
# they are compared: for CV+, each fold network's prediction with its own
# fold's scores; otherwise the fit's prediction `own` with every score.
conformal_terms <- function(object, cal, scores, x, own, threads) {
  if (cal$method != "cv+") return(list(preds = list(own), scores = list(sort(unlist(scores)))))
  preds <- lapply(cal$folds, function(f) {
    as_response(fold_raw(f$network, x, threads), f$network$scaling, f$network$tau)
  })
  list(preds = preds, scores = scores)
}

# Conformal prediction intervals: a matrix of lower and upper bounds per
# output (columns `lower`, `upper`, prefixed by the output's name when
# there are several). The bounds are order statistics, over the
# calibration rows, of the centre minus (plus) the row's score.
conformal_interval <- function(object, cal, x, own, level, threads) {
  n <- cal$rows
  r_up <- conformal_rank(level, n)
  # The lower bound's rank mirrors the upper's (floor(alpha (n + 1)) in
  # exact arithmetic), so that split intervals are symmetric.
  r_low <- n + 1L - r_up
  if (r_up > n) too_few_rows(n, level, "interval: its bounds are infinite")
  band <- is_band(object)
  outputs <- if (band) 1L else ncol(own)
  rows <- nrow(own)
  out <- matrix(NA_real_, rows, 2L * outputs)
  for (j in seq_len(outputs)) {
    terms <- conformal_terms(object, cal, calibration_scores(cal, band, j), x, own, threads)
    # A band's lower and upper centres are its two bounds; otherwise both
    # are the output's prediction.
    centres <- lapply(if (band) 1:2 else c(j, j), function(col) {
      centre <- vapply(terms$preds, function(p) p[, col], numeric(rows))
      dim(centre) <- c(rows, length(terms$preds))
      centre
    })
    out[, 2L * j - 1L] <- if (r_low < 1) -Inf else union_order_stat(centres[[1L]], terms$scores, r_low, -1)
    out[, 2L * j] <- if (r_up > n) Inf else union_order_stat(centres[[2L]], terms$scores, r_up, 1)
  }
  out <- uncrossed(out, level, if (band) object$options$tau)
  dimnames(out) <- list(rownames(own), interval_columns(object))
  # Counts and rates (an exp output) are not negative.
  if (identical(object$output_activation, "exp")) out[, c(TRUE, FALSE)] <- pmax(out[, c(TRUE, FALSE)], 0)
  out
}

# At a low level an interval can be empty (lower above upper), covering
# nothing: a quantile band (`tau`) calibrated well below its own coverage
# shrinks past its width, and CV+'s two order statistics can cross. Such
# rows get a point interval at their centre, which covers no more, and a
# warning says how many there are.
uncrossed <- function(out, level, tau = NULL) {
  lower <- seq(1L, ncol(out), by = 2L)
  crossed <- out[, lower, drop = FALSE] > out[, lower + 1L, drop = FALSE]
  crossed[is.na(crossed)] <- FALSE
  if (!any(crossed)) return(out)
  for (k in seq_along(lower)) {
    rows <- which(crossed[, k])
    out[rows, lower[k] + 0:1] <- (out[rows, lower[k]] + out[rows, lower[k] + 1L]) / 2
  }
  rows <- sum(rowSums(crossed) > 0)
  warning("At `level = ", level, "` the intervals of ", rows, " of ", nrow(out), " rows are ",
          "empty (lower above upper), returned as a point at their centre",
          if (is.null(tau)) ". Ask for a higher `level`." else
            paste0(": the calibration shrinks the quantile band (`tau = c(", tau[1L], ", ", tau[2L],
                   ")`) past its width. Ask for a level nearer the band's own ",
                   signif(tau[2L] - tau[1L], 6), ", or fit a band for this level."),
          call. = FALSE)
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
# own, is below the calibration's threshold. The uniform draws (one per
# calibration row, then one per new row, from R's RNG) make the coverage
# exact rather than conservative.
conformal_set <- function(object, cal, x, own, level, threads) {
  n <- cal$rows
  r_up <- conformal_rank(level, n)
  if (r_up > n) too_few_rows(n, level, "set: every set holds every class")
  scores <- lapply(cal$folds, function(f) {
    class <- class_index(f$y)
    sort(aps_score(f$pred, stats::runif(nrow(f$pred)))[cbind(seq_along(class), class)])
  })
  terms <- conformal_terms(object, cal, scores, x, own, threads)
  rows <- nrow(own)
  u <- stats::runif(rows)
  below <- 0
  for (k in seq_along(terms$preds)) {
    s <- aps_score(terms$preds[[k]], u)
    below <- below + matrix(findInterval(s, terms$scores[[k]], left.open = TRUE), rows)
  }
  # (below counts calibration scores, an integer: below < r_up is below <
  # level (n + 1).)
  sets <- below < r_up
  dimnames(sets) <- list(rownames(own), object$levels)
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
