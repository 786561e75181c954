# Rows scale linearly: an epoch of Adam (batch 256) over 10^6 rows x 100
# inputs against the same over 10^5 rows, each in a fresh R process, so
# that its peak memory is its own. An epoch is timed between the callbacks
# that end the epochs of one fit (the fastest epoch: a single 0.04 s epoch
# of the small size varies by half on a shared machine). The two sizes run
# in alternation, BENCH_ROUNDS (default 3) processes each, so that a slow
# spell of a shared machine hits both; each size's fastest epoch counts. The peak
# is held against X's size, plus the row-major copy of X that a minibatch
# fit makes, plus 300 MB.
source(file.path("bench", "common.R"))
threads <- as.integer(Sys.getenv("BENCH_THREADS", parallel::detectCores()))
rounds <- as.integer(Sys.getenv("BENCH_ROUNDS", 3))
one_size <- function(n, epochs, threads) {
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
  stamps <- numeric(epochs)
  mark <- function(epoch, loss, val_loss, weights) {
    # (Sys.time() reads microseconds; proc.time() milliseconds, 3 percent
    # of a small epoch.)
    stamps[[epoch]] <<- as.numeric(Sys.time())
    FALSE
  }
  mlp_train(X, y, hidden = 64, epochs = epochs, output = "linear", loss = "mse", optimizer = "adam",
            batch_size = 256, init = "xavier", threads = threads, verbose = FALSE, callback = mark)
  list(epoch = min(diff(stamps)), x_bytes = 8 * n * d, peak = status("VmHWM"))
}
rule(sprintf("Rows scale: Adam, batch 256, 100 inputs, 64 hidden, %d thread(s)", threads))
runs <- lapply(seq_len(rounds), function(i) {
  list(small = callr::r(one_size, list(n = 1e5, epochs = 16, threads = threads)),
       large = callr::r(one_size, list(n = 1e6, epochs = 6, threads = threads)))
})
epochs_of <- function(size) vapply(runs, function(r) r[[size]]$epoch, numeric(1))
cat(sprintf("round %d: 10^5 rows %.4f s, 10^6 rows %.3f s per epoch; ratio %.2f\n",
            seq_len(rounds), epochs_of("small"), epochs_of("large"), epochs_of("large") / epochs_of("small")), sep = "")
cat(sprintf("fastest: 10^5 rows: %.4f s per epoch; 10^6 rows: %.3f s per epoch; ratio %.2f (at most 10.5)\n",
            min(epochs_of("small")), min(epochs_of("large")), min(epochs_of("large")) / min(epochs_of("small"))))
# The highest peak of the large size's processes.
peak <- max(vapply(runs, function(r) r$large$peak, numeric(1)))
x_bytes <- runs[[1]]$large$x_bytes
budget <- 2 * x_bytes + 300 * 1024^2
cat(sprintf("10^6 rows: peak memory %.0f MB; X %.0f MB; budget X + its row-major copy + 300 MB = %.0f MB%s\n",
            peak / 1024^2, x_bytes / 1024^2, budget / 1024^2,
            if (peak <= budget) "" else "  OVER BUDGET"))
