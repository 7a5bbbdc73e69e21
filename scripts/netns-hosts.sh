#!/usr/bin/env bash
# Test hosts on one machine: network namespaces joined by veth links to a bridge, each with an
# address of its own and a hostname of its own, so that MPI jobs cross a real (virtual) network
# over OpenMPI's TCP transport instead of shared memory. Needs root and iproute2.
#
#   scripts/netns-hosts.sh up N [QDISC]   make hosts aefh1..aefhN on 10.213.7.0/24 (QDISC: a tc
#                                         qdisc for every host's link, e.g. "tbf rate 10gbit
#                                         burst 1mb latency 5ms" for a 10 Gb/s link, or "netem
#                                         delay 50us" where the kernel has sch_netem)
#   scripts/netns-hosts.sh down           remove them
#   scripts/netns-hosts.sh agent HOST CMD run CMD "on" HOST (OpenMPI's plm_rsh_agent)
#   scripts/netns-hosts.sh mpirun ARGS... mpirun from the first host across all of them
#
# Traffic stays on these test addresses; `down` removes every namespace, link and the bridge.
set -euo pipefail
net=10.213.7
bridge=aefbr0
self=$(readlink -f "${BASH_SOURCE[0]}")
state=/run/aeflow-netns-hosts

hosts() { [[ -f $state ]] && cat "$state"; }

case ${1-} in
  up)
    n=${2:?usage: up N [QDISC]}
    qdisc=${3-}
    "$self" down >/dev/null 2>&1 || true
    ip link add "$bridge" type bridge
    ip addr add "$net.254/24" dev "$bridge"
    ip link set "$bridge" up
    : >"$state"
    for i in $(seq "$n"); do
      ns=aefh$i
      ip netns add "$ns"
      ip link add "veth-$ns" type veth peer name eth0 netns "$ns"
      ip link set "veth-$ns" master "$bridge" up
      ip -n "$ns" addr add "$net.$i/24" dev eth0
      ip -n "$ns" link set eth0 up
      ip -n "$ns" link set lo up
      # shellcheck disable=SC2086 # QDISC is a list of tc words
      if [[ -n $qdisc ]]; then ip netns exec "$ns" tc qdisc add dev eth0 root $qdisc; fi
      echo "$ns $net.$i" >>"$state"
    done
    ;;
  down)
    # Every test host, also those left by a run whose state file is gone (an interrupted `up`):
    # first what still runs in it (a namespace with a process in it outlives `ip netns del`, and
    # keeps its link and address), then the namespace and its link.
    while read -r ns _; do
      ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
      ip netns del "$ns" 2>/dev/null || true
      ip link del "veth-$ns" 2>/dev/null || true
    done < <({ hosts; ip netns list | grep -E '^aefh[0-9]+( |$)'; } 2>/dev/null | sort -u)
    ip link del "$bridge" 2>/dev/null || true
    rm -f "$state"
    ;;
  agent)
    # OpenMPI calls: AGENT [options] HOST COMMAND...; skip ssh-style options it may pass.
    shift
    while [[ ${1-} == -* ]]; do shift; done
    host=$1
    shift
    ns=$(awk -v a="$host" '$2 == a || $1 == a {print $1}' "$state")
    [[ -n $ns ]] || { echo "netns-hosts: unknown host $host" >&2; exit 1; }
    exec ip netns exec "$ns" unshare --uts sh -c "hostname $ns; $*"
    ;;
  mpirun)
    shift
    first=$(hosts | head -n1 | cut -d' ' -f1)
    list=$(hosts | awk '{print $2}' | paste -sd, -)
    exec ip netns exec "$first" unshare --uts sh -c "hostname $first; exec \"\$@\"" mpirun \
      mpirun --host "$list" --mca plm_rsh_agent "$self agent" --mca btl tcp,self \
      --mca btl_tcp_if_include "$net.0/24" --mca oob_tcp_if_include "$net.0/24" "$@"
    ;;
  *)
    sed -n '2,14p' "$self"
    exit 2
    ;;
esac
