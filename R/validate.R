# Argument checks. Every message names the argument and what was expected;
# errors carry the class "backprop_error" so that callers can catch them.

abort <- function(..., class = NULL) {
  msg <- paste0(...)
  stop(structure(
    class = c(class, "backprop_error", "error", "condition"),
    list(message = msg, call = NULL)
  ))
}

# A short description of what an object is, for error messages.
describe <- function(x) {
  if (is.null(x)) return("NULL")
  if (is.factor(x)) return("a factor")
  if (is.data.frame(x)) return("a data frame")
  if (inherits(x, c("Date", "POSIXt", "difftime"))) return(paste0("a ", class(x)[1L], " vector"))
  if (is.list(x)) return("a list")
  kind <- if (is.matrix(x)) "matrix" else "vector"
  type <- switch(typeof(x), double = "numeric", integer = "integer",
                 logical = "logical", character = "character",
                 complex = "complex", typeof(x))
  paste0("a ", type, " ", kind)
}

# Numeric data (matrix, data frame or vector) as a double matrix, checked.
# Double matrices are returned as they are, so the Rust side reads R's memory.
as_data_matrix <- function(x, arg, rows = NULL, rows_arg = "X", allow_na = FALSE) {
  data_matrix(x, arg, rows, rows_arg, allow_na)$x
}

# as_data_matrix() as list(x, extent): with the extent_() of x that its
# check read (NULL for new data, allow_na), so that a fit on x as it is
# need not read it again; the check runs on `threads` (NULL: the default).
data_matrix <- function(x, arg, rows = NULL, rows_arg = "X", allow_na = FALSE,
                        threads = NULL) {
  if (is.list(x) && is.data.frame(x)) {
    bad <- !vapply(x, function(col) (is.numeric(col) && !is.object(col)) || is.logical(col), logical(1))
    if (any(bad)) {
      check_variable_type(x[[which(bad)[1]]], paste0("`", arg, "` column `", names(x)[which(bad)[1]], "`"))
      abort("`", arg, "` must have numeric columns only; column `",
            names(x)[which(bad)[1]], "` is ",
            describe(x[[which(bad)[1]]]), ".")
    }
    x <- as.matrix(x)
  }
  # (A factor is neither numeric nor logical.)
  if (!(is.numeric(x) || is.logical(x)) || is.object(x) && !is.matrix(x)) {
    abort("`", arg, "` must be a numeric matrix, data frame or vector, not ",
          describe(x), ".")
  }
  if (!is.null(dim(x)) && length(dim(x)) != 2) {
    abort("`", arg, "` must be a matrix (two dimensions), not an array with ",
          length(dim(x)), " dimensions.")
  }
  if (!is.matrix(x)) x <- matrix(x, ncol = 1L, dimnames = list(names(x), NULL))
  shape <- dim(x)
  if (shape[1L] == 0L || shape[2L] == 0L) {
    abort("`", arg, "` must have at least one row and one column, not ",
          nrow(x), " x ", ncol(x), ".")
  }
  if (!is.double(x)) storage.mode(x) <- "double"
  # One pass, without a copy of x (extent_() in the Rust crate: the largest
  # finite magnitude, any NA or NaN, any infinite value). New data
  # (allow_na) may hold NA rows, which predict NA; forge() refuses infinite
  # inputs.
  extent <- if (!allow_na) extent_of(x, threads)
  if (!is.null(extent) && any(extent[2:3] > 0)) {
    what <- if (extent[2L] > 0) "NA or NaN" else "Inf"
    bad <- which(colSums(if (extent[2L] > 0) is.na(x) else is.infinite(x)) > 0)[1]
    where <- if (shape[2L] == 1L) "" else {
      name <- dimnames(x)[[2L]][bad]
      paste0(" (column ", if (!is.null(name) && nzchar(name)) paste0("`", name, "`") else bad, ")")
    }
    abort("`", arg, "` must contain finite numbers only; it contains ", what, where, ".")
  }
  if (!is.null(rows) && shape[1L] != rows) {
    abort("`", arg, "` must have as many rows as `", rows_arg, "` (", rows,
          "), not ", nrow(x), ".")
  }
  list(x = x, extent = extent)
}

# extent_() of a double vector, on `threads` (by default the fits' default
# threads) when it is large enough to gain from them.
extent_of <- function(x, threads = NULL) {
  if (length(x) < 1048576) return(extent_(x, 1L))
  extent_(x, resolve_threads(threads))
}

check_count <- function(x, arg, min = 0) {
  if (!is.numeric(x) || length(x) != 1L || is.na(x) || !is.finite(x) ||
      x != round(x) || x < min) {
    abort("`", arg, "` must be a whole number >= ", min, ", not ", show_value(x), ".")
  }
  as.numeric(x)
}

