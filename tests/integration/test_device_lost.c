/* Kernel failures on a live salusd started with SALUSD_TEST_FAULTS=1, through
 * the test-only TestFault op:
 *  - a recoverable error fails that iteration only: the session goes on, the
 *    others are untouched, the daemon stops cleanly later;
 *  - an error that loses the device (on CUDA a kernel writing to an illegal
 *    address, a sticky error; on the CPU the same report by the op) fails
 *    the iteration that hit it, every queued iteration and every session
 *    waiting for admission, each with a clear error, and salusd exits with
 *    status 3 promptly: no client is left waiting.
 * Runs on the device SALUS_TEST_DEVICE names (cpu by default; the cuda suite
 * runs it with cuda). */
#include "../capi/daemon_fixture.h"
#include "mlp/mlp.h"

#include <salus/salus.h>

/* cmocka.h needs these first. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

enum { POOL_BYTES = 16 << 20, BUSY_ITERATIONS = 40, EXIT_DEVICE_LOST = 3 };

/* The busy job: small enough to iterate in milliseconds, large enough that
 * the big session below cannot join it. */
static const mlp_spec kBusy = {
    .n_layers = 2, .sizes = {256, 1024, 10}, .batch = 64, .lr = 0.01f, .seed = 3, .train = 1};

