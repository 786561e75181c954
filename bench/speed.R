# Speed: W1 (the article's network against its R program), W3 (large full
# batch against the DGEMM limit and NumPy), W4 (minibatch adam). Every ratio
# is measured in this run. BENCH_THREADS sets the thread count (default: all cores).
source(file.path("bench", "common.R"))
threads <- as.integer(Sys.getenv("BENCH_THREADS", parallel::detectCores()))

# --- W1 ---------------------------------------------------------------------
rule("W1: the article's network, 5000 epochs, row biases")
source(file.path("bench", "article_program.R"))
X <- matrix(c(1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1), nrow = 3, ncol = 4, byrow = TRUE)
Y <- matrix(c(1, 1, 0), byrow = FALSE)
# Each side is timed for at least 3 seconds (the default is half a second),
# so that a burst of other work on a shared machine cannot fill the window
# of either median: mlp_train() runs thousands of times, the article's
# program some thirty.
w1 <- bench::mark(
  article_r_program = article_r_program(X, Y),
  backprop = mlp_train(X, Y, bias = "row", threads = 1, verbose = FALSE),
  check = FALSE, min_iterations = 30, min_time = 3, filter_gc = FALSE
)
med <- as.numeric(w1$median)
fastest <- as.numeric(w1$min)
cat(sprintf("article's R program: %.2f ms; mlp_train(): %.3f ms; speed-up %.0fx (median of >= 30 runs)\n",
            med[1] * 1e3, med[2] * 1e3, med[1] / med[2]))
# The fastest runs are the least disturbed by other work on a shared machine.
cat(sprintf("fastest runs: %.2f ms and %.3f ms; speed-up %.0fx\n",
            fastest[1] * 1e3, fastest[2] * 1e3, fastest[1] / fastest[2]))

