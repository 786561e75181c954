# Every ```r block of README.md runs as written: in order, in one session
# (a child R process, so its library() calls and plots stay out of the
# tests'), with one thread.

# The ```r blocks of a Markdown file: list(line = first line of code, code).
readme_blocks <- function(path) {
  lines <- readLines(path, warn = FALSE)
  opens <- grep("^```r\\s*$", lines)
  fences <- grep("^```\\s*$", lines)
  lapply(opens, function(open) {
    close <- min(fences[fences > open])
    list(line = open + 1L, code = lines[seq.int(open + 1L, length.out = close - open - 1L)])
  })
}

test_that("README's R code runs as written", {
  # README.md is in the source tree, not in the built package: R CMD check
  # runs these tests without it. CI runs them from the source tree, where
  # a missing README is a failure.
  path <- test_path("..", "..", "README.md")
  if (!file.exists(path)) {
    if (identical(Sys.getenv("CI"), "true")) fail("README.md not found two levels above tests/testthat")
    skip("README.md is not here: not the source tree")
  }
  need_packages("callr", "parsnip", "tune", "caret")
  skip_on_cran()
  blocks <- readme_blocks(path)
  expect_gte(length(blocks), 5)
  failures <- callr::r(function(blocks) {
    options(backprop.threads = 1)
    grDevices::pdf(NULL)
    env <- new.env(parent = globalenv())
    failed <- character()
    for (block in blocks) {
      err <- tryCatch({
        # Printed as at the console, so that print methods run too.
        for (expr in parse(text = block$code, keep.source = FALSE)) {
          res <- withVisible(eval(expr, env))
          if (res$visible) print(res$value)
        }
        NULL
      }, error = function(e) conditionMessage(e))
      if (!is.null(err)) failed <- c(failed, paste0("README.md line ", block$line, ": ", err))
    }
    failed
  }, args = list(blocks = blocks))
  expect_identical(failures, character())
})
