# Writes man/figures/mlp-explore.png, the README's picture of
# mlp_explore()'s page: the article's network (its R program's per-row
# biases, set.seed(42)) at step 3, drawn by headless Chromium.
#
# Usage, from the source tree with backprop installed and chromium on PATH
# (or BACKPROP_BROWSER naming a browser):
#   Rscript tools/explore-screenshot.R
suppressMessages(library(backprop))
source(file.path("tests", "testthat", "helper-explore.R"))
if (!nzchar(explore_browser())) stop("no browser: install chromium or set BACKPROP_BROWSER")
X <- matrix(c(1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1), nrow = 3, byrow = TRUE)
Y <- matrix(c(1, 1, 0))
file <- explore_save(mlp_explore(X, Y, bias = "row", seed = 42))
dir.create(file.path("man", "figures"), showWarnings = FALSE)
png <- file.path("man", "figures", "mlp-explore.png")
# The hook's cell counts from 0: row 2, column 3 of hidden_layer_input.
explore_screenshot(file, normalizePath(png, mustWork = FALSE), list(step = 3, epoch = 0, cell = c(1, 2)),
                   size = "1300,640")
unlink(file)
cat("wrote", png, "(", file.size(png), "bytes )\n")
