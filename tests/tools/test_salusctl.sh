#!/bin/sh
# salusctl against a live salusd running salus-demo; prints TAP.
set -eu

: "${SALUSD:?}" "${SALUSCTL:?}" "${SALUS_DEMO:?}"
PY=/usr/bin/python3

dir=$(mktemp -d)
sock="$dir/salusd.sock"
daemon_pid=
demo_pid=
cleanup() {
    [ -n "$demo_pid" ] && kill "$demo_pid" 2>/dev/null || true
    [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

n=0
ok() {
    n=$((n + 1))
    echo "ok $n - $1"
}
# Stops at the first failure: later checks depend on earlier state.
fail() {
    n=$((n + 1))
    echo "not ok $n - $1"
    shift
    for f in "$@"; do [ -f "$f" ] && sed 's/^/# /' "$f"; done
    exit 1
}
ctl() { "$SALUSCTL" --socket "$sock" "$@"; }

echo "1..13"

"$SALUSD" --socket "$sock" --max-lanes 1 --policy pack >"$dir/salusd.log" 2>&1 &
daemon_pid=$!
i=0
while [ ! -S "$sock" ]; do
    kill -0 "$daemon_pid" 2>/dev/null || fail "salusd starts" "$dir/salusd.log"
    i=$((i + 1))
    [ "$i" -lt 200 ] || fail "salusd starts within 10 s" "$dir/salusd.log"
    sleep 0.05
done

out="$dir/out" err="$dir/err"

ctl status >"$out" 2>"$err" && grep -q 'policy: pack' "$out" \
    && ok "status exits 0 and shows the policy" || fail "status" "$out" "$err"

ctl status --json >"$out" 2>"$err" \
    && $PY -c 'import json,sys; d=json.load(sys.stdin); assert d["policy"]=="pack"
for k in ("pool_bytes","free_bytes","lanes","open_sessions","switches"): assert isinstance(d[k], int), k' <"$out" \
    && ok "status --json is valid JSON" || fail "status --json" "$out" "$err"

ctl policy fifo >"$out" 2>"$err" && grep -q '^policy: fifo (was pack)$' "$out" \
    && ctl policy >"$out" 2>"$err" && grep -q '^policy: fifo$' "$out" \
    && ok "policy sets and shows the policy" || fail "policy fifo" "$out" "$err"

if ctl policy bogus >"$out" 2>"$err"; then fail "policy bogus fails" "$out"; fi
grep -q '^salusctl: .*bogus' "$err" && ok "policy bogus fails with a message" \
    || fail "policy bogus message" "$err"

ctl sessions >"$out" 2>"$err" && [ "$(wc -l <"$out")" -eq 1 ] && grep -q '^ID  *NAME' "$out" \
    && ok "sessions on an idle daemon prints the header only" || fail "idle sessions" "$out" "$err"

"$SALUS_DEMO" --socket "$sock" >"$dir/demo.log" 2>&1 &
demo_pid=$!
# Closed sessions stay listed, so this ends even if the demo is quick.
i=0
while :; do
    ctl sessions --json >"$out" 2>"$err" || fail "sessions --json while the demo runs" "$err"
    $PY -c 'import json,sys; assert len(json.load(sys.stdin)) > 0' <"$out" 2>/dev/null && break
    i=$((i + 1))
    [ "$i" -lt 400 ] || fail "demo sessions appear within 20 s" "$out" "$dir/demo.log"
    sleep 0.05
done
$PY -c '
import json, sys
sessions = json.load(sys.stdin)
for s in sessions:
    assert isinstance(s["id"], int) and s["id"] > 0, s
    assert isinstance(s["name"], str), s
    assert s["state"] in ("queued", "waiting", "ready", "running", "closing", "closed"), s
    assert s["lane"] is None or isinstance(s["lane"], int), s
    for k in ("persistent_bytes", "ephemeral_bytes", "iterations", "run_ns", "pid"):
        assert isinstance(s[k], int) and s[k] >= 0, (k, s)
' <"$out" && ok "sessions --json lists the demo sessions" || fail "sessions --json fields" "$out"

ctl sessions >"$out" 2>"$err" && [ "$(wc -l <"$out")" -ge 2 ] \
    && ok "sessions prints one line per session" || fail "sessions table" "$out" "$err"

ctl metrics >"$out" 2>"$err" && grep -q '^# TYPE salus_pool_bytes gauge$' "$out" \
    && grep -q '^# HELP salus_job_switches_total ' "$out" \
    && grep -q '^salus_job_switch_seconds{quantile="0.99"} ' "$out" \
    && grep -q '^salus_session_iterations_total{session="[0-9]*",name="' "$out" \
    && ok "metrics is Prometheus text with session series" || fail "metrics" "$out" "$err"

wait "$demo_pid" && demo_rc=0 || demo_rc=$?
demo_pid=
[ "$demo_rc" -eq 0 ] && ok "salus-demo finishes" || fail "salus-demo exits $demo_rc" "$dir/demo.log"

ctl sessions --json >"$out" 2>"$err" && $PY -c '
import json, sys
sessions = json.load(sys.stdin)
assert len(sessions) >= 3, sessions
assert all(s["state"] == "closed" and s["iterations"] > 0 for s in sessions), sessions
' <"$out" && ok "finished sessions stay listed as closed" || fail "closed sessions" "$out" "$err"

rc=0
ctl frobnicate >"$out" 2>"$err" || rc=$?
[ "$rc" -eq 2 ] && [ ! -s "$out" ] && ok "unknown command exits 2" || fail "unknown command exits $rc" "$err"

rc=0
"$SALUSCTL" --socket /nonexistent/x.sock status >"$out" 2>"$err" || rc=$?
[ "$rc" -eq 1 ] && grep -q '^salusctl: connect: ' "$err" \
    && ok "an unreachable daemon exits 1 with a message" || fail "bad socket exits $rc" "$err"

"$SALUSCTL" --version >"$out" && grep -qx 'salusctl 0.1.0' "$out" \
    && ok "--version" || fail "--version" "$out"
