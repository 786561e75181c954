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

test_that("a fit continues on any rows it can predict, coded the fit's way", {
  set.seed(11)
  d <- data.frame(a = runif(80, 0, 3), b = rnorm(80), g = factor(sample(c("p", "q"), 80, TRUE)))
  d$y <- sin(d$a) + d$b / 2 + (d$g == "q") + rnorm(80, sd = 0.1)
  new_rows <- data.frame(a = c(0.5, 2.5), b = c(0, 1), g = factor(c("p", "q")))
  set.seed(12)
  fit <- backprop(y ~ poly(a, 2) + b + g, d, hidden = 4, threads = 1)
  # Rows where `g` has one level, and two rows, too few for poly() of
  # degree 2 afresh: the fit's own coding has neither limit.
  for (rows in list(which(d$g == "p")[1:10], 1:2)) {
    again <- mlp_train(y ~ poly(a, 2) + b + g, d[rows, ], init = fit, epochs = 0, threads = 1)
    expect_equal(predict(again, new_rows), predict(fit, new_rows), tolerance = 1e-12)
    expect_equal(fitted(again), predict(fit, d[rows, ]), tolerance = 1e-12, ignore_attr = TRUE)
  }
  # Other inputs are the call's own, matched to the fit's by name.
  expect_error(mlp_train(y ~ a + b, d, init = fit, epochs = 0, threads = 1),
               "`init` is a fit of the inputs `poly(a, 2)1`", fixed = TRUE)
  # A row that `subset` repeats is refused by name, not as an NA input.
  expect_error(mlp_train(y ~ poly(a, 2) + b + g, d, subset = c(1, 1, 2:40), init = fit,
                         epochs = 0, threads = 1), "`subset` repeats rows of `data`")
})

test_that("a continued fit codes the fit's inputs its way, or refuses other inputs it cannot", {
  set.seed(13)
  n <- 120
  d <- data.frame(a = runif(n, 0, 3), b = rnorm(n),
                  o = factor(sample(c("lo", "mid", "hi"), n, TRUE), levels = c("lo", "mid", "hi"),
                             ordered = TRUE))
  d$y <- sin(d$a) + d$b / 2 + as.integer(d$o) + rnorm(n, sd = 0.1)
  d$y2 <- d$y
  new_rows <- d[1:5, ]
  set.seed(14)
  fit <- backprop(y ~ poly(a, 2) + b + o, d[1:80, ], hidden = 4, threads = 1)
  # Another response with the fit's inputs: the inputs coded the fit's way
  # (the poly() basis and the ordered contrasts of 80 rows, not of 40).
  other <- mlp_train(y2 ~ poly(a, 2) + b + o, d[81:n, ], init = fit, epochs = 0, threads = 1)
  expect_equal(predict(other, new_rows), predict(fit, new_rows), tolerance = 1e-12, ignore_attr = TRUE)
  expect_equal(colnames(fitted(other)), "y2")
  # On two rows, too few for poly() of degree 2 afresh; the continued fit's
  # terms code new data as predict() does.
  two <- mlp_train(y2 ~ poly(a, 2) + b + o, d[81:82, ], init = fit, epochs = 0, threads = 1)
  expect_equal(predict(two, new_rows), predict(fit, new_rows), tolerance = 1e-12, ignore_attr = TRUE)
  expect_equal(stats::model.matrix(stats::delete.response(terms(two)), new_rows),
               stats::model.matrix(stats::delete.response(terms(fit)), new_rows))
  # A transformed response is coded on the call's rows, and so are its
  # validation rows: scale(y2) by the mean of rows 81 to 120.
  scaled <- mlp_train(scale(y2) ~ poly(a, 2) + b + o, d[81:n, ], init = fit, epochs = 0,
                      threads = 1)
  expect_equal(scaled$blueprint$outcome,
               call("scale", quote(y2), center = mean(d$y2[81:n]), scale = sd(d$y2[81:n])))
  # Other inputs that would be coded anew under the fit's names.
  expect_snapshot(error = TRUE, {
    mlp_train(y ~ poly(a, 2) + b + o - 1, d[81:n, ], init = fit, epochs = 0, threads = 1)
    mlp_train(y ~ poly(a, 2) + b + o + offset(b), d[81:n, ], init = fit, epochs = 0, threads = 1)
  })
  # A data frame of the x/y interface: its ordered factor with its levels
  # in another order is coded as the fit coded it, as predict() codes it.
  x <- d[c("a", "b", "o")]
  set.seed(15)
  xy <- backprop(x[1:80, ], d$y[1:80], hidden = 4, threads = 1)
  shuffled <- x[81:n, ]
  shuffled$o <- factor(as.character(shuffled$o), levels = c("hi", "lo", "mid"), ordered = TRUE)
  again <- backprop(shuffled, d$y[81:n], init = xy, epochs = 0, threads = 1)
  expect_equal(predict(again, x[1:5, ]), predict(xy, x[1:5, ]), tolerance = 1e-12)
  # The same data frame continues the formula fit, and its trace starts
  # from the fit's coding of them.
  from_formula <- backprop(shuffled, d$y[81:n], init = fit, epochs = 0, threads = 1)
  expect_equal(predict(from_formula, x[1:5, ]), predict(fit, x[1:5, ]), tolerance = 1e-12,
               ignore_attr = TRUE)
  # Its response is the call's, not the formula's `y` of the data.
  expect_false(".resid" %in% names(broom::augment(from_formula, newdata = d[1:3, ])))
  plain <- mlp_train(y ~ a + b + o, d[1:80, ], hidden = 3, output = "linear", epochs = 1, threads = 1)
  trace <- mlp_trace(shuffled[1:3, ], d$y[81:83], init = plain)
  expect_equal(trace$X, plain$blueprint |> backprop:::forge(x[81:83, ]), ignore_attr = TRUE)
})

