#!/bin/sh
# The main job, end to end: cnnc --emit=exe builds the Fashion-MNIST classifier, which must score at least
# 86% on the first 2,000 test images (the trained model scores about 88% on all 10,000).
# usage: fashion_mnist.sh CNNC SOURCE_DIR WORK_DIR
set -eu
cnnc=$1 src=$2 work=$3
data=/usr/share/datasets/fashion-mnist
mkdir -p "$work"
"$cnnc" "$src/examples/fashion-mnist/lenet5_fmnist.onnx" --emit=exe -o "$work/fmnist_classify"
out=$("$work/fmnist_classify" --limit 2000 --idx-images $data/t10k-images-idx3-ubyte.gz \
  --idx-labels $data/t10k-labels-idx1-ubyte.gz)
echo "$out"
correct=$(echo "$out" | sed -n 's/^accuracy: .* (\([0-9]*\)\/2000)$/\1/p')
[ -n "$correct" ] && [ "$correct" -ge 1720 ]
