#!/bin/sh
# Runs one libFuzzer target for a bounded time over the committed corpus.
# New inputs and crash artifacts go to WORKDIR (in the build dir), so the
# committed corpus is only read.
#   run_fuzz.sh TARGET CORPUS WORKDIR SECONDS
set -eu
target=$1 corpus=$2 work=$3 seconds=$4
mkdir -p "$work/new" "$work/artifacts"
exec "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
  -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/new" "$corpus"
