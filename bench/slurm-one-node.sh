#!/usr/bin/env bash
# A one-node Slurm cluster on this machine for benchmarks that launch with srun (as root, with
# Debian's slurm-wlm and munge): munged, slurmctld and slurmd with a slurm.conf in DIR, the node
# named after this host, every CPU of it, no task binding (TaskPlugin=task/none, the case where a
# launcher leaves thread counts to the program).
#
# Usage: bench/slurm-one-node.sh up DIR     then: export SLURM_CONF=DIR/slurm.conf; srun ...
#        bench/slurm-one-node.sh down DIR
set -euo pipefail
action=${1:?usage: bench/slurm-one-node.sh up|down DIR}
dir=${2:?usage: bench/slurm-one-node.sh up|down DIR}

if [[ $action == down ]]; then
  for pidfile in "$dir"/slurmd.pid "$dir"/slurmctld.pid "$dir"/munged.pid; do
    [[ -f $pidfile ]] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  exit 0
fi
[[ $action == up ]] || { echo "bench/slurm-one-node.sh: up or down, not '$action'" >&2; exit 2; }
command -v slurmctld >/dev/null && command -v munged >/dev/null ||
  { echo "bench/slurm-one-node.sh: needs slurm-wlm and munge (apt-get install slurm-wlm munge)" >&2; exit 2; }

mkdir -p "$dir/spool" "$dir/state" "$dir/munge"
chmod 700 "$dir/munge"
host=$(hostname -s)
cpus=$(env -u OMP_NUM_THREADS nproc)
[[ -f $dir/munge/munge.key ]] || { dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none; chmod 400 "$dir/munge/munge.key"; }
munged --key-file="$dir/munge/munge.key" --socket="$dir/munge/socket" \
  --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munge/seed" --force
cat >"$dir/slurm.conf" <<CONF
ClusterName=bench
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/socket
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ReturnToService=2
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=bench Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$dir/slurm.conf
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 30); do
  sinfo -h -o %T 2>/dev/null | grep -q idle && { echo "slurm up: export SLURM_CONF=$SLURM_CONF"; exit 0; }
  sleep 1
done
echo "bench/slurm-one-node.sh: the node did not come up; see $dir/*.log" >&2
exit 1
