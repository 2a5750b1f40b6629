#!/bin/sh
# check_man.sh HEADER PAGE...: checks built man pages, printing TAP.
#  - each PAGE is non-empty and starts with a .TH line (after comments and
#    setup requests such as scdoc's preamble);
#  - man -l renders it without warnings (skipped when man is not installed);
#  - libsalus.3 mentions every function HEADER declares with SALUS_EXTERN;
#  - salusd.conf.5 documents every key of `$SALUSD --sample-config` in its
#    section, and no other;
#  - salusd.8 mentions every flag of `$SALUSD --help`, salusctl.1 every
#    command and option of `$SALUSCTL --help`, salus-sim.1 every option of
#    `$SALUS_SIM --help`.
set -u
: "${SALUSD:?}" "${SALUSCTL:?}" "${SALUS_SIM:?}"

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

# "[section] key" of every key salusd knows, from the sample it writes.
"$SALUSD" --sample-config | awk '
  /^\[[a-z]+\]$/ { section = $0; next }
  /^#[a-z][a-z-]* = / { sub(/^#/, ""); print section, $1 }' | sort >"$tmp/keys"
# Every --flag in the help texts, and salusctl's commands.
"$SALUSD" --help | grep -o -- '--[a-z][a-z-]*' | sort -u >"$tmp/salusd.flags"
"$SALUSCTL" --help | grep -o -- '--[a-z][a-z-]*' | sort -u >"$tmp/salusctl.flags"
"$SALUSCTL" --help | awk '/^Commands:/ { on = 1; next } /^$/ { on = 0 } on && /^  [a-z]/ { print $1 }' |
  sort -u >>"$tmp/salusctl.flags"
"$SALUS_SIM" --help | grep -o -- '--[a-z][a-z-]*' | sort -u >"$tmp/salus-sim.flags"

# Whether every line of LIST occurs in PAGE as bold text: 0, or 1 with the
# missing ones in $missing.
all_bold() { # all_bold LIST PAGE
  missing=""
  while read -r word; do
    grep -Fq "\\fB$word\\fR" "$2" || missing="$missing $word"
  done <"$1"
  [ -z "$missing" ]
}

tests=0
for page in "$@"; do
  tests=$((tests + 3))
  case $(basename "$page") in
    libsalus.3 | salusd.conf.5 | salusd.8 | salusctl.1 | salus-sim.1) tests=$((tests + 1)) ;;
  esac
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

  case $name in
    salusd.conf.5)
      # The key terms, "\fBkey\fR = ...", under their ".SS The [section] ..." heading.
      awk '
        /^\.SS / { section = ""; if (match($0, /\[[a-z]+\]/)) section = substr($0, RSTART, RLENGTH) }
        /^\\fB[a-z][a-z-]*\\fR = / && section != "" {
          key = $0; sub(/^\\fB/, "", key); sub(/\\fR.*/, "", key); print section, key }' "$page" |
        sort >"$tmp/documented"
      if [ -s "$tmp/keys" ] && cmp -s "$tmp/keys" "$tmp/documented"; then
        ok "$name documents all $(wc -l <"$tmp/keys") keys of salusd, each in its section"
      else
        not_ok "$name documents every key of salusd in its section, and no other"
        diff "$tmp/keys" "$tmp/documented" | sed -n 's/^[<>]/#&/p'
      fi
      ;;
    salusd.8)
      if [ -s "$tmp/salusd.flags" ] && all_bold "$tmp/salusd.flags" "$page"; then
        ok "$name documents all $(wc -l <"$tmp/salusd.flags") flags of salusd --help"
      else
        not_ok "$name documents every flag of salusd --help"
        echo "# missing:$missing"
      fi
      ;;
    salusctl.1)
      if [ -s "$tmp/salusctl.flags" ] && all_bold "$tmp/salusctl.flags" "$page"; then
        ok "$name documents all $(wc -l <"$tmp/salusctl.flags") commands and options of salusctl --help"
      else
        not_ok "$name documents every command and option of salusctl --help"
        echo "# missing:$missing"
      fi
      ;;
    salus-sim.1)
      if [ -s "$tmp/salus-sim.flags" ] && all_bold "$tmp/salus-sim.flags" "$page"; then
        ok "$name documents all $(wc -l <"$tmp/salus-sim.flags") options of salus-sim --help"
      else
        not_ok "$name documents every option of salus-sim --help"
        echo "# missing:$missing"
      fi
      ;;
  esac

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
