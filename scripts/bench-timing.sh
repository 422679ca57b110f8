#!/usr/bin/env bash
# Benchmark: the time of every answer of the legacy login's gateway_password
# path (unknown user, wrong password, locked, rate limited, NRN-shaped,
# account with a national number, correct password of a migrated account),
# interleaved in one run on the real interceptor, store and hash library at
# the production bcrypt cost. N samples per branch (default 30), about
# N x 8 x 0.25 s at cost 12. Prints medians, p10/p90 and the
# slowest/fastest median ratio; CHECK=1 exits 1 when it exceeds 1.10.
set -euo pipefail
cd "$(dirname "$0")/.."
args=(-n "${N:-30}" -cost "${COST:-12}")
[[ "${CHECK:-0}" == 1 ]] && args+=(-check)
exec timeout 900 go run ./auth/legacylogin/internal/timingbench "${args[@]}"
