#!/bin/sh
# The suites that start salusd (capi, integration, service) with every
# daemon under valgrind memcheck, in a plain build (no CUDA). A daemon with a
# memory error or a definite leak exits 99, which fails its test.
#   scripts/valgrind-tests.sh BUILDDIR [meson test arguments]
# Arguments replace the default suites: name them again with other options
# (--num-processes 2 --suite capi --suite integration --suite service).
# The fixtures run salusd under $SALUSD_WRAPPER and wait 10x longer for it
# (tests/capi/daemon_fixture.c, tests/tools/wrap_salusd.sh). There the tests
# whose CPU math would take valgrind hours use smaller models (sync-clients,
# policies, multi-client, capi_async, the heavy MatMuls of stop), and bounds
# on time, lane shares and RSS are printed, not judged (assert_unless_wrapped
# in tests/capi/capi_test.h; load's and session-flood's SKIPs): under
# valgrind a test checks memory and that every answer arrives, the plain run
# checks the rest.
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
# --fair-sched=yes: valgrind runs one thread at a time, and its default lock
# let a lane thread in a long MatMul starve the event loop (a frame took
# longer than the frame timeout to read).
# oneDNN on its SSE4.1 kernels: valgrind hides AVX-512, and on the AVX2 JIT
# sgemm left then it reported reads past oneDNN's own packing buffers and
# uninitialised values born on the JIT code's stack (admission: 140 s, and
# reports in salusd's later calls), none of them salusd's; on SSE4.1 the
# same test runs clean in 18 s, with no suppression.
export ONEDNN_MAX_CPU_ISA=SSE41
vg="valgrind --quiet --fair-sched=yes --error-exitcode=99 --leak-check=full"
export SALUSD_WRAPPER="$vg --errors-for-leak-kinds=definite --show-leak-kinds=definite"
[ $# -gt 0 ] || set -- --suite capi --suite integration --suite service
meson test -C "$builddir" --no-rebuild --print-errorlogs --timeout-multiplier 10 "$@"
