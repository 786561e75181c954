# mlp_gradcheck() (R/gradcheck.R); its checks of every activation and loss
# are in test-trace.R with the other views of the article's steps.

test_that("mlp_gradcheck() checks the loss parameters it is given, and refuses them elsewhere", {
  set.seed(1)
  x <- matrix(rnorm(20), 10)
  y <- matrix(rnorm(10) * 3)
  # The fit's tau, or the one given (it kept the fit's, silently).
  q <- mlp_train(x, y, loss = "quantile", tau = 0.9, output = "linear", epochs = 3,
                 optimizer = "adam", threads = 1)
  own <- mlp_gradcheck(x, y, init = q)$table$backprop
  low <- mlp_gradcheck(x, y, init = q, tau = 0.1)$table$backprop
  expect_gt(max(abs(own - low)), 0.1)
  expect_equal(low, mlp_gradcheck(x, y, init = q, loss = "quantile", tau = 0.1)$table$backprop)
  # A Huber delta of the Huber loss is its own.
  small <- mlp_gradcheck(x, y, loss = "huber", output = "linear", huber_delta = 0.05)$table$backprop
  unit <- mlp_gradcheck(x, y, loss = "huber", output = "linear")$table$backprop
  expect_gt(max(abs(small - unit)), 0.1)
  # Given for a loss that has none, they were dropped: the check was of
  # "sse" without a word.
  expect_arg_error(mlp_gradcheck(x, y, huber_delta = 0.05), "`huber_delta` applies to `loss = \"huber\"`")
  expect_arg_error(mlp_gradcheck(x, y, tau = 0.9), "`tau` applies to `loss = \"quantile\"`")
})
