#!/bin/sh
# Makes the GPU bundle: everything the GPU proof runs, for a bare CUDA machine
# (driver, CUDA 13, python3 with PyTorch; no build tools or Debian packages):
#   scripts/gpu-bundle.sh [DIR]      (default gpu-bundle/, ignored by git)
# then, there: DIR/run [RESULTS]     (scripts/gpu-bundle-run.sh)
# Builds the needed targets in BUILDDIR (default build-gpu; set up with
# -Dcuda=enabled when missing); SALUS_BUNDLE_NO_BUILD=1 takes the build as it
# is (the bundle's own test does). DIR holds:
#   run             the runner, which unpacks payload.tar.xz to a temp dir
#   payload.tar.xz  bin/ (stripped programs), lib/ (libsalus, libcudart and
#                   the Debian libraries the GPU machine lacks), share/
#   licenses/       the copyright files of the bundled Debian packages
#   MANIFEST.txt    commit, build, contents and the CUDA libraries expected
# Compressed because stripped programs plus oneDNN are about 86 MiB; xz -0
# makes that about 19 MiB in seconds. cuBLAS, cuBLASLt and
# cuDNN (hundreds of MiB) are not bundled: the runner finds them on the GPU
# machine at run time.
set -eu
# DIR is relative to where this runs; BUILDDIR, as in run-gpu-checks.sh, to
# the source root.
dir=${1:-}
case $dir in '' | /*) ;; *) dir=$(pwd)/$dir ;; esac
cd "$(dirname "$0")/.."
root=$(pwd)
builddir=${BUILDDIR:-build-gpu}
dir=${dir:-$root/gpu-bundle}
limit=$((48 * 1024 * 1024))

bins='salusd/server/salusd examples/mlp_train
tests/cuda/gpu-present tests/cuda/test_cuda_kernels tests/cuda/test_cuda_lanes
tests/cuda/test_cuda_norm tests/cuda/test_cuda_daemon
tests/capi/capi_local tests/capi/capi_session tests/capi/capi_async
tests/capi/capi_errors tests/capi/capi_mlp tests/capi/capi_drain
tests/capi/capi_variables
tests/integration/test-multi-client tests/integration/test-policies
tests/integration/test-admission tests/integration/test-device-lost
tests/integration/test-sync-clients
bench/bench-gpu-mlp bench/bench-gpu-sharing bench/bench-switch'

if [ "${SALUS_BUNDLE_NO_BUILD:-}" != 1 ]; then
    PATH=/usr/local/cuda/bin:$PATH
    [ -f "$builddir/build.ninja" ] || meson setup "$builddir" -Dcuda=enabled
    # libsalus comes with the programs that link it.
    # The Python binding's sources, where the build has it.
    pytargets=$(sed -n 's|^build \(bindings/python/salus/[^ :]*\.[cp]y*\):.*|\1|p' "$builddir/build.ninja")
    # shellcheck disable=SC2086 # one target a word
    ninja -C "$builddir" $bins $pytargets
fi
[ -x "$builddir/tests/cuda/gpu-present" ] || {
    echo "gpu-bundle: $builddir has no CUDA backend (meson configure -Dcuda=enabled)" >&2
    exit 1
}

rm -rf "$dir"
mkdir -p "$dir/licenses"
dir=$(cd "$dir" && pwd)
stage=$(mktemp -d "${TMPDIR:-/tmp}/salus-bundle.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/bin" "$stage/lib" "$stage/share"

for b in $bins; do
    strip --strip-unneeded -o "$stage/bin/${b##*/}" "$builddir/$b"
done
strip --strip-unneeded -o "$stage/lib/libsalus.so.0" "$builddir/libsalus/src/libsalus.so.0"
cp tests/integration/test_device_choice.sh "$stage/bin/"
cp tests/cuda/if_gpu.sh bench/torch_mlp.py bench/torch_threads.py "$stage/share/"
# The Python package with SWIG's wrapper source rather than a built
# extension: the runner compiles it for the GPU machine's python3, whose
# version and numpy are not ours, to run the model benchmarks there.
pybuild=$builddir/bindings/python
if [ -f "$pybuild/salus/capi_wrap.c" ]; then
    py=$stage/share/python
    mkdir -p "$py/include"
    (cd "$pybuild" && find salus -name '*.py' -exec cp --parents {} "$py" \;)
    cp "$pybuild/salus/capi_wrap.c" "$py/"
    cp -r libsalus/include/salus "$py/include/"
    cp bench/bench-models.py bench/torch_threads.py examples/python/models.py \
        examples/python/train_classifier.py "$py/"
    # The op and model tests, which check salusd against PyTorch.
    mkdir "$py/tests"
    cp tests/python/conftest.py tests/python/op_harness.py tests/python/test_ops_*.py \
        tests/python/test_gradients.py tests/python/test_models.py tests/python/test_training.py \
        "$py/tests/"
