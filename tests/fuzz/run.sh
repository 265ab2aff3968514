#!/bin/sh
# Fuzzes every target of tests/fuzz for SECONDS seconds each, one per core at a time: the whole compiler (model
# bytes to C source) from ONNX and from the .cnn DSL, and the runtime's decoders (tensor .pb, IDX, images), built with clang's libFuzzer,
# AddressSanitizer and UndefinedBehaviorSanitizer in build-sanitize/ (the tree tests/run.sh tests under the
# sanitizers; CI runs this script for 60 s a target).
#
#   sh tests/fuzz/run.sh SECONDS [TARGET...]     e.g. sh tests/fuzz/run.sh 3600 compiler
#
# The seed corpus (tests/fuzz/make_corpus.py: conformance models and tensors, the shared models shrunk and in
# the dynamo exporter's form, .cnn examples, IDX and image files) is made once in build-sanitize/fuzz-seeds/; what the fuzzer
# learns accumulates in build-sanitize/fuzz-corpus/<target>/ from run to run. A crash, sanitizer report, leak,
# timeout (25 s) or out-of-memory (2 GB) input is saved under build-sanitize/fuzz-artifacts/<target>/, fuzzing of
# that target goes on, and the script exits 1 at the end: minimize the input (fuzz_<target> -minimize_crash=1),
# fix the bug, and add it to tests/fuzz/regressions/<target>/, which CTest replays in every build. The last
# lines give, per target, the executions, the coverage (libFuzzer's edges, cov, and features, ft) and the
# number of findings.
#
# Environment: BUILD (default build-sanitize), NICE (default 10), JOBS (targets at a time, default nproc),
# FUZZ_FLAGS (extra libFuzzer flags).
set -eu
cd "$(dirname "$0")/../.."
[ $# -ge 1 ] || { echo "usage: sh tests/fuzz/run.sh SECONDS [TARGET...]" >&2; exit 2; }
seconds=$1
shift
targets=${*:-compiler dsl tensor_pb idx image}
build=${BUILD:-build-sanitize}
sh tests/install-deps.sh
CC=clang cmake -S . -B "$build" -DCNNC_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
for t in $targets; do
  nice -n "${NICE:-10}" cmake --build "$build" -j"$(nproc)" --target "fuzz_$t" >/dev/null
done
if [ ! -f "$build/fuzz-seeds/done" ]; then
  rm -rf "$build/fuzz-seeds"
  nice /usr/bin/python3 tests/fuzz/make_corpus.py "$build/fuzz-seeds" && touch "$build/fuzz-seeds/done"
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
# the targets write each input to a file: keep those in memory
[ -n "${TMPDIR:-}" ] || { [ -d /dev/shm ] && export TMPDIR=/dev/shm; }
# slow-unit-* files (inputs over 10 s, under the sanitizers) are kept for a look but are no finding
findings() { ls "$1" | grep -cE '^(crash|leak|timeout|oom)-' || true; }
# one target per core at a time (JOBS, default nproc): each still fuzzes for its full SECONDS on a core of its own
fuzz_target() {
  t=$1 corpus=$build/fuzz-corpus/$1 artifacts=$build/fuzz-artifacts/$1 log=$build/fuzz-$1.log
  mkdir -p "$corpus" "$artifacts"
  : >"$log"
  before=$(findings "$artifacts")
  case $t in compiler) max_len=1048576 ;; *) max_len=65536 ;; esac
  echo "fuzzing $t for $seconds s (log: $log)"
  # libFuzzer stops at a finding: start it again for the time that is left
  end=$(($(date +%s) + seconds))
  while [ "$(date +%s)" -lt "$end" ]; do
    nice -n "${NICE:-10}" "$build/tests/fuzz/fuzz_$t" -max_total_time=$((end - $(date +%s))) -timeout=25 \
      -rss_limit_mb=2048 -max_len=$max_len -artifact_prefix="$artifacts/" -print_final_stats=1 \
      ${FUZZ_FLAGS:-} "$corpus" "$build/fuzz-seeds/$t" >>"$log" 2>&1 || true
  done
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | awk '{s += $2} END {print s + 0}')
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1)
  found=$(($(findings "$artifacts") - before))
  printf '%-10s %12s executions  %-22s %d new findings in %s\n' "$t" "$execs" "${cov:-cov: ?}" "$found" \
    "$artifacts" >"$build/fuzz-$t.summary"
}
jobs=${JOBS:-$(nproc)}
running=0
for t in $targets; do
  rm -f "$build/fuzz-$t.summary"
  fuzz_target "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait
    running=0
  fi
done
wait
status=0
total=0
for t in $targets; do
  if [ ! -f "$build/fuzz-$t.summary" ]; then
    echo "$t: no summary (the fuzzing script failed)"
    status=1
    continue
  fi
  cat "$build/fuzz-$t.summary"
  set -- $(cat "$build/fuzz-$t.summary")
  total=$((total + $2))
  case $(cat "$build/fuzz-$t.summary") in *" 0 new findings"*) ;; *) status=1 ;; esac
done
echo "total      $(printf '%12s' "$total") executions"
exit $status
