#!/usr/bin/env bash
# Fuzz one of aeflow's readers or parsers with libFuzzer, under ASan and UBSan.
#
# Usage: scripts/fuzz.sh [--binary PATH] [--seed N] [--seeds-only] TARGET SECONDS
#   TARGET    idx, job_file, checkpoint, checkpoint_edits or walk (tests/fuzz/TARGET_fuzz.cpp)
#   SECONDS   how long to fuzz (ctest runs each target for 30 s; run longer by hand)
#   --binary  the fuzz target built elsewhere (default: build/sanitize/tests/fuzz/fuzz_TARGET,
#             built here with the `sanitize` preset if it is missing)
#   --seed    libFuzzer's random seed (default: a new one each run), and no guidance from the
#             values the target compares (-use_cmp=0: they hold addresses and names that differ
#             from run to run, and steered runs of one seed apart within a few hundred inputs).
#             ctest passes a fixed one, so that every run of a commit tries the same inputs in
#             the same order (job_file's coverage still differs a little between runs): a
#             failing test is then a change's doing and fails again on any machine, where a new
#             seed each run let any run, of any change, find an old bug (as CI runs did, in
#             libhdf5). Looking for new bugs is done by hand, with new seeds, for longer.
#   --seeds-only  start from the committed seeds alone and keep nothing found (ctest's runs:
#             with --seed, the same inputs on every machine and every run)
#
# Starts from the committed seeds (tests/fuzz/corpus/TARGET, and jobs/ for job_file) and, unless
# --seeds-only, what earlier runs found, kept in AEFLOW_FUZZ_CORPUS/TARGET (default
# build/sanitize/fuzz-corpus), where it keeps what it finds. An input that
# crashes, leaks, hangs (10 s) or trips UBSan is saved as build/sanitize/fuzz-crashes/TARGET-*
# and fails the run: add it to tests/fuzz/corpus/TARGET, where every later run replays it, once
# the bug is fixed. Prints "aeflow-count fuzz_TARGET_inputs N" and "..._cpu_seconds S" for
# scripts/test-summary.py.
set -euo pipefail
# shellcheck source=common.sh source-path=SCRIPTDIR
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

binary='' seed='' seeds_only=0
while [[ ${1-} == -* ]]; do
  case $1 in
    --binary) binary=${2:?--binary needs a path}; shift 2 ;;
    --seed) seed=${2:?--seed needs a number}; shift 2 ;;
    --seeds-only) seeds_only=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option: $1 (see --help)" ;;
  esac
