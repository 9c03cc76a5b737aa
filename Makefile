# cairn: the two commands a newcomer needs are `make demo` and `make test`.
GO      ?= go
BIN     := bin/cairn
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
# Seconds each fuzz target runs in `make test` (CI); `make fuzz FUZZTIME=5m` digs deeper.
FUZZTIME ?= 6s

.PHONY: all build demo test vet unit fuzz bench clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/cairn

## demo: build, then play a realistic session end to end in a temporary ledger.
demo: build
	$(GO) run ./internal/demo -cairn $(BIN)

## test: vet, every test (CLI scripts included), then each fuzz target briefly.
test: vet unit fuzz

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || (echo "gofmt needed on:"; gofmt -l .; exit 1)

unit:
	$(GO) test -count=1 ./...

# Every Fuzz* function in the tree, run for FUZZTIME each; each prints how many
# inputs it ran, or why it skipped. internal/formatcheck is left out: it is the
# test-only second verifier, whose fuzz targets check that verifier for panics
# (its seeds run with the unit tests), not a parser of cairn's.
#
# FUZZMINIMIZE bounds how long the fuzzer shrinks an input that found new
# coverage. A worker reports nothing until it is done, and Go's default of 60 s
# (quadratic in the input's length) let a few-KB input take a whole run: pdfsign
# Verify, ParseBundle and ReadArchive ran 10 to 12 inputs in 60 s.
#
# Go 1.26's fuzz coordinator can fail a target with a bare "context deadline
# exceeded" at the moment FUZZTIME runs out, having found nothing (a race fixed in
# Go 1.27, golang/go#75804). A run that fails that way without writing a failing
# input is reported and not counted; any other failure, and any failing input,
# stops the build.
FUZZMINIMIZE ?= 100x
# Two targets spend about 0.6 ms (ParseBundle: strict JSON of each record) and
# 1.6 ms (ReadArchive: Ed25519, signed notes, an RFC 3161 token) on each input
# under coverage instrumentation, even with the smallest seeds, so in CI they
# get FUZZTIME_SLOW, enough for 10,000 inputs on this 2-core machine. An
# explicit FUZZTIME (make fuzz FUZZTIME=5m) applies to every target.
FUZZ_SLOW := FuzzParseBundle FuzzReadArchive
#
# In CI time each target starts from its seeds alone, in a fresh cache, as on a
# fresh CI machine: inputs that earlier runs left in Go's fuzz cache are all run
# again first, and once it had filled, that took much of the 4 s. A deep run
# (an explicit FUZZTIME) keeps Go's cache and what it finds.
ifeq ($(origin FUZZTIME),command line)
FUZZTIME_SLOW ?= $(FUZZTIME)
FUZZCACHE :=
else
FUZZTIME_SLOW ?= 10s
FUZZCACHE := fresh
endif
fuzz:
	@set -e; log=$$(mktemp); cache=$$(mktemp -d); trap 'rm -rf $$log $$cache' EXIT; \
	for pkg in $$($(GO) list ./... | grep -v /internal/formatcheck); do \
	  dir=$$($(GO) list -f '{{.Dir}}' $$pkg); \
	  for f in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | sed 's/func //'); do \
	    t=$(FUZZTIME); case " $(FUZZ_SLOW) " in *" $$f "*) t=$(FUZZTIME_SLOW);; esac; \
	    args=""; if [ -n "$(FUZZCACHE)" ]; then args="-args -test.fuzzcachedir=$$cache/$$f"; fi; \
	    if ! $(GO) test -v -run='^$$' -fuzz="^$$f\$$" -fuzztime=$$t -fuzzminimizetime=$(FUZZMINIMIZE) $$pkg $$args >$$log 2>&1; then \
	      if grep -q 'context deadline exceeded' $$log && ! grep -q 'Failing input written' $$log; then \
	        echo "fuzz $$pkg $$f: stopped by Go's fuzz-deadline race (golang/go#75804), no failing input found"; continue; \
	      else cat $$log; exit 1; fi; \
	    fi; \
	    if grep -q -- '--- SKIP' $$log; then \
	      echo "fuzz $$pkg $$f: SKIPPED: $$(sed -n '/^=== RUN/,/^--- SKIP/p' $$log | grep '^    ' | head -1 | sed 's/^ *//')"; \
	    else \
	      echo "fuzz $$pkg $$f: $$(grep -o 'execs: [0-9]*' $$log | tail -1 | sed 's/execs: //') executions in $$t"; \
	    fi; \
	  done; \
	done

## bench: the figures the issues ask for, each beside this machine's ceiling.
bench: build
	$(GO) test -run='^$$' -bench=. -count=1 -timeout=30m ./ledger/ ./export/... ./evidence/percept/ ./cmd/cairn/ | tee bench.out
	@echo; echo "== summary =="; grep -E '^Benchmark' bench.out

clean:
	rm -rf bin bench.out
