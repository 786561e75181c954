# Real data, no tuning: backprop() with no argument but the formula and the
# data, against nnet(size = 10) and scikit-learn's default pipeline
# (StandardScaler + MLPClassifier / MLPRegressor, Debian python3-sklearn),
# on the corpus of bench/data/realdata (see bench/corpus.R). Each data set
# is split 70/30 at random BENCH_SPLITS times (default 3); the three run on
# the same splits, one data set after another. Prints held-out accuracy or
# RMSE (the mean over the splits) and fit time per data set, and the
# counts of the issue's targets. BENCH_OUT names a CSV file to keep every
# split's results in (bench/rule.R reads the peers' from it).
source(file.path("bench", "common.R"))
source(file.path("bench", "corpus.R"))
splits <- as.integer(Sys.getenv("BENCH_SPLITS", "3"))
threads <- 2L
index <- corpus_index()
python <- sklearn_python()
options(width = 180)

rows <- list()
for (k in seq_len(nrow(index))) {
  set <- corpus_parts(index, k, splits)
  name <- set$name
  task <- set$task
  parts <- set$parts
  sk <- if (nzchar(python)) run_sklearn(parts, task, python, threads)
  for (s in seq_len(splits)) {
    b <- run_backprop(parts[[s]], task, threads)
    n <- run_nnet(parts[[s]], task)
    rows[[length(rows) + 1]] <- data.frame(
      dataset = name, split = s, task = task, rows = nrow(parts[[s]]$train),
      backprop = b$score, backprop_s = b$seconds, nnet = n$score, nnet_s = n$seconds,
      sklearn = if (is.null(sk)) NA_real_ else sk$score[s],
      sklearn_s = if (is.null(sk)) NA_real_ else sk$seconds[s],
      hidden = paste(b$fit$hidden, collapse = "-"), optimizer = b$fit$optimizer,
      decay = b$fit$weight_decay)
  }
}
res <- do.call(rbind, rows)
out <- Sys.getenv("BENCH_OUT", "")
if (nzchar(out)) utils::write.csv(res, out, row.names = FALSE)

by_set <- stats::aggregate(cbind(backprop, nnet, sklearn, backprop_s, nnet_s, sklearn_s) ~ dataset + task + rows,
                           res, mean, na.action = stats::na.pass)
by_set <- by_set[match(unique(res$dataset), by_set$dataset), ]
by_set$near_sklearn <- near_peer(by_set$task, by_set$backprop, by_set$sklearn)
by_set$no_worse_than_nnet <- no_worse(by_set$task, by_set$backprop, by_set$nnet)
rule(sprintf("real data, no tuning: held-out accuracy (classification) or RMSE (regression), mean of %d splits", splits))
shown <- by_set[, c("dataset", "task", "rows", "backprop", "nnet", "sklearn", "backprop_s", "nnet_s", "sklearn_s")]
num <- vapply(shown, is.numeric, logical(1))
shown[num] <- lapply(shown[num], signif, 4)
shown$vs <- ifelse(by_set$near_sklearn, "", "  <- behind scikit-learn")
shown$vs <- paste0(shown$vs, ifelse(by_set$no_worse_than_nnet, "", "  <- behind nnet"))
print(shown, row.names = FALSE)
if (!nzchar(python)) cat("scikit-learn is not installed (Debian python3-sklearn): its columns are NA\n")
cat(sprintf("\nwithin 2 points / 5 percent of scikit-learn: %d of %d; no worse than nnet: %d of %d\n",
            sum(by_set$near_sklearn, na.rm = TRUE), sum(!is.na(by_set$near_sklearn)),
            sum(by_set$no_worse_than_nnet), nrow(by_set)))
cat(sprintf("total fit time: backprop %.1f s, nnet %.1f s, scikit-learn %.1f s; backprop / nnet = %.2f, backprop / scikit-learn = %.2f\n",
            sum(res$backprop_s), sum(res$nnet_s), sum(res$sklearn_s),
            sum(res$backprop_s) / sum(res$nnet_s), sum(res$backprop_s) / sum(res$sklearn_s)))
