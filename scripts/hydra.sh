#!/usr/bin/env bash
# Builds Ory Hydra, the OpenID Certified provider the interop suite runs
# against (internal/hydratest), and caches the binary. The version and every
# dependency are pinned by the separate tools module in scripts/hydratool
# (go.mod with Hydra's own pop replace directive, go.sum), so the product's
# go.mod stays clean. It needs a C compiler (SQLite is cgo). The binary is
# rebuilt only when it is missing or the tools module changed (~3 min cold
# on 2 cores; instant when cached); older builds are removed.
#
# Cache: ${OVERSTAP_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/overstap};
# the tests find the binary at $OVERSTAP_HYDRA or <cache>/hydra.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mod="$here/hydratool"
cache=${OVERSTAP_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/overstap}
# SQLite (cgo) for the in-memory storage the tests use (DSN=memory).
tags=sqlite,sqlite_omit_load_extension
sum=$( (cat "$mod/go.mod" "$mod/go.sum"; echo "$tags") | sha256sum | cut -c1-16)
bin="$cache/hydra-$sum"
mkdir -p "$cache"
if [[ ! -x $bin ]]; then
  echo "services: building Ory Hydra (pinned in scripts/hydratool; a few minutes the first time)"
  tmp="$bin.tmp.$$"
  trap 'rm -f "$tmp"' EXIT
  (cd "$mod" && GOFLAGS=-mod=readonly GOWORK=off CGO_ENABLED=1 go build -tags "$tags" -o "$tmp" github.com/ory/hydra/v2)
  mv "$tmp" "$bin"
  find "$cache" -maxdepth 1 -name 'hydra-*' ! -name "hydra-$sum" -type f -delete
fi
ln -sfn "$bin" "$cache/hydra"
