# predict(), fitted(), residuals(), the stats generics, update() and plot().

fit_cars <- function(...) {
  set.seed(11)
  backprop(mpg ~ wt + hp + qsec, mtcars, ...)
}

test_that("predict() takes newdata or new_data and refuses unknown arguments", {
  fit <- fit_cars()
  expect_equal(predict(fit, mtcars[1:4, ]), predict(fit, new_data = mtcars[1:4, ]))
  expect_equal(rownames(predict(fit, mtcars[1:4, ])), rownames(mtcars)[1:4])
  expect_arg_error(predict(fit, mtcars, new_data = mtcars), "Give `newdata` or `new_data`, not both")
  expect_arg_error(predict(fit, mtcars, typo = "class"), "predict\\(\\) got `typo` it does not know")
  expect_arg_error(predict(fit, mtcars, "class"), "`type = \"class\"` needs a classifier")
  expect_arg_error(predict(fit, mtcars, type = "link"), "`type` must be one of")
  expect_equal(predict(fit), fitted(fit))
})

test_that("rows of newdata with NA inputs predict NA, without a warning", {
  fit <- fit_cars()
  new <- mtcars[1:5, ]
  new$wt[2] <- NA
  new$hp[4] <- NaN
  expect_silent(p <- predict(fit, new))
  expect_equal(unname(which(is.na(p[, 1]))), c(2L, 4L))
  expect_equal(p[-c(2, 4), 1], predict(fit, new[-c(2, 4), ])[, 1])
  set.seed(1)
  cls <- backprop(Species ~ ., iris)
  new <- iris[c(1, 51, 101), ]
  new$Sepal.Width[2] <- NA
  expect_equal(is.na(predict(cls, new, type = "class")), c(FALSE, TRUE, FALSE), ignore_attr = TRUE)
  expect_true(all(is.na(predict(cls, new, type = "prob")[2, ])))
})

test_that("update() re-evaluates the stored call", {
  fit <- fit_cars(epochs = 30)
  expect_equal(fit$call[[1]], as.name("backprop"))
  set.seed(11)
  again <- update(fit)
  expect_equal(again$weights, fit$weights)
  more <- update(fit, . ~ . + disp, hidden = 3)
  expect_equal(more$sizes, c(4, 3, 1))
  expect_equal(formula(more), mpg ~ wt + hp + qsec + disp, ignore_attr = TRUE)
  set.seed(1)
  article <- mlp_train(am ~ wt, mtcars, epochs = 20, scale = TRUE)
  expect_equal(article$call[[1]], as.name("mlp_train"))
  expect_equal(update(article, epochs = 5)$epochs, 5)
})

test_that("weights(), nobs(), formula(), terms() and model.frame() answer as in stats", {
  set.seed(11)
  fit <- backprop(mpg ~ wt + hp + qsec, mtcars, weights = cyl)
  expect_equal(weights(fit), mtcars$cyl, ignore_attr = TRUE)
  expect_equal(nobs(fit), 32)
  expect_equal(formula(fit), mpg ~ wt + hp + qsec, ignore_attr = TRUE)
  expect_s3_class(terms(fit), "terms")
  mf <- model.frame(fit)
  expect_equal(dim(mf), c(32, 5))
  expect_equal(mf[["(weights)"]], mtcars$cyl)
  plain <- fit_cars()
  expect_null(weights(plain))
  # coef() holds the network's weights.
  sizes <- plain$sizes
  expect_length(coef(plain), sum(head(sizes, -1) * sizes[-1] + sizes[-1]))
  xy <- backprop(as.matrix(mtcars[, 2:4]), mtcars$mpg)
  expect_arg_error(formula(xy), "formula")
  expect_equal(nobs(xy), 32)
  # Under na.exclude, weights() is padded row for row as residuals() is.
  cars <- mtcars
  cars$wt[3] <- NA
  excluded <- backprop(mpg ~ wt + hp, cars, weights = cyl, na.action = na.exclude, threads = 1)
  expect_length(weights(excluded), 32)
  expect_true(is.na(weights(excluded)[3]))
  expect_equal(weights(excluded)[-3], mtcars$cyl[-3], ignore_attr = TRUE)
  expect_length(residuals(excluded), 32)
})

