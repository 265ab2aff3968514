#!/bin/sh
# The trainer's command line: --plot writes an SVG with both panels that parses as XML, --log one line per
# epoch, a terminal gets the progress bar and a pipe none, and bad input gets a message naming it.
# usage: cli.sh TRAINER DATA_DIR WORK_DIR
set -eu
trainer=$1 data=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
cd "$work"
train="--train-images $data/train-images-idx3-ubyte.gz --train-labels $data/train-labels-idx1-ubyte.gz"
test="--test-images $data/t10k-images-idx3-ubyte.gz --test-labels $data/t10k-labels-idx1-ubyte.gz"

# shellcheck disable=SC2086 # the options are words
"$trainer" $train $test --epochs 2 --limit 640 --test-limit 640 --plot curves.svg --log log.tsv >out.txt
cat out.txt
[ "$(grep -c '^epoch [12]/2  loss [0-9.]*  test loss [0-9.]*  test accuracy [0-9.]*%' out.txt)" = 2 ]
if grep -q "$(printf '\r')" out.txt; then
  echo "FAIL: a progress bar went to a pipe"
  exit 1
fi
[ "$(wc -l <log.tsv)" = 3 ]
head -1 log.tsv | grep -q '^epoch	loss	test_loss	test_accuracy	steps	seconds	cpu_seconds	gflops$'
/usr/bin/python3 - curves.svg <<'PY'
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
texts = [t.text for t in root.iter('{http://www.w3.org/2000/svg}text')]
for want in ('Loss', 'Test accuracy', 'epoch', 'accuracy (%)', 'cross-entropy loss', 'test'):
    assert want in texts, (want, texts)
lines = list(root.iter('{http://www.w3.org/2000/svg}polyline'))
assert len(lines) == 3, len(lines)  # training loss, test loss, test accuracy over 2 epochs
PY

# A terminal gets the bar: epoch, step, loss, samples/s and ETA, redrawn in place.
if command -v script >/dev/null; then
  # shellcheck disable=SC2086
  script -qec "$trainer $train --epochs 1 --limit 640" /dev/null >tty.txt
  grep -q "$(printf '\r')epoch 1/1 \[" tty.txt
  grep -q 'samples/s  ETA ' tty.txt
  grep -q '10/10  loss' tty.txt
fi

# expect STATUS MESSAGE ARGS...: the trainer fails with that status and says that on stderr.
expect() {
  want=$1 message=$2
  shift 2
  status=0
  "$trainer" "$@" >/dev/null 2>err.txt || status=$?
  if [ $status != "$want" ] || ! grep -q -- "$message" err.txt; then
    echo "FAIL: $* gave status $status and: $(cat err.txt); expected $want and '$message'"
    exit 1
  fi
}
expect 2 'train-images and --train-labels are needed' --epochs 1
expect 2 "unknown option '--bogus'" --bogus 1
expect 2 "expected crop:PIXELS, flip or none, not 'rotate'" $train --augment rotate
expect 2 '--resume needs --checkpoint DIR' $train --resume
expect 2 '--test-images and --test-labels go together' $train --test-images x
expect 1 'holds 60000 images but' --train-images "$data/train-images-idx3-ubyte.gz" \
  --train-labels "$data/t10k-labels-idx1-ubyte.gz"
expect 1 'nothing.idx: cannot open' --train-images nothing.idx --train-labels nothing.idx
expect 1 'expected images of bytes' --train-images "$data/train-labels-idx1-ubyte.gz" \
  --train-labels "$data/train-labels-idx1-ubyte.gz"
# shellcheck disable=SC2086
"$trainer" $train --epochs 1 --limit 640 --checkpoint ck >/dev/null
expect 1 'was written with --seed 1, this run has 99' $train --epochs 2 --limit 640 --seed 99 --checkpoint ck --resume
expect 1 'was written with a training set size (--limit) 640, this run has 704' $train --epochs 2 --limit 704 \
  --checkpoint ck --resume
printf 'x' | dd of=ck/checkpoint.ckpt bs=1 seek=100 conv=notrunc 2>/dev/null
expect 1 'the checkpoint is damaged' $train --epochs 2 --limit 640 --checkpoint ck --resume
echo "cli: ok"
