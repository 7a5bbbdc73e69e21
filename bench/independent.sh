#!/usr/bin/env bash
# The ceiling for P ranks on this machine: P copies of the one-rank training step, each pinned
# to its own core and sharing nothing, against one copy alone. No data-parallel mode can beat
# the slowest copy times P (the ranks go in lockstep), so this says how much of a P-rank
# shortfall is the machine (shared memory bandwidth and caches, a busier host under one vCPU)
# and how much is aeflow's. Each repetition runs one copy alone on each core in turn, then P
# together; prints samples/s and Adam's share of each, then medians and the ceiling: P times
# the slowest copy together over the mean of the copies alone.
#
# Usage: bench/independent.sh [REPS] [P]      (defaults: 5 repetitions, 2 copies)
# Environment: BUILD (build/release), DATA (data/mnist), BATCH (64), STEPS (600)
# Needs: scripts/setup.sh (the build), scripts/fetch-data.sh (MNIST), taskset (util-linux).
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
reps=${1:-5}
copies=${2:-2}
bench=${BUILD:-build/release}/aeflow_train_bench
[[ -x $bench ]] || { echo "independent.sh: $bench missing: run scripts/setup.sh" >&2; exit 2; }
((copies <= $(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc))) || { echo "independent.sh: $copies copies, $(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc) cores" >&2; exit 2; }
# shellcheck disable=SC2054  # (the commas are the encoder's widths)
flags=(--encoder 784,512,128,10 --activation sigmoid --loss mse --batch "${BATCH:-64}"
  --steps "${STEPS:-600}" --data "${DATA:-data/mnist}")
export OMP_NUM_THREADS=1
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

rate() { grep -o 'samples_per_s=[0-9]*' "$1" | cut -d= -f2; }
adam() { grep -o 'optimizer=[0-9.]*' "$1" | cut -d= -f2; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for rep in $(seq "$reps"); do
  line="rep $rep: alone"
  sum=0
  for ((c = 0; c < copies; ++c)); do
    taskset -c "$c" "$bench" "${flags[@]}" >"$out/alone$c"
    line+=" core$c $(rate "$out/alone$c") ($(adam "$out/alone$c")%)"
    sum=$((sum + $(rate "$out/alone$c")))
  done
  for ((c = 0; c < copies; ++c)); do taskset -c "$c" "$bench" "${flags[@]}" >"$out/copy$c" & done
  wait
  line+="; together"
  slowest=""
  for ((c = 0; c < copies; ++c)); do
    r=$(rate "$out/copy$c")
    line+=" core$c $r ($(adam "$out/copy$c")%)"
    [[ -z $slowest || $r -lt $slowest ]] && slowest=$r
  done
  echo "$line"
  echo "$((sum / copies)) $slowest" >>"$out/results"
done
alone=$(cut -d' ' -f1 "$out/results" | median)
slowest=$(cut -d' ' -f2 "$out/results" | median)
echo "medians: alone (mean over cores) $alone samples/s; slowest of $copies together $slowest;" \
  "ceiling for $copies ranks in lockstep: $(awk -v s="$slowest" -v a="$alone" -v p="$copies" 'BEGIN { printf "%.2fx", p * s / a }') one rank"
