# backprop()'s rule judged on data it was not fitted to. The rule's
# constants (R/backprop.R, `rule_constants`) are chosen among a few
# variants; each variant runs backprop()'s defaults on every split of the
# corpus (bench/corpus.R). Leave-one-dataset-out: for each data set, the
# variant that does best on the other data sets is chosen, and the data set
# is scored under it. In-sample: the variant that does best on all of them.
# "Best": the most data sets within 2 points (5 percent of RMSE) of
# scikit-learn and no worse than nnet, ties broken by the mean distance to
# scikit-learn.
#
# BENCH_PEERS names the CSV of bench/realdata.R (BENCH_OUT) whose nnet and
# scikit-learn columns are the peers; without it they are computed here.
# BENCH_CACHE names a folder that keeps each variant's results between runs.
source(file.path("bench", "common.R"))
source(file.path("bench", "corpus.R"))
splits <- as.integer(Sys.getenv("BENCH_SPLITS", "3"))
index <- corpus_index()
options(width = 180)

# The variants: changes to the rule's constants. "rule" is the package's.
variants <- list(
  rule = list(),
  units_2_per_class = list(units_per_class = 2),
  units_5_per_class = list(units_per_class = 5),
  lbfgs_more = list(lbfgs_work = 2e7),
  no_selection = list(decays = backprop:::rule_constants$decay, lm_work = 0)
)
only <- Sys.getenv("BENCH_VARIANTS", "")
if (nzchar(only)) variants <- variants[strsplit(only, ",")[[1]]]

peers_file <- Sys.getenv("BENCH_PEERS", "")
peers <- if (nzchar(peers_file)) utils::read.csv(peers_file)
cache <- Sys.getenv("BENCH_CACHE", "")
if (nzchar(cache)) dir.create(cache, showWarnings = FALSE, recursive = TRUE)
python <- sklearn_python()
constants <- backprop:::rule_constants

results <- list()
for (k in seq_len(nrow(index))) {
  set <- corpus_parts(index, k, splits)
  name <- set$name
  task <- set$task
  parts <- set$parts
  if (!is.null(peers) && !any(peers$dataset == name)) {
    # A peers' file without this data set: its peers are unknown (NA).
    peer <- data.frame(dataset = name, split = seq_len(splits), nnet = NA_real_, sklearn = NA_real_)
  } else if (is.null(peers)) {
    sk <- run_sklearn(parts, task, python)
    peer <- data.frame(dataset = name, split = seq_len(splits),
                       nnet = vapply(parts, function(p) run_nnet(p, task)$score, 0),
                       sklearn = sk$score)
  } else {
    peer <- peers[peers$dataset == name & peers$split <= splits, c("dataset", "split", "nnet", "sklearn")]
  }
  for (v in names(variants)) {
    # Cached under a checksum of the variant's constants, so that a changed
    # rule is never read from an old run.
    key <- if (nzchar(cache)) {
      tmp <- tempfile()
      saveRDS(utils::modifyList(constants, variants[[v]]), tmp, version = 2)
      checksum <- substr(unname(tools::md5sum(tmp)), 1, 10)
      unlink(tmp)
      checksum
    }
    file <- if (nzchar(cache)) file.path(cache, paste0(name, "_", splits, "_", key, ".rds"))
    if (!is.null(file) && file.exists(file)) {
      got <- readRDS(file)
    } else {
      rule_constants <- utils::modifyList(constants, variants[[v]])
      utils::assignInNamespace("rule_constants", rule_constants, "backprop")
      got <- do.call(rbind, lapply(seq_len(splits), function(s) {
        b <- run_backprop(parts[[s]], task)
        data.frame(split = s, backprop = b$score, seconds = b$seconds)
      }))
      utils::assignInNamespace("rule_constants", constants, "backprop")
      if (!is.null(file)) saveRDS(got, file)
    }
    results[[length(results) + 1]] <- data.frame(variant = v, dataset = name, task = task,
                                                 merge(got, peer, by = "split"))
  }
}
res <- do.call(rbind, results)
per_set <- stats::aggregate(cbind(backprop, nnet, sklearn, seconds) ~ variant + dataset + task, res, mean)
per_set$good <- near_peer(per_set$task, per_set$backprop, per_set$sklearn) &
  no_worse(per_set$task, per_set$backprop, per_set$nnet)
# The distance to scikit-learn: accuracy points behind, or the log ratio of RMSEs.
per_set$gap <- ifelse(per_set$task == "classification", per_set$sklearn - per_set$backprop,
                      log(per_set$backprop / per_set$sklearn))

# The variant that does best on the data sets `sets`.
best_variant <- function(sets) {
  rows <- per_set[per_set$dataset %in% sets, ]
  good <- tapply(rows$good, rows$variant, sum)
  gap <- tapply(rows$gap, rows$variant, mean)
  names(good)[order(-good, gap)][1]
}
sets <- unique(per_set$dataset)
lodo <- do.call(rbind, lapply(sets, function(d) {
  v <- best_variant(setdiff(sets, d))
  cbind(per_set[per_set$variant == v & per_set$dataset == d, ], chosen_without_it = v)
}))
in_sample_variant <- best_variant(sets)
in_sample <- per_set[per_set$variant == in_sample_variant, ]
counts <- function(rows) {
  c(near_sklearn = sum(near_peer(rows$task, rows$backprop, rows$sklearn)),
    no_worse_than_nnet = sum(no_worse(rows$task, rows$backprop, rows$nnet)),
    both = sum(rows$good), sets = nrow(rows))
}

rule(sprintf("the rule's variants on the corpus (%d data sets, %d splits each)", length(sets), splits))
summary_table <- do.call(rbind, lapply(names(variants), function(v) {
  rows <- per_set[per_set$variant == v, ]
  data.frame(variant = v, t(counts(rows)), mean_gap = signif(mean(rows$gap), 3),
             seconds = round(sum(rows$seconds) * splits, 1))
}))
print(summary_table, row.names = FALSE)
rule("leave-one-dataset-out against in-sample")
cat("in-sample choice:", in_sample_variant, "\n")
print(rbind(in_sample = counts(in_sample), leave_one_dataset_out = counts(lodo)))
cat("\nvariants chosen without the scored set:\n")
print(table(lodo$chosen_without_it))
shown <- lodo[, c("dataset", "task", "backprop", "nnet", "sklearn", "chosen_without_it")]
shown[3:5] <- lapply(shown[3:5], signif, 4)
shown$mark <- ifelse(lodo$good, "", "  <-")
print(shown, row.names = FALSE)
