# Invariants checked on fits generated systematically (issue 23): every
# interface, optimizer and outcome kind, with and without validation,
# weights, NA rows and a second hidden layer. The generators are in
# helper-invariants.R; each failure names its generated case.

# ---------------------------------------------------------------------------
# The table of groups: optimizer x outcome; validation, weights, depth and NA
# rows rotate so that each optimizer meets each of their values. Every group
# is fitted through every interface with the same data, settings and seed.

inv_groups <- function() {
  g <- expand.grid(optimizer = inv_optimizers, outcome = inv_outcomes, stringsAsFactors = FALSE)
  k <- seq_len(nrow(g)) - 1L
  g$validation <- c("none", "frac", "list")[k %% 3L + 1L]
  g$weights <- k %% 2L == 1L
  g$layers <- (k %/% 2L) %% 2L + 1L
  g$na <- (k %/% 3L) %% 2L == 1L
  # Minibatch optimizers: their default batch (32 rows, here every training
  # row: one full batch) or batches of 8 rows, by outcome.
  g$batch <- ifelse(g$optimizer %in% c("sgd", "adam", "adamw", "rmsprop"),
                    c("default", "8")[(k %/% 7L) %% 2L + 1L], "all")
  g$seed <- 1000L + k
  g
}

inv_cache <- new.env(parent = emptyenv())

# Every fit of the table, made once for the tests below: a list of entries
# list(label, interface, group, gd, fit (or NULL), error (or NULL)).
inv_table <- function() {
  if (!is.null(inv_cache$table)) return(inv_cache$table)
  groups <- inv_groups()
  out <- list()
  for (i in seq_len(nrow(groups))) {
    grp <- as.list(groups[i, ])
    gd <- inv_group_data(grp$outcome, seed = grp$seed, na = grp$na,
                         validation = grp$validation, weights = grp$weights)
    hidden <- if (grp$layers == 1L) 3 else c(3, 2)
    for (interface in inv_interfaces) {
      if (!inv_supports(interface, grp$outcome)) next
      pkg <- inv_package_of(interface)
      if (!is.null(pkg) && !inv_has(pkg)) next
      label <- paste(interface, inv_label(grp))
      res <- tryCatch(
        suppressWarnings(inv_fit(interface, gd, grp$optimizer, hidden, grp$seed,
                                 batch_default = grp$batch == "default")),
        error = function(e) e)
      entry <- list(label = label, interface = interface, group = grp, gd = gd, key = i)
      if (inherits(res, "error")) entry$error <- conditionMessage(res) else entry$fit <- res
      out[[length(out) + 1L]] <- entry
    }
  }
  inv_cache$table <- out
  out
}

inv_ok <- function(table) Filter(function(e) is.null(e$error), table)

test_that("every generated case fits through every interface that takes it", {
  for (pkg in c("recipes", "parsnip", "caret", "hardhat")) {
    if (identical(Sys.getenv("CI"), "true")) need_packages(pkg)
  }
  table <- inv_table()
  expect_gt(length(table), 250)
  for (e in table) {
    expect(is.null(e$error), paste0(e$label, ": the fit failed: ", e$error))
  }
})

# ---------------------------------------------------------------------------
# Invariant 1: fitted() is predict() on the training data as it was given.

test_that("invariant 1: fitted() equals predict() on the training data, rows, names and NA padding", {
  for (e in inv_ok(inv_table())) {
    f <- e$fit
    m <- f$model
    lab <- e$label
    type <- if (inv_is_classifier(m)) "prob" else "response"
    fv <- inv_try(fitted(m), lab, "fitted()")
    pv <- inv_try(predict(m, f$train, type = type), lab, "predict(fit, training data)")
    if (is.null(fv) || is.null(pv)) next
    # Every row of the data: held-out validation rows included, NA rows padded.
    expect_equal(nrow(fv), NROW(f$train), label = paste(lab, "nrow(fitted())"))
    y_na <- if (e$interface %in% c("backprop_formula", "mlp_formula")) e$gd$y_na_row else integer(0)
    if (length(y_na)) {
      # A row whose response is NA is excluded (fitted() pads it) though its
      # predictors can be predicted.
      expect_true(all(is.na(fv[y_na, ])), label = paste(lab, "fitted() is NA on the row whose response is NA"))
      expect_false(anyNA(pv[y_na, ]), label = paste(lab, "predict() is not NA on the row whose predictors are complete"))
      fv <- fv[-y_na, , drop = FALSE]
      pv <- pv[-y_na, , drop = FALSE]
    }
    expect_equal(fv, pv, tolerance = 1e-8, label = paste(lab, "fitted()"),
                 expected.label = "predict(fit, training data)")
    p0 <- inv_try(predict(m, type = type), lab, "predict(fit) without newdata")
    if (!is.null(p0)) {
      expect_equal(p0, fitted(m), tolerance = 1e-12,
                   label = paste(lab, "predict(fit) without newdata"), expected.label = "fitted()")
    }
    # The interface's own predict() (parsnip's, caret's) agrees too.
    if (e$interface %in% c("parsnip_fit", "parsnip_fit_xy", "caret")) {
      own <- inv_try(inv_predict(e$interface, f$object, f$train, inv_is_classifier(m)), lab,
                     "the interface's predict() on the training data")
      if (!is.null(own)) {
        expect_equal(own, unname(fitted(m)), tolerance = 1e-8,
                     label = paste(lab, "the interface's predict() on the training data"),
                     expected.label = "fitted()")
      }
    }
  }
})

