#!/bin/sh
# Installs ONNX Runtime (npm onnxruntime-node, the version below) into DIR/node_modules unless it is there.
# Its install script would download GPU binaries, which is not needed: the CPU library ships inside the
# package, so scripts are skipped. Exits 77 (CTest: skipped) when npm is missing or the install fails.
# usage: install_ort.sh DIR
set -u
version=1.30.0
dir=$1
have=$(node -p "try { require('$dir/node_modules/onnxruntime-node/package.json').version } catch (e) { '' }" 2>/dev/null)
[ "$have" = "$version" ] && exit 0
if ! command -v npm >/dev/null 2>&1; then
  echo "SKIPPED: npm is not installed (apt-get install npm), so ONNX Runtime cannot be installed"
  exit 77
fi
mkdir -p "$dir"
echo "installing onnxruntime-node $version into $dir"
if ! ONNXRUNTIME_NODE_INSTALL=skip npm install --prefix "$dir" --ignore-scripts --no-audit --no-fund \
     --no-save --loglevel=error "onnxruntime-node@$version"; then
  echo "SKIPPED: npm could not install onnxruntime-node"
  exit 77
fi
