#!/usr/bin/env bash
# A sweep's wall time against the same runs one after another: jobs/sweep_bottleneck.ini (8 code
# widths) on P ranks with --ranks-per-run 1 (P runs at once, a group taking the next width as it
# finishes), then the same grid with --ranks-per-run P (one run at a time, data-parallel on all P
# ranks, as a driver script calling `aeflow train` in a loop would). Prints both wall times, their
# ratio, each sweep's group utilization (busy rank-seconds over wall x ranks, from sweep.h5: each
# run's wall time times its ranks), and the first sweep's table (README's "How many dimensions
# are enough?").
#
# Usage: bench/sweep.sh [EPOCHS] [P]      (defaults: the job's 25 epochs, 2 ranks)
# Environment: BUILD (build/release), DATA (data/mnist), OUT (a temporary directory, removed
#   unless given), DIMS (the job's 1,2,3,5,10,16,32,64).
# Needs: scripts/setup.sh (the build), scripts/fetch-data.sh (MNIST), Debian's python3-h5py.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
epochs=${1:-25}
ranks=${2:-2}
aeflow=${BUILD:-build/release}/aeflow
[[ -x $aeflow ]] || { echo "sweep.sh: $aeflow missing: run scripts/setup.sh" >&2; exit 2; }
if [[ -n ${OUT-} ]]; then out=$OUT; mkdir -p "$out"; else out=$(mktemp -d); trap 'rm -rf "$out"' EXIT; fi
dims=(); [[ -n ${DIMS-} ]] && dims=(--dims "$DIMS")
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores; $(date -u +%Y-%m-%dT%H:%MZ)"
sweep() {  # sweep NAME RANKS_PER_RUN: wall seconds on stdout, log in $out/NAME.log
  local start end
  start=$(date +%s.%N)
  mpirun -n "$ranks" --bind-to none -x OMP_NUM_THREADS=1 "$aeflow" sweep \
    --config jobs/sweep_bottleneck.ini --data "${DATA:-data/mnist}" --epochs "$epochs" \
    "${dims[@]}" --ranks-per-run "$2" --out "$out/$1" >"$out/$1.log" 2>&1
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f\n", b - a }'
}
utilization() {  # utilization TABLE WALL RANKS
  /usr/bin/python3 -c "
import h5py, sys
r = h5py.File(sys.argv[1], 'r')['runs']
busy = float((r['wall_seconds'][...] * r['ranks'][...]).sum())
print(f'{busy / (float(sys.argv[2]) * int(sys.argv[3])):.3f}')" "$1" "$2" "$3"
}
parallel=$(sweep parallel 1)
sequential=$(sweep sequential "$ranks")
printf 'sweep, %d runs at once (--ranks-per-run 1):  %8.1f s  utilization %s\n' "$ranks" \
  "$parallel" "$(utilization "$out/parallel/sweep.h5" "$parallel" "$ranks")"
printf 'one run at a time on %d ranks (--ranks-per-run %d): %8.1f s  utilization %s\n' "$ranks" \
  "$ranks" "$sequential" "$(utilization "$out/sequential/sweep.h5" "$sequential" "$ranks")"
awk -v a="$sequential" -v b="$parallel" 'BEGIN { printf "sequential / sweep: %.2f\n\n", a / b }'
sed -n '/^    k  settings/,$p' "$out/parallel.log"
