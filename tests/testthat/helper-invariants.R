# Generators for test-invariants.R: small data sets, the settings of a
# generated case, and fits of one case through every interface.

# Tiny data: numeric x1, x2, a logical `flag` and a factor `g` (last, so that
# every interface orders the dummy columns the same way), and the responses
# of every outcome kind. Row names r1, r2, ... so that they can be checked.
inv_data <- function(n = 24, seed = 1, factor = TRUE, logical = TRUE) {
  set.seed(seed)
  d <- data.frame(x1 = runif(n, -1, 1), x2 = rnorm(n))
  if (logical) d$flag <- sample(rep_len(c(TRUE, FALSE), n))
  if (factor) d$g <- factor(sample(rep_len(c("a", "b", "c"), n)), levels = c("a", "b", "c"))
  eta <- sin(2 * d$x1) + 0.5 * d$x2 + rnorm(n, sd = 0.2)
  if (logical) eta <- eta + 0.4 * d$flag
  if (factor) eta <- eta + c(a = 0, b = 0.8, c = -0.6)[as.character(d$g)]
  eta <- unname(eta)
  cuts <- stats::quantile(eta, c(1, 2) / 3)
  responses <- data.frame(
    regression = 100 + 10 * eta,
    binary = factor(ifelse(eta > stats::median(eta), "yes", "no"), levels = c("no", "yes")),
    logical = eta > stats::median(eta),
    multiclass = factor(c("lo", "mid", "hi")[1 + (eta > cuts[1]) + (eta > cuts[2])],
                        levels = c("lo", "mid", "hi")),
    a = 100 + 10 * eta,
    b = cos(2 * d$x1) - d$x2
  )
  rownames(d) <- rownames(responses) <- paste0("r", seq_len(n))
  list(x = d, responses = responses)
}

inv_outcomes <- c("regression", "binary", "logical", "multiclass", "multi")
inv_optimizers <- c("gd", "sgd", "adam", "adamw", "rmsprop", "lm", "lbfgs")
inv_classifier <- function(outcome) outcome %in% c("binary", "logical", "multiclass")

# The response of an outcome kind: a vector, a factor, a logical vector or a
# two-column matrix.
inv_y <- function(responses, outcome) {
  if (outcome == "multi") return(as.matrix(responses[c("a", "b")]))
  responses[[outcome]]
}

# The data frame of the formula interface: the predictors and the response
# (named y, or a and b).
inv_frame <- function(x, responses, outcome) {
  if (outcome == "multi") return(cbind(x, responses[c("a", "b")]))
  cbind(x, y = responses[[outcome]])
}

inv_formula <- function(outcome) {
  f <- if (outcome == "multi") cbind(a, b) ~ . else y ~ .
  environment(f) <- globalenv()
  f
}

# The numeric design of predictors as the formula codes them (treatment
# contrasts, logical as flagTRUE); rows with NA stay.
inv_matrix <- function(x) {
  mf <- stats::model.frame(~ ., x, na.action = stats::na.pass)
  m <- stats::model.matrix(~ ., mf)
  m <- m[, colnames(m) != "(Intercept)", drop = FALSE]
  attr(m, "assign") <- NULL
  attr(m, "contrasts") <- NULL
  rownames(m) <- rownames(x)
  m
}

# Settings of the network every interface of a case is given, as
# mlp_train()/backprop() arguments (parsnip's and caret's are mapped).
inv_settings <- function(optimizer, hidden = 3) {
  s <- list(hidden = hidden, optimizer = optimizer, threads = 1, verbose = FALSE)
  switch(optimizer,
    gd = { s$epochs <- 25; s$lr <- 0.02 },
    sgd = { s$epochs <- 8; s$lr <- 0.05; s$batch_size <- 8 },
    adam = , adamw = , rmsprop = { s$epochs <- 8; s$lr <- 0.01; s$batch_size <- 8 },
    lm = { s$epochs <- 8 },
    lbfgs = { s$epochs <- 15 })
  s
}

# Output and loss, by function and outcome. lm minimises squared errors, so
# its classifiers get a sigmoid output and the sse loss.
inv_head <- function(fun, outcome, optimizer) {
  if (optimizer == "lm" && (inv_classifier(outcome))) {
    return(list(output = "sigmoid", loss = "sse"))
  }
  if (fun == "mlp_train") {
    if (outcome %in% c("regression", "multi")) return(list(output = "linear", loss = "mse", scale = TRUE))
    return(list(scale = TRUE))
  }
  list()
}

# The label of a case, for failure messages.
inv_label <- function(case) {
  parts <- vapply(names(case), function(nm) {
    v <- case[[nm]]
    paste0(nm, "=", if (is.numeric(v) && length(v) > 1) paste0("c(", paste(v, collapse = ","), ")") else paste(v))
  }, character(1))
  paste0("[", paste(parts, collapse = " "), "]")
}