test_that("fitted(), residuals(), weights(), coef() and summary() refuse arguments they would ignore", {
  fit <- fit_cars()
  expect_snapshot(residuals(fit, type = "pearson"), error = TRUE)
  expect_snapshot(fitted(fit, type = "class"), error = TRUE)
  # weights(type = "working") of a glm is another quantity; summary()'s
  # digits belong to its print().
  expect_snapshot(weights(fit, type = "working"), error = TRUE)
  expect_arg_error(coef(fit, complete = FALSE), "coef\\(\\) got `complete` it does not know")
  expect_arg_error(summary(fit, digits = 3), "summary\\(\\) got `digits` it does not know")
})

test_that("fitted() and residuals() cover every data row, held-out rows included", {
  set.seed(12)
  n <- 200
  d <- data.frame(a = runif(n), b = runif(n))
  d$y <- d$a * 3 + d$b + rnorm(n, sd = 0.1)
  rownames(d) <- paste0("r", seq_len(n))
  fit <- mlp_train(y ~ ., d, hidden = 5, output = "linear", loss = "mse", optimizer = "adam",
                   lr = 0.01, epochs = 50, validation = 0.25, scale = TRUE, activation = "tanh")
  expect_equal(nrow(fitted(fit)), n)
  expect_equal(rownames(fitted(fit)), rownames(d))
  expect_length(fit$held_out, 50)
  expect_equal(fitted(fit), predict(fit, d), tolerance = 1e-10)
  expect_equal(residuals(fit)[, 1], d$y - fitted(fit)[, 1])
  expect_equal(nobs(fit), n)
})

test_that("held_out counts rows after na.action and is named by the data's rows", {
  set.seed(13)
  n <- 120
  d <- data.frame(a = runif(n), b = runif(n))
  d$y <- d$a * 3 + d$b + rnorm(n, sd = 0.1)
  d$a[c(2, 5, 40)] <- NA
  rownames(d) <- paste0("r", seq_len(n))
  fit <- mlp_train(y ~ ., d, hidden = 4, output = "linear", loss = "mse", optimizer = "adam",
                   lr = 0.01, epochs = 5, validation = 0.25, scale = TRUE, activation = "tanh")
  held <- fit$held_out
  expect_length(held, 29)
  # Positions among the rows na.omit left, named by the data's row names.
  kept <- rownames(d)[!is.na(d$a)]
  expect_equal(names(held), kept[held])
  expect_false(any(names(held) %in% c("r2", "r5", "r40")))
  expect_equal(fitted(fit)[held, ], fitted(fit)[names(held), ])
  expect_equal(predict(fit, d[names(held), ])[, 1], fitted(fit)[held, ], tolerance = 1e-10)
  # Without row names of its own, a matrix's rows are named by position.
  x <- as.matrix(d[!is.na(d$a), c("a", "b")])
  rownames(x) <- NULL
  fit <- mlp_train(x, d$y[!is.na(d$a)], output = "linear", loss = "mse", optimizer = "adam",
                   lr = 0.01, epochs = 5, validation = 0.25, threads = 1)
  expect_null(names(fit$held_out))
})

test_that("scale = TRUE leaves the targets of a sigmoid output alone", {
  set.seed(13)
  fit <- mlp_train(am ~ wt + hp, mtcars, scale = TRUE, epochs = 2000)
  expect_null(fit$scaling$y)
  f <- fitted(fit)[, 1]
  expect_true(all(f > 0 & f < 1))
  # It separates the two groups as the data do.
  expect_gt(mean((f > 0.5) == mtcars$am), 0.85)
  expect_true(all(fit$loss >= 0))
})

test_that("mlp_train() warns when it is the wrong tool, and not on the article's problem", {
  set.seed(1)
  expect_silent(mlp_train(article_X, article_Y))
  expect_warning(mlp_train(mpg ~ ., mtcars, epochs = 50), "outside \\[0, 1\\].*output = \"linear\" with scale = TRUE")
  set.seed(2)
  x <- matrix(rnorm(200, sd = 50), 100)
  y <- as.numeric(x[, 1] > 0)
  expect_warning(mlp_train(x, y, lr = 50, epochs = 30), "saturated|did not fall")
  expect_warning(mlp_train(x / 50, y, lr = 1e-300, epochs = 5), "did not fall over 5 epochs")
  # An exp output's rates may all lie above 1: that is no saturation.
  set.seed(3)
  d <- data.frame(b = runif(60))
  d$count <- rpois(60, exp(1.5 + d$b))
  expect_no_warning(mlp_train(count ~ b, d, loss = "poisson", optimizer = "adam", lr = 0.05,
                              epochs = 100))
})

