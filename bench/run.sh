#!/bin/sh
# The benchmark: builds cnnc (Release, in build/), installs ONNX Runtime when missing, and times cnnc's
# generated code against ONNX Runtime and PyTorch on one core. Options and output: bench/README.md, or
# sh bench/run.sh --help. Scratch files go to build/bench/.
set -eu
cd "$(dirname "$0")/.."
for tool in node npm cmake; do
  command -v "$tool" >/dev/null || { echo "bench/run.sh: $tool not found" >&2; exit 1; }
done
sh bench/ort/install.sh
if [ -z "${CNNC:-}" ]; then # $CNNC: a cnnc binary built elsewhere (the CTest passes its own)
  if [ ! -f build/CMakeCache.txt ]; then
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  cmake --build build -j"$(nproc)" --target cnnc >/dev/null
fi
exec node bench/bench.mjs "$@"
