# Runs the testthat suite against the installed package and ends with the
# plain "N passed, N failed" line; exits non-zero when any test fails.
# Not a CRAN run: the tests marked skip_on_cran() run too.
Sys.setenv(NOT_CRAN = "true")
res <- testthat::test_dir("tests/testthat", package = "backprop",
                          load_package = "installed", reporter = "summary",
                          stop_on_failure = FALSE)
df <- as.data.frame(res)
failed <- sum(df$failed) + sum(df$error)
cat(sprintf("testthat: %d passed, %d failed\n", sum(df$passed) , failed))
quit(status = if (failed > 0) 1 else 0)
