#!/bin/sh
# A .cnn file where an ONNX model goes: the trained LeNet-5 printed as DSL (reading its weights from the ONNX
# file) becomes the --emit=exe classifier, which must score what the ONNX model scores in the main job: at
# least 86% on the first 2,000 Fashion-MNIST test images. Exit 77 (CTest: skipped) without the data set.
# usage: classifier.sh CNNC SOURCE_DIR WORK_DIR
set -eu
cnnc=$1 src=$2 work=$3
data=/usr/share/datasets/fashion-mnist
if [ ! -f $data/t10k-images-idx3-ubyte.gz ]; then
  echo "SKIPPED: Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)"
  exit 77
fi
mkdir -p "$work"
cd "$work"
"$cnnc" "$src/examples/fashion-mnist/lenet5_fmnist.onnx" --emit=dsl -o lenet5_fmnist.cnn
"$cnnc" lenet5_fmnist.cnn --emit=exe -o classify
out=$(./classify --limit 2000 --idx-images $data/t10k-images-idx3-ubyte.gz --idx-labels $data/t10k-labels-idx1-ubyte.gz)
echo "$out"
correct=$(echo "$out" | sed -n 's/^accuracy: .* (\([0-9]*\)\/2000)$/\1/p')
[ -n "$correct" ] && [ "$correct" -ge 1720 ]