test_that("starting weights follow the activation unless init is given", {
  x <- matrix(rnorm(400), 100)
  y <- rnorm(100)
  start <- function(activation, ...) {
    set.seed(3)
    suppressWarnings(mlp_train(x, y, hidden = 50, activation = activation, output = "linear",
                               loss = "mse", epochs = 0, ...))
  }
  expect_equal(start("sigmoid")$init, "article")
  expect_equal(start("relu")$init, "he")
  expect_equal(start("leaky_relu")$init, "he")
  expect_equal(start("tanh")$init, "xavier")
  expect_equal(start("tanh", init = "article")$init, "article")
  # He: standard deviation sqrt(2 / fan-in).
  expect_equal(sd(c(start("relu")$wh)), sqrt(2 / 4), tolerance = 0.15)
})

test_that("the network picture names inputs, outputs and layers", {
  set.seed(1)
  fit <- backprop(Species ~ ., iris, hidden = c(16, 16), epochs = 5)
  labels <- backprop:::network_labels(fit)
  expect_equal(labels$inputs, names(iris)[1:4])
  expect_equal(labels$outputs, levels(iris$Species))
  expect_equal(labels$layers[2], "hidden 1\n(tanh)")
  cars <- fit_cars()
  expect_equal(backprop:::network_labels(cars)$outputs, "mpg")
  file <- tempfile(fileext = ".png")
  grDevices::png(file, width = 800, height = 600)
  plot(fit, type = "network")
  grDevices::dev.off()
  expect_gt(file.size(file), 5000)
  unlink(file)
})

test_that("print() and summary() of a backprop() fit", {
  set.seed(1)
  fit <- backprop(Species ~ ., iris, epochs = 20)
  expect_snapshot({
    print(fit)
    # The candidates of the selection and the starts kept.
    print(summary(fit))
  })
  # With validation, the losses are those of the best epoch, whose weights
  # the fit keeps.
  set.seed(2)
  kept <- backprop(mpg ~ wt + hp + cyl, mtcars, validation = 0.25, threads = 1)
  expect_snapshot({
    print(kept)
    print(summary(kept))
  })
})

test_that("summary()'s fit statistics count rows as the observation weights do", {
  set.seed(1)
  w <- mtcars$cyl
  fit <- backprop(mpg ~ wt + hp, mtcars, weights = w, threads = 1)
  e <- mtcars$mpg - fitted(fit)
  stats <- summary(fit)$fit
  expect_equal(unname(stats$rmse), sqrt(sum(w * e^2) / sum(w)))
  y_bar <- sum(w * mtcars$mpg) / sum(w)
  expect_equal(unname(stats$r_squared), 1 - sum(w * e^2) / sum(w * (mtcars$mpg - y_bar)^2))
  # Weight 0 on half the rows: those rows count for nothing.
  w0 <- rep(c(0, 1, 2), length.out = 150)
  cls <- backprop(Species ~ ., iris, weights = w0, threads = 1)
  right <- predict(cls, iris, type = "class") == iris$Species
  stats <- summary(cls)$fit
  expect_equal(stats$accuracy, sum(w0 * right) / sum(w0))
  expect_equal(sum(stats$confusion), sum(w0))
  expect_equal(sum(diag(stats$confusion)), sum(w0 * right))
})

