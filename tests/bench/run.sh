#!/usr/bin/env bash
# tests/bench/run.sh - what `make bench` runs; tests/bench/README.md has the
# method. Installs what the comparisons need when it can (as root, with
# apt-get), otherwise prints why a variant is skipped; builds the C host,
# the loop helper and the Go programs into build/bench; runs every
# benchmark; writes tests/bench/results/ (JSON per benchmark, results.md,
# results.json, bench.png).
#
# Environment: GO (go), BUILD (build), PYTHON (python3), BENCH_QUICK=1 for
# a short smoke run (few rounds: numbers not meaningful), BENCH_SNAPSHOT=1
# to also copy results.md and bench.png to tests/bench/snapshot/ (what the
# top-level README shows).
#
# The exit status is non-zero when a benchmark failed to run (not when a
# performance target is missed: that is reported in the table).

set -u
cd "$(dirname "$0")/../.."

GO=${GO:-go}
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-python3}
OUT=tests/bench/results
B=$BUILD/bench
T0=$(date +%s)
failed=()

note() { printf '\n== bench: %s\n' "$*"; }
step() {
    local name=$1
    shift
    local t=$(date +%s)
    note "$name"
    if ! "$@"; then
        failed+=("$name")
        printf 'bench: %s failed\n' "$name"
    fi
    printf 'bench: %s took %d s\n' "$name" $(($(date +%s) - t))
}