test_that("a continued formula reads variables outside the data where the call does", {
  fit_in <- function(y) {
    mlp_train(y ~ wt + hp, data = mtcars, hidden = 3, epochs = 20, optimizer = "lbfgs",
              output = "linear", scale = TRUE, threads = 1)
  }
  set.seed(21)
  first <- fit_in(mtcars$mpg)
  # The caller's `y`, not the one in the environment of the fit's formula.
  y <- mtcars$qsec
  again <- mlp_train(y ~ wt + hp, data = mtcars, init = first, epochs = 0, threads = 1)
  expect_equal(fitted(again), fitted(first))
  expect_equal(unname(residuals(again)[, 1]), unname(mtcars$qsec - fitted(again)[, 1]))
  # An input outside `data` too: fitted() is the prediction on the
  # caller's, as the model frame holds it.
  set.seed(22)
  d <- data.frame(z = rnorm(30))
  in_function <- function(d) {
    x <- seq_len(30) / 30
    y <- x + d$z
    mlp_train(y ~ x + z, data = d, hidden = 2, epochs = 5, output = "linear", lr = 0.01,
              threads = 1)
  }
  first <- in_function(d)
  x <- rnorm(30)
  y <- -x
  again <- mlp_train(y ~ x + z, data = d, init = first, epochs = 0, threads = 1)
  expect_equal(model.frame(again)$x, x)
  expect_equal(fitted(again), predict(first, data.frame(x = x, z = d$z)), ignore_attr = TRUE)
  # On the rows a subset keeps, as a fresh fit takes them.
  rows <- mlp_train(y ~ x + z, data = d, subset = 21:30, init = first, epochs = 0, threads = 1)
  expect_equal(fitted(rows), predict(first, data.frame(x = x, z = d$z))[21:30, , drop = FALSE],
               ignore_attr = TRUE)
})

test_that("a continued fit keeps validation rows its draw gave back to training", {
  n <- 20
  d <- data.frame(x = seq(-1, 1, length.out = n), g = factor(c(rep("a", 10), rep("b", 8), "c", "c")))
  d$y <- d$x + (d$g == "c") * 3
  # A seed whose draw held out both rows of "c" and gave one back.
  for (seed in 1:200) {
    set.seed(seed)
    fit <- backprop(y ~ x + g, data = d, hidden = 2, epochs = 3, validation = 0.3, threads = 1,
                    select = FALSE)
    if (length(fit$held_out) < round(0.3 * n)) break
  }
  expect_lt(length(fit$held_out), round(0.3 * n))
  again <- backprop(y ~ x + g, data = d, init = fit, epochs = 2, validation = 0.3, threads = 1,
                    select = FALSE)
  expect_equal(again$held_out, fit$held_out)
  expect_true(again$held_out_unseen)
})

