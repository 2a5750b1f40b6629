/* Asynchronous iterations: many in flight, in order, equal to synchronous
 * runs; dropped pending handles; several threads on one client; waiting in
 * slices with salus_pending_poll; views fed as inputs. */
#include "capi_test.h"
#include "live_fixture.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

enum { IN_FLIGHT = 16 };

static salus_pending *submit_batch(fixture *f, salus_session *s, uint64_t index) {
    salus_tensor *x, *y;
    salus_pending *p = NULL;
    assert_ok(mlp_batch_tensors(&f->mlp.cfg, index, &x, &y));
    const uint32_t ids[] = {f->mlp.x, f->mlp.labels};
    const salus_tensor *inputs[] = {x, y};
    assert_ok(salus_session_submit(s, ids, inputs, 2, &p));
    /* The inputs were copied: free them before the iteration runs. */
    salus_tensor_free(x);
    salus_tensor_free(y);
    return p;
}

static float wait_loss(salus_pending *p) {
    salus_tensor *loss = NULL;
    assert_ok(salus_pending_wait(p, &loss, 1));
    float value = *(const float *)salus_tensor_const_data(loss);
    salus_tensor_free(loss);
    return value;
}

static void assert_close(float a, float b) {
    if (!(fabsf(a - b) <= 1e-6f * fmaxf(1.0f, fabsf(b)))) fail_msg("%.9g != %.9g", a, b);
}

/* 16 iterations queued before the first wait give the same losses, in the
 * same order, as 16 synchronous runs of a session with the same start. */
static void test_in_flight_equals_sync(void **state) {
    fixture *f = *state;
    salus_session *sync_s = NULL, *async_s = NULL;
    assert_ok(salus_session_create(f->client, f->mlp.graph, NULL, &sync_s));
    assert_ok(salus_session_create(f->client, f->mlp.graph, NULL, &async_s));

    float expected[IN_FLIGHT];
    for (int i = 0; i < IN_FLIGHT; ++i) {
        salus_pending *p = submit_batch(f, sync_s, (uint64_t)i);
        expected[i] = wait_loss(p);
        assert_int_equal(salus_pending_iteration(p), (uint64_t)i + 1);
        salus_pending_free(p);
    }
    /* Training changed the loss: the comparison below checks the order. */
    assert_true(expected[IN_FLIGHT - 1] < expected[0]);

    salus_pending *pending[IN_FLIGHT];
    for (int i = 0; i < IN_FLIGHT; ++i) pending[i] = submit_batch(f, async_s, (uint64_t)i);
    for (int i = 0; i < IN_FLIGHT; ++i) {
        assert_close(wait_loss(pending[i]), expected[i]);
        assert_int_equal(salus_pending_ready(pending[i]), 1);
        assert_int_equal(salus_pending_iteration(pending[i]), (uint64_t)i + 1);
        salus_pending_free(pending[i]);
    }
    assert_ok(salus_session_close(sync_s));
    assert_ok(salus_session_close(async_s));
}

/* Waiting on the last first: every handle still gets its own result. */
static void test_wait_out_of_order(void **state) {
    fixture *f = *state;
    salus_session *s = NULL;
    assert_ok(salus_session_create(f->client, f->mlp.graph, NULL, &s));
    salus_pending *p[4];
    for (int i = 0; i < 4; ++i) p[i] = submit_batch(f, s, 0);
    for (int i = 3; i >= 0; --i) {
        wait_loss(p[i]);
        assert_int_equal(salus_pending_iteration(p[i]), (uint64_t)i + 1);
    }
    for (int i = 0; i < 4; ++i) salus_pending_free(p[i]);
    assert_ok(salus_session_close(s));
}

/* A pending handle freed before its result: the iteration still runs, and
 * the session goes on. */
static void test_free_unwaited(void **state) {
    fixture *f = *state;
    salus_session *s = NULL;
    assert_ok(salus_session_create(f->client, f->mlp.graph, NULL, &s));
    salus_pending_free(submit_batch(f, s, 0));
    salus_pending_free(submit_batch(f, s, 1));
    salus_pending *p = submit_batch(f, s, 2);
    wait_loss(p);
    assert_int_equal(salus_pending_iteration(p), 3);
    salus_pending_free(p);
    /* Close waits for the queued iterations, then frees everything. */
    salus_pending_free(submit_batch(f, s, 3));
    assert_ok(salus_session_close(s));
}

typedef struct worker {
    fixture *f;
    salus_session *session;
    int failures;
    float first, last;
} worker;

