#!/usr/bin/env bash
# Data-parallel training throughput: aeflow on 1 and 2 ranks (every --grad-sync mode)
# beside PyTorch DDP (gloo) on the same model, global batch and process count, one thread per
# process. Runs the cases alternating, REPS times, and prints medians and ratios.
#
# Usage: bench/scaling.sh [REPS] [PROCS...]    (defaults: 3 repetitions, 1 2)
# Environment: AEFLOW_BIN, DATA (MNIST dir), PYTHON (with torch), BATCHES ("128 512"),
#              MODES ("split shared fused overlap"), STEPS (300)
# Needs: build/release/aeflow (scripts/setup.sh), data/mnist (scripts/fetch-data.sh),
#        Debian's python3-torch for the peer (skipped if missing).
set -euo pipefail
cd "$(dirname -- "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/cpu.sh
source bench/cpu.sh
reps=${1:-3}
shift || true
procs=("${@:-1 2}")
read -r -a procs <<<"${procs[*]}"
bin=${AEFLOW_BIN:-build/release/aeflow}
data=${DATA:-data/mnist}
python=${PYTHON:-/usr/bin/python3}
batches=(${BATCHES:-128 512})
modes=(${MODES:-split shared fused overlap})
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
steps=${STEPS:-300}
model=(--encoder 784,512,128,10 --activation sigmoid --loss mse --optimizer adam --lr 1e-3)
have_torch=0
"$python" -c "import torch" 2>/dev/null && have_torch=1
results=$(mktemp)
trap 'rm -f "$results"; rm -rf /tmp/aeflow-bench-run' EXIT

aeflow_case() {  # P MODE BATCH
  local p=$1 mode=$2 batch=$3 out
  out=$(mpirun -n "$p" --bind-to core --oversubscribe -x OMP_NUM_THREADS=1 "$bin" train "${model[@]}" \
    --data "$data" --out /tmp/aeflow-bench-run --force --validation 0 --test-limit 100 \
    --batch-size "$batch" --steps $((steps + 20)) --grad-sync "$mode" 2>&1 | grep '^throughput')
  echo "aeflow-$mode p=$p batch=$batch $(awk '{print $2}' <<<"$out") $(grep -o '[0-9.]*% of step' <<<"$out" | tr -d '%of step')"
}

torch_case() {  # P BATCH
  local out
  out=$(OMP_NUM_THREADS=1 "$python" bench/torch_ddp_peer.py --data "$data" --procs "$1" --batch "$2" --steps "$steps")
  echo "torch-ddp p=$1 batch=$2 $(sed 's/.*samples_per_s=//' <<<"$out") -"
}

echo "machine: $(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc) cores, $(cpu_line)"
for rep in $(seq "$reps"); do
  for batch in "${batches[@]}"; do
    for p in "${procs[@]}"; do
      for mode in "${modes[@]}"; do
        # One rank has nothing to combine: it runs once, under the first mode's name.
        if [[ $mode == "${modes[0]}" ]] || ((p > 1)); then aeflow_case "$p" "$mode" "$batch" | tee -a "$results"; fi
      done
      if ((have_torch)); then torch_case "$p" "$batch" | tee -a "$results"; fi
    done
  done
  echo "(repetition $rep done)"
done

echo
echo "medians over $reps runs (samples/s; all-reduce share of step time):"
"$python" - "$results" "aeflow-${modes[0]}" <<'PY'
import collections, statistics, sys
first = sys.argv[2]  # the first mode: the one compared with PyTorch
rates, shares = collections.defaultdict(list), collections.defaultdict(list)
for line in open(sys.argv[1]):
    name, p, batch, rate, share = line.split()
    key = (name, int(p[2:]), int(batch[6:]))
    rates[key].append(float(rate))
    if share != "-": shares[key].append(float(share))
family = lambda name: "aeflow" if name.startswith("aeflow") else name
base = {(family(n), b): statistics.median(r) for (n, p, b), r in rates.items() if p == 1}
for key in sorted(rates):
    name, p, batch = key
    med = statistics.median(rates[key])
    ref = base.get((family(name), batch))
    eff = f"  speedup {med / ref:.2f}x  efficiency {med / ref / p:.0%}" if ref and p > 1 else ""
    share = f"  all-reduce {statistics.median(shares[key]):.1f}%" if shares[key] else ""
    print(f"{name:15s} P={p:<2d} batch={batch:<4d} {med:9.0f}{eff}{share}")
for batch in sorted({k[2] for k in rates}):
    for p in sorted({k[1] for k in rates}):
        a = rates.get((first, p, batch)); t = rates.get(("torch-ddp", p, batch))
        if a and t:
            print(f"{first} / torch-ddp at P={p} batch={batch}: "
                  f"{statistics.median(a) / statistics.median(t):.2f}x")
PY
