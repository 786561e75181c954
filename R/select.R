# Selection inside backprop(): when the user leaves the network's size (or
# its weight decay) to the rule, backprop() compares a few candidate
# settings on rows the candidates were not trained on, and fits the winner.
#
# * Without validation rows in the rule (small data, full-batch L-BFGS),
#   the candidates are judged by K-fold cross-validation on the training
#   rows (or, past `cv_rows`, on one held-out part), and the winner is then
#   refitted on every row, with the rule's restarts.
# * With validation rows (large data, Adam with early stopping, or the
#   user's `validation`), each candidate trains on the same training rows
#   and stops early on the same validation rows; the one with the lowest
#   validation loss is kept as it was fitted.
#
# The score is the fit's own loss per row, as the fit reports it
# (cross-entropy, or the mean squared error of the standardized response),
# on the held-out rows, without the penalty.
# Every candidate starts from the same state of R's RNG (one seed drawn from
# it), so they meet the same folds and comparable starts, and set.seed()
# fixes the whole search for any thread count.

# The candidates: option lists, each the rule's candidate settings under
# the options the user gave (which the search never changes), duplicates
# removed.
search_candidates <- function(candidates, given) {
  # A given optimizer takes its own epochs too, unless they are given.
  fixed <- c(names(given), if (!is.null(given$optimizer)) "epochs")
  candidates <- lapply(candidates, function(cand) {
    cand[intersect(names(cand), fixed)] <- NULL
    cand
  })
  candidates[!duplicated(candidates)]
}

# The selection of a design's settings. Returns list(winner = the chosen
# candidate's options, record = what the fit keeps (method, table), kept =
# list(spec, res) of the winner when it is kept as fitted, else NULL).
select_settings <- function(design, target, given, rule, candidates, plan) {
  started <- proc.time()[["elapsed"]]
  validated <- !is.null(given$validation %||% rule$validation)
  # A sample of at most plan$rows rows (drawn from R's RNG) to search on,
  # unless the winner is kept as fitted, on every training row.
  if (nrow(design$x) > plan$rows && !validated) {
    pool <- sort(sample.int(nrow(design$x), plan$rows))
    design$x <- design$x[pool, , drop = FALSE]
    target$y <- target$y[pool, , drop = FALSE]
    design$weights <- design$weights[pool]
    design$categories <- subset_categories(design$categories, pool)
  }
  x <- design$x
  weights <- design$weights
  n <- nrow(x)
  # The held-out rows count as training rows do: with their observation
  # weights times their class weights.
  score_weights <- weights
  if (!is.null(target$levels) && !is.null(given$class_weights)) {
    score_weights <- class_row_weights(given$class_weights, target, weights)
  }
  folds <- if (validated) 1L else min(plan$folds, n)
  # Each row's fold; with one held-out part, its rows are fold 1 and the
  # others fold 0, so that fold f trains on the rows not in f either way.
  fold_of <- if (!validated) {
    if (folds > 1L) sample(rep_len(seq_len(folds), n)) else {
      held <- sample.int(n, max(1L, round(plan$holdout * n)))
      ifelse(seq_len(n) %in% held, 1L, 0L)
    }
  }
  seed <- sample.int(.Machine$integer.max, 1L)
  verbose <- given$verbose %||% interactive()
  steps <- length(candidates) * folds
  bar <- if (verbose && requireNamespace("cli", quietly = TRUE)) {
    cli::cli_progress_bar(total = steps, clear = TRUE, extra = list(what = ""),
                          format = "{cli::pb_bar} selecting {cli::pb_extra$what} | ETA {cli::pb_eta}")
  }
  # One start per candidate and fold: the restarts, as the ensemble and the
  # calibration's refits, are the winner's alone.
  quiet <- quiet_options(given)
  quiet$restarts <- 1
  scores <- numeric(length(candidates))
  fits <- vector("list", length(candidates))
  # Each candidate's fold networks and the rows they held out: the
  # winner's calibrate its fit (conformal = "auto").
  fold_nets <- vector("list", length(candidates))
  step <- 0
  for (k in seq_along(candidates)) {
    defaults <- rule
    defaults[names(candidates[[k]])] <- candidates[[k]]
    losses <- sizes <- numeric(folds)
    for (f in seq_len(folds)) {
      step <- step + 1
      if (!is.null(bar)) {
        cli::cli_progress_update(id = bar, set = step - 1, extra = list(
          what = paste0("candidate ", k, "/", length(candidates), " (", candidate_label(candidates[[k]]), ")",
                        if (folds > 1L) paste0(", fold ", f, "/", folds))))
      }
      if (!validated) {
        fit_rows <- fold_of != f
        # A fold whose training rows all weigh 0 cannot be trained: it
        # counts for nothing.
        if (!is.null(weights) && sum(weights[fit_rows]) == 0) {
          losses[f] <- sizes[f] <- 0
          next
        }
      }
      trained <- with_seed(seed, if (validated) {
        spec <- training_spec(x, target, quiet, defaults, weights, design$blueprint,
                              categories = design$categories)
        list(spec = spec, res = train_spec(spec))
      } else {
        spec <- fold_spec(design, target, fit_rows, quiet, given, defaults)
        list(spec = spec, res = train_spec(spec), held = !fit_rows)
      })
      if (trained$res$status == "interrupted") {
        if (!is.null(bar)) cli::cli_progress_done(id = bar)
        abort("backprop()'s selection was interrupted at candidate ", k, " of ",
              length(candidates), "; no network was fitted. Give `hidden` and `weight_decay`, ",
              "or `select = FALSE`, to fit without it.", class = "backprop_interrupted")
      }
      if (trained$res$status == "diverged") {
        losses[f] <- Inf
        sizes[f] <- 1
        next
      }
      if (validated) {
        # (Epochs whose validation loss is not finite were never kept.)
        finite <- trained$res$val_loss[is.finite(trained$res$val_loss)]
        losses[f] <- if (length(finite)) min(finite) else Inf
        # "sse" reports its sum over the rows: per row, as the folds' scores.
        if (identical(trained$spec$loss, "sse")) {
          losses[f] <- losses[f] / sum(trained$spec$val_weights %||% rep(1, nrow(trained$spec$val$y)))
        }
        sizes[f] <- 1
        fits[[k]] <- trained
      } else {
        held <- trained$held
        losses[f] <- held_out_loss(trained$spec, trained$res, x[held, , drop = FALSE],
                                   target$y[held, , drop = FALSE], score_weights[held])
        fold_nets[[k]][[f]] <- list(network = fold_network(trained$spec, trained$res), held = held,
                                    threads = trained$spec$threads)
        sizes[f] <- if (is.null(score_weights)) sum(held) else sum(score_weights[held])
      }
    }
    scores[k] <- if (sum(sizes) > 0) sum(losses * sizes) / sum(sizes) else Inf
  }
  if (!is.null(bar)) cli::cli_progress_done(id = bar)
  if (!any(is.finite(scores))) {
    abort("Every candidate of backprop()'s selection diverged: give `hidden` and ",
          "`weight_decay`, or `select = FALSE`.", class = "backprop_diverged")
  }
  best <- which.min(scores)
  table <- candidate_table(candidates, scores, best)
  method <- if (validated) "the validation rows" else if (folds > 1L)
    paste0(folds, "-fold cross-validation") else
      paste0(round(100 * plan$holdout), " percent of the rows held out")
  # A validated winner was trained on every training row and is kept as
  # fitted, unless the user gave a callback or restarts, which the search
  # leaves out: then it is refitted with them.
  keep <- validated && is.null(given$callback) && (given$restarts %||% 1) == 1 &&
    (given$ensemble %||% 1) == 1 && !any(given$conformal == c("cv", "cv+"))
  calibration <- if (!validated) {
    new_calibration("cv", paste0("the search's ", method), lapply(fold_nets[[best]], function(f) {
      if (!is.null(f)) held_out_fold(f$network, x[f$held, , drop = FALSE],
                                     target$y[f$held, , drop = FALSE], weights[f$held], f$threads)
    }))
  }
  list(winner = candidates[[best]], kept = if (keep) fits[[best]], calibration = calibration,
       record = list(method = method, table = table, refitted = !keep,
                     seconds = proc.time()[["elapsed"]] - started))
}

