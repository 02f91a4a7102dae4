#!/bin/sh
# run.sh BIN - run the C tests as the current user and, when that is root,
# a second time as an unprivileged user (nobody), from a private copy of the
# binary and the library next to it (the binary finds it through $ORIGIN),
# so that the work tree's permissions do not matter. Root hides a missing
# no_new_privs, so both runs count.
set -u
bin=$1
dir=$(dirname "$bin")
status=0

echo "== C tests as uid $(id -u)"
"$bin" || status=1

if [ "$(id -u)" -eq 0 ] && [ "${SANDLOCK_CTEST_NO_UNPRIVILEGED:-}" = "" ]; then
    if ! command -v setpriv >/dev/null 2>&1; then
        echo "run.sh: setpriv not found; cannot run the tests unprivileged"
        exit 1
    fi
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    cp "$bin" "$dir"/libsandlock.so.* "$tmp"/
    chmod 0755 "$tmp"
    chmod 0755 "$tmp"/*
    echo "== C tests as uid 65534 (nobody)"
    (cd "$tmp" && env TMPDIR=/tmp setpriv --reuid=65534 --regid=65534 --clear-groups \
        "$tmp/$(basename "$bin")") || status=1
fi
exit $status
