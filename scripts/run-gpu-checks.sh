#!/bin/sh
# The GPU proof in one command, on a machine with an NVIDIA GPU (sm_80 or
# newer), its driver, the CUDA Toolkit in /usr/local/cuda and Debian's build
# packages (scripts/setup.sh); a machine without them runs the bundle instead
# (scripts/gpu-bundle.sh, README "CUDA backend"):
#   scripts/run-gpu-checks.sh [OUTDIR]
# Builds with the CUDA backend in build-gpu/ (BUILDDIR overrides), makes the
# GPU bundle from that build and runs its runner (scripts/gpu-bundle-run.sh:
# the GPU suite, the C API and integration suites on salusd --device cuda,
# the GPU benchmarks), then what needs the build itself, all into OUTDIR
# (default gpu-checks-<UTC time>):
#   build.log, and the runner's files: summary.txt, device.txt,
#   tests-cuda.txt, tests-on-cuda.txt, bench-gpu.txt, logs/
#   tests-bindings.txt the binding suites against salusd --device cuda
#   tests-unit.txt     the unit suite, on this build
#   testlog-*.txt      meson's full logs of those two runs
#   bench-models.txt   ResNet-18 and transformer steps against PyTorch on the GPU
# Exit status: 0 when every test passed, 77 without a GPU, 1 otherwise.
# About 10 minutes on a 16-core machine: build 3 to 5, the rest 5.
set -u
cd "$(dirname "$0")/.." || exit 1
root=$(pwd)
builddir=${BUILDDIR:-build-gpu}
out=${1:-gpu-checks-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$out"
out=$(cd "$out" && pwd)
PATH=/usr/local/cuda/bin:$PATH
export PATH

say() { echo "run-gpu-checks: $*" | tee -a "$out/summary.txt"; }

# Counts of one meson test run, from its JSON log.
counts() {
    awk -F'"result": "' 'NF > 1 { split($2, r, "\""); n[r[1]]++ }
      END { printf "%d passed, %d failed, %d skipped", n["OK"], n["FAIL"] + n["TIMEOUT"] + n["ERROR"] + n["UNEXPECTEDPASS"], n["SKIP"] + n["EXPECTEDFAIL"] }' \
      "$builddir/meson-logs/testlog.json"
}

: >"$out/summary.txt"
say "$(date -u '+%Y-%m-%d %H:%M UTC'), $(git rev-parse --short HEAD 2>/dev/null || echo unknown), output in $out"

# Build, with the CUDA backend required, and the bundle from that build.
bundle=$(mktemp -d /tmp/salus-gpu-bundle.XXXXXX)
trap 'rm -rf "$bundle"' EXIT
{ scripts/setup.sh "$builddir" && meson configure "$builddir" -Dcuda=enabled && ninja -C "$builddir" &&
    SALUS_BUNDLE_NO_BUILD=1 BUILDDIR=$builddir scripts/gpu-bundle.sh "$bundle"; } \
    >"$out/build.log" 2>&1 || { say "build failed: see build.log"; exit 1; }
say "built in $builddir with the CUDA backend"

status=0
"$bundle/run" "$out" || status=$?
[ "$status" -eq 77 ] && exit 77
failed=0
[ "$status" -eq 0 ] || failed=1

run_tests() { # NAME, then meson test arguments
    name=$1
    shift
    rc=0
    meson test -C "$builddir" --num-processes 1 --print-errorlogs "$@" >"$out/tests-$name.txt" 2>&1 || rc=$?
    cp "$builddir/meson-logs/testlog.txt" "$out/testlog-$name.txt"
    say "tests $name: $(counts)"
    [ "$rc" -eq 0 ] || failed=1
}
# The bindings' suites honour SALUS_TEST_DEVICE, where this build has them.
SALUS_TEST_DEVICE=cuda run_tests bindings --suite go --suite python
run_tests unit --suite unit

# The real models' training steps (no PyTorch column when its torch has no
# CUDA), against one daemon on the GPU with room left for PyTorch's context.
dir=$(mktemp -d /tmp/salus-gpu-bench.XXXXXX)
"$builddir/salusd/server/salusd" --socket "$dir/salusd.sock" --device cuda --max-lanes 8 \
    --pool-reserve 4G 2>"$out/logs/bench-models-salusd.txt" &
daemon=$!
i=0
while [ ! -S "$dir/salusd.sock" ] && kill -0 "$daemon" 2>/dev/null && [ $i -lt 600 ]; do
    i=$((i + 1))
    sleep 0.05
done
PYTHONPATH="$builddir/bindings/python" /usr/bin/python3 "$root/bench/bench-models.py" \
    --socket "$dir/salusd.sock" --device cuda >"$out/bench-models.txt" 2>&1 ||
    say "bench-models.py failed: see bench-models.txt"
kill "$daemon" 2>/dev/null
wait "$daemon" 2>/dev/null
rm -rf "$dir"
sed 's/^/    /' "$out/bench-models.txt" | tee -a "$out/summary.txt"

if [ "$failed" -ne 0 ]; then
    say "FAILED: see tests-*.txt"
    exit 1
fi
say "every test passed"
exit 0
