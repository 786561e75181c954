# caret::train() with backprop_caret().

test_that("caret tunes size and decay of a classifier, with class probabilities", {
  need_packages("caret")
  set.seed(1)
  grid <- expand.grid(size = c(2, 5), decay = c(0.001, 0.1))
  tuned <- caret::train(
    iris[, 1:4], iris$Species, method = backprop_caret(), tuneGrid = grid,
    trControl = caret::trainControl(method = "cv", number = 2, classProbs = TRUE)
  )
  expect_equal(nrow(tuned$results), 4L)
  expect_true(all(c("size", "decay", "Accuracy", "Kappa") %in% names(tuned$results)))
  expect_gt(max(tuned$results$Accuracy), 0.9)
  final <- tuned$finalModel
  expect_s3_class(final, "mlp_fit")
  expect_equal(c(final$hidden, final$weight_decay), c(tuned$bestTune$size, tuned$bestTune$decay))
  prob <- predict(tuned, iris[c(1, 51, 101), 1:4], type = "prob")
  expect_named(prob, levels(iris$Species))
  expect_equal(rowSums(prob), c(1, 1, 1), ignore_attr = TRUE)
  expect_equal(as.matrix(prob), predict(final, iris[c(1, 51, 101), 1:4], type = "prob"), ignore_attr = TRUE)
  expect_identical(predict(tuned, iris[c(1, 51, 101), 1:4]), factor(c("setosa", "versicolor", "virginica"), levels(iris$Species)))
})

test_that("caret tunes a regression with the default grid and passes other arguments on", {
  need_packages("caret")
  set.seed(2)
  tuned <- caret::train(
    mtcars[, c("wt", "hp", "qsec")], mtcars$mpg, method = backprop_caret(), tuneLength = 2,
    trControl = caret::trainControl(method = "cv", number = 2), epochs = 60
  )
  expect_equal(nrow(tuned$results), 4L)
  expect_setequal(tuned$results$size, c(5, 10))
  expect_setequal(tuned$results$decay, c(0.1, 0.01))
  expect_equal(tuned$finalModel$epochs, 60)
  pred <- predict(tuned, mtcars)
  expect_type(pred, "double")
  expect_equal(pred, unname(predict(tuned$finalModel, mtcars[, c("wt", "hp", "qsec")])[, 1]), ignore_attr = TRUE)
  expect_lt(sqrt(mean((pred - mtcars$mpg)^2)), 3.5)
  # Random search draws within its ranges.
  set.seed(3)
  random <- backprop_caret()$grid(NULL, NULL, len = 20, search = "random")
  expect_true(all(random$size >= 1 & random$size <= 30 & random$decay > 1e-5 & random$decay < 1))
  # An argument the grid sets, given again, kept the grid's value silently.
  expect_error(suppressWarnings(caret::train(
    mtcars[, c("wt", "hp")], mtcars$mpg, method = backprop_caret(),
    tuneGrid = data.frame(size = 2, decay = 0.01), trControl = caret::trainControl(method = "none"),
    threads = 1, hidden = 8)), "got `hidden` twice")
})

test_that("caret passes case weights", {
  need_packages("caret")
  set.seed(4)
  tuned <- caret::train(
    mtcars[, c("wt", "hp")], mtcars$mpg, method = backprop_caret(), weights = mtcars$cyl,
    tuneGrid = data.frame(size = 3, decay = 0.01), trControl = caret::trainControl(method = "none")
  )
  expect_equal(tuned$finalModel$prior_weights, mtcars$cyl)
})

test_that("caret's varImp() gives Garson's importance of each input", {
  need_packages("caret")
  set.seed(5)
  tuned <- caret::train(
    iris[, 1:4], iris$Species, method = backprop_caret(),
    tuneGrid = data.frame(size = 3, decay = 0.01), trControl = caret::trainControl(method = "none")
  )
  imp <- caret::varImp(tuned, scale = FALSE)$importance
  expect_named(imp, "Overall")
  expect_setequal(rownames(imp), names(iris)[1:4])
  garson <- mlp_importance(tuned$finalModel, method = "garson")
  expect_equal(imp[garson$variable, "Overall"], garson$importance)
  scaled <- caret::varImp(tuned)$importance
  expect_equal(range(scaled$Overall), c(0, 100))
})

