#!/bin/sh
# The GPU proof from a bundle (scripts/gpu-bundle.sh makes it; this file is
# its DIR/run), with no build, apt or meson on the machine:
#   DIR/run [--no-gpu] [RESULTS]     (RESULTS default gpu-results-<UTC time>)
# Exit status: 0 when everything passed, 77 without a GPU, 1 otherwise.
# --no-gpu hides the GPU (CUDA_VISIBLE_DEVICES=) and runs every GPU test
# anyway, each of which must exit 77 and say why; it proves the bundle loads.
# RESULTS holds:
#   summary.txt        one line a step, the verdict last (appended to)
#   device.txt         nvidia-smi, the device the tests see, the CUDA
#                      libraries used and where they came from
#   tests-cuda.txt     the GPU suite: kernels against the CPU, lanes
#                      overlapping, MLP losses, pool, admission, lost context
#   tests-on-cuda.txt  the C API and integration suites on salusd --device cuda
#   bench-gpu.txt      bench-gpu-mlp (against PyTorch on this GPU),
#                      bench-gpu-sharing (2, 4, 8 jobs) and bench-switch
#   tests-python.txt   the Python binding's op, gradient and model tests
#                      (every op against PyTorch) on salusd --device cuda
#   bench-models.txt   ResNet-18 and transformer steps against PyTorch on
#                      this GPU, through the Python binding compiled here
#                      for this python3 (skipped, saying why, when it can't)
#   logs/NAME.txt      each program's own output
# SALUS_CUDA_LIBS (folders, colon-separated) names where cuBLAS and cuDNN
# are; otherwise python3's nvidia wheels (PyTorch's), then /usr/local/cuda.
# To rerun part of the proof (what failed, on a machine lent for minutes):
# SALUS_GPU_TESTS names the programs to run (space-separated; "python" for
# the Python tests; default all); SALUS_GPU_BENCH names the benchmarks
# (mlp sharing switch models; default all, 0 none).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
nogpu=0
if [ "${1:-}" = --no-gpu ]; then
    nogpu=1
    shift
fi
out=${1:-gpu-results-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$out/logs"
out=$(cd "$out" && pwd)
say() { echo "gpu-run: $*" | tee -a "$out/summary.txt"; }

x=$(mktemp -d "${TMPDIR:-/tmp}/salus-gpu.XXXXXX")
daemon=
# shellcheck disable=SC2317 # run by the trap
cleanup() {
    [ -z "$daemon" ] || { kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null; } || true
    rm -rf "$x"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
# GNU tar needs xz on the PATH; python3's tarfile does without.
tar -C "$x" -xJf "$here/payload.tar.xz" 2>/dev/null ||
    python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' \
        "$here/payload.tar.xz" "$x"
say "$(head -n 1 "$x/share/MANIFEST.txt"); results in $out"

# cuBLAS, cuBLASLt and cuDNN with the sonames the build linked.
python=$(command -v python3 || echo /usr/bin/python3)
want="libcublas.so.13 libcublasLt.so.13 libcudnn.so.9"
wheels=$("$python" -c 'import nvidia, os; print(" ".join(os.path.join(p, d, "lib") for p in nvidia.__path__ for d in sorted(os.listdir(p))))' 2>/dev/null || true)
cudalibs=
for lib in $want; do
    found=
    # shellcheck disable=SC2086 # folders are words
    for d in $(echo "${SALUS_CUDA_LIBS:-}" | tr : ' ') $wheels /usr/local/cuda/lib64 /usr/local/cuda/lib \
        /usr/local/cuda/targets/x86_64-linux/lib; do
        if [ -e "$d/$lib" ]; then
            found=$d
            break
        fi
    done
    if [ -z "$found" ]; then
        echo "$lib: not found" >>"$x/cudalibs.txt"
        continue
    fi
    echo "$lib: $found" >>"$x/cudalibs.txt"
    case ":$cudalibs:" in *":$found:"*) ;; *) cudalibs=$cudalibs:$found ;; esac
done
host_ld=${LD_LIBRARY_PATH:-}
LD_LIBRARY_PATH=$x/lib$cudalibs${host_ld:+:$host_ld}
export LD_LIBRARY_PATH
# with_libraries NAME LIBRARY_PATH PROGRAM: $x/bin/NAME runs PROGRAM with
# that library path, whatever the caller's.
with_libraries() {
    printf '#!/bin/sh\nLD_LIBRARY_PATH="%s" exec "%s" "$@"\n' "$2" "$3" >"$x/bin/$1"
    chmod +x "$x/bin/$1"
}
# python3 runs with the machine's own libraries, not the bundle's.
with_libraries python3-host "$host_ld" "$python"
SALUS_PYTHON=$x/bin/python3-host
export SALUS_PYTHON
[ "$nogpu" -eq 0 ] || { CUDA_VISIBLE_DEVICES=; export CUDA_VISIBLE_DEVICES; }

