/* Sessions against a live daemon: lifecycle, listing, argument checks on
 * live handles, several clients, and disconnecting with open sessions. */
#include "capi_test.h"
#include "live_fixture.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static salus_session *create(fixture *f, const char *name) {
    salus_session_options opts;
    salus_session *s = NULL;
    assert_ok(salus_session_options_init(&opts, SALUS_SESSION_OPTIONS_VERSION));
    opts.name = name;
    assert_ok(salus_session_create(f->client, f->mlp.graph, &opts, &s));
    assert_non_null(s);
    return s;
}

/* Runs batch `index` and returns the loss. */
static float run_once(fixture *f, salus_session *s, uint64_t index) {
    salus_tensor *x, *y, *loss = NULL;
    assert_ok(mlp_batch_tensors(&f->mlp.cfg, index, &x, &y));
    const uint32_t ids[] = {f->mlp.x, f->mlp.labels};
    const salus_tensor *inputs[] = {x, y};
    assert_ok(salus_session_run(s, ids, inputs, 2, &loss, 1));
    assert_non_null(loss);
    assert_int_equal(salus_tensor_dtype(loss), SALUS_DTYPE_F32);
    assert_int_equal(salus_tensor_rank(loss), 0);
    assert_int_equal(salus_tensor_nbytes(loss), sizeof(float));
    float value = *(const float *)salus_tensor_const_data(loss);
    salus_tensor_free(loss);
    salus_tensor_free(x);
    salus_tensor_free(y);
    return value;
}

static void test_lifecycle(void **state) {
    fixture *f = *state;
    salus_session *s = create(f, "lifecycle");
    uint64_t id = salus_session_id(s);
    assert_true(id > 0);
    assert_true(salus_session_persistent_bytes(s) > 0);
    assert_true(salus_session_ephemeral_bytes(s) > 0);
    assert_int_equal(salus_session_output_count(s), 1);
    /* P holds at least the four variables. */
    const mlp_config *c = &f->mlp.cfg;
    uint64_t params =
        (uint64_t)(c->in * c->hidden + c->hidden + c->hidden * c->classes + c->classes) *
        sizeof(float);
    assert_true(salus_session_persistent_bytes(s) >= params);

    salus_session_info info;
    assert_true(capi_find_session(f->client, id, &info));
    assert_string_equal(info.name, "lifecycle");
    assert_int_equal(info.client_pid, getpid());
    assert_int_equal(info.persistent_bytes, salus_session_persistent_bytes(s));
    assert_int_equal(info.ephemeral_bytes, salus_session_ephemeral_bytes(s));
    assert_int_equal(info.iterations, 0);

    float loss = run_once(f, s, 0);
    assert_true(isfinite(loss) && loss > 0.0f);
    run_once(f, s, 1);
    assert_true(capi_find_session(f->client, id, &info));
    assert_int_equal(info.iterations, 2);
    assert_int_equal(info.pending, 0);

    assert_int_equal(info.lane == SALUS_NO_LANE, 0);
    assert_string_equal(info.state, "waiting");
    assert_true(info.admitted_ns > 0);
    assert_int_equal(info.completed_ns, 0);
    assert_true(info.mean_iteration_ns > 0);

    assert_ok(salus_session_close(s));
    assert_false(capi_find_session(f->client, id, NULL));
    /* The listing keeps its final accounting. */
    salus_session_info closed;
    assert_true(capi_find_listed(f->client, id, 1, &closed));
    assert_int_equal(closed.iterations, 2);
    assert_int_equal(closed.pending, 0);
    assert_true(closed.completed_ns > info.admitted_ns);
}

