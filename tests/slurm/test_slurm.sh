#!/bin/sh
# Salus under a real one-node Slurm cluster started here (munged, slurmctld,
# slurmd on localhost, with the SPANK plugin): three sbatch jobs train through
# one salusd at once, each charged to its job; one over its budget is refused
# at admission while another finishes with its solo losses; scancel frees a
# job's memory within a second; a job's sessions are gone once it ends, even
# when its trainer was SIGKILLed or escaped the job. Prints TAP; skips only
# where Slurm is not installed or cannot run (not root).
set -eu

: "${SALUSD:?}" "${SALUSCTL:?}" "${SPANK_PLUGIN:?}" "${PYTHONPATH:?}" "${TORCH_JOB:?}"
PY=/usr/bin/python3

skip() {
    echo "1..0 # SKIP $1"
    exit 0
}
[ -z "${SALUS_SANITIZE:-}" ] ||
    skip "slurmd, built without $SALUS_SANITIZE, cannot load the sanitized SPANK plugin"
for p in munged slurmctld slurmd sbatch scancel squeue sinfo; do
    command -v "$p" >/dev/null 2>&1 || skip "$p is not installed (scripts/setup.sh installs slurm-wlm and munge)"
done
[ "$(id -u)" -eq 0 ] || skip "slurmd must run as root"
[ -f "$SPANK_PLUGIN" ] || skip "the SPANK plugin was not built (-Dslurm, libslurm-dev)"

dir=$(mktemp -d /tmp/salus-slurm.XXXXXX)
chmod 755 "$dir"
sock="$dir/salusd.sock"
host=$(hostname -s)
# Ports of their own, so that runs of this test on one machine do not meet.
port=$((20000 + $$ % 20000))
export SLURM_CONF="$dir/slurm.conf"
daemon_pid=
munged_started=

