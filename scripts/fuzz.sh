#!/usr/bin/env bash
# Runs every native fuzz target for the given time each (default 5s).
# Usage: scripts/fuzz.sh [duration]
set -euo pipefail
t=${1:-5s}
cd "$(dirname "$0")/.."
grep -rl --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]+\(f \*testing\.F\)' . | while read -r f; do
  pkg=./$(dirname "${f#./}")
  for fn in $(grep -oE '^func (Fuzz[A-Za-z0-9_]+)\(f \*testing\.F\)' "$f" | sed -E 's/^func (Fuzz[A-Za-z0-9_]+).*/\1/'); do
    echo "fuzz: $pkg $fn ($t)"
    go test -run='^$' -fuzz="^${fn}\$" -fuzztime="$t" "$pkg"
  done
done
