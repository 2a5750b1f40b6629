# Sourced by the shell tests that start salusd, after they set $dir: when
# $SALUSD_WRAPPER is set (e.g. "valgrind --error-exitcode=99"), $SALUSD
# becomes a script in $dir that execs the daemon under it, so that every
# start keeps the daemon's pid and exit status.
if [ -n "${SALUSD_WRAPPER:-}" ]; then
    printf '#!/bin/sh\nexec %s %s "$@"\n' "$SALUSD_WRAPPER" "$SALUSD" >"$dir/salusd-wrapped"
    chmod +x "$dir/salusd-wrapped"
    SALUSD="$dir/salusd-wrapped"
fi
