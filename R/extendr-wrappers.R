# Internal entry points into the Rust crate (src/rust/src/lib.rs).
# Written by hand in the layout rextendr generates; keep in step with
# `extendr_module!` in lib.rs.

#' @useDynLib backprop, .registration = TRUE
NULL

train_ <- function(x, y, spec, params, x_val, y_val, progress, watcher) {
  .Call(wrap__train_, x, y, spec, params, x_val, y_val, progress, watcher)
}

predict_ <- function(x, spec, params, threads) {
  .Call(wrap__predict_, x, spec, params, threads)
}

gemm_rate_ <- function(n, threads, reps) {
  .Call(wrap__gemm_rate_, n, threads, reps)
}

draw_params_ <- function(init, sizes, bias_rows) {
  .Call(wrap__draw_params_, init, sizes, bias_rows)
}

trace_ <- function(x, y, spec, params) {
  .Call(wrap__trace_, x, y, spec, params)
}

objective_ <- function(x, y, spec, params) {
  .Call(wrap__objective_, x, y, spec, params)
}

minimised_objective_ <- function(x, y, spec, params) {
  .Call(wrap__minimised_objective_, x, y, spec, params)
}

extent_ <- function(x, threads) {
  .Call(wrap__extent_, x, threads)
}

constant_columns_ <- function(x, role) {
  .Call(wrap__constant_columns_, x, role)
}

vocabulary_ <- function() {
  .Call(wrap__vocabulary_)
}
