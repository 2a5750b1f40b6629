#!/bin/sh
# Who may do what, against a live salusd: clients run as two users this test
# creates, an ordinary one and a member of the admin group, and as root.
# Also names that would break others' tools. Needs root (useradd); prints TAP.
set -eu

: "${SALUSD:?}" "${SALUSCTL:?}" "${HOLD_SESSION:?}"
PY=/usr/bin/python3

if [ "$(id -u)" -ne 0 ]; then
    echo "1..0 # SKIP needs root to create the test's users"
    exit 0
fi
for tool in useradd userdel groupadd groupdel setpriv; do
    if ! command -v "$tool" >/dev/null; then
        echo "1..0 # SKIP $tool is missing"
        exit 0
    fi
done

# Names unique to this run, short enough for useradd (32 bytes).
admins="sa-admins-$$"
user="sa-user-$$"
admin="sa-admin-$$"
dir=$(mktemp -d)
sock="$dir/salusd.sock"
conf="$dir/salusd.conf"
daemon_pid=
held_pids=
cleanup() {
    exec 4>&- 5>&- 2>/dev/null || true
    for p in $held_pids; do kill "$p" 2>/dev/null || true; done
    [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null || true
    userdel "$user" 2>/dev/null || true
    userdel "$admin" 2>/dev/null || true
    groupdel "$admins" 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

groupadd "$admins"
useradd --no-create-home --user-group "$user"
useradd --no-create-home --user-group --groups "$admins" "$admin"
chmod 755 "$dir"

. "$(dirname "$0")/tap.sh"
. "$(dirname "$0")/wrap_salusd.sh"
out="$dir/out" err="$dir/err"
# as USER COMMAND...: runs COMMAND as USER with its groups (root: as is).
as() {
    who=$1
    shift
    if [ "$who" = root ]; then
        "$@"
    else
        setpriv --reuid="$who" --regid="$who" --init-groups "$@"
    fi
}
ctl() { # ctl USER ARGS...
    who=$1
    shift
    as "$who" "$SALUSCTL" --socket "$sock" "$@" >"$out" 2>"$err"
}
# refused USER WHAT ARGS...: salusctl exits 1 with SALUS_EPERM naming WHAT.
refused() {
    who=$1 what=$2
    shift 2
    rc=0
    ctl "$who" "$@" || rc=$?
    [ "$rc" -eq 1 ] && grep -q "not permitted to this user: $what needs root or membership of group $admins$" "$err"
}
# hold USER NAME FD: a session of USER named NAME stays open while FD is;
# sets held_id.
hold() {
    mkfifo -m 666 "$dir/$2.in"
    as "$1" "$HOLD_SESSION" "$sock" "$2" <"$dir/$2.in" >"$dir/$2.out" 2>"$dir/$2.err" &
    held_pids="$held_pids $!"
    eval "exec $3>\"\$dir/\$2.in\""
    until_true "session $2 opens" grep -q '^ready ' "$dir/$2.out"
    held_id=$(sed -n 's/^ready //p' "$dir/$2.out")
}
# create USER NAME [PRIORITY [WEIGHT]]: opens and closes a session; its exit status.
create() {
    who=$1
    shift
    as "$who" "$HOLD_SESSION" "$sock" "$@" </dev/null >"$out" 2>"$err"
}

echo "1..17"

printf '[access]\nadmin-group = %s\n' "$admins" >"$conf"
"$SALUSD" --config "$conf" --socket "$sock" --device cpu --max-lanes 2 --policy pack \
    >"$dir/salusd.log" 2>&1 &
daemon_pid=$!
daemon_up() {
    kill -0 "$daemon_pid" 2>/dev/null || fail "salusd starts" "$dir/salusd.log"
    [ -S "$sock" ]
}
until_true "salusd starts" daemon_up
chmod 666 "$sock"

refused "$user" drain drain && refused "$user" "ending a drain" drain --cancel \
    && ctl root status && grep -q '^ *draining: no$' "$out" \
    && ok "an ordinary user can neither drain nor end a drain (SALUS_EPERM)" \
    || fail "drain as $user" "$out" "$err"

refused "$user" "changing the policy" policy fifo \
    && ctl "$user" policy && grep -q '^policy: pack$' "$out" \
    && ok "an ordinary user cannot change the policy, but reads it" || fail "policy as $user" "$out" "$err"

ctl "$admin" drain && grep -q '^draining: yes' "$out" \
    && ctl "$admin" drain --cancel && grep -q '^draining: no' "$out" \
    && ctl "$admin" policy fifo && grep -q '^policy: fifo (was pack)$' "$out" \
    && ok "a member of the admin group drains, ends the drain and sets the policy" \
    || fail "admin actions as $admin" "$out" "$err"

ctl root drain && ctl root drain --cancel && ctl root policy pack \
    && grep -q '^policy: pack (was fifo)$' "$out" \
    && ok "root drains, ends the drain and sets the policy" || fail "admin actions as root" "$out" "$err"

hold "$user" user-job 4
user_id=$held_id
hold root root-job 5
root_id=$held_id
names() { # the session names of `salusctl --json sessions` in $out
    $PY -c 'import json,sys; print(" ".join(sorted(s["name"] for s in json.load(sys.stdin))))' <"$out"
}
ctl "$user" --json sessions && [ "$(names)" = "user-job" ] \
    && ctl "$user" sessions && ! grep -q root-job "$out" && grep -q user-job "$out" \
    && ok "an ordinary user lists only its own sessions" || fail "sessions as $user" "$out" "$err"

ctl "$admin" --json sessions && [ "$(names)" = "root-job user-job" ] \
    && ctl root --json sessions && [ "$(names)" = "root-job user-job" ] \
    && ok "the admin group and root list every session" || fail "sessions as $admin and root" "$out" "$err"

lane_sessions() { # every session id in the lanes of `salusctl --json status` in $out
    $PY -c 'import json,sys; print(" ".join(str(i) for l in json.load(sys.stdin)["lanes"] for i in sorted(l["sessions"])))' <"$out"
}
ctl "$user" --json status && [ "$(lane_sessions)" = "$user_id" ] \
    && ctl "$admin" --json status && [ "$(lane_sessions | tr ' ' '\n' | sort -n | tr '\n' ' ')" = "$(printf '%s\n' "$user_id" "$root_id" | sort -n | tr '\n' ' ')" ] \
    && ok "status names only the user's own sessions in its lanes; every one for the admin group" \
    || fail "status lanes" "$out" "$err"

ctl "$user" metrics && grep -q "name=\"user-job\"" "$out" && ! grep -q root-job "$out" \
    && ctl "$admin" metrics && grep -q "name=\"root-job\"" "$out" \
    && ok "metrics' session series: the user's own, every one for the admin group" \
    || fail "metrics" "$out" "$err"

refused "$user" "closing another user's session" close "$root_id" \
    && ctl "$admin" close "$user_id" && grep -q "^closed: session $user_id$" "$out" \
    && ctl root close "$root_id" \
    && ctl root --json sessions && [ "$(names)" = "root-job user-job" ] \
    && $PY -c 'import json,sys; assert all(s["state"] == "closed" for s in json.load(sys.stdin))' <"$out" \
    && ok "closing another user's session: refused to an ordinary user, done by the admin group and root" \
    || fail "close" "$out" "$err"
exec 4>&- 5>&-

rc=0
create "$user" eager 5 || rc=$?
[ "$rc" -eq 1 ] && grep -q "not permitted to this user: priority 5 (above max-priority 0) needs root or membership of group $admins" "$err" \
    && rc=0 && { create "$user" patient -3 || rc=$?; } && [ "$rc" -eq 0 ] \
    && ok "an ordinary user's priority above the ceiling is refused, below it allowed" \
    || fail "priority as $user exits $rc" "$out" "$err"

rc=0
create "$user" greedy 0 2.5 || rc=$?
[ "$rc" -eq 1 ] && grep -q "weight 2.5 (above max-weight 1) needs root or membership" "$err" \
    && create "$admin" eager 100 4 && create root eager 1000 8 \
    && ok "weights above the ceiling are refused; the admin group and root exceed both" \
    || fail "weight as $user exits $rc" "$out" "$err"

reloaded=$(grep -c 'configuration reloaded' "$dir/salusd.log" || true)
printf '[access]\nadmin-group = %s\nmax-priority = 10\nmax-weight = 2.5\n' "$admins" >"$conf"
kill -HUP "$daemon_pid"
reload_done() { [ "$(grep -c 'configuration reloaded' "$dir/salusd.log")" -gt "$reloaded" ]; }
until_true "the reload" reload_done
create "$user" eager 5 2.5 && rc=0 || rc=$?
[ "$rc" -eq 0 ] && grep -q 'max-priority 0 -> 10, max-weight 1 -> 2.5' "$dir/salusd.log" \
    && ok "SIGHUP applies new ceilings to the next session" || fail "reload exits $rc" "$err" "$dir/salusd.log"

# Names from one user must not break another's tools.
hostile() { # hostile WHAT NAME RULE: the session name is refused with SALUS_EINVAL
    rc=0
    create "$user" "$2" || rc=$?
    [ "$rc" -eq 1 ] && grep -q "invalid argument: session name $3" "$err" || fail "a name with $1 exits $rc" "$out" "$err"
}
hostile "a newline" "$(printf 'two\nlines')" "has a control character (U+000A at byte 3)"
hostile "an ANSI escape" "$(printf 'red\033[31m')" "has a control character (U+001B at byte 3)"
hostile "a C1 control" "$(printf 'csi\302\233')" "has a control character (U+009B at byte 3)"
hostile "invalid UTF-8" "$(printf 'bad\377')" "is not valid UTF-8 (byte 3)"
hostile "an overlong encoding" "$(printf 'slash\300\257')" "is not valid UTF-8 (byte 5)"
hostile "64 bytes" "$(printf '%064d' 0)" "of 64 bytes is over the limit of 63 bytes"
ok "session names with newlines, escapes, C1 controls, invalid UTF-8 or over 63 bytes are refused"

! grep -q "$(printf '\033')" "$dir/salusd.log" && ! grep -q "$(printf '\377')" "$dir/salusd.log" \
    && ok "no control character or invalid UTF-8 reached the log" || fail "the log" "$dir/salusd.log"

# Names that are valid but hard to quote: JSON and metrics stay valid.
odd='quote" back\ é 名前 {x="y"}'
hold "$user" "$odd" 4
ctl "$user" --json sessions && $PY -c '
import json, sys
names = [s["name"] for s in json.loads(sys.stdin.buffer.read().decode("utf-8"))]
assert sys.argv[1] in names, names
' "$odd" <"$out" && ok "sessions --json parses and keeps an odd name exactly" || fail "odd JSON" "$out" "$err"

ctl root metrics && $PY -c '
import re, sys
text = sys.stdin.buffer.read().decode("utf-8")  # the exposition format is UTF-8
label = r"[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\n]|\\[\\\"n])*\""
sample = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*(\{" + label + r"(," + label + r")*\})? \S+")
found = False
for line in text.splitlines():
    if line.startswith("# HELP ") or line.startswith("# TYPE "):
        continue
    assert sample.fullmatch(line), line
    found = found or "名前" in line
assert found, text
' <"$out" && ok "every metrics line parses, the odd name among them" || fail "odd metrics" "$out" "$err"
exec 4>&-

kill "$daemon_pid"
wait "$daemon_pid" && rc=0 || rc=$?
daemon_pid=
[ "$rc" -eq 0 ] && ok "salusd exits 0 on SIGTERM" || fail "salusd exits $rc" "$dir/salusd.log"
