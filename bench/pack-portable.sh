#!/usr/bin/env bash
# Packs build/release/aeflow with the shared libraries it needs and Debian's OpenMPI runtime
# (mpirun, orted, plugins, help files) into one tarball, to run aeflow on a machine that lacks
# the Debian packages (a bare benchmark machine). On the target:
#   mkdir -p /tmp/aeflow-root && tar -xJf aeflow-portable.tar.xz -C /tmp/aeflow-root
#   source /tmp/aeflow-root/env.sh && mpirun -n 4 aeflow train ...
# Usage: bench/pack-portable.sh OUT.tar.xz [BINARY]
set -euo pipefail
out=$(readlink -f "${1:?usage: pack-portable.sh OUT.tar.xz [BINARY]}")
bin=$(readlink -f "${2:-build/release/aeflow}")
multiarch=/usr/lib/x86_64-linux-gnu
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

copy() { mkdir -p "$stage$(dirname "$1")" && cp -a "$1" "$stage$1"; }

mkdir -p "$stage/bin"
cp "$bin" "$stage/bin/aeflow"
for f in /usr/bin/orterun /usr/bin/orted /usr/bin/ompi_info; do copy "$f"; done
cp -a "$multiarch/openmpi" "$stage$multiarch/" 2>/dev/null || { mkdir -p "$stage$multiarch"; cp -a "$multiarch/openmpi" "$stage$multiarch/"; }
[[ -d $multiarch/pmix2 ]] && cp -a "$multiarch/pmix2" "$stage$multiarch/"
copy /usr/share/openmpi
[[ -d /usr/share/pmix ]] && copy /usr/share/pmix
copy /etc/openmpi
# Every shared library those programs and plugins load, except the C library itself.
objects=("$bin" /usr/bin/orterun /usr/bin/orted $(find "$multiarch/openmpi" "$multiarch/pmix2" -name '*.so' 2>/dev/null))
ldd "${objects[@]}" 2>/dev/null | awk '/=> \// {print $3}' | sort -u |
  grep -v -E '/(libc|libm|libdl|libpthread|librt|ld-linux-x86-64)\.so' |
  while read -r lib; do mkdir -p "$stage$multiarch" && cp -L "$lib" "$stage$multiarch/$(basename "$lib")"; done
cat >"$stage/env.sh" <<'ENV'
# Source this to use the unpacked bundle.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export PATH=$root/bin:$root/usr/bin:$PATH
export LD_LIBRARY_PATH=$root/usr/lib/x86_64-linux-gnu:$root/usr/lib/x86_64-linux-gnu/openmpi/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export OPAL_PREFIX=$root/usr
export PMIX_INSTALL_PREFIX=$root/usr
export OMPI_MCA_pml=ob1 OMPI_MCA_btl=self,vader,tcp OMPI_MCA_mtl=^ofi,psm,psm2 OMPI_MCA_osc=^ucx
ln -sf "$root/usr/bin/orterun" "$root/bin/mpirun"
ENV
XZ_OPT="-T0 -3" tar -C "$stage" -cJf "$out" .
echo "wrote $out ($(du -h "$out" | cut -f1))"
