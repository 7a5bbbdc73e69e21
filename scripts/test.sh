#!/usr/bin/env bash
# Build aeflow (through scripts/setup.sh) and run the whole test suite with ctest.
#
# Usage: scripts/test.sh [CTEST_ARGS...]     e.g. scripts/test.sh -R Sharder
#
# Extra arguments go to ctest. Exits non-zero if setup, the build, or any test fails
# (and if no tests are found, so CI never passes on an empty suite).
set -euo pipefail
# shellcheck source=common.sh source-path=SCRIPTDIR
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

if [[ ${1-} == -h || ${1-} == --help ]]; then usage; exit 0; fi

"$AEFLOW_ROOT/scripts/setup.sh"

cd "$AEFLOW_ROOT"
allow_mpi_as_root
# The MPI tests declare PROCESSORS (their rank count), so ctest's -j never overcommits.
jobs=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)
say "testing: ctest --preset release --output-on-failure -j $jobs $*"
exec ctest --preset release --output-on-failure --no-tests=error -j "$jobs" "$@"