test_that("invariant 1: a bias = \"row\" fit predicts its training rows as fitted() and refuses new rows", {
  for (outcome in c("regression", "logical", "binary")) for (form in c("formula", "matrix")) {
    for (weights in c(FALSE, TRUE)) {
      gd <- inv_group_data(outcome, seed = 7, weights = weights)
      lab <- paste0("[bias=row mlp_train ", form, " outcome=", outcome, " weights=", weights, "]")
      args <- c(list(hidden = 3, epochs = 30, lr = 0.05, bias = "row", optimizer = "gd",
                     threads = 1, verbose = FALSE), inv_head("mlp_train", outcome, "gd"))
      if (weights) args$weights <- gd$w
      set.seed(7)
      fit <- tryCatch(suppressWarnings(
        if (form == "formula") do.call(mlp_train, c(list(inv_formula(outcome), data = gd$data), args))
        else do.call(mlp_train, c(list(X = gd$x_mat, Y = gd$y), args))),
        error = function(err) err)
      if (inherits(fit, "error")) {
        fail(paste0(lab, ": the fit failed: ", conditionMessage(fit)))
        next
      }
      type <- if (inv_is_classifier(fit)) "prob" else "response"
      fv <- inv_try(fitted(fit), lab, "fitted()")
      p0 <- inv_try(predict(fit, type = type), lab, "predict(fit)")
      if (!is.null(fv) && !is.null(p0)) {
        expect_equal(p0, fv, tolerance = 1e-12, label = paste(lab, "predict(fit)"), expected.label = "fitted()")
        expect_equal(nrow(fv), gd$n, label = paste(lab, "nrow(fitted())"))
      }
      train <- if (form == "formula") gd$data else gd$x_mat
      # Its own training rows, in their order, are its fitted values; any
      # other rows are refused.
      p1 <- inv_try(predict(fit, train, type = type), lab, "predict(fit, training rows)")
      if (!is.null(p1) && !is.null(fv)) {
        expect_equal(unname(p1), unname(fv), tolerance = 1e-12, label = paste(lab, "predict(fit, training rows)"))
      }
      shuffled <- train[c(2, 1, seq_len(gd$n)[-(1:2)]), , drop = FALSE]
      expect_error(predict(fit, shuffled), "bias = \"row\"", class = "backprop_error",
                   label = paste(lab, "predict(fit, other rows)"))
      inv_check_methods(list(model = fit, train = train, new = NULL, call_ok = TRUE,
                             object = fit), lab, seed = 7)
    }
  }
})

# ---------------------------------------------------------------------------
# Invariant 2: the interfaces agree.

inv_by_group <- function(table) split(table, vapply(table, function(e) e$key, integer(1)))

inv_new_of <- function(e) if (inv_form_of(e$interface) == "matrix") e$gd$new_mat else e$gd$new_df

# Predictions of a fit on new rows (class probabilities for classifiers).
inv_pred_new <- function(e, newdata = inv_new_of(e)) {
  m <- e$fit$model
  unname(predict(m, newdata, type = if (inv_is_classifier(m)) "prob" else "response"))
}

inv_complete_fitted <- function(m) {
  fv <- unname(fitted(m))
  fv[!is.na(rowSums(fv)), , drop = FALSE]
}

test_that("invariant 2: formula, x/y matrix, x/y data frame, recipe and parsnip give the same predictions", {
  families <- list(backprop = c("backprop_formula", "backprop_matrix", "backprop_df", "backprop_recipe",
                                "parsnip_fit", "parsnip_fit_xy"),
                   mlp_train = c("mlp_formula", "mlp_matrix", "mlp_df"))
  compared <- 0
  for (grp in inv_by_group(inv_table())) {
    ifaces <- vapply(grp, function(e) e$interface, "")
    for (family in families) {
      ref <- grp[[match(family[1], ifaces)]]
      if (is.null(ref) || !is.null(ref$error)) next
      ref_pred <- inv_try(inv_pred_new(ref), ref$label, "predict() on new rows")
      ref_fitted <- inv_try(inv_complete_fitted(ref$fit$model), ref$label, "fitted()")
      if (is.null(ref_pred) || is.null(ref_fitted)) next
      for (iface in family[-1]) {
        at <- match(iface, ifaces)
        if (is.na(at) || !is.null(grp[[at]]$error)) next
        e <- grp[[at]]
        compared <- compared + 1
        p <- inv_try(inv_pred_new(e), e$label, "predict() on new rows")
        if (!is.null(p)) {
          expect_equal(p, ref_pred, tolerance = 1e-8, label = paste(e$label, "predictions on new rows"),
                       expected.label = paste(family[1], "predictions"))
        }
        fv <- inv_try(inv_complete_fitted(e$fit$model), e$label, "fitted()")
        if (!is.null(fv)) {
          expect_equal(fv, ref_fitted, tolerance = 1e-8, label = paste(e$label, "fitted values"),
                       expected.label = paste(family[1], "fitted values"))
        }
        if (iface %in% c("parsnip_fit", "parsnip_fit_xy")) {
          own <- inv_try(inv_predict(iface, e$fit$object, e$gd$new_df, inv_is_classifier(e$fit$model)),
                         e$label, "parsnip's predict() on new rows")
          if (!is.null(own)) {
            expect_equal(own, ref_pred, tolerance = 1e-8, label = paste(e$label, "parsnip's predict()"),
                         expected.label = paste(family[1], "predictions"))
          }
        }
      }
    }
  }
  expect_gt(compared, 100)
})

# New rows with a defect, each as a data frame and (where a matrix can hold
# it) as a matrix; NULL where it does not apply.
inv_defects <- list(
  na_numeric = list(df = function(d) { d$x1[2] <- NA; d }, mat = function(m) { m[2, "x1"] <- NA; m }),
  nan_numeric = list(df = function(d) { d$x2[1] <- NaN; d }, mat = function(m) { m[1, "x2"] <- NaN; m }),
  inf = list(df = function(d) { d$x2[3] <- Inf; d }, mat = function(m) { m[3, "x2"] <- Inf; m }),
  minus_inf = list(df = function(d) { d$x1[1] <- -Inf; d }, mat = function(m) { m[1, "x1"] <- -Inf; m }),
  unseen_level = list(df = function(d) {
    d$g <- factor(as.character(d$g), levels = c(levels(d$g), "zzz"))
    d$g[1] <- "zzz"
    d
  }, mat = NULL),
  na_factor = list(df = function(d) { d$g[4] <- NA; d }, mat = NULL),
  missing_column = list(df = function(d) d[setdiff(names(d), "x2")],
                        mat = function(m) m[, colnames(m) != "x2", drop = FALSE])
)

