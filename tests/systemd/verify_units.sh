#!/bin/sh
# systemd-analyze verify on the generated salusd.service and salusd.socket.
# Usage: verify_units.sh SERVICE SOCKET (SALUSD names the built daemon).
# Unknown keys only warn (exit 0), so stderr is checked for them as well.
# verify does not need the salus user to exist (systemd 252 resolves User=
# only when the unit starts), so the units are checked unchanged apart from
# ExecStart, which points at the built salusd.
set -u
service=$1
socket=$2

if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "1..0 # SKIP systemd-analyze is missing"
  exit 77
fi
if [ -z "${SALUSD:-}" ] || [ ! -x "$SALUSD" ]; then
  echo "1..0 # SKIP SALUSD is not an executable salusd"
  exit 77
fi

dir=$(mktemp -d /tmp/salus-verify-XXXXXX) || exit 1
trap 'rm -rf "$dir"' EXIT
echo "1..4"

failed=0
n=0
check() { # check OK DESCRIPTION
  n=$((n + 1))
  if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi
}

sed "s|^ExecStart=[^ ]*|ExecStart=$SALUSD|" "$service" >"$dir/salusd.service"
cp "$socket" "$dir/salusd.socket"
grep -q "^ExecStart=$SALUSD " "$dir/salusd.service"
check $? "ExecStart of the copy points at the built salusd"

(cd "$dir" && systemd-analyze verify --man=no ./salusd.service ./salusd.socket) \
  >"$dir/out" 2>"$dir/err"
rc=$?
sed 's/^/# /' "$dir/out" "$dir/err"
check $rc "systemd-analyze verify passes (exit $rc)"

! grep -Eiq "unknown (key|lvalue|section)" "$dir/err"
check $? "no unknown keys or sections"

# A unit that verify must reject shows the check can fail at all.
printf '[Service]\nBogusKey=1\n' >>"$dir/salusd.service"
(cd "$dir" && systemd-analyze verify --man=no ./salusd.service) 2>"$dir/err2" >/dev/null
grep -Eiq "unknown (key|lvalue)" "$dir/err2"
check $? "an unknown key in a broken copy is caught"

exit $failed
