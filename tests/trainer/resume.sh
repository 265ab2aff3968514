#!/bin/sh
# The trainer's determinism: two uninterrupted runs with one seed end with byte-identical checkpoints (weights,
# optimizer moments, running statistics, position, history) and exports; a run killed with SIGKILL in the middle
# of an epoch and continued with --resume ends byte-identical to them; another seed ends elsewhere.
# usage: resume.sh TRAINER DATA_DIR WORK_DIR [TRAINER OPTIONS...]
set -eu
trainer=$1 data=$2 work=$3
shift 3
rm -rf "$work"
mkdir -p "$work"
cd "$work"
set -- --train-images "$data/train-images-idx3-ubyte.gz" --train-labels "$data/train-labels-idx1-ubyte.gz" \
  --epochs 2 --limit 768 --augment crop:2,flip "$@"

"$trainer" "$@" --checkpoint a --export a.onnx >a.out
"$trainer" "$@" --checkpoint b --export b.onnx >b.out
cmp a/checkpoint.ckpt b/checkpoint.ckpt
cmp a.onnx b.onnx
"$trainer" "$@" --seed 12345 --checkpoint s --export s.onnx >s.out
if cmp -s a.onnx s.onnx; then
  echo "FAIL: --seed 12345 trained the same weights as the default seed"
  exit 1
fi

# Checkpoints every 2 steps; killed once one exists, that is inside the first epoch or just after.
"$trainer" "$@" --checkpoint k --checkpoint-every 2 --export k.onnx >k1.out &
pid=$!
while [ ! -f k/checkpoint.ckpt ]; do
  if ! kill -0 $pid 2>/dev/null; then
    echo "FAIL: the trainer ended before writing a checkpoint"
    exit 1
  fi
  sleep 0.02
done
kill -9 $pid
status=0
wait $pid || status=$?
if [ $status -ne 137 ]; then
  echo "FAIL: the trainer was not killed by SIGKILL (status $status): it ended first"
  exit 1
fi
if [ -f k.onnx ]; then
  echo "FAIL: the killed run exported"
  exit 1
fi
"$trainer" "$@" --checkpoint k --checkpoint-every 2 --export k.onnx --resume >k2.out
grep -E '^resuming from k/checkpoint.ckpt: epoch [123], step [0-9]+ of 12$' k2.out
cmp a/checkpoint.ckpt k/checkpoint.ckpt
cmp a.onnx k.onnx
# The resumed run's report of the epochs it finished is the uninterrupted run's (the epoch's loss included).
grep '^epoch 2/2' a.out | cut -d' ' -f1-4 >a.last
grep '^epoch 2/2' k2.out | cut -d' ' -f1-4 >k.last
cmp a.last k.last

# Without --resume an existing checkpoint is kept, not overwritten.
if "$trainer" "$@" --checkpoint a 2>err.txt; then
  echo "FAIL: a second run overwrote a/checkpoint.ckpt without --resume"
  exit 1
fi
grep -q 'exists: add --resume' err.txt
cmp a/checkpoint.ckpt b/checkpoint.ckpt
echo "resume: identical after SIGKILL and --resume ($(cat k2.out | head -1))"
