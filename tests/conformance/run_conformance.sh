#!/bin/bash
# Run the ONNX conformance tests listed in tests.txt by hand, for each target with the compilers CTest uses:
# generic with gcc and clang, avx512 with clang and avx2 with gcc (the SIMD ones when this CPU runs them).
# Usage: run_conformance.sh CNNC BUILD_DIR [filter]
#   CNNC       path to the cnnc binary
#   BUILD_DIR  where per-test logs go (BUILD_DIR/conformance-logs/)
#   filter     optional grep -E regex on <suite>/<test>
# CNNC_ONNX_TESTDATA overrides the data dir (default: Debian's libonnx-testdata).
set -u
if [ $# -lt 2 ]; then
  echo "usage: $0 CNNC BUILD_DIR [filter]" >&2
  exit 2
fi
cnnc=$(realpath "$1")
logs="$2/conformance-logs"
filter="${3:-}"
data="${CNNC_ONNX_TESTDATA:-/usr/share/libonnx-testdata/data}"
list="$(dirname "$0")/tests.txt"
[ -d "$data/node" ] || { echo "libonnx-testdata is missing: $data/node not found" >&2; exit 2; }
combos="generic:gcc generic:clang"
grep -qw avx512f /proc/cpuinfo && combos="$combos avx512:clang"
grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo && combos="$combos avx2:gcc"

passed=0
failed=()
while read -r name rest; do
  [ -n "$name" ] || continue
  [ -z "$filter" ] || grep -qE -- "$filter" <<<"$name" || continue
  dir="$data/$name"
  set0="$dir/test_data_set_0"
  # "--bind NAME=input_K.pb" -> "--bind NAME=<set0>/input_K.pb"
  args=()
  for a in $rest; do
    case "$a" in *=input_*.pb) a="${a%%=*}=$set0/${a#*=}" ;; esac
    args+=("$a")
  done
  mkdir -p "$logs/$name"
  for combo in $combos; do
    target=${combo%:*} cc=${combo#*:}
    log="$logs/$name/$target-$cc.log"
    if timeout 60 "$cnnc" check "$dir/model.onnx" "$set0" "${args[@]}" --target="$target" --cc "$cc" >"$log" 2>&1; then
      passed=$((passed + 1))
    else
      failed+=("$name/$target-$cc")
    fi
  done
done <"$list"

for f in "${failed[@]}"; do echo "FAIL $f   (log: $logs/$f.log)"; done
echo "$passed passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
