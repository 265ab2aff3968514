#!/bin/sh
# --export: the trainer writes the trained model as ONNX. The file holds trained weights (not the initial ones
# --emit=onnx writes), ONNX Runtime and cnnc's code compiled from it give the same outputs on a random batch,
# and the classifier compiled from it scores the test images exactly as the trainer did after its last epoch.
# Exit 77 (CTest: skipped) without ONNX Runtime.
# usage: export.sh CNNC TRAINER SOURCE_DIR DATA_DIR WORK_DIR MODEL.cnn
set -eu
cnnc=$1 trainer=$2 src=$3 data=$4 work=$5 model=$6
if [ ! -d "$src/bench/node_modules/onnxruntime-node" ]; then
  echo "SKIPPED: ONNX Runtime is not installed (the dsl/install-onnxruntime test runs bench/ort/install.sh)"
  exit 77
fi
rm -rf "$work"
mkdir -p "$work"
cd "$work"
"$trainer" --train-images "$data/train-images-idx3-ubyte.gz" --train-labels "$data/train-labels-idx1-ubyte.gz" \
  --test-images "$data/t10k-images-idx3-ubyte.gz" --test-labels "$data/t10k-labels-idx1-ubyte.gz" \
  --epochs 1 --limit 1280 --test-limit 1000 --export trained.onnx >train.out
cat train.out
"$cnnc" "$model" --emit=onnx -o initial.onnx
if cmp -s initial.onnx trained.onnx; then
  echo "FAIL: the exported weights are the initial ones"
  exit 1
fi
[ "$(wc -c <initial.onnx)" = "$(wc -c <trained.onnx)" ] # the same model, new weights in place

"$cnnc" trained.onnx -o model.c
count=$(sed -n 's/^#define model_INPUT_0_COUNT //p' model.h)
node "$src/tests/dsl/random_input.mjs" input.bin "$count" 1
node "$src/bench/ort/run.mjs" trained.onnx --input input.bin --output ort_output.bin
"$cnnc" check trained.onnx --input input.bin --expect ort_output.bin --tol-scaled 1e-4

"$cnnc" trained.onnx --emit=exe -o classify
./classify --idx-images "$data/t10k-images-idx3-ubyte.gz" --idx-labels "$data/t10k-labels-idx1-ubyte.gz" \
  --limit 1000 >classify.out
cat classify.out
trainer_accuracy=$(sed -n 's/.*test accuracy \([0-9.]*\)%.*/\1/p' train.out)
grep -q "$trainer_accuracy%" classify.out || {
  echo "FAIL: the trainer's test accuracy $trainer_accuracy% differs from the exported model's"
  exit 1
}
