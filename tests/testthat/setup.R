# CRAN: at most two threads in tests.
old_options <- options(backprop.threads = 2)
withr::defer(options(old_options), teardown_env())
# recipes asks for the time zone, which a container may not know.
if (!nzchar(Sys.getenv("TZ"))) {
  Sys.setenv(TZ = "UTC")
  withr::defer(Sys.unsetenv("TZ"), teardown_env())
}
