#!/bin/sh
# The experiments of EXPERIMENTS.md stay honest: the committed traces and the
# filled-in profiles regenerate byte for byte from their generators (fixed
# seed), and each experiment's command runs end to end on a reduced size,
# writing its table and figure. Prints TAP.
set -u
: "${SALUS_SIM:?}" "${SRCDIR:?}"
PYTHON=${PYTHON:-/usr/bin/python3}
export PYTHONDONTWRITEBYTECODE=1
E="$SRCDIR/experiments"

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
check() { # check DESCRIPTION COMMAND...
  desc=$1
  shift
  if "$@" >"$tmp/out" 2>&1; then ok "$desc"; else not_ok "$desc"; sed 's/^/# /' "$tmp/out"; fi
}

check "profiles.csv regenerates from the data file and the stated rule" sh -c '
  cd "$1" && "$2" -c "import common; common.write_profiles(\"$3/profiles.csv\")" &&
  cmp "$3/profiles.csv" "$1/profiles.csv"' sh "$E" "$PYTHON" "$tmp"
check "experiment 1: trace.csv regenerates byte for byte from seed 13" sh -c '
  "$1" "$2/1-jct/gen_trace.py" "$3/trace1.csv" && cmp "$3/trace1.csv" "$2/1-jct/trace.csv"' sh "$PYTHON" "$E" "$tmp"
check "experiment 2: the three traces regenerate byte for byte" sh -c '
  mkdir "$3/t2" && "$1" "$2/2-hyperparam/gen_trace.py" --outdir "$3/t2" &&
  for w in vae_64 superres_128 resnet50_50; do cmp "$3/t2/trace-$w.csv" "$2/2-hyperparam/trace-$w.csv" || exit 1; done' \
  sh "$PYTHON" "$E" "$tmp"
check "experiment 3: trace.csv regenerates byte for byte" sh -c '
  "$1" "$2/3-inference/gen_trace.py" "$3/trace3.csv" && cmp "$3/trace3.csv" "$2/3-inference/trace.csv"' sh "$PYTHON" "$E" "$tmp"

if ! "$PYTHON" -c 'import matplotlib' 2>/dev/null; then
  for d in "experiment 1 runs" "experiment 2 runs" "experiment 3 runs" "experiment 3 device counts"; do
    skip "$d" "no matplotlib for $PYTHON"
  done
else
  check "experiment 1 runs on 12 jobs: table and CDF figure" sh -c '
    "$1" "$2/1-jct/gen_trace.py" --jobs 12 "$4/small1.csv" &&
    "$1" "$2/1-jct/run.py" "$3" --trace "$4/small1.csv" --outdir "$4/e1" &&
    grep -q "| 1 | srtf |" "$4/e1/results.md" && test -s "$4/e1/jct-cdf.png"' sh "$PYTHON" "$E" "$SALUS_SIM" "$tmp"
  check "experiment 2 runs on 4 jobs of 10 iterations: table and figure" sh -c '
    "$1" "$2/2-hyperparam/run.py" "$3" --jobs 4 --iterations 10 --outdir "$4/e2" &&
    test "$(grep -c "| pack |" "$4/e2/results.md")" -eq 30 && test -s "$4/e2/makespan.png"' \
    sh "$PYTHON" "$E" "$SALUS_SIM" "$tmp"
  check "experiment 3 runs on 10 requests per job: tables and figure" sh -c '
    "$1" "$2/3-inference/run.py" "$3" --requests 10 --outdir "$4/e3" &&
    test -s "$4/e3/latency.csv" && test -s "$4/e3/inference.png"' sh "$PYTHON" "$E" "$SALUS_SIM" "$tmp"
  check "experiment 3: 42 devices one per device, 5 static, 1 safe, each checked by salus-sim" \
    test "$(cut -d, -f2,3 "$tmp/e3/devices.csv" 2>/dev/null | tr '\n' ' ')" = \
    "devices,salus_sim_admits_each_device_at_0 42,yes (trivially) 5,yes 1,yes "
fi

echo "1..$n"
exit $failed
