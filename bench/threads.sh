#!/usr/bin/env bash
# Threads per rank under launchers that do not bind: 2 ranks of `aeflow train` started by srun
# (a Slurm with TaskPlugin=task/none) and by mpirun --bind-to none, with OMP_NUM_THREADS unset,
# on aeflow's default (the CPUs a rank may run on shared among the node's ranks) and on
# --threads CPUS (every rank takes every CPU: what OpenMP does by default, so what aeflow did
# before it chose), beside mpirun's own binding with one thread per rank. Alternating, REPS
# times; prints each case's samples/s.
#
# Usage: bench/threads.sh [REPS]     (default 3)
# Environment: AEFLOW_BIN, DATA (MNIST dir), STEPS (200), BATCH (64), SLURM_CONF (the srun cases
#              run only when sinfo answers; bench/slurm-one-node.sh up DIR starts one)
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/cpu.sh
source bench/cpu.sh
reps=${1:-3}
bin=${AEFLOW_BIN:-build/release/aeflow}
data=${DATA:-data/mnist}
steps=${STEPS:-200}
batch=${BATCH:-64}
cpus=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
unset OMP_NUM_THREADS
run_dir=$(mktemp -d)
trap 'rm -rf "$run_dir"' EXIT
# (the model docs/performance.md measured: sigmoid, MSE, Adam 0.001 constant)
train=("$bin" train --encoder 784,64,8 --activation sigmoid --code-activation sigmoid
       --loss mse --lr 0.001 --lr-schedule constant --data "$data" --out "$run_dir/run" --force
       --validation 0 --test-limit 100 --batch-size "$batch" --steps "$steps")
have_slurm=0
sinfo -h >/dev/null 2>&1 && have_slurm=1

one() {  # NAME COMMAND...
  local name=$1 out
  shift
  out=$("$@" 2>&1) || { echo "$name: failed: $out" >&2; return 1; }
  echo "$name $(grep -m1 '^threads:' <<<"$out" | cut -d: -f2- | xargs) | $(grep '^throughput' <<<"$out" | awk '{print $2}') samples/s"
}

echo "machine: $cpus CPUs, $(cpu_line); 784-64-8, batch $batch, $steps steps, 2 ranks"
for rep in $(seq "$reps"); do
  echo "--- repetition $rep"
  if ((have_slurm)); then
    one "srun default:       " srun --mpi=pmix -n 2 "${train[@]}"
    one "srun --threads $cpus:  " srun --mpi=pmix -n 2 "${train[@]}" --threads "$cpus"
  fi
  one "mpirun --bind-to none default:      " mpirun -n 2 --bind-to none "${train[@]}"
  one "mpirun --bind-to none --threads $cpus: " mpirun -n 2 --bind-to none "${train[@]}" --threads "$cpus"
  one "mpirun (binds to cores), OMP_NUM_THREADS=1:" mpirun -n 2 -x OMP_NUM_THREADS=1 env OMP_NUM_THREADS=1 "${train[@]}"
done
((have_slurm)) || echo "(no Slurm answered sinfo: srun cases left out; bench/slurm-one-node.sh up DIR starts one)"
