#!/usr/bin/env bash
# Refreshes src/rust/vendor.tar.xz, the crates the package builds from offline,
# and inst/AUTHORS, which credits their authors. Reproducible: the same
# Cargo.lock gives the same tarball (sorted names, fixed times and owners).
# Maintainers run it after changing src/rust/Cargo.toml or Cargo.lock.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
cd src/rust
rm -rf vendor
cargo vendor --locked --versioned-dirs vendor >/dev/null 2>&1 || { echo "cargo vendor failed"; exit 1; }
tar --sort=name --mtime='2020-01-01 00:00:00Z' --owner=0 --group=0 --numeric-owner \
    --format=gnu -cf - vendor | xz -9 -T1 > vendor.tar.xz
rm -rf vendor
echo "vendor.tar.xz: $(du -h vendor.tar.xz | cut -f1), sha256 $(sha256sum vendor.tar.xz | cut -c1-16)"

# inst/AUTHORS from the crates' own metadata.
cargo metadata --format-version 1 --locked --offline 2>/dev/null | python3 -c '
import json, sys
meta = json.load(sys.stdin)
pkgs = sorted((p for p in meta["packages"] if p["source"]), key=lambda p: (p["name"], p["version"]))
print("The backprop package bundles, in src/rust/vendor.tar.xz, the source code of the")
print("following Rust crates, with their authors and licences as the crates declare them.")
print("The full licence texts are inside each crate directory of the tarball.")
print()
for p in pkgs:
    authors = ", ".join(p.get("authors") or ["(authors not listed; see the crate repository)"])
    print("{} {}".format(p["name"], p["version"]))
    print("  authors: {}".format(authors))
    print("  licence: {}".format(p.get("license") or p.get("license_file") or "see the crate"))
    if p.get("repository"):
        print("  source: {}".format(p["repository"]))
' > "$root/inst/AUTHORS"
echo "inst/AUTHORS: $(grep -c '^[a-z]' "$root/inst/AUTHORS") crates"
