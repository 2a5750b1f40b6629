/* Exact admission on a live salusd with a small device pool: a session that
 * does not fit waits in the admission queue (its client blocks in
 * salus_session_create, the listing shows it queued), is admitted the
 * moment memory frees, and runs; a session larger than the pool is refused.
 * With 2 lanes and 3 sessions, closing the one alone in its lane moves one of
 * the two others into a lane of its own (rebalancing), weights intact. */
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
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* P = 8.4 MB, T = 14.8 MB: one fits in the 30 MiB pool, two do not even in
 * one lane (2 P + T > 30 MiB). */
static const mlp_spec kBig = {
    .n_layers = 2, .sizes = {1024, 2048, 10}, .batch = 512, .lr = 0.01f, .seed = 9, .train = 1};

static int start(void **state) {
    daemon_fixture *f = calloc(1, sizeof *f);
    const char *args[] = {"--pool-bytes", "30M", NULL};
    if (!f || daemon_start(f, args) != 0) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static salus_client *connect_to(daemon_fixture *f) {
    salus_connect_options opts;
    salus_connect_options_init(&opts, SALUS_CONNECT_OPTIONS_VERSION);
    opts.socket_path = f->socket_path;
    salus_client *c = NULL;
    assert_int_equal(salus_connect(&opts, &c), 0);
    return c;
}

typedef struct opener {
    salus_client *client;
    mlp_graph m;
    const char *name;
    salus_session *session;
    int rc;
} opener;

static void *open_session(void *arg) {
    opener *o = arg;
    salus_session_options so;
    salus_session_options_init(&so, SALUS_SESSION_OPTIONS_VERSION);
    so.name = o->name;
    o->rc = salus_session_create(o->client, o->m.graph, &so, &o->session);
    return NULL;
}

static int find(salus_client *c, const char *name, salus_session_info *out) {
    salus_session_info infos[16];
    size_t n = 0;
    assert_int_equal(salus_list_sessions(c, infos, 16, &n), 0);
    for (size_t i = 0; i < n && i < 16; ++i) {
        /* Closed sessions stay listed for a while: they count as gone. */
        if (strcmp(infos[i].name, name) == 0 && strcmp(infos[i].state, "closed") != 0) {
            *out = infos[i];
            return 1;
        }
    }
    return 0;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void queued_session_is_admitted_when_memory_frees(void **state) {
    daemon_fixture *f = *state;
    opener first = {.client = connect_to(f), .name = "first"};
    opener second = {.client = connect_to(f), .name = "second"};
    assert_int_equal(mlp_build(&kBig, &first.m), 0);
    assert_int_equal(mlp_build(&kBig, &second.m), 0);
    open_session(&first);
    assert_int_equal(first.rc, 0);

    pthread_t waiter;
    assert_int_equal(pthread_create(&waiter, NULL, open_session, &second), 0);
    salus_client *observer = connect_to(f);
    salus_session_info info;
    int waited = 0;
    while (!find(observer, "second", &info)) {
        assert_true(waited < 10000);
        sleep_ms(5);
        waited += 5;
    }
    assert_string_equal(info.state, "queued");
    assert_true(info.lane == SALUS_NO_LANE);
    salus_status st;
    assert_int_equal(salus_get_status(observer, &st), 0);
    assert_int_equal(st.queued_sessions, 1);

    /* Still waiting a while later: nothing frees memory on its own. */
    sleep_ms(100);
    assert_true(find(observer, "second", &info));
    assert_string_equal(info.state, "queued");

    assert_int_equal(salus_session_close(first.session), 0);
    pthread_join(waiter, NULL);
    assert_int_equal(second.rc, 0);
    assert_true(find(observer, "second", &info));
    assert_string_not_equal(info.state, "queued");
    assert_true(info.lane != SALUS_NO_LANE);

    /* It runs like any other session. */
    mlp_data d;
    assert_int_equal(mlp_data_init(&d, &kBig, 1), 0);
    salus_tensor *in[2], *loss = NULL;
    assert_int_equal(mlp_data_tensors(&d, 0, in), 0);
    uint32_t ids[2] = {second.m.x, second.m.labels};
    assert_int_equal(
        salus_session_run(second.session, ids, (const salus_tensor *const *)in, 2, &loss, 1), 0);
    salus_tensor_free(loss);
    salus_tensor_free(in[0]);
    salus_tensor_free(in[1]);
    mlp_data_free(&d);
    assert_int_equal(salus_session_close(second.session), 0);

    salus_graph_free(first.m.graph);
    salus_graph_free(second.m.graph);
    salus_disconnect(first.client);
    salus_disconnect(second.client);
    salus_disconnect(observer);
}

static void queued_session_of_a_vanished_client_is_withdrawn(void **state) {
    daemon_fixture *f = *state;
    opener first = {.client = connect_to(f), .name = "holder"};
    assert_int_equal(mlp_build(&kBig, &first.m), 0);
    open_session(&first);
    assert_int_equal(first.rc, 0);

    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        opener leaver = {.name = "leaver"};
        salus_connect_options opts;
        salus_connect_options_init(&opts, SALUS_CONNECT_OPTIONS_VERSION);
        opts.socket_path = f->socket_path;
        if (salus_connect(&opts, &leaver.client) < 0 || mlp_build(&kBig, &leaver.m) < 0) _exit(1);
        open_session(&leaver); /* waits in the queue until killed */
        _exit(2);
    }
    salus_client *observer = connect_to(f);
    salus_session_info info;
    int waited = 0;
    while (!find(observer, "leaver", &info)) {
        assert_true(waited < 10000);
        sleep_ms(5);
        waited += 5;
    }
    assert_string_equal(info.state, "queued");
    /* Its client goes away while it waits: it leaves the queue. */
    kill(child, SIGKILL);
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    waited = 0;
    while (find(observer, "leaver", &info)) {
        assert_true(waited < 10000);
        sleep_ms(5);
        waited += 5;
    }
    salus_status st;
    assert_int_equal(salus_get_status(observer, &st), 0);
    assert_int_equal(st.queued_sessions, 0);
    assert_int_equal(salus_session_close(first.session), 0);
    salus_graph_free(first.m.graph);
    salus_disconnect(first.client);
    salus_disconnect(observer);
}

static void session_larger_than_the_pool_is_refused(void **state) {
    daemon_fixture *f = *state;
    salus_client *c = connect_to(f);
    mlp_spec huge = kBig;
    huge.sizes[1] = 8192;
    mlp_graph m;
    assert_int_equal(mlp_build(&huge, &m), 0);
    salus_session *s = NULL;
    assert_int_equal(salus_session_create(c, m.graph, NULL, &s), SALUS_ERESOURCE);
    assert_null(s);
    assert_non_null(strstr(salus_last_error(), "pool"));
    salus_graph_free(m.graph);
    salus_disconnect(c);
}

/* Inference (no weight updates), so that its output shows whether the
 * weights survived a move: the same batch gives the same probabilities. */
static const mlp_spec kInfer = {
    .n_layers = 2, .sizes = {256, 512, 10}, .batch = 64, .lr = 0.01f, .seed = 3, .train = 0};

static int start_two_lanes(void **state) {
    daemon_fixture *f = calloc(1, sizeof *f);
    const char *args[] = {"--pool-bytes", "64M", "--max-lanes", "2", NULL};
    if (!f || daemon_start(f, args) != 0) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

/* The session's output on batch 0, into out (640 floats). */
static void infer(opener *o, const mlp_data *d, float *out) {
    salus_tensor *in[2], *probs = NULL;
    assert_int_equal(mlp_data_tensors(d, 0, in), 0);
    uint32_t ids[1] = {o->m.x};
    assert_int_equal(
        salus_session_run(o->session, ids, (const salus_tensor *const *)in, 1, &probs, 1), 0);
    assert_int_equal(salus_tensor_nbytes(probs), 64 * 10 * sizeof(float));
    memcpy(out, salus_tensor_const_data(probs), 64 * 10 * sizeof(float));
    salus_tensor_free(probs);
    salus_tensor_free(in[0]);
    salus_tensor_free(in[1]);
}

static void a_lane_left_empty_takes_a_session_of_the_crowded_one(void **state) {
    daemon_fixture *f = *state;
    opener o[3] = {{.name = "r0"}, {.name = "r1"}, {.name = "r2"}};
    mlp_data d;
    assert_int_equal(mlp_data_init(&d, &kInfer, 1), 0);
    static float before[3][640], after[640];
    salus_client *observer = connect_to(f);
    salus_session_info info[3];
    for (int i = 0; i < 3; ++i) {
        o[i].client = connect_to(f);
        assert_int_equal(mlp_build(&kInfer, &o[i].m), 0);
        open_session(&o[i]);
        assert_int_equal(o[i].rc, 0);
        infer(&o[i], &d, before[i]);
    }
    for (int i = 0; i < 3; ++i) assert_true(find(observer, o[i].name, &info[i]));
    /* Two lanes at most: one session alone, two sharing. */
    int alone = -1;
    for (int i = 0; i < 3; ++i) {
        if (info[i].lane != info[(i + 1) % 3].lane && info[i].lane != info[(i + 2) % 3].lane) {
            alone = i;
        }
    }
    assert_true(alone >= 0);
    const int a = (alone + 1) % 3, b = (alone + 2) % 3;
    assert_true(info[a].lane == info[b].lane);

    assert_int_equal(salus_session_close(o[alone].session), 0);
    /* The layout change applies between iterations; none runs now. */
    int waited = 0;
    for (;;) {
        assert_true(find(observer, o[a].name, &info[a]));
        assert_true(find(observer, o[b].name, &info[b]));
        if (info[a].lane != info[b].lane) break;
        assert_true(waited < 10000);
        sleep_ms(5);
        waited += 5;
    }
    assert_true(info[a].lane != SALUS_NO_LANE && info[b].lane != SALUS_NO_LANE);
    /* Both run, on weights the move kept bit for bit. */
    infer(&o[a], &d, after);
    assert_memory_equal(after, before[a], sizeof after);
    infer(&o[b], &d, after);
    assert_memory_equal(after, before[b], sizeof after);

    for (int i = 0; i < 3; ++i) {
        if (i != alone) assert_int_equal(salus_session_close(o[i].session), 0);
        salus_graph_free(o[i].m.graph);
        salus_disconnect(o[i].client);
    }
    mlp_data_free(&d);
    salus_disconnect(observer);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(queued_session_is_admitted_when_memory_frees, start,
                                        daemon_teardown),
        cmocka_unit_test_setup_teardown(queued_session_of_a_vanished_client_is_withdrawn, start,
                                        daemon_teardown),
        cmocka_unit_test_setup_teardown(session_larger_than_the_pool_is_refused, start,
                                        daemon_teardown),
        cmocka_unit_test_setup_teardown(a_lane_left_empty_takes_a_session_of_the_crowded_one,
                                        start_two_lanes, daemon_teardown),
    };
    return cmocka_run_group_tests_name("admission", tests, NULL, NULL);
}
