# How sure is the network? The coverage of predict()'s conformal intervals
# (type = "pred_int") and sets (type = "set") on rows no fit saw, on the
# corpus of bench/data/realdata (see bench/corpus.R), split 70/30 at random
# BENCH_SPLITS times (default 3), at the levels 80, 90 and 95 percent; then
# the width and time of the intervals against probably::int_conformal_cv()
# around the same network in a workflow.
#
# Calibrations compared (each a backprop() fit on the training rows):
# * auto: the defaults, calibrated by what the fit has (the search's folds,
#   or the validation rows of the large-data rule);
# * cv: conformal = "cv", 5 refits' out-of-fold residuals around the fit;
# * cv+: conformal = "cv+", CV+ over the same refits;
# * cqr: loss = "quantile", tau = c(0.05, 0.95), conformalized (auto);
# * oob: ensemble = 5, bootstrap = TRUE, out of bag;
# BENCH_COVERAGE_ROWS (default 6000) bounds the training rows of the data
# sets that cv and oob, which train five times more, run on. BENCH_PARTS
# (default "coverage,probably") says which of the two parts run;
# BENCH_COVERAGE_OUT names a CSV file to keep every split's coverage in.
source(file.path("bench", "common.R"))
source(file.path("bench", "corpus.R"))
splits <- as.integer(Sys.getenv("BENCH_SPLITS", "3"))
max_rows <- as.integer(Sys.getenv("BENCH_COVERAGE_ROWS", "6000"))
threads <- 2L
levels <- c(0.8, 0.9, 0.95)
index <- corpus_index()
parts <- strsplit(Sys.getenv("BENCH_PARTS", "coverage,probably"), ",")[[1]]
options(width = 160)

# Coverage (and width or set size) of one fit on a split's held-out rows.
interval_rows <- function(fit, split, task, method, dataset, s) {
  out <- list()
  for (level in levels) {
    if (task == "regression") {
      pi <- predict(fit, split$test, type = "pred_int", level = level)
      y <- split$test$y
      inside <- y >= pi[, "lower"] & y <= pi[, "upper"]
      size <- mean(pi[, "upper"] - pi[, "lower"]) / stats::sd(split$train$y)
    } else {
      sets <- predict(fit, split$test, type = "set", level = level)
      truth <- match(as.character(split$test$y), colnames(sets))
      inside <- sets[cbind(seq_along(truth), truth)]
      size <- mean(rowSums(sets))
    }
    out[[length(out) + 1L]] <- data.frame(dataset = dataset, task = task, split = s,
                                          method = method, level = level,
                                          coverage = mean(inside), size = size,
                                          rows = nrow(split$train),
                                          calibration = fit$calibration$method)
  }
  do.call(rbind, out)
}

methods <- list(
  auto = list(),
  cv = list(conformal = "cv"),
  `cv+` = list(conformal = "cv+"),
  cqr = list(loss = "quantile", tau = c(0.05, 0.95)),
  oob = list(ensemble = 5, bootstrap = TRUE)
)

if ("coverage" %in% parts) {
rule("coverage of conformal intervals and sets")
rows <- list()
for (k in seq_len(nrow(index))) {
  set <- corpus_parts(index, k, splits)
  for (s in seq_len(splits)) {
    split <- set$parts[[s]]
    for (m in names(methods)) {
      if (m == "cqr" && set$task != "regression") next
      if (m %in% c("cv", "cv+", "oob") && nrow(split$train) > max_rows) next
      set.seed(split$seed)
      fit <- do.call(backprop, c(list(y ~ ., split$train, threads = threads, verbose = FALSE),
                                 methods[[m]]))
      rows[[length(rows) + 1L]] <- interval_rows(fit, split, set$task, m, set$name, s)
    }
  }
  cat(set$name, "")
}
cat("\n")
res <- do.call(rbind, rows)
out <- Sys.getenv("BENCH_COVERAGE_OUT", "")
if (nzchar(out)) utils::write.csv(res, out, row.names = FALSE)

# Per data set, the mean over its splits; then per method and level: the
# data sets, the mean coverage, and how many data sets lie within 2 points
# of the level (a split's test rows alone put a binomial error of a point
# or more on each).
per_set <- stats::aggregate(cbind(coverage, size) ~ dataset + task + method + level, res, mean)
summary_rows <- lapply(split(per_set, list(per_set$task, per_set$method, per_set$level), drop = TRUE),
                       function(d) {
  data.frame(task = d$task[1], method = d$method[1], level = d$level[1], sets = nrow(d),
             coverage = round(mean(d$coverage), 4),
             within_2pts = sum(abs(d$coverage - d$level) <= 0.02),
             below_2pts = sum(d$coverage < d$level - 0.02),
             size = round(mean(d$size), 3))
})
table <- do.call(rbind, summary_rows)
table <- table[order(table$task, table$method, table$level), ]
print(table, row.names = FALSE)
cat("(size: the mean interval width over the training response's sd, or the mean set size)\n")
}

