#!/bin/sh
# Installs what is missing, builds cnnc from scratch in build/, and runs every test (unit, ONNX conformance
# with gcc and clang, reference models, fuzz regressions) through CTest.
#
#   sh tests/run.sh [--sanitize] [ctest arguments]
#
# --sanitize builds in build-sanitize/ instead, with cmake -DCNNC_SANITIZE=ON: cnnc, the runtime and the
# tests under AddressSanitizer and UndefinedBehaviorSanitizer, and the C code cnnc generates (built by the
# unit tests, `cnnc check` and `--emit=exe`) compiled with -fsanitize=address,undefined too. Any report fails
# the test that triggered it.
set -eu
cd "$(dirname "$0")/.."
build=build
options="-DCMAKE_BUILD_TYPE=Release"
if [ "${1:-}" = "--sanitize" ]; then
  shift
  build=build-sanitize
  options="-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCNNC_SANITIZE=ON"
  export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
fi
sh tests/install-deps.sh
cmake -S . -B "$build" $options >/dev/null
cmake --build "$build" -j"$(nproc)" >/dev/null
ctest --test-dir "$build" -j"$(nproc)" --output-on-failure "$@"