static void test_create_options(void **state) {
    fixture *f = *state;
    salus_session *s = SENTINEL;
    salus_session_options opts;
    assert_ok(salus_session_options_init(&opts, SALUS_SESSION_OPTIONS_VERSION));
    opts.version = 0;
    assert_rc(salus_session_create(f->client, f->mlp.graph, &opts, &s), SALUS_EINVAL);
    opts.version = SALUS_SESSION_OPTIONS_VERSION + 1;
    assert_rc(salus_session_create(f->client, f->mlp.graph, &opts, &s), SALUS_EINVAL);
    assert_error_contains("version");
    opts.version = SALUS_SESSION_OPTIONS_VERSION;
    opts.weight = -1.0;
    assert_rc(salus_session_create(f->client, f->mlp.graph, &opts, &s), SALUS_EINVAL);
    opts.weight = NAN;
    assert_rc(salus_session_create(f->client, f->mlp.graph, &opts, &s), SALUS_EINVAL);
    assert_rc(salus_session_create(f->client, NULL, NULL, &s), SALUS_EINVAL);
    assert_rc(salus_session_create(f->client, f->mlp.graph, NULL, NULL), SALUS_EINVAL);
    assert_ptr_equal(s, SENTINEL);
    /* The client's own last error follows its failures. */
    assert_true(strlen(salus_client_last_error(f->client)) > 0);

    /* NULL options, and every field set; a name of the longest length fills
     * the listing's field, one byte more is refused. */
    assert_ok(salus_session_create(f->client, f->mlp.graph, NULL, &s));
    salus_session *named = NULL;
    char long_name[SALUS_MAX_SESSION_NAME_BYTES + 2];
    memset(long_name, 'n', SALUS_MAX_SESSION_NAME_BYTES + 1);
    long_name[SALUS_MAX_SESSION_NAME_BYTES + 1] = '\0';
    opts.weight = 2.5;
    opts.name = long_name;
    opts.priority = 3;
    opts.declared_iterations = 1000;
    assert_rc(salus_session_create(f->client, f->mlp.graph, &opts, &named), SALUS_EINVAL);
    long_name[SALUS_MAX_SESSION_NAME_BYTES] = '\0';
    assert_ok(salus_session_create(f->client, f->mlp.graph, &opts, &named));
    salus_session_info info;
    assert_true(capi_find_session(f->client, salus_session_id(named), &info));
    assert_string_equal(info.name, long_name);
    assert_int_equal(strlen(info.name), sizeof(info.name) - 1);
    assert_true(salus_session_id(named) != salus_session_id(s));
    assert_ok(salus_session_close(named));
    assert_ok(salus_session_close(s));

    /* Options of version 1 (an older binary's, without seed) still work:
     * what follows their fields is not read. */
    salus_session_options v1;
    assert_ok(salus_session_options_init(&v1, 1));
    v1.seed = 42; /* beyond a version-1 struct: ignored */
    assert_ok(salus_session_create(f->client, f->mlp.graph, &v1, &s));
    assert_ok(salus_session_close(s));
}

/* The graph may be freed after create; the session keeps working. */
static void test_graph_freed_after_create(void **state) {
    fixture *f = *state;
    mlp_graph m;
    mlp_config cfg = mlp_default_config();
    assert_ok(mlp_graph_build(&cfg, &m));
    salus_session *s = NULL;
    assert_ok(salus_session_create(f->client, m.graph, NULL, &s));
    uint32_t x = m.x;
    mlp_graph_release(&m);
    assert_int_equal(x, f->mlp.x);
    run_once(f, s, 0);
    assert_ok(salus_session_close(s));
}

