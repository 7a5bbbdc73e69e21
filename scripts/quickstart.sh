#!/usr/bin/env bash
# Quickstart: set up and build, fetch MNIST, train jobs/quickstart.ini on 2 MPI ranks,
# encode MNIST with the best model, draw the pictures (scripts/plot.py), then list the outputs
# and how to look at them.
#
# Usage: scripts/quickstart.sh [RUN_DIR] [AEFLOW_TRAIN_ARGS...]
#   RUN_DIR   run directory (default runs/quickstart); relative to where you call from
#   e.g.      scripts/quickstart.sh runs/try2 --epochs 2 --lr 0.01
#
# Re-running starts over: training uses --force, which replaces RUN_DIR's previous outputs
# (use `aeflow train --resume auto` yourself to continue a run instead).
set -euo pipefail
# shellcheck source=common.sh source-path=SCRIPTDIR
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

if [[ ${1-} == -h || ${1-} == --help ]]; then usage; exit 0; fi

run=runs/quickstart
if [[ $# -gt 0 && $1 != -* ]]; then
  run=$1
  shift
  [[ $run == /* ]] || run=$PWD/$run   # resolve against the caller's directory
fi

cd "$AEFLOW_ROOT"
run=${run#"$AEFLOW_ROOT"/}            # show paths inside the repo relative to it

scripts/setup.sh
[[ -f scripts/fetch-data.sh ]] || die "scripts/fetch-data.sh is missing"
say "fetching MNIST into data/mnist"
bash scripts/fetch-data.sh
command -v mpirun >/dev/null || die "mpirun not found (Debian package openmpi-bin)"

allow_mpi_as_root
# yield_when_idle: a rank waiting in the all-reduce gives its core back instead of spinning,
# which keeps a busy 2-core machine from slowing training 4-6x.
mpi_args=(-n 2 --bind-to none -x OMP_NUM_THREADS=1 --mca mpi_yield_when_idle 1)
(($(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc) >= 2)) || mpi_args+=(--oversubscribe)  # OpenMPI refuses 2 ranks on 1 core otherwise
train=(build/release/aeflow train --config jobs/quickstart.ini --data data/mnist --out "$run" --force "$@")
say "training: mpirun ${mpi_args[*]} ${train[*]}"
mpirun "${mpi_args[@]}" "${train[@]}"
encode=(build/release/aeflow encode --checkpoint "$run/checkpoints/best.h5" --data data/mnist
        --out "$run/encoded.h5" --force)
say "encoding MNIST with the best model: mpirun ${mpi_args[*]} ${encode[*]}"
mpirun "${mpi_args[@]}" "${encode[@]}"

say "drawing the pictures: scripts/plot.py $run"
/usr/bin/python3 scripts/plot.py "$run" >/dev/null

say "done. Outputs in $run/:"
for f in "$run"/config.ini "$run"/checkpoints/latest.h5 "$run"/checkpoints/best.h5 \
         "$run"/metrics.h5 "$run"/encoded.h5 "$run"/report.html "$run"/plots/; do
  if [[ -e $f ]]; then echo "  $f"; fi
done
for f in "$run"/plots/*.png "$run"/plots/*.gif; do
  if [[ -e $f ]]; then echo "    $f"; fi
done
say "look at them with:"
for f in "$run"/checkpoints/latest.h5 "$run"/metrics.h5 "$run"/encoded.h5; do
  if [[ -e $f ]]; then echo "  build/release/aeflow inspect $f"; fi
done