test_that("invariant 2: new rows with NA, Inf, an unseen level or a missing column give the same outcome through every interface", {
  families <- list(backprop = c("backprop_formula", "backprop_matrix", "backprop_df", "backprop_recipe",
                                "parsnip_fit", "parsnip_fit_xy"),
                   mlp_train = c("mlp_formula", "mlp_matrix", "mlp_df"))
  for (grp in inv_by_group(inv_table())) {
    ifaces <- vapply(grp, function(e) e$interface, "")
    for (family in families) for (defect in names(inv_defects)) {
      outcomes <- list()
      for (iface in family) {
        at <- match(iface, ifaces)
        if (is.na(at) || !is.null(grp[[at]]$error)) next
        e <- grp[[at]]
        matrix_form <- inv_form_of(iface) == "matrix"
        make <- inv_defects[[defect]][[if (matrix_form) "mat" else "df"]]
        if (is.null(make)) next
        new <- make(if (matrix_form) e$gd$new_mat else e$gd$new_df)
        cls <- inv_is_classifier(e$fit$model)
        outcomes[[e$label]] <- inv_outcome(predict(e$fit$model, new, type = if (cls) "prob" else "response"))
        if (iface %in% c("parsnip_fit", "parsnip_fit_xy")) {
          outcomes[[paste(e$label, "through parsnip's predict()")]] <-
            inv_outcome(inv_predict(iface, e$fit$object, new, cls))
        }
      }
      if (length(outcomes) < 2L) next
      ref <- outcomes[[1L]]
      for (lab in names(outcomes)[-1L]) {
        o <- outcomes[[lab]]
        same <- identical(o$kind, ref$kind) &&
          (o$kind == "error" || isTRUE(all.equal(o$value, ref$value, tolerance = 1e-8)))
        expect(same, paste0(lab, " with new rows [", defect, "]: ", inv_describe(o), "\n  but ",
                            names(outcomes)[1L], ": ", inv_describe(ref)))
      }
    }
  }
})

# ---------------------------------------------------------------------------
# Invariant 3: predictions do not change with the columns' order, the order
# of a factor's levels, the columns' names or the units of numeric inputs.

test_that("invariant 3: reordering the columns of new data or the levels of a factor changes no prediction", {
  for (e in inv_ok(inv_table())) {
    m <- e$fit$model
    cls <- inv_is_classifier(m)
    new <- inv_new_of(e)
    variants <- list("the columns reversed" = if (is.data.frame(new)) new[rev(names(new))] else
                       new[, rev(colnames(new)), drop = FALSE])
    if (is.data.frame(new) && "g" %in% names(new)) {
      relevelled <- new
      relevelled$g <- factor(as.character(new$g), levels = rev(levels(new$g)))
      variants[["the factor's levels reversed"]] <- relevelled
    }
    base <- inv_try(inv_pred_new(e), e$label, "predict() on new rows")
    own_interface <- e$interface %in% c("parsnip_fit", "parsnip_fit_xy", "caret")
    base_own <- if (own_interface) {
      inv_try(inv_predict(e$interface, e$fit$object, new, cls), e$label, "the interface's predict() on new rows")
    }
    for (v in names(variants)) {
      p <- inv_try(inv_pred_new(e, variants[[v]]), e$label, paste("predict() with", v))
      if (!is.null(p) && !is.null(base)) {
        expect_equal(p, base, tolerance = 1e-12, label = paste(e$label, "predict() with", v))
      }
      if (own_interface) {
        own <- inv_try(inv_predict(e$interface, e$fit$object, variants[[v]], cls), e$label,
                       paste("the interface's predict() with", v))
        if (!is.null(own) && !is.null(base_own)) {
          expect_equal(own, base_own, tolerance = 1e-12,
                       label = paste(e$label, "the interface's predict() with", v))
        }
      }
    }
  }
})

# A group's data with its predictors renamed (in the data, the matrix, the
# new rows and the validation rows alike).
inv_rename <- function(gd, map) {
  ren <- function(nm) ifelse(nm %in% names(map), map[nm], nm)
  ren_mat <- function(nm) {
    for (old in names(map)) nm <- sub(paste0("^", old), map[[old]], nm)
    nm
  }
  for (f in c("data", "data_cc", "x_df", "val_df", "new_df")) names(gd[[f]]) <- ren(names(gd[[f]]))
  for (f in c("x_mat", "val_mat", "new_mat")) colnames(gd[[f]]) <- ren_mat(colnames(gd[[f]]))
  gd
}

test_that("invariant 3: renaming the columns at fit and predict time changes no prediction", {
  maps <- list(syntactic = c(x1 = "zeta", x2 = "alpha", flag = "Mflag", g = "aa_group"),
               non_syntactic = c(x1 = "my x", x2 = "2nd", flag = "is flag?", g = "the group"))
  for (outcome in c("regression", "multiclass")) for (optimizer in c("lbfgs", "adam")) {
    for (interface in c("backprop_formula", "backprop_matrix", "backprop_df", "backprop_recipe",
                        "parsnip_fit", "parsnip_fit_xy", "mlp_formula", "mlp_df")) {
      pkg <- inv_package_of(interface)
      if (!is.null(pkg) && !inv_has(pkg)) next
      gd <- inv_group_data(outcome, seed = 31, validation = "frac")
      base_lab <- paste0("[", interface, " outcome=", outcome, " optimizer=", optimizer, " original names]")
      base_pred <- inv_fit_predict(interface, gd, optimizer, 31, base_lab, "the fit")
      if (is.null(base_pred)) next
      for (map_name in names(maps)) {
        # Non-syntactic names are for backprop's own interfaces.
        if (map_name == "non_syntactic" && interface %in% c("backprop_recipe", "parsnip_fit", "parsnip_fit_xy")) next
        lab <- paste0("[", interface, " outcome=", outcome, " optimizer=", optimizer, " names=", map_name, "]")
        p <- inv_fit_predict(interface, inv_rename(gd, maps[[map_name]]), optimizer, 31, lab,
                             "the fit with renamed columns")
        if (is.null(p)) next
        expect_equal(p, base_pred, tolerance = 1e-10, label = paste(lab, "predictions after renaming"))
      }
    }
  }
})

