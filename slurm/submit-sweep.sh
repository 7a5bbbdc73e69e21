#!/usr/bin/env bash
# Submits a sweep as a Slurm job array, one run per task, and the summary job after it; prints
# the job ids (the arrays', then the summary's). The grid is the job file's [sweep] section and
# the options given (as `aeflow sweep` takes them). Where the grid has more runs than the site's
# MaxArraySize (scontrol show config), it is split into several arrays.
#
#   slurm/submit-sweep.sh jobs/sweep_bottleneck.ini runs/k
#   AEFLOW_ARRAY_THROTTLE=4 AEFLOW_TASK_SBATCH="--nodes=1 --ntasks-per-node=4" \
#     slurm/submit-sweep.sh jobs/sweep_bottleneck.ini runs/k --grid lr=0.001,0.003
#
# Environment: AEFLOW (the binary; default: aeflow on PATH, else build/release/aeflow),
# AEFLOW_DATA (default data/mnist), AEFLOW_ARRAY_THROTTLE (at most that many tasks at once: %N),
# AEFLOW_TASK_SBATCH (more sbatch options for each task, split into words).
set -euo pipefail
here=$(cd "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
job=${1:?usage: slurm/submit-sweep.sh JOB.ini SWEEP_DIR [aeflow sweep options...]}
out=${2:?usage: slurm/submit-sweep.sh JOB.ini SWEEP_DIR [aeflow sweep options...]}
shift 2
aeflow=${AEFLOW:-$(command -v aeflow || echo build/release/aeflow)}
export AEFLOW=$aeflow

# How many runs (this also checks the job file and the options: bad input stops here).
count=$("$aeflow" sweep --config "$job" --data "${AEFLOW_DATA:-data/mnist}" --out "$out" \
  --array-count "$@")
[[ $count =~ ^[0-9]+$ ]] || { echo "submit-sweep.sh: aeflow sweep --array-count said: $count" >&2; exit 2; }
((count > 0)) || { echo "submit-sweep.sh: the grid has no runs" >&2; exit 2; }
max=$(scontrol show config 2>/dev/null | awk '$1 == "MaxArraySize" { print $3 }') || max=
[[ $max =~ ^[0-9]+$ && $max -gt 0 ]] || max=1001
throttle=${AEFLOW_ARRAY_THROTTLE:+%$AEFLOW_ARRAY_THROTTLE}
read -r -a task_options <<<"${AEFLOW_TASK_SBATCH-}"

ids=()
for ((first = 0; first < count; first += max)); do
  size=$((count - first < max ? count - first : max))
  # (the offset as an argument: a task's environment may not be this one, --export=NONE)
  id=$(sbatch --parsable --array="0-$((size - 1))$throttle" "${task_options[@]}" \
    "$here/sweep-array.sbatch" --offset "$first" "$job" "$out" "$@")
  ids+=("${id%%;*}")
done
dependency=afterany$(printf ':%s' "${ids[@]}")
summary=$(sbatch --parsable --dependency="$dependency" "$here/sweep-summary.sbatch" "$job" "$out" "$@")
echo "${ids[*]} ${summary%%;*}"
