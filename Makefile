# Set-up, build and checks for backprop. `make demo` and `make test` work on a
# fresh Debian/Ubuntu machine with Rust: they install whatever is missing.

SHELL := /bin/bash
R_PACKAGES := r-base-dev r-cran-testthat r-cran-devtools r-cran-roxygen2 \
  r-cran-cli r-cran-bench r-cran-nnet r-cran-knitr r-cran-rmarkdown \
  r-cran-callr r-cran-hardhat r-cran-withr pandoc
R_NEEDED := testthat roxygen2 cli bench nnet knitr rmarkdown callr hardhat withr devtools
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
export PATH := $(PATH):$(HOME)/.cargo/bin
export NOT_CRAN := true

.PHONY: all deps install demo test test-r test-rust document check bench clean

all: install

# Installs R and the Debian r-cran-* packages when any is missing.
deps:
	@command -v cargo >/dev/null || { echo "cargo not found: install Rust (https://rustup.rs) first"; exit 1; }
	@if command -v Rscript >/dev/null && Rscript -e 'q(status = any(!vapply(strsplit("$(R_NEEDED)", " ")[[1]], requireNamespace, TRUE, quietly = TRUE)))' >/dev/null 2>&1 \
	   && command -v pandoc >/dev/null; then \
	  echo "R and the needed R packages are installed"; \
	else \
	  echo "installing R and R packages from Debian"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $(R_PACKAGES) >/dev/null && \
	  echo "installed: $$(R --version | head -n 1)"; \
	fi

install: deps
	R CMD INSTALL --no-test-load .

demo: install
	Rscript -e 'demo("article", package = "backprop", ask = FALSE)'

test: install test-rust test-r

test-rust: deps
	cd src/rust && cargo test --release

test-r: install
	Rscript tests/run-tests.R

# Regenerates man/ and NAMESPACE from the roxygen comments.
document: install
	Rscript -e 'roxygen2::roxygenise()'

check: deps
	rm -rf check && mkdir check && cd check && R CMD build .. && \
	  _R_CHECK_FORCE_SUGGESTS_=false R CMD check --no-manual --as-cran backprop_*.tar.gz

bench: install
	Rscript bench/run.R

clean:
	rm -rf check src/rust/target src/*.o src/*.so
