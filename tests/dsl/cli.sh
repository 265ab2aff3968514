#!/bin/sh
# The cnnc command on .cnn files: an error exits 1 with the located message and leaves no output behind; a
# file named otherwise is still recognised as DSL by its content; --emit=dsl refuses a .cnn file.
# usage: cli.sh CNNC WORK_DIR
set -u
cnnc=$1 work=$2
rm -rf "$work"
mkdir -p "$work"
cd "$work" || exit 1
fail() { echo "FAIL: $*"; exit 1; }

printf 'input x: float[1, 4]\ndense 2\nrelu 3\n' > bad.cnn
"$cnnc" bad.cnn -o out.c 2> stderr.txt
status=$?
[ $status -eq 1 ] || fail "exit status $status, expected 1"
printf "bad.cnn:3:6: error: relu takes no value here; its settings are written key=value\nrelu 3\n     ^\n" > expected.txt
cmp stderr.txt expected.txt || { cat stderr.txt; fail "unexpected message"; }
[ ! -e out.c ] && [ ! -e out.h ] || fail "an output file was left behind"
[ -z "$(ls | grep tmp)" ] || fail "a temporary file was left behind"

printf '# a network\ninput x: float[1, 4]\ndense 2\n' > net.txt
"$cnnc" net.txt --emit=onnx -o net.onnx || fail "a .cnn file named net.txt was not read as DSL"
"$cnnc" net.onnx -o net.c || fail "cnnc did not compile its own ONNX output"

"$cnnc" bad.cnn --emit=dsl 2> stderr.txt && fail "--emit=dsl accepted a .cnn file"
grep -q "is a .cnn file already" stderr.txt || fail "unexpected message: $(cat stderr.txt)"
echo "ok"
