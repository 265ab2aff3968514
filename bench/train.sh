#!/bin/sh
# The training figures: LeNet-5 (examples/dsl/lenet5.cnn) trained on Fashion-MNIST by cnnc's trainer and by
# PyTorch (one thread) with the same recipe from the same initial weights, in one run; optionally the small
# ResNet (examples/dsl/resnet_fmnist.cnn) by cnnc alone. See bench/README.md, "Training".
#
# usage: sh bench/train.sh [--epochs N] [--limit N] [--quick] [--resnet] [--resnet-epochs N]
#   --epochs N   epochs of LeNet-5 (default 5, the recipe of issue 6)
#   --limit N    train on the first N images only (default all 60000)
#   --quick      --epochs 1 --limit 3200: a check that the script works (the CTest bench/train-quick), no figure
#   --resnet     also train the ResNet (cnnc only; its .cnn file's recipe: 10 epochs, about an hour here)
# Environment: CC and CFLAGS for cnnc's C (default: clang, -O3), CNNC (a cnnc built elsewhere),
# CNNC_FMNIST (the directory of the four IDX files; default /usr/share/datasets/fashion-mnist).
set -eu
cd "$(dirname "$0")/.."
epochs=5 limit=0 resnet=0 resnet_epochs=
while [ $# -gt 0 ]; do
  case $1 in
  --epochs) epochs=$2; shift ;;
  --limit) limit=$2; shift ;;
  --quick) epochs=1 limit=3200 ;;
  --resnet) resnet=1 ;;
  --resnet-epochs) resnet=1 resnet_epochs=$2; shift ;;
  --help | -h) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "bench/train.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
data=${CNNC_FMNIST:-/usr/share/datasets/fashion-mnist}
for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
  [ -f "$data/$f" ] || { echo "bench/train.sh: $data/$f not found (apt-get install dataset-fashion-mnist)" >&2; exit 1; }
done
if [ -z "${CNNC:-}" ]; then
  if [ ! -f build/CMakeCache.txt ]; then
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  cmake --build build -j"$(nproc)" --target cnnc >/dev/null
  CNNC=$PWD/build/cnnc
fi
out=build/bench/train
mkdir -p "$out"
rm -rf "$out/checkpoints"
limit_opt=
[ "$limit" = 0 ] || limit_opt="--limit $limit"
data_opts="--train-images $data/train-images-idx3-ubyte.gz --train-labels $data/train-labels-idx1-ubyte.gz
  --test-images $data/t10k-images-idx3-ubyte.gz --test-labels $data/t10k-labels-idx1-ubyte.gz"

echo "building the trainer: $CNNC examples/dsl/lenet5.cnn --emit=trainer -O3 -o $out/lenet5_train" >&2
"$CNNC" examples/dsl/lenet5.cnn --emit=onnx -o "$out/lenet5.onnx"
"$CNNC" examples/dsl/lenet5.cnn --emit=trainer -O3 --cc "${CC:-clang}" -o "$out/lenet5_train"
echo "cnnc: $out/lenet5_train --epochs $epochs $limit_opt" >&2
# shellcheck disable=SC2086 # the options are words
"$out/lenet5_train" $data_opts --epochs "$epochs" $limit_opt --log "$out/cnnc.tsv" --plot "$out/lenet5.svg" \
  --export "$out/lenet5_trained.onnx" >&2
echo "PyTorch: bench/torch/train.py --epochs $epochs $limit_opt" >&2
# shellcheck disable=SC2086
/usr/bin/python3 bench/torch/train.py "$out/lenet5.onnx" "$data" "$out/torch.tsv" --epochs "$epochs" $limit_opt \
  --lr 0.01 --momentum 0.9 --batch 64
torch_version=$(/usr/bin/python3 -c 'import torch; print(torch.__version__)')

# The table: per epoch both engines' loss, test accuracy and CPU seconds of the training steps; then the means.
# PyTorch's GFLOP/s counts cnnc's FLOPs of a step (the same layers, forward and backward).
echo "LeNet-5 on Fashion-MNIST, SGD lr 0.01 momentum 0.9, batch 64, $epochs epoch(s)$( [ "$limit" = 0 ] || echo ", first $limit images"), one thread"
echo "cnnc $("$CNNC" --version | sed 's/^cnnc //') (${CC:-clang} -O3), PyTorch $torch_version (torch.set_num_threads(1)); times: the training steps' thread CPU time (wall)"
echo
paste "$out/cnnc.tsv" "$out/torch.tsv" | awk -F'\t' '
  NR == 1 {
    print "| epoch | cnnc loss | cnnc test acc | PyTorch loss | PyTorch test acc | cnnc s | PyTorch s | cnnc / PyTorch |"
    print "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    next
  }
  {
    printf "| %d | %.4f | %.2f%% | %.4f | %.2f%% | %.2f (%.2f) | %.2f (%.2f) | %.2fx |\n", $1, $2, $4, $10, $12, $7, $6, $15, $14, $7 / $15
    c += $7; t += $15; cw += $6; tw += $14; flops += $8 * $7; n++; acc = $4; tacc = $12
  }
  END {
    printf "\ntime per epoch: cnnc %.2f s, PyTorch %.2f s: cnnc / PyTorch = %.2fx CPU time (%.2fx wall; target <= 0.33x)\n", c / n, t / n, c / t, cw / tw
    printf "GFLOP/s: cnnc %.2f, PyTorch %.2f\n", flops / c, flops / t
    printf "test accuracy after the last epoch: cnnc %.2f%%, PyTorch %.2f%% (target >= 88%%)\n", acc, tacc
  }'
echo
echo "curves: $out/lenet5.svg; trained model: $out/lenet5_trained.onnx"

if [ "$resnet" = 1 ]; then
  echo >&2
  echo "building the ResNet trainer: $CNNC examples/dsl/resnet_fmnist.cnn --emit=trainer -O3" >&2
  "$CNNC" examples/dsl/resnet_fmnist.cnn --emit=trainer -O3 --cc "${CC:-clang}" -o "$out/resnet_train"
  resnet_opt=
  [ -z "$resnet_epochs" ] || resnet_opt="--epochs $resnet_epochs"
  # shellcheck disable=SC2086
  "$out/resnet_train" $data_opts $resnet_opt $limit_opt --augment crop:2,flip --log "$out/resnet.tsv" \
    --plot "$out/resnet.svg" --checkpoint "$out/checkpoints" >&2
  echo
  echo "ResNet (examples/dsl/resnet_fmnist.cnn, its train section; --augment crop:2,flip) with cnnc:"
  awk -F'\t' 'NR > 1 { printf "epoch %d: loss %.4f, test accuracy %.2f%%, %.1f s\n", $1, $2, $4, $7; acc = $4 }
    END { printf "test accuracy after the last epoch: %.2f%% (target > 90%%)\n", acc }' "$out/resnet.tsv"
fi