# A group's data with its numeric inputs (x1, x2) transformed.
inv_transform <- function(gd, f) {
  for (fld in c("data", "data_cc", "x_df", "val_df", "new_df")) {
    for (v in c("x1", "x2")) gd[[fld]][[v]] <- f(gd[[fld]][[v]])
  }
  for (fld in c("x_mat", "val_mat", "new_mat")) {
    for (v in c("x1", "x2")) gd[[fld]][, v] <- f(gd[[fld]][, v])
  }
  gd
}

test_that("invariant 3: with scale = TRUE, the units of numeric inputs change no prediction", {
  transforms <- list("x * 1e-3" = function(x) x * 1e-3, "x * 1e3" = function(x) x * 1e3,
                     "x * 2^40" = function(x) x * 2^40, "x + 1e4" = function(x) x + 1e4)
  for (outcome in c("regression", "multiclass")) for (optimizer in c("lbfgs", "adam", "gd")) {
    for (interface in c("backprop_formula", "backprop_matrix", "backprop_df", "backprop_recipe", "mlp_formula")) {
      pkg <- inv_package_of(interface)
      if (!is.null(pkg) && !inv_has(pkg)) next
      gd <- inv_group_data(outcome, seed = 41, weights = optimizer == "gd")
      base_lab <- paste0("[", interface, " outcome=", outcome, " optimizer=", optimizer,
                         " weights=", optimizer == "gd", " original units]")
      base_pred <- inv_fit_predict(interface, gd, optimizer, 41, base_lab, "the fit")
      if (is.null(base_pred)) next
      for (tr in names(transforms)) {
        lab <- paste0("[", interface, " outcome=", outcome, " optimizer=", optimizer,
                      " weights=", optimizer == "gd", " inputs ", tr, "]")
        p <- inv_fit_predict(interface, inv_transform(gd, transforms[[tr]]), optimizer, 41, lab, "the fit")
        if (is.null(p)) next
        expect_equal(p, base_pred, tolerance = 1e-6, label = paste(lab, "predictions"),
                     expected.label = "predictions in the original units")
      }
    }
  }
})

# A group's data with x2 constant (3) on every training and validation row,
# and `new` in the rows to predict.
inv_constant_x2 <- function(gd, new) {
  for (fld in c("data", "data_cc", "x_df", "val_df")) {
    if (!is.null(gd[[fld]])) gd[[fld]]$x2 <- 3
  }
  for (fld in c("x_mat", "val_mat")) {
    if (!is.null(gd[[fld]])) gd[[fld]][, "x2"] <- 3
  }
  gd$new_df$x2 <- rep_len(new, nrow(gd$new_df))
  gd$new_mat[, "x2"] <- rep_len(new, nrow(gd$new_mat))
  gd
}

test_that("invariant 3: with scale = TRUE, an input constant in training moves no prediction", {
  for (outcome in c("regression", "multiclass")) for (optimizer in c("lbfgs", "adam", "gd")) {
    for (interface in c("backprop_formula", "backprop_matrix", "backprop_df", "backprop_recipe", "mlp_formula")) {
      pkg <- inv_package_of(interface)
      if (!is.null(pkg) && !inv_has(pkg)) next
      gd <- inv_group_data(outcome, seed = 43, weights = optimizer == "gd")
      lab <- paste0("[", interface, " outcome=", outcome, " optimizer=", optimizer, " x2 constant]")
      at_constant <- inv_fit_predict(interface, inv_constant_x2(gd, 3), optimizer, 43, lab, "the fit")
      if (is.null(at_constant)) next
      # (predict() warns of the other values, as lm() of a rank-deficient fit.)
      expect_warning(
        elsewhere <- inv_fit_predict(interface, inv_constant_x2(gd, c(-40, 0, 3.5, 1e4)), optimizer, 43,
                                     lab, "the fit"),
        "4 rows to predict give another value to an input that was constant on the rows the network was trained on: `x2` (3)",
        fixed = TRUE)
      expect_equal(elsewhere, at_constant, tolerance = 1e-12, label = paste(lab, "predictions"),
                   expected.label = "predictions at the training constant")
    }
  }
})

# ---------------------------------------------------------------------------
# Invariant 4: observation weights are frequency weights, for the
# deterministic full-batch optimizers.

inv_weight_fit <- function(interface, optimizer, loss, data, ...) {
  args <- list(hidden = 3, optimizer = optimizer, loss = loss, threads = 1, verbose = FALSE,
               epochs = switch(optimizer, gd = 30, lbfgs = 20, lm = 10))
  if (optimizer == "gd") args$lr <- 0.01
  if (interface == "mlp_formula") args <- c(args, list(output = "linear", scale = TRUE))
  # backprop()'s selection draws its folds over rows, where a repeated row
  # is two rows: the invariant is the fit's, for given settings (the
  # selection's weighted scores are checked in test-select.R).
  if (interface != "mlp_formula") args$select <- FALSE
  set.seed(5)
  suppressWarnings(switch(interface,
    backprop_formula = do.call(backprop, c(list(y ~ ., data = data), args, list(...))),
    mlp_formula = do.call(mlp_train, c(list(y ~ ., data = data), args, list(...))),
    backprop_matrix = {
      dots <- list(...)
      do.call(backprop, c(list(x = inv_matrix(data[setdiff(names(data), "y")]), y = data$y), args, dots))
    }))
}

