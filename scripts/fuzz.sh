#!/usr/bin/env bash
# Runs native fuzz targets for the given time each (default 5s).
# Usage: scripts/fuzz.sh [duration] [FuzzName ...]
# Without names, every target in the repository runs. Every target's seed
# corpus also runs as an ordinary test in `go test`.
set -euo pipefail
t=${1:-5s}
shift || true
only=" $* "
cd "$(dirname "$0")/.."
grep -rl --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]+\(f \*testing\.F\)' . | sort | while read -r f; do
  pkg=./$(dirname "${f#./}")
  for fn in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)\(f \*testing\.F\)' "$f" | sed -E 's/^func (Fuzz[A-Za-z0-9_]+).*/\1/'); do
    if [[ "$only" != "  " && "$only" != *" $fn "* ]]; then continue; fi
    echo "fuzz: $pkg $fn ($t)"
    go test -run='^$' -fuzz="^${fn}\$" -fuzztime="$t" "$pkg"
  done
done
