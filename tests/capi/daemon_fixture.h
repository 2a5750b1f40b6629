/* A real salusd on a fresh temporary socket, for the C API tests. */
#ifndef SALUS_TESTS_DAEMON_FIXTURE_H
#define SALUS_TESTS_DAEMON_FIXTURE_H

#include <sys/types.h>

typedef struct daemon_fixture {
    pid_t pid;             /* 0 when not running */
    char dir[64];          /* the mkdtemp directory holding the socket */
    char socket_path[128]; /* dir/salusd.sock */
    char log_path[128];    /* dir/salusd.log after daemon_start_logged, else "" */
} daemon_fixture;

/* Starts $SALUSD (the salusd built by meson) listening on a new socket and
 * waits until it accepts connections. It reads no config file (--config
 * /dev/null) unless extra_args name one: extra arguments come from the
 * NULL-ended extra_args (may be NULL). Returns 0, or -1 after printing why. */
int daemon_start(daemon_fixture *f, const char *const *extra_args);

/* Whether the daemons run on a GPU (SALUS_TEST_DEVICE=cuda...): tests whose
 * point needs iterations that take a while size their work by it. */
int daemon_fixture_on_gpu(void);

/* Whether the daemons run under $SALUSD_WRAPPER (valgrind: 20-50x slower):
 * tests that only need an iteration to take a while size their work down. */
int daemon_fixture_wrapped(void);
/* How many times longer than usual a test should wait for the daemon: 1, or
 * more under a wrapper. daemon_start/stop/wait_exit apply it themselves. */
int daemon_fixture_slowdown(void);

/* The same, with the daemon's log in f->log_path (copied to the test's
 * stderr when the daemon stops), for tests that read it. */
int daemon_start_logged(daemon_fixture *f, const char *const *extra_args);

/* Waits up to timeout_ms until the log contains text: 1 if it does. */
int daemon_log_contains(const daemon_fixture *f, const char *text, int timeout_ms);

/* Waits up to timeout_ms (times the slowdown) for the daemon to exit by itself: 1 with *status
 * when it did (then it no longer runs for daemon_stop), else 0. */
int daemon_wait_exit(daemon_fixture *f, int timeout_ms, int *status);

/* Stops the daemon (SIGTERM, then SIGKILL after 5 s), reaps it and removes
 * the directory. Safe to call twice. Returns -1 when the daemon did not exit
 * cleanly (status 0) on SIGTERM: a test failure. */
int daemon_stop(daemon_fixture *f);

/* Kills the daemon with SIGKILL and reaps it: from then on its socket is
 * closed. The directory stays until daemon_stop. */
void daemon_kill(daemon_fixture *f);

/* cmocka setup/teardown that keep a daemon_fixture in *state; the
 * teardown fails when the daemon did not stop cleanly. */
int daemon_setup(void **state);
int daemon_teardown(void **state);

#endif
