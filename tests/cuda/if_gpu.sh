#!/bin/sh
# Runs "$@" (a GPU test) when a CUDA device is present; otherwise prints why
# and exits 77, meson's skip.
set -eu
: "${GPU_PRESENT:?}"
"$GPU_PRESENT" "$(basename "$1")" || exit $?
exec "$@"