# --- W3 / W4 in a fresh R process, so that its peak memory is its own -------
large <- function(threads) {
  suppressPackageStartupMessages(library(backprop))
  status <- function(field) {
    line <- grep(paste0("^", field, ":"), readLines("/proc/self/status"), value = TRUE)
    as.numeric(gsub("[^0-9]", "", line)) * 1024
  }
  n <- 60000; d <- 784; h <- 128; o <- 10
  set.seed(1)
  X <- runif(n * d)
  dim(X) <- c(n, d) # no copy
  Y <- diag(o)[sample(o, n, replace = TRUE), ]
  before <- status("VmRSS")
  flops <- 4 * n * d * h + 6 * n * h * o
  # Seconds per epoch: the difference between 3 and 1 epochs, best of 2 pairs.
  run <- function(epochs, ..., on = threads) {
    system.time(mlp_train(X, Y, hidden = h, epochs = epochs, init = "xavier", lr = lr,
                          threads = on, verbose = FALSE, ...))[["elapsed"]]
  }
  # A learning rate for summed gradients over 60000 rows; the article's 0.1
  # would saturate every unit at once.
  lr <- 1e-4
  # The best 3-epoch fit less the best 1-epoch fit, after a first fit that
  # pays the session's one-time costs (the best of the differences would
  # favour a pair whose 1-epoch fit was slowed).
  per_epoch_of <- function(...) {
    run(1, ...)
    one <- three <- Inf
    for (i in 1:2) {
      one <- min(one, run(1, ...))
      three <- min(three, run(3, ...))
    }
    (three - one) / 2
  }
  per_epoch <- per_epoch_of()
  peak <- status("VmHWM")
  # precision = "single": its own peak (writing 5 to clear_refs resets VmHWM).
  reset_peak <- tryCatch({ writeLines("5", "/proc/self/clear_refs"); TRUE }, error = function(e) FALSE)
  single <- per_epoch_of(precision = "single")
  single_peak <- if (reset_peak) status("VmHWM") else NA
  # After the peaks were read: the rate measurement allocates its own matrices.
  rate <- max(vapply(1:3, function(i) backprop:::gemm_rate_(2048, threads, 2), numeric(1)))
  set.seed(2)
  lr <- 0.001
  # An epoch of Adam on minibatches, timed between the callbacks that end
  # epochs 1, 2 and 3 of one fit (after the one-time row-major copy of X
  # that fits of more than one epoch make; the faster of the two epochs);
  # one epoch alone, as a fit of 1 epoch.
  adam_epoch <- function(batch, precision = "double", on = threads) {
    stamps <- numeric(3)
    mark <- function(epoch, loss, val_loss, weights) {
      stamps[[epoch]] <<- proc.time()[["elapsed"]]
      FALSE
    }
    run(3, optimizer = "adam", batch_size = batch, precision = precision, callback = mark, on = on)
    min(diff(stamps))
  }
  adam <- adam_epoch(256)
  # One thread against `threads`, W3 and W4 and the DGEMM itself, taken in
  # alternation so that a slow spell of a shared machine hits both.
  scaling <- NULL
  if (threads > 1) {
    # W3's epochs as the best 3-epoch fit less the best 1-epoch fit.
    pairs <- replicate(2, c(
      w3_one_1 = run(1, on = 1), w3_one_3 = run(3, on = 1), w3_1 = run(1), w3_3 = run(3),
      w4_one = adam_epoch(256, on = 1), w4 = adam_epoch(256),
      gemm_one = 1 / backprop:::gemm_rate_(2048, 1, 2), gemm = 1 / backprop:::gemm_rate_(2048, threads, 2)
    ))
    best <- apply(pairs, 1, min)
    w3_one <- (best[["w3_one_3"]] - best[["w3_one_1"]]) / 2
    w3_all <- (best[["w3_3"]] - best[["w3_1"]]) / 2
    scaling <- c(w3 = w3_one / w3_all, w4 = best[["w4_one"]] / best[["w4"]],
                 gemm = best[["gemm_one"]] / best[["gemm"]])
  }
  adam_alone <- min(vapply(1:2, function(i) run(1, optimizer = "adam", batch_size = 256), numeric(1)))
  # A five-epoch Adam fit: its wall time, and its fixed cost, the wall time
  # less five epochs (each the median epoch between the callbacks), in
  # epochs; with one thread and with `threads`, alternated, best of 2.
  five_epochs <- function(on) {
    stamps <- numeric(5)
    mark <- function(epoch, loss, val_loss, weights) {
      stamps[[epoch]] <<- proc.time()[["elapsed"]]
      FALSE
    }
    wall <- run(5, optimizer = "adam", batch_size = 256, callback = mark, on = on)
    epoch <- stats::median(diff(stamps))
    c(wall = wall, epoch = epoch, fixed = (wall - 5 * epoch) / epoch)
  }
  five <- list(one = NULL, all = NULL)
  for (i in 1:2) {
    if (threads > 1) five$one <- rbind(five$one, five_epochs(1))
    five$all <- rbind(five$all, five_epochs(threads))
  }
  best_five <- function(m) if (is.null(m)) NULL else m[which.min(m[, "wall"]), ]
  five <- lapply(five, best_five)
  # Batches of 32, 256 and 512 rows, in double and single precision (the
  # peer table below).
  minibatches <- c()
  for (precision in c("double", "single")) {
    for (batch in c(32, 256, 512)) {
      name <- sprintf("adam%d_%s", batch, if (precision == "double") "f64" else "f32")
      minibatches[[name]] <- if (name == "adam256_f64") adam else adam_epoch(batch, precision)
    }
  }
  set.seed(3)
  f1 <- mlp_train(X[1:5000, ], Y[1:5000, ], hidden = h, epochs = 2, lr = 1e-3, init = "xavier", threads = 1)
  set.seed(3)
  f2 <- mlp_train(X[1:5000, ], Y[1:5000, ], hidden = h, epochs = 2, lr = 1e-3, init = "xavier", threads = threads)
  list(rate = rate, limit = flops / rate / 1e9, per_epoch = per_epoch, adam = adam, scaling = scaling,
       adam_alone = adam_alone, five = five, minibatches = minibatches,
       single = single, single_peak = single_peak,
       x_bytes = 8 * n * d, act_bytes = 8 * n * (h + o), peak = peak, before = before,
       identical = identical(f1$weights, f2$weights))
}
res <- callr::r(large, list(threads = threads))
rule(sprintf("W3: n = 60000, d = 784, 128 sigmoid hidden, 10 sigmoid outputs, gd, %d thread(s)", threads))
cat(sprintf("DGEMM rate (this crate, best of 3): %.1f GFLOP/s -> limit %.3f s per epoch\n", res$rate, res$limit))
cat(sprintf("mlp_train(): %.3f s per epoch = %.2fx the limit\n", res$per_epoch, res$per_epoch / res$limit))
budget <- res$x_bytes + 3 * res$act_bytes + 200 * 1024^2
cat(sprintf("peak memory of the R process: %.0f MB, of which %.0f MB before training (X %.0f MB, activations %.0f MB; budget X + 3 x activations + 200 MB = %.0f MB)%s\n",
            res$peak / 1024^2, res$before / 1024^2, res$x_bytes / 1024^2, res$act_bytes / 1024^2, budget / 1024^2,
            if (res$peak <= budget) "" else "  OVER BUDGET"))
cat(sprintf("weights identical with 1 and %d threads: %s\n", threads, res$identical))
cat(sprintf("precision = \"single\": %.3f s per epoch = %.2fx the (double) limit, %.2fx faster than double; peak memory %.0f MB\n",
            res$single, res$single / res$limit, res$per_epoch / res$single, res$single_peak / 1024^2))
rule("W4: the same data, adam, batch 256, one epoch")
cat(sprintf("mlp_train(): %.3f s per epoch = %.2fx W3's full-batch limit; a fit of one epoch %.3f s\n",
            res$adam, res$adam / res$limit, res$adam_alone))
cat(sprintf("a five-epoch fit: %.3f s, of which fixed cost %.3f s = %.2f epochs (%d thread(s))\n",
            res$five$all[["wall"]], res$five$all[["wall"]] - 5 * res$five$all[["epoch"]],
            res$five$all[["fixed"]], threads))
