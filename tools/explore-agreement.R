# The agreement of mlp_explore()'s page with mlp_trace() and mlp_train(),
# measured in headless Chromium as the tests measure it: for each bias
# layout and hidden activation (and two edited settings), the largest
# absolute difference over the twelve steps' matrices at epochs 0, 1, 100
# and 4999, and over the weights after the last epoch; with the page's time
# for 5000 epochs and its size as one self-contained file.
#
# Usage, from the source tree with backprop installed:
#   Rscript tools/explore-agreement.R
suppressMessages({
  library(backprop)
  library(testthat)
})
for (f in c("helper-article.R", "helper-explore.R")) source(file.path("tests", "testthat", f))
source_lines <- readLines(file.path("tests", "testthat", "test-explore.R"))
eval(parse(text = source_lines[grep("^explore_activations <-", source_lines) + 0:1]))
eval(parse(text = paste(source_lines[grep("^explore_runs <-", source_lines) +
                                       0:(grep("^}$", source_lines[-(1:grep("^explore_runs <-", source_lines))])[1])],
                        collapse = "\n")))
epochs <- c(0, 1, 100, 4999)
rows <- list()
for (layout in c("row", "column")) {
  set.seed(42)
  file <- explore_save(mlp_explore(article_X, article_Y, bias = layout))
  cat(layout, ": page of", file.size(file), "bytes\n")
  runs <- explore_runs(epochs)
  out <- explore_dump(file, list(runs = runs))
  if (length(out$errors)) stop("JavaScript errors: ", paste(unlist(out$errors), collapse = "; "))
  cat(layout, ": first training of 5000 epochs", round(out$test$ms, 1), "ms; each run:",
      paste(round(vapply(out$test$runs, `[[`, 0, "ms"), 1), collapse = " "), "ms\n")
  for (r in seq_along(runs)) {
    run <- runs[[r]]
    args <- list(bias = layout, activation = run$activation, lr = run$lr, hidden = run$hidden,
                 output = run$output, loss = run$loss)
    data <- explore_edited(article_X, article_Y, run$edit)
    diffs <- do.call(explore_compare, c(list(out$test$runs[[r]], data$X, data$Y, 42), args))
    set.seed(42)
    fit <- suppressWarnings(do.call(mlp_train, c(list(data$X, data$Y), args)))
    final <- max(vapply(c("wh", "bh", "wout", "bout"), function(n)
      max(abs(explore_rows(out$test$runs[[r]]$final[[n]]) - unname(fit[[n]]))), 0))
    by_epoch <- tapply(diffs$diff, diffs$epoch, max)
    rows[[length(rows) + 1L]] <- data.frame(
      bias = layout, activation = run$activation, lr = run$lr, hidden = run$hidden, output = run$output,
      loss = run$loss, edited = length(run$edit) > 0, e0 = by_epoch[["0"]], e1 = by_epoch[["1"]], e100 = by_epoch[["100"]],
      e4999 = by_epoch[["4999"]], final_weights = final,
      loss_last = abs(out$test$runs[[r]]$loss_last - fit$loss[5000]))
  }
}
res <- do.call(rbind, rows)
print(format(res, digits = 2), row.names = FALSE)
cat("largest difference overall:", format(max(res[, 8:13]), digits = 3), "\n")
