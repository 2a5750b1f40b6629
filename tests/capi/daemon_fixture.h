/* A real salusd on a fresh temporary socket, for the C API tests. */
#ifndef SALUS_TESTS_DAEMON_FIXTURE_H
#define SALUS_TESTS_DAEMON_FIXTURE_H

#include <sys/types.h>

typedef struct daemon_fixture {
    pid_t pid;             /* 0 when not running */
    char dir[64];          /* the mkdtemp directory holding the socket */
    char socket_path[128]; /* dir/salusd.sock */
} daemon_fixture;

/* Starts $SALUSD (the salusd built by meson) listening on a new socket and
 * waits until it accepts connections. Extra arguments come from NULL-ended
 * extra_args (may be NULL). Returns 0, or -1 after printing why. */
int daemon_start(daemon_fixture *f, const char *const *extra_args);

/* Stops the daemon (SIGTERM, then SIGKILL after 5 s), reaps it and removes
 * the directory. Safe to call twice. Returns -1 when the daemon did not exit
 * cleanly (status 0) on SIGTERM: a test failure. */
int daemon_stop(daemon_fixture *f);

/* Kills the daemon with SIGKILL and reaps it: from then on its socket is
 * closed. The directory stays until daemon_stop. */
void daemon_kill(daemon_fixture *f);

/* Waits up to timeout_ms for the daemon to exit by itself and reaps it.
 * Returns 0 with *status set (a waitpid status), or -1 if it still runs. */
int daemon_wait_exit(daemon_fixture *f, int timeout_ms, int *status);

/* cmocka setup/teardown that keep a daemon_fixture in *state; the
 * teardown fails when the daemon did not stop cleanly. */
int daemon_setup(void **state);
int daemon_teardown(void **state);

#endif
