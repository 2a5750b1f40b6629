#!/bin/sh
# Regenerates the seed corpus from a normal build: graphs and frames from
# libsalus (fuzz-make-corpus) and salusd's sample config. The hand-written
# inputs (corpus/config/small.conf, the regression inputs) stay as they are.
#   tests/fuzz/make_corpus.sh [BUILDDIR]
set -eu
cd "$(dirname "$0")"
build=$(cd "../../${1:-build}" && pwd)
mkdir -p corpus/graph corpus/frame corpus/config
"$build/tests/fuzz/fuzz-make-corpus" corpus
"$build/salusd/server/salusd" --sample-config >corpus/config/sample.conf