static void test_run_arguments(void **state) {
    fixture *f = *state;
    salus_session *s = create(f, "arguments");
    salus_tensor *x, *y, *outs[2] = {SENTINEL, SENTINEL};
    salus_pending *p = SENTINEL;
    assert_ok(mlp_batch_tensors(&f->mlp.cfg, 0, &x, &y));
    const uint32_t ids[] = {f->mlp.x, f->mlp.labels};
    const salus_tensor *inputs[] = {x, y};
    const salus_tensor *with_null[] = {x, NULL};

    /* Wrong n_outputs is refused before anything runs. */
    assert_rc(salus_session_run(s, ids, inputs, 2, outs, 0), SALUS_EINVAL);
    assert_rc(salus_session_run(s, ids, inputs, 2, outs, 2), SALUS_EINVAL);
    assert_error_contains("n_outputs");
    assert_rc(salus_session_run(s, ids, inputs, 2, NULL, 1), SALUS_EINVAL);
    assert_rc(salus_session_run(s, NULL, inputs, 2, outs, 1), SALUS_EINVAL);
    assert_rc(salus_session_run(s, ids, NULL, 2, outs, 1), SALUS_EINVAL);
    assert_rc(salus_session_run(s, ids, with_null, 2, outs, 1), SALUS_EINVAL);
    assert_rc(salus_session_submit(s, ids, inputs, 2, NULL), SALUS_EINVAL);
    assert_rc(salus_session_submit(s, ids, with_null, 2, &p), SALUS_EINVAL);
    assert_ptr_equal(p, SENTINEL);
    assert_ptr_equal(outs[0], SENTINEL);
    assert_ptr_equal(outs[1], SENTINEL);

    /* None of them ran an iteration. */
    salus_session_info info;
    assert_true(capi_find_session(f->client, salus_session_id(s), &info));
    assert_int_equal(info.iterations, 0);

    /* A pending handle: wrong n_outputs leaves it waitable; one success. */
    assert_ok(salus_session_submit(s, ids, inputs, 2, &p));
    assert_int_equal(salus_pending_iteration(p), 0);
    assert_rc(salus_pending_wait(p, outs, 2), SALUS_EINVAL);
    assert_rc(salus_pending_wait(p, NULL, 1), SALUS_EINVAL);
    assert_ptr_equal(outs[0], SENTINEL);
    assert_ok(salus_pending_wait(p, outs, 1));
    assert_int_equal(salus_pending_ready(p), 1);
    assert_int_equal(salus_pending_iteration(p), 1);
    salus_tensor *again = SENTINEL;
    assert_rc(salus_pending_wait(p, &again, 1), SALUS_EINVAL);
    assert_ptr_equal(again, SENTINEL);
    salus_pending_free(p);
    salus_tensor_free(outs[0]);

    salus_tensor_free(x);
    salus_tensor_free(y);
    assert_ok(salus_session_close(s));
}

static void test_list_arguments(void **state) {
    fixture *f = *state;
    salus_session *a = create(f, "a"), *b = create(f, "b"), *c = create(f, "c");
    salus_session_info infos[2];
    size_t count = 99;
    assert_rc(salus_list_sessions(f->client, infos, 2, NULL), SALUS_EINVAL);
    assert_rc(salus_list_sessions(f->client, NULL, 2, &count), SALUS_EINVAL);
    assert_int_equal(count, 99);
    /* max 0: just the count. */
    assert_ok(salus_list_sessions(f->client, NULL, 0, &count));
    assert_int_equal(count, 3);
    /* max below the count: max entries written, the total reported. */
    memset(infos, 0x7f, sizeof(infos));
    count = 0;
    assert_ok(salus_list_sessions(f->client, infos, 1, &count));
    assert_int_equal(count, 3);
    assert_true(infos[0].session_id > 0);
    assert_true(infos[1].session_id == 0x7f7f7f7f7f7f7f7full); /* untouched */
    assert_ok(salus_session_close(a));
    assert_ok(salus_session_close(b));
    assert_ok(salus_session_close(c));
    /* Closed sessions stay listed, as closed, after the open ones. */
    salus_session_info all[3];
    assert_ok(salus_list_sessions(f->client, all, 3, &count));
    assert_int_equal(count, 3);
    for (size_t i = 0; i < count; ++i) assert_string_equal(all[i].state, "closed");
}

