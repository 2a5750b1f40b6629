#!/bin/sh
# Installs the Debian packages Salus needs to build and test, only those
# missing, then configures the build directory. Run as root on Debian 12.
#   scripts/setup.sh [BUILDDIR]
set -eu

builddir=${1:-build}
cd "$(dirname "$0")/.."

packages="meson ninja-build g++ pkg-config flatbuffers-compiler libflatbuffers-dev
libuv1-dev libopenblas-dev libdnnl-dev libgtest-dev libcmocka-dev libsystemd-dev systemd scdoc
golang-go swig python3 man-db python3-dev python3-numpy python3-pytest python3-torch python3-onnx
libonnx-testdata python3-torchvision python3-matplotlib slurm-wlm munge libslurm-dev clang libclang-rt-dev"

missing=""
for p in $packages; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done

if [ -n "$missing" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing packages:$missing (run as root, or install them)" >&2
    exit 1
  fi
  echo "setup: installing$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing
fi

if [ ! -f "$builddir/build.ninja" ]; then
  meson setup "$builddir"
fi
