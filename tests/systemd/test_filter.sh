#!/bin/sh
# test_filter.sh SERVICE: salusd under the system-call filter of SERVICE
# (SystemCallFilter=, RestrictAddressFamilies= and friends, emulated with
# seccomp by syscall-filter): it serves a session, no call it makes is
# denied, and the filter does bite. SALUS_TEST_DEVICE picks the device
# (cpu by default; cuda on a GPU machine). Prints TAP.
set -u
service=$1
: "${SALUSD:?}" "${SYSCALL_FILTER:?}" "${HOLD_SESSION:?}"
device=${SALUS_TEST_DEVICE:-cpu}

if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "1..0 # SKIP systemd-analyze is missing"
    exit 77
fi
if ! "$SYSCALL_FILTER" "$service" -- /bin/true 2>/dev/null; then
    echo "1..0 # SKIP seccomp filters cannot be installed here"
    exit 77
fi

dir=$(mktemp -d) || exit 1
pid=
cleanup() {
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
    rm -rf "$dir"
}
trap cleanup EXIT

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
    n=$((n + 1))
    failed=1
    echo "not ok $n - $1"
    shift
    for f in "$@"; do [ -s "$f" ] && sed 's/^/# /' "$f"; done
}

# serve UNIT [--report]: salusd under UNIT's filter serves one session and
# exits 0 on SIGTERM; its stderr is in $dir/log.
serve() {
    sock="$dir/salusd.sock"
    rm -f "$sock"
    "$SYSCALL_FILTER" ${2:-} "$1" -- "$SALUSD" --config /dev/null --socket "$sock" \
        --device "$device" --pool-bytes 64M --workers 1 --max-lanes 1 >"$dir/log" 2>&1 &
    pid=$!
    i=0
    while [ ! -S "$sock" ]; do
        kill -0 "$pid" 2>/dev/null || return 1
        i=$((i + 1))
        [ "$i" -lt 400 ] || return 1
        sleep 0.05
    done
    "$HOLD_SESSION" "$sock" filtered </dev/null >"$dir/hold" 2>&1 || return 1
    grep -q '^ready ' "$dir/hold" || return 1
    kill -TERM "$pid"
    wait "$pid"
    rc=$?
    pid=
    [ "$rc" -eq 0 ]
}

echo "1..4"

if serve "$service"; then
    ok "salusd ($device) serves a session under the unit's filter and exits 0"
else
    not_ok "salusd ($device) serves a session under the unit's filter" "$dir/log" "$dir/hold"
fi

if serve "$service" --report && ! grep -q '^syscall-filter: denied' "$dir/log"; then
    ok "no system call of salusd ($device) is denied"
else
    not_ok "no system call of salusd ($device) is denied" "$dir/log" "$dir/hold"
fi

# The filter bites: without @io-event (epoll) salusd cannot run its loop.
sed 's/^SystemCallFilter=~@privileged$/SystemCallFilter=~@privileged @io-event/' "$service" \
    >"$dir/broken.service"
if grep -q '@io-event' "$dir/broken.service" && ! serve "$dir/broken.service"; then
    ok "a filter without @io-event stops salusd"
else
    not_ok "a filter without @io-event stops salusd" "$dir/log"
fi
[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
pid=

# RestrictAddressFamilies=AF_UNIX: an IP socket cannot be made.
if /usr/bin/python3 -c 'pass' 2>/dev/null; then
    "$SYSCALL_FILTER" "$service" -- /usr/bin/python3 -c '
import errno, socket
try:
    socket.socket(socket.AF_INET, socket.SOCK_STREAM)
except OSError as e:
    raise SystemExit(0 if e.errno == errno.EAFNOSUPPORT else 1)
socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
raise SystemExit(1)' >"$dir/af" 2>&1
    if [ $? -eq 0 ]; then
        ok "an AF_INET socket fails with EAFNOSUPPORT, AF_UNIX is fine"
    else
        not_ok "an AF_INET socket fails with EAFNOSUPPORT" "$dir/af"
    fi
else
    ok "an AF_INET socket fails with EAFNOSUPPORT # SKIP no /usr/bin/python3"
fi
exit $failed
