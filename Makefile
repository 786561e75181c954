# Set-up, build and checks for backprop. `make demo` and `make test` work on a
# fresh Debian/Ubuntu machine with Rust: they install whatever is missing.

SHELL := /bin/bash
R_PACKAGES := r-base-dev r-cran-testthat r-cran-devtools r-cran-roxygen2 \
  r-cran-cli r-cran-bench r-cran-nnet r-cran-knitr r-cran-rmarkdown \
  r-cran-callr r-cran-hardhat r-cran-withr r-cran-recipes r-cran-generics r-cran-tibble \
  r-cran-htmlwidgets pandoc qpdf xz-utils
R_NEEDED := testthat roxygen2 cli bench nnet knitr rmarkdown callr hardhat withr devtools recipes \
  generics tibble htmlwidgets
# The ecosystem the tests plug into: Debian's builds where Debian has them,
# the rest (parsnip, tune, workflows, yardstick, dials and the newer
# versions of their dependencies) from CRAN by tools/cran-install.R.
ECOSYSTEM_PACKAGES := r-cran-caret r-cran-broom r-cran-rsample r-cran-modeldata r-cran-dplyr \
  r-cran-purrr r-cran-tidyr r-cran-ggplot2 r-cran-furrr r-cran-lhs
# The benchmarks' peers: scikit-learn, NumPy on OpenBLAS, and PyTorch.
BENCH_PACKAGES := python3-sklearn python3-numpy libopenblas0-pthread python3-torch
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export PATH := $(PATH):$(HOME)/.cargo/bin
export NOT_CRAN := true

.PHONY: all deps ecosystem browser install demo test test-r test-rust document check bench clean vendor valgrind

all: install

# Installs R and the Debian r-cran-* packages when any is missing.
deps:
	@command -v cargo >/dev/null || { echo "cargo not found: install Rust (https://rustup.rs) first"; exit 1; }
	@if command -v Rscript >/dev/null && command -v xz >/dev/null && command -v qpdf >/dev/null && Rscript -e 'q(status = any(!vapply(strsplit("$(R_NEEDED)", " ")[[1]], requireNamespace, TRUE, quietly = TRUE)))' >/dev/null 2>&1 \
	   && command -v pandoc >/dev/null; then \
	  echo "R and the needed R packages are installed"; \
	else \
	  echo "installing R and R packages from Debian"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(R_PACKAGES) >/dev/null && \
	  echo "installed: $$(R --version | head -n 1)"; \
	fi

# Installs the package with its vignettes built, so that vignette(package =
# "backprop") lists them: installed once, the vignettes knitted with that
# installation into inst/doc, then installed again from the same tree,
# where cargo finds nothing to rebuild (R CMD build would compile the
# crate twice, in two temporary copies). inst/doc is removed afterwards.
# (`R CMD INSTALL .` alone is quicker, vignettes left out.)
install: deps
	R CMD INSTALL --no-test-load .
	Rscript -e 'tools::buildVignettes(dir = ".", tangle = TRUE)' && mkdir -p inst/doc && \
	  mv vignettes/*.html vignettes/*.R inst/doc/ && cp vignettes/*.Rmd inst/doc/ && \
	  R CMD INSTALL --no-test-load .; status=$$?; rm -rf inst/doc vignettes/*.html vignettes/*.R vignettes/.build.timestamp; exit $$status

demo: install
	Rscript -e 'demo("article", package = "backprop", ask = FALSE)'

test: ecosystem browser install test-rust test-r

# Headless Chromium, which the tests of mlp_explore()'s page drive (and a
# Chinese font for the page's screenshots).
browser:
	@if command -v chromium >/dev/null || [ -n "$$BACKPROP_BROWSER" ]; then \
	  echo "a browser for the page's tests is installed"; \
	else \
	  echo "installing chromium for the tests of mlp_explore()'s page"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium fonts-wqy-microhei >/dev/null; \
	fi

# parsnip, tune, workflows, caret, broom and their kin, for the tests of the
# tidymodels engine, the caret model and the broom verbs.
ecosystem: deps
	@if Rscript -e 'q(status = any(!vapply(c("parsnip", "tune", "workflows", "yardstick", "dials", "rsample", "caret", "broom", "modeldata", "probably", "DALEX", "ggplot2"), requireNamespace, TRUE, quietly = TRUE)))' >/dev/null 2>&1; then \
	  echo "the tidymodels, caret and broom packages are installed"; \
	else \
	  echo "installing the tidymodels, caret and broom packages"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(ECOSYSTEM_PACKAGES) >/dev/null && \
	  $(SUDO) Rscript tools/cran-install.R; \
	fi

# cargo's own tests, offline from the same vendored crates as the R build.
test-rust: deps
	tar -xf src/rust/vendor.tar.xz -C src/rust && mkdir -p src/.cargo && \
	  printf '[source.crates-io]\nreplace-with = "vendored-sources"\n\n[source.vendored-sources]\ndirectory = "%s"\n' \
	    "$(CURDIR)/src/rust/vendor" > src/.cargo/config.toml && \
	  cd src/rust && CARGO_HOME=$(CURDIR)/src/.cargo cargo test --release --offline --locked --jobs 2; \
	  status=$$?; rm -rf $(CURDIR)/src/.cargo $(CURDIR)/src/rust/vendor; exit $$status

# Refreshes the vendored crates and inst/AUTHORS after a dependency change.
vendor:
	bash tools/vendor.sh

test-r: install
	Rscript tests/run-tests.R

# Regenerates man/ and NAMESPACE from the roxygen comments.
document: install
	Rscript -e 'roxygen2::roxygenise()'

# R CMD build, then R CMD check --as-cran without the checks that need the
# network (CRAN's incoming checks) or LaTeX (the PDF manual).
check: ecosystem
	rm -rf check && mkdir check && cd check && env -u NOT_CRAN R CMD build .. && \
	  env -u NOT_CRAN TZ=$${TZ:-UTC} _R_CHECK_CRAN_INCOMING_REMOTE_=false _R_CHECK_CRAN_INCOMING_=false _R_CHECK_SYSTEM_CLOCK_=0 \
	  R CMD check --as-cran --no-manual backprop_*.tar.gz

# The test suite under valgrind; the summary lines go to the terminal, the
# whole report to valgrind.log.
valgrind: install
	R -d "valgrind --track-origins=no" --vanilla -f tests/run-tests.R > valgrind.log 2>&1; \
	  grep -E "ERROR SUMMARY|Invalid (read|write)|definitely lost|testthat:" valgrind.log; \
	  echo "full report: valgrind.log"

bench: install
	@/usr/bin/python3 -c 'import sklearn, numpy, torch' 2>/dev/null || { \
	  echo "installing the benchmarks' Python peers from Debian"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(BENCH_PACKAGES) >/dev/null; }
	Rscript bench/run.R

clean:
	rm -rf check src/rust/target src/*.o src/*.so