test_that("a network of 120 hidden units draws its 30 strongest and says so", {
  set.seed(2)
  d <- data.frame(matrix(rnorm(100 * 6), 100))
  names(d)[1] <- "a_long_name_for_the_first_input_variable"
  d$mpg <- d[[1]] + rnorm(100)
  fit <- backprop(mpg ~ ., d, hidden = 120, epochs = 5, select = FALSE)
  lay <- backprop:::network_layout(fit)
  hidden <- lay$nodes[lay$nodes$layer == 2, ]
  expect_equal(nrow(hidden), 30L)
  strength <- rowSums(abs(fit$weights[[2]]))
  expect_setequal(hidden$unit, order(-strength)[1:30])
  expect_equal(lay$more$label, "+90 more")
  expect_equal(nrow(lay$edges), 6 * 30 + 30 * 1)
  # The response by its name, the inputs all shown, first on top.
  expect_equal(lay$nodes$label[lay$nodes$layer == 3], "mpg")
  inputs <- lay$nodes[lay$nodes$layer == 1, ]
  expect_equal(inputs$label, names(d)[1:6])
  expect_true(all(diff(inputs$y) < 0))
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off(), add = TRUE)
  expect_identical(plot(fit, type = "network"), fit)
  # A narrow device: the long name shrinks rather than leaves the figure.
  grDevices::pdf(NULL, width = 4, height = 3)
  expect_identical(plot(fit, type = "network"), fit)
  grDevices::dev.off()
  need_packages("ggplot2")
  p <- ggplot2::autoplot(fit, type = "network")
  expect_equal(nrow(ggplot2::layer_data(p, 1)), nrow(lay$edges))
  expect_equal(nrow(ggplot2::layer_data(p, 2)), 6 + 30 + 1)
  expect_equal(ggplot2::layer_data(p, 3)$label, "+90 more")
})

test_that("labels are spread so that no two overlap, shrunk when they cannot fit", {
  spread <- backprop:::spread_labels
  gaps_ok <- function(placed, height) {
    z <- sort(placed$y)
    all(diff(z) >= height * placed$scale - 1e-12)
  }
  # Thirty labels wanted at nearly the same place: pushed apart, in bounds.
  y <- c(rep(5, 10), seq(4.9, 5.1, length.out = 20))
  placed <- spread(y, 0.2, 0, 10)
  expect_equal(placed$scale, 1)
  expect_true(gaps_ok(placed, 0.2))
  expect_true(all(placed$y >= 0.1 & placed$y <= 9.9))
  # Already apart: left where they are.
  expect_equal(spread(c(1, 3, 2), 0.5, 0, 10)$y, c(1, 3, 2))
  # Crowded at the top edge: moved down, the order kept.
  placed <- spread(c(9.95, 9.9, 9.99), 1, 0, 10)
  expect_true(gaps_ok(placed, 1))
  expect_lte(max(placed$y), 9.5)
  expect_equal(order(placed$y), order(c(9.95, 9.9, 9.99)))
  # 120 labels in a height for 60: halved, and still apart.
  placed <- spread(runif(120, 0, 10), 1 / 6, 0, 10)
  expect_equal(placed$scale, 0.5)
  expect_true(gaps_ok(placed, 1 / 6))
  expect_true(all(placed$y >= 0 & placed$y <= 10))
  expect_equal(spread(numeric(0), 1, 0, 1)$y, numeric(0))
})

test_that("outputs are named by the response, its classes, or y", {
  set.seed(3)
  xy <- backprop(as.matrix(mtcars[c("wt", "hp")]), mtcars$mpg, hidden = 2, epochs = 5, select = FALSE)
  expect_equal(backprop:::network_labels(xy)$outputs, "y")
  need_packages("parsnip")
  spec <- parsnip::mlp(hidden_units = 2, epochs = 5) |>
    parsnip::set_engine("backprop", select = FALSE) |>
    parsnip::set_mode("regression")
  fitted <- parsnip::fit(spec, mpg ~ wt + hp, data = mtcars)
  expect_equal(backprop:::network_labels(fitted$fit)$outputs, "mpg")
})

test_that("autoplot() of a fit draws the losses and labels the best epoch", {
  need_packages("ggplot2")
  set.seed(4)
  fit <- backprop(mpg ~ wt + hp + qsec, mtcars, validation = 0.25, optimizer = "adam",
                  epochs = 40, select = FALSE)
  p <- ggplot2::autoplot(fit)
  expect_s3_class(p, "ggplot")
  lines <- ggplot2::layer_data(p, 1)
  expect_equal(nrow(lines), length(fit$loss) + length(fit$val_loss))
  expect_equal(ggplot2::layer_data(p, 2)$xintercept, fit$best_epoch)
  expect_equal(ggplot2::layer_data(p, 4)$label, paste("best epoch", fit$best_epoch))
  set.seed(5)
  plain <- backprop(mpg ~ wt, mtcars, epochs = 10, select = FALSE, optimizer = "adam")
  p <- ggplot2::autoplot(plain)
  expect_length(p$layers, 1L)
  expect_equal(p$labels$title, "Training loss")
  expect_snapshot(ggplot2::autoplot(plain, type = "weights"), error = TRUE)
})