static int start(void **state) {
    if (setenv("SALUSD_TEST_FAULTS", "1", 1) != 0) return -1;
    daemon_fixture *f = calloc(1, sizeof *f);
    const char *args[] = {"--pool-bytes", "16M", "--max-lanes", "2", NULL};
    if (!f || daemon_start(f, args) != 0) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int stop(void **state) {
    daemon_fixture *f = *state;
    int rc = daemon_stop(f);
    free(f);
    return rc;
}

static salus_client *connect_to(daemon_fixture *f) {
    salus_connect_options opts;
    salus_connect_options_init(&opts, SALUS_CONNECT_OPTIONS_VERSION);
    opts.socket_path = f->socket_path;
    salus_client *c = NULL;
    assert_int_equal(salus_connect(&opts, &c), 0);
    return c;
}

static const char *device_kind(void) {
    const char *device = getenv("SALUS_TEST_DEVICE");
    return device && strncmp(device, "cuda", 4) == 0 ? "cuda" : "cpu";
}

/* What every client of a lost device is told. */
static const char *lost_message(void) {
    return strcmp(device_kind(), "cuda") == 0 ? "the GPU context is lost: "
                                              : "the device is lost: ";
}

/* x [4] -> TestFault(fault) -> y, opened as a session. */
static salus_session *open_fault_session(salus_client *c, const char *fault, uint32_t *x) {
    const int64_t shape[1] = {4};
    salus_graph *g = NULL;
    uint32_t y = 0, node = 0;
    assert_int_equal(salus_graph_new(&g), 0);
    assert_int_equal(salus_graph_add_input(g, "x", SALUS_DTYPE_F32, shape, 1, x), 0);
    assert_int_equal(salus_graph_add_node(g, "TestFault", "fault", x, 1, 1, &y, &node), 0);
    assert_int_equal(salus_graph_set_attr_string(g, node, "fault", fault), 0);
    assert_int_equal(salus_graph_add_output(g, y), 0);
    salus_session *s = NULL;
    assert_int_equal(salus_session_create(c, g, NULL, &s), 0);
    salus_graph_free(g);
    return s;
}

static int run_fault(salus_session *s, uint32_t x) {
    const int64_t shape[1] = {4};
    salus_tensor *in = NULL, *out = NULL;
    assert_int_equal(salus_tensor_new(SALUS_DTYPE_F32, shape, 1, NULL, &in), 0);
    const salus_tensor *inputs[1] = {in};
    int rc = salus_session_run(s, &x, inputs, 1, &out, 1);
    salus_tensor_free(in);
    salus_tensor_free(out);
    return rc;
}

typedef struct busy_job {
    salus_client *client;
    mlp_graph m;
    salus_session *session;
    mlp_data data;
} busy_job;

static void open_busy(busy_job *b, daemon_fixture *f) {
    b->client = connect_to(f);
    assert_int_equal(mlp_build(&kBusy, &b->m), 0);
    assert_int_equal(salus_session_create(b->client, b->m.graph, NULL, &b->session), 0);
    assert_int_equal(mlp_data_init(&b->data, &kBusy, 7), 0);
}

static int run_busy(busy_job *b, uint64_t batch) {
    salus_tensor *in[2], *loss = NULL;
    assert_int_equal(mlp_data_tensors(&b->data, batch, in), 0);
    const uint32_t ids[2] = {b->m.x, b->m.labels};
    int rc = salus_session_run(b->session, ids, (const salus_tensor *const *)in, 2, &loss, 1);
    salus_tensor_free(in[0]);
    salus_tensor_free(in[1]);
    salus_tensor_free(loss);
    return rc;
}

static void close_busy(busy_job *b) {
    mlp_data_free(&b->data);
    salus_graph_free(b->m.graph);
    /* Frees the handle; SALUS_ECONNECT once the daemon is gone. */
    (void)salus_session_close(b->session);
    salus_disconnect(b->client);
}

static void recoverable_error_fails_only_its_iteration(void **state) {
    daemon_fixture *f = *state;
    busy_job busy;
    open_busy(&busy, f);
    salus_client *c = connect_to(f);
    uint32_t x = 0;
    salus_session *s = open_fault_session(c, "error", &x);

    assert_int_equal(run_busy(&busy, 0), 0);
    for (int i = 0; i < 3; ++i) {
        assert_int_equal(run_fault(s, x), SALUS_EEXEC);
        const char *why = salus_client_last_error(c);
        assert_non_null(strstr(why, "TestFault"));
        assert_null(strstr(why, "lost"));
        /* The other session goes on, on the same device. */
        assert_int_equal(run_busy(&busy, (uint64_t)i + 1), 0);
    }
    assert_int_equal(salus_session_close(s), 0);
    salus_disconnect(c);
    close_busy(&busy);
    /* stop() checks the daemon still exits cleanly (status 0). */
}

typedef struct waiter {
    salus_client *client;
    salus_graph *graph;
    salus_session *session;
    int rc;
    char error[256];
} waiter;

static void *create_waiting(void *arg) {
    waiter *w = arg;
    salus_session_options so;
    salus_session_options_init(&so, SALUS_SESSION_OPTIONS_VERSION);
    so.name = "waiting";
    w->rc = salus_session_create(w->client, w->graph, &so, &w->session);
    snprintf(w->error, sizeof w->error, "%s", salus_client_last_error(w->client));
    return NULL;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Whether a session named `name` is listed as queued. */
static int is_queued(salus_client *c, const char *name) {
    salus_session_info infos[16];
    size_t n = 0;
    assert_int_equal(salus_list_sessions(c, infos, 16, &n), 0);
    for (size_t i = 0; i < n && i < 16; ++i) {
        if (strcmp(infos[i].name, name) == 0) return strcmp(infos[i].state, "queued") == 0;
    }
    return 0;
}

static void lost_device_fails_everything_and_exits(void **state) {
    daemon_fixture *f = *state;
    busy_job busy;
    open_busy(&busy, f);
    salus_client *c = connect_to(f);
    uint32_t x = 0;
    salus_session *faulty = open_fault_session(c, "sticky", &x);

    /* A session that fits the pool alone but not next to the others: it
     * waits for admission. */
    waiter w = {.client = connect_to(f)};
    const int64_t shape[1] = {(POOL_BYTES - (256 << 10)) / 4};
    float *big = calloc((size_t)shape[0], sizeof(float));
    assert_non_null(big);
    uint32_t v = 0, y = 0;
    assert_int_equal(salus_graph_new(&w.graph), 0);
    assert_int_equal(salus_graph_add_variable(w.graph, "v", SALUS_DTYPE_F32, shape, 1, big,
                                              (size_t)shape[0] * sizeof(float), &v),
                     0);
    assert_int_equal(salus_graph_add_node(w.graph, "ReduceSum", "sum", &v, 1, 1, &y, NULL), 0);
    assert_int_equal(salus_graph_add_output(w.graph, y), 0);
    free(big);
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, create_waiting, &w), 0);
    salus_client *observer = connect_to(f);
    for (int waited = 0; !is_queued(observer, "waiting"); waited += 5) {
        assert_true(waited < 10000);
        sleep_ms(5);
    }

    /* The busy job has iterations queued behind the running one. */
    salus_pending *pending[BUSY_ITERATIONS];
    salus_tensor *in[2];
    assert_int_equal(mlp_data_tensors(&busy.data, 0, in), 0);
    const uint32_t ids[2] = {busy.m.x, busy.m.labels};
    for (int i = 0; i < BUSY_ITERATIONS; ++i) {
        assert_int_equal(salus_session_submit(busy.session, ids, (const salus_tensor *const *)in, 2,
                                              &pending[i]),
                         0);
    }
    salus_tensor_free(in[0]);
    salus_tensor_free(in[1]);

    /* The fault. */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(run_fault(faulty, x), SALUS_EEXEC);
    assert_non_null(strstr(salus_client_last_error(c), lost_message()));

    /* Every queued iteration is answered: done before the loss, or failed. */
    int done = 0, failed = 0;
    for (int i = 0; i < BUSY_ITERATIONS; ++i) {
        salus_tensor *loss = NULL;
        int rc = salus_pending_wait(pending[i], &loss, 1);
        salus_tensor_free(loss);
        salus_pending_free(pending[i]);
        if (rc == 0) {
            ++done;
            continue;
        }
        ++failed;
        /* The daemon says why; once it closed the connection, the client
         * sees the daemon gone. */
        assert_true(rc == SALUS_EEXEC || rc == SALUS_ECONNECT);
        if (rc == SALUS_EEXEC) {
            assert_non_null(strstr(salus_client_last_error(busy.client), lost_message()));
        }
    }
    assert_true(failed > 0);
    assert_int_equal(done + failed, BUSY_ITERATIONS);

    /* The waiting session is refused with the reason. */
    assert_int_equal(pthread_join(thread, NULL), 0);
    assert_int_equal(w.rc, SALUS_EEXEC);
    assert_non_null(strstr(w.error, lost_message()));

    /* And salusd exits by itself, non-zero, promptly. */
    int status = 0;
    assert_int_equal(daemon_wait_exit(f, 10000, &status), 1);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), EXIT_DEVICE_LOST);
    const double seconds =
        (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(seconds < 10.0);

    /* A request now finds no daemon. */
    assert_int_equal(run_busy(&busy, 1), SALUS_ECONNECT);
    assert_int_equal(salus_session_close(faulty), SALUS_ECONNECT);
    salus_graph_free(w.graph);
    salus_disconnect(w.client);
    salus_disconnect(observer);
    salus_disconnect(c);
    close_busy(&busy);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(recoverable_error_fails_only_its_iteration, start, stop),
        cmocka_unit_test_setup_teardown(lost_device_fails_everything_and_exits, start, stop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