# CI installs every package; elsewhere a missing one drops its interfaces.
inv_has <- function(pkg) {
  identical(Sys.getenv("CI"), "true") || requireNamespace(pkg, quietly = TRUE)
}

# Everything a group of fits shares: data (with NA rows for the formula
# interfaces when `na`), validation rows, weights and new rows.
inv_group_data <- function(outcome, seed, na = FALSE, validation = "none", weights = FALSE,
                           factor = TRUE, logical = TRUE, n = 24) {
  all <- inv_data(n + 8, seed = seed, factor = factor, logical = logical)
  train <- seq_len(n)
  val_rows <- n + 1:4
  new_rows <- n + 5:8
  x <- all$x[train, , drop = FALSE]
  r <- all$responses[train, , drop = FALSE]
  na_rows <- integer(0)
  y_na_row <- integer(0)
  full <- inv_frame(x, r, outcome)
  if (na) {
    # An NA in a numeric predictor, in the factor (or x2), and in the response.
    full$x1[2] <- NA
    if (factor) full$g[5] <- NA else full$x2[5] <- NA
    resp <- if (outcome == "multi") "a" else "y"
    full[[resp]][7] <- NA
    na_rows <- c(2L, 5L)
    y_na_row <- 7L
  }
  keep <- setdiff(seq_len(n), c(na_rows, y_na_row))
  x_cc <- x[keep, , drop = FALSE]
  r_cc <- r[keep, , drop = FALSE]
  w_full <- if (weights) rep_len(c(1, 2, 3, 0.5), n) else NULL
  list(
    outcome = outcome, n = n,
    data = full,                                   # formula: with NA rows
    data_cc = inv_frame(x_cc, r_cc, outcome),      # complete rows
    x_df = x_cc, x_mat = inv_matrix(x_cc), y = inv_y(r_cc, outcome),
    w = w_full, w_cc = if (weights) w_full[keep],
    na_rows = na_rows, y_na_row = y_na_row,
    validation = validation,
    val_df = all$x[val_rows, , drop = FALSE],
    val_mat = inv_matrix(all$x[val_rows, , drop = FALSE]),
    val_y = inv_y(all$responses[val_rows, , drop = FALSE], outcome),
    new_df = all$x[new_rows, , drop = FALSE],
    new_mat = inv_matrix(all$x[new_rows, , drop = FALSE])
  )
}

# The `validation` argument of an interface: a fraction, or new rows in the
# form of the interface's training x.
inv_validation <- function(gd, form) {
  switch(gd$validation,
    none = NULL,
    frac = 0.25,
    list = c(list(x = if (form == "matrix") gd$val_mat else gd$val_df, y = gd$val_y),
             # Weighted fits weigh their validation rows too.
             if (!is.null(gd$w)) list(weights = rep_len(c(2, 1, 0.5, 3), NROW(gd$val_y)))))
}

# Interfaces: what each fits and what it is given.
inv_interfaces <- c("backprop_formula", "backprop_matrix", "backprop_df", "backprop_recipe",
                    "parsnip_fit", "parsnip_fit_xy", "mlp_formula", "mlp_matrix", "mlp_df", "caret")
inv_fun_of <- function(interface) if (startsWith(interface, "mlp_")) "mlp_train" else "backprop"
inv_form_of <- function(interface) {
  switch(interface, backprop_formula = , mlp_formula = , backprop_recipe = , parsnip_fit = "frame",
         backprop_matrix = , mlp_matrix = "matrix", "df")
}
inv_package_of <- function(interface) {
  switch(interface, backprop_recipe = "recipes", parsnip_fit = , parsnip_fit_xy = "parsnip",
         caret = "caret", NULL)
}

# Which outcomes an interface takes: parsnip and caret want a factor for a
# classifier; caret one response.
inv_supports <- function(interface, outcome) {
  if (interface %in% c("parsnip_fit", "parsnip_fit_xy")) return(outcome != "logical")
  if (interface == "caret") return(outcome %in% c("regression", "binary", "multiclass"))
  TRUE
}

