# The browser that drives mlp_explore()'s page in the tests: headless
# Chromium (Debian's `chromium`, or the one BACKPROP_BROWSER names). Every
# file it writes (profile, cache, screenshots) goes to tempdir().

explore_browser <- function() {
  given <- Sys.getenv("BACKPROP_BROWSER")
  if (nzchar(given)) return(given)
  for (name in c("chromium", "chromium-browser", "google-chrome")) {
    path <- Sys.which(name)
    if (nzchar(path)) return(unname(path))
  }
  ""
}

# Skips (on CRAN, or when the browser or pandoc is missing); in CI, whose
# set-up installs both, a missing one is a failure.
need_browser <- function() {
  skip_on_cran()
  missing <- c(if (!nzchar(explore_browser())) "a headless browser (chromium, or BACKPROP_BROWSER)",
               if (!nzchar(Sys.which("pandoc"))) "pandoc (htmlwidgets::saveWidget(selfcontained = TRUE))")
  if (length(missing)) {
    msg <- paste0("the tests of mlp_explore()'s page need ", paste(missing, collapse = " and "))
    if (identical(Sys.getenv("CI"), "true")) stop(msg, call. = FALSE)
    skip(msg)
  }
}

# The page saved as one self-contained file in tempdir().
explore_save <- function(page) {
  file <- tempfile("mlp-explore-", fileext = ".html")
  htmlwidgets::saveWidget(page, file, selfcontained = TRUE)
  file
}

# Runs the browser on `file` with the page's test hook (#bpx=<JSON>, see
# mlp_explore.js), with a profile, cache and configuration in tempdir().
explore_chromium <- function(file, spec, args) {
  home <- tempfile("chromium-")
  dir.create(home)
  on.exit(unlink(home, recursive = TRUE))
  url <- paste0("file://", normalizePath(file, winslash = "/"), "#bpx=",
                utils::URLencode(as.character(jsonlite::toJSON(spec, auto_unbox = TRUE, digits = NA)),
                                 reserved = TRUE))
  flags <- c("--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
             "--no-default-browser-check", "--disable-extensions", "--disable-breakpad",
             paste0("--user-data-dir=", home), args, shQuote(url))
  env <- paste0(c("HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"), "=", home)
  out <- suppressWarnings(system2(explore_browser(), flags, stdout = TRUE, stderr = FALSE, env = env,
                                  timeout = 300))
  out
}

# The page's own report after the hook ran: its numbers, and its errors.
explore_dump <- function(file, spec = list()) {
  dom <- paste(explore_chromium(file, spec, c("--virtual-time-budget=30000", "--dump-dom")),
               collapse = "\n")
  pre <- function(cls) {
    m <- regmatches(dom, regexpr(paste0("<pre class=\"", cls, " bpx-hidden\"[^>]*>[^<]*</pre>"), dom))
    if (!length(m)) return(NULL)
    text <- sub("^<pre[^>]*>", "", sub("</pre>$", "", m))
    text <- gsub("&quot;", "\"", gsub("&gt;", ">", gsub("&lt;", "<", text, fixed = TRUE), fixed = TRUE),
                 fixed = TRUE)
    jsonlite::fromJSON(gsub("&amp;", "&", text, fixed = TRUE), simplifyVector = FALSE)
  }
  list(test = pre("bpx-test"), errors = pre("bpx-errors"), dom = dom)
}

explore_screenshot <- function(file, png, spec = list(), size = "1400,1000") {
  explore_chromium(file, spec, c("--virtual-time-budget=30000", "--hide-scrollbars",
                                 paste0("--window-size=", size), paste0("--screenshot=", png)))
  png
}

# X and Y after a run's edits (list(list("X", i, j, value), ...), cells
# counted from 0, as the page's hook takes them).
explore_edited <- function(X, Y, edit) {
  data <- list(X = X, Y = Y)
  for (e in edit) data[[e[[1]]]][e[[2]] + 1, e[[3]] + 1] <- e[[4]]
  data
}

# A matrix the page wrote row by row (a list of rows, in JSON).
explore_rows <- function(rows) {
  do.call(rbind, lapply(rows, function(r) as.numeric(unlist(r))))
}

# mlp_trace() at epoch k of set.seed(seed); mlp_train(X, Y, ...): the
# iteration from the weights after k epochs, and the page's names for its
# matrices ("wout+" is the updated wout).
explore_reference <- function(X, Y, seed, k, ...) {
  set.seed(seed)
  if (k == 0) {
    tr <- mlp_trace(X, Y, ...)
  } else {
    fit <- suppressWarnings(mlp_train(X, Y, epochs = k, ...))
    args <- list(...)
    args$hidden <- NULL
    tr <- do.call(mlp_trace, c(list(X, Y, init = list(wh = fit$wh, bh = fit$bh, wout = fit$wout,
                                                       bout = fit$bout)), args))
  }
  out <- tr[c("X", "Y", "hidden_layer_input", "hiddenlayer_activations", "output_layer_input", "output",
              "E", "slope_output_layer", "slope_hidden_layer", "d_output", "Error_at_hidden_layer",
              "d_hiddenlayer")]
  out[c("wh", "bh", "wout", "bout")] <- tr$start[c("wh", "bh", "wout", "bout")]
  out[c("wh+", "bh+", "wout+", "bout+")] <- tr[c("wh", "bh", "wout", "bout")]
  out
}

# The largest absolute difference between the matrices a run of the page
# showed (at each epoch and step) and mlp_trace()'s at that epoch: a data
# frame of epoch, step, matrices compared and the difference.
explore_compare <- function(run, X, Y, seed, ...) {
  rows <- list()
  for (epoch in names(run$epochs)) {
    ref <- explore_reference(X, Y, seed, as.numeric(epoch), ...)
    steps <- run$epochs[[epoch]]$steps
    for (step in names(steps)) {
      shown <- steps[[step]]
      shown$formula <- NULL
      diff <- vapply(names(shown), function(key) {
        want <- unname(ref[[key]])
        got <- explore_rows(shown[[key]])
        if (!identical(dim(got), dim(want))) return(Inf)
        max(abs(got - want))
      }, numeric(1))
      rows[[length(rows) + 1L]] <- data.frame(epoch = as.numeric(epoch), step = as.numeric(step),
                                              matrices = length(diff), diff = max(diff))
    }
  }
  do.call(rbind, rows)
}