# A heteroscedastic case, where the truth is known: y = sin(x1) + x2/2 plus
# noise of sd 0.05 + 0.3 x1. The quantile band's intervals (CQR) should
# widen with x1 as the noise does; CV+ intervals around the mean cannot.
if ("coverage" %in% parts) {
  rule("interval width against the noise (heteroscedastic synthetic data, level 0.9)")
  set.seed(1)
  n <- 6000
  x <- matrix(runif(2 * n, 0, 3), ncol = 2, dimnames = list(NULL, c("x1", "x2")))
  noise_sd <- 0.05 + 0.3 * x[, 1]
  y <- sin(x[, 1]) + 0.5 * x[, 2] + rnorm(n, sd = noise_sd)
  train <- 1:2000
  test <- 2001:n
  bins <- cut(x[test, 1], c(0, 0.75, 1.5, 2.25, 3), include.lowest = TRUE)
  widths <- list(`true 90% width` = tapply(2 * stats::qnorm(0.95) * noise_sd[test], bins, mean))
  for (m in c("cv", "cv+", "cqr")) {
    set.seed(2)
    fit <- do.call(backprop, c(list(x[train, ], y[train], threads = threads, verbose = FALSE),
                               methods[[m]]))
    pi <- predict(fit, x[test, ], type = "pred_int", level = 0.9)
    inside <- y[test] >= pi[, 1] & y[test] <= pi[, 2]
    widths[[paste(m, "width")]] <- tapply(pi[, 2] - pi[, 1], bins, mean)
    widths[[paste(m, "coverage")]] <- tapply(inside, bins, mean)
  }
  print(round(do.call(rbind, widths), 3))
}

# probably::int_conformal_cv() around the same network: a workflow of
# parsnip's mlp() with the backprop engine, 5-fold resamples that keep
# their fits, then the intervals; against backprop(conformal = "cv") with
# the same 5 folds' worth of refits. The same settings on both sides
# (select = FALSE: the rule's settings without its search).
have_probably <- all(vapply(c("probably", "workflows", "parsnip", "tune", "rsample"),
                            requireNamespace, TRUE, quietly = TRUE))
if (!"probably" %in% parts) {
} else if (!have_probably) {
  cat("\nprobably, workflows, parsnip, tune or rsample is missing: no comparison with probably\n")
} else {
  rule("intervals against probably::int_conformal_cv (5 folds, level 0.9)")
  reg <- index[index$task == "regression" & index$rows <= max_rows, ]
  cmp <- list()
  for (k in seq_len(nrow(reg))) {
    set <- corpus_parts(reg, k, splits)
    for (s in seq_len(splits)) {
      split <- set$parts[[s]]
      set.seed(split$seed)
      ours <- timed({
        fit <- backprop(y ~ ., split$train, select = FALSE, conformal = "cv",
                        threads = threads, verbose = FALSE)
        predict(fit, split$test, type = "pred_int", level = 0.9)
      })
      set.seed(split$seed)
      theirs <- tryCatch(timed({
        spec <- parsnip::set_mode(parsnip::set_engine(parsnip::mlp(), "backprop", select = FALSE,
                                                      threads = threads, verbose = FALSE),
                                  "regression")
        wf <- workflows::add_model(workflows::add_formula(workflows::workflow(), y ~ .), spec)
        folds <- rsample::vfold_cv(split$train, v = 5)
        resamples <- tune::fit_resamples(wf, folds, control = tune::control_resamples(
          save_pred = TRUE, extract = function(x) x))
        int <- probably::int_conformal_cv(resamples)
        predict(int, split$test, level = 0.9)
      }), error = function(e) NULL)
      # A resample whose held-out rows hold a factor level its training rows
      # lack fails in the workflow (as in lm()); backprop's refits code every
      # fold with the whole data's levels.
      if (is.null(theirs)) {
        cat(set$name, "split", s, ": probably::int_conformal_cv() failed (every resample's model failed)\n")
        next
      }
      y <- split$test$y
      sd_y <- stats::sd(split$train$y)
      # The same out-of-fold residuals under probably's quantile (type 7 at
      # the level, without the finite-sample rank ceiling(level (n + 1))).
      resid <- unlist(lapply(fit$calibration$folds, function(f) abs(f$y - f$pred)))
      cmp[[length(cmp) + 1L]] <- data.frame(
        dataset = set$name, split = s, rows = nrow(split$train),
        backprop_cover = mean(y >= ours$value[, "lower"] & y <= ours$value[, "upper"]),
        probably_cover = mean(y >= theirs$value$.pred_lower & y <= theirs$value$.pred_upper),
        backprop_width = mean(ours$value[, "upper"] - ours$value[, "lower"]) / sd_y,
        probably_width = mean(theirs$value$.pred_upper - theirs$value$.pred_lower) / sd_y,
        backprop_q7_width = 2 * stats::quantile(resid, 0.9, names = FALSE) / sd_y,
        backprop_s = ours$seconds, probably_s = theirs$seconds)
    }
  }
  cmp <- do.call(rbind, cmp)
  # Per data set, the mean over its splits (the times summed).
  per_set <- stats::aggregate(cbind(rows, backprop_cover, probably_cover, backprop_width,
                                    probably_width, backprop_q7_width) ~ dataset, cmp, mean)
  times <- stats::aggregate(cbind(backprop_s, probably_s) ~ dataset, cmp, sum)
  per_set <- merge(per_set, times, by = "dataset")
  per_set$width_ratio <- per_set$backprop_width / per_set$probably_width
  per_set$q7_ratio <- per_set$backprop_q7_width / per_set$probably_width
  per_set$time_ratio <- per_set$backprop_s / per_set$probably_s
  print(per_set[order(per_set$rows), ], digits = 3, row.names = FALSE)
  cat(sprintf(paste0("\n%d data sets x %d splits: mean coverage %.3f (backprop) vs %.3f (probably); ",
                     "width ratio %.3f (geometric mean over sets; %.3f with probably's quantile ",
                     "rule), no wider on %d; total time %.1f s vs %.1f s (%.2fx)\n"),
              nrow(per_set), splits, mean(per_set$backprop_cover), mean(per_set$probably_cover),
              exp(mean(log(per_set$width_ratio))), exp(mean(log(per_set$q7_ratio))),
              sum(per_set$width_ratio <= 1), sum(per_set$backprop_s), sum(per_set$probably_s),
              sum(per_set$backprop_s) / sum(per_set$probably_s)))
}
