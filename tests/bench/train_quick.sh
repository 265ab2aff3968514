#!/bin/sh
# Checks that the training figures' script works, not how fast anything is: `bench/train.sh --quick` (one epoch
# on 3,200 images, cnnc's trainer and PyTorch) must succeed and print the epoch's row for both engines, the time
# ratio and the GFLOP/s.
# usage: train_quick.sh CNNC
set -eu
out=$(mktemp "${TMPDIR:-/tmp}/cnnc-bench-train.XXXXXX")
trap 'rm -f "$out"' EXIT
CNNC=$1 sh "$(dirname "$0")/../../bench/train.sh" --quick >"$out"
cat "$out"
grep -Eq '^\| 1 \| [0-9.]+ \| [0-9.]+% \| [0-9.]+ \| [0-9.]+% \| [0-9.]+ \([0-9.]+\) \| [0-9.]+ \([0-9.]+\) \| [0-9.]+x \|$' "$out" ||
  { echo "FAIL: no row for epoch 1 with both engines' loss, accuracy and time"; exit 1; }
grep -Eq '^time per epoch: cnnc [0-9.]+ s, PyTorch [0-9.]+ s: cnnc / PyTorch = [0-9.]+x' "$out" ||
  { echo "FAIL: no time ratio"; exit 1; }
grep -Eq '^GFLOP/s: cnnc [0-9.]+, PyTorch [0-9.]+$' "$out" || { echo "FAIL: no GFLOP/s"; exit 1; }
echo "PASS: bench/train.sh --quick prints both engines' figures"
