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
echo "1..7"

failed=0
n=0
check() { # check OK DESCRIPTION
  n=$((n + 1))
  if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=1; fi
}

sed "s|^ExecStart=[^ ]*|ExecStart=$SALUSD|" "$service" >"$dir/salusd.service"
cp "$socket" "$dir/salusd.socket"
grep -q "^ExecStart=$SALUSD\$" "$dir/salusd.service"
check $? "ExecStart of the copy points at the built salusd"

(cd "$dir" && systemd-analyze verify --man=no ./salusd.service ./salusd.socket) \
  >"$dir/out" 2>"$dir/err"
rc=$?
sed 's/^/# /' "$dir/out" "$dir/err"
check $rc "systemd-analyze verify passes (exit $rc)"

! grep -Eiq "unknown (key|lvalue|section)" "$dir/err"
check $? "no unknown keys or sections"

# systemd-analyze security scores the sandbox from 0 (tight) to 10: keep it
# below 2 (what CUDA needs is explained in the unit).
(cd "$dir" && systemd-analyze security --offline=yes --threshold=20 --no-pager ./salusd.service) \
  >"$dir/security" 2>&1
rc=$?
grep -E 'Overall exposure' "$dir/security" | sed 's/^/# /'
check $rc "systemd-analyze security: exposure at most 2.0"

# What the issue asks of the unit, and TimeoutStopSec above the drain.
missing=""
for key in Type=notify ExecReload= WatchdogSec= Restart=on-failure NoNewPrivileges=yes \
  ProtectSystem=strict ProtectHome=yes PrivateTmp=yes RestrictAddressFamilies=AF_UNIX \
  SystemCallFilter=@system-service DevicePolicy=closed DeviceAllow=char-nvidia-frontend \
  DeviceAllow=char-nvidia-uvm DeviceAllow=/dev/nvidiactl DeviceAllow=/dev/nvidia-uvm \
  DeviceAllow=/dev/nvidia-uvm-tools RuntimeDirectory=salus User=salus SupplementaryGroups=; do
  grep -q "^$key" "$dir/salusd.service" || missing="$missing $key"
done
[ -z "$missing" ]
check $? "the service sets what the issue asks for${missing:+ (missing:$missing)}"

seconds() { # 45, 45s, 2m, 1500ms -> whole seconds, rounded up
  case $1 in
    *ms) echo $(( (${1%ms} + 999) / 1000 )) ;;
    *m) echo $(( ${1%m} * 60 )) ;;
    *h) echo $(( ${1%h} * 3600 )) ;;
    *s) echo "${1%s}" ;;
    *) echo "$1" ;;
  esac
}
stop=$(sed -n 's/^TimeoutStopSec=//p' "$dir/salusd.service")
drain=$("$SALUSD" --config /dev/null --dump-config | sed -n 's/^drain-timeout = //p')
[ -n "$stop" ] && [ -n "$drain" ] && [ "$(seconds "$stop")" -ge $(( $(seconds "$drain") + 5 )) ]
check $? "TimeoutStopSec=$stop leaves the drain-timeout of $drain and 5 s to close"

# A unit that verify must reject shows the check can fail at all.
printf '[Service]\nBogusKey=1\n' >>"$dir/salusd.service"
(cd "$dir" && systemd-analyze verify --man=no ./salusd.service) 2>"$dir/err2" >/dev/null
grep -Eiq "unknown (key|lvalue)" "$dir/err2"
check $? "an unknown key in a broken copy is caught"

exit $failed
