# overstap — make targets. `make test` works on a fresh machine.
GO ?= go
PKGS ?= ./...
# The packages whose correctness is about concurrency (shared limits, one
# link per person, session revocation) also run under the race detector;
# the whole suite under -race would not fit the 10-minute budget.
RACE_PKGS ?= ./auth/ratelimit/ ./auth/link/ ./auth/session/ ./auth/legacylogin/

.PHONY: test services unit fuzz fuzz-short vet fmt bench bench-gateway bench-migrate

test: services vet fuzz-short
	$(GO) test -count=1 -timeout 9m $(PKGS)
	$(GO) test -race -count=1 -timeout 5m $(RACE_PKGS)

services:
	@scripts/services.sh

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

# Short fuzz runs, part of `make test`; `make fuzz` runs them longer.
fuzz-short:
	@scripts/fuzz.sh 3s FuzzParse FuzzIdentifyVerify FuzzNormalize FuzzNRNShaped

fuzz:
	@scripts/fuzz.sh 60s

bench:
	$(GO) test -run='^$$' -bench=. -benchmem $(PKGS)

# Revoke throughput vs a raw keyset+CAS UPDATE loop, and peak RSS, on a
# synthetic PostgreSQL store (BENCH_MIGRATE_SIZES="100000 1000000").
bench-migrate: services
	@scripts/bench-migrate.sh

# Gateway vs direct upstream, Redis sessions, 8/64/256 connections (loopback, bounded).
bench-gateway:
	@scripts/bench-gateway.sh