# One fit of a group through one interface. Returns list(object = what the
# interface returns, model = its mlp_fit, train = the training data in the
# form it was given, new = new rows in that form, call_ok = whether
# update() can re-evaluate its call).
inv_fit <- function(interface, gd, optimizer, hidden, seed, extra = list(), batch_default = FALSE) {
  fun <- inv_fun_of(interface)
  form <- inv_form_of(interface)
  outcome <- gd$outcome
  args <- c(inv_settings(optimizer, hidden), inv_head(fun, outcome, optimizer), extra)
  if (batch_default) args$batch_size <- NULL
  val <- inv_validation(gd, if (form == "matrix") "matrix" else "df")
  if (!is.null(val)) args$validation <- val
  formula_fit <- interface %in% c("backprop_formula", "mlp_formula")
  w <- if (formula_fit) gd$w else gd$w_cc
  # Made before set.seed(): a recipe's steps draw random ids from R's RNG.
  rec <- NULL
  if (interface == "backprop_recipe") {
    rec <- recipes::recipe(inv_formula_recipe(outcome), data = gd$data_cc)
    if (any(vapply(gd$x_df, is.factor, TRUE))) {
      rec <- recipes::step_dummy(rec, recipes::all_nominal_predictors())
    }
  }
  set.seed(seed)
  object <- switch(interface,
    backprop_formula = , mlp_formula = {
      a <- c(list(inv_formula(outcome), data = gd$data), args)
      if (!is.null(w)) a$weights <- w
      if (length(gd$na_rows)) a$na.action <- stats::na.exclude
      do.call(if (fun == "backprop") backprop else mlp_train, a)
    },
    backprop_matrix = , mlp_matrix = , backprop_df = , mlp_df = {
      x <- if (form == "matrix") gd$x_mat else gd$x_df
      a <- c(if (fun == "backprop") list(x = x, y = gd$y) else list(X = x, Y = gd$y), args)
      if (!is.null(w)) a$weights <- w
      do.call(if (fun == "backprop") backprop else mlp_train, a)
    },
    backprop_recipe = {
      a <- c(list(rec, data = gd$data_cc), args)
      if (!is.null(w)) a$weights <- w
      do.call(backprop, a)
    },
    parsnip_fit = , parsnip_fit_xy = {
      spec <- inv_parsnip_spec(outcome, args)
      cw <- if (!is.null(w)) hardhat::importance_weights(w)
      if (interface == "parsnip_fit") {
        parsnip::fit(spec, inv_formula(outcome), data = gd$data_cc, case_weights = cw)
      } else {
        parsnip::fit_xy(spec, x = gd$x_df, y = if (outcome == "multi") as.data.frame(gd$y) else gd$y,
                        case_weights = cw)
      }
    },
    caret = {
      a <- args[setdiff(names(args), c("hidden"))]
      classification <- inv_classifier(outcome)
      a <- c(list(x = gd$x_df, y = gd$y, method = backprop_caret(),
                  trControl = caret::trainControl(method = "none", classProbs = classification),
                  tuneGrid = data.frame(size = 3, decay = 0.01)), a)
      if (!is.null(w)) a$weights <- w
      do.call(caret::train, a)
    })
  model <- switch(interface, parsnip_fit = , parsnip_fit_xy = object$fit, caret = object$finalModel, object)
  train <- switch(form, frame = if (formula_fit) gd$data else gd$data_cc,
                  matrix = gd$x_mat, df = gd$x_df)
  list(object = object, model = model, train = train,
       new = if (form == "matrix") gd$new_mat else gd$new_df,
       call_ok = !(interface %in% c("parsnip_fit", "parsnip_fit_xy", "caret")))
}

inv_formula_recipe <- function(outcome) {
  f <- if (outcome == "multi") a + b ~ . else y ~ .
  environment(f) <- globalenv()
  f
}

# parsnip's mlp() with the case's settings: the main arguments mapped,
# the others as engine arguments.
inv_parsnip_spec <- function(outcome, args) {
  main <- list(hidden_units = args$hidden, epochs = args$epochs, learn_rate = args$lr)
  engine <- args[setdiff(names(args), c("hidden", "epochs", "lr"))]
  spec <- do.call(parsnip::mlp, main[!vapply(main, is.null, TRUE)])
  spec <- do.call(parsnip::set_engine, c(list(spec, "backprop"), engine))
  parsnip::set_mode(spec, if (inv_classifier(outcome)) "classification" else "regression")
}

# Predictions through an interface's own predict(): a plain numeric matrix
# (class probabilities for a classifier).
inv_predict <- function(interface, object, newdata, classifier) {
  if (interface %in% c("parsnip_fit", "parsnip_fit_xy")) {
    p <- predict(object, new_data = newdata, type = if (classifier) "prob" else "numeric")
    return(unname(as.matrix(as.data.frame(p))))
  }
  if (interface == "caret") {
    p <- if (classifier) as.matrix(predict(object, newdata = newdata, type = "prob")) else
      matrix(predict(object, newdata = newdata), ncol = 1)
    return(unname(p))
  }
  unname(predict(object, newdata, type = if (classifier) "prob" else "response"))
}

# The value of `expr`, or NULL after a failure that names the case (`lab`)
# and what failed: one case's error does not stop the others' checks.
inv_try <- function(expr, lab, what) {
  tryCatch(expr, error = function(err) {
    fail(paste0(lab, ": ", what, " failed: ", conditionMessage(err)))
    NULL
  })
}