test_that("invariant 4: a weight of k is the row k times, 0 is no row, subset and na.omit are subsetting first", {
  all <- inv_data(30, seed = 51)
  d <- inv_frame(all$x[1:22, ], all$responses[1:22, ], "regression")
  new <- all$x[23:30, ]
  new_mat <- inv_matrix(new)
  cases <- expand.grid(interface = c("backprop_formula", "mlp_formula", "backprop_matrix"),
                       optimizer = c("gd", "lbfgs", "lm"), loss = c("mse", "sse"), stringsAsFactors = FALSE)
  for (i in seq_len(nrow(cases))) {
    cs <- cases[i, ]
    lab <- paste0("[", cs$interface, " optimizer=", cs$optimizer, " loss=", cs$loss, "]")
    fitw <- function(data, ...) inv_weight_fit(cs$interface, cs$optimizer, cs$loss, data, ...)
    pred <- function(fit) {
      unname(predict(fit, if (cs$interface == "backprop_matrix") new_mat else new))
    }
    compare <- function(what, a, b) {
      if (inherits(a, "error") || inherits(b, "error")) {
        fail(paste0(lab, " ", what, ": a fit failed: ",
                    conditionMessage(if (inherits(a, "error")) a else b)))
        return(invisible())
      }
      pa <- inv_try(pred(a), lab, paste(what, "predict() of the first fit"))
      pb <- inv_try(pred(b), lab, paste(what, "predict() of the second fit"))
      if (!is.null(pa) && !is.null(pb)) expect_equal(pa, pb, tolerance = 1e-6, label = paste(lab, what))
      # The reported loss (a mean, or for sse a sum) counts the rows as the
      # weights count them, whichever optimizer sums or averages.
      expect_equal(glance(a)$loss, glance(b)$loss, tolerance = 1e-6,
                   label = paste(lab, what, "reported loss"))
    }
    try_fit <- function(...) tryCatch(fitw(...), error = function(err) err)
    # A weight of 3 on row 4 and 2 on row 9: those rows repeated.
    w <- rep(1, nrow(d))
    w[4] <- 3
    w[9] <- 2
    compare("weights 3 and 2 vs rows repeated",
            try_fit(d, weights = w), try_fit(d[c(seq_len(nrow(d)), 4, 4, 9), ]))
    # Weight 0 on rows 3 and 11: those rows removed.
    w0 <- rep(1, nrow(d))
    w0[c(3, 11)] <- 0
    compare("weights 0 vs rows removed", try_fit(d, weights = w0), try_fit(d[-c(3, 11), ]))
    if (cs$interface != "backprop_matrix") {
      keep <- d$x1 > -0.5
      a <- tryCatch(fitw(d, subset = keep), error = function(err) err)
      b <- tryCatch(fitw(d[keep, ]), error = function(err) err)
      compare("subset vs subsetting first", a, b)
      if (!inherits(a, "error") && !inherits(b, "error")) {
        expect_equal(fitted(a), fitted(b), tolerance = 1e-6, label = paste(lab, "fitted() with subset"),
                     expected.label = "fitted() of the subset")
      }
      dn <- d
      dn$x1[c(2, 6)] <- NA
      dn$g[8] <- NA
      dn$y[12] <- NA
      a <- tryCatch(fitw(dn, na.action = stats::na.omit), error = function(err) err)
      b <- tryCatch(fitw(dn[stats::complete.cases(dn), ]), error = function(err) err)
      compare("na.omit vs dropping NA rows first", a, b)
      if (!inherits(a, "error") && !inherits(b, "error")) {
        expect_equal(fitted(a), fitted(b), tolerance = 1e-6, label = paste(lab, "fitted() with na.omit"),
                     expected.label = "fitted() of the complete rows")
      }
    }
  }
})

test_that("invariant 4: scale = TRUE standardizes with the weighted mean and sd (frequency weights)", {
  all <- inv_data(22, seed = 52)
  d <- inv_frame(all$x, all$responses, "regression")
  w <- rep_len(c(1, 2, 3, 0), nrow(d))
  rep_rows <- rep(seq_len(nrow(d)), w)
  x_rep <- inv_matrix(d[rep_rows, c("x1", "x2", "flag", "g")])
  set.seed(1)
  fit <- inv_try(backprop(y ~ ., d, weights = w, hidden = 2, epochs = 1, threads = 1), "[weighted scaling]", "the fit")
  if (is.null(fit)) return()
  expect_equal(unname(fit$scaling$x$center), unname(colMeans(x_rep)), tolerance = 1e-12,
               label = "weighted fit's input centers", expected.label = "means of the repeated rows")
  # (The root mean square deviation: dividing by the rows, not one fewer.)
  pop_sd <- function(v) sqrt(mean((v - mean(v))^2))
  expect_equal(unname(fit$scaling$x$scale), unname(apply(x_rep, 2, pop_sd)), tolerance = 1e-12,
               label = "weighted fit's input scales", expected.label = "sds of the repeated rows")
  expect_equal(unname(fit$scaling$y$center), mean(d$y[rep_rows]), tolerance = 1e-12,
               label = "weighted fit's response center")
  expect_equal(unname(fit$scaling$y$scale), pop_sd(d$y[rep_rows]), tolerance = 1e-12,
               label = "weighted fit's response scale")
})

# ---------------------------------------------------------------------------
# Invariant 5: continuing a fit.

inv_cont_fit <- function(fun, form, gd, outcome, ..., init = NULL) {
  args <- c(list(threads = 1, verbose = FALSE), list(...))
  if (!is.null(init)) args$init <- init
  set.seed(61)
  f <- if (fun == "mlp_train") mlp_train else backprop
  suppressWarnings(if (form == "formula") {
    do.call(f, c(list(inv_formula(outcome), data = gd$data), args))
  } else if (fun == "mlp_train") {
    do.call(f, c(list(X = gd$x_mat, Y = gd$y), args))
  } else {
    do.call(f, c(list(x = gd$x_mat, y = gd$y), args))
  })
}

