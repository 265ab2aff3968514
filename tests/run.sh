#!/bin/sh
# Installs what is missing, builds cnnc from scratch and runs the tests through CTest.
#
#   sh tests/run.sh                       everything CI runs, in three steps:
#     1. build/, Release: every test (unit, ONNX conformance per target, reference models, DSL, examples,
#        bench, fuzz regressions);
#     2. build-sanitize/, clang with CNNC_FUZZ: cnnc, the runtime, the tests and the C code cnnc generates under
#        AddressSanitizer and UndefinedBehaviorSanitizer: every unit suite and the fuzz regressions, every
#        conformance test and every reference model once, with the target rotating from test to test (CTest
#        label "rotation": generic-gcc, generic-clang, avx512-clang, avx2-gcc in turn, so each target and
#        compiler runs a quarter of the tests under the sanitizers); any report fails its test. Why once and
#        not per target: the sanitizers check cnnc and the code it emits, and what differs between targets is
#        the kernels chosen and the compiler, both of which a quarter of the suite exercises; all four targets
#        would cost four times as much and leave no room in CI's 30 minutes (step 1 runs every target);
#     3. each libFuzzer target for $CNNC_FUZZ_SECONDS (default 60) seconds (tests/fuzz/run.sh), one target per
#        core at a time, failing on any crash, sanitizer report, leak or timeout.
#   sh tests/run.sh [ctest arguments]     step 1 only, with these arguments (sh tests/run.sh -L unit)
#   sh tests/run.sh --sanitize [ctest arguments]   the sanitizer build only, by default with every test
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc)
sh tests/install-deps.sh

build_release() {
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build -j"$jobs" >/dev/null
}

build_sanitize() {
  # RelWithDebInfo: sanitizer reports with lines; clang: for libFuzzer, which the same tree builds
  CC=clang cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCNNC_FUZZ=ON >/dev/null
  cmake --build build-sanitize -j"$jobs" >/dev/null
  # no leak checking in the tests: cnnc frees nothing by design (it is short-lived), nor do the programs the
  # tests generate; the fuzz targets, which release everything after each input, check for leaks
  export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0}"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
}

if [ "${1:-}" = "--sanitize" ]; then
  shift
  build_sanitize
  exec ctest --test-dir build-sanitize -j"$jobs" --output-on-failure "$@"
fi
build_release
if [ $# -gt 0 ]; then
  exec ctest --test-dir build -j"$jobs" --output-on-failure "$@"
fi
ctest --test-dir build -j"$jobs" --output-on-failure
build_sanitize
ctest --test-dir build-sanitize -j"$jobs" --output-on-failure -L '^(unit|rotation)$'
BUILD=build-sanitize sh tests/fuzz/run.sh "${CNNC_FUZZ_SECONDS:-60}"
