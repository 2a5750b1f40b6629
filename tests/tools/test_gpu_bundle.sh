#!/bin/sh
# The GPU bundle from this build (no rebuild), its size, and its runner with
# the GPU hidden: exit 77, every GPU test skipped saying why, the results'
# layout. Prints TAP; skips (1..0 # SKIP) in a build without the CUDA backend.
set -eu
: "${SRCDIR:?}" "${BUILDDIR:?}"
if [ "${CUDA_ENABLED:-0}" != 1 ]; then
    # TAP's way to skip a whole file (meson reads it as SKIP; exit 77 is not
    # a skip under the TAP protocol).
    echo "1..0 # SKIP this build has no CUDA backend (no CUDA toolkit: cuda=auto left it out), so no GPU bundle"
    exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/salus-bundle-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/tap.sh"

SALUS_BUNDLE_NO_BUILD=1 BUILDDIR=$BUILDDIR "$SRCDIR/scripts/gpu-bundle.sh" "$tmp/bundle" \
    >"$tmp/bundle.log" 2>&1 || fail "gpu-bundle.sh makes the bundle" "$tmp/bundle.log"
ok "gpu-bundle.sh makes the bundle: $(tail -n 1 "$tmp/bundle.log")"

size=$(du -sb "$tmp/bundle" | cut -f1)
[ "$size" -le $((48 * 1024 * 1024)) ] || fail "the bundle is at most 48 MiB ($size bytes)"
ok "the bundle is at most 48 MiB ($size bytes)"

for f in run payload.tar.xz MANIFEST.txt licenses/libdnnl2.copyright licenses/libuv1.copyright; do
    [ -s "$tmp/bundle/$f" ] || fail "the bundle holds $f"
done
ok "the bundle holds its runner, payload, manifest and licenses"

rc=0
(cd "$tmp" && ./bundle/run --no-gpu results) >"$tmp/run.log" 2>&1 || rc=$?
[ "$rc" -eq 77 ] || fail "run --no-gpu exits 77 (got $rc)" "$tmp/run.log" "$tmp/results/device.txt"
ok "run --no-gpu exits 77"

r=$tmp/results
for f in summary.txt device.txt tests-cuda.txt tests-on-cuda.txt bench-gpu.txt logs/salusd-help.txt; do
    [ -f "$r/$f" ] || fail "the results hold $f" "$tmp/run.log"
done
ok "the results hold summary, device, both suites, benchmarks and logs"

# Every GPU program ran and skipped, saying why.
tests=$(cat "$r/tests-cuda.txt" "$r/tests-on-cuda.txt" | wc -l)
skipped=$(grep -c ': skipped: .*no CUDA device' "$r/tests-cuda.txt" "$r/tests-on-cuda.txt" |
    awk -F: '{ s += $NF } END { print s }')
if [ "$tests" -lt 17 ] || [ "$tests" -ne "$skipped" ]; then
    fail "every GPU test skips saying why ($skipped of $tests)" "$r/tests-cuda.txt" "$r/tests-on-cuda.txt"
fi
ok "every GPU test skips saying why ($tests tests)"
grep -q 'every GPU test skipped without a GPU' "$r/summary.txt" || fail "the summary says so" "$r/summary.txt"
ok "the summary says so"
echo "1..$n"
