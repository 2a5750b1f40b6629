#!/bin/sh
# syscall_names.sh CC [ARGS...]: the native system calls as C table rows,
# {"name", number}, from the C library's <sys/syscall.h>.
printf '#include <sys/syscall.h>\n' | "$@" -E -dM -x c - |
    sed -n 's/^#define __NR_\([a-z0-9_]*\) \([0-9][0-9]*\)$/{"\1", \2},/p'