mkdir -p "$B" "$OUT"
rm -f "$OUT"/*.json "$OUT"/results.md "$OUT"/bench.png

# --- Tools for the comparisons ---------------------------------------------
need=()
command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
command -v firejail >/dev/null 2>&1 || need+=(firejail)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v redis-benchmark >/dev/null 2>&1 || need+=(redis-tools)
if ((${#need[@]})); then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        note "installing ${need[*]} (apt-get)"
        export DEBIAN_FRONTEND=noninteractive
        if ! { apt-get update -q && apt-get install -y -q --no-install-recommends "${need[@]}"; } >"$B/apt.log" 2>&1; then
            echo "bench: apt-get install ${need[*]} failed (see $B/apt.log); the variants that need them are skipped"
        fi
    else
        echo "bench: not root or no apt-get: ${need[*]} not installed, so their variants are skipped (as root: apt-get install -y ${need[*]})"
    fi
fi

# --- Programs ----------------------------------------------------------------
CHOST=
SYSLOOP=
if command -v "${CC:-cc}" >/dev/null 2>&1; then
    if "${CC:-cc}" -std=c11 -O2 -Wall -Wextra -Werror -Iinclude tests/bench/hosts/chost.c -o "$B/chost" \
        -L"$BUILD" -l:libsandlock.so.0 -Wl,-rpath,"$(cd "$BUILD" && pwd)"; then
        CHOST=$PWD/$B/chost
    else
        echo "bench: could not build the C host; the C ABI variants are skipped"
    fi
    if "${CC:-cc}" -std=c11 -O2 -Wall -Wextra -Werror -pthread tests/bench/helpers/sysloop.c -o "$B/sysloop"; then
        SYSLOOP=$B/sysloop
    else
        echo "bench: could not build sysloop; the notified-syscall and policy-callback benchmarks are skipped"
    fi
else
    echo "bench: no C compiler; the C ABI variants and the notified-syscall and policy-callback benchmarks are skipped"
fi
"$GO" build -o "$B/spawn" ./tests/bench/spawn || exit 1
"$GO" build -o "$B/suite" ./tests/bench/suite || exit 1

# --- Python: matplotlib for the plot, the original sandlock for comparison --
PLOT_PY=
if [ -x "$B/venv/bin/python" ] && "$B/venv/bin/python" -c 'import matplotlib' 2>/dev/null; then
    PLOT_PY=$B/venv/bin/python
else
    note "matplotlib into $B/venv"
    rm -rf "$B/venv"
    if "$PYTHON" -m venv "$B/venv" >/dev/null 2>&1 && "$B/venv/bin/python" -m pip install -q matplotlib; then
        PLOT_PY=$B/venv/bin/python
    else
        echo "bench: could not install matplotlib into $B/venv ($PYTHON -m venv needs python3-venv); no plot"
    fi
fi

ORIG_VENV=$(mktemp -d /tmp/sandlock-bench-orig.XXXXXX)
trap 'rm -rf "$ORIG_VENV"' EXIT
PYORIG=
note "original sandlock from PyPI into a throwaway venv ($ORIG_VENV)"
if "$PYTHON" -m venv "$ORIG_VENV" >/dev/null 2>&1 &&
    "$ORIG_VENV/bin/python" -m pip install -q sandlock >"$B/pip-orig.log" 2>&1 &&
    "$ORIG_VENV/bin/python" -c 'import sandlock' >>"$B/pip-orig.log" 2>&1; then
    PYORIG=$ORIG_VENV/bin/python
    echo "bench: $("$PYORIG" -m pip show sandlock 2>/dev/null | grep -E '^(Name|Version):' | tr '\n' ' ')"
else
    echo "bench: pip install sandlock failed or the package does not import (see $B/pip-orig.log); its variants are skipped"
fi

# --- Benchmarks ----------------------------------------------------------------
if [ "${BENCH_QUICK:-}" = 1 ]; then
    SPAWN_ARGS=(-n 20 -warmup 2)
    NOTIFY_ARGS=(-n 10000 -reps 1)
    WORK_ARGS=(-reps 1 -warmup 0)
    REDIS_ARGS=(-n 5000 -reps 1)
    CALLBACK_ARGS=(-n 2000 -reps 1)
else
    SPAWN_ARGS=(-n 150 -budget 60s)
    NOTIFY_ARGS=(-n 100000 -reps 3 -budget 90s)
    WORK_ARGS=(-reps 7)
    REDIS_ARGS=(-n 50000 -reps 9)
    CALLBACK_ARGS=(-n 10000 -reps 3 -budget 40s)
fi

export SANDLOCK_CLI=$PWD/$BUILD/sandlock
export SANDLOCK_LIB=$PWD/$BUILD/libsandlock.so.0
export SANDLOCK_BENCH_CHOST=$CHOST
export SANDLOCK_BENCH_PYORIG=$PYORIG
export SANDLOCK_BENCH_PYPATH=$PWD/python
export SANDLOCK_BENCH_PYTHON=$(command -v "$PYTHON" || true)

step "spawn latency" "$B/spawn" "${SPAWN_ARGS[@]}" -json "$OUT/spawn.json"
if [ -n "$SYSLOOP" ]; then
    step "notified syscalls" "$B/suite" notify "${NOTIFY_ARGS[@]}" -sysloop "$SYSLOOP" -json "$OUT/notify.json"
fi
step "syscall-heavy workloads" "$B/suite" workload "${WORK_ARGS[@]}" -json "$OUT/workload.json"
step "redis" "$B/suite" redis "${REDIS_ARGS[@]}" -json "$OUT/redis.json"
step "memory per sandbox" "$B/suite" memory -json "$OUT/memory.json"
if [ -n "$SYSLOOP" ]; then
    step "policy callbacks" "$B/suite" callbacks "${CALLBACK_ARGS[@]}" -sysloop "$SYSLOOP" -json "$OUT/callbacks.json"
fi
# The callback machinery alone (queue, callback thread, verdict), without a
# sandbox or the kernel's notification round trip: capi's
# TestCallbackDispatchRate writes its rates for the report.
dispatch() {
    SANDLOCK_BENCH_DISPATCH_JSON=$PWD/$OUT/dispatch.json "$GO" test -count=1 -run '^TestCallbackDispatchRate$' -v ./capi |
        grep -E 'events/s|round trip|^(ok|FAIL|---)'
    return "${PIPESTATUS[0]}"
}
step "policy callback dispatch (no sandbox)" dispatch
step "report" "$B/suite" report -dir "$OUT"
if [ -n "$PLOT_PY" ]; then
    step "plot" "$PLOT_PY" tests/bench/plot.py "$OUT/results.json" "$OUT/bench.png"
fi

if [ "${BENCH_SNAPSHOT:-}" = 1 ] && [ -f "$OUT/results.md" ]; then
    mkdir -p tests/bench/snapshot
    cp "$OUT/results.md" tests/bench/snapshot/results.md
    [ -f "$OUT/bench.png" ] && cp "$OUT/bench.png" tests/bench/snapshot/bench.png
    echo "bench: copied results.md and bench.png to tests/bench/snapshot/"
fi

note "done in $(($(date +%s) - T0)) s; results in $OUT/ (results.md, results.json, bench.png)"
if ((${#failed[@]})); then
    echo "bench: failed: ${failed[*]}"
    exit 1
fi