if (!is.null(res$scaling)) {
  rule(sprintf("%d threads against 1 (best of 2 alternated runs)", threads))
  cat(sprintf("W3 %.2fx, W4 %.2fx faster; the DGEMM itself (n = 2048) %.2fx\n",
              res$scaling[["w3"]], res$scaling[["w4"]], res$scaling[["gemm"]]))
  cat(sprintf("a five-epoch W4 fit's wall time %.2fx faster (%.3f s against %.3f s; fixed cost %.2f epochs on one thread)\n",
              res$five$one[["wall"]] / res$five$all[["wall"]], res$five$all[["wall"]], res$five$one[["wall"]],
              res$five$one[["fixed"]]))
}

# --- The article's NumPy program at W3's size, when numpy is installed ------
# R's LD_LIBRARY_PATH can make a python3 load another Python's libpython (and
# so miss its packages); OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE slow a current
# numpy here. All are unset for the python commands only.
# Debian's python3 first: its numpy is the one on OpenBLAS that make bench
# installs (a python3 earlier on PATH may lack numpy).
python <- function(..., py = python3) {
  system2("env", c("-u", "LD_LIBRARY_PATH", "-u", "OPENBLAS_CORETYPE", "-u", "OPENBLAS_L2_SIZE",
                   sprintf("OPENBLAS_NUM_THREADS=%d", threads), py, ...),
          stdout = TRUE, stderr = FALSE)
}
numpy_pythons <- Filter(function(py) nzchar(py) && identical(suppressWarnings(
  python("-c", shQuote("import numpy; print('ok')"), py = py)), "ok"), c("/usr/bin/python3", Sys.which("python3")))
has_numpy <- length(numpy_pythons) > 0
python3 <- if (has_numpy) numpy_pythons[[1]] else "python3"
if (has_numpy) {
  out <- python(file.path("bench", "numpy_program.py"))
  numpy_epoch <- as.numeric(out[length(out)])
  cat(sprintf("article's NumPy program at this size: %.3f s per epoch = %.2fx the limit; mlp_train() is %.1fx faster\n",
              numpy_epoch, numpy_epoch / res$limit, numpy_epoch / res$per_epoch))
} else {
  cat("numpy not installed: NumPy comparison skipped (pip install numpy)\n")
}

# --- PyTorch on the CPU, same data and rules, when it is installed -----------
rule(sprintf("W3 and W4 against PyTorch (CPU), %d thread(s)", threads))
torch_python <- Filter(function(py) nzchar(py) && identical(suppressWarnings(
  system2("env", c("-u", "LD_LIBRARY_PATH", py, "-c", shQuote("import torch; print('ok')")),
          stdout = TRUE, stderr = FALSE)), "ok"), c("/usr/bin/python3", Sys.which("python3")))
ours <- c(w3_f64 = res$per_epoch, w3_f32 = res$single, res$minibatches)
if (length(torch_python)) {
  out <- system2("env", c("-u", "LD_LIBRARY_PATH", torch_python[[1]], file.path("bench", "torch_peer.py"), threads),
                 stdout = TRUE, stderr = FALSE)
  fields <- strsplit(out[!startsWith(out, "version")], " ", fixed = TRUE)
  theirs <- setNames(as.numeric(vapply(fields, `[`, "", 2)), vapply(fields, `[`, "", 1))
  cat(sprintf("PyTorch %s\n", out[startsWith(out, "version")]))
  cat(sprintf("%-12s %10s %10s %12s %14s\n", "workload", "backprop", "PyTorch", "PyTorch / us", "us / limit(f64)"))
  for (w in names(ours)) {
    cat(sprintf("%-12s %9.3fs %9.3fs %12.2f %14.2f\n", w, ours[[w]], theirs[[w]], theirs[[w]] / ours[[w]],
                ours[[w]] / res$limit))
  }
} else {
  cat("PyTorch not installed (Debian python3-torch): the peer table is skipped\n")
  for (w in names(ours)) cat(sprintf("%-12s %9.3fs = %.2fx the f64 limit\n", w, ours[[w]], ours[[w]] / res$limit))
}

# --- Interrupt latency ------------------------------------------------------
rule("Ctrl-C during training (SIGINT to a child R process)")
p <- callr::r_bg(function() {
  suppressPackageStartupMessages(library(backprop))
  set.seed(1)
  x <- matrix(runif(20000 * 20), ncol = 20)
  fit <- suppressWarnings(mlp_train(x, rowSums(x), hidden = 64, epochs = 1e6, output = "linear",
                                    loss = "mse", lr = 1e-6, threads = 1))
  list(status = fit$status, finished = Sys.time())
})
Sys.sleep(3)
sent <- Sys.time()
invisible(p$interrupt())
p$wait(10000)
res <- p$get_result()
cat(sprintf("status \"%s\"; returned %.0f ms after the interrupt\n", res$status,
            1000 * as.numeric(difftime(res$finished, sent, units = "secs"))))