check_number <- function(x, arg, lower = -Inf, upper = Inf, open = TRUE) {
  ok <- is.numeric(x) && length(x) == 1L && !is.na(x) && is.finite(x) &&
    (if (open) x > lower && x < upper else x >= lower && x <= upper)
  if (!ok) {
    range <- if (is.finite(lower) && is.finite(upper)) {
      paste0(" in ", if (open) "(" else "[", lower, ", ", upper, if (open) ")" else "]")
    } else if (is.finite(lower)) {
      paste0(if (open) " > " else " >= ", lower)
    } else ""
    abort("`", arg, "` must be a finite number", range, ", not ", show_value(x), ".")
  }
  as.numeric(x)
}

check_choice <- function(x, choices, arg) {
  # any(==) rather than %in%: a single string, and match() costs microseconds.
  if (!is.character(x) || length(x) != 1L || is.na(x) || !any(x == choices)) {
    abort("`", arg, "` must be one of ", paste0('"', choices, '"', collapse = ", "),
          "; not ", show_value(x), ".")
  }
  x
}

# A value as it would be typed, shortened for messages.
show_value <- function(x) {
  if (is.null(x)) return("NULL")
  if (is.function(x)) return("a function")
  if (is.list(x) || is.factor(x) || length(x) != 1L) return(describe(x))
  if (is.character(x)) return(paste0('"', x, '"'))
  format(x)
}

# Units per hidden layer; 0 (or an empty vector) is a network without a
# hidden layer, a linear or logistic model.
check_hidden <- function(hidden) {
  if (is.numeric(hidden) && (length(hidden) == 0L || identical(as.numeric(hidden), 0))) {
    return(numeric(0))
  }
  if (!is.numeric(hidden) || anyNA(hidden) ||
      any(!is.finite(hidden)) || any(hidden != round(hidden)) || any(hidden < 1)) {
    abort("`hidden` must be a positive whole number (or a vector of them, one per ",
          "hidden layer; 0 for none), not ", show_value(hidden), ".")
  }
  as.numeric(hidden)
}

# Refuse, before anything is allocated, a network whose buffers cannot fit in
# memory: parameters (and optimizer state) plus activations and deltas.
check_size <- function(n, sizes, bias_rows, batch) {
  fan_in <- sizes[-length(sizes)]
  fan_out <- sizes[-1]
  params <- sum(fan_in * fan_out + bias_rows * fan_out)
  units <- sum(fan_out)
  bytes <- 8 * (4 * params + 2 * min(batch, n) * units + n * sizes[length(sizes)])
  if (is.finite(bytes) && bytes < 2^30) return(invisible(bytes))  # no need to ask the system
  limit <- memory_limit()
  if (!is.finite(bytes) || bytes > limit) {
    abort("`hidden` is too large: the network would need about ",
          format_bytes(bytes), " of memory, more than the ",
          format_bytes(limit), " available.")
  }
  invisible(bytes)
}

memory_limit <- function() {
  limit <- getOption("backprop.memory_limit")
  if (is.numeric(limit) && length(limit) == 1L && is.finite(limit)) return(limit)
  info <- tryCatch(readLines("/proc/meminfo", n = 5L, warn = FALSE),
                   error = function(e) character())
  avail <- grep("^MemAvailable:", info, value = TRUE)
  if (length(avail) == 1L) {
    return(as.numeric(gsub("[^0-9]", "", avail)) * 1024)
  }
  2^40
}

format_bytes <- function(b) {
  units <- c("B", "KB", "MB", "GB", "TB", "PB", "EB")
  i <- max(1, min(length(units), floor(log(max(b, 1), 1024)) + 1))
  paste(format(signif(b / 1024^(i - 1), 3)), units[i])
}

# Levenberg-Marquardt's memory, refused before it is allocated. The core
# (second_order.rs) solves the smaller system: with fewer residuals m
# (rows x outputs) than parameters p, the whole m x p Jacobian and three
# m x m matrices; else 256-row chunks of the Jacobian and two p x p
# matrices; both with a 64-column panel for the Cholesky factorization.
check_lm_size <- function(n, sizes) {
  fan_in <- sizes[-length(sizes)]
  fan_out <- sizes[-1]
  p <- sum((fan_in + 1) * fan_out)
  o <- sizes[length(sizes)]
  m <- as.numeric(n) * o
  bytes <- if (m < p) 8 * (m * (p + 65) + 3 * m^2) else
    8 * (min(n, 256) * o * (p + 1) + 2 * p^2 + 64 * p)
  limit <- min(memory_limit() / 2, getOption("backprop.lm_max_bytes", 4 * 1024^3))
  if (bytes > limit) {
    abort("`optimizer = \"lm\"` would need ", format_bytes(bytes), " for its Jacobian (",
          n, " rows x ", p, " parameters), more than ", format_bytes(limit),
          "; use \"lbfgs\" or \"adam\" for a network or data set this large.")
  }
  invisible(bytes)
}

# The mean of `v` with a row of weight k counted k times (`w` NULL: each
# once): summary()'s statistics and the explanations' averages.
weighted_mean <- function(v, w) if (is.null(w)) mean(v) else stats::weighted.mean(v, w)
