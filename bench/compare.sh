#!/usr/bin/env bash
# aeflow's training step against PyTorch on the same CPU, side by side: each case runs aeflow
# (bench/train_step.cpp) and the PyTorch peer (bench/torch_peer.py, or bench/torch_ddp_peer.py
# for 2 processes) back to back, the cases alternate, REPS times; then medians, the ratio
# aeflow / PyTorch, and aeflow's training GFLOP/s as a share of the one-thread oneDNN sgemm peak
# (bench/gemm_peak.cpp, measured before and after, the higher taken). The bf16 case runs aeflow
# with --precision bf16 against the same fp32 PyTorch peer.
#
# Usage: bench/compare.sh [REPS]            (default 5)
# Environment: BUILD (build/release), DATA (data/mnist), PYTHON (/usr/bin/python3),
#              STEPS (400 timed steps per run), CASES (a subset of the case names below)
# Needs: scripts/setup.sh (the build), scripts/fetch-data.sh (MNIST), python3-torch, and
# libopenblas0-pthread: Debian's torch runs its matmuls on whatever libblas.so.3 is, and the
# reference BLAS (the default without OpenBLAS) makes the peer many times slower than it can be.
# The peer runs without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (some environments set them,
# which slows OpenBLAS), with denormals flushed, and in the fastest of PyTorch's ways to run the
# step (bench/torch_peer.py --variant best); each table line says which BLAS, kernel and way.
# With the 2-rank batch-64 case, the machine's lockstep ceiling for 2 ranks is measured in the
# same run (bench/independent.sh, same batch and steps) and the 2-rank speed-up set against it.
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/cpu.sh
source bench/cpu.sh
reps=${1:-5}
build=${BUILD:-build/release}
data=${DATA:-data/mnist}
python=${PYTHON:-/usr/bin/python3}
steps=${STEPS:-400}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
for tool in "$build/aeflow_train_bench" "$build/aeflow_gemm_peak"; do
  [[ -x $tool ]] || { echo "compare.sh: $tool missing: run scripts/setup.sh" >&2; exit 2; }
done
"$python" -c "import torch" 2>/dev/null || { echo "compare.sh: $python has no torch (apt install python3-torch)" >&2; exit 2; }

# name | model flags (shared by both) | batch | ranks | threads
all_cases=(
  "wide-b64|--encoder 784,512,128,10 --activation sigmoid --loss mse|64|1|1"
  "wide-b256|--encoder 784,512,128,10 --activation sigmoid --loss mse|256|1|1"
  "narrow-b64|--encoder 784,50,50,2 --activation tanh --loss mse|64|1|1"
  "shallow-bce-b200|--encoder 784,32 --activation relu --loss bce|200|1|1"
  "wide-b64-2threads|--encoder 784,512,128,10 --activation sigmoid --loss mse|64|1|2"
  "wide-b64-2ranks|--encoder 784,512,128,10 --activation sigmoid --loss mse|64|2|1"
  "wide-b256-2ranks|--encoder 784,512,128,10 --activation sigmoid --loss mse|256|2|1"
  "wide-b64-bf16|--encoder 784,512,128,10 --activation sigmoid --loss mse --precision bf16|64|1|1"
)
wanted=${CASES:-}
results=$(mktemp)
trap 'rm -f "$results"' EXIT

peak() { "$build/aeflow_gemm_peak" | sed 's/.*: \([0-9.]*\) GFLOP.*/\1/'; }

run_case() {  # NAME FLAGS BATCH RANKS THREADS
  local name=$1 flags=$2 batch=$3 ranks=$4 threads=$5 line rate gflops
  # shellcheck disable=SC2086
  if ((ranks == 1)); then
    line=$(OMP_NUM_THREADS=$threads "$build/aeflow_train_bench" $flags --batch "$batch" \
      --steps "$steps" --data "$data")
  else
    line=$(mpirun -n "$ranks" --bind-to core -x OMP_NUM_THREADS="$threads" \
      "$build/aeflow_train_bench" $flags --batch "$batch" --steps "$steps" --data "$data")
  fi
  rate=$(grep -o 'samples_per_s=[0-9]*' <<<"$line" | cut -d= -f2)
  gflops=$(grep -o 'gflops=[0-9.]*' <<<"$line" | cut -d= -f2)
  echo "$name aeflow $rate $gflops" | tee -a "$results"
  local encoder activation loss
  encoder=$(sed 's/.*--encoder \([^ ]*\).*/\1/' <<<"$flags")
  activation=$(sed 's/.*--activation \([^ ]*\).*/\1/' <<<"$flags")
  loss=$(sed 's/.*--loss \([^ ]*\).*/\1/' <<<"$flags")
  if ((ranks == 1)); then
    line=$(OMP_NUM_THREADS=$threads "${peer_env[@]}" "$python" bench/torch_peer.py --encoder "$encoder" \
      --activation "$activation" --loss "$loss" --batch "$batch" --threads "$threads" \
      --steps "$steps" --data "$data")
  else
    line=$(OMP_NUM_THREADS=$threads "${peer_env[@]}" "$python" bench/torch_ddp_peer.py --encoder "$encoder" \
      --activation "$activation" --procs "$ranks" --batch "$batch" --threads "$threads" \
      --steps "$steps" --data "$data")
  fi
  rate=$(grep -o 'samples_per_s=[0-9]*' <<<"$line" | cut -d= -f2)
  echo "$name torch $rate -" | tee -a "$results"
  echo "  (peer: $(grep -o 'blas=[^ ]*' <<<"$line") $(grep -o 'variant=[^ ]*' <<<"$line")" \
    "$(grep -o 'trials=[^ ]*' <<<"$line"))"
}

