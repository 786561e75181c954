# Every bad input gets an R error that names the argument and what was expected.

expect_arg_error <- function(expr, pattern) {
  expect_error(expr, pattern, class = "backprop_error")
}

X <- article_X
Y <- article_Y

test_that("non-finite data are refused", {
  for (bad in c(NA, NaN, Inf, -Inf)) {
    Xb <- X
    Xb[2, 3] <- bad
    expect_arg_error(mlp_train(Xb, Y), "^`X` must contain finite numbers only")
    Yb <- Y
    Yb[1] <- bad
    expect_arg_error(mlp_train(X, Yb), "^`Y` must contain finite numbers only")
  }
  init <- list(wh = matrix(0.1, 4, 3), bh = c(NA, 0, 0), wout = matrix(0.3, 3, 1), bout = 0.4)
  expect_arg_error(mlp_train(X, Y, init = init), "`init\\$bh` must contain finite numbers only")
  init$bh <- c(0, 0, 0)
  init$wout[2] <- Inf
  expect_arg_error(mlp_train(X, Y, init = init), "`init\\$wout` must contain finite numbers only")
})

test_that("non-numeric data are refused", {
  expect_arg_error(mlp_train(matrix(letters[1:12], 3), Y),
                   "`X` must be a numeric matrix, data frame or vector, not a character matrix")
  expect_arg_error(mlp_train(factor(c("a", "b", "c")), Y), "`X` must be .* not a factor")
  expect_arg_error(mlp_train(list(1, 2, 3), Y), "`X` must be .* not a list")
  expect_arg_error(mlp_train(data.frame(a = 1:3, b = I(list(1, 2, 3))), Y),
                   "`X` column `b` must be numeric, logical, a factor or character, not a list")
  expect_arg_error(mlp_train(X, c("1", "1", "0")), "`Y` must be numeric or a factor")
  expect_arg_error(mlp_train(X, list(1, 1, 0)), "`Y` must be .* not a list")
  expect_arg_error(mlp_train(X, matrix(1+0i, 3, 1)), "`Y` must be .* not a complex matrix")
  expect_arg_error(mlp_train(X), "`Y` is missing")
})

test_that("shapes must agree and be non-empty", {
  expect_arg_error(mlp_train(X, c(1, 0)), "`Y` must have as many rows as `X` \\(3\\), not 2")
  expect_arg_error(mlp_train(X, matrix(1, 4, 1)), "`Y` must have as many rows as `X` \\(3\\), not 4")
  expect_arg_error(mlp_train(X[0, ], Y[0, , drop = FALSE]),
                   "`X` must have at least one row and one column, not 0 x 4")
  expect_arg_error(mlp_train(X[, 0], Y), "`X` must have at least one row and one column, not 3 x 0")
  expect_arg_error(mlp_train(X, matrix(0, 3, 0)), "`Y` must have at least one row and one column")
  expect_arg_error(mlp_train(array(1, c(3, 4, 2)), Y), "`X` must be a matrix \\(two dimensions\\)")
})

test_that("hidden, epochs and lr are checked", {
  expect_arg_error(mlp_train(X, Y, hidden = c(3, 0)), "`hidden` must be a positive whole number")
  expect_arg_error(mlp_train(X, Y, hidden = 2.5), "`hidden` must be a positive whole number .* not 2.5")
  expect_arg_error(mlp_train(X, Y, hidden = -1), "`hidden` must be a positive whole number")
  expect_arg_error(mlp_train(X, Y, hidden = NA), "`hidden` must be a positive whole number")
  expect_arg_error(mlp_train(X, Y, hidden = "3"), "`hidden` must be a positive whole number")
  expect_arg_error(mlp_train(X, Y, hidden = 1e12), "`hidden` is too large: the network would need about")
  expect_arg_error(mlp_train(X, Y, epochs = -1), "`epochs` must be a whole number >= 0, not -1")
  expect_arg_error(mlp_train(X, Y, epochs = 1.5), "`epochs` must be a whole number >= 0, not 1.5")
  expect_arg_error(mlp_train(X, Y, epochs = NA), "`epochs` must be a whole number")
  for (bad in list(NA, NaN, Inf, -Inf, "0.1", c(0.1, 0.2), 0, -0.1)) {
    expect_arg_error(mlp_train(X, Y, lr = bad), "^`lr` must be a finite number > 0")
  }
})

