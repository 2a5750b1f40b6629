#!/bin/sh
# Builds the libFuzzer targets alone in a clang build dir (ASan + UBSan)
# and runs the fuzz suite: each target 20 s over its committed corpus.
#   scripts/fuzz-tests.sh BUILDDIR
set -eu
cd "$(dirname "$0")/.."
builddir=$1
if [ ! -f "$builddir/build.ninja" ]; then
  CC=clang CXX=clang++ meson setup "$builddir" -Dfuzz=enabled -Dcuda=disabled \
    -Db_sanitize=address,undefined -Db_lundef=false
fi
# Only the fuzz targets and what they link, not the whole tree.
ninja -C "$builddir" fuzz
meson test -C "$builddir" --no-rebuild --suite fuzz --print-errorlogs
