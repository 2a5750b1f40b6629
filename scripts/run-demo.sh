#!/bin/sh
# Sets up what is missing, builds, starts salusd (CPU backend) on a private
# socket, runs salus-demo (three MLP jobs sharing it), then a small CNN and a
# transformer defined in PyTorch training side by side through it
# (examples/python/share_models.py), and stops the daemon.
set -eu
cd "$(dirname "$0")/.."
builddir=${BUILDDIR:-build}
scripts/setup.sh "$builddir"
ninja -C "$builddir"

rundir=$(mktemp -d /tmp/salus-demo.XXXXXX)
sock="$rundir/salusd.sock"
"$builddir/salusd/server/salusd" --socket "$sock" 2>"$rundir/salusd.log" &
daemon=$!
cleanup() {
  kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
  echo "--- salusd log ($rundir/salusd.log) ---"
  cat "$rundir/salusd.log"
}
trap cleanup EXIT

# Wait for the daemon to accept connections.
i=0
while [ ! -S "$sock" ]; do
  i=$((i + 1))
  if [ $i -gt 100 ] || ! kill -0 "$daemon" 2>/dev/null; then
    echo "salusd did not start" >&2
    exit 1
  fi
  sleep 0.05
done

"$builddir/tools/salus-demo" --socket "$sock"
echo
echo "--- a CNN and a transformer from PyTorch, training at the same time ---"
PYTHONPATH="$builddir/bindings/python" /usr/bin/python3 examples/python/share_models.py --socket "$sock"
