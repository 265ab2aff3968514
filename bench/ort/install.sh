#!/bin/sh
# Installs ONNX Runtime, npm onnxruntime-node at the version bench/package.json pins, into bench/node_modules
# when it is missing or another version. Its install script would download GPU binaries, which fails here and
# is not needed: the CPU library ships inside the package, so scripts are skipped.
set -eu
cd "$(dirname "$0")/.."
want=$(node -p 'require("./package.json").dependencies["onnxruntime-node"]')
have=$(node -p 'try { require("./node_modules/onnxruntime-node/package.json").version } catch (e) { "" }')
[ "$have" = "$want" ] && exit 0
echo "installing onnxruntime-node $want into bench/node_modules" >&2
ONNXRUNTIME_NODE_INSTALL=skip npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2
