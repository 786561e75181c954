library(testthat)
library(backprop)

test_check("backprop")
