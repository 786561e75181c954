# Two installed versions of backprop side by side, in alternating fresh R
# processes: the article's problem (W1), the large full batch (W3), Adam
# on its batches of 256 rows (W4), and a whole five-epoch W4 fit.
#   BENCH_BASE_LIB=/path/to/library/of/the/older/version Rscript bench/versions.R
# The newer version is the one on the default library path. Prints each
# version's best time over the rounds and their ratio.
source(file.path("bench", "common.R"))
base_lib <- Sys.getenv("BENCH_BASE_LIB")
if (!nzchar(base_lib) || !dir.exists(file.path(base_lib, "backprop"))) {
  cat("versions.R: set BENCH_BASE_LIB to a library holding the older backprop; skipped\n")
} else {
  rounds <- as.integer(Sys.getenv("BENCH_ROUNDS", "5"))
  threads <- as.integer(Sys.getenv("BENCH_THREADS", parallel::detectCores()))
  w1 <- function(lib) {
    suppressPackageStartupMessages(library(backprop, lib.loc = lib))
    X <- matrix(c(1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1), nrow = 3, byrow = TRUE)
    Y <- matrix(c(1, 1, 0))
    calls <- 500
    system.time(for (i in seq_len(calls)) mlp_train(X, Y, bias = "row", threads = 1, verbose = FALSE))[["elapsed"]] / calls
  }
  # W3 (gd on the full batch: (3 epochs - 1 epoch) / 2, best fits after a first one) or W4 (adam on
  # batches of 256: the fastest epoch between the callbacks of a 4-epoch fit).
  large <- function(lib, threads, workload) {
    suppressPackageStartupMessages(library(backprop, lib.loc = lib))
    n <- 60000; d <- 784; h <- 128; o <- 10
    set.seed(1)
    X <- runif(n * d)
    dim(X) <- c(n, d)
    Y <- diag(o)[sample(o, n, replace = TRUE), ]
    if (workload == "w3") {
      run <- function(epochs) {
        system.time(mlp_train(X, Y, hidden = h, epochs = epochs, init = "xavier", lr = 1e-4,
                              threads = threads, verbose = FALSE))[["elapsed"]]
      }
      # A first fit pays the session's one-time costs (R compiling the
      # package's functions, the first touch of X), which a difference of
      # two fits must not take in: one fit first, then the best 3-epoch fit
      # less the best 1-epoch fit of two each (the best of the differences
      # would favour a pair whose 1-epoch fit was slowed).
      run(1)
      times <- replicate(2, c(one = run(1), three = run(3)))
      return((min(times["three", ]) - min(times["one", ])) / 2)
    }
    if (workload == "w4_five") {
      return(system.time(mlp_train(X, Y, hidden = h, epochs = 5, init = "xavier", lr = 1e-3, optimizer = "adam",
                                   batch_size = 256, threads = threads, verbose = FALSE))[["elapsed"]])
    }
    stamps <- numeric(4)
    mark <- function(epoch, loss, val_loss, weights) {
      stamps[[epoch]] <<- proc.time()[["elapsed"]]
      FALSE
    }
    mlp_train(X, Y, hidden = h, epochs = 4, init = "xavier", lr = 1e-3, optimizer = "adam",
              batch_size = 256, threads = threads, verbose = FALSE, callback = mark)
    min(diff(stamps))
  }
  libs <- c(base = base_lib, new = .libPaths()[1])
  times <- list(w1 = list(base = NULL, new = NULL), w3 = list(base = NULL, new = NULL),
                w4 = list(base = NULL, new = NULL), w4_five = list(base = NULL, new = NULL))
  for (r in seq_len(rounds)) {
    for (v in names(libs)) {
      times$w1[[v]] <- c(times$w1[[v]], callr::r(w1, list(lib = libs[[v]])))
      for (w in c("w3", "w4", "w4_five")) {
        times[[w]][[v]] <- c(times[[w]][[v]], callr::r(large, list(lib = libs[[v]], threads = threads, workload = w)))
      }
    }
  }
  rule(sprintf("Two versions, %d alternating rounds (base: %s)", rounds, base_lib))
  for (w in names(times)) {
    b <- min(times[[w]]$base)
    nw <- min(times[[w]]$new)
    unit <- if (w == "w1") 1e6 else 1
    all <- function(v) paste(format(signif(times[[w]][[v]] * unit, 4)), collapse = " ")
    cat(sprintf("%s: base %s, new %s (best of %d); new / base = %.3f\n  all base: %s\n  all new:  %s\n",
                toupper(w), format(signif(b * unit, 4)), format(signif(nw * unit, 4)), rounds,
                nw / b, all("base"), all("new")))
  }
  cat("(W1 in microseconds per mlp_train() call of 5000 epochs, W3 and W4 in seconds per epoch,\n",
      " W4_FIVE in seconds per five-epoch fit)\n", sep = "")
}