test_that("a continued recipe fit takes the fit's recipe, rebuilt or not, and refuses another", {
  need_packages("recipes")
  set.seed(16)
  d <- data.frame(a = rexp(200), b = rnorm(200))
  d$y <- 10 + 3 * log(d$a) + rnorm(200, sd = 0.3)
  later <- d[d$b > 0.5, ]
  rebuild <- function() recipes::recipe(y ~ a + b, d) |> recipes::step_normalize(a, b)
  set.seed(17)
  fit <- backprop(rebuild(), d, hidden = 3, threads = 1)
  again <- backprop(rebuild(), later, init = fit, epochs = 0, threads = 1)
  expect_equal(predict(again, later), predict(fit, later), tolerance = 1e-12)
  # The recipe is not trained again on the new rows: one row, on which
  # step_normalize() has no spread, continues too.
  one <- backprop(rebuild(), later[1, ], init = fit, epochs = 0, threads = 1)
  expect_equal(predict(one, later), predict(fit, later), tolerance = 1e-12)
  expect_equal(fitted(one), predict(fit, later[1, ]), tolerance = 1e-12, ignore_attr = TRUE)
  # Case weights are the recipe's column, as at fit time.
  d$w <- hardhat::frequency_weights(rep(1:2, 100))
  weighted <- function() recipes::recipe(y ~ a + b + w, d) |> recipes::step_normalize(a, b)
  set.seed(20)
  wfit <- backprop(weighted(), d, hidden = 3, threads = 1)
  wagain <- backprop(weighted(), d[1:10, ], init = wfit, epochs = 0, threads = 1)
  expect_equal(wagain$prior_weights, rep(1:2, 5))
  d$w <- NULL
  logged <- recipes::recipe(y ~ a + b, d) |> recipes::step_log(a) |> recipes::step_normalize(a, b)
  expect_snapshot(backprop(logged, later, init = fit, epochs = 0, threads = 1), error = TRUE)
  # A step updated in place keeps its id; other predictors keep the steps.
  updated <- rebuild()
  updated$steps[[1]] <- update(updated$steps[[1]], na_rm = FALSE)
  expect_error(backprop(updated, later, init = fit, epochs = 0, threads = 1), "not the recipe `init`")
  d$c <- rnorm(200)
  other <- recipes::recipe(y ~ a + c, d) |> recipes::step_normalize(a, c)
  expect_error(backprop(other, d, init = fit, epochs = 0, threads = 1), "not the recipe `init`")
  # A recipe fit continues with its recipe only; a recipe with steps
  # continues no fit of another interface.
  expect_error(mlp_train(y ~ a + b, later, init = fit, epochs = 0, threads = 1),
               "`init` was fitted with a recipe whose steps code its inputs")
  expect_error(backprop(later[c("a", "b")], later$y, init = fit, epochs = 0, threads = 1),
               "`init` was fitted with a recipe whose steps code its inputs")
  set.seed(19)
  plain <- backprop(y ~ a + b, d, hidden = 2, threads = 1)
  expect_error(backprop(rebuild(), later, init = plain, epochs = 0, threads = 1),
               "`init` was not fitted with it")
  # The variables in another order are the same recipe.
  swapped <- recipes::recipe(y ~ b + a, d) |> recipes::step_normalize(a, b)
  again <- backprop(swapped, later, init = fit, epochs = 0, threads = 1)
  expect_equal(predict(again, later), predict(fit, later), tolerance = 1e-12)
  # Steps whose fields training rewrites (step_pca()'s num_comp) are
  # compared as given.
  pca <- function() recipes::recipe(y ~ a + b, d) |> recipes::step_normalize(a, b) |> recipes::step_pca(a, b)
  set.seed(18)
  fit <- backprop(pca(), d, hidden = 3, threads = 1)
  again <- backprop(pca(), later, init = fit, epochs = 0, threads = 1)
  expect_equal(predict(again, later), predict(fit, later), tolerance = 1e-12)
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

test_that("rows a fit was continued on are not unseen for the fits that continue it", {
  set.seed(6)
  d <- data.frame(a = rnorm(150), b = rnorm(150))
  d$y <- sin(2 * d$a) + d$b + rnorm(150, sd = 0.3)
  args <- list(output = "linear", loss = "mse", optimizer = "lbfgs", scale = TRUE, threads = 1)
  set.seed(7)
  all_rows <- do.call(mlp_train, c(list(y ~ a + b, d, hidden = 6, epochs = 30), args))
  # Its fraction's rows trained the fit it continues: not calibrated on,
  # nor by the fits that continue it.
  first <- mlp_train(y ~ a + b, d, init = all_rows, validation = 0.3, epochs = 0, threads = 1)
  expect_false(first$held_out_unseen)
  expect_null(first$calibration)
  second <- mlp_train(y ~ a + b, d, init = first, validation = 0.3, epochs = 0, threads = 1)
  expect_false(second$held_out_unseen)
  expect_null(second$calibration)
  expect_snapshot(mlp_train(y ~ a + b, d, init = first, validation = 0.3, epochs = 0,
                            conformal = "split", threads = 1), error = TRUE)
})

test_that("a continued classifier keeps its validation rows with its classes reordered", {
  set.seed(8)
  d <- data.frame(a = rnorm(150), b = rnorm(150))
  d$g <- factor(ifelse(d$a + d$b > 0.5, "hi", ifelse(d$a > -0.5, "mid", "lo")))
  set.seed(9)
  fit <- mlp_train(g ~ a + b, d, hidden = 4, optimizer = "adam", lr = 0.05, epochs = 5,
                   validation = 0.3, threads = 1)
  d$g <- factor(d$g, levels = rev(levels(d$g)))
  more <- mlp_train(g ~ a + b, d, init = fit, validation = 0.3, epochs = 0, threads = 1)
  expect_equal(more$held_out, fit$held_out)
  expect_false(is.null(more$calibration))
})

test_that("a continued fit codes its response as the fit did", {
  set.seed(10)
  d <- data.frame(a = rnorm(200), b = rnorm(200))
  d$y <- 10 + 3 * d$a + rnorm(200, sd = 0.3)
  later <- d[d$a > 0.5, ]
  set.seed(11)
  fit <- backprop(scale(y) ~ a + b, d, hidden = 3, threads = 1)
  again <- backprop(scale(y) ~ a + b, later, init = fit, epochs = 0, threads = 1)
  # scale(y) with the training rows' centre and spread, not the later rows'.
  expect_equal(unname(again$y[, 1]),
               unname(((later$y - mean(d$y)) / sd(d$y) - fit$scaling$y$center) / fit$scaling$y$scale))
  need_packages("recipes")
  rec <- recipes::recipe(y ~ a + b, d) |> recipes::step_normalize(y, skip = TRUE)
  set.seed(12)
  normalized <- backprop(rec, d, hidden = 3, threads = 1)
  expect_snapshot(backprop(rec, later, init = normalized, epochs = 0, threads = 1), error = TRUE)
})

test_that("a continued fit with another formula is not coded as the fit's", {
  set.seed(13)
  d <- data.frame(x1 = rnorm(80), x2 = rnorm(80))
  d$y <- d$x1 + rnorm(80, sd = 0.1)
  d$z <- d$x2 + rnorm(80, sd = 0.1)
  set.seed(14)
  fit <- mlp_train(y ~ x1 + x2, d, output = "linear", loss = "mse", optimizer = "adam",
                   epochs = 3, threads = 1)
  other <- mlp_train(z ~ x1 + x2, d, init = fit, epochs = 0, threads = 1)
  expect_equal(other$y_names, "z")
  expect_equal(unname(other$y[, 1]), d$z)
  expect_error(mlp_train(y ~ x1, d, init = fit, epochs = 0, threads = 1), "inputs")
})

test_that("a classifier continues with classes, a regression with numbers", {
  set.seed(22)
  d <- data.frame(x1 = rnorm(80), x2 = rnorm(80))
  d$y <- d$x1 + rnorm(80) > 0
  d$z <- d$x1 + d$x2
  classifier <- backprop(y ~ x1 + x2, data = d, select = FALSE, threads = 1)
  regression <- backprop(z ~ x1 + x2, data = d, select = FALSE, threads = 1)
  # mlp_train() reads a logical response as numbers, backprop() as classes.
  expect_equal(predict(backprop(y ~ x1 + x2, data = d, init = classifier, epochs = 0, threads = 1),
                       d, type = "prob"),
               predict(classifier, d, type = "prob"))
  d$g <- factor(d$y)
  expect_snapshot(error = TRUE, {
    mlp_train(y ~ x1 + x2, data = d, init = classifier, epochs = 0, threads = 1)
    mlp_train(g ~ x1 + x2, data = d, init = regression, epochs = 0, threads = 1)
  })
})

test_that("a continued recipe classifier refuses classes it was not fitted to", {
  need_packages("recipes")
  two <- droplevels(iris[iris$Species != "virginica", ])
  recipe <- recipes::recipe(Species ~ ., two) |>
    recipes::step_normalize(recipes::all_predictors())
  set.seed(23)
  fit <- backprop(recipe, two, hidden = 2, select = FALSE, threads = 1)
  again <- backprop(recipe, two[c(1:5, 51:55), ], init = fit, epochs = 0, threads = 1)
  expect_equal(predict(again, two, type = "prob"), predict(fit, two, type = "prob"))
  expect_snapshot(backprop(recipe, iris, init = fit, epochs = 0, threads = 1), error = TRUE)
})