test_that("class predictions are unnamed, for logical and factor responses alike", {
  set.seed(14)
  d <- data.frame(a = rnorm(60), b = rnorm(60), row.names = paste0("r", 1:60))
  d$yes <- d$a + d$b > 0
  d$class <- factor(ifelse(d$yes, "up", "down"))
  logical_fit <- backprop(yes ~ a + b, d, hidden = 3, threads = 1)
  factor_fit <- backprop(class ~ a + b, d, hidden = 3, threads = 1)
  logical_classes <- predict(logical_fit, d, type = "class")
  factor_classes <- predict(factor_fit, d, type = "class")
  expect_null(names(logical_classes))
  expect_null(names(factor_classes))
  # The probabilities keep the rows' names; the classes are their argmax.
  prob <- predict(logical_fit, d, type = "prob")
  expect_equal(rownames(prob), rownames(d))
  expect_equal(logical_classes, unname(prob[, "TRUE"] > prob[, "FALSE"]))
})

test_that("predict() warns of new values of an input constant on every training row", {
  # Adversarial pass 24: `y ~ g:h + a` without rows of the cell r:t. Its
  # indicator is 0 on every training row, so the network ignores it, and a
  # new r:t row was predicted from a pattern no row had, silently (lm()
  # warns of its rank-deficient fit).
  set.seed(1)
  n <- 240
  d <- data.frame(a = rnorm(n), g = sample(c("p", "q", "r"), n, TRUE), h = sample(c("s", "t"), n, TRUE))
  d <- d[!(d$g == "r" & d$h == "t"), ]
  d$y <- d$a + 2 * (d$g == "q") + 3 * (d$g == "q") * (d$h == "t") + rnorm(nrow(d), sd = 0.1)
  fit <- backprop(y ~ g:h + a, d, hidden = 3, select = FALSE, epochs = 20, threads = 1)
  expect_equal(unname(fit$scaling$x$scale["gr:ht"]), Inf)
  cells <- data.frame(a = 0, g = c("p", "q", "r", "r", NA), h = c("t", "t", "s", "t", "t"))
  # One row of five (the NA row predicts NA and is not counted); the
  # training rows, and rows of trained cells, give no warning.
  expect_warning(out <- predict(fit, cells), "^1 row to predict gives another value to an input .* \\(first: row \"4\"\\)")
  expect_true(is.na(out[5, 1]))
  expect_no_warning(predict(fit, d))
  expect_no_warning(predict(fit, cells[1:3, ]))
  # Named by number without column names; the value a few units in the
  # last place from the training one is that value.
  x <- cbind(rnorm(50), 1 / 3)
  third <- mlp_train(x, x[, 1]^2, hidden = 2, epochs = 5, output = "linear", optimizer = "adam",
                     scale = TRUE, threads = 1)
  expect_no_warning(predict(third, cbind(0, 1 / 3 * (1 + c(-2, 2) * .Machine$double.eps))))
  expect_warning(predict(third, cbind(c(0, 0), c(1 / 3, 0.4))), "`column 2` \\(0.3333\\)")
  # Weight 0 rows count as no rows: a value only they hold is new.
  w <- data.frame(a = rnorm(30), k = c(9, rep(1, 29)))
  w$y <- w$a
  zero <- backprop(y ~ a + k, w, weights = c(0, rep(1, 29)), hidden = 2, select = FALSE,
                   epochs = 5, threads = 1)
  expect_warning(predict(zero, w), "^1 row to predict.*`k` \\(1\\) \\(first: row \"1\"\\)")
  # A column constant up to its rounding (pass 24's review: its spread
  # under 8 units in the last place, one row 100 apart) predicts its own
  # training rows without a word.
  e <- data.frame(a = rnorm(1000), k = c(rep(1, 999), 1 + 100 * .Machine$double.eps))
  e$y <- e$a
  rounded <- backprop(y ~ a + k, e, hidden = 2, select = FALSE, epochs = 2, threads = 1)
  expect_equal(unname(rounded$scaling$x$scale["k"]), Inf)
  expect_no_warning(predict(rounded, e))
  expect_snapshot(invisible(predict(fit, cells[4, ])))
})
