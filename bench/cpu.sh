# shellcheck shell=bash
# cpu_line: the CPU a measurement ran on, as every bench script prints it beside its figures.
# The model string alone can be too vague to tell machines apart (a VM may say only "AMD EPYC"),
# so the family and model numbers and the vector features that change oneDNN's kernels follow:
#   AMD EPYC (family 25, model 17; AVX-512, AVX512_BF16, no AMX)
cpu_line() {
  local info name family model flags features=()
  info=$(sed '/^$/q' /proc/cpuinfo)  # the first processor's block
  name=$(grep -m1 '^model name' <<<"$info" | cut -d: -f2 | xargs)
  family=$(grep -m1 '^cpu family' <<<"$info" | cut -d: -f2 | xargs)
  model=$(grep -m1 '^model[[:space:]]*:' <<<"$info" | cut -d: -f2 | xargs)
  flags=" $(grep -m1 '^flags' <<<"$info" | cut -d: -f2) "
  if [[ $flags == *" avx512f "* ]]; then features+=(AVX-512); else features+=("no AVX-512"); fi
  if [[ $flags == *" avx512_bf16 "* ]]; then features+=(AVX512_BF16); else features+=("no AVX512_BF16"); fi
  if [[ $flags == *" amx_bf16 "* ]]; then features+=(AMX); else features+=("no AMX"); fi
  local IFS=,
  echo "$name (family $family, model $model;${features[*]/#/ })"
}
