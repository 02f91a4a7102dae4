# sandlock — build, test and install. `make help` lists the targets.
#
# The version lives in one place, include/sandlock.h (SANDLOCK_VERSION_STRING);
# the fallback below only serves a tree without the header.

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
all: cli lib ## Build everything (CLI and the C library)

# The CLI is linked statically when the C library's archive is there
# (libc6-dev; glibc-static on Fedora): the dynamic loader cost ~0.3 ms of
# every `sandlock run`. netgo: the pure Go resolver for --net-allow-host
# (files and DNS; getaddrinfo cannot be linked statically), which Go picks
# anyway unless nsswitch.conf lists other sources such as mdns.
# CLI_STATIC= builds the dynamic binary.
CLI_STATIC ?= $(shell f=$$($${CC:-cc} -print-file-name=libc.a 2>/dev/null) && [ -f "$$f" ] && echo 1)
ifneq ($(CLI_STATIC),)
CLI_FLAGS  := -tags=$(GOTAGS),netgo -ldflags='-linkmode=external -extldflags=-static'
endif

.PHONY: cli
cli: ## Build the sandlock CLI into build/sandlock
	@mkdir -p $(BUILD)
	$(GO) build $(CLI_FLAGS) -o $(BUILD)/sandlock ./cmd/sandlock

.PHONY: test
test: test-go test-security test-c test-python ## Run every test suite (the command CI runs)

.PHONY: test-go
test-go: cli ## Go unit, kernel and end-to-end tests (tests/security runs in test-security)
	SANDLOCK_TEST_STRICT=1 SANDLOCK_CLI=$(CURDIR)/$(BUILD)/sandlock $(GO) test -count=1 $$($(GO) list ./... | grep -v '/tests/security$$')

# The attack suite runs as a binary so that its summary line is shown
# ("security: N attacks contained, M controls passed, K pending"), from its
# package directory as `go test` would.
.PHONY: test-security
test-security: ## Attack suite of attacks.md: every attack with its control, pending cases listed
	@mkdir -p $(BUILD)
	$(GO) test -c -o $(BUILD)/security.test ./tests/security
	cd tests/security && $(CURDIR)/$(BUILD)/security.test -test.count=1 -test.timeout=10m

.PHONY: test-stress
test-stress: ## Reliability tests at CI size: leaks, concurrency, kill storms, fork bombs, host death
	$(GO) test -count=1 -v -timeout=10m ./tests/stress

.PHONY: soak
soak: ## Long reliability runs (tens of minutes): tests/stress and the security races, scaled up
	SANDLOCK_SOAK=1 $(GO) test -count=1 -v -timeout=90m ./tests/stress
	SANDLOCK_SOAK=1 $(GO) test -count=1 -timeout=30m -run 'TOC0' ./tests/security

# --- C library, header and C tests ------------------------------------------

