#!/bin/sh
# Builds the C code cnnc generates for one reference model of shared/models at -O0, -O2 and -O3 and checks that
# the outputs agree: -O2's and -O3's within 1e-6 relative (max |got - ref| <= 1e-6 * max(1, max |ref|)) of
# -O0's. Exit 77 (CTest: skipped) when the models are absent.
# usage: opt_levels.sh CNNC MODELS_DIR NAME CC WORK_DIR
set -eu
cnnc=$1 dir=$2 name=$3 cc=$4 work=$5/$3-$4
if [ ! -f "$dir/$name.onnx" ]; then
  echo "SKIPPED: $dir/$name.onnx not found (the reference models live in ../shared/models beside the checkout)"
  exit 77
fi
rm -rf "$work" && mkdir -p "$work"
"$cnnc" "$dir/$name.onnx" -o "$work/model.c" --name model
$cc -std=c11 -O0 -I "$work" "$work/model.c" "$(dirname "$0")/raw_driver.c" -lm -o "$work/run_O0"
"$work/run_O0" "$dir/$name.input.bin" "$work/O0.bin"
for level in -O2 -O3; do
  "$cnnc" check "$dir/$name.onnx" --input "$dir/$name.input.bin" --expect "$work/O0.bin" --tol-scaled 1e-6 \
    --cc "$cc" "$level"
done