test_that("invariant 5: continuing for 0 epochs changes no prediction, architecture or activation", {
  # hidden "10" is backprop()'s own choice for small data, so that a change
  # of activation shows even where the sizes agree; scale = FALSE is a first
  # fit without standardized inputs.
  cases <- expand.grid(first = c("mlp_train", "backprop"), second = c("mlp_train", "backprop"),
                       form = c("formula", "matrix"), activation = c("sigmoid", "relu"),
                       hidden = c("3", "4,2", "10"), outcome = c("regression", "multiclass"),
                       scale = c(TRUE, FALSE), stringsAsFactors = FALSE)
  cases <- cases[cases$scale | cases$first == "mlp_train", ]
  for (i in seq_len(nrow(cases))) {
    cs <- cases[i, ]
    lab <- inv_label(as.list(cs))
    gd <- inv_group_data(cs$outcome, seed = 60 + i)
    hidden <- as.numeric(strsplit(cs$hidden, ",")[[1]])
    first_args <- c(list(hidden = hidden, activation = cs$activation, optimizer = "adam",
                         epochs = 5, lr = 0.01, batch_size = 8),
                    inv_head(cs$first, cs$outcome, "adam"))
    first_args$scale <- cs$scale
    fit <- tryCatch(do.call(inv_cont_fit, c(list(cs$first, cs$form, gd, cs$outcome), first_args)),
                    error = function(err) err)
    if (inherits(fit, "error")) {
      fail(paste0(lab, ": the first fit failed: ", conditionMessage(fit)))
      next
    }
    more <- tryCatch(inv_cont_fit(cs$second, cs$form, gd, cs$outcome, epochs = 0, init = fit),
                     error = function(err) err)
    if (inherits(more, "error")) {
      fail(paste0(lab, ": continuing for 0 epochs failed: ", conditionMessage(more)))
      next
    }
    expect_equal(more$sizes, fit$sizes, label = paste(lab, "sizes after continuing"))
    expect_equal(more$activation, fit$activation, label = paste(lab, "activation after continuing"))
    expect_equal(more$output_activation, fit$output_activation, label = paste(lab, "output after continuing"))
    type <- if (inv_is_classifier(fit)) "prob" else "response"
    new <- if (cs$form == "formula") gd$new_df else gd$new_mat
    p1 <- inv_try(predict(fit, new, type = type), lab, "predict() of the first fit")
    p2 <- inv_try(predict(more, new, type = type), lab, "predict() of the continued fit")
    if (!is.null(p1) && !is.null(p2)) {
      expect_equal(p2, p1, tolerance = 1e-10, label = paste(lab, "predictions after continuing for 0 epochs"))
    }
    f1 <- inv_try(fitted(fit), lab, "fitted() of the first fit")
    f2 <- inv_try(fitted(more), lab, "fitted() of the continued fit")
    if (!is.null(f1) && !is.null(f2)) {
      expect_equal(f2, f1, tolerance = 1e-10, label = paste(lab, "fitted() after continuing for 0 epochs"))
    }
  }
})

test_that("invariant 5: a fit continued on columns, classes or outputs in another order predicts as before", {
  cases <- expand.grid(fun = c("mlp_train", "backprop"), form = c("formula", "matrix"),
                       outcome = c("regression", "binary", "multiclass", "multi"),
                       stringsAsFactors = FALSE)
  for (i in seq_len(nrow(cases))) {
    cs <- cases[i, ]
    lab <- inv_label(as.list(cs))
    gd <- inv_group_data(cs$outcome, seed = 70 + i)
    args <- c(list(hidden = 3, optimizer = "adam", epochs = 5, lr = 0.01, batch_size = 8),
              inv_head(cs$fun, cs$outcome, "adam"))
    fit <- inv_try(do.call(inv_cont_fit, c(list(cs$fun, cs$form, gd, cs$outcome), args)), lab, "the first fit")
    if (is.null(fit)) next
    # The same data with its input columns reversed, its class levels
    # reversed, or its two responses swapped.
    moved <- gd
    set.seed(i)
    moved$x_mat <- gd$x_mat[, rev(seq_len(ncol(gd$x_mat)))]
    moved$data <- gd$data[, rev(names(gd$data))]
    if (inv_classifier(cs$outcome)) {
      moved$y <- factor(gd$y, levels = rev(levels(gd$y)))
      moved$data$y <- factor(gd$data$y, levels = rev(levels(gd$data$y)))
    } else if (cs$outcome == "multi") {
      moved$y <- gd$y[, 2:1]
    }
    more <- tryCatch(inv_cont_fit(cs$fun, cs$form, moved, cs$outcome, epochs = 0, init = fit),
                     error = function(err) err)
    if (inherits(more, "error")) {
      fail(paste0(lab, ": continuing on reordered data failed: ", conditionMessage(more)))
      next
    }
    new <- if (cs$form == "formula") gd$new_df else gd$new_mat
    if (inv_classifier(cs$outcome)) {
      p1 <- predict(fit, new, type = "prob")
      p2 <- predict(more, new, type = "prob")
      expect_equal(p2[, colnames(p1), drop = FALSE], p1, tolerance = 1e-10,
                   label = paste(lab, "class probabilities after continuing on reversed levels"))
      expect_equal(as.character(predict(more, new, type = "class")),
                   as.character(predict(fit, new, type = "class")), label = paste(lab, "classes"))
    } else {
      p1 <- predict(fit, new)
      p2 <- predict(more, new)
      if (cs$outcome == "multi" && cs$form == "matrix") p2 <- p2[, colnames(p1), drop = FALSE]
      expect_equal(p2, p1, tolerance = 1e-10, label = paste(lab, "predictions after continuing on reordered data"))
    }
  }
  # Inputs or classes that are not the fit's are refused, by name.
  gd <- inv_group_data("binary", seed = 79)
  fit <- mlp_train(gd$x_mat, gd$y, hidden = 2, epochs = 2, threads = 1, verbose = FALSE)
  renamed <- gd$x_mat
  colnames(renamed)[1] <- "z"
  expect_snapshot(mlp_train(renamed, gd$y, init = fit, epochs = 0), error = TRUE)
  other <- factor(ifelse(gd$y == "yes", "up", "no"))
  expect_snapshot(mlp_train(gd$x_mat, other, init = fit, epochs = 0), error = TRUE)
  # Outputs renamed, an ensemble, a scale other than the fit's, and a
  # row-bias fit on other rows are refused too.
  gd <- inv_group_data("multi", seed = 80)
  fit <- mlp_train(gd$x_mat, gd$y, hidden = 2, output = "linear", loss = "mse",
                   optimizer = "lbfgs", epochs = 2, scale = TRUE, threads = 1)
  renamed <- gd$y
  colnames(renamed) <- c("a", "z")
  expect_snapshot(mlp_train(gd$x_mat, renamed, init = fit, epochs = 0), error = TRUE)
  expect_snapshot(mlp_train(gd$x_mat, gd$y, init = fit, epochs = 0, scale = FALSE), error = TRUE)
  ensemble <- mlp_train(gd$x_mat, gd$y, hidden = 2, output = "linear", loss = "mse",
                        optimizer = "lbfgs", epochs = 2, scale = TRUE, ensemble = 2, threads = 1)
  expect_snapshot(mlp_train(gd$x_mat, gd$y, init = ensemble, epochs = 0), error = TRUE)
  x <- article_X
  rownames(x) <- c("r1", "r2", "r3")
  row_fit <- mlp_train(x, article_Y, bias = "row", epochs = 10)
  expect_snapshot(mlp_train(x[3:1, ], article_Y[3:1, , drop = FALSE], init = row_fit, epochs = 1),
                  error = TRUE)
  expect_equal(mlp_train(x, article_Y, init = row_fit, epochs = 0)$output, fitted(row_fit),
               ignore_attr = TRUE)
})

