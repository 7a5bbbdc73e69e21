#!/usr/bin/env bash
# Install aeflow's dependencies (Debian 12 packages) if missing, then build the release preset.
# Idempotent: re-running installs nothing new and rebuilds incrementally.
#
# Usage: scripts/setup.sh [--no-build]
#   --no-build   check/install dependencies only
#
# As root with apt-get, missing packages are installed; otherwise it prints the
# `sudo apt-get install ...` line to run and exits 2.
set -euo pipefail
# shellcheck source=common.sh source-path=SCRIPTDIR
source "$(dirname -- "${BASH_SOURCE[0]}")/common.sh"

# Debian packages aeflow needs to build, test and fetch data. Add new ones here.
# ocl-icd-opencl-dev: Debian's oneDNN CMake config (find_package(dnnl)) fails without it.
# npm: only needed if no working npm is on PATH already (e.g. installed outside Debian).
# slurm-wlm, munge, iproute2: the tests' Slurm cluster (slurm/local-cluster.sh) and test hosts.
# python3-matplotlib: scripts/plot.py (the pictures of a run or a sweep); chromium: the test
# that opens its report page in a browser; python3-torch, python3-pytest: python/aeflow's
# to_torch and its tests; python3-sklearn: plot.py --tsne.
# clang-14, libclang-rt-14-dev, libomp-14-dev: the sanitize preset (ASan, UBSan, libFuzzer).
PACKAGES=(
  cmake g++ make pkg-config
  clang-14 libclang-rt-14-dev libomp-14-dev
  libdnnl-dev ocl-icd-opencl-dev
  libopenmpi-dev openmpi-bin libhdf5-openmpi-dev hdf5-tools
  libboost-program-options-dev libgtest-dev zlib1g-dev libeigen3-dev
  python3-h5py python3-numpy python3-matplotlib python3-torch python3-pytest python3-sklearn
  chromium
  npm
  slurm-wlm munge iproute2 util-linux
)

build=1
for arg in "$@"; do
  case $arg in
    --no-build) build=0 ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option: $arg (see --help)" ;;
  esac
done

installed() {
  # shellcheck disable=SC2016  # ${Status} is dpkg-query's field, not a shell variable
  [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == *"install ok installed"* ]]
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  if [[ $pkg == npm ]] && command -v npm >/dev/null && npm --version >/dev/null 2>&1; then
    continue  # a working npm is already on PATH
  fi
  installed "$pkg" || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
  say "all ${#PACKAGES[@]} dependencies present"
elif [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
  say "missing: ${missing[*]}"
  say "running apt-get update"
  apt-get update
  say "installing: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
else
  say "missing Debian packages: ${missing[*]}"
  say "install them, then re-run $0:"
  echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}"
  exit 2
fi

if ((!build)); then
  say "--no-build: not building"
  exit 0
fi

cd "$AEFLOW_ROOT"
jobs=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)
say "configuring: cmake --preset release"
cmake --preset release
say "building: cmake --build --preset release -j $jobs"
cmake --build --preset release -j "$jobs"
say "built build/release/aeflow"
