#!/bin/sh
# Builds, starts salusd on a private socket, and runs every benchmark.
#   bench/run.sh [BUILDDIR]
set -eu
cd "$(dirname "$0")/.."
builddir=${1:-build}
scripts/setup.sh "$builddir"
ninja -C "$builddir"

rundir=$(mktemp -d /tmp/salus-bench.XXXXXX)
sock="$rundir/salusd.sock"
# One lane and the pack policy, so bench-switch sees every switch; the other
# benchmarks run one session at a time.
"$builddir/salusd/server/salusd" --socket "$sock" --blas-threads 1 --max-lanes 1 --policy pack \
  2>"$rundir/salusd.log" &
daemon=$!
trap 'kill $daemon 2>/dev/null; wait $daemon 2>/dev/null; rm -rf "$rundir"' EXIT
i=0
while [ ! -S "$sock" ]; do
  i=$((i + 1)); [ $i -le 100 ] || { echo "salusd did not start" >&2; exit 1; }
  sleep 0.05
done

echo "== $(date -u +%Y-%m-%d) on $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
"$builddir/bench/bench-roundtrip" --socket "$sock"
if [ -d "$builddir/bindings/python/salus" ]; then
  PYTHONPATH="$builddir/bindings/python" /usr/bin/python3 bench/bench-python-roundtrip.py \
    --socket "$sock" --bench-roundtrip "$builddir/bench/bench-roundtrip"
fi
"$builddir/bench/bench-mlp" --socket "$sock" --threads 1 --torch bench/torch_mlp.py
if [ -d "$builddir/bindings/python/salus" ]; then
  PYTHONPATH="$builddir/bindings/python" /usr/bin/python3 bench/bench-models.py --socket "$sock" \
    --threads 1
  PYTHONPATH="$builddir/bindings/python" /usr/bin/python3 bench/bench-torch.py --socket "$sock" \
    --threads 1
  PYTHONPATH="$builddir/bindings/python" /usr/bin/python3 bench/bench-onnx.py --socket "$sock" \
    --threads 1
fi
"$builddir/bench/bench-switch" --socket "$sock"
"$builddir/bench/bench-sync-policies" --socket "$sock"
"$builddir/bench/bench-sched"
"$builddir/bench/bench-cpu-kernels"
"$builddir/bench/bench-packing" --csv tests/data/salus-workloads.csv
