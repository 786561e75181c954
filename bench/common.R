# Shared helpers for the benchmark scripts (run from the repository root).
suppressPackageStartupMessages(library(backprop))

bench_data_dir <- file.path("bench", "data")

# Wall-clock seconds of an expression, and its value.
timed <- function(expr) {
  t0 <- proc.time()[["elapsed"]]
  value <- force(expr)
  list(value = value, seconds = proc.time()[["elapsed"]] - t0)
}

machine_line <- function() {
  cpu <- tryCatch({
    info <- readLines("/proc/cpuinfo", warn = FALSE)
    sub(".*: ", "", grep("^model name", info, value = TRUE)[1])
  }, error = function(e) NA)
  sprintf("machine: %s, %d cores, %s", cpu, parallel::detectCores(), R.version.string)
}

rule <- function(title) cat("\n==", title, strrep("=", max(0, 70 - nchar(title))), "\n")
