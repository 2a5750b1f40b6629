#!/bin/sh
# Sets up what is missing, builds, and runs every test suite.
#   scripts/run-tests.sh [meson test arguments, e.g. --suite unit]
set -eu
cd "$(dirname "$0")/.."
builddir=${BUILDDIR:-build}
scripts/setup.sh "$builddir"
ninja -C "$builddir"
status=0
meson test -C "$builddir" --print-errorlogs "$@" || status=$?
# One closing line in the plain form CI readers understand.
awk -F'"result": "' 'NF > 1 { split($2, r, "\""); n[r[1]]++ }
  END { printf "tests: %d passed, %d failed, %d skipped\n", n["OK"], n["FAIL"] + n["TIMEOUT"] + n["ERROR"] + n["UNEXPECTEDPASS"], n["SKIP"] + n["EXPECTEDFAIL"] }' \
  "$builddir/meson-logs/testlog.json"
exit $status
