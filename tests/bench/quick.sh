#!/bin/sh
# Checks that the benchmark works, not how fast anything is: `bench/run.sh --quick lenet5` must succeed (which
# includes cnnc's output matching ONNX Runtime's) and print LeNet-5's row with a cnnc/ORT ratio.
# usage: quick.sh CNNC MODELS_DIR. Exit 77 (CTest: skipped) when the models are absent.
set -eu
cnnc=$1 models=$2
if [ ! -f "$models/lenet5.onnx" ]; then
  echo "SKIPPED: $models/lenet5.onnx not found (the reference models live in ../shared/models beside the checkout)"
  exit 77
fi
out=$(mktemp "${TMPDIR:-/tmp}/cnnc-bench.XXXXXX")
trap 'rm -f "$out"' EXIT
CNNC=$cnnc CNNC_SHARED_MODELS=$models sh "$(dirname "$0")/../../bench/run.sh" --quick lenet5 >"$out"
cat "$out"
# the row: | lenet5 | GFLOP | cnnc | ORT | [PyTorch |] ratio | ...; the ratio follows the last time column
row=$(grep '^| lenet5 |' "$out" | head -n 1)
[ -n "$row" ] || { echo "FAIL: no row for lenet5 in the table"; exit 1; }
echo "$row" | grep -Eq '\) \| [0-9]+\.[0-9]+ \| [0-9.]+ \|' || { echo "FAIL: no cnnc/ORT ratio in: $row"; exit 1; }
echo "$row" | grep -q '| ok, max diff' || { echo "FAIL: output check missing in: $row"; exit 1; }
grep -Eq '^\| lenet5 \| [^|]* \((Conv|Gemm)[+A-Za-z]*\) \| [0-9.]+ [^ ]*s \| [0-9.]+% \| [0-9.]+ \|' "$out" ||
  { echo "FAIL: no per-layer figures (Conv or Gemm layers with GFLOP/s) for lenet5"; exit 1; }
echo "PASS: the table has lenet5's cnnc/ORT ratio"
