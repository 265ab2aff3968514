#!/bin/sh
# Installs cnnc into a temporary prefix and uses it as a project would: the installed files, --version, the
# man page against --help, examples/cmake-app built with find_package(cnnc) and run on an image, three models in
# one program (one from the .cnn DSL; regenerated when a model file changes), and the runtime through pkg-config.
# usage: install.sh BUILD_DIR SOURCE_DIR MODELS_DIR
set -eu
build=$1 src=$2 models=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/cnnc-install-test-XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
fail() { echo "FAIL: $*"; exit 1; }

cmake --install "$build" --prefix "$prefix" >/dev/null
for f in bin/cnnc include/cnnrt.h share/man/man1/cnnc.1; do
  [ -f "$prefix/$f" ] || fail "$f not installed"
done
libdir=$(dirname "$(find "$prefix" -name libcnnc_runtime.a)")
for f in "$libdir/cmake/cnnc/cnncConfig.cmake" "$libdir/cmake/cnnc/cnncModel.cmake" "$libdir/pkgconfig/cnnc-runtime.pc"; do
  [ -f "$f" ] || fail "$f not installed"
done

# --version: the version and a commit (12 hex digits, or "unknown" outside git)
version=$("$prefix/bin/cnnc" --version)
echo "$version"
echo "$version" | grep -Eq '^cnnc [0-9]+\.[0-9]+\.[0-9]+ \(git ([0-9a-f]{12}(-dirty)?|unknown)\)$' ||
  fail "--version printed '$version'"

# every option --help lists is in the man page, whose header names the same version
"$prefix/bin/cnnc" --help | grep -Eo '^  (-[-a-zA-Z0-9]+)' | sed 's/^ *//' | sort -u >"$work/options"
[ "$(wc -l <"$work/options")" -ge 15 ] || fail "too few options found in --help"
man=$prefix/share/man/man1/cnnc.1
while read -r opt; do
  sed 's/\\-/-/g' "$man" | grep -q -- "$opt" || fail "option $opt of --help is not in the man page"
done <"$work/options"
grep -q "^\.TH CNNC \"1\"" "$man" || fail "the man page has no .TH CNNC 1 header"
grep -q "$(echo "$version" | sed 's/^cnnc //; s/[().]/./g')" "$man" || fail "the man page names another version"

# examples/cmake-app: configure, build and run against the installed package
cmake -S "$src/examples/cmake-app" -B "$work/app" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/app" >/dev/null
"$work/app/classify_image" "$src/examples/cmake-app/ankle_boot.png" | tee "$work/app.out"
sed -n 2p "$work/app.out" | grep -q "Ankle boot" || fail "the ankle boot was not classified as one"

# two ONNX models and a .cnn network in one program; then model A's file changes and the build regenerates it
if [ -f "$models/lenet5.onnx" ]; then
  cp "$models/lenet5.onnx" "$work/a.onnx"
  cmake -S "$src/tests/package/several_models" -B "$work/several" -DCMAKE_PREFIX_PATH="$prefix" \
    -DMODEL_A="$work/a.onnx" -DMODEL_B="$models/mnist_cnn.onnx" -DMODEL_C="$src/examples/dsl/lenet5.cnn" >/dev/null
  cmake --build "$work/several" >/dev/null
  "$work/several/several_models" "$models/lenet5.input.bin" "$models/lenet5.ort_output.bin" \
    "$models/mnist_cnn.input.bin" "$models/mnist_cnn.ort_output.bin" || fail "three models in one program"
  cp "$models/lenet5_fmnist.onnx" "$work/a.onnx"
  touch "$work/a.onnx" # a copy may keep an older time stamp on coarse file systems
  cmake --build "$work/several" >/dev/null
  "$work/several/several_models" "$models/lenet5_fmnist.input.bin" "$models/lenet5_fmnist.torch_output.bin" \
    "$models/mnist_cnn.input.bin" "$models/mnist_cnn.ort_output.bin" || fail "the changed model was not rebuilt"
else
  skipped="the several-models check ($models/lenet5.onnx not found)"
fi

# the runtime through pkg-config
cat >"$work/pc.c" <<'C'
#include <cnnrt.h>
#include <stdio.h>
int main(void) {
  float v[3] = {1, 2, 3};
  size_t best[1];
  cnnrt_softmax(v, 3);
  cnnrt_topk(v, 3, 1, best);
  printf("pkg-config: %s, best %zu\n", cnnrt_elem_type_name(CNNRT_FLOAT), best[0]);
  return best[0] == 2 ? 0 : 1;
}
C
flags=$(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs cnnc-runtime)
cc -std=c11 -o "$work/pc" "$work/pc.c" $flags
"$work/pc"
if [ -n "${skipped:-}" ]; then
  echo "SKIPPED: $skipped"
  exit 77
fi
echo "install test passed"
