#!/bin/sh
# The main job, train then deploy: builds cnnc, trains LeNet-5 (examples/dsl/lenet5.cnn) on Fashion-MNIST's 60,000
# training images with cnnc's trainer for a few epochs, exports the trained model as ONNX, compiles that into a
# standalone classifier and runs it over the 10,000 test images, printing accuracy and time per image.
# EPOCHS=N trains longer (the .cnn file's recipe is 5 epochs, about 89%).
set -eu
cd "$(dirname "$0")/../.."
sh tests/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
data=/usr/share/datasets/fashion-mnist
out=build/fashion-mnist
mkdir -p $out
build/cnnc examples/dsl/lenet5.cnn --emit=trainer -o $out/train
$out/train --epochs "${EPOCHS:-2}" --export $out/lenet5_trained.onnx --plot $out/curves.svg \
  --train-images $data/train-images-idx3-ubyte.gz --train-labels $data/train-labels-idx1-ubyte.gz \
  --test-images $data/t10k-images-idx3-ubyte.gz --test-labels $data/t10k-labels-idx1-ubyte.gz
build/cnnc $out/lenet5_trained.onnx --emit=exe -o $out/classify
$out/classify --labels examples/fashion-mnist/labels.txt \
  --idx-images $data/t10k-images-idx3-ubyte.gz --idx-labels $data/t10k-labels-idx1-ubyte.gz