fi

# The shared libraries to carry: what the programs load, less glibc, the GCC
# runtime and the CUDA libraries the GPU machine provides (libcudart is small
# and carried, so its version is the one we built with). libsystemd and its
# dependencies, which any machine with apt has, go to lib/fallback, which the
# runner uses only when the machine lacks one of them.
base='linux-vdso|ld-linux-x86-64|libc|libm|libdl|libpthread|librt|libstdc\+\+|libgcc_s|libcublas|libcublasLt|libcudnn|libsalus'
fallback='libsystemd|libcap|libgcrypt|libgpg-error|liblzma|libzstd|liblz4'
mkdir "$stage/lib/fallback"
ldd "$stage"/bin/* "$builddir/libsalus/src/libsalus.so.0" 2>/dev/null |
    awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }' | sort -u |
    grep -Ev "^($base)\.so" >"$stage/libs.txt" || true
pkgs=
while read -r name path; do
    to=$stage/lib
    echo "$name" | grep -Eq "^($fallback)\.so" && to=$stage/lib/fallback
    cp -L "$path" "$to/$name"
    # Debian's copyright file, from the package that owns the library.
    pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -n 1 | cut -d: -f1) || pkg=
    [ -n "$pkg" ] || pkg=$(dpkg -S "$path" 2>/dev/null | head -n 1 | cut -d: -f1) || pkg=
    if [ -n "$pkg" ] && [ -f "/usr/share/doc/$pkg/copyright" ]; then
        cp "/usr/share/doc/$pkg/copyright" "$dir/licenses/$pkg.copyright"
        pkgs="$pkgs $pkg"
    elif [ "${name#libcudart}" != "$name" ]; then
        # The CUDA runtime's license: the toolkit's EULA, or its wheel's.
        cuda_root=$(readlink -f "$path" | sed 's|/targets/.*||; s|/lib[^/]*/[^/]*$||')
        for f in "$cuda_root/EULA.txt" "$cuda_root"/dist-info/nvidia_cuda_runtime-*/licenses/*; do
            [ -f "$f" ] && cp "$f" "$dir/licenses/cuda-runtime.${f##*/}" && break
        done
        pkgs="$pkgs cuda-runtime($path)"
    else
        pkgs="$pkgs $name(no-package)"
    fi
done <"$stage/libs.txt"
# Debian's libraries are stripped already; strip again what still has symbols.
strip --strip-unneeded "$stage"/lib/*.so* "$stage"/lib/fallback/* 2>/dev/null || true
cp LICENSE "$dir/licenses/salus.LICENSE" 2>/dev/null || true

needed=$(objdump -p "$builddir/salusd/server/salusd" | awk '$1 == "NEEDED" && $2 ~ /^lib(cublas|cudnn|cudart)/ { print $2 }' | tr '\n' ' ')
{
    echo "salus GPU bundle, $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (with local changes)'), made $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "build: $root/$builddir, $(nvcc --version 2>/dev/null | tail -n 1 || echo 'nvcc ?')"
    echo "CUDA libraries linked: $needed"
    # Wheel-built toolkits say which cuBLAS and cuDNN they hold.
    printf 'built against:'
    for d in "${cuda_root:-/usr/local/cuda}"/dist-info/nvidia_cublas-*.dist-info \
        "${cuda_root:-/usr/local/cuda}"/dist-info/nvidia_cudnn*.dist-info \
        "${cuda_root:-/usr/local/cuda}"/dist-info/nvidia_cuda_runtime-*.dist-info; do
        [ -d "$d" ] && d=${d##*/} && printf ' %s' "${d%.dist-info}"
    done
    echo
    echo "carried: libcudart; expected on the GPU machine: the others with these sonames"
    echo "  (CUDA 13: the nvidia-cublas and nvidia-cudnn-cu13 wheels of PyTorch, or the toolkit)"
    echo "packages carried:$pkgs"
    echo "programs: $(cd "$stage/bin" && echo *)"
    echo "libraries: $(cd "$stage/lib" && echo *.so*), fallback/: $(cd "$stage/lib/fallback" && echo *)"
} >"$dir/MANIFEST.txt"
cp "$dir/MANIFEST.txt" "$stage/share/"
rm "$stage/libs.txt"

tar -C "$stage" -cf - bin lib share | xz -0 -T2 >"$dir/payload.tar.xz"
cp scripts/gpu-bundle-run.sh "$dir/run"
chmod +x "$dir/run"

size=$(du -sb "$dir" | cut -f1)
echo "gpu-bundle: $dir, $((size / 1024 / 1024)) MiB ($size bytes)"
if [ "$size" -gt "$limit" ]; then
    echo "gpu-bundle: larger than 48 MiB" >&2
    exit 1
fi
