#!/bin/sh
# ONNX -> DSL -> ONNX on a reference model of shared/models: cnnc prints the model as DSL (naming the
# weights in the ONNX file), writes that back as ONNX, and ONNX Runtime gives bit-identical outputs for both
# files. Then the .cnn file compiled by cnnc matches the reference output (max|got-ref| <= 1e-4 * max(1,
# max|ref|), as the model tests). Exit 77 (CTest: skipped) without the models or ONNX Runtime.
# usage: roundtrip.sh CNNC SOURCE_DIR MODELS_DIR WORK_DIR NAME
set -eu
cnnc=$1 src=$2 models=$3 work=$4 name=$5
if [ ! -f "$models/$name.onnx" ]; then
  echo "SKIPPED: $models/$name.onnx not found (the reference models live in ../shared/models beside the checkout)"
  exit 77
fi
if [ ! -d "$src/bench/node_modules/onnxruntime-node" ]; then
  echo "SKIPPED: ONNX Runtime is not installed (the dsl/install-onnxruntime test runs bench/ort/install.sh)"
  exit 77
fi
mkdir -p "$work"
cd "$work"
"$cnnc" "$models/$name.onnx" --emit=dsl -o "$name.cnn"
"$cnnc" "$name.cnn" --emit=onnx -o "$name.roundtrip.onnx"
node "$src/bench/ort/run.mjs" "$models/$name.onnx" --input "$models/$name.input.bin" --output original.bin
node "$src/bench/ort/run.mjs" "$name.roundtrip.onnx" --input "$models/$name.input.bin" --output roundtrip.bin
cmp original.bin roundtrip.bin
echo "ONNX Runtime: $name.onnx and its round trip through the DSL give bit-identical outputs"
expect=$models/$name.ort_output.bin
[ -f "$expect" ] || expect=$models/$name.torch_output.bin
"$cnnc" check "$name.cnn" --input "$models/$name.input.bin" --expect "$expect" --tol-scaled 1e-4 --cc gcc
