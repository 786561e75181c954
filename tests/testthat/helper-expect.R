# An error raised by backprop's own argument checks, matching `pattern`.
expect_arg_error <- function(expr, pattern) {
  expect_error(expr, pattern, class = "backprop_error")
}

# Skips when a package the test plugs into is missing, except in CI, whose
# set-up installs them all: there a missing one is a failure, not a skip.
need_packages <- function(...) {
  for (pkg in c(...)) {
    if (identical(Sys.getenv("CI"), "true")) {
      if (!requireNamespace(pkg, quietly = TRUE)) fail(paste0("package ", pkg, " is not installed"))
    } else {
      skip_if_not_installed(pkg)
    }
  }
}
