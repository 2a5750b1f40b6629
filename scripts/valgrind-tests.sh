#!/bin/sh
# The suites that start salusd (capi, integration, service) with every
# daemon under valgrind memcheck, in a plain build (no CUDA). A daemon with a
# memory error or a definite leak exits 99, which fails its test.
#   scripts/valgrind-tests.sh BUILDDIR [meson test arguments]
# The fixtures run salusd under $SALUSD_WRAPPER and wait 10x longer for it
# (tests/capi/daemon_fixture.c, tests/tools/wrap_salusd.sh).
set -eu
cd "$(dirname "$0")/.."
builddir=$1
shift
if [ ! -f "$builddir/build.ninja" ]; then
  meson setup "$builddir" -Dcuda=disabled
fi
ninja -C "$builddir"
command -v valgrind >/dev/null ||
  { echo "valgrind-tests.sh: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
vg="valgrind --quiet --error-exitcode=99 --leak-check=full"
export SALUSD_WRAPPER="$vg --errors-for-leak-kinds=definite --show-leak-kinds=definite"
[ $# -gt 0 ] || set -- --suite capi --suite integration --suite service
meson test -C "$builddir" --no-rebuild --print-errorlogs --timeout-multiplier 10 "$@"
