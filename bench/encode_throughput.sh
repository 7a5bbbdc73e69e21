#!/usr/bin/env bash
# Encoding throughput: `aeflow encode` of MNIST train + test (70000 images) with a
# 784-512-128-10 encoder on 1 and 2 ranks (one thread each), reading the IDX files and writing
# the HDF5 file included, beside the compute bound of a oneDNN GEMM measured in the same run
# (aeflow_gemm_peak: one thread, M=1024 K=784 N=512). Encoding costs 2 * sum(in * out) FLOPs
# per image over the encoder's layers; the bound is GEMM peak / that, per rank. Runs the cases
# alternating, REPS times, and prints medians.
#
# Usage: bench/encode_throughput.sh [REPS] [PROCS...]    (defaults: 5 repetitions, 1 2)
# Environment: AEFLOW_BUILD (build/release, holding aeflow and aeflow_gemm_peak), DATA (MNIST
#              dir), CHECKPOINT (default: a 784-512-128-10 model trained here for 20 steps; the
#              weights do not change the cost), DEFLATE (encode's --deflate, default 1), CHUNK
#              (encode's --chunk, default 4096)
# Needs: a release build (scripts/setup.sh), data/mnist (scripts/fetch-data.sh).
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/cpu.sh
source bench/cpu.sh
reps=${1:-5}
shift || true
procs=("${@:-1 2}")
read -r -a procs <<<"${procs[*]}"
build=${AEFLOW_BUILD:-build/release}
bin=$build/aeflow
data=${DATA:-data/mnist}
deflate=${DEFLATE:-1}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
work=$(mktemp -d /tmp/aeflow-bench-encode.XXXXXX)
trap 'rm -rf "$work"' EXIT

checkpoint=${CHECKPOINT:-}
if [[ -z $checkpoint ]]; then
  "$bin" train --data "$data" --out "$work/run" --encoder 784,512,128,10 --steps 20 \
    --validation 0 --test-limit 100 >/dev/null
  checkpoint=$work/run/checkpoints/latest.h5
fi
widths=$("$bin" inspect "$checkpoint" | grep -m1 -o '@encoder = \[[0-9, ]*\]' | tr -dc '0-9,')
flops=$(awk -F, '{s = 0; for (i = 1; i < NF; i++) s += $i * $(i + 1); print 2 * s}' <<<"$widths")

echo "machine: $(getconf _NPROCESSORS_ONLN) cores, $(cpu_line)"
gemm=$("$build/aeflow_gemm_peak")
echo "$gemm"
peak=$(grep -o '[0-9.]* GFLOP/s' <<<"$gemm" | cut -d' ' -f1)
bound=$(awk -v p="$peak" -v f="$flops" 'BEGIN {printf "%.0f", p * 1e9 / f}')
echo "encoder $widths: $flops FLOP per image -> compute bound $bound images/s per rank"

results=$work/results
for rep in $(seq "$reps"); do
  for p in "${procs[@]}"; do
    start=$(date +%s.%N)
    out=$(mpirun -n "$p" --bind-to core --oversubscribe -x OMP_NUM_THREADS=1 "$bin" encode \
      --checkpoint "$checkpoint" --data "$data" --out "$work/encoded.h5" --force \
      --deflate "$deflate" ${CHUNK:+--chunk "$CHUNK"})
    wall=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN {print e - s}')
    # "encoded train: 60000 images on 2 ranks in 0.410 s, ... rank 0: read 0.010 s, encode
    # 0.300 s, write 0.100 s": images and seconds of each split, and rank 0's phases.
    line=$(awk -v p="$p" -v w="$wall" '/^encoded /{n += $3; s += $9
        for (i = 10; i < NF; i++) {
          if ($i == "read") r += $(i + 1); if ($i == "encode") e += $(i + 1)
          if ($i == "write") x += $(i + 1) } }
      END {printf "p=%d images=%d seconds=%.3f images/s=%.0f per_rank=%.0f command_s=%.2f" \
                  " (rank 0: read %.3f encode %.3f write %.3f)\n",
           p, n, s, n / s, n / s / p, w, r, e, x}' <<<"$out")
    echo "rep $rep: $line" | tee -a "$results"
  done
done

median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
echo
printf '%-6s %12s %12s %12s %12s\n' ranks images/s per-rank "% of bound" command-s
for p in "${procs[@]}"; do
  rate=$(grep " p=$p " "$results" | grep -o 'images/s=[0-9.]*' | cut -d= -f2 | median)
  wall=$(grep " p=$p " "$results" | grep -o 'command_s=[0-9.]*' | cut -d= -f2 | median)
  awk -v p="$p" -v r="$rate" -v b="$bound" -v w="$wall" \
    'BEGIN {printf "%-6d %12.0f %12.0f %11.1f%% %12.2f\n", p, r, r / p, 100 * r / p / b, w}'
done
