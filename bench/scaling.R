# Rows scale linearly: an epoch of Adam (batch 256) over 10^6 rows x 100
# inputs against the same over 10^5 rows, each in a fresh R process, so
# that its peak memory is its own. An epoch is timed between the callbacks
# that end the epochs of one 6-epoch fit (the fastest of five: a single
# 0.1 s epoch of the small size varies by half on a shared machine). The peak
# is held against X's size, plus the row-major copy of X that a minibatch
# fit makes, plus 300 MB.
source(file.path("bench", "common.R"))
threads <- as.integer(Sys.getenv("BENCH_THREADS", parallel::detectCores()))
one_size <- function(n, threads) {
  suppressPackageStartupMessages(library(backprop))
  status <- function(field) {
    line <- grep(paste0("^", field, ":"), readLines("/proc/self/status"), value = TRUE)
    as.numeric(gsub("[^0-9]", "", line)) * 1024
  }
  d <- 100
  set.seed(1)
  X <- runif(n * d)
  dim(X) <- c(n, d)
  y <- X[, 1] - X[, 2] + rnorm(n, sd = 0.1)
  stamps <- numeric(6)
  mark <- function(epoch, loss, val_loss, weights) {
    stamps[[epoch]] <<- proc.time()[["elapsed"]]
    FALSE
  }
  mlp_train(X, y, hidden = 64, epochs = 6, output = "linear", loss = "mse", optimizer = "adam",
            batch_size = 256, init = "xavier", threads = threads, verbose = FALSE, callback = mark)
  list(epoch = min(diff(stamps)), x_bytes = 8 * n * d, peak = status("VmHWM"))
}
rule(sprintf("Rows scale: Adam, batch 256, 100 inputs, 64 hidden, %d thread(s)", threads))
small <- callr::r(one_size, list(n = 1e5, threads = threads))
large <- callr::r(one_size, list(n = 1e6, threads = threads))
cat(sprintf("10^5 rows: %.3f s per epoch; 10^6 rows: %.3f s per epoch; ratio %.2f (at most 10.5)\n",
            small$epoch, large$epoch, large$epoch / small$epoch))
budget <- 2 * large$x_bytes + 300 * 1024^2
cat(sprintf("10^6 rows: peak memory %.0f MB; X %.0f MB; budget X + its row-major copy + 300 MB = %.0f MB%s\n",
            large$peak / 1024^2, large$x_bytes / 1024^2, budget / 1024^2,
            if (large$peak <= budget) "" else "  OVER BUDGET"))