test_that("init continues a caret fit exactly, and refuses caret's preProcess", {
  need_packages("caret")
  grid <- data.frame(size = 3, decay = 0.01)
  train <- function(rows, ...) {
    caret::train(mtcars[rows, c("wt", "hp")], mtcars$mpg[rows], method = backprop_caret(),
                 tuneGrid = grid, trControl = caret::trainControl(method = "none"),
                 threads = 1, ...)
  }
  set.seed(1)
  fitted <- train(1:20)
  again <- train(13:32, init = fitted$finalModel, epochs = 0)
  expect_equal(predict(again, mtcars), predict(fitted, mtcars), tolerance = 1e-12)
  # caret estimates preProcess again on the new rows (moving the
  # predictions at epochs = 0): refused.
  scaled <- train(1:20, preProcess = c("center", "scale"))
  expect_snapshot(error = TRUE, {
    train(13:32, preProcess = c("center", "scale"), init = scaled$finalModel, epochs = 0)
  })
  # So do its formula's poly() and its recipe's steps.
  formula <- function(rows, ...) {
    caret::train(mpg ~ poly(wt, 2) + hp, data = mtcars[rows, ], method = backprop_caret(),
                 tuneGrid = grid, trControl = caret::trainControl(method = "none"),
                 threads = 1, ...)
  }
  first <- formula(1:20)
  expect_snapshot(formula(13:32, init = first$finalModel, epochs = 0), error = TRUE)
  need_packages("recipes")
  recipe <- recipes::recipe(mpg ~ wt + hp, data = mtcars) |> recipes::step_normalize(wt, hp)
  cooked <- function(rows, ...) {
    caret::train(recipe, data = mtcars[rows, ], method = backprop_caret(), tuneGrid = grid,
                 trControl = caret::trainControl(method = "none"), threads = 1, ...)
  }
  first <- cooked(1:20)
  # (caret keeps the error of a recipe's model as its final model; the
  # refusal is a warning too.)
  expect_warning(again <- cooked(13:32, init = first$finalModel, epochs = 0),
                 "`init` cannot continue a fit under a recipe with steps")
  expect_s3_class(again$finalModel, "try-error")
  expect_match(again$finalModel, "`init` cannot continue a fit under a recipe with steps")
})

test_that("validation rows are refused where caret codes the rows it fits", {
  need_packages("caret")
  held <- list(x = mtcars[25:32, c("wt", "hp")], y = mtcars$mpg[25:32])
  train <- function(...) {
    caret::train(mtcars[1:24, c("wt", "hp")], mtcars$mpg[1:24], method = backprop_caret(),
                 tuneGrid = data.frame(size = 3, decay = 0.01),
                 trControl = caret::trainControl(method = "none"), threads = 1,
                 select = FALSE, optimizer = "adam", epochs = 30, ...)
  }
  # Without it the given rows are read as they are: the kept epoch's
  # validation loss is the loss of the final model on them (the mean
  # squared error in the response's standardized units).
  plain <- train(validation = held)$finalModel
  residuals <- (predict(plain, held$x)[, 1] - held$y) / plain$scaling$y$scale
  expect_equal(plain$val_loss[plain$best_epoch], mean(residuals^2), tolerance = 1e-10)
  # A fraction is drawn from the coded rows.
  set.seed(1)
  drawn <- train(preProcess = c("center", "scale"), validation = 0.25)
  expect_length(drawn$finalModel$held_out, 6L)
  # preProcess = "zv" only drops columns: the given rows are read as they are.
  zv <- train(preProcess = "zv", validation = held)$finalModel
  residuals <- (predict(zv, held$x)[, 1] - held$y) / zv$scaling$y$scale
  expect_equal(zv$val_loss[zv$best_epoch], mean(residuals^2), tolerance = 1e-10)
  # Through caret's recipe interface, which keeps a model's error as its
  # final model, the refusal is a warning too.
  need_packages("recipes")
  recipe <- recipes::recipe(mpg ~ wt + hp, data = mtcars[1:24, ]) |> recipes::step_normalize(wt, hp)
  expect_warning(
    cooked <- caret::train(recipe, data = mtcars[1:24, ], method = backprop_caret(),
                           tuneGrid = data.frame(size = 3, decay = 0.01),
                           trControl = caret::trainControl(method = "none"), threads = 1,
                           validation = held),
    "`validation` rows cannot be given under a recipe with steps")
  expect_s3_class(cooked$finalModel, "try-error")
  # preProcess codes the rows caret fits, not the given ones: refused.
  expect_snapshot(train(preProcess = c("center", "scale"), validation = held), error = TRUE)
})
