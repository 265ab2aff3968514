#!/bin/sh
# Builds the Debian package with cpack, installs it with dpkg -i, runs the installed cnnc (--version, a model
# compiled and built with it, the man page in place) and removes the package again. Needs root (or sudo
# without a password) and fails without, as it does when a cnnc package is already installed (it is not ours to
# replace): CI must not count an untested package as a pass. Configure with -DCNNC_TEST_DEB=OFF to leave this
# test out where it cannot run. Runs of this test on one machine take turns through a lock file.
# usage: deb.sh BUILD_DIR MODELS_DIR
set -eu
build=$1 models=$2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo -n true 2>/dev/null ||
    { echo "FAIL: installing a package needs root or sudo -n (configure with -DCNNC_TEST_DEB=OFF to leave this test out)"; exit 1; }
  sudo="sudo -n"
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/cnnc-deb-test-XXXXXX")
installed=""
cleanup() {
  [ -z "$installed" ] || $sudo dpkg -r cnnc >/dev/null || echo "could not remove the cnnc package"
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

(cd "$build" && cpack -G DEB -B "$work" >"$work/cpack.log") || { cat "$work/cpack.log"; fail "cpack -G DEB"; }
deb=$(ls "$work"/cnnc_*.deb)
dpkg-deb --field "$deb" Package Version Architecture Depends Recommends
dpkg-deb --contents "$deb" >"$work/contents"
for f in bin/cnnc include/cnnrt.h share/man/man1/cnnc.1; do
  grep -q "\./usr/$f\$" "$work/contents" || fail "the package has no /usr/$f"
done

# dpkg waits for nobody: other runs of this test take turns through flock, apt through retries
exec 9>"${TMPDIR:-/tmp}/cnnc-deb-test.lock"
flock 9
if dpkg-query -W -f='${Status}' cnnc 2>/dev/null | grep -q "install ok installed"; then
  echo "FAIL: a cnnc package is already installed: remove it first (dpkg -r cnnc), or configure with -DCNNC_TEST_DEB=OFF"
  exit 1
fi
for attempt in 1 2 3 4 5 6; do
  if $sudo dpkg -i "$deb" >"$work/dpkg.log" 2>&1; then
    installed=yes
    break
  fi
  grep -q "lock" "$work/dpkg.log" || { cat "$work/dpkg.log"; fail "dpkg -i"; }
  sleep 10
done
[ -n "$installed" ] || fail "dpkg -i: the dpkg database stayed locked"

/usr/bin/cnnc --version | grep -q '^cnnc [0-9]' || fail "the installed cnnc --version"
/usr/bin/cnnc --version
[ -f /usr/share/man/man1/cnnc.1 ] || fail "no man page in /usr/share/man/man1"
[ -f /usr/include/cnnrt.h ] || fail "no runtime header"
model=$models/lenet5.onnx
[ -f "$model" ] || model=$(dirname "$0")/../../examples/fashion-mnist/lenet5_fmnist.onnx
/usr/bin/cnnc "$model" -o "$work/lenet.c"
cc -std=c11 -Wall -Wextra -Werror -c "$work/lenet.c" -o "$work/lenet.o"
echo "compiled $model with the installed cnnc"
$sudo dpkg -r cnnc >/dev/null
installed=""
[ ! -e /usr/bin/cnnc ] || fail "/usr/bin/cnnc is still there after dpkg -r"
echo "deb test passed"
