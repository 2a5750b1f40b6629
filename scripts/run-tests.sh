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
# Failures again, where a reader of only the log's tail sees them: each
# failed test's last lines (meson printed them in full as they failed).
/usr/bin/python3 - "$builddir/meson-logs/testlog.json" ${fuzzlog:+"$fuzzlog"} <<'EOF' || true
import json, sys
for path in sys.argv[1:]:
    for line in open(path):
        t = json.loads(line)
        if t["result"] in ("FAIL", "TIMEOUT", "ERROR", "UNEXPECTEDPASS"):
            print(f"--- {t['name']} {t['result']}: its last lines")
            print("\n".join((t.get("stdout") or "").splitlines()[-25:]))
EOF
# One closing line in the plain form CI readers understand.
awk -F'"result": "' 'NF > 1 { split($2, r, "\""); n[r[1]]++ }
  END { printf "tests: %d passed, %d failed, %d skipped\n", n["OK"], n["FAIL"] + n["TIMEOUT"] + n["ERROR"] + n["UNEXPECTEDPASS"], n["SKIP"] + n["EXPECTEDFAIL"] }' \
  "$builddir/meson-logs/testlog.json" ${fuzzlog:+"$fuzzlog"}
exit $status
