# TAP helpers for the tools' shell tests, sourced after they set $out, $err
# and $dir (whose salusd.log a failure shows).
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
# until_true DESCRIPTION COMMAND...: polls COMMAND for up to 20 s.
until_true() {
    what=$1
    shift
    i=0
    until "$@"; do
        i=$((i + 1))
        [ "$i" -lt 400 ] || fail "$what within 20 s" "$out" "$err" "$dir/salusd.log"
        sleep 0.05
    done
}
