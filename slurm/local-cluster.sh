#!/usr/bin/env bash
# A real Slurm cluster on one machine, for tests and for trying the job scripts: munged and
# slurmctld here, and N slurmd nodes, each in a network namespace of its own with a hostname and
# an address of its own (scripts/netns-hosts.sh: aefh1..aefhN on 10.213.7.0/24, joined to this
# machine's end of a bridge, 10.213.7.254, where the controller listens). Jobs that span nodes
# cross that network over TCP. Configs, spool and logs live in DIR. Needs root, iproute2,
# util-linux and Debian's slurm-wlm and munge.
#
#   slurm/local-cluster.sh up N DIR    then: export SLURM_CONF=DIR/slurm.conf; sbatch ...
#   slurm/local-cluster.sh down DIR    stops every daemon by its pid, removes the test hosts
#   (AEFLOW_MAX_ARRAY_SIZE: the cluster's MaxArraySize, default 1001)
#
# Inside jobs, OpenMPI must use the test network: DIR/env.sh (sourced before sbatch; jobs
# inherit the environment) sets OMPI_MCA_btl=tcp,self and the interface to it.
set -euo pipefail
here=$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
hosts=$here/../scripts/netns-hosts.sh
net=10.213.7

usage() { sed -n '9,13p' "${BASH_SOURCE[0]}" >&2; exit 2; }

live=/run/aeflow-local-cluster  # the DIR of the cluster that is up, so that `up` can stop it

stop() {  # stop DIR: the jobs, every daemon by its pid file, then the test hosts
  local dir=$1 pidfile signal
  [[ -f $dir/slurm.conf ]] && SLURM_CONF=$dir/slurm.conf scancel --quiet --user=root 2>/dev/null || true
  for signal in TERM KILL; do
    for pidfile in "$dir"/slurmd-*.pid "$dir"/slurmctld.pid "$dir"/munged.pid; do
      [[ -f $pidfile ]] && kill -s "$signal" "$(cat "$pidfile")" 2>/dev/null || true
    done
    for _ in $(seq 50); do  # (up to 5 s for them to go)
      local alive=0
      for pidfile in "$dir"/slurmd-*.pid "$dir"/slurmctld.pid "$dir"/munged.pid; do
        [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null && alive=1
      done
      ((alive)) || break
      sleep 0.1
    done
  done
  rm -f "$dir"/slurmd-*.pid "$dir"/slurmctld.pid "$dir"/munged.pid
  # (jobs' processes left in the nodes' namespaces go with them)
  "$hosts" down >/dev/null 2>&1 || true
  [[ -f $live && $(cat "$live") == "$dir" ]] && rm -f "$live"
  return 0
}

case ${1-} in
  up)
    n=${2:-}
    dir=${3:-}
    [[ $n =~ ^[1-9][0-9]*$ && -n $dir ]] || usage
    [[ $(id -u) -eq 0 ]] || { echo "local-cluster.sh: needs root (network namespaces)" >&2; exit 2; }
    for tool in munged slurmctld slurmd nsenter unshare ip; do
      command -v "$tool" >/dev/null || { echo "local-cluster.sh: $tool is missing (apt-get install slurm-wlm munge iproute2 util-linux)" >&2; exit 2; }
    done
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [[ -f $live ]] && stop "$(cat "$live")"  # (a cluster left up by a test that was killed)
    stop "$dir"
    echo "$dir" >"$live"
    mkdir -p "$dir/munge" "$dir/state" "$dir/spool"
    chmod 700 "$dir/munge"
    [[ -f $dir/munge/munge.key ]] || {
      dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 status=none
      chmod 400 "$dir/munge/munge.key"
    }
    "$hosts" up "$n" >/dev/null
    munged --key-file="$dir/munge/munge.key" --socket="$dir/munge/socket" \
      --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munge/seed" --force
    cpus=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)
    {
      echo "ClusterName=aeflowtest"
      echo "SlurmctldHost=$(hostname -s)($net.254)"
      echo "SlurmUser=root"
      echo "SlurmdUser=root"
      echo "AuthType=auth/munge"
      echo "AuthInfo=socket=$dir/munge/socket"
      echo "CredType=cred/munge"
      # (no cgroups in a namespace: processes tracked by their parents, tasks not bound)
      echo "ProctrackType=proctrack/linuxproc"
      echo "TaskPlugin=task/none"
      echo "SelectType=select/cons_tres"
      echo "SelectTypeParameters=CR_CPU"
      echo "MpiDefault=none"
      echo "StateSaveLocation=$dir/state"
      echo "SlurmdSpoolDir=$dir/spool/%n"
      echo "SlurmctldPidFile=$dir/slurmctld.pid"
      echo "SlurmdPidFile=$dir/slurmd-%n.pid"
      echo "SlurmctldLogFile=$dir/slurmctld.log"
      echo "SlurmdLogFile=$dir/slurmd-%n.log"
      echo "ReturnToService=2"
      echo "MinJobAge=600"
      echo "KillWait=5"
      echo "MaxArraySize=${AEFLOW_MAX_ARRAY_SIZE:-1001}"
      for i in $(seq "$n"); do echo "NodeName=aefh$i NodeAddr=$net.$i CPUs=$cpus State=UNKNOWN"; done
      echo "PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP"
    } >"$dir/slurm.conf"
    cat >"$dir/env.sh" <<ENV
export SLURM_CONF=$dir/slurm.conf
export OMPI_MCA_btl=tcp,self OMPI_MCA_btl_tcp_if_include=$net.0/24 OMPI_MCA_oob_tcp_if_include=$net.0/24
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ENV
    export SLURM_CONF=$dir/slurm.conf
    slurmctld -f "$SLURM_CONF"
    for i in $(seq "$n"); do
      # nsenter, not `ip netns exec`: that remounts /sys, and slurmd then fails on cgroups.
      nsenter --net="/run/netns/aefh$i" unshare --uts \
        sh -c "hostname aefh$i; exec slurmd -N aefh$i -f '$SLURM_CONF'"
    done
    for _ in $(seq 100); do
      if [[ $(sinfo -h -o '%t %D' 2>/dev/null) == "idle $n" ]]; then
        echo "slurm up: $n node(s); source $dir/env.sh"
        exit 0
      fi
      sleep 0.2
    done
    echo "local-cluster.sh: the nodes did not come up: see $dir/*.log" >&2
    sinfo >&2 || true
    exit 1
    ;;
  down)
    [[ -n ${2-} ]] || usage
    stop "$2"
    ;;
  *) usage ;;
esac
