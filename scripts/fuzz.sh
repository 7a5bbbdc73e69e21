#!/usr/bin/env bash
# Fuzz one of aeflow's readers or parsers with libFuzzer, under ASan and UBSan.
#
# Usage: scripts/fuzz.sh [--binary PATH] TARGET SECONDS
#   TARGET    idx, job_file, checkpoint, checkpoint_edits or walk (tests/fuzz/TARGET_fuzz.cpp)
#   SECONDS   how long to fuzz (ctest runs each target for 30 s; run longer by hand)
#   --binary  the fuzz target built elsewhere (default: build/sanitize/tests/fuzz/fuzz_TARGET,
#             built here with the `sanitize` preset if it is missing)
#
# Starts from the committed seeds (tests/fuzz/corpus/TARGET, and jobs/ for job_file) and keeps
# what it finds in AEFLOW_FUZZ_CORPUS/TARGET (default build/sanitize/fuzz-corpus). An input that
# crashes, leaks, hangs (10 s) or trips UBSan is saved as build/sanitize/fuzz-crashes/TARGET-*
# and fails the run: add it to tests/fuzz/corpus/TARGET, where every later run replays it, once
# the bug is fixed. Prints "aeflow-count fuzz_TARGET_inputs N" and "..._cpu_seconds S" for
# scripts/test-summary.py.
set -euo pipefail
# shellcheck source=common.sh source-path=SCRIPTDIR
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

binary=''
while [[ ${1-} == -* ]]; do
  case $1 in
    --binary) binary=${2:?--binary needs a path}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option: $1 (see --help)" ;;
  esac
done
(($# == 2)) || die "expected TARGET SECONDS (see --help)"
target=$1 seconds=$2
[[ $target =~ ^(idx|job_file|checkpoint|checkpoint_edits|walk)$ ]] ||
  die "unknown target '$target': idx, job_file, checkpoint, checkpoint_edits or walk"
[[ $seconds =~ ^[1-9][0-9]*$ ]] || die "SECONDS must be a whole number of seconds, not '$seconds'"

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
trap 'rm -rf -- "$log" "$log.times" "$inputs_dir"' EXIT
corpus=${AEFLOW_FUZZ_CORPUS:-$build/fuzz-corpus}/$target
mkdir -p -- "$corpus"
corpus=$(realpath -- "$corpus")
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
say "fuzzing $target for $seconds s: $binary $corpus ${seeds[*]}"
status=0
(cd -- "$inputs_dir" && "$binary" -max_total_time="$seconds" \
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