test_that("invariant 5: full-batch gd for k + m epochs in two calls is k + m epochs in one", {
  cases <- expand.grid(fun = c("mlp_train", "backprop"), form = c("formula", "matrix"), layers = 1:2,
                       outcome = c("regression", "binary"), stringsAsFactors = FALSE)
  for (i in seq_len(nrow(cases))) {
    cs <- cases[i, ]
    lab <- inv_label(as.list(cs))
    gd <- inv_group_data(cs$outcome, seed = 70 + i)
    # (The decay given: backprop() would select one per call otherwise.)
    args <- c(list(hidden = if (cs$layers == 1) 3 else c(4, 2), optimizer = "gd", lr = 0.02,
                   activation = "tanh", weight_decay = 0.01), inv_head(cs$fun, cs$outcome, "gd"))
    run <- function(epochs, init = NULL) {
      tryCatch(do.call(inv_cont_fit, c(list(cs$fun, cs$form, gd, cs$outcome, epochs = epochs, init = init), args)),
               error = function(err) err)
    }
    one <- run(20)
    first <- run(12)
    if (inherits(one, "error") || inherits(first, "error")) {
      fail(paste0(lab, ": a fit failed: ", conditionMessage(if (inherits(one, "error")) one else first)))
      next
    }
    two <- run(8, init = first)
    if (inherits(two, "error")) {
      fail(paste0(lab, ": continuing for 8 epochs failed: ", conditionMessage(two)))
      next
    }
    expect_equal(two$weights, one$weights, tolerance = 1e-10, label = paste(lab, "weights after 12 + 8 epochs"),
                 expected.label = "weights after 20 epochs")
    expect_equal(two$biases, one$biases, tolerance = 1e-10, label = paste(lab, "biases after 12 + 8 epochs"),
                 expected.label = "biases after 20 epochs")
    new <- if (cs$form == "formula") gd$new_df else gd$new_mat
    p1 <- inv_try(predict(one, new), lab, "predict() after 20 epochs")
    p2 <- inv_try(predict(two, new), lab, "predict() after 12 + 8 epochs")
    if (!is.null(p1) && !is.null(p2)) {
      expect_equal(p2, p1, tolerance = 1e-10, label = paste(lab, "predictions after 12 + 8 epochs"))
    }
  }
})

test_that("invariant 5: a fit continued with only `epochs` keeps its training settings", {
  # Full-batch gd keeps no state between epochs: given nothing but `init`
  # and `epochs`, 12 + 8 epochs are 20 only if the continued fit trains
  # with the first one's learning rate, penalties, clipping and class
  # weights (it went on with the defaults, undoing class weights).
  cases <- expand.grid(fun = c("mlp_train", "backprop"), form = c("formula", "matrix"),
                       outcome = c("regression", "binary"), stringsAsFactors = FALSE)
  for (i in seq_len(nrow(cases))) {
    cs <- cases[i, ]
    lab <- inv_label(as.list(cs))
    gd <- inv_group_data(cs$outcome, seed = 90 + i)
    args <- c(list(hidden = 3, optimizer = "gd", lr = 0.02, activation = "tanh", weight_decay = 0.01,
                   l1 = 0.001, clip_norm = 0.5),
              if (cs$outcome == "binary") list(class_weights = c(no = 1, yes = 3)),
              inv_head(cs$fun, cs$outcome, "gd"))
    one <- do.call(inv_cont_fit, c(list(cs$fun, cs$form, gd, cs$outcome, epochs = 20), args))
    first <- do.call(inv_cont_fit, c(list(cs$fun, cs$form, gd, cs$outcome, epochs = 12), args))
    two <- inv_cont_fit(cs$fun, cs$form, gd, cs$outcome, epochs = 8, init = first)
    expect_equal(two$weights, one$weights, tolerance = 1e-10, label = paste(lab, "weights after 12 + 8 epochs"),
                 expected.label = "weights after 20 epochs")
    expect_equal(two$options[c("lr", "weight_decay", "l1", "clip_norm", "class_weights")],
                 one$options[c("lr", "weight_decay", "l1", "clip_norm", "class_weights")], label = lab)
  }
  # Another optimizer takes its own settings; the fit's penalties stay,
  # and one the new optimizer cannot take is refused, saying whose it is.
  set.seed(5)
  x <- matrix(rnorm(60), 30)
  y <- x[, 1] - x[, 2]
  sgd <- mlp_train(x, y, optimizer = "sgd", batch_size = 10, momentum = 0.5, lr = 0.05, l1 = 0.01,
                   output = "linear", loss = "mse", epochs = 3, threads = 1)
  same <- mlp_train(x, y, init = sgd, epochs = 2, threads = 1)
  expect_equal(same[c("optimizer", "lr", "batch_size")], sgd[c("optimizer", "lr", "batch_size")])
  expect_equal(same$options$momentum, 0.5)
  # A kept batch size fits fewer rows.
  expect_equal(mlp_train(x[1:6, ], y[1:6], init = sgd, epochs = 1, threads = 1)$batch_size, 6)
  adam <- mlp_train(x, y, init = sgd, optimizer = "adam", epochs = 2, threads = 1)
  expect_equal(adam$lr, backprop:::vocabulary$default_lr[["adam"]])
  expect_equal(adam$options$l1, 0.01)
  expect_snapshot(mlp_train(x, y, init = sgd, optimizer = "lm", epochs = 2), error = TRUE)
})

# ---------------------------------------------------------------------------
# Invariant 6: the methods work on every generated fit.

