# The article's example: its R program's data and network, trained by backprop.
library(backprop)

X <- matrix(c(1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1), nrow = 3, ncol = 4, byrow = TRUE)
Y <- matrix(c(1, 1, 0), byrow = FALSE)

# The R program's per-row bias layout, 3 hidden units, 5000 epochs, lr = 0.1.
set.seed(42)
fit <- mlp_train(X, Y, bias = "row")
fit

# What the article prints:
fit$output
fit$wout
fit$bout

# The NumPy program's layout: one bias per unit.
set.seed(42)
fit_np <- mlp_train(X, Y, init = "uniform")
fit_np$output
fit_np$wout
fit_np$bout
