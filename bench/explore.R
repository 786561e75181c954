# mlp_explore()'s page: the time its JavaScript takes to train the article's
# network for 5000 epochs in headless Chromium (performance.now() in the
# page, the first training of a fresh page and so with the JavaScript
# engine's warm-up), and the size of the page saved as one file. Needs
# chromium (or BACKPROP_BROWSER) and pandoc; skipped without them.
source(file.path("bench", "common.R"))
source(file.path("tests", "testthat", "helper-explore.R"))
rule("mlp_explore(): 5000 epochs of the article's network in the browser")
if (!nzchar(explore_browser()) || !nzchar(Sys.which("pandoc"))) {
  cat("explore.R: needs chromium (or BACKPROP_BROWSER) and pandoc; skipped\n")
} else {
  X <- matrix(c(1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1), nrow = 3, byrow = TRUE)
  Y <- matrix(c(1, 1, 0))
  for (bias in c("row", "column")) {
    file <- explore_save(mlp_explore(X, Y, bias = bias, seed = 42))
    ms <- vapply(1:3, function(i) explore_dump(file, list(step = 1, epoch = 0))$test$ms, numeric(1))
    cat(sprintf("bias = \"%s\": %s ms (3 fresh pages); page %d bytes\n", bias,
                paste(format(round(ms, 1)), collapse = ", "), file.size(file)))
    unlink(file)
  }
}