test_that("invariant 6: summary, print, plot, tidy, glance, augment, coef, nobs, update and saveRDS work on every fit", {
  for (e in inv_ok(inv_table())) {
    inv_check_methods(e$fit, e$label, seed = e$group$seed)
  }
})

# ---------------------------------------------------------------------------
# A network without a hidden layer.

test_that("a network without a hidden layer is accepted by every interface, or refused by every one with backprop's error", {
  gd <- inv_group_data("regression", seed = 81)
  for (h in list(0, integer(0))) {
    attempts <- list(
      mlp_matrix = function() mlp_train(gd$x_mat, gd$y, hidden = h, output = "linear", loss = "mse",
                                        optimizer = "lbfgs", epochs = 5, threads = 1),
      mlp_formula = function() mlp_train(y ~ ., gd$data, hidden = h, output = "linear", loss = "mse",
                                         optimizer = "lbfgs", epochs = 5, threads = 1),
      backprop_formula = function() backprop(y ~ ., gd$data, hidden = h, epochs = 5, threads = 1),
      backprop_matrix = function() backprop(gd$x_mat, gd$y, hidden = h, epochs = 5, threads = 1),
      backprop_df = function() backprop(gd$x_df, gd$y, hidden = h, epochs = 5, threads = 1))
    results <- lapply(attempts, function(f) tryCatch(suppressWarnings(f()), error = function(err) err))
    accepted <- vapply(results, inherits, TRUE, "mlp_fit")
    lab <- paste0("hidden = ", deparse(h))
    expect(all(accepted) || !any(accepted),
           paste0(lab, ": accepted by ", paste(names(results)[accepted], collapse = ", "),
                  " but refused by ", paste(names(results)[!accepted], collapse = ", ")))
    for (nm in names(results)[!accepted]) {
      expect(inherits(results[[nm]], "backprop_error") && grepl("`hidden`", conditionMessage(results[[nm]])),
             paste0(lab, " through ", nm, ": not backprop's error naming `hidden`: ",
                    conditionMessage(results[[nm]])))
    }
    for (nm in names(results)[accepted]) {
      fit <- results[[nm]]
      expect_equal(fit$sizes, c(ncol(gd$x_mat), 1), label = paste(lab, nm, "sizes"))
      train <- if (nm %in% c("mlp_formula", "backprop_formula")) gd$data else if (nm == "backprop_df") gd$x_df else gd$x_mat
      fv <- inv_try(fitted(fit), paste(lab, nm), "fitted()")
      pv <- inv_try(predict(fit, train), paste(lab, nm), "predict()")
      if (!is.null(fv) && !is.null(pv)) {
        expect_equal(fv, pv, tolerance = 1e-8, label = paste(lab, nm, "fitted()"))
      }
    }
  }
})

# ---------------------------------------------------------------------------
# Invariant 7: no call leaves threads behind beyond one team per thread count.

test_that("invariant 7: fits and predictions leave at most one team of threads", {
  skip_if_not(file.exists("/proc/self/task"), "counts threads through Linux's /proc")
  need_packages("callr")
  counts <- callr::r(function() {
    library(backprop)
    tasks <- function() length(list.files("/proc/self/task"))
    set.seed(1)
    n <- 600
    x <- matrix(rnorm(n * 4), n)
    y <- x[, 1] - x[, 2]^2 + rnorm(n, sd = 0.1)
    cls <- factor(ifelse(y > 0, "yes", "no"))
    d <- data.frame(x, y = y)
    start <- tasks()
    per_call <- list()
    run <- function(label, threads, expr) {
      before <- tasks()
      force(expr)
      per_call[[length(per_call) + 1L]] <<- c(before = before, after = tasks(), threads = threads)
    }
    for (round in 1:2) for (threads in c(1, 2)) {
      for (opt in c("gd", "sgd", "adam", "lbfgs", "lm")) {
        fit <- NULL
        run(opt, threads, fit <- suppressWarnings(mlp_train(
          x, y, hidden = c(8, 4), optimizer = opt, epochs = 3, threads = threads, output = "linear",
          loss = "mse", scale = TRUE, lr = if (opt %in% c("gd", "lm", "lbfgs")) NULL else 0.01,
          batch_size = if (opt %in% c("sgd", "adam")) 300, validation = if (opt == "adam") 0.2)))
        run("predict", threads, predict(fit, x, threads = threads))
      }
      run("backprop", threads, backprop(y ~ ., d, threads = threads, epochs = 3))
      run("backprop class", threads, backprop(x, cls, threads = threads, epochs = 3, optimizer = "adam"))
    }
    list(start = start, end = tasks(), per_call = do.call(rbind, per_call))
  })
  # threads = 2 makes one helper thread, kept for the next fit.
  expect_lte(counts$end, counts$start + 1L, label = "threads after the batch in a fresh R")
  pc <- counts$per_call
  grew <- pc[, "after"] - pc[, "before"]
  for (i in which(grew > pmax(pc[, "threads"] - 1, 0))) {
    fail(paste0("call ", i, " with threads = ", pc[i, "threads"], " left ", grew[i], " more threads"))
  }
  # The second round makes no thread at all.
  second <- seq_len(nrow(pc)) > nrow(pc) / 2
  expect_equal(sum(grew[second]), 0, label = "threads made by the second round of the same calls")
  # And in this session, whatever ran before.
  before <- length(list.files("/proc/self/task"))
  gd <- inv_group_data("multiclass", seed = 91)
  for (threads in c(1, 2, 1, 2)) {
    lab <- paste0("[threads=", threads, "]")
    fit <- inv_try(backprop(gd$x_mat, gd$y, hidden = 3, epochs = 5, threads = threads), lab, "backprop()")
    if (!is.null(fit)) inv_try(predict(fit, gd$new_mat, threads = threads), lab, "predict()")
    fit <- inv_try(mlp_train(y ~ ., gd$data, hidden = 3, epochs = 5, optimizer = "adam", threads = threads),
                   lab, "mlp_train()")
    if (!is.null(fit)) inv_try(predict(fit, gd$new_df, threads = threads), lab, "predict()")
  }
  expect_lte(length(list.files("/proc/self/task")), before + 1L,
             label = "threads of this session after fits and predictions with threads 1 and 2")
})