/* The device the daemon runs on, and its lanes as sessions come and go. */
static void test_device_and_lanes(void **state) {
    fixture *f = *state;
    salus_device_info dev;
    memset(&dev, 0x7f, sizeof dev);
    assert_rc(salus_device_info_init(&dev, 0), SALUS_EINVAL);
    assert_rc(salus_device_info_init(&dev, SALUS_DEVICE_INFO_VERSION + 1), SALUS_EINVAL);
    assert_rc(salus_device_info_init(NULL, SALUS_DEVICE_INFO_VERSION), SALUS_EINVAL);
    /* Not initialised: refused, nothing written. */
    dev.version = 0;
    assert_rc(salus_get_device_info(f->client, &dev), SALUS_EINVAL);
    assert_non_null(strstr(salus_client_last_error(f->client), "salus_device_info_init"));
    assert_rc(salus_get_device_info(f->client, NULL), SALUS_EINVAL);
    assert_rc(salus_get_device_info(NULL, &dev), SALUS_EINVAL);

    assert_ok(salus_device_info_init(&dev, SALUS_DEVICE_INFO_VERSION));
    assert_ok(salus_get_device_info(f->client, &dev));
    assert_int_equal(dev.version, SALUS_DEVICE_INFO_VERSION);
    const char *device = getenv("SALUS_TEST_DEVICE");
    if (!device || strcmp(device, "cpu") == 0) { /* the fixture's default */
        assert_string_equal(dev.type, "cpu");
        assert_int_equal(dev.index, -1);
    }
    assert_true(strlen(dev.name) > 0);
    assert_true(dev.total_bytes > 0);
    assert_true(dev.free_bytes <= dev.total_bytes);
    salus_status st;
    assert_ok(salus_get_status(f->client, &st));
    assert_int_equal(dev.pool_bytes, st.pool_bytes);

    size_t count = 99;
    assert_rc(salus_list_lanes(f->client, NULL, 1, &count), SALUS_EINVAL);
    assert_rc(salus_list_lanes(f->client, NULL, 0, NULL), SALUS_EINVAL);
    assert_int_equal(count, 99);
    assert_ok(salus_list_lanes(f->client, NULL, 0, &count));
    assert_int_equal(count, 0); /* no session, no lane */

    salus_hold_stats holds;
    assert_rc(salus_hold_stats_init(&holds, SALUS_HOLD_STATS_VERSION + 1), SALUS_EINVAL);
    assert_rc(salus_hold_stats_init(NULL, SALUS_HOLD_STATS_VERSION), SALUS_EINVAL);
    holds.version = 0; /* not initialised: refused */
    assert_rc(salus_get_hold_stats(f->client, &holds), SALUS_EINVAL);
    assert_non_null(strstr(salus_client_last_error(f->client), "salus_hold_stats_init"));
    assert_rc(salus_get_hold_stats(NULL, &holds), SALUS_EINVAL);
    assert_ok(salus_hold_stats_init(&holds, SALUS_HOLD_STATS_VERSION));
    assert_ok(salus_get_hold_stats(f->client, &holds));
    assert_int_equal(holds.version, SALUS_HOLD_STATS_VERSION);
    assert_int_equal(holds.granted, 0); /* nothing ran yet */

    salus_session *a = create(f, "a"), *b = create(f, "b");
    salus_lane_info lanes[8];
    assert_ok(salus_list_lanes(f->client, lanes, 8, &count));
    assert_true(count >= 1 && count <= 2);
    assert_ok(salus_get_status(f->client, &st));
    assert_int_equal(count, st.lanes);
    uint64_t sessions = 0, persistent = 0, ephemeral = 0;
    for (size_t i = 0; i < count; ++i) {
        sessions += lanes[i].sessions;
        persistent += lanes[i].persistent_bytes;
        ephemeral = lanes[i].ephemeral_bytes > ephemeral ? lanes[i].ephemeral_bytes : ephemeral;
        /* The safety condition holds in every lane. */
        assert_true(lanes[i].persistent_bytes + lanes[i].ephemeral_bytes <= lanes[i].capacity);
        assert_true(lanes[i].base + lanes[i].capacity <= st.pool_bytes);
        assert_true(strlen(lanes[i].stream) > 0);
        if (i > 0) assert_true(lanes[i].base >= lanes[i - 1].base + lanes[i - 1].capacity);
    }
    assert_int_equal(sessions, 2);
    assert_int_equal(persistent,
                     salus_session_persistent_bytes(a) + salus_session_persistent_bytes(b));
    assert_int_equal(ephemeral, salus_session_ephemeral_bytes(a));

    assert_ok(salus_session_close(a));
    assert_ok(salus_session_close(b));
    assert_ok(salus_list_lanes(f->client, lanes, 8, &count));
    assert_int_equal(count, 0);
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Sessions of every client are listed; a client that disconnects loses its
 * sessions, and its handles can still be freed afterwards. */
static void test_two_clients(void **state) {
    fixture *f = *state;
    salus_client *other = capi_connect(f->daemon.socket_path);
    salus_session *mine = create(f, "mine");
    salus_session *theirs = NULL;
    assert_ok(salus_session_create(other, f->mlp.graph, NULL, &theirs));
    uint64_t their_id = salus_session_id(theirs);
    assert_true(capi_find_session(f->client, their_id, NULL));
    assert_true(capi_find_session(other, salus_session_id(mine), NULL));

    /* Each client keeps its own last error. */
    size_t count = 0;
    assert_rc(salus_list_sessions(other, NULL, 1, &count), SALUS_EINVAL);
    assert_non_null(strstr(salus_client_last_error(other), "infos"));
    assert_null(strstr(salus_client_last_error(f->client), "infos"));

    salus_disconnect(other);
    /* The daemon learns of the disconnect asynchronously. */
    int gone = 0;
    for (int i = 0; i < 500 && !gone; ++i) {
        gone = !capi_find_session(f->client, their_id, NULL);
        if (!gone) sleep_ms(10);
    }
    assert_true(gone);
    /* A handle of a disconnected client is freed without touching the daemon. */
    assert_rc(salus_session_close(theirs), SALUS_ECONNECT);
    run_once(f, mine, 0);
    assert_ok(salus_session_close(mine));
}

/* Scalars (rank 0) are fed like any tensor: their empty shape vector is
 * where flatbuffers leaves it, which need not be 8-byte aligned. Every dtype
 * goes through Identity. */
static void test_scalar_inputs(void **state) {
    fixture *f = *state;
    salus_graph *g = NULL;
    const int64_t three[] = {3};
    uint32_t x, scale, label, y, label_out;
    assert_ok(salus_graph_new(&g));
    assert_ok(salus_graph_add_input(g, "x", SALUS_DTYPE_F32, three, 1, &x));
    assert_ok(salus_graph_add_input(g, "scale", SALUS_DTYPE_F32, NULL, 0, &scale));
    assert_ok(salus_graph_add_input(g, "label", SALUS_DTYPE_I64, NULL, 0, &label));
    const uint32_t mul_in[] = {x, scale};
    assert_ok(salus_graph_add_node(g, "Mul", "scaled", mul_in, 2, 1, &y, NULL));
    assert_ok(salus_graph_add_node(g, "Identity", "same", &label, 1, 1, &label_out, NULL));
    assert_ok(salus_graph_add_output(g, y));
    assert_ok(salus_graph_add_output(g, label_out));
    salus_session *s = NULL;
    assert_ok(salus_session_create(f->client, g, NULL, &s));
    salus_graph_free(g);

    const float xs[3] = {1, 2, 3}, k = 0.5f;
    const int64_t l = -7;
    salus_tensor *in[3];
    assert_ok(salus_tensor_new(SALUS_DTYPE_F32, three, 1, xs, &in[0]));
    assert_ok(salus_tensor_new(SALUS_DTYPE_F32, NULL, 0, &k, &in[1]));
    assert_ok(salus_tensor_new(SALUS_DTYPE_I64, NULL, 0, &l, &in[2]));
    const uint32_t ids[] = {x, scale, label};
    for (int round = 0; round < 3; ++round) {
        salus_tensor *out[2] = {NULL, NULL};
        assert_ok(salus_session_run(s, ids, (const salus_tensor *const *)in, 3, out, 2));
        const float *yv = salus_tensor_const_data(out[0]);
        assert_true(yv[0] == 0.5f && yv[1] == 1.0f && yv[2] == 1.5f);
        assert_int_equal(salus_tensor_dtype(out[1]), SALUS_DTYPE_I64);
        assert_int_equal(salus_tensor_rank(out[1]), 0);
        assert_int_equal(*(const int64_t *)salus_tensor_const_data(out[1]), -7);
        salus_tensor_free(out[0]);
        salus_tensor_free(out[1]);
    }
    for (int i = 0; i < 3; ++i) salus_tensor_free(in[i]);
    assert_ok(salus_session_close(s));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lifecycle, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_create_options, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_graph_freed_after_create, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_run_arguments, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_list_arguments, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_two_clients, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_device_and_lanes, live_setup, live_teardown),
        cmocka_unit_test_setup_teardown(test_scalar_inputs, live_setup, live_teardown),
    };
    return cmocka_run_group_tests_name("session", tests, NULL, NULL);
}
