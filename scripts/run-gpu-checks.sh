#!/bin/sh
# The GPU proof in one command, on a machine with an NVIDIA GPU (sm_80 or
# newer), its driver, and the CUDA Toolkit in /usr/local/cuda:
#   scripts/run-gpu-checks.sh [OUTDIR]
# Builds with the CUDA backend in build-gpu/ (BUILDDIR overrides), then runs
# and records in OUTDIR (default gpu-checks-<UTC time>):
#   device.txt        nvidia-smi, and the device salusd's tests see
#   build.log
#   tests-cuda.txt    the GPU suite: every kernel against the CPU, two lanes
#                     overlapping (CUDA events), MLP losses GPU vs CPU, the pool
#                     claimed once, admission, the lost device (illegal address)
#   tests-on-cuda.txt the C API, integration and binding suites against
#                     salusd --device cuda
#   tests-unit.txt    the unit suite, on this build
#   testlog-*.txt     meson's full logs of the three runs
#   bench-gpu.txt     bench-gpu-mlp (salusd vs PyTorch on this GPU),
#                     bench-gpu-sharing (2, 4, 8 jobs through lanes vs one by one)
#                     and bench-models (ResNet-18 and transformer steps)
#   summary.txt
# Exit status: 0 when every test passed, 77 without a GPU, 1 otherwise.
# About 10 minutes on a 16-core machine: build 3 to 5, tests 4 to 6,
# benchmarks 1 to 2. The tests run one at a time: each daemon claims most of
# the GPU's memory.
set -u
cd "$(dirname "$0")/.."
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
gpu=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null |
    head -n 1)
{ command -v nvidia-smi >/dev/null && nvidia-smi || echo "nvidia-smi: not found"; } >"$out/device.txt" 2>&1

# Build, with the CUDA backend required.
{ scripts/setup.sh "$builddir" && meson configure "$builddir" -Dcuda=enabled && ninja -C "$builddir"; } \
    >"$out/build.log" 2>&1 || { say "build failed: see build.log"; exit 1; }
say "built in $builddir with the CUDA backend"

status=0
"$builddir/tests/cuda/gpu-present" run-gpu-checks >>"$out/device.txt" 2>&1 || status=$?
if [ "$status" -eq 77 ]; then
    say "no CUDA device: nothing to prove here ($(tail -n 1 "$out/device.txt"))"
    exit 77
fi

failed=0
run_tests() { # NAME, then meson test arguments
    name=$1
    shift
    rc=0
    meson test -C "$builddir" --num-processes 1 --print-errorlogs "$@" >"$out/tests-$name.txt" 2>&1 || rc=$?
    cp "$builddir/meson-logs/testlog.txt" "$out/testlog-$name.txt"
    say "tests $name: $(counts)"
    [ "$rc" -eq 0 ] || failed=1
}
run_tests cuda --suite cuda
# Every suite that starts daemons honours SALUS_TEST_DEVICE (the bindings'
# suites too, where this build has them).
SALUS_TEST_DEVICE=cuda run_tests on-cuda --suite capi --suite integration --suite go --suite python
run_tests unit --suite unit

# Benchmarks against one daemon on the GPU, with room left for the
# in-process comparison's own CUDA context.
dir=$(mktemp -d /tmp/salus-gpu-bench.XXXXXX)
"$builddir/salusd/server/salusd" --socket "$dir/salusd.sock" --device cuda --max-lanes 8 \
    --pool-reserve 4G 2>"$out/bench-salusd.log" &
daemon=$!
i=0
while [ ! -S "$dir/salusd.sock" ] && kill -0 "$daemon" 2>/dev/null && [ $i -lt 600 ]; do
    i=$((i + 1))
    sleep 0.05
done
{
    echo "== $(date -u +%Y-%m-%d) on ${gpu:-an unnamed GPU}, $(nproc) cores"
    "$builddir/bench/bench-gpu-mlp" --socket "$dir/salusd.sock" --torch "$root/bench/torch_mlp.py"
    "$builddir/bench/bench-gpu-sharing" --socket "$dir/salusd.sock"
    # The real models' training steps (no PyTorch column when its torch has
    # no CUDA).
    PYTHONPATH="$builddir/bindings/python" /usr/bin/python3 "$root/bench/bench-models.py" \
        --socket "$dir/salusd.sock" --device cuda
} >"$out/bench-gpu.txt" 2>&1 || say "a benchmark failed: see bench-gpu.txt"
kill "$daemon" 2>/dev/null
wait "$daemon" 2>/dev/null
rm -rf "$dir"
say "benchmarks: bench-gpu.txt"
sed 's/^/    /' "$out/bench-gpu.txt" | tee -a "$out/summary.txt"

if [ "$failed" -ne 0 ]; then
    say "FAILED: see tests-*.txt"
    exit 1
fi
say "every test passed"
exit 0