LIBNAME      := libsandlock.so
SONAME       := $(LIBNAME).$(MAJOR)
LIB          := $(BUILD)/$(SONAME)
LIBDIR       ?= $(PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
# Sources the library is built from (the Go build cache decides what to
# recompile; this list only decides whether to call it).
LIB_SRCS     := $(shell find capi core \( -name '*.go' -o -name '*.c' -o -name '*.h' \) ! -name '*_test.go' 2>/dev/null) \
                include/sandlock.h capi/libsandlock.map go.mod go.sum
CTEST_DIR    := $(BUILD)/tests/c
CTEST_BIN    := $(CTEST_DIR)/sandlock-ctest
CTEST_SRCS   := $(filter-out tests/c/header_test.c,$(wildcard tests/c/*.c)) $(wildcard tests/c/*.h)

.PHONY: lib
lib: $(LIB) $(BUILD)/$(LIBNAME) ## Build the C library build/libsandlock.so.N (+ libsandlock.so symlink)

# The version script exports exactly the sandlock_* functions of the header;
# SONAME libsandlock.so.<major>. cgo's generated header is removed: the
# hand-written include/sandlock.h is the only contract.
$(LIB): $(LIB_SRCS)
	@mkdir -p $(BUILD)
	$(GO) build -buildmode=c-shared \
	  -ldflags "-extldflags '-Wl,-soname,$(SONAME) -Wl,--version-script=$(CURDIR)/capi/libsandlock.map'" \
	  -o $@ ./capi
	@rm -f $(BUILD)/$(LIBNAME).h

$(BUILD)/$(LIBNAME): $(LIB)
	ln -sfn $(SONAME) $@

.PHONY: header-test
header-test: ## include/sandlock.h compiles under strict C11 and C++17
	$(CC) -std=c11 -Wall -Wextra -pedantic -Werror -Iinclude -fsyntax-only tests/c/header_test.c
	$(CC) -std=c11 -Wall -Wextra -pedantic -Werror -Wstrict-prototypes -Wshadow -Wconversion -Iinclude -fsyntax-only tests/c/header_test.c
	$(CXX) -std=c++17 -Wall -Wextra -Werror -Iinclude -fsyntax-only -x c++ tests/c/header_test.c
	$(CXX) -std=c++17 -Wall -Wextra -pedantic -Werror -Wold-style-cast -Iinclude -fsyntax-only -x c++ tests/c/header_test.c

# The test binary finds the library next to itself ($$ORIGIN), so a copy of
# the two runs anywhere (tests/c/run.sh runs one as an unprivileged user).
$(CTEST_BIN): $(CTEST_SRCS) include/sandlock.h $(LIB)
	@mkdir -p $(CTEST_DIR)
	cp -f $(LIB) $(CTEST_DIR)/$(SONAME)
	$(CC) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O1 -g -Iinclude \
	  $(filter %.c,$(CTEST_SRCS)) -o $@ -L$(CTEST_DIR) -l:$(SONAME) -Wl,-rpath,'$$ORIGIN' -lpthread

.PHONY: test-c
test-c: lib header-test $(CTEST_BIN) ## C ABI tests: header, exported symbols, behaviour, leaks (as root also as nobody)
	tests/c/symbols.sh $(LIB) include/sandlock.h
	tests/c/run.sh $(CTEST_BIN)

# --- Python package ------------------------------------------------------------

PYTHON       ?= python3
PYBUILD      := $(BUILD)/python
# A fresh virtualenv for every test run, under build/ so that an
# unprivileged user running `make test` in its own copy owns it.
PYVENV       := $(PYBUILD)/venv

.PHONY: python
python: lib ## Build a wheel of the Python package with libsandlock.so bundled, into build/python/dist
	rm -rf $(PYBUILD)/dist
	@mkdir -p $(PYBUILD)/dist
	SANDLOCK_BUNDLE_LIB=$(CURDIR)/$(LIB) $(PYTHON) -m pip wheel --no-deps -q -w $(PYBUILD)/dist ./python
	@ls $(PYBUILD)/dist/*.whl

.PHONY: test-python
test-python: lib ## Python tests: `pip install ./python` into a fresh virtualenv, then pytest
	rm -rf $(PYVENV)
	$(PYTHON) -m venv $(PYVENV)
	$(PYVENV)/bin/python -m pip install -q ./python pytest
	cd python/tests && SANDLOCK_TEST_STRICT=1 SANDLOCK_EXPECT_BUNDLED=1 \
	  $(CURDIR)/$(PYVENV)/bin/python -m pytest -p no:cacheprovider

.PHONY: install
install: lib ## Install the library, header and sandlock.pc into $(DESTDIR)$(PREFIX)
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 0755 $(LIB) $(DESTDIR)$(LIBDIR)/$(LIBNAME).$(VERSION)
	ln -sfn $(LIBNAME).$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sfn $(SONAME) $(DESTDIR)$(LIBDIR)/$(LIBNAME)
	install -m 0644 include/sandlock.h $(DESTDIR)$(INCLUDEDIR)/sandlock.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
	    pkgconfig/sandlock.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/sandlock.pc
	chmod 0644 $(DESTDIR)$(PKGCONFIGDIR)/sandlock.pc

.PHONY: uninstall
uninstall: ## Remove what install put into $(DESTDIR)$(PREFIX)
	rm -f $(DESTDIR)$(LIBDIR)/$(LIBNAME).$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME) \
	      $(DESTDIR)$(LIBDIR)/$(LIBNAME) $(DESTDIR)$(INCLUDEDIR)/sandlock.h \
	      $(DESTDIR)$(PKGCONFIGDIR)/sandlock.pc

# The examples are built the way a user builds them: against an installed
# copy (a staging prefix under build/), found through pkg-config.
EXAMPLES_PREFIX := $(CURDIR)/$(BUILD)/stage

.PHONY: examples
examples: lib ## Build the C example against a staged install via pkg-config, and run it
	rm -rf $(EXAMPLES_PREFIX)
	$(MAKE) --no-print-directory install DESTDIR= PREFIX=$(EXAMPLES_PREFIX) LIBDIR=$(EXAMPLES_PREFIX)/lib \
	  INCLUDEDIR=$(EXAMPLES_PREFIX)/include PKGCONFIGDIR=$(EXAMPLES_PREFIX)/lib/pkgconfig
	@mkdir -p $(BUILD)/examples
	export PKG_CONFIG_PATH=$(EXAMPLES_PREFIX)/lib/pkgconfig; \
	$(CC) -std=c11 -Wall -Wextra -Werror $$(pkg-config --cflags sandlock) examples/c/sandlock-run.c \
	  -o $(BUILD)/examples/sandlock-run $$(pkg-config --libs sandlock) \
	  -Wl,-rpath,$$(pkg-config --variable=libdir sandlock)
	$(BUILD)/examples/sandlock-run -- /bin/sh -c 'echo "hello from $$(uname -s)"; exit 3'; \
	  test $$? -eq 3 || { echo "examples: sandlock-run did not pass the exit status through"; exit 1; }

.PHONY: lint
lint: ## gofmt, go vet and staticcheck
	@test -z "$$(gofmt -l core cmd $$(ls -d capi tests internal 2>/dev/null))" || { gofmt -l core cmd $$(ls -d capi tests internal 2>/dev/null); echo "gofmt: files above need formatting"; exit 1; }
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
bench: cli lib ## Benchmarks (not tests): spawn, notification, workloads, redis, memory -> tests/bench/results/
	GO=$(GO) BUILD=$(BUILD) tests/bench/run.sh

.PHONY: clean
clean: ## Remove build outputs
	rm -rf $(BUILD)

.PHONY: help
help: ## This list
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'
