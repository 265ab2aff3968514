#!/bin/sh
# Saves one reference model of shared/models with its weights in a separate file, as python3-onnx writes
# models over 2 GB (onnx.save_model(save_as_external_data=True)), compiles it with cnnc, which memory-maps the
# weights file, and compares with the reference output. Exit 77 (CTest: skipped) when the models are absent.
# usage: run_external.sh CNNC MODELS_DIR NAME WORK_DIR
set -eu
cnnc=$1 dir=$2 name=$3 work=$4
if [ ! -f "$dir/$name.onnx" ]; then
  echo "SKIPPED: $dir/$name.onnx not found (the reference models live in ../shared/models beside the checkout)"
  exit 77
fi
rm -rf "$work/$name" && mkdir -p "$work/$name"
/usr/bin/python3 - "$dir/$name.onnx" "$work/$name/model.onnx" <<'PY'
import os, sys
import onnx
model = onnx.load(sys.argv[1])
onnx.save_model(model, sys.argv[2], save_as_external_data=True, all_tensors_to_one_file=True,
                location="weights.data", size_threshold=0)
external = sum(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer)
print(f"{sys.argv[2]}: {os.path.getsize(sys.argv[2])} bytes, {external} initializers in weights.data "
      f"({os.path.getsize(os.path.join(os.path.dirname(sys.argv[2]), 'weights.data'))} bytes)")
assert external > 0
PY
expect=$dir/$name.ort_output.bin
[ -f "$expect" ] || expect=$dir/$name.torch_output.bin
exec "$cnnc" check "$work/$name/model.onnx" --input "$dir/$name.input.bin" --expect "$expect" --tol-scaled 1e-4 --cc gcc
