/* Fields of /proc/PID/status, for tests that bound a daemon's memory. */
#ifndef SALUS_TESTS_PROC_STATUS_H
#define SALUS_TESTS_PROC_STATUS_H

#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A field given in kB (VmRSS, VmSize), in bytes; 0 when it cannot be read. */
uint64_t proc_status_bytes(pid_t pid, const char *field);

#ifdef __cplusplus
}
#endif

#endif
