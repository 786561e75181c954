# W1 (the article's network, 5000 epochs, one thread) against the article's
# R program, for several installed builds of backprop in alternating fresh
# processes: for a change that removes or adds a path W1 takes, such as a
# build with the small-network engine switched off.
#   BENCH_LIBS="/tmp/lib-a /tmp/lib-b" BENCH_ROUNDS=3 Rscript bench/w1_builds.R
libs <- strsplit(Sys.getenv("BENCH_LIBS", .libPaths()[1]), " +")[[1]]
rounds <- as.integer(Sys.getenv("BENCH_ROUNDS", "3"))
one_process <- function(lib) {
  source(file.path("bench", "article_program.R"))
  X <- matrix(c(1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1), nrow = 3, ncol = 4, byrow = TRUE)
  Y <- matrix(c(1, 1, 0), byrow = FALSE)
  library(backprop, lib.loc = lib)
  timed <- bench::mark(
    article = article_r_program(X, Y),
    row = mlp_train(X, Y, bias = "row", threads = 1, verbose = FALSE),
    column = mlp_train(X, Y, threads = 1, verbose = FALSE),
    check = FALSE, min_iterations = 20, min_time = 2, filter_gc = FALSE
  )
  as.numeric(timed$median)
}
cat("lib | article's R program ms | mlp_train ms: row / column | speed-up: row / column\n")
for (round in seq_len(rounds)) for (lib in libs) {
  m <- callr::r(one_process, list(lib), wd = getwd())
  cat(sprintf("%s | %.1f | %.3f / %.3f | %.0fx / %.0fx\n", lib, m[1] * 1e3, m[2] * 1e3,
              m[3] * 1e3, m[1] / m[2], m[1] / m[3]))
}