log_tail() {
    for f in "$dir"/salusd.log "$dir"/slurmctld.log "$dir"/slurmd.log "$dir"/job-*.out; do
        [ -f "$f" ] || continue
        echo "# ---- $f"
        tail -n 40 "$f" | sed 's/^/# /'
    done
}
cleanup() {
    status=$?
    [ "$status" -ne 0 ] && log_tail
    scancel --quiet --full --signal=KILL --user=root 2>/dev/null || true
    for f in slurmd slurmctld; do
        [ -f "$dir/$f.pid" ] && kill "$(cat "$dir/$f.pid")" 2>/dev/null || true
    done
    [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null && wait "$daemon_pid" 2>/dev/null || true
    [ -n "$munged_started" ] && kill "$(cat /run/munge/munged.pid)" 2>/dev/null || true
    # Trainers that escaped a job on purpose end with their connection.
    pkill_escaped=$(cat "$dir"/escaped.pid 2>/dev/null || true)
    [ -n "$pkill_escaped" ] && kill -KILL "$pkill_escaped" 2>/dev/null || true
    sleep 0.5
    rm -rf "$dir"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

. "$(dirname "$0")/../tools/tap.sh"
. "$(dirname "$0")/../tools/wrap_salusd.sh"
ctl() { "$SALUSCTL" --socket "$sock" "$@"; }
# until_true SECONDS COMMAND...: polls COMMAND every 0.1 s.
until_true() {
    limit=$(($1 * 10))
    shift
    i=0
    while ! "$@" 2>/dev/null; do
        i=$((i + 1))
        [ "$i" -ge "$limit" ] && return 1
        sleep 0.1
    done
}
# Open sessions of job $1 (closed ones stay listed as "closed"), from the
# table (columns ID OWNER PID JOB NAME STATE ...): cheap enough to poll
# every 0.1 s.
job_sessions() {
    ctl sessions | awk -v job="$1" '$4 == job && $6 != "closed" { n++ } END { print n + 0 }'
}
has_sessions() { [ "$(job_sessions "$1")" -gt 0 ]; }
no_sessions() { [ "$(job_sessions "$1")" -eq 0 ]; }
is_registered() { ctl tenant list --json | grep -q "\"job\":$1,"; }
not_registered() { ! is_registered "$1"; }
job_state() { squeue -h -j "$1" -o %T 2>/dev/null || true; }
job_gone() { [ -z "$(job_state "$1")" ]; }

# ---- munge: the system's, or one started here with the system's key.
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    [ -f /etc/munge/munge.key ] || mungekey -c >/dev/null 2>&1 || skip "no munge key and mungekey failed"
    chown munge:munge /etc/munge/munge.key 2>/dev/null || true
    chmod 400 /etc/munge/munge.key
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge
    runuser -u munge -- munged || skip "munged does not start here"
    munged_started=1
    until_true 10 sh -c 'munge -n | unmunge >/dev/null' || fail "munged answers"
fi
ok "munge works"

# ---- salusd on the CPU.
"$SALUSD" --socket "$sock" --device cpu --pool-bytes 256M --config /dev/null \
    >"$dir/salusd.log" 2>&1 &
daemon_pid=$!
until_true 20 ctl status >/dev/null || fail "salusd answers"

# ---- the cluster: one node, this machine, with Salus memory as a GRES.
mkdir -p "$dir/state" "$dir/spool"
cat >"$SLURM_CONF" <<CONF
ClusterName=salustest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
PlugStackConfig=$dir/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
KillWait=2
SlurmdParameters=config_overrides
GresTypes=salus_mem
NodeName=$host NodeAddr=127.0.0.1 CPUs=8 Gres=salus_mem:64G State=UNKNOWN
PartitionName=salus Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
echo "NodeName=$host Name=salus_mem Count=64G" >"$dir/gres.conf"
echo "required $SPANK_PLUGIN socket=$sock" >"$dir/plugstack.conf"
slurmctld -f "$SLURM_CONF" -c || fail "slurmctld starts"
slurmd -f "$SLURM_CONF" -N "$host" || fail "slurmd starts"
node_idle() { sinfo -h -o %T 2>/dev/null | grep -q '^idle'; }
until_true 30 node_idle || fail "the node comes up idle"
ok "slurmctld and slurmd run, node $host idle"

# ---- a solo run: the losses to match and the session's P + T.
solo=$(SALUS_SOCKET="$sock" $PY "$TORCH_JOB" "$sock" cnn 4) || fail "the solo job runs"
need=$(ctl sessions --json | $PY -c '
import json, sys
s = [s for s in json.load(sys.stdin) if s["name"] == "cnn"][-1]
print(s["persistent_bytes"] + s["ephemeral_bytes"])')
ok "solo cnn job: P + T = $need bytes"

# ---- three jobs at once: within budget, over budget, running until cancelled.
submit() {
    # submit NAME MEM STEPS: the job id.
    sbatch --parsable -J "$1" -o "$dir/job-$1.out" --gres="salus_mem:$2" --salus-mem="$2" \
        --wrap "exec $PY $TORCH_JOB \"\$SALUS_SOCKET\" cnn $3"
}
fits=$(submit fits $((need * 4)) 4) || fail "sbatch fits"
over=$(submit over $((need / 2)) 4) || fail "sbatch over"
long=$(submit long $((need * 4)) 1000000) || fail "sbatch long"
ok "submitted jobs $fits (fits), $over (over its budget), $long (runs until cancelled)"

until_true 60 has_sessions "$long" || fail "job $long's session is open, charged to it"
ok "job $long's session carries its job id"
until_true 60 job_gone "$fits" || fail "job $fits ends"
until_true 60 job_gone "$over" || fail "job $over ends"
[ "$(tail -n 1 "$dir/job-fits.out")" = "$solo" ] ||
    fail "job $fits finishes with its solo losses"
ok "job $fits finished with its solo losses next to the others"
grep -q "job $over's budget of .*: .* in use, this session needs" "$dir/job-over.out" ||
    fail "job $over is refused at admission naming its budget"
ok "job $over refused: $(grep -o "job $over's budget.*" "$dir/job-over.out" | head -n 1)"
ctl metrics | grep -q "^salus_session_iterations_total{.*job=\"$fits\"}" ||
    fail "metrics carry the job label"
ok "metrics carry the job id as a label"

# ---- scancel frees the job's memory within a second.
has_sessions "$long" || fail "job $long still runs"
ms() { echo $(($(date +%s%N) / 1000000)); }
t0=$(ms)
scancel "$long"
until_true 10 no_sessions "$long" || fail "scancel frees job $long's memory"
took=$(($(ms) - t0))
[ "$took" -lt 1000 ] || fail "scancel frees job $long's memory within a second (took $took ms)"
ok "scancel: job $long's sessions closed, its memory freed, in $took ms"
until_true 30 not_registered "$long" || fail "job $long's tenant ends with the job"
ok "job $long's tenant ended with the job"

# ---- SIGKILL: the trainer is killed, the job goes on, then ends.
killed=$(sbatch --parsable -J killed -o "$dir/job-killed.out" --gres=salus_mem:1G \
    --salus-mem=1G --wrap "$PY $TORCH_JOB \"\$SALUS_SOCKET\" cnn 1000000 & echo \$! >$dir/killed.pid; wait") ||
    fail "sbatch killed"
until_true 60 has_sessions "$killed" || fail "job $killed's session is open"
kill -KILL "$(cat "$dir/killed.pid")"
until_true 30 job_gone "$killed" || fail "job $killed ends"
until_true 5 no_sessions "$killed" || fail "job $killed's sessions are gone after SIGKILL"
until_true 30 not_registered "$killed" || fail "job $killed's tenant ended"
ok "SIGKILLed trainer: job $killed's sessions are gone and its tenant ended"

# ---- a trainer that escapes the job (a new session, reparented to init)
# keeps its connection: the job's end closes its sessions anyway.
escaped=$(sbatch --parsable -J escaped -o "$dir/job-escaped.out" --gres=salus_mem:1G \
    --salus-mem=1G --wrap "setsid sh -c '$PY $TORCH_JOB \"\$SALUS_SOCKET\" cnn 1000000 >$dir/escaped.out 2>&1 & echo \$! >$dir/escaped.pid' </dev/null; sleep 600") ||
    fail "sbatch escaped"
until_true 60 has_sessions "$escaped" || fail "job $escaped's session is open"
scancel "$escaped"
until_true 30 job_gone "$escaped" || fail "job $escaped ends"
until_true 5 no_sessions "$escaped" || fail "job $escaped's sessions close at the job's end"
ok "escaped trainer: job $escaped's sessions closed by the job's end"
echo "1..$n"
