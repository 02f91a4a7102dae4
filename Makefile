# sandlock — build, test and install. `make help` lists the targets.
#
# The version lives in one place, include/sandlock.h, once the C ABI exists;
# until then VERSION below is the source.

SHELL      := /bin/bash
GO         ?= go
PREFIX     ?= /usr/local
DESTDIR    ?=
BUILD      := build
# landlocktsync: keep libcap's psx (and its exported symbols) out of the
# build; the child applies Landlock with raw syscalls anyway.
GOTAGS     := landlocktsync
GOFLAGS_T  := -tags=$(GOTAGS)
export GOFLAGS := $(GOFLAGS_T) -buildvcs=false

VERSION    ?= $(shell sed -n 's/^\#define SANDLOCK_VERSION_STRING *"\(.*\)"/\1/p' include/sandlock.h 2>/dev/null || true)
ifeq ($(VERSION),)
VERSION    := 0.1.0
endif
MAJOR      := $(firstword $(subst ., ,$(VERSION)))

.DEFAULT_GOAL := all

.PHONY: all
all: cli ## Build everything (CLI; the C library once capi/ exists)

.PHONY: cli
cli: ## Build the sandlock CLI into build/sandlock
	@mkdir -p $(BUILD)
	$(GO) build -o $(BUILD)/sandlock ./cmd/sandlock

.PHONY: test
test: test-go ## Run every test suite (the command CI runs)

.PHONY: test-go
test-go: cli ## Go unit, kernel and end-to-end tests
	SANDLOCK_TEST_STRICT=1 SANDLOCK_CLI=$(CURDIR)/$(BUILD)/sandlock $(GO) test -count=1 ./...

.PHONY: lint
lint: ## gofmt, go vet and staticcheck
	@test -z "$$(gofmt -l core cmd $$(ls -d capi tests 2>/dev/null))" || { gofmt -l core cmd; echo "gofmt: files above need formatting"; exit 1; }
	$(GO) vet ./...
	@command -v staticcheck >/dev/null 2>&1 || $(GO) install honnef.co/go/tools/cmd/staticcheck@latest
	PATH="$$PATH:$$($(GO) env GOPATH)/bin" staticcheck -tags $(GOTAGS) ./...

.PHONY: fuzz
fuzz: ## Run every fuzz target for a short, bounded time
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$f"; $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$${FUZZTIME:-10s} $$pkg || exit 1; \
	  done; done

.PHONY: bench
bench: cli ## Benchmarks (not tests): spawn latency and more, ratios vs bare
	$(GO) run ./tests/bench/spawn

.PHONY: clean
clean: ## Remove build outputs
	rm -rf $(BUILD)

.PHONY: help
help: ## This list
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'
