#!/usr/bin/env bash
# path-count.sh [REV]: which packages and files of overstap run for one
# citizen's four requests (legacy login GET, federated login, IdP
# callback, first proxied request). Two coverage runs of the demo
# (internal/demo TestPathCount): start-up only, and start-up plus the four
# requests; a code block counts when it ran more often in the second.
# Not counted: test code, the dev IdP and the demo e-loket (the
# counterparts), internal/demo and internal/testsvc (the harness). With
# REV, the measurement runs on that commit (the test file copied in).
# PATHCOUNT_OUT=DIR keeps the two coverage profiles there (go tool cover
# -func on their difference names the functions).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
src=$root
if [ $# -gt 0 ]; then
	src=$(mktemp -d)
	git -C "$root" worktree add -q --detach "$src" "$1"
	trap 'git -C "$root" worktree remove --force "$src"' EXIT
	cp "$root/internal/demo/pathcount_test.go" "$src/internal/demo/"
fi
out=${PATHCOUNT_OUT:-$(mktemp -d)}
for mode in setup requests; do
	(cd "$src" && PATHCOUNT=$mode go test -tags pathcount -count=1 -covermode=count -coverpkg=./... -coverprofile="$out/$mode.txt" \
		-run '^TestPathCount$' ./internal/demo >/dev/null)
done
awk 'FNR==1 {next} FILENAME ~ /setup/ {a[$1]+=$3; next} {b[$1]+=$3} END {for (k in b) if (b[k] > a[k]) print k}' \
	"$out/setup.txt" "$out/requests.txt" | sed 's#:.*##; s#^github.com/overstap/overstap/##' | sort -u |
	grep -v -E '^(auth/devidp|internal/demoapp|internal/demo|internal/testsvc)/' > "$out/files" || true
pkgs=$(sed 's#/[^/]*$##' "$out/files" | sort -u)
echo "packages: $(echo "$pkgs" | grep -c .)   files: $(grep -c . "$out/files")"
for p in $pkgs; do
	printf '  %-28s %s\n' "$p" "$(grep "^$p/[^/]*$" "$out/files" | sed 's#.*/##' | tr '\n' ' ')"
done
