/* Shared helpers of the systemd tests: TAP output and a tiny Relu session. */
#pragma once

#include <salus/salus.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int tap_failed; /* set by tap_ok on a failure */
static int tap_count;

static inline void tap_ok(int ok, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ++tap_count;
    printf("%s %d - ", ok ? "ok" : "not ok", tap_count);
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    va_end(ap);
    if (!ok) tap_failed = 1;
}

static inline void tap_skip_all(const char *why) {
    printf("1..0 # SKIP %s\n", why);
    exit(77);
}

/* $SALUSD, or skips the whole test when it is missing or was built without
 * libsystemd. */
static inline const char *salusd_with_systemd(void) {
    const char *salusd = getenv("SALUSD");
    if (!salusd || access(salusd, X_OK) != 0) tap_skip_all("SALUSD is not an executable salusd");
    const char *have = getenv("SALUSD_HAVE_SYSTEMD");
    if (!have || strcmp(have, "1") != 0) tap_skip_all("salusd was built without libsystemd");
    return salusd;
}

/* Waits up to timeout_ms for pid to exit; 1 and *status when it did. */
static inline int wait_exit(pid_t pid, int *status, int timeout_ms) {
    for (int waited = 0; waited < timeout_ms; waited += 10) {
        if (waitpid(pid, status, WNOHANG) == pid) return 1;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

/* Builds input x [4] -> Relu -> output and opens it as a session. */
static inline int open_relu_session(salus_client *client, salus_session **session, uint32_t *x_id) {
    const int64_t shape[1] = {4};
    salus_graph *g = NULL;
    uint32_t y = 0;
    int rc = salus_graph_new(&g);
    if (rc == 0) rc = salus_graph_add_input(g, "x", SALUS_DTYPE_F32, shape, 1, x_id);
    if (rc == 0) rc = salus_graph_add_node(g, "Relu", "relu", x_id, 1, 1, &y, NULL);
    if (rc == 0) rc = salus_graph_add_output(g, y);
    if (rc == 0) rc = salus_session_create(client, g, NULL, session);
    salus_graph_free(g);
    return rc;
}

/* Runs one iteration on {-1, 2, -3, 4}: 1 when the result is {0, 2, 0, 4}. */
static inline int run_relu_once(salus_session *session, uint32_t x_id) {
    const int64_t shape[1] = {4};
    const float in[4] = {-1.0f, 2.0f, -3.0f, 4.0f};
    const float want[4] = {0.0f, 2.0f, 0.0f, 4.0f};
    salus_tensor *x = NULL;
    salus_tensor *y = NULL;
    int good = 0;
    if (salus_tensor_new(SALUS_DTYPE_F32, shape, 1, in, &x) != 0) return 0;
    const salus_tensor *inputs[1] = {x};
    if (salus_session_run(session, &x_id, inputs, 1, &y, 1) == 0) {
        const float *out = (const float *)salus_tensor_const_data(y);
        good = salus_tensor_nbytes(y) == sizeof want;
        for (int i = 0; good && i < 4; ++i) good = out[i] == want[i];
        salus_tensor_free(y);
    }
    salus_tensor_free(x);
    return good;
}
