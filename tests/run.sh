#!/bin/sh
# Installs what is missing, builds cnnc from scratch in build/, and runs every test (unit, ONNX conformance
# with gcc and clang, reference models) through CTest.
set -eu
cd "$(dirname "$0")/.."
sh tests/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
ctest --test-dir build -j"$(nproc)" --output-on-failure "$@"
