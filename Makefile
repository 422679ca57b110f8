# overstap — make targets. `make test` works on a fresh machine.
GO ?= go
PKGS ?= ./...
# The packages whose correctness is about concurrency (shared limits, one
# link per person, sessions and the session cache shared by gateway nodes,
# a family grant revoked while requests race it) run under the race
# detector, and so do the migrate queue's concurrent workers. The whole
# suite under -race would not fit the CI budget.
RACE_PKGS ?= ./auth/ratelimit/ ./auth/link/ ./auth/session/ ./auth/legacylogin/ ./auth/family/
RACE_RUN_PKGS ?= ./migrate/
RACE_RUN ?= ^(TestQueueWorkersExactlyOnce)$$

.PHONY: test services unit fuzz fuzz-short vet fmt bench bench-gateway bench-migrate build image

# `make build` stamps the release version, commit and build date into a
# static binary (bin/overstap); `overstap version` prints them.
VERSION ?= $(shell git describe --tags --match 'v*' --dirty 2>/dev/null || echo v0.1.0-dev)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BUILD_DATE ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
LDFLAGS = -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.buildDate=$(BUILD_DATE)
IMAGE ?= localhost/overstap:$(VERSION)

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/overstap ./cmd/overstap

# The container image (Containerfile): the static binary built above, copied
# into an image FROM scratch; podman, or buildah when podman is missing.
# --format docker keeps the HEALTHCHECK (the OCI format has none).
CA_BUNDLE ?= /etc/ssl/certs/ca-certificates.crt
image: build
	cp $(CA_BUNDLE) bin/ca-certificates.crt
	@if command -v podman >/dev/null; then podman build --format docker -f Containerfile -t $(IMAGE) .; \
	else buildah bud --format docker -f Containerfile -t $(IMAGE) .; fi

test: services vet fuzz-short
	$(GO) test -count=1 -timeout 9m $(PKGS)
	$(GO) test -race -count=1 -timeout 5m $(RACE_PKGS)
	$(GO) test -race -count=1 -timeout 5m -run '$(RACE_RUN)' $(RACE_RUN_PKGS)

services:
	@scripts/services.sh

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

# Short fuzz runs, part of `make test`; `make fuzz` runs them longer. FuzzServeConfig
# (cmd/overstap) is left out: its instrumented build of the whole binary
# costs minutes; its seeds run in `go test`, and `make fuzz` fuzzes it.
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
