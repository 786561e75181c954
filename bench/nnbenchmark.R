# W2 / library quality: the 13 NNbenchmark regression datasets, 10 runs each.
# Protocol: standardize x and y, train with the recommended hidden size (tanh
# hidden, linear output, mse), predict the training data, RMSE in original
# units; median over 10 runs. nnet::nnet(size, linout = TRUE, maxit = 150) on
# the same standardized data in the same run.
source(file.path("bench", "common.R"))
runs <- as.integer(Sys.getenv("BENCH_RUNS", "10"))
dir <- file.path(bench_data_dir, "nnbenchmark")
index <- read.csv(file.path(dir, "index.csv"))

rmse <- function(pred, y) sqrt(mean((pred - y)^2))
rows <- list()
for (k in seq_len(nrow(index))) {
  name <- index$dataset[k]
  h <- index$neurons[k]
  data <- read.csv(file.path(dir, paste0(name, ".csv")))
  x <- as.matrix(data[, -ncol(data), drop = FALSE])
  y <- data$y
  xs <- scale(x)
  ys <- scale(y)
  bp_rmse <- nn_rmse <- numeric(runs)
  bp_time <- nn_time <- 0
  for (r in seq_len(runs)) {
    set.seed(r)
    b <- timed(mlp_train(x, y, hidden = h, activation = "tanh", output = "linear",
                         loss = "mse", optimizer = "lm", epochs = 100, init = "nnet",
                         scale = TRUE, threads = 1, verbose = FALSE))
    bp_time <- bp_time + b$seconds
    bp_rmse[r] <- rmse(fitted(b$value), y)
    set.seed(r)
    n <- timed(nnet::nnet(xs, ys, size = h, linout = TRUE, maxit = 150, trace = FALSE))
    nn_time <- nn_time + n$seconds
    nn_rmse[r] <- rmse(n$value$fitted.values * attr(ys, "scaled:scale") + attr(ys, "scaled:center"), y)
  }
  rows[[k]] <- data.frame(dataset = name, rows = nrow(x), hidden = h,
                          backprop_rmse = median(bp_rmse), nnet_rmse = median(nn_rmse),
                          backprop_s = bp_time, nnet_s = nn_time)
}
res <- do.call(rbind, rows)
res$no_worse <- res$backprop_rmse <= res$nnet_rmse
rule(sprintf("NNbenchmark: median RMSE over %d runs (backprop: lm, 100 epochs; nnet: BFGS, maxit 150)", runs))
print(transform(res, backprop_rmse = signif(backprop_rmse, 4), nnet_rmse = signif(nnet_rmse, 4),
                backprop_s = round(backprop_s, 2), nnet_s = round(nnet_s, 2)), row.names = FALSE)
cat(sprintf("\nbackprop's median RMSE no worse than nnet's on %d of %d datasets\n",
            sum(res$no_worse), nrow(res)))
cat(sprintf("total time: backprop %.2f s, nnet %.2f s; nnet / backprop = %.2fx\n",
            sum(res$backprop_s), sum(res$nnet_s), sum(res$nnet_s) / sum(res$backprop_s)))
