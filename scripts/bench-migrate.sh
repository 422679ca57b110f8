#!/usr/bin/env bash
# bench-migrate: revoke throughput and memory of `overstap migrate` on a
# synthetic PostgreSQL store (make bench-migrate).
#
# For each size in BENCH_MIGRATE_SIZES (default "100000 1000000"):
#   1. seed a fresh schema with `overstap migrate seed`;
#   2. time `migrate scan` and `migrate apply --policy revoke-nrn --yes`
#      (SQLite state file, journal + checkpoints) with /usr/bin/time, which
#      gives the peak RSS of each process;
#   3. run BenchmarkRevokeVsRawPG at the same size: the engine and a raw
#      keyset read + CAS batch UPDATE loop over the same rows, without a
#      journal, in the same process run (ratio engine/raw);
#   4. run BenchmarkWorkersVsLocalPG at the same size: a local apply and an
#      apply through the Redis queue by two workers, alternating, same
#      PostgreSQL state (ratio workers/local; target >= 0.8).
# Only ratios measured in the same run mean something on a shared machine.
set -euo pipefail
cd "$(dirname "$0")/.."

PG=${OVERSTAP_TEST_PG:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
SIZES=${BENCH_MIGRATE_SIZES:-"100000 1000000"}
BATCH=${BENCH_MIGRATE_BATCH:-}  # empty: the CLI default (migrate.DefaultBatchSize)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bin="$work/overstap"
go build -o "$bin" ./cmd/overstap
sep='?'; [[ "$PG" == *\?* ]] && sep='&'

"$bin" migrate keygen --out "$work/admin.key" >/dev/null
printf '%-9s %-6s %10s %12s %10s\n' accounts step seconds accounts/s peakRSS_MB
for n in $SIZES; do
  schema="bench_migrate_${n}_$$"
  psql -q "$PG" -c "CREATE SCHEMA $schema" >/dev/null
  dsn="${PG}${sep}search_path=${schema}"
  "$bin" migrate seed --driver postgres --dsn "$dsn" --accounts "$n" --seed 1 >/dev/null 2>&1
  cat > "$work/store.yaml" <<YAML
driver: postgres
dsn: "insecure-literal:${dsn}"
table: legacy_accounts
id_type: integer
columns: {id: id, username: login, password: passwd, nrn: rrn, name: full_name, disabled: blocked}
YAML
  state="$work/state-$n.db"
  for step in scan apply; do
    args=(migrate "$step" --store "$work/store.yaml" --store-name "bench-$n" --state "$state")
    [[ -n $BATCH ]] && args+=(--batch-size "$BATCH")
    [[ $step == apply ]] && args+=(--policy revoke-nrn --yes --public-key "$work/admin.key.pub" --json)
    [[ $step == scan ]] && args+=(--json)
    # Exit status 2: finished, with accounts needing attention (listed).
    /usr/bin/time -f '%e %M' -o "$work/time" "$bin" "${args[@]}" >"$work/out" 2>/dev/null || { rc=$?; [[ $rc == 2 ]] || exit "$rc"; }
    read -r secs rss <"$work/time"
    printf '%-9s %-6s %10s %12.0f %10.1f\n' "$n" "$step" "$secs" "$(echo "$n / $secs" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
  done
  changed=$(grep -o '"changed": [0-9]*' "$work/out" | grep -o '[0-9]*$')
  echo "          apply changed $changed credentials"
  psql -q "$PG" -c "DROP SCHEMA $schema CASCADE" >/dev/null
  OVERSTAP_BENCH_ACCOUNTS=$n OVERSTAP_BENCH_BATCH=${BATCH:-0} go test -run '^$' -bench 'BenchmarkRevokeVsRawPG' -benchtime 1x -timeout 60m ./migrate | grep Benchmark || true
  # BENCH_MIGRATE_WORKERS=0 leaves the queue comparison out (it copies the
  # table twice per round: long at 1M on a small machine).
  if [[ ${BENCH_MIGRATE_WORKERS:-1} != 0 ]]; then
    OVERSTAP_BENCH_ACCOUNTS=$n OVERSTAP_BENCH_BATCH=${BATCH:-0} go test -run '^$' -bench 'BenchmarkWorkersVsLocalPG' -benchtime 2x -timeout 60m ./migrate | grep Benchmark || true
  fi
done
