test_that("an interrupt stops training, keeps the session and returns the network so far", {
  skip_on_cran()
  skip_if_not_installed("callr")
  p <- callr::r_bg(function() {
    library(backprop)
    set.seed(1)
    x <- matrix(runif(20000 * 20), ncol = 20)
    y <- rowSums(x)
    warned <- NULL
    fit <- withCallingHandlers(
      mlp_train(x, y, hidden = 64, epochs = 1e6, output = "linear", loss = "mse",
                lr = 1e-6, threads = 1),
      warning = function(w) {
        warned <<- conditionMessage(w)
        invokeRestart("muffleWarning")
      }
    )
    # The session is still usable after the interrupt.
    list(status = fit$status, epochs = length(fit$loss), warned = warned,
         finite = all(is.finite(unlist(fit$weights))), after = sum(1:10))
  })
  # Wait until training has surely started, then press Ctrl-C.
  Sys.sleep(4)
  p$interrupt()
  p$wait(20000)
  res <- p$get_result()
  expect_equal(res$status, "interrupted")
  expect_lt(res$epochs, 1e6)
  expect_match(res$warned, "Training was interrupted after epoch [0-9]+")
  expect_true(res$finite)
  expect_equal(res$after, 55)
})

test_that("verbose = TRUE reports progress through cli", {
  skip_if_not_installed("cli")
  withr::local_options(cli.progress_handlers = "logger", cli.progress_show_after = 0)
  set.seed(1)
  x <- matrix(runif(2000 * 10), ncol = 10)
  # The logger handler prints one line per update: "<time> <bar id> <epoch>/<total> <event>".
  lines <- capture.output(
    fit <- mlp_train(x, rowSums(x), hidden = 16, epochs = 3000, output = "linear",
                     loss = "mse", lr = 1e-5, verbose = TRUE, threads = 1)
  )
  expect_s3_class(fit, "mlp_fit")
  expect_true(any(grepl(" 0/3000 created", lines, fixed = TRUE)))
  expect_true(any(grepl(" 3000/3000 terminated", lines, fixed = TRUE)))
  quiet <- capture.output(
    q <- mlp_train(x, rowSums(x), hidden = 16, epochs = 30, output = "linear", loss = "mse",
                   lr = 1e-5, verbose = FALSE, threads = 1)
  )
  expect_length(quiet, 0)
})

test_that("an interrupt during restarts or selection keeps the session and says what it kept", {
  skip_on_cran()
  skip_if_not_installed("callr")
  interrupt_after <- function(f, seconds = 4) {
    p <- callr::r_bg(f)
    Sys.sleep(seconds)
    p$interrupt()
    p$wait(20000)
    p$get_result()
  }
  res <- interrupt_after(function() {
    library(backprop)
    set.seed(1)
    x <- matrix(runif(20000 * 20), ncol = 20)
    warned <- NULL
    fit <- withCallingHandlers(
      mlp_train(x, rowSums(x), hidden = 64, epochs = 1e6, output = "linear", loss = "mse",
                lr = 1e-6, restarts = 3, threads = 1),
      warning = function(w) {
        warned <<- conditionMessage(w)
        invokeRestart("muffleWarning")
      }
    )
    list(status = fit$status, warned = warned, starts = fit$starts)
  })
  expect_equal(res$status, "interrupted")
  expect_match(res$warned, "interrupted after epoch [0-9]+ of start 1 of 3; returning the network of the best start so far")
  expect_equal(res$starts$kept, 1)
  res <- interrupt_after(function() {
    library(backprop)
    set.seed(1)
    x <- matrix(runif(8000 * 20), ncol = 20)
    err <- tryCatch(backprop(x, rowSums(x), optimizer = "adam", epochs = 1e6, threads = 1),
                    error = identity)
    list(message = conditionMessage(err), class = class(err), after = sum(1:10))
  })
  expect_match(res$message, "selection was interrupted at candidate 1 of [0-9]+; no network was fitted")
  expect_true("backprop_interrupted" %in% res$class)
  expect_equal(res$after, 55)
})
