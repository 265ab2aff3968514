#!/bin/sh
# Installs what is missing, builds cnnc from scratch and runs the tests through CTest.
#
#   sh tests/run.sh                       everything CI runs, in three steps (about 10 minutes more than step 1):
#     1. build/, Release: every test (unit, ONNX conformance per target, reference models, DSL, examples,
#        bench, fuzz regressions);
#     2. build-sanitize/, clang with CNNC_FUZZ: cnnc, the runtime, the tests and the C code cnnc generates under
#        AddressSanitizer and UndefinedBehaviorSanitizer: the unit suites but the slowest and the fuzz
#        regressions, every 29th conformance test (all four targets in turn) and two reference models; any
#        report fails its test;
#     3. each libFuzzer target for $CNNC_FUZZ_SECONDS (default 20) seconds (tests/fuzz/run.sh), failing on any
#        crash, sanitizer report, leak or timeout.
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
# the suites that compile hundreds of generated programs (kernels, fusion, layouts, SIMD templates, Winograd,
# gradient checks) run in step 1 and with --sanitize; the conformance sample builds such programs under the
# sanitizers here
ctest --test-dir build-sanitize -j"$jobs" --output-on-failure -L unit \
  -E '^unit/(shape_eltwise|kernels|fuse|templates|layout|simd_ops|simd_passes|winograd|tpl_.*|gradients.*)$'
ctest --test-dir build-sanitize -j"$jobs" --output-on-failure -L conformance -I 1,,29
ctest --test-dir build-sanitize -j"$jobs" --output-on-failure -R '^model/(lenet5/avx512-clang|mnist_cnn/generic-gcc)$'
BUILD=build-sanitize sh tests/fuzz/run.sh "${CNNC_FUZZ_SECONDS:-20}"
