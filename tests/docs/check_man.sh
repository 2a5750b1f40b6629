#!/bin/sh
# check_man.sh HEADER PAGE...: checks built man pages, printing TAP.
#  - each PAGE is non-empty and starts with a .TH line (after comments and
#    setup requests such as scdoc's preamble);
#  - man -l renders it without warnings (skipped when man is not installed);
#  - libsalus.3 mentions every function HEADER declares with SALUS_EXTERN.
set -u

header=$1
shift

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# Public function names: the identifier before the first '(' of each
# SALUS_EXTERN declaration (declarations may span several lines).
grep 'SALUS_EXTERN' "$header" | grep -v '#define' |
  sed -n -e 's/(.*//' -e 's/^.*[^A-Za-z0-9_]\([A-Za-z_][A-Za-z0-9_]*\)$/\1/p' | sort -u >"$tmp/functions"

tests=0
for page in "$@"; do
  tests=$((tests + 3))
  [ "$(basename "$page")" = libsalus.3 ] && tests=$((tests + 1))
done
echo "1..$tests"

for page in "$@"; do
  name=$(basename "$page")
  if [ -s "$page" ]; then ok "$name is not empty"; else not_ok "$name is not empty"; fi

  # The first line that is not a comment or a setup request (scdoc writes a
  # preamble of .ie/.el/.ds/.nh/.ad before the title) must be the .TH line.
  first=$(awk '!/^[.'"'"'](\\"|ie |el |if |ds |nh$|ad |hy |nr |de |\.\.)/ { print; exit }' "$page")
  if printf '%s\n' "$first" | grep -q '^\.TH '; then
    ok "$name starts with .TH"
  else
    not_ok "$name starts with .TH"
  fi

  if ! command -v man >/dev/null 2>&1; then
    skip "$name renders without warnings" "man is not installed"
  elif MANWIDTH=80 man -l "$page" 2>"$tmp/err" >/dev/null && [ ! -s "$tmp/err" ]; then
    ok "$name renders without warnings"
  else
    not_ok "$name renders without warnings"
    sed 's/^/# /' "$tmp/err"
  fi

  if [ "$name" = libsalus.3 ]; then
    if [ ! -s "$tmp/functions" ]; then
      not_ok "$name documents every SALUS_EXTERN function (none found in $header)"
    else
      missing=""
      while read -r fn; do
        # The name as a whole word, possibly right after a roff font escape.
        grep -Eq "(^|[^A-Za-z0-9_]|\\\\f[BIR])$fn([^A-Za-z0-9_]|\$)" "$page" ||
          missing="$missing $fn"
      done <"$tmp/functions"
      if [ -z "$missing" ]; then
        ok "$name documents all $(wc -l <"$tmp/functions") SALUS_EXTERN functions"
      else
        not_ok "$name documents every SALUS_EXTERN function"
        echo "# missing:$missing"
      fi
    fi
  fi
done
exit $failed
