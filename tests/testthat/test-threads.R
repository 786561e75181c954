# The threads behind `threads`: the process keeps one team of helper
# threads, never more of them than the machine has cores, however many
# thread counts it is asked for (src/rust/src/parallel.rs).

test_that("predicting with 2 to 30 threads starts at most one thread per core", {
  skip_if_not(identical(Sys.info()[["sysname"]], "Linux"), "threads are counted in /proc/self/task")
  threads_now <- function() length(list.files("/proc/self/task"))
  x <- withr::with_seed(1, matrix(rnorm(3000 * 40), 3000))
  y <- x[, 1] - x[, 2]
  fit <- mlp_train(x[1:100, ], y[1:100], hidden = 50, output = "linear", loss = "mse",
                   epochs = 1, threads = 1)
  # Large enough for its products to be shared out over the threads.
  expected <- predict(fit, x, threads = 1)
  before <- threads_now()
  for (t in 2:30) {
    expect_identical(predict(fit, x, threads = t), expected)
  }
  expect_lte(threads_now(), before + parallel::detectCores())
})
