# Continuing a fit with `init = fit` (R/init.R).

test_that("a continued fit codes its data as the fit did: epochs = 0 predicts as the fit", {
  set.seed(1)
  d <- data.frame(a = runif(80, 0, 3), b = rnorm(80))
  d$y <- sin(d$a) + d$b / 2 + rnorm(80, sd = 0.1)
  new_rows <- data.frame(a = c(0.5, 2.5), b = c(0, 1))
  # poly() and scale() take their bases from the data they see: the
  # continued fit's other rows would give the same names other meanings.
  for (form in list(y ~ poly(a, 2) + b, y ~ scale(a) + b)) {
    set.seed(2)
    fit <- backprop(form, d[1:50, ], hidden = 4, threads = 1)
    again <- backprop(form, d[51:80, ], init = fit, epochs = 0, threads = 1)
    expect_equal(predict(again, new_rows), predict(fit, new_rows), tolerance = 1e-12)
    more <- mlp_train(form, d[51:80, ], init = fit, epochs = 0, threads = 1)
    expect_equal(predict(more, new_rows), predict(fit, new_rows), tolerance = 1e-12)
  }
  need_packages("recipes")
  rec <- recipes::recipe(y ~ a + b, d) |> recipes::step_normalize(a, b) |>
    recipes::step_pca(a, b, num_comp = 2)
  set.seed(3)
  fit <- backprop(rec, d[1:50, ], hidden = 4, threads = 1)
  again <- backprop(rec, d[51:80, ], init = fit, epochs = 0, threads = 1)
  expect_equal(predict(again, new_rows), predict(fit, new_rows), tolerance = 1e-12)
})

test_that("a continued fit keeps its validation rows only on its rows in their order", {
  set.seed(4)
  n <- 120
  x <- matrix(rnorm(2 * n), n, dimnames = list(NULL, c("a", "b")))
  y <- x[, 1]^2 + x[, 2] + rnorm(n, sd = 0.5)
  args <- list(hidden = 8, output = "linear", loss = "mse", optimizer = "lbfgs", epochs = 30,
               validation = 0.3, scale = TRUE, threads = 1)
  set.seed(5)
  first <- do.call(mlp_train, c(list(x, y), args))
  same <- do.call(mlp_train, c(list(x, y, init = first), args))
  expect_equal(same$held_out, first$held_out)
  expect_false(is.null(same$calibration))
  # The same rows shuffled, without row names to tell: their positions
  # would point at rows the fit trained on.
  shuffled <- sample(n)
  other <- do.call(mlp_train, c(list(x[shuffled, ], y[shuffled], init = first), args))
  expect_null(other$calibration)
})