echo "machine: $(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc) cores, $(cpu_line);" \
  "torch $("$python" -c 'import torch; print(torch.__version__)')"
# The peer at its best: none of the OpenBLAS overrides in its own environment.
peer_env=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)
for name in OPENBLAS_CORETYPE OPENBLAS_L2_SIZE; do
  [[ -n ${!name-} ]] && echo "note: $name=${!name} is set here; the peer runs without it"
done
blas=$(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3)
echo "libblas.so.3 -> $blas"
if [[ $blas != *openblas* ]]; then
  echo "compare.sh: the peer would run on the reference BLAS ($blas), many times slower than" \
    "it can: apt install libopenblas0-pthread" >&2
  exit 2
fi
peak_before=$(peak)
echo "sgemm peak (1 thread, before): $peak_before GFLOP/s"
for rep in $(seq "$reps"); do
  for spec in "${all_cases[@]}"; do
    IFS='|' read -r name flags batch ranks threads <<<"$spec"
    [[ -z $wanted || " $wanted " == *" $name "* ]] || continue
    run_case "$name" "$flags" "$batch" "$ranks" "$threads"
  done
  echo "(repetition $rep of $reps done)"
done
peak_after=$(peak)
echo "sgemm peak (1 thread, after): $peak_after GFLOP/s"
ceiling=-
if [[ -z $wanted || " $wanted " == *" wide-b64-2ranks "* ]] && (($(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc) >= 2)); then
  echo "lockstep ceiling for 2 ranks (bench/independent.sh $reps 2, batch 64, $steps steps):"
  ceiling_out=$(BUILD=$build DATA=$data BATCH=64 STEPS=$steps bench/independent.sh "$reps" 2)
  echo "$ceiling_out" | sed 's/^/  /'
  ceiling=$(grep -o 'lockstep: [0-9.]*x' <<<"$ceiling_out" | grep -o '[0-9.]*')
fi

echo
echo "medians over $reps runs, $steps timed steps each (samples/s):"
"$python" - "$results" "$peak_before" "$peak_after" "$ceiling" <<'PY'
import collections, statistics, sys
rates, gflops = collections.defaultdict(list), collections.defaultdict(list)
order = []
for line in open(sys.argv[1]):
    name, who, rate, g = line.split()
    if name not in order: order.append(name)
    rates[(name, who)].append(float(rate))
    if g != "-": gflops[name].append(float(g))
peak = max(float(sys.argv[2]), float(sys.argv[3]))
print(f"{'case':20s} {'aeflow':>9s} {'pytorch':>9s} {'ratio':>7s} {'GFLOP/s':>8s} {'of peak':>8s}")
for name in order:
    a = statistics.median(rates[(name, "aeflow")])
    t = statistics.median(rates[(name, "torch")])
    g = statistics.median(gflops[name])
    ranks = 2 if "2ranks" in name or "2threads" in name else 1
    share = g / (peak * ranks)  # 2 ranks or 2 threads: against two cores' peak
    share = "(bf16)" if "bf16" in name else f"{share:.0%}"  # not comparable to the f32 peak
    print(f"{name:20s} {a:9.0f} {t:9.0f} {a / t:6.2f}x {g:8.1f} {share:>8s}")
for batch in ("b64", "b256"):
    one, two = f"wide-{batch}", f"wide-{batch}-2ranks"
    if (one, "aeflow") in rates and (two, "aeflow") in rates:
        s = statistics.median(rates[(two, "aeflow")]) / statistics.median(rates[(one, "aeflow")])
        line = f"aeflow 2 ranks x 1 thread / 1 rank x 1 thread, global {batch}: {s:.2f}x"
        if batch == "b64" and sys.argv[4] != "-":
            c = float(sys.argv[4])
            line += f" (the machine's lockstep ceiling {c:.2f}x: {s / c:.0%} of it)"
        print(line)
PY
