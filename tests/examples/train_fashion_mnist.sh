#!/bin/sh
# Training on real data: an untrained LeNet-5 from PyTorch, compiled with cnnc --train (SGD, momentum 0.9,
# lr 0.01, batch 64) and driven by examples/train/train.c, must reach 68% test accuracy on Fashion-MNIST after
# 400 steps (25,600 images; PyTorch's recipe reaches about 73% there and 88% after 5 epochs).
# usage: train_fashion_mnist.sh CNNC RUNTIME_LIBRARY SOURCE_DIR WORK_DIR [CC]
set -eu
cnnc=$1 runtime=$2 src=$3 work=$4 cc=${5:-cc}
data=/usr/share/datasets/fashion-mnist
mkdir -p "$work"
/usr/bin/python3 "$src/examples/train/lenet5.py" "$work/lenet5.onnx" 2>/dev/null
"$cnnc" "$work/lenet5.onnx" --train --batch 64 --optimizer=sgd --lr 0.01 --momentum 0.9 --name net -o "$work/net.c"
"$cc" -std=c11 -O2 -Wall -Wextra -Werror -I"$work" -I"$src/runtime" -o "$work/train" \
  "$src/examples/train/train.c" "$work/net.c" "$runtime" -lz -lm
out=$("$work/train" $data/train-images-idx3-ubyte.gz $data/train-labels-idx1-ubyte.gz \
  $data/t10k-images-idx3-ubyte.gz $data/t10k-labels-idx1-ubyte.gz 1 25600)
echo "$out"
correct=$(echo "$out" | sed -n 's/^test accuracy: .* (\([0-9]*\)\/9984)$/\1/p')
[ -n "$correct" ] && [ "$correct" -ge 6789 ]
