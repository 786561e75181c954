# CRAN: at most two threads in tests.
old_options <- options(backprop.threads = 2)
withr::defer(options(old_options), teardown_env())
