#!/usr/bin/env bash
# Shared helpers for scripts/*.sh: source it (running it does nothing).
# Defines AEFLOW_ROOT (the repository root) and a few small functions.
set -euo pipefail

# shellcheck disable=SC2034  # used by the scripts that source this file
AEFLOW_ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)

# say MESSAGE...: one plain progress line, prefixed with the running script's name.
say() { printf '%s: %s\n' "$(basename -- "$0")" "$*"; }

# die MESSAGE...: print an error to stderr and exit 1.
die() { say "error: $*" >&2; exit 1; }

# usage: print the calling script's header comment (the lines after the shebang).
usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

# allow_mpi_as_root: OpenMPI refuses to run as root unless both variables are set.
allow_mpi_as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  fi
}
