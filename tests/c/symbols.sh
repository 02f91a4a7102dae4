#!/bin/sh
# symbols.sh LIB HEADER - the library exports exactly the functions the
# header declares, and the header exposes nothing of Go or cgo.
set -eu
lib=$1
header=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Every declaration in the header starts with SANDLOCK_API and names its
# function on that line.
sed -nE 's/^SANDLOCK_API[^(]*[ *](sandlock_[a-z0-9_]+)\(.*/\1/p' "$header" | sort >"$tmp/header"
nm -D --defined-only "$lib" | awk '{print $NF}' | sort >"$tmp/lib"

status=0
if ! diff -u "$tmp/header" "$tmp/lib" >"$tmp/diff"; then
    echo "symbols: exported symbols differ from the header's functions (- header, + library):"
    sed -n '3,$p' "$tmp/diff" | grep -E '^[-+]'
    status=1
fi
if grep -nE '\bGo(Int|Uint|String|Slice|Interface|Float)|_cgo|crosscall|_GoString' "$header"; then
    echo "symbols: the header exposes Go or cgo names (above)"
    status=1
fi
n=$(wc -l <"$tmp/header")
if [ "$n" -eq 0 ]; then
    echo "symbols: no function found in $header"
    status=1
fi
if [ $status -eq 0 ]; then
    echo "symbols: $n exported functions, equal to the header's list"
fi
exit $status
