#!/bin/sh
# salusctl against a live salusd: salus-demo's sessions and sessions held open
# by hold_session; prints TAP.
set -eu

: "${SALUSD:?}" "${SALUSCTL:?}" "${SALUS_DEMO:?}" "${HOLD_SESSION:?}"
PY=/usr/bin/python3

dir=$(mktemp -d)
sock="$dir/salusd.sock"
daemon_pid=
demo_pid=
hold_pid=
wait_pid=
cleanup() {
    exec 3>&- 2>/dev/null || true
    for p in $demo_pid $hold_pid $wait_pid; do kill "$p" 2>/dev/null || true; done
    [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/wrap_salusd.sh"
ctl() { "$SALUSCTL" --socket "$sock" "$@"; }
json_ok() { $PY -c 'import json,sys; json.load(sys.stdin)' <"$1"; }
# hold NAME: a session named NAME stays open until release; sets hold_id.
hold() {
    mkfifo "$dir/$1.in"
    "$HOLD_SESSION" "$sock" "$1" <"$dir/$1.in" >"$dir/$1.out" 2>"$dir/$1.err" &
    hold_pid=$!
    exec 3>"$dir/$1.in"
    until_true "session $1 opens" grep -q '^ready ' "$dir/$1.out"
    hold_id=$(sed -n 's/^ready //p' "$dir/$1.out")
}
release() {
    exec 3>&-
    wait "$hold_pid" || fail "the held session closes cleanly" "$dir"/*.err
    hold_pid=
}

echo "1..23"

"$SALUSD" --config /dev/null --socket "$sock" --device cpu --max-lanes 1 --policy pack \
    >"$dir/salusd.log" 2>&1 &
daemon_pid=$!
out="$dir/out" err="$dir/err"
: >"$out"
: >"$err"
daemon_up() {
    kill -0 "$daemon_pid" 2>/dev/null || fail "salusd starts" "$dir/salusd.log"
    [ -S "$sock" ]
}
until_true "salusd starts" daemon_up

ctl status >"$out" 2>"$err" && grep -q '^ *policy: pack$' "$out" \
    && grep -q '^ *device: .*(cpu), .* memory, .* free$' "$out" \
    && grep -q '^ *draining: no$' "$out" && grep -q '^ *lanes: 0$' "$out" \
    && ok "status shows the device, policy, draining and lanes" || fail "status" "$out" "$err"

ctl status --json >"$out" 2>"$err" \
    && $PY -c 'import json,sys; d=json.load(sys.stdin); assert d["policy"]=="pack"
assert d["device"]["type"]=="cpu" and d["device"]["total_bytes"]>0, d
assert d["draining"] is False and d["lanes"]==[] and d["queued"]==[], d
for k in ("pool_bytes","free_bytes","open_sessions","switches"): assert isinstance(d[k], int), k
assert d["holds"]["granted"]==0 and sorted(d["holds"])==["early","expired","granted","held_ns","returned"], d' <"$out" \
    && ok "status --json is valid JSON" || fail "status --json" "$out" "$err"

ctl policy fifo >"$out" 2>"$err" && grep -q '^policy: fifo (was pack)$' "$out" \
    && ctl policy >"$out" 2>"$err" && grep -q '^policy: fifo$' "$out" \
    && ctl --json policy pack >"$out" 2>"$err" && json_ok "$out" \
    && grep -q '"previous":"fifo"' "$out" \
    && ok "policy sets and shows the policy, also as JSON" || fail "policy" "$out" "$err"

rc=0
ctl policy bogus >"$out" 2>"$err" || rc=$?
[ "$rc" -eq 1 ] && grep -q '^salusctl: .*bogus' "$err" && ok "policy bogus exits 1 with a message" \
    || fail "policy bogus exits $rc" "$err"

ctl sessions >"$out" 2>"$err" && [ "$(wc -l <"$out")" -eq 1 ] \
    && grep -q '^ID  *OWNER  *PID  *JOB  *NAME  *STATE  *LANE  *P  *T  *ITERS  *RUN  *MEAN$' "$out" \
    && ok "sessions on an idle daemon prints the header only" || fail "idle sessions" "$out" "$err"

hold alpha
ctl status >"$out" 2>"$err" && grep -q '^ *lanes: 1$' "$out" \
    && grep -Eq "^ *[0-9]+ .*(KiB|B) .*thread [0-9]+ +$hold_id alpha$" "$out" \
    && grep -q '^ *sessions: 1 open, 0 queued for memory$' "$out" \
    && ok "status lists the lane with its session and memory" || fail "status lanes" "$out" "$err"

ctl status --json >"$out" 2>"$err" && $PY -c '
import json, sys
d = json.load(sys.stdin)
lanes = d["lanes"]
assert len(lanes) == 1 and lanes[0]["sessions"] == [int(sys.argv[1])], lanes
l = lanes[0]
assert l["persistent_bytes"] + l["ephemeral_bytes"] <= l["capacity"], l
assert l["stream"].startswith("thread "), l
' "$hold_id" <"$out" && ok "status --json lists the lane's sessions" || fail "status --json lanes" "$out" "$err"

me=$(id -un)
ctl sessions >"$out" 2>"$err" \
    && grep -Eq "^ *$hold_id +$me +[0-9]+ +- +alpha +(waiting|ready|running) +[0-9]+ .* 1/- " "$out" \
    && ok "sessions shows id, owner, pid, job, name, state, lane, P, T and iterations" \
    || fail "sessions table" "$out" "$err"

ctl sessions --json >"$out" 2>"$err" && $PY -c '
import json, os, sys
s = [x for x in json.load(sys.stdin) if x["name"] == "alpha"]
assert len(s) == 1, s
s = s[0]
assert s["uid"] == os.getuid() and s["owner"] == sys.argv[1], s
assert s["iterations"] == 1 and isinstance(s["lane"], int), s
' "$me" <"$out" && ok "sessions --json has the uid and the owner" || fail "sessions --json" "$out" "$err"

ctl drain >"$out" 2>"$err" && grep -q '^draining: yes (new sessions are refused), 1 session open$' "$out" \
    && ctl status >"$out" 2>"$err" && grep -q '^ *draining: yes' "$out" \
    && ctl status --json >"$out" 2>"$err" && grep -q '"draining":true' "$out" && json_ok "$out" \
    && ok "drain refuses new sessions and status shows it" || fail "drain" "$out" "$err"

rc=0
"$HOLD_SESSION" "$sock" beta </dev/null >"$out" 2>"$err" || rc=$?
[ "$rc" -eq 1 ] && grep -q 'daemon is draining or shutting down: .*draining' "$err" \
    && ok "a new session is refused with SALUS_ESHUTDOWN while draining" \
    || fail "session while draining exits $rc" "$out" "$err"

# Without fd 3: only this shell may hold the fifo open for hold_session.
(exec 3>&- && exec "$SALUSCTL" --socket "$sock" drain --wait >"$dir/wait.out" 2>"$dir/wait.err") &
wait_pid=$!
until_true "drain --wait says it waits" grep -q '^draining: waiting for 1 open session to close$' "$dir/wait.out"
kill -0 "$wait_pid" && ok "drain --wait waits while a session is open" \
    || fail "drain --wait returned early" "$dir/wait.out" "$dir/wait.err"
release
wait "$wait_pid" && rc=0 || rc=$?
wait_pid=
[ "$rc" -eq 0 ] && grep -q '^draining: yes (new sessions are refused), 0 sessions open$' "$dir/wait.out" \
    && ok "drain --wait returns once the last session closed" \
    || fail "drain --wait exits $rc" "$dir/wait.out" "$dir/wait.err"

ctl drain --cancel --json >"$out" 2>"$err" && json_ok "$out" && grep -q '"draining":false' "$out" \
    && "$HOLD_SESSION" "$sock" gamma </dev/null >"$dir/gamma.out" 2>"$err" \
    && ok "drain --cancel admits sessions again" || fail "drain --cancel" "$out" "$err"

"$SALUS_DEMO" --socket "$sock" >"$dir/demo.log" 2>&1 &
demo_pid=$!
has_demo_session() {
    ctl sessions --json >"$out" 2>"$err" || fail "sessions --json while the demo runs" "$err"
    $PY -c 'import json,sys; assert any(s["name"].startswith("train") for s in json.load(sys.stdin))' \
        <"$out" 2>/dev/null
}
# Closed sessions stay listed, so this ends even if the demo is quick.
until_true "demo sessions appear" has_demo_session
$PY -c '
import json, sys
sessions = json.load(sys.stdin)
for s in sessions:
    assert isinstance(s["id"], int) and s["id"] > 0, s
    assert isinstance(s["name"], str), s
    assert s["state"] in ("queued", "waiting", "ready", "running", "closing", "closed"), s
    assert s["lane"] is None or isinstance(s["lane"], int), s
    for k in ("persistent_bytes", "ephemeral_bytes", "iterations", "run_ns", "pid", "uid"):
        assert isinstance(s[k], int) and s[k] >= 0, (k, s)
' <"$out" && ok "sessions --json lists the demo sessions" || fail "sessions --json fields" "$out"

ctl metrics >"$out" 2>"$err" && grep -q '^# TYPE salus_pool_bytes gauge$' "$out" \
    && grep -q '^# HELP salus_job_switches_total ' "$out" \
    && grep -q '^salus_draining 0$' "$out" \
    && grep -q '^salus_job_switch_seconds{quantile="0.99"} ' "$out" \
    && grep -q '^salus_holds_total{end="expired"} [0-9]*$' "$out" \
    && grep -q '^salus_hold_seconds_total ' "$out" \
    && grep -q '^salus_session_iterations_total{session="[0-9]*",name="' "$out" \
    && ok "metrics is Prometheus text with session series" || fail "metrics" "$out" "$err"

wait "$demo_pid" && demo_rc=0 || demo_rc=$?
demo_pid=
[ "$demo_rc" -eq 0 ] && ok "salus-demo finishes" || fail "salus-demo exits $demo_rc" "$dir/demo.log"

ctl sessions --json >"$out" 2>"$err" && $PY -c '
import json, sys
sessions = json.load(sys.stdin)
assert len(sessions) >= 5, sessions
assert all(s["state"] == "closed" for s in sessions), sessions
' <"$out" && ctl sessions >"$out" 2>"$err" && [ "$(grep -c ' closed ' "$out")" -ge 5 ] \
    && ok "finished sessions stay listed as closed" || fail "closed sessions" "$out" "$err"

usage() { # usage DESCRIPTION ARGS...: salusctl exits 2 with a message and no output
    what=$1
    shift
    rc=0
    ctl "$@" >"$out" 2>"$err" || rc=$?
    [ "$rc" -eq 2 ] && [ ! -s "$out" ] && grep -q '^salusctl: ' "$err" || fail "$what exits $rc" "$out" "$err"
}
usage "an unknown command" frobnicate
usage "a missing command"
usage "drain --wait --cancel" drain --wait --cancel
usage "--wait without drain" status --wait
usage "--json with metrics" metrics --json
usage "an unknown option" status --frob
ok "misuse exits 2 with a message: unknown command or option, --wait/--cancel, --json metrics"

rc=0
"$SALUSCTL" --socket "$dir/nonexistent.sock" status >"$out" 2>"$err" || rc=$?
[ "$rc" -eq 1 ] && grep -q '^salusctl: connect: ' "$err" \
    && ok "an unreachable daemon exits 1 with a message" || fail "bad socket exits $rc" "$err"

"$SALUSCTL" --version >"$out" && grep -qx 'salusctl [0-9.]*' "$out" && ok "--version" || fail "--version" "$out"

"$SALUSCTL" --help >"$out" && grep -q '^  drain \[--wait\]' "$out" && ok "--help lists drain" || fail "--help" "$out"

kill "$daemon_pid"
wait "$daemon_pid" && rc=0 || rc=$?
daemon_pid=
[ "$rc" -eq 0 ] && ok "salusd exits 0 on SIGTERM" || fail "salusd exits $rc" "$dir/salusd.log"
