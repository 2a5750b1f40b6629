#!/bin/sh
# salusd --device on whatever this machine has; prints TAP.
#  - auto starts, on CUDA when a GPU is there, else on the CPU, and its log
#    line says which and why;
#  - cuda without a GPU (or in a build without the backend) exits 1 at
#    once with a message that says why, and leaves no socket behind;
#  - cuda with a GPU starts on cuda:0;
#  - a malformed device is a usage error (exit 2) naming the accepted values.
set -eu

: "${SALUSD:?}"

dir=$(mktemp -d)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

. "$(dirname "$0")/../tools/tap.sh"
. "$(dirname "$0")/../tools/wrap_salusd.sh"

# Starts salusd with "$@" in the background and waits for its socket.
start() {
    rm -f "$dir/s.sock"
    "$SALUSD" --socket "$dir/s.sock" "$@" >"$dir/log" 2>&1 &
    pid=$!
    i=0
    while [ ! -S "$dir/s.sock" ]; do
        kill -0 "$pid" 2>/dev/null || fail "salusd $* starts" "$dir/log"
        i=$((i + 1))
        [ "$i" -lt 400 ] || fail "salusd $* starts within 20 s" "$dir/log"
        sleep 0.05
    done
}
stop() {
    kill "$pid"
    status=0
    wait "$pid" || status=$?
    pid=
    [ "$status" -eq 0 ] || fail "salusd stops cleanly (status $status)" "$dir/log"
}
# Runs salusd with "$@", which must exit by itself within 20 s; sets $status.
run_to_exit() {
    rm -f "$dir/s.sock"
    "$SALUSD" --socket "$dir/s.sock" "$@" >"$dir/log" 2>&1 &
    pid=$!
    i=0
    while kill -0 "$pid" 2>/dev/null; do
        i=$((i + 1))
        [ "$i" -lt 400 ] || fail "salusd $* exits within 20 s" "$dir/log"
        sleep 0.05
    done
    status=0
    wait "$pid" || status=$?
    pid=
}

echo "1..4"

start --device auto
stop
line=$(grep 'device .* (auto: ' "$dir/log" || true)
case "$line" in
*"device cuda:0 "*"(auto: first CUDA device)") gpu=yes ;;
*"device cpu "*"(auto: no CUDA device ("?*")") gpu=no ;;
*"device cpu "*"(auto: this salusd was built without the CUDA backend)") gpu=no ;;
*) fail "auto names the device it chose and why" "$dir/log" ;;
esac
ok "auto chose a device and said why: ${line#*device }"

if [ "$gpu" = yes ]; then
    start --device cuda
    stop
    grep -q 'device cuda:0 .*(asked for)' "$dir/log" && grep -q 'started (cuda backend' "$dir/log" \
        && ok "cuda starts on cuda:0" || fail "cuda starts on cuda:0" "$dir/log"
    run_to_exit --device cuda:99
    [ "$status" -eq 1 ] && grep -q 'cuda:99: no such device' "$dir/log" \
        && ok "cuda:99 exits 1: no such device" || fail "cuda:99 exits 1 (status $status)" "$dir/log"
else
    run_to_exit --device cuda
    [ "$status" -eq 1 ] && grep -Eq 'no CUDA device: .+|built without the CUDA backend' "$dir/log" \
        && ok "cuda without a GPU exits 1 and says why: $(head -n1 "$dir/log")" \
        || fail "cuda without a GPU exits 1 and says why (status $status)" "$dir/log"
    [ ! -e "$dir/s.sock" ] && ok "and leaves no socket" || fail "and leaves no socket"
fi

run_to_exit --device gpu
[ "$status" -eq 2 ] && grep -q "invalid --device 'gpu': expected auto, cpu, cuda or cuda:N" "$dir/log" \
    && ok "a malformed device exits 2 naming the accepted values" \
    || fail "a malformed device exits 2 (status $status)" "$dir/log"