# Whether a fit is a classifier (by its mlp_fit).
inv_is_classifier <- function(model) !is.null(model$levels)

# What an expression gives: "error" (with its message), or its value as an
# unnamed numeric matrix with every non-finite entry as NA and whether it
# warned.
inv_outcome <- function(expr) {
  warned <- FALSE
  value <- tryCatch(withCallingHandlers(expr, warning = function(w) {
    warned <<- TRUE
    invokeRestart("muffleWarning")
  }), error = function(e) e)
  if (inherits(value, "error")) return(list(kind = "error", message = conditionMessage(value)))
  m <- unname(as.matrix(as.data.frame(value)))
  storage.mode(m) <- "double"
  m[!is.finite(m)] <- NA
  list(kind = "value", value = m, warned = warned)
}

inv_describe <- function(o) {
  if (o$kind == "error") paste0("error: ", o$message) else
    paste0("values (NA at ", paste(which(is.na(o$value)), collapse = ","), "): ",
           paste(format(signif(o$value, 6)), collapse = " "))
}

# Invariant 6, the methods of a fit.

# Each method on one fit (list(model, train, new, call_ok)); `lab` names the
# case in failures.
inv_check_methods <- function(f, lab, seed) {
  m <- f$model
  try_it <- function(what, expr) {
    res <- tryCatch(expr, error = function(err) err)
    if (inherits(res, "error")) fail(paste0(lab, ": ", what, " failed: ", conditionMessage(res)))
    invisible(res)
  }
  try_it("summary() and printing it", utils::capture.output(print(summary(m))))
  try_it("print()", utils::capture.output(print(m)))
  grDevices::pdf(NULL)
  try_it("plot()", plot(m))
  try_it("plot(type = \"network\")", plot(m, type = "network"))
  grDevices::dev.off()
  td <- try_it("tidy()", tidy(m))
  cf <- try_it("coef()", coef(m))
  if (!inherits(td, "error") && !inherits(cf, "error")) {
    expect_equal(nrow(td), length(cf), label = paste(lab, "rows of tidy()"), expected.label = "length(coef())")
    expect_true(all(is.finite(cf)), label = paste(lab, "coef() finite"))
  }
  gl <- try_it("glance()", glance(m))
  if (!inherits(gl, "error")) expect_equal(nrow(gl), 1L, label = paste(lab, "rows of glance()"))
  au <- try_it("augment(fit, data = training data)", augment(m, data = f$train))
  if (!inherits(au, "error")) expect_equal(nrow(au), NROW(f$train), label = paste(lab, "rows of augment(fit, data)"))
  try_it("augment(fit) without data", augment(m))
  n <- try_it("nobs()", nobs(m))
  fv <- try_it("fitted()", fitted(m))
  if (!inherits(n, "error") && !inherits(fv, "error")) {
    expect_equal(n, sum(!is.na(rowSums(fv))), label = paste(lab, "nobs()"),
                 expected.label = "the rows of fitted() that are not NA")
  }
  newdata <- f$new
  pred <- function(fit) if (is.null(newdata)) predict(fit) else predict(fit, newdata)
  p0 <- try_it("predict()", pred(m))
  if (inherits(p0, "error")) return(invisible())
  if (isTRUE(f$call_ok)) {
    set.seed(seed)
    u <- try_it("update()", suppressWarnings(update(m)))
    if (!inherits(u, "error")) {
      pu <- try_it("predict() of update()", pred(u))
      if (!inherits(pu, "error")) {
        expect_equal(pu, p0, tolerance = 1e-10, label = paste(lab, "predictions of update() with the same seed"))
      }
    }
  }
  file <- tempfile(fileext = ".rds")
  on.exit(unlink(file))
  back <- try_it("saveRDS() and readRDS()", { saveRDS(m, file); readRDS(file) })
  if (!inherits(back, "error")) {
    p <- try_it("predict() after readRDS()", pred(back))
    if (!inherits(p, "error")) expect_identical(p, p0, label = paste(lab, "predict() after readRDS()"))
  }
}

# One case's predictions of its new rows (probabilities for a classifier),
# unnamed; NULL after a failure that inv_try() has reported under `lab`.
inv_fit_predict <- function(interface, gd, optimizer, seed, lab, what) {
  fit <- inv_try(suppressWarnings(inv_fit(interface, gd, optimizer, 3, seed = seed)), lab, what)
  if (is.null(fit)) return(NULL)
  type <- if (inv_is_classifier(fit$model)) "prob" else "response"
  inv_try(unname(predict(fit$model, fit$new, type = type)), lab, paste("predict() after", what))
}
