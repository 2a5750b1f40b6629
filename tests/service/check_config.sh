#!/bin/sh
# salusd --check-config, --dump-config and --sample-config on good, empty and
# bad files, and flags over the file; prints TAP.
set -u
: "${SALUSD:?}" "${SALUSD_DEFAULT_CONFIG:?}"

dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
out="$dir/out" err="$dir/err"
. "$(dirname "$0")/../tools/wrap_salusd.sh"

n=0
failed=0
check() { # check DESCRIPTION COMMAND...: one TAP line for the command's status
    what=$1
    shift
    n=$((n + 1))
    if "$@"; then
        echo "ok $n - $what"
    else
        echo "not ok $n - $what"
        failed=1
        for f in "$out" "$err"; do [ -s "$f" ] && sed 's/^/# /' "$f"; done
    fi
}
# The configuration as --dump-config prints it, without comments and the
# socket, whose default depends on who runs the test.
dump() { "$SALUSD" "$@" --dump-config 2>"$err" | grep -v -e '^socket = ' -e '^#'; }
# [section] lines and key names of a sample (commented keys) or a dump.
keys_of() { sed -n -e 's/^#\{0,1\}\([a-z][a-z-]*\) = .*/\1/p' -e '/^\[/p' "$1"; }

echo "1..12"

: >"$dir/empty.conf"
"$SALUSD" --check-config --config "$dir/empty.conf" >"$out" 2>"$err"
check "an empty file is valid" grep -qx "$dir/empty.conf: valid" "$out"

"$SALUSD" --sample-config >"$dir/sample.conf"
"$SALUSD" --check-config --config "$dir/sample.conf" >"$out" 2>"$err"
check "the sample (every key commented out) is valid" grep -qx "$dir/sample.conf: valid" "$out"

"$SALUSD" --config "$dir/empty.conf" --dump-config >"$dir/full.dump" 2>"$err"
keys_of "$dir/sample.conf" >"$dir/sample.keys"
keys_of "$dir/full.dump" >"$dir/dump.keys"
check "--sample-config and --dump-config list the same keys" cmp "$dir/sample.keys" "$dir/dump.keys"

# Every key of the sample set to the value it shows: the defaults exactly.
sed -n -e 's/^#\([a-z][a-z-]* = \)/\1/p' -e '/^\[/p' "$dir/sample.conf" >"$dir/defaults.conf"
dump --config "$dir/empty.conf" >"$dir/empty.dump"
dump --config "$dir/defaults.conf" >"$dir/defaults.dump"
check "the sample shows the defaults ($(grep -c ' = ' "$dir/defaults.conf") keys)" \
    cmp "$dir/empty.dump" "$dir/defaults.dump"

cat >"$dir/good.conf" <<'CONF'
# A comment, then blank lines and spaces around everything.

[scheduler]
  policy   =   fifo
max-overtakes = 2
[server]
drain-timeout = 1500ms
max-frame-bytes = 64M
verbose = yes
[device]
pool-bytes = 512M
CONF
dump --config "$dir/good.conf" >"$out"
check "a file's values are in effect" sh -c '
    grep -qx "policy = fifo" "$0" && grep -qx "max-overtakes = 2" "$0" &&
    grep -qx "drain-timeout = 1500ms" "$0" && grep -qx "max-frame-bytes = 64M" "$0" &&
    grep -qx "verbose = yes" "$0" && grep -qx "pool-bytes = 512M" "$0"' "$out"

dump --config "$dir/good.conf" --policy fair --verbose=no --drain-timeout 2m >"$out"
check "flags override the file" sh -c '
    grep -qx "policy = fair" "$0" && grep -qx "verbose = no" "$0" &&
    grep -qx "drain-timeout = 2m" "$0" && grep -qx "max-overtakes = 2" "$0"' "$out"

cat >"$dir/bad.conf" <<'CONF'
policy = pack
[server]
workers = 0
workers = 2
[nowhere]
key = 1
[device]
policy = fifo
no equals sign here
[scheduler
drain-timeout =
CONF
b="$dir/bad.conf"
{
    echo "$b:1: key \"policy\" comes before any [section]"
    echo "$b:3: invalid workers \"0\": expected auto or a number from 1 to 1024"
    echo "$b:4: duplicate key \"workers\" in [server] (first set on line 3)"
    echo "$b:5: unknown section [nowhere] (expected [server], [device], [scheduler], [limits], [access])"
    echo "$b:8: unknown key \"policy\" in [device] (it belongs in [scheduler])"
    echo "$b:9: expected [section], key = value or a # comment, not \"no equals sign here\""
    echo "$b:10: a section header ends with ']': \"[scheduler\""
    echo "salusd: 7 errors in the configuration"
} >"$dir/expected"
rc=0
"$SALUSD" --check-config --config "$b" >"$out" 2>"$err" || rc=$?
check "a bad file: exit 1 and every error as PATH:LINE: message" \
    sh -c '[ "$0" -eq 1 ] && [ ! -s "$1" ] && cmp "$2" "$3"' "$rc" "$out" "$dir/expected" "$err"

rc=0
"$SALUSD" --check-config --config "$dir/missing.conf" >"$out" 2>"$err" || rc=$?
check "a missing --config file is an error" \
    sh -c '[ "$0" -eq 1 ] && grep -q "missing.conf: cannot open: No such file" "$1"' "$rc" "$err"

if [ -e "$SALUSD_DEFAULT_CONFIG" ]; then
    n=$((n + 1))
    echo "ok $n - a missing default file is fine # SKIP $SALUSD_DEFAULT_CONFIG exists here"
else
    "$SALUSD" --check-config >"$out" 2>"$err"
    check "a missing default file is fine" \
        grep -qx "$SALUSD_DEFAULT_CONFIG: no such file; the defaults apply" "$out"
fi

rc=0
"$SALUSD" --check-config --config "$dir/empty.conf" --max-lanes lots >"$out" 2>"$err" || rc=$?
check "a bad flag exits 2" sh -c '[ "$0" -eq 2 ] &&
    grep -q "invalid --max-lanes .lots.: expected auto or a number" "$1"' "$rc" "$err"

rc=0
"$SALUSD" --config "$b" --socket "$dir/s.sock" >"$out" 2>"$err" || rc=$?
check "salusd refuses to start with a bad file, logging why" sh -c '[ "$0" -eq 1 ] &&
    grep -q "^<3>$1:3: invalid workers" "$2" && grep -q "^<3>invalid configuration" "$2" &&
    [ ! -e "$3" ]' "$rc" "$b" "$err" "$dir/s.sock"

"$SALUSD" --help >"$out" 2>"$err"
check "--help lists every key as a flag" sh -c '
    for k in $(grep -v "^\[" "$0"); do
        grep -q -- "--$k" "$1" || { echo "--$k is not in --help" >"$2"; exit 1; }
    done' "$dir/dump.keys" "$out" "$err"

exit $failed