done
(($# == 2)) || die "expected TARGET SECONDS (see --help)"
target=$1 seconds=$2
[[ $target =~ ^(idx|job_file|checkpoint|checkpoint_edits|walk)$ ]] ||
  die "unknown target '$target': idx, job_file, checkpoint, checkpoint_edits or walk"
[[ $seconds =~ ^[1-9][0-9]*$ ]] || die "SECONDS must be a whole number of seconds, not '$seconds'"
[[ -z $seed || $seed =~ ^[1-9][0-9]{0,8}$ ]] || die "--seed must be a number from 1, not '$seed'"

build=$AEFLOW_ROOT/build/sanitize
if [[ -z $binary ]]; then
  binary=$build/tests/fuzz/fuzz_$target
  if [[ ! -x $binary ]]; then
    say "building fuzz_$target (cmake --preset sanitize)"
    cmake --preset sanitize >/dev/null
    cmake --build --preset sanitize -j "$(nproc)" --target "fuzz_$target"
  fi
fi
[[ -x $binary ]] || die "no fuzz target at $binary"
binary=$(realpath -- "$binary")  # (it runs in a directory of its own, below)

crashes=$build/fuzz-crashes
mkdir -p -- "$crashes"
# The target writes each input to the file `input` in its working directory
# (tests/fuzz/input_file.hpp): a directory of this run's own, in memory where /dev/shm is
# writable, removed with whatever a crash left there.
memory=${TMPDIR:-/tmp}
[[ -w /dev/shm ]] && memory=/dev/shm
log=$(mktemp) inputs_dir=$(mktemp -d -p "$memory")
corpus=
cleanup() {
  rm -rf -- "$log" "$log.times" "$inputs_dir"
  if ((seeds_only)) && [[ -n $corpus ]]; then rm -rf -- "$corpus"; fi
}
trap cleanup EXIT
if ((seeds_only)); then
  corpus=$(mktemp -d)
else
  corpus=${AEFLOW_FUZZ_CORPUS:-$build/fuzz-corpus}/$target
  mkdir -p -- "$corpus"
  corpus=$(realpath -- "$corpus")
fi
seeds=("$AEFLOW_ROOT/tests/fuzz/corpus/$target")
[[ $target == job_file ]] && seeds+=("$AEFLOW_ROOT/jobs")

# Memory: 2 GB, as much as a real run's reader may take; except that the checkpoint reader
# opens files through libhdf5 1.10, which for some damaged superblocks allocates and touches
# gigabytes before it refuses them (a transient cost in a real run, not aeflow's to remove):
# there the limit is 8 GB, and any one allocation above 2 GB returns NULL, as malloc does on a
# machine without the memory, so libhdf5 refuses the file at once (touching 4.7 GB under ASan
# took 12 s, past the 10 s that counts as a hang). Elsewhere such an allocation is a failure.
# libhdf5's own leaks (on its error paths, as after such a NULL) are not reported there
# (tests/fuzz/libhdf5-leaks.supp says why, and what checks aeflow's HDF5 handles instead).
memory_mb=2048 largest='' suppressions=''
if [[ $target == checkpoint* ]]; then
  memory_mb=8192 largest=:max_allocation_size_mb=2048
  suppressions=suppressions=$AEFLOW_ROOT/tests/fuzz/libhdf5-leaks.supp
fi
# Leaks are bugs here (no MPI in these processes to excuse them), whatever the caller's settings
# (the sanitize test preset turns them off for its MPI processes); UBSan stops at the first report.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allocator_may_return_null=1$largest
export LSAN_OPTIONS=$suppressions
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export AEFLOW_FUZZ_INPUT=input
say "fuzzing $target for $seconds s${seed:+ from seed $seed}: $binary $corpus ${seeds[*]}"
status=0
(cd -- "$inputs_dir" && "$binary" ${seed:+-seed="$seed" -use_cmp=0} -max_total_time="$seconds" \
  -timeout=10 -rss_limit_mb="$memory_mb" -malloc_limit_mb="$memory_mb" -print_final_stats=1 \
  -artifact_prefix="$crashes/$target-" "$corpus" "${seeds[@]}") >"$log" 2>&1 || status=$?
# The children's user and system CPU time, from this shell's own accounting (`times` in this
# shell, not in a subshell, which would count only its own children; the subshell above that
# ran the target counts it as its own child, and so here).
times >"$log.times"
read -r child_user child_sys < <(tail -1 "$log.times")
inputs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
cpu=$(awk -v u="$child_user" -v s="$child_sys" 'function sec(t) { split(t, p, "m"); return p[1] * 60 + p[2] }
  BEGIN { printf "%.0f", sec(u) + sec(s) }')
echo "aeflow-count fuzz_${target}_inputs ${inputs:-0}"
echo "aeflow-count fuzz_${target}_cpu_seconds $cpu"
if ((status != 0)); then
  # (libFuzzer's report: the input, the stack; not its progress lines)
  grep -v '^#[0-9]' "$log" | tail -60
  say "error: fuzz_$target failed (exit $status); the input is in $crashes/" >&2
  exit 1
fi
say "fuzz_$target: ${inputs:-0} inputs in $seconds s, no crash, leak, hang or undefined behaviour"
