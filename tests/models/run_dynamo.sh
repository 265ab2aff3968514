#!/bin/sh
# Rewrites one reference model of shared/models into the form of the dynamo exporter's output (model-local
# functions, opset 18: see dynamo_like.py), compiles it with cnnc and compares with the original's reference
# output. Exit 77 (CTest: skipped) when the models are absent.
# usage: run_dynamo.sh CNNC MODELS_DIR NAME WORK_DIR
set -eu
cnnc=$1 dir=$2 name=$3 work=$4
if [ ! -f "$dir/$name.onnx" ]; then
  echo "SKIPPED: $dir/$name.onnx not found (the reference models live in ../shared/models beside the checkout)"
  exit 77
fi
mkdir -p "$work"
/usr/bin/python3 "$(dirname "$0")/dynamo_like.py" "$dir/$name.onnx" "$work/$name.onnx"
expect=$dir/$name.ort_output.bin
[ -f "$expect" ] || expect=$dir/$name.torch_output.bin
exec "$cnnc" check "$work/$name.onnx" --input "$dir/$name.input.bin" --expect "$expect" --tol-scaled 1e-4 --cc gcc
