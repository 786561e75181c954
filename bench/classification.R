# Classification quality: iris with a held-out third, and the 8x8 handwritten
# digits (1797 images, 10 classes; the UCI optdigits test set as shipped by
# scikit-learn) with a held-out third, next to nnet on the same split.
source(file.path("bench", "common.R"))

held_out_accuracy <- function(pred, truth) mean(as.character(pred) == as.character(truth))

rule("iris: held-out third, 10 random splits")
acc <- numeric(10)
for (s in 1:10) {
  set.seed(s)
  test <- sample(nrow(iris), 50)
  fit <- mlp_train(Species ~ ., iris[-test, ], hidden = 5, optimizer = "lbfgs", weight_decay = 0.001,
                   epochs = 300, scale = TRUE, threads = 1, verbose = FALSE)
  acc[s] <- held_out_accuracy(predict(fit, iris[test, ], type = "class"), iris$Species[test])
}
cat(sprintf("backprop (5 hidden, softmax, cross-entropy, lbfgs, weight decay 0.001): accuracy %s; mean %.3f\n",
            paste(sprintf("%.2f", acc), collapse = " "), mean(acc)))

rule("digits: 1797 8x8 images, 10 classes, held-out third")
digits <- read.csv(file.path(bench_data_dir, "digits.csv.gz"))
x <- as.matrix(digits[, 1:64]) / 16
y <- factor(digits$digit)
set.seed(1)
test <- sample(nrow(x), 600)
set.seed(2)
bp <- timed(mlp_train(x[-test, ], y[-test], hidden = 64, activation = "relu",
                      optimizer = "adam", lr = 0.003, epochs = 100, batch_size = 32,
                      init = "he", threads = 1, verbose = FALSE))
bp_acc <- held_out_accuracy(predict(bp$value, x[test, ], type = "class"), y[test])
set.seed(2)
nn <- timed(nnet::nnet(x[-test, ], nnet::class.ind(y[-test]), size = 64, softmax = TRUE,
                       maxit = 200, MaxNWts = 10000, trace = FALSE))
nn_acc <- held_out_accuracy(levels(y)[max.col(predict(nn$value, x[test, ]))], y[test])
cat(sprintf("backprop (64 relu, adam, 100 epochs): accuracy %.3f in %.2f s\n", bp_acc, bp$seconds))
cat(sprintf("nnet     (64 sigmoid, BFGS, maxit 200): accuracy %.3f in %.2f s\n", nn_acc, nn$seconds))
cat(sprintf("time ratio nnet / backprop: %.1fx\n", nn$seconds / bp$seconds))
