# An error raised by backprop's own argument checks, matching `pattern`.
expect_arg_error <- function(expr, pattern) {
  expect_error(expr, pattern, class = "backprop_error")
}
