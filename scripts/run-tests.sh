#!/bin/sh
# Sets up what is missing, builds, and runs every test suite.
#   scripts/run-tests.sh [meson test arguments, e.g. --suite unit]
set -eu
cd "$(dirname "$0")/.."
builddir=${BUILDDIR:-build}
fuzzdir=${FUZZ_BUILDDIR:-build-fuzz}
scripts/setup.sh "$builddir"
ninja -C "$builddir"
status=0
meson test -C "$builddir" --print-errorlogs "$@" || status=$?
# The fuzz targets, unless a suite was named (or SALUS_FUZZ=0): a clang
# build of only them (tests/fuzz), each run for 20 s over its corpus.
fuzzlog=""
if [ $# -eq 0 ] && [ "${SALUS_FUZZ:-1}" != 0 ]; then
  scripts/fuzz-tests.sh "$fuzzdir" || status=$?
  fuzzlog="$fuzzdir/meson-logs/testlog.json"
fi
# One closing line in the plain form CI readers understand.
awk -F'"result": "' 'NF > 1 { split($2, r, "\""); n[r[1]]++ }
  END { printf "tests: %d passed, %d failed, %d skipped\n", n["OK"], n["FAIL"] + n["TIMEOUT"] + n["ERROR"] + n["UNEXPECTEDPASS"], n["SKIP"] + n["EXPECTEDFAIL"] }' \
  "$builddir/meson-logs/testlog.json" ${fuzzlog:+"$fuzzlog"}
exit $status