{
    command -v nvidia-smi >/dev/null && nvidia-smi || echo "nvidia-smi: not found"
    echo "== CUDA libraries"
    cat "$x/cudalibs.txt"
    "$python" -c 'import importlib.metadata as m; print("\n".join(sorted(d.name + " " + d.version for d in m.distributions() if "cublas" in d.name or "cudnn" in d.name or d.name == "torch")))' 2>/dev/null || true
    echo "== missing libraries"
    ldd "$x"/bin/* "$x"/lib/*.so* 2>/dev/null | grep 'not found' | sort -u
    echo "== device"
} >"$out/device.txt" 2>&1
if grep -q 'not found$' "$x/cudalibs.txt"; then
    say "CUDA libraries missing (set SALUS_CUDA_LIBS): $(grep 'not found$' "$x/cudalibs.txt" | tr '\n' ' ')"
    # Without a GPU either, there is nothing to prove here.
    if [ "$nogpu" -eq 0 ] && ! nvidia-smi -L >/dev/null 2>&1; then
        say "no GPU (nvidia-smi sees none): nothing to prove here"
        exit 77
    fi
    exit 1
fi
missing=$(sed -n '/^== missing/,/^== device/p' "$out/device.txt" | grep -c 'not found' || true)
if [ "$missing" -ne 0 ]; then
    # A machine without libsystemd (or its dependencies): the bundle's.
    LD_LIBRARY_PATH=$LD_LIBRARY_PATH:$x/lib/fallback
    say "using the bundle's libsystemd and its dependencies (lib/fallback)"
    still=$(ldd "$x"/bin/* "$x"/lib/*.so* 2>/dev/null | grep 'not found' | sort -u || true)
    if [ -n "$still" ]; then
        echo "$still" >>"$out/device.txt"
        say "programs miss libraries: see device.txt"
        exit 1
    fi
fi
say "CUDA libraries: $(cut -d' ' -f2 "$x/cudalibs.txt" | sort -u | tr '\n' ' ')"
# Every library loads and every symbol resolves (salusd links them all,
# CUDA's included): a cuBLAS or cuDNN older than the build's fails here.
LD_BIND_NOW=1 "$x/bin/salusd" --help >/dev/null 2>"$out/logs/salusd-help.txt" ||
    { say "salusd does not start: see logs/salusd-help.txt"; exit 1; }

status=0
"$x/bin/gpu-present" gpu-run >>"$out/device.txt" 2>&1 || status=$?
if [ "$status" -eq 77 ] && [ "$nogpu" -eq 0 ]; then
    say "no CUDA device: nothing to prove here ($(tail -n 1 "$out/device.txt"))"
    exit 77
fi
[ "$status" -eq 0 ] || [ "$status" -eq 77 ] || { say "gpu-present failed ($status)"; exit 1; }

# Each GPU program through if_gpu.sh, which exits 77 saying why without a
# GPU. The GPU suite one at a time (each daemon claims most of the GPU's
# memory, and the pool test watches the driver's free memory); the C API and
# integration suites four at a time, each daemon with an 8 GiB pool.
export GPU_PRESENT="$x/bin/gpu-present" SALUSD="$x/bin/salusd" MLP_TRAIN="$x/bin/mlp_train" \
    CMOCKA_MESSAGE_OUTPUT=TAP
# One program: its log in logs/, its verdict in logs/NAME.result.
cat >"$x/run-one" <<EOF
#!/bin/sh
t=\$1 rc=0 start=\$(date +%s)
timeout "${SALUS_GPU_TEST_TIMEOUT:-120}" sh "$x/share/if_gpu.sh" "$x/bin/\$t" >"$out/logs/\$t.txt" 2>&1 || rc=\$?
echo "\$rc \$((\$(date +%s) - start))" >"$out/logs/\$t.result"
EOF
failed=0
selected() { # NAME: whether SALUS_GPU_TESTS (when set) names it
    [ -z "${SALUS_GPU_TESTS:-}" ] && return 0
    case " $SALUS_GPU_TESTS " in *" $1 "*) return 0 ;; esac
    return 1
}
run_suite() { # NAME, programs at a time, then programs
    name=$1 jobs=$2
    shift 2
    chosen=
    for t in "$@"; do selected "$t" && chosen="$chosen $t"; done
    # shellcheck disable=SC2086 # one program a word
    set -- $chosen
    [ $# -eq 0 ] && return
    printf '%s\n' "$@" | xargs -P "$jobs" -n 1 sh "$x/run-one"
    p=0 f=0 s=0
    for t in "$@"; do
        read -r rc secs <"$out/logs/$t.result" || { rc=1 secs='?'; }
        rm -f "$out/logs/$t.result"
        case $rc in
        0) p=$((p + 1)) r=ok ;;
        77) s=$((s + 1)) r="skipped: $(tail -n 1 "$out/logs/$t.txt")" ;;
        *) f=$((f + 1)) r="FAILED (exit $rc)" ;;
        esac
        echo "$t: $r ($secs s)" >>"$out/tests-$name.txt"
    done
    say "tests $name: $p passed, $f failed, $s skipped"
    # Without a GPU every test must have skipped.
    if [ "$f" -ne 0 ] || { [ "$nogpu" -eq 1 ] && [ "$p" -ne 0 ]; }; then failed=1; fi
}
: >"$out/tests-cuda.txt"
: >"$out/tests-on-cuda.txt"
SALUS_TEST_DEVICE=cuda
export SALUS_TEST_DEVICE
run_suite cuda 1 test_cuda_kernels test_cuda_lanes test_cuda_norm test_cuda_daemon \
    test-device-lost test_device_choice.sh
SALUSD_ARGS="--pool-bytes 8G"
export SALUSD_ARGS
run_suite on-cuda 4 capi_local capi_session capi_async capi_errors capi_mlp capi_drain \
    capi_variables test-multi-client test-policies test-admission test-sync-clients
unset SALUS_TEST_DEVICE SALUSD_ARGS

# The Python binding for this machine's python3, from SWIG's wrapper source:
# its headers, numpy and C compiler. Prints why not when it can't.
pydir=$x/share/python
build_python() {
    [ -f "$pydir/capi_wrap.c" ] || { echo "the bundle has no Python binding"; return 1; }
    cc=$(command -v cc || command -v gcc) || { echo "no C compiler"; return 1; }
    paths=$("$SALUS_PYTHON" -c 'import sysconfig, numpy; print(sysconfig.get_paths()["include"], numpy.get_include(), sysconfig.get_config_var("EXT_SUFFIX"))' 2>&1) ||
        { echo "$paths"; echo "$SALUS_PYTHON has no numpy"; return 1; }
    # shellcheck disable=SC2086 # three words
    set -- $paths
    [ -f "$1/Python.h" ] || { echo "no Python.h in $1"; return 1; }
    "$cc" -O2 -shared -fPIC -w -I"$pydir/include" -I"$1" -I"$2" "$pydir/capi_wrap.c" \
        "$x/lib/libsalus.so.0" -Wl,-rpath,"$x/lib" -o "$pydir/salus/_capi_ext$3" 2>&1 ||
        { echo "the extension does not compile"; return 1; }
    PYTHONPATH=$pydir "$SALUS_PYTHON" -c 'import sys, numpy, salus; print("python", sys.version.split()[0], "numpy", numpy.__version__)' 2>&1 ||
        { echo "the extension does not load"; return 1; }
}
python_ok=0
python_why=$(build_python 2>&1) && python_ok=1
echo "$python_why" >"$out/logs/python-binding.txt"
if [ "$python_ok" -eq 1 ]; then
    say "Python binding built for this python3: $(tail -n 1 "$out/logs/python-binding.txt")"
else
    say "Python binding not built: $(tail -n 1 "$out/logs/python-binding.txt")"
fi

if [ "$nogpu" -eq 1 ]; then
    echo "benchmarks skipped: no GPU (--no-gpu)" >"$out/bench-gpu.txt"
    say "benchmarks skipped: no GPU (--no-gpu)"
    [ "$failed" -eq 0 ] || { say "FAILED: a GPU test did not skip; see tests-*.txt"; exit 1; }
    say "every GPU test skipped without a GPU"
    exit 77
fi

# Every op, its gradients and the models against PyTorch, salusd on the GPU:
# several daemons at once (pytest-xdist's workers), each with its own pool.
if [ "$python_ok" -eq 1 ] && selected python; then
    workers=
    "$SALUS_PYTHON" -c 'import xdist' 2>/dev/null && workers="-n 8"
    # Python runs with the machine's libraries; salusd needs the bundle's.
    with_libraries salusd-bundled "$LD_LIBRARY_PATH" "$x/bin/salusd"
    # shellcheck disable=SC2086 # options
    if SALUSD=$x/bin/salusd-bundled SALUSD_ARGS="--device cuda --pool-bytes 6G" SALUS_EXAMPLES=$pydir \
        PYTHONPATH=$pydir:$pydir/tests timeout "${SALUS_GPU_PYTEST_TIMEOUT:-300}" \
        "$SALUS_PYTHON" -m pytest -q -p no:cacheprovider -o console_output_style=classic \
        $workers "$pydir/tests" >"$out/tests-python.txt" 2>&1; then
        say "tests python: $(tail -n 1 "$out/tests-python.txt")"
    else
        say "tests python FAILED: $(tail -n 1 "$out/tests-python.txt")"
        failed=1
    fi
elif [ "$python_ok" -eq 1 ]; then
    echo "not run: SALUS_GPU_TESTS leaves them out" >"$out/tests-python.txt"
else
    echo "not run: the Python binding could not be built" >"$out/tests-python.txt"
    say "tests python skipped: no Python binding"
fi

# The benchmarks, each daemon on the GPU with room left for PyTorch's own
# CUDA context in the comparison.
sock=$x/salusd.sock
start_daemon() { # NAME, then salusd's options
    log=$out/logs/$1.txt
    shift
    rm -f "$sock"
    "$x/bin/salusd" --config /dev/null --socket "$sock" --device cuda --pool-reserve 4G "$@" 2>"$log" &
    daemon=$!
    i=0
    while [ ! -S "$sock" ] && kill -0 "$daemon" 2>/dev/null && [ $i -lt 600 ]; do
        i=$((i + 1))
        sleep 0.05
    done
}
stop_daemon() {
    kill "$daemon" 2>/dev/null || true
    wait "$daemon" 2>/dev/null || true
    daemon=
}
bench() { # NAME: whether SALUS_GPU_BENCH (when set) names it
    case " ${SALUS_GPU_BENCH:-mlp sharing switch models} " in *" $1 "*) return 0 ;; esac
    return 1
}
if [ "${SALUS_GPU_BENCH:-}" = 0 ]; then
    say "benchmarks skipped (SALUS_GPU_BENCH=0)"
else
    gpu=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -n 1)
    bench_failed=0
    {
        echo "== $(date -u +%Y-%m-%d) on ${gpu:-an unnamed GPU}, $(nproc) cores"
        start_daemon bench-salusd --max-lanes 8
        if bench mlp; then
            timeout 120 "$x/bin/bench-gpu-mlp" --socket "$sock" --torch "$x/share/torch_mlp.py" ||
                bench_failed=1
        fi
        if bench sharing; then
            timeout 120 "$x/bin/bench-gpu-sharing" --socket "$sock" || bench_failed=1
        fi
        stop_daemon
        # One lane and the pack policy, so that every switch is between sessions.
        if bench switch; then
            start_daemon bench-switch-salusd --max-lanes 1 --policy pack
            timeout 60 "$x/bin/bench-switch" --socket "$sock" || bench_failed=1
            stop_daemon
        fi
    } >"$out/bench-gpu.txt" 2>&1
    [ "$bench_failed" -eq 0 ] || { say "a benchmark failed: see bench-gpu.txt"; failed=1; }
    say "benchmarks: bench-gpu.txt"
    sed 's/^/    /' "$out/bench-gpu.txt" | tee -a "$out/summary.txt"

    if [ "$python_ok" -eq 1 ] && bench models; then
        start_daemon bench-models-salusd --max-lanes 2
        if PYTHONPATH=$pydir timeout 240 "$SALUS_PYTHON" "$pydir/bench-models.py" --socket "$sock" \
            --device cuda --rounds 5 --steps 20 >"$out/bench-models.txt" 2>&1; then
            say "model benchmarks: bench-models.txt"
        else
            say "bench-models.py failed: see bench-models.txt"
            failed=1
        fi
        stop_daemon
        sed 's/^/    /' "$out/bench-models.txt" | tee -a "$out/summary.txt"
    elif [ "$python_ok" -eq 0 ]; then
        echo "not run: the Python binding could not be built ($(tail -n 1 "$out/logs/python-binding.txt"))" >"$out/bench-models.txt"
        say "model benchmarks skipped: no Python binding"
    fi
fi

if [ "$failed" -ne 0 ]; then
    say "FAILED: see tests-*.txt, bench-gpu.txt and logs/"
    exit 1
fi
say "every test passed"
exit 0
