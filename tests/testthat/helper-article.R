# Independent transcriptions of the article's two programs, kept as close to
# the article's text as possible. They are the reference the package is tested
# against.

article_X <- matrix(c(1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1), nrow = 3, ncol = 4, byrow = TRUE)
article_Y <- matrix(c(1, 1, 0), byrow = FALSE)

# The article's R program, verbatim but for its sizes, which are arguments.
# It draws its own starting weights from R's RNG after set.seed(seed).
article_r_program <- function(X, Y, seed, hiddenlayer_neurons = 3, epoch = 5000, lr = 0.1) {
  set.seed(seed)
  sigmoid <- function(x) {
    1 / (1 + exp(-x))
  }
  derivatives_sigmoid <- function(x) {
    x * (1 - x)
  }
  inputlayer_neurons <- ncol(X)
  output_neurons <- ncol(Y)
  wh <- matrix(rnorm(inputlayer_neurons * hiddenlayer_neurons, mean = 0, sd = 1),
               inputlayer_neurons, hiddenlayer_neurons)
  bias_in <- runif(hiddenlayer_neurons)
  bias_in_temp <- rep(bias_in, nrow(X))
  bh <- matrix(bias_in_temp, nrow = nrow(X), byrow = FALSE)
  wout <- matrix(rnorm(hiddenlayer_neurons * output_neurons, mean = 0, sd = 1),
                 hiddenlayer_neurons, output_neurons)
  bias_out <- runif(output_neurons)
  bias_out_temp <- rep(bias_out, nrow(X))
  bout <- matrix(bias_out_temp, nrow = nrow(X), byrow = FALSE)
  sse <- numeric(epoch)
  for (i in 1:epoch) {
    hidden_layer_input1 <- X %*% wh
    hidden_layer_input <- hidden_layer_input1 + bh
    hidden_layer_activations <- sigmoid(hidden_layer_input)
    output_layer_input1 <- hidden_layer_activations %*% wout
    output_layer_input <- output_layer_input1 + bout
    output <- sigmoid(output_layer_input)
    # Back Propagation
    E <- Y - output
    sse[i] <- sum(E^2)
    slope_output_layer <- derivatives_sigmoid(output)
    slope_hidden_layer <- derivatives_sigmoid(hidden_layer_activations)
    d_output <- E * slope_output_layer
    Error_at_hidden_layer <- d_output %*% t(wout)
    d_hiddenlayer <- Error_at_hidden_layer * slope_hidden_layer
    wout <- wout + (t(hidden_layer_activations) %*% d_output) * lr
    bout <- bout + rowSums(d_output) * lr
    wh <- wh + (t(X) %*% d_hiddenlayer) * lr
    bh <- bh + rowSums(d_hiddenlayer) * lr
  }
  list(output = output, wout = wout, bout = bout, wh = wh, bh = bh, loss = sse)
}

# The NumPy program's arithmetic (broadcast 1 x h biases, column sums),
# written in R, from given starting matrices.
numpy_program <- function(X, y, wh, bh, wout, bout, epoch = 5000, lr = 0.1) {
  sigmoid <- function(x) 1 / (1 + exp(-x))
  derivatives_sigmoid <- function(x) x * (1 - x)
  n <- nrow(X)
  broadcast <- function(b) matrix(b, n, length(b), byrow = TRUE)
  for (i in seq_len(epoch)) {
    hidden_layer_input <- X %*% wh + broadcast(bh)
    hiddenlayer_activations <- sigmoid(hidden_layer_input)
    output <- sigmoid(hiddenlayer_activations %*% wout + broadcast(bout))
    E <- y - output
    slope_output_layer <- derivatives_sigmoid(output)
    slope_hidden_layer <- derivatives_sigmoid(hiddenlayer_activations)
    d_output <- E * slope_output_layer
    Error_at_hidden_layer <- d_output %*% t(wout)
    d_hiddenlayer <- Error_at_hidden_layer * slope_hidden_layer
    wout <- wout + t(hiddenlayer_activations) %*% d_output * lr
    bout <- bout + colSums(d_output) * lr
    wh <- wh + t(X) %*% d_hiddenlayer * lr
    bh <- bh + colSums(d_hiddenlayer) * lr
  }
  list(output = output, wout = wout, bout = matrix(bout, 1), wh = wh, bh = matrix(bh, 1))
}

expect_same_network <- function(fit, ref, tolerance = 1e-10) {
  for (name in c("output", "wout", "bout", "wh", "bh")) {
    expect_equal(unname(fit[[name]]), unname(ref[[name]]), tolerance = tolerance,
                 label = paste0("fit$", name))
  }
}
