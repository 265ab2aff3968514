#!/bin/sh
# Installs the Debian 12 packages cnnc needs to build and test, skipping those already installed.
set -eu
packages="cmake make gcc clang pkg-config protobuf-c-compiler libprotobuf-c-dev libonnx-dev libcunit1-dev
  zlib1g-dev libstb-dev libonnx-testdata dataset-fashion-mnist help2man graphviz python3 dpkg-dev file
  python3-torch python3-onnx python3-numpy"
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# Node.js often comes from NodeSource, whose nodejs package bundles npm and conflicts with Debian's npm:
# ask apt only for the commands that are really missing.
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
[ -z "$missing" ] && exit 0
echo "installing:$missing"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