test_that("init and bias are checked", {
  expect_arg_error(mlp_train(X, Y, init = "gaussian"),
                   "`init` must be one of \"article\", \"uniform\", \"xavier\", \"he\", \"nnet\"; not \"gaussian\"")
  expect_arg_error(mlp_train(X, Y, init = 3), "`init` must be one of")
  expect_arg_error(mlp_train(X, Y, bias = "diagonal"),
                   "`bias` must be one of \"column\", \"row\"; not \"diagonal\"")
  expect_arg_error(mlp_train(X, Y, init = list(wh = 1)), "`init` must be .* list\\(wh =, bh =, wout =, bout =\\)")
  good <- list(wh = matrix(0.1, 4, 3), bh = matrix(0.2, 1, 3), wout = matrix(0.3, 3, 1), bout = matrix(0.4, 1, 1))
  bad <- good
  bad$wh <- matrix(0.1, 5, 3)
  expect_arg_error(mlp_train(X, Y, init = bad), "`init\\$wh` must have one row per column of `X` \\(4\\), not 5")
  bad <- good
  bad$wout <- matrix(0.1, 2, 1)
  expect_arg_error(mlp_train(X, Y, init = bad), "`init\\$wout` must have 3 rows")
  bad <- good
  bad$wout <- matrix(0.1, 3, 2)
  expect_arg_error(mlp_train(X, Y, init = bad), "`init\\$wout` must have one column per column of `Y` \\(1\\), not 2")
  bad <- good
  bad$bh <- matrix(0.1, 2, 3)
  expect_arg_error(mlp_train(X, Y, init = bad), "`init\\$bh` must be 1 x 3 \\(column layout\\) or 3 x 3 \\(row layout\\), not 2 x 3")
  bad <- good
  bad$wh <- "a"
  expect_arg_error(mlp_train(X, Y, init = bad), "`init\\$wh` must be a numeric matrix, not a character vector")
  expect_arg_error(mlp_train(X, Y, init = good, bias = "row"),
                   "`bias = \"row\"` contradicts the shape of `init\\$bh` \\(1 x 3\\), which is the column layout")
  mixed <- good
  mixed$bout <- matrix(0.4, 3, 1)
  expect_arg_error(mlp_train(X, Y, init = mixed), "`init` mixes bias layouts")
  expect_arg_error(mlp_train(X, Y, init = good, hidden = 4), "`hidden` \\(4\\) contradicts the shapes of `init`")
  expect_arg_error(mlp_train(X, Y, epochs = 1, foo = 2), "mlp_train\\(\\) got `foo` it does not know")
})

test_that("errors are R errors, never crashes, including messages with a percent sign", {
  X2 <- X
  colnames(X2) <- c("a%s", "b%d", "100%", "%n")
  set.seed(1)
  expect_s3_class(mlp_train(X2, Y, epochs = 5), "mlp_fit")
  expect_arg_error(mlp_train(X, Y, init = "%s%s%n"), "not \"%s%s%n\"")
})

test_that("the inputs' one-pass extent finds NA, NaN and infinite values", {
  extent <- function(x) backprop:::extent_(x, 2L)
  expect_identical(extent(c(1, -3, 2)), c(3, 0, 0))
  expect_identical(extent(matrix(c(-0.5, 0.25), 1)), c(0.5, 0, 0))
  expect_identical(extent(c(1, NA, -2)), c(2, 1, 0))
  expect_identical(extent(c(NaN, Inf, 4)), c(4, 1, 1))
  expect_identical(extent(c(1, -Inf)), c(1, 0, 1))
  expect_identical(extent(c(1e300, -2e300, 3:9 + 0.5)), c(2e300, 0, 0))
  expect_identical(extent(double()), c(0, 0, 0))
  expect_error(extent(1:3), "double vector")
  # Long vectors are read in blocks over the threads: the same answer.
  long <- sin(seq_len(2^21 + 77))
  long[2^21 + 70] <- -3
  for (threads in 1:2) {
    expect_identical(backprop:::extent_(long, threads), c(3, 0, 0))
    expect_identical(backprop:::extent_(replace(long, 5, NA), threads), c(3, 1, 0))
    expect_identical(backprop:::extent_(replace(long, 2^21 + 76, Inf), threads), c(3, 0, 1))
  }
})
