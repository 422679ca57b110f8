#!/usr/bin/env bash
# Installs axe-core (the accessibility engine the browser tests inject into
# Chromium) from the npm registry, at the version internal/browsertest pins
# (AxeVersion), into the directory browsertest.AxeDir reads. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
ver=$(sed -n 's/^const AxeVersion = "\(.*\)"$/\1/p' internal/browsertest/axe.go)
[[ -n $ver ]] || { echo "axe: AxeVersion not found in internal/browsertest/axe.go" >&2; exit 1; }
dir=${OVERSTAP_AXE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/overstap/axe-core-$ver}
[[ -f $dir/node_modules/axe-core/axe.min.js ]] && exit 0
command -v npm >/dev/null 2>&1 || {
  echo "axe: installing npm"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null
}
echo "axe: installing axe-core@$ver into $dir"
mkdir -p "$dir"
npm install --silent --no-audit --no-fund --no-save --prefix "$dir" "axe-core@$ver" >/dev/null
[[ -f $dir/node_modules/axe-core/axe.min.js ]] || { echo "axe: axe.min.js missing after install" >&2; exit 1; }
