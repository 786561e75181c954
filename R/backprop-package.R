#' backprop: multilayer perceptrons trained by backpropagation, in Rust
#'
#' `backprop` trains multilayer perceptrons with a Rust engine. Its defaults
#' are the network of the tutorial "understanding and coding neural networks
#' from scratch in Python and R": one sigmoid hidden layer of 3 units, a
#' sigmoid output, full-batch gradient descent with summed gradients, learning
#' rate 0.1 and 5000 epochs. [mlp_train()] reproduces both of the tutorial's
#' programs: the NumPy one (`bias = "column"`) and the R one, with its per-row
#' bias matrices (`bias = "row"`).
#'
#' @keywords internal
#' @docType package
#' @name backprop-package
#' @aliases backprop-package
NULL

# Imported rather than called with `::`, which costs microseconds per call:
# mlp_train() on the article's tiny network is otherwise dominated by them.
#' @importFrom stats rnorm runif sd
NULL

# The generics of stats that the fits answer, so that the namespace loads
# with only base attached.
#' @importFrom stats coef fitted formula model.frame nobs predict residuals terms weights
NULL
