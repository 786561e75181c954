# Installs from CRAN what Debian's r-cran-* packages lack for the ecosystem
# tests (tidymodels' parsnip, tune, workflows, yardstick, dials), together with
# every dependency that is missing or older than the versions CRAN's current
# releases require. CRAN's archive is not reachable from the build machine, so
# versions cannot be pinned by number; instead `available.packages()` keeps
# only releases whose `Depends: R` admits this R, and the script stops when a
# package it needs has no such release.
#
# Usage: Rscript tools/cran-install.R [package ...]

wanted <- commandArgs(trailingOnly = TRUE)
if (length(wanted) == 0L) {
  wanted <- c("parsnip", "tune", "workflows", "yardstick", "dials", "rsample",
              "recipes", "hardhat", "generics", "broom", "caret", "modeldata",
              "probably", "DALEX")
}
repos <- getOption("repos")
if (is.null(repos) || identical(unname(repos["CRAN"]), "@CRAN@")) {
  repos <- c(CRAN = "https://cloud.r-project.org")
}
options(repos = repos)
lib <- .libPaths()[1L]

db <- available.packages()
unavailable <- setdiff(wanted, rownames(db))
if (length(unavailable)) {
  stop("CRAN has no release of ", paste(unavailable, collapse = ", "),
       " for R ", getRversion(), call. = FALSE)
}
fields <- c("Depends", "Imports", "LinkingTo")
closure <- unique(c(wanted, unlist(tools::package_dependencies(
  wanted, db = db, recursive = TRUE, which = fields))))
closure <- setdiff(closure, c("R", rownames(installed.packages(priority = "base"))))

installed_version <- function(pkg) tryCatch(utils::packageVersion(pkg), error = function(e) NULL)

# The smallest version of each package that the closure's CRAN releases ask for.
minimum <- list()
for (pkg in intersect(closure, rownames(db))) {
  for (field in fields) {
    text <- db[pkg, field]
    if (is.na(text)) next
    for (item in trimws(strsplit(gsub("\\s+", " ", text), ",")[[1L]])) {
      m <- regmatches(item, regexec("^([A-Za-z0-9.]+) ?\\(>= ?([^)]+)\\)$", item))[[1L]]
      if (length(m) == 3L && m[2L] != "R") {
        v <- package_version(m[3L])
        if (is.null(minimum[[m[2L]]]) || v > minimum[[m[2L]]]) minimum[[m[2L]]] <- v
      }
    }
  }
}

stale <- vapply(closure, function(pkg) {
  have <- installed_version(pkg)
  is.null(have) || (!is.null(minimum[[pkg]]) && have < minimum[[pkg]])
}, logical(1))
todo <- closure[stale]
if (length(todo) == 0L) {
  message("CRAN packages: all present")
} else {
  missing_on_cran <- setdiff(todo, rownames(db))
  if (length(missing_on_cran)) {
    stop("needed but not on CRAN for R ", getRversion(), ": ",
         paste(missing_on_cran, collapse = ", "), call. = FALSE)
  }
  message("installing from CRAN into ", lib, ": ", paste(todo, collapse = " "))
  install.packages(todo, lib = lib, Ncpus = 2L, quiet = TRUE,
                   dependencies = FALSE)
}

bad <- Filter(function(pkg) {
  !requireNamespace(pkg, quietly = TRUE, lib.loc = .libPaths())
}, wanted)
if (length(bad)) stop("failed to install: ", paste(bad, collapse = ", "), call. = FALSE)
message("CRAN packages: ", paste0(wanted, " ", vapply(wanted, function(p)
  as.character(installed_version(p)), ""), collapse = ", "))
