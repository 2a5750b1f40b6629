#!/bin/sh
# check_install.sh BUILDDIR file=PATH... link=PATH=TARGET...: installs the
# build into a staging directory (meson install --destdir) and checks that
# every file is there, every link points where it should, and a client
# builds against the staged header, library and pkg-config file. Prints TAP.
set -u
build=$1
shift
: "${MESON:?}" "${CC:?}" "${LIBDIR:?}" "${INCLUDEDIR:?}"

stage=$(mktemp -d /tmp/salus-stage-XXXXXX) || exit 1
trap 'rm -rf "$stage"' EXIT

# PYTHON and PYTHON_DIR (its site-packages), when the build has the binding.
python_checks=0
[ -n "${PYTHON_DIR:-}" ] && python_checks=1
echo "1..$(($# + 3 + python_checks))"
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; }

if "$MESON" install -C "$build" --destdir "$stage" --no-rebuild >"$stage.log" 2>&1; then
    ok "meson install --destdir $stage"
else
    not_ok "meson install --destdir $stage"
    sed 's/^/# /' "$stage.log"
fi
rm -f "$stage.log"

for item in "$@"; do
    case $item in
    file=*)
        path=${item#file=}
        if [ -f "$stage$path" ] && [ ! -L "$stage$path" ]; then
            ok "$path"
        else
            not_ok "$path is missing"
        fi
        ;;
    link=*)
        spec=${item#link=}
        path=${spec%%=*}
        want=${spec#*=}
        got=$(readlink "$stage$path" 2>/dev/null)
        if [ "$got" = "$want" ] && [ -e "$stage$path" ]; then
            ok "$path -> $want"
        else
            not_ok "$path -> $want (it is '${got}')"
        fi
        ;;
    *)
        not_ok "unknown expectation $item"
        ;;
    esac
done

# The staged library's soname and a client built through the staged .pc.
soname=$(objdump -p "$stage$LIBDIR"/libsalus.so 2>/dev/null | sed -n 's/^ *SONAME *//p')
if [ -n "$soname" ] && [ -e "$stage$LIBDIR/$soname" ]; then
    ok "libsalus.so's soname $soname is installed"
else
    not_ok "libsalus.so's soname ('$soname') is installed"
fi

cat >"$stage/client.c" <<'C'
#include <salus/salus.h>
#include <stdio.h>
int main(void) {
    salus_graph *g = NULL;
    int rc = salus_graph_new(&g);
    salus_graph_free(g);
    puts(salus_strerror(SALUS_ESHUTDOWN));
    return rc;
}
C
flags=$(PKG_CONFIG_PATH="$stage$LIBDIR/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$stage" \
    pkg-config --cflags --libs libsalus 2>"$stage/pc.err")
# A sanitized build's library needs its sanitizers' runtimes in the client.
sanitize=${SALUS_SANITIZE:+-fsanitize=$SALUS_SANITIZE}
if [ -n "$flags" ] && $CC $sanitize -o "$stage/client" "$stage/client.c" $flags 2>"$stage/cc.err" &&
    LD_LIBRARY_PATH="$stage$LIBDIR" "$stage/client" >"$stage/client.out" &&
    grep -q 'draining or shutting down' "$stage/client.out"; then
    ok "a client builds and runs against the staged header, pkg-config file and library"
else
    not_ok "a client builds and runs against the staged install (flags: $flags)"
    sed 's/^/# /' "$stage/pc.err" "$stage/cc.err" 2>/dev/null
fi
if [ "$python_checks" = 1 ]; then
    # An ASan build's library in an interpreter without ASan: libasan first.
    if PYTHONPATH="$stage$PYTHON_DIR" LD_LIBRARY_PATH="$stage$LIBDIR" \
        LD_PRELOAD="${SALUS_ASAN_PRELOAD:-${LD_PRELOAD:-}}" \
        ASAN_OPTIONS="${SALUS_ASAN_PRELOAD:+detect_leaks=0}" "$PYTHON" -c '
import salus, sys
assert salus.__file__.startswith(sys.argv[1]), salus.__file__
g = salus.Graph()
g.output(g.relu(g.input("x", (2, 3))))
' "$stage" >"$stage/py.err" 2>&1; then
        ok "the staged Python package imports and builds a graph"
    else
        not_ok "the staged Python package imports and builds a graph"
        sed 's/^/# /' "$stage/py.err"
    fi
fi
exit $failed
