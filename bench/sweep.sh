#!/usr/bin/env bash
# A sweep's wall time against the same runs one after another: jobs/sweep_bottleneck.ini (8 code
# widths) on P ranks split into groups of G ranks per run (--ranks-per-run G: P / G runs at once,
# a group taking the next width as it finishes), then the same grid with --ranks-per-run P (one
# run at a time, data-parallel on all P ranks, as a driver script calling `aeflow train` in a
# loop would). Prints each wall time, the ratio, and each sweep's group utilization (busy
# rank-seconds over wall x ranks, from the printed table: each run's wall time times its ranks;
# reading the data, fitting PCA and starting MPI count as idle), then the first sweep's table
# (README's "How many dimensions are enough?").
#
# Usage: bench/sweep.sh [EPOCHS] [P] [G ...]   (defaults: the job's 25 epochs, 2 ranks, G = 1)
# Environment: BUILD (build/release; or AEFLOW, the binary), DATA (data/mnist), OUT (a temporary
#   directory, removed unless given), DIMS (the job's 1,2,3,5,10,16,32,64), BIND (mpirun's
#   --bind-to: none).
# Needs: scripts/setup.sh (the build), scripts/fetch-data.sh (MNIST).
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
epochs=${1:-25}
ranks=${2:-2}
groups=("${@:3}")
((${#groups[@]})) || groups=(1)
aeflow=${AEFLOW:-${BUILD:-build/release}/aeflow}
[[ -x $aeflow ]] || command -v "$aeflow" >/dev/null || { echo "sweep.sh: $aeflow missing: run scripts/setup.sh" >&2; exit 2; }
if [[ -n ${OUT-} ]]; then out=$OUT; mkdir -p "$out"; else out=$(mktemp -d); trap 'rm -rf "$out"' EXIT; fi
dims=(); [[ -n ${DIMS-} ]] && dims=(--dims "$DIMS")
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ)"
declare -A wall
for g in "${groups[@]}" "$ranks"; do
  [[ -e $out/g$g ]] && { echo "sweep.sh: $out/g$g exists (a sweep there trains nothing new): give another OUT" >&2; exit 2; }
  start=$(date +%s.%N)
  mpirun -n "$ranks" --bind-to "${BIND:-none}" -x OMP_NUM_THREADS=1 "$aeflow" sweep \
    --config jobs/sweep_bottleneck.ini --data "${DATA:-data/mnist}" --epochs "$epochs" \
    "${dims[@]}" --ranks-per-run "$g" --out "$out/g$g" >"$out/g$g.log" 2>&1
  end=$(date +%s.%N)
  wall[$g]=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
  # (the table's rows: k, settings, test rmse, mse, PCA rmse, kNN, best, epochs, wall s, ranks, status)
  busy=$(awk '/^ +[0-9]+ +- / { s += $(NF-2) * $(NF-1) } END { print s + 0 }' "$out/g$g.log")
  printf -- '--ranks-per-run %-3s %3d run(s) at once: %8.1f s, utilization %.3f\n' "$g" \
    "$((ranks / g))" "${wall[$g]}" "$(awk -v b="$busy" -v w="${wall[$g]}" -v p="$ranks" 'BEGIN { print b / (w * p) }')"
done
for g in "${groups[@]}"; do
  awk -v a="${wall[$ranks]}" -v b="${wall[$g]}" -v g="$g" \
    'BEGIN { printf "one at a time / sweep with --ranks-per-run %s: %.2f\n", g, a / b }'
done
echo
sed -n '/^    k  settings/,$p' "$out/g${groups[0]}.log"
