#!/usr/bin/env bash
# Instructions per mlp_train() call of the article's problem (W1, 5000
# epochs), counted by valgrind's callgrind: a deterministic A/B of two
# installed versions where timings on a shared machine are too noisy.
#   bash bench/instructions.sh /path/to/older/library [/path/to/newer/library]
# The newer library defaults to the first of .libPaths(). Prints each
# version's count per call (from 0 and 100 calls) and their ratio.
set -euo pipefail
command -v valgrind >/dev/null || { echo "instructions.sh: valgrind not found; skipped"; exit 0; }
base=${1:?give the library of the older version}
new=${2:-$(Rscript -e 'cat(.libPaths()[1])')}
script=$(mktemp --suffix=.R)
trap 'rm -f "$script" "$script.out"' EXIT
cat > "$script" <<'R'
args <- commandArgs(TRUE)
suppressPackageStartupMessages(library(backprop, lib.loc = args[1]))
X <- matrix(c(1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1), nrow = 3, byrow = TRUE)
Y <- matrix(c(1, 1, 0))
for (i in seq_len(as.integer(args[2]))) mlp_train(X, Y, bias = "row", threads = 1, verbose = FALSE)
R
count() {
  R -d "valgrind --tool=callgrind --callgrind-out-file=$script.out" --vanilla --slave -f "$script" --args "$1" "$2" 2>&1 |
    awk '/Collected/ {print $NF}'
}
per_call() { echo $(( ($(count "$1" 100) - $(count "$1" 0)) / 100 )); }
b=$(per_call "$base"); n=$(per_call "$new")
echo "W1 instructions per call: base $b, new $n; new / base = $(awk -v a="$n" -v b="$b" 'BEGIN {printf "%.3f", a / b}')"
