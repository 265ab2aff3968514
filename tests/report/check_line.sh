#!/bin/sh
# cnnc check prints one line per output: name, shape, max abs and rel error, pass or FAIL; the exit status
# follows. Run on LeNet-5 with its reference output (pass) and with another model's output of the same size (FAIL).
# usage: check_line.sh CNNC MODELS_DIR
set -u
cnnc=$1 models=$2
[ -f "$models/lenet5.onnx" ] || { echo "SKIPPED: $models/lenet5.onnx not found"; exit 77; }
pattern="^output 0 'output' float\[1, 10\]: max abs err [0-9.e+-]+, max rel err [0-9.e+-]+, .*: "
out=$("$cnnc" check "$models/lenet5.onnx" --input "$models/lenet5.input.bin" --expect "$models/lenet5.ort_output.bin" \
  --tol-scaled 1e-4)
status=$?
echo "$out"
[ $status -eq 0 ] && [ "$(echo "$out" | wc -l)" -eq 1 ] && echo "$out" | grep -Eq "${pattern}pass$" || exit 1
out=$("$cnnc" check "$models/lenet5.onnx" --input "$models/lenet5.input.bin" \
  --expect "$models/mnist_cnn.ort_output.bin")
status=$?
echo "$out"
kept=$(echo "$out" | sed -n 's/^generated code kept in //p')
[ -z "$kept" ] || rm -rf "$kept"
[ $status -eq 1 ] && echo "$out" | head -1 | grep -Eq "${pattern}FAIL$" || exit 1