# Trains a spec as run_training() does, without progress, callback or
# restarts: the search's fits.
train_spec <- function(spec) {
  train_(spec$x, spec$y, spec, spec$params, spec$val$x, spec$val$y, NULL, NULL)
}

# The loss of a trained spec's network on held-out rows (inputs and targets
# as the design codes them), scaled as its training rows were, without the
# weight penalty: the (weighted) mean per row of the loss as the fit reports
# it (the mean Poisson deviance, not the half of it the optimizers
# minimise), as validation rows score. Rows of total weight 0 count for
# nothing (their fold's size is 0).
held_out_loss <- function(spec, res, x, y, weights) {
  if (!is.null(spec$scaling)) {
    x <- apply_stats(x, spec$scaling$x)
    if (!is.null(spec$scaling$y)) y <- apply_stats(y, spec$scaling$y)
  }
  # Weights rescaled to mean 1: the core's mean over rows is then the
  # weighted mean of the rows' losses.
  if (!is.null(weights)) {
    if (sum(weights) == 0) return(0)
    weights <- weights * (length(weights) / sum(weights))
  }
  spec$weights <- weights
  spec$weight_decay <- 0
  spec$l1 <- 0
  objective_(x, y, spec, list(weights = res$weights, biases = res$biases))$row_loss
}

# Evaluates `expr` with R's RNG set by `seed`, then puts the caller's RNG
# state back: each candidate of the search draws the same numbers.
with_seed <- function(seed, expr) {
  env <- globalenv()
  had <- exists(".Random.seed", envir = env, inherits = FALSE)
  old <- if (had) get(".Random.seed", envir = env, inherits = FALSE)
  on.exit(if (had) assign(".Random.seed", old, envir = env) else
    rm(".Random.seed", envir = env), add = TRUE)
  set.seed(seed)
  expr
}

candidate_label <- function(cand) {
  parts <- character()
  if (!is.null(cand$optimizer)) parts <- c(parts, cand$optimizer)
  if (!is.null(cand$hidden)) parts <- c(parts, paste("hidden", paste(cand$hidden, collapse = "-")))
  if (!is.null(cand$activation)) parts <- c(parts, paste(cand$activation, collapse = "/"))
  if (!is.null(cand$weight_decay)) parts <- c(parts, paste("decay", format(cand$weight_decay)))
  paste(parts, collapse = ", ")
}

# The candidates as a data frame: one row each, the settings searched, the
# score, and which one was chosen.
candidate_table <- function(candidates, scores, best) {
  searched <- unique(unlist(lapply(candidates, names)))
  cols <- lapply(stats::setNames(searched, searched), function(name) {
    values <- lapply(candidates, `[[`, name)
    # A number per candidate stays a number; several (hidden = c(32, 16)) are "32-16".
    if (all(lengths(values) == 1L) && all(vapply(values, is.numeric, NA))) return(unlist(values))
    vapply(values, function(v) paste(format(v), collapse = "-"), "")
  })
  table <- as.data.frame(cols, stringsAsFactors = FALSE)
  table$score <- scores
  table$chosen <- seq_along(scores) == best
  table
}
