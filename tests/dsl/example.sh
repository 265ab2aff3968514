#!/bin/sh
# One example of examples/dsl end to end: cnnc writes it as ONNX (twice, byte-identical: the initialisation is
# seeded), ONNX Runtime runs that file on a random input, and `cnnc check` compiles the .cnn file itself with
# gcc and with clang, runs it on the same input and compares with ONNX Runtime's output at
# max|got-ref| <= 1e-4 * max(1, max|ref|). Exit 77 (CTest: skipped) without ONNX Runtime.
# usage: example.sh CNNC SOURCE_DIR WORK_DIR NAME
set -eu
cnnc=$1 src=$2 work=$3 name=$4
if [ ! -d "$src/bench/node_modules/onnxruntime-node" ]; then
  echo "SKIPPED: ONNX Runtime is not installed (the dsl/install-onnxruntime test runs bench/ort/install.sh)"
  exit 77
fi
mkdir -p "$work"
cd "$work"
model=$src/examples/dsl/$name.cnn
"$cnnc" "$model" --emit=onnx -o "$name.onnx"
"$cnnc" "$model" --emit=onnx -o "$name.again.onnx"
cmp "$name.onnx" "$name.again.onnx"
"$cnnc" "$model" -o model.c
count=$(sed -n 's/^#define model_INPUT_0_COUNT //p' model.h)
node "$src/tests/dsl/random_input.mjs" input.bin "$count" 1
node "$src/bench/ort/run.mjs" "$name.onnx" --input input.bin --output ort_output.bin
for cc in gcc clang; do
  "$cnnc" check "$model" --input input.bin --expect ort_output.bin --tol-scaled 1e-4 --cc "$cc"
done
