#!/bin/sh
# The main job: builds cnnc, compiles the LeNet-5 trained on Fashion-MNIST into a standalone classifier, and
# runs it over the 10,000 test images of Debian's dataset-fashion-mnist, printing accuracy and time per image.
set -eu
cd "$(dirname "$0")/../.."
sh tests/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
build/cnnc examples/fashion-mnist/lenet5_fmnist.onnx --emit=exe -O2 -o build/fmnist_classify
data=/usr/share/datasets/fashion-mnist
build/fmnist_classify --labels examples/fashion-mnist/labels.txt \
  --idx-images $data/t10k-images-idx3-ubyte.gz --idx-labels $data/t10k-labels-idx1-ubyte.gz
