# W2 / library quality: the 13 NNbenchmark regression datasets, 10 runs each.
# Protocol: fit all the rows, predict them, RMSE in the response's units;
# median over BENCH_RUNS runs (default 10). Against nnet::nnet(size =
# the recommended hidden size, linout = TRUE, maxit = 150) on the
# standardized data, in the same run, alternating:
# * the LM setting: mlp_train() with the recommended size, tanh hidden,
#   linear output, mse, optimizer = "lm", 100 epochs, nnet's start, scaled,
#   with one start and with BENCH_RESTARTS starts (default 5);
# * backprop(x, y) with no other argument: the rule's defaults.
source(file.path("bench", "common.R"))
runs <- as.integer(Sys.getenv("BENCH_RUNS", "10"))
restarts <- as.integer(Sys.getenv("BENCH_RESTARTS", "5"))
dir <- file.path(bench_data_dir, "nnbenchmark")
index <- read.csv(file.path(dir, "index.csv"))

rmse <- function(pred, y) sqrt(mean((pred - y)^2))
lm_setting <- function(x, y, h, starts) {
  mlp_train(x, y, hidden = h, activation = "tanh", output = "linear", loss = "mse",
            optimizer = "lm", epochs = 100, init = "nnet", scale = TRUE, restarts = starts,
            threads = 1, verbose = FALSE)
}
rows <- list()
for (k in seq_len(nrow(index))) {
  name <- index$dataset[k]
  h <- index$neurons[k]
  data <- read.csv(file.path(dir, paste0(name, ".csv")))
  x <- as.matrix(data[, -ncol(data), drop = FALSE])
  y <- data$y
  xs <- scale(x)
  ys <- scale(y)
  score <- list(lm = numeric(runs), lm_restarts = numeric(runs), defaults = numeric(runs),
                nnet = numeric(runs))
  seconds <- c(lm = 0, lm_restarts = 0, defaults = 0, nnet = 0)
  for (r in seq_len(runs)) {
    fits <- list(
      lm = function() lm_setting(x, y, h, 1),
      lm_restarts = function() lm_setting(x, y, h, restarts),
      defaults = function() backprop(x, y),
      nnet = function() nnet::nnet(xs, ys, size = h, linout = TRUE, maxit = 150, trace = FALSE)
    )
    for (m in names(fits)) {
      set.seed(r)
      f <- timed(fits[[m]]())
      seconds[[m]] <- seconds[[m]] + f$seconds
      pred <- if (m == "nnet") {
        f$value$fitted.values * attr(ys, "scaled:scale") + attr(ys, "scaled:center")
      } else fitted(f$value)[, 1]
      score[[m]][r] <- rmse(pred, y)
    }
  }
  med <- vapply(score, stats::median, 0)
  rows[[k]] <- data.frame(dataset = name, rows = nrow(x), hidden = h,
                          lm = med[["lm"]], lm_restarts = med[["lm_restarts"]],
                          defaults = med[["defaults"]], nnet = med[["nnet"]],
                          lm_s = seconds[["lm"]], lm_restarts_s = seconds[["lm_restarts"]],
                          defaults_s = seconds[["defaults"]], nnet_s = seconds[["nnet"]])
}
res <- do.call(rbind, rows)
rule(sprintf("NNbenchmark: median RMSE over %d runs (LM: 100 epochs, 1 or %d starts; defaults: backprop(x, y); nnet: BFGS, maxit 150)",
             runs, restarts))
shown <- res
shown[4:11] <- lapply(shown[4:11], signif, 4)
print(shown, row.names = FALSE)
cat(sprintf("\nmedian RMSE no worse than nnet's: LM %d of %d, LM with %d starts %d of %d, backprop(x, y) %d of %d\n",
            sum(res$lm <= res$nnet), nrow(res), restarts, sum(res$lm_restarts <= res$nnet), nrow(res),
            sum(res$defaults <= res$nnet), nrow(res)))
cat(sprintf("total time: LM %.2f s, LM with %d starts %.2f s, backprop(x, y) %.2f s, nnet %.2f s; backprop(x, y) / nnet = %.2f\n",
            sum(res$lm_s), restarts, sum(res$lm_restarts_s), sum(res$defaults_s), sum(res$nnet_s),
            sum(res$defaults_s) / sum(res$nnet_s)))