static void *worker_main(void *arg) {
    worker *w = arg;
    const uint32_t ids[] = {w->f->mlp.x, w->f->mlp.labels};
    for (int i = 0; i < 30; ++i) {
        salus_tensor *x = NULL, *y = NULL, *loss = NULL;
        if (mlp_batch_tensors(&w->f->mlp.cfg, (uint64_t)(i % 4), &x, &y) != 0) {
            ++w->failures;
            continue;
        }
        const salus_tensor *inputs[] = {x, y};
        if (salus_session_run(w->session, ids, inputs, 2, &loss, 1) != 0) {
            ++w->failures;
        } else {
            float v = *(const float *)salus_tensor_const_data(loss);
            if (i == 0) w->first = v;
            w->last = v;
        }
        salus_tensor_free(loss);
        salus_tensor_free(x);
        salus_tensor_free(y);
    }
    return NULL;
}

/* One client shared by four threads, each with its own session. */
static void test_threads_share_client(void **state) {
    fixture *f = *state;
    enum { N = 4 };
    worker workers[N];
    pthread_t threads[N];
    for (int i = 0; i < N; ++i) {
        workers[i] = (worker){f, NULL, 0, 0.0f, 0.0f};
        assert_ok(salus_session_create(f->client, f->mlp.graph, NULL, &workers[i].session));
    }
    for (int i = 0; i < N; ++i) {
        assert_int_equal(pthread_create(&threads[i], NULL, worker_main, &workers[i]), 0);
    }
    for (int i = 0; i < N; ++i) pthread_join(threads[i], NULL);
    for (int i = 0; i < N; ++i) {
        assert_int_equal(workers[i].failures, 0);
        /* Same graph, same batches: every session trains the same way. */
        assert_close(workers[i].first, workers[0].first);
        assert_close(workers[i].last, workers[0].last);
        assert_true(workers[i].last < workers[i].first);
        assert_ok(salus_session_close(workers[i].session));
    }
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* A graph whose iteration takes a while: the sum of A x A for a constant A
 * of N x N (2 N^3 flops, about 7 GFLOP). */
static salus_session *slow_session(fixture *f) {
    /* Under valgrind a 1536^2 MatMul takes minutes: a smaller one is slow enough. */
    const int64_t N = daemon_fixture_wrapped() ? 384 : 1536;
    const int64_t shape[] = {N, N};
    float *a = calloc((size_t)N * N, sizeof(float));
    assert_non_null(a);
    for (size_t i = 0; i < (size_t)N * N; ++i) a[i] = (float)(i % 7) * 0.01f;
    salus_graph *g = NULL;
    uint32_t ca, prod, sum, node;
    assert_ok(salus_graph_new(&g));
    assert_ok(salus_graph_add_constant(g, "a", SALUS_DTYPE_F32, shape, 2, a,
                                       (size_t)N * N * sizeof(float), &ca));
    free(a);
    const uint32_t mm_in[] = {ca, ca};
    assert_ok(salus_graph_add_node(g, "MatMul", "square", mm_in, 2, 1, &prod, NULL));
    assert_ok(salus_graph_add_node(g, "ReduceSum", "sum", &prod, 1, 1, &sum, &node));
    assert_ok(salus_graph_add_output(g, sum));
    salus_session *s = NULL;
    assert_ok(salus_session_create(f->client, g, NULL, &s));
    salus_graph_free(g);
    return s;
}

/* poll gives up after its timeout while the iteration runs, and says 1 once
 * the result is in; waiting then returns at once with it. */
static void test_poll_in_slices(void **state) {
    fixture *f = *state;
    salus_session *s = slow_session(f);
    /* Enough iterations queued ahead of the last result for it to take
     * about 400 ms: four on a CPU, hundreds on a GPU. One iteration, run
     * alone after a first, says how long one takes here. */
    double t0 = 0.0;
    for (int i = 0; i < 2; ++i) {
        salus_tensor *warm = NULL;
        t0 = now_ms();
        assert_ok(salus_session_run(s, NULL, NULL, 0, &warm, 1));
        salus_tensor_free(warm);
    }
    const double one_ms = now_ms() - t0;
    int queued = one_ms > 100.0 ? 4 : (int)(400.0 / (one_ms > 0.2 ? one_ms : 0.2));
    if (queued < 4) queued = 4;
    salus_pending **p = calloc((size_t)queued, sizeof *p);
    assert_non_null(p);
    for (int i = 0; i < queued; ++i) assert_ok(salus_session_submit(s, NULL, NULL, 0, &p[i]));

    t0 = now_ms();
    assert_int_equal(salus_pending_poll(p[queued - 1], 50), 0);
    const double waited = now_ms() - t0;
    assert_true(waited >= 45.0);
    assert_int_equal(salus_pending_poll(p[queued - 1], 0), 0);

    int slices = 0;
    while (salus_pending_poll(p[queued - 1], 20) == 0) ++slices;
    assert_true(slices > 0);
    assert_int_equal(salus_pending_ready(p[queued - 1]), 1);
    salus_tensor *out = NULL;
    assert_ok(salus_pending_wait(p[queued - 1], &out, 1));
    assert_int_equal(salus_pending_iteration(p[queued - 1]), queued + 2);
    salus_tensor_free(out);
    /* Taken: still ready, and an unlimited poll returns at once. */
    assert_int_equal(salus_pending_poll(p[queued - 1], -1), 1);
    /* The earlier ones arrived first. */
    for (int i = 0; i < queued - 1; ++i) assert_int_equal(salus_pending_poll(p[i], 0), 1);
    for (int i = 0; i < queued; ++i) salus_pending_free(p[i]);
    free(p);
    assert_ok(salus_session_close(s));
}

/* When the daemon dies, poll says 1 and the wait reports the failure. */
static void test_poll_sees_a_dead_daemon(void **state) {
    fixture *f = *state;
    salus_session *s = slow_session(f);
    salus_pending *p = NULL;
    assert_ok(salus_session_submit(s, NULL, NULL, 0, &p));
    daemon_kill(&f->daemon);
    assert_int_equal(salus_pending_poll(p, -1), 1);
    salus_tensor *out = SENTINEL;
    assert_rc(salus_pending_wait(p, &out, 1), SALUS_ECONNECT);
    assert_ptr_equal(out, SENTINEL);
    salus_pending_free(p);
    assert_rc(salus_session_close(s), SALUS_ECONNECT);
}

/* Views of the caller's memory feed iterations like owned tensors. */
static void test_views_feed_iterations(void **state) {
    fixture *f = *state;
    salus_session *s = NULL;
    assert_ok(salus_session_create(f->client, f->mlp.graph, NULL, &s));
    const mlp_config *cfg = &f->mlp.cfg;
    float *x = calloc((size_t)(cfg->batch * cfg->in), sizeof(float));
    float *y = calloc((size_t)(cfg->batch * cfg->classes), sizeof(float));
    assert_non_null(x);
    assert_non_null(y);
    mlp_make_batch(cfg, 0, x, y);
    const int64_t xs[] = {cfg->batch, cfg->in}, ys[] = {cfg->batch, cfg->classes};
    salus_tensor *xv = NULL, *yv = NULL;
    assert_ok(salus_tensor_wrap(SALUS_DTYPE_F32, xs, 2, x,
                                (size_t)(cfg->batch * cfg->in) * sizeof(float), &xv));
    assert_ok(salus_tensor_wrap(SALUS_DTYPE_F32, ys, 2, y,
                                (size_t)(cfg->batch * cfg->classes) * sizeof(float), &yv));
    const uint32_t ids[] = {f->mlp.x, f->mlp.labels};
    const salus_tensor *inputs[] = {xv, yv};
    salus_pending *p = NULL;
    assert_ok(salus_session_submit(s, ids, inputs, 2, &p));
    /* Copied on submit: the caller's memory may change at once. */
    memset(x, 0, (size_t)(cfg->batch * cfg->in) * sizeof(float));
    const float first = wait_loss(p);
    salus_pending_free(p);
    salus_tensor_free(xv);
    salus_tensor_free(yv);
    free(x);
    free(y);

    /* The same batch from owned tensors, on a fresh session, gives the same loss. */
    salus_session *ref = NULL;
    assert_ok(salus_session_create(f->client, f->mlp.graph, NULL, &ref));
    salus_pending *again = submit_batch(f, ref, 0);
    assert_close(wait_loss(again), first);
    salus_pending_free(again);
    assert_ok(salus_session_close(ref));
    assert_ok(salus_session_close(s));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_in_flight_equals_sync, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_wait_out_of_order, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_free_unwaited, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_threads_share_client, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_poll_in_slices, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_views_feed_iterations, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_poll_sees_a_dead_daemon, live_setup, live_teardown),
    };
    return cmocka_run_group_tests_name("async", tests, NULL, NULL);
}
