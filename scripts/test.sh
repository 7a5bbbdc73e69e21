#!/usr/bin/env bash
# Build aeflow (through scripts/setup.sh) and run the whole test suite with ctest: the release
# build's tests, then the sanitize preset's (clang with ASan and UBSan: every module's unit
# tests, the CLI's end-to-end tests, the MPI tests at two ranks, and each libFuzzer target for
# 30 s; README "Sanitizers and fuzzing").
#
# Usage: scripts/test.sh [CTEST_ARGS...]     e.g. scripts/test.sh -R Sharder
#
# Extra arguments go to the release build's ctest, and then the sanitized run is left out (as it
# is with AEFLOW_SANITIZE=0). Exits non-zero if setup, a build, or any test fails (and if no tests
# are found, so CI never passes on an empty suite).
set -euo pipefail
# shellcheck source=common.sh source-path=SCRIPTDIR
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

if [[ ${1-} == -h || ${1-} == --help ]]; then usage; exit 0; fi

"$AEFLOW_ROOT/scripts/setup.sh"

cd "$AEFLOW_ROOT"
allow_mpi_as_root
# The MPI tests declare PROCESSORS (their rank count), so ctest's -j never overcommits.
jobs=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)
junit=$AEFLOW_ROOT/build/release/ctest-results.xml
say "testing: ctest --preset release --output-on-failure -j $jobs $*"
status=0
ctest --preset release --output-on-failure --no-tests=error --output-junit "$junit" -j "$jobs" \
  "$@" || status=$?
results=("$junit")
if (($# == 0)) && [[ ${AEFLOW_SANITIZE:-1} != 0 ]]; then
  sanitized=$AEFLOW_ROOT/build/sanitize/ctest-results.xml
  say "sanitizers: cmake --preset sanitize, then ctest --preset sanitize -j $jobs"
  cmake --preset sanitize >/dev/null
  cmake --build --preset sanitize -j "$jobs"
  ctest --preset sanitize --output-on-failure --no-tests=error --output-junit "$sanitized" \
    -j "$jobs" || status=$?
  results+=("$sanitized")
fi
# What did not run and why: a skip is not a pass (with AEFLOW_REQUIRE_ALL=1, as .ci/run sets,
# the tests of capabilities CI must have fail instead of skipping).
existing=()
for file in "${results[@]}"; do [[ -f $file ]] && existing+=("$file"); done
((${#existing[@]})) && /usr/bin/python3 "$AEFLOW_ROOT/scripts/test-summary.py" "${existing[@]}"
exit "$status"
