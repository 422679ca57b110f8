#!/usr/bin/env bash
# Benchmark: authenticated requests through the gateway (Redis sessions)
# versus the same upstream hit directly, in the same run, at 8, 64 and 256
# connections, with the in-process session cache (session.Cached,
# CACHE_TTL, default 1s; CACHE_TTL=0 measures without it). Loopback only, bounded (DURATION per measurement, default 5s;
# about 12 measurements in all). Needs Redis (make services).
# Only the ratios and the added latencies mean something: load generator,
# gateway, upstream and Redis share the machine's cores.
set -euo pipefail
cd "$(dirname "$0")/.."
REDIS_URL="${OVERSTAP_TEST_REDIS:-redis://127.0.0.1:6379/0}"
DURATION="${DURATION:-5s}"
CONNS="${CONNS:-8,64,256}"
CACHE_TTL="${CACHE_TTL:-1s}"
case "$REDIS_URL" in
  redis://127.0.0.1*|redis://localhost*|redis://\[::1\]*) ;;
  *) echo "bench-gateway: loopback Redis only (got $REDIS_URL)" >&2; exit 2 ;;
esac
exec timeout 300 go run ./auth/gateway/internal/benchgw -redis "$REDIS_URL" -d "$DURATION" -c "$CONNS" -cache-ttl "$CACHE_TTL"
