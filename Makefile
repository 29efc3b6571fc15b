# Coffer — the two commands a newcomer needs:
#   make run    run the server on the embedded store (same as: go run ./cmd/coffer server)
#   make test   set up what the tests need (awscli, PostgreSQL) and run the whole suite

GO       ?= go
FUZZTIME ?= 5s

.PHONY: run build test test-setup unit fuzz fuzz-long bench generate

run:
	$(GO) run ./cmd/coffer server

build:
	$(GO) build -o bin/coffer ./cmd/coffer

# The PostgreSQL clusters scripts/test-setup.sh starts, as NAME='value' words:
# with COFFER_TEST_POSTGRES_DSN set, the PostgreSQL tests fail rather than skip.
PG_TEST_ENV = $(shell ./scripts/test-setup.sh --print-env)

# Everything CI runs. Installs missing tools first (needs root or sudo for apt).
test: test-setup
	$(GO) vet ./...
	$(PG_TEST_ENV) COFFER_REQUIRE_TOOLS=1 $(GO) test -count=1 -timeout 30m ./...
	$(GO) test -count=1 -run '^$$' -bench . -benchtime 1x ./... > /dev/null
	FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh

test-setup:
	./scripts/test-setup.sh

unit:
	$(GO) test ./...

# Each fuzz target for $(FUZZTIME) (longer on demand: make fuzz FUZZTIME=10m).
fuzz:
	FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

generate:
	$(GO) generate ./...
