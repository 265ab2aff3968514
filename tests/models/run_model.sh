#!/bin/sh
# Compiles one reference model from shared/models with cnnc, runs it on the reference input and compares with
# the reference output: max|got-ref| <= 1e-4 * max(1, max|ref|). Exit 77 (CTest: skipped) when the models are absent.
# usage: run_model.sh CNNC MODELS_DIR NAME CC TARGET
set -eu
cnnc=$1 dir=$2 name=$3 cc=$4 target=$5
if [ ! -f "$dir/$name.onnx" ]; then
  echo "SKIPPED: $dir/$name.onnx not found (the reference models live in ../shared/models beside the checkout)"
  exit 77
fi
expect=$dir/$name.ort_output.bin
[ -f "$expect" ] || expect=$dir/$name.torch_output.bin
exec "$cnnc" check "$dir/$name.onnx" --input "$dir/$name.input.bin" --expect "$expect" --tol-scaled 1e-4 --cc "$cc" --target="$target"
