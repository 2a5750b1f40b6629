#!/bin/sh
# salus-sim from the command line, as programs outside the repository call it:
# a hand-built trace of two jobs (A: 3 x 1 s at 0; B: 2 x 1 s at 0.5, priority
# 1) on one lane, whose completion times test_sim_hand.cpp works out, the
# readable summary's "average" line, the CSV outputs, determinism, errors,
# and 100 jobs over the measured workloads. Prints TAP.
set -u
: "${SALUS_SIM:?}" "${WORKLOADS:?}"

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; }
check() { # check DESCRIPTION COMMAND...
  desc=$1
  shift
  if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

cat >"$tmp/profiles.csv" <<'CSV'
workload,persistent_mb,peak_mb,iter_s
w1,100,300,1
blank,10,20,
CSV
cat >"$tmp/trace.csv" <<'CSV'
job,workload,iterations,submit_s,priority
A,w1,3,0,0
B,w1,2,0.5,1
CSV
sim() { "$SALUS_SIM" --trace "$tmp/trace.csv" --profiles "$tmp/profiles.csv" "$@"; }

check "--help exits 0 and names every option of the contract" sh -c '
  "$1" --help >"$2/help" &&
  for o in --trace --profiles --policy --lanes --memory --admission --client --think --seed --out; do
    grep -q -- "$o" "$2/help" || exit 1
  done' sh "$SALUS_SIM" "$tmp"

# srtf: A ends at 5, B at 3 (JCT 2.5): average 3.75 s.
sim --policy srtf --lanes 1 --out "$tmp/jobs.csv" --summary "$tmp/summary.csv" >"$tmp/report"
check "a run exits 0" test $? -eq 0
check "exactly one line of the report says average" test "$(grep -c average "$tmp/report")" -eq 1
check "the average line gives the average JCT in seconds (3.75)" \
  sh -c 'grep average "$1" | grep -Eq "(^|[^0-9.])3\.750*( s|$)"' sh "$tmp/report"
check "the jobs CSV has the documented header" \
  test "$(head -1 "$tmp/jobs.csv")" = \
  "job,workload,status,priority,iterations,submit_s,admitted_s,start_s,end_s,queue_s,wait_s,run_s,jct_s,overtaken"
# Fields: 1 job, 3 status, 5 iterations, 10 queue_s, 13 jct_s.
check "job A: done, 3 iterations, no queueing, JCT 5 s" \
  test "$(awk -F, '$1 == "A" { print $3, $5, $10, $13 }' "$tmp/jobs.csv")" = "done 3 0.000000 5.000000"
check "job B: done, 2 iterations, queued 0.5 s, JCT 2.5 s" \
  test "$(awk -F, '$1 == "B" { print $3, $5, $10, $13 }' "$tmp/jobs.csv")" = "done 2 0.500000 2.500000"
check "the summary CSV gives the mean JCT and makespan" \
  sh -c 'grep -qx "jct_mean_s,3.750000" "$1" && grep -qx "makespan_s,5.000000" "$1"' sh "$tmp/summary.csv"

# pack: A ends at 4, B at 5 (JCT 4.5): 4.25 s; the default client is pipelined.
sim --policy pack --lanes 1 >"$tmp/pack"
sim --policy pack --lanes 1 --client pipelined >"$tmp/pack.pipelined"
check "pack: average 4.25 s" sh -c 'grep average "$1" | grep -q "4\.250000"' sh "$tmp/pack"
check "the default client is pipelined" cmp -s "$tmp/pack" "$tmp/pack.pipelined"

# Synchronous clients (0.25 s think) under fifo: B joins at 1 (A's first
# iteration had to end for the lane to grow) but A owns the device until it
# closes, thinking included.
sim --policy fifo --lanes 1 --client sync --think 0.25 --out "$tmp/sync.csv" >/dev/null
check "fifo with sync clients: A owns the device, 0-1, 1.25-2.25, 2.5-3.5; B 3.5-5.75" \
  test "$(awk -F, 'NR > 1 { printf "%s=%s ", $1, $9 }' "$tmp/sync.csv")" = "A=3.500000 B=5.750000 "

# 500 MiB: in Safe mode A and B share a lane (P 100 + 100, T max 200), so as
# with one lane; in Static mode (P + T 600) B waits for A to close at 3.
sim --policy pack --memory 500M --out "$tmp/safe.csv" >/dev/null
sim --policy pack --memory 500M --admission static --out "$tmp/static.csv" \
  --timeline "$tmp/timeline.csv" --log "$tmp/log.csv" >/dev/null
check "--memory 500M: Safe admits B at 0.5 (ends 4 and 5)" \
  test "$(awk -F, 'NR > 1 { printf "%s %s ", $7, $9 }' "$tmp/safe.csv")" = \
  "0.000000 4.000000 0.500000 5.000000 "
check "--admission static: B admitted at 3 (ends 3 and 5)" \
  test "$(awk -F, 'NR > 1 { printf "%s %s ", $7, $9 }' "$tmp/static.csv")" = \
  "0.000000 3.000000 3.000000 5.000000 "
check "the timeline and the event log are CSV with their headers" \
  sh -c 'head -1 "$1" | grep -qx "t_s,reserved_bytes,active_bytes,running,lanes,admitted,waiting" &&
    head -1 "$2" | grep -qx "t_s,event,job,lane,detail" && grep -q "^0.500000,wait,B,,$" "$2"' \
  sh "$tmp/timeline.csv" "$tmp/log.csv"

# Rebalancing (issue 13): 2 lanes, 3 equal jobs of 20 x 0.1 s under fair. Y
# has lane 1 to itself (0-2); X and Z share lane 0 (Z joins at 0.1, when X's
# first iteration ends and the lane can grow), alternating: 10 iterations
# each by 2. When Y closes, X moves to a lane of its own: both end at 3, the
# ideal (3 x 2 s of work on 2 lanes). Without rebalancing they keep sharing
# lane 0: X ends at 3.9, Z at 4.
cat >"$tmp/three.csv" <<'CSV'
job,workload,iterations,submit_s
X,w3,20,0
Y,w3,20,0
Z,w3,20,0
CSV
printf 'workload,persistent_mb,peak_mb,iter_s\nw3,100,300,0.1\n' >"$tmp/w3.csv"
three() { "$SALUS_SIM" --trace "$tmp/three.csv" --profiles "$tmp/w3.csv" --policy fair --lanes 2 \
  --memory 4G --check "$@"; }
three --out "$tmp/three.out" --summary "$tmp/three.sum" >/dev/null
check "3 jobs on 2 lanes: a lane left empty takes a job (X 3, Y 2, Z 3; makespan 3)" \
  sh -c 'test "$(awk -F, '"'"'NR > 1 { printf "%s=%s ", $1, $9 }'"'"' "$1")" = \
    "X=3.000000 Y=2.000000 Z=3.000000 " && grep -qx "makespan_s,3.000000" "$2"' \
  sh "$tmp/three.out" "$tmp/three.sum"
three --no-rebalance --out "$tmp/three.off" >"$tmp/three.report"
check "--no-rebalance: X and Z keep sharing (X 3.9, Z 4) and the report says so" \
  sh -c 'test "$(awk -F, '"'"'NR > 1 { printf "%s=%s ", $1, $9 }'"'"' "$1")" = \
    "X=3.900000 Y=2.000000 Z=4.000000 " && grep -q "no rebalancing" "$2"' \
  sh "$tmp/three.off" "$tmp/three.report"

sim --policy pack --jitter 0.3 --seed 7 --out "$tmp/j1.csv" >/dev/null
sim --policy pack --jitter 0.3 --seed 7 --out "$tmp/j2.csv" >/dev/null
sim --policy pack --jitter 0.3 --seed 8 --out "$tmp/j3.csv" >/dev/null
check "one seed, one result; another seed, another" \
  sh -c 'cmp -s "$1" "$2" && ! cmp -s "$1" "$3"' sh "$tmp/j1.csv" "$tmp/j2.csv" "$tmp/j3.csv"

sim --lanes 1 >/dev/null 2>&1
check "no --policy is a usage error (2)" test $? -eq 2
sim --policy lifo >/dev/null 2>&1
check "an unknown policy is a usage error (2)" test $? -eq 2

printf 'job,workload,iterations,submit_s\nC,blank,2,0\n' >"$tmp/blank.csv"
"$SALUS_SIM" --trace "$tmp/blank.csv" --profiles "$tmp/profiles.csv" --policy pack \
  >/dev/null 2>"$tmp/err"
check "a workload without iter_s needs --default-iter (1)" \
  sh -c 'test $1 -eq 1 && grep -q -- --default-iter "$2"' sh $? "$tmp/err"
"$SALUS_SIM" --trace "$tmp/blank.csv" --profiles "$tmp/profiles.csv" --policy pack \
  --default-iter 0.5 --out "$tmp/blank.out" >/dev/null
check "with --default-iter it runs (JCT 1 s)" \
  test "$(awk -F, '$1 == "C" { print $13 }' "$tmp/blank.out")" = "1.000000"

# 100 jobs over the measured workloads, checked at every event.
awk -v seed=3 'BEGIN {
  srand(seed); print "job,workload,iterations,submit_s,priority"
}
NR > 1 { w[++k] = $1 }
END {
  for (i = 0; i < 100; i++)
    printf "job%d,%s,%d,%.3f,%d\n", i, w[1 + int(rand() * k)], 50 + int(rand() * 500),
      rand() * 600, int(rand() * 3)
}' FS=, "$WORKLOADS" >"$tmp/t100.csv"
"$SALUS_SIM" --trace "$tmp/t100.csv" --profiles "$WORKLOADS" --policy srtf --lanes 4 \
  --default-iter 0.05 --check --quiet --out "$tmp/t100.out" >"$tmp/t100.report"
check "100 jobs run with every invariant checked, each done or refused" \
  sh -c 'test $1 -eq 0 && test "$(grep -cE "^job[0-9]+,[^,]*,(done|refused)," "$2")" -eq 100' \
  sh $? "$tmp/t100.out"

echo "1..$n"
exit $failed
