/* SIGHUP reloads the config file while a client runs iterations: reloadable
 * keys apply, the others are reported and kept, a bad file changes nothing,
 * and the session never notices. */
#include "../capi/capi_test.h"
#include "../capi/daemon_fixture.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

enum { WAIT_MS = 10000, POLL_MS = 10 };

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* A client running Relu iterations in a loop until told to stop. */
typedef struct worker {
    salus_client *client;
    salus_session *session;
    uint32_t x;
    atomic_int stop;
    atomic_ulong done;
    atomic_int rc; /* the first failure, stored once error holds its message */
    char error[256];
} worker;

static void *work(void *arg) {
    worker *w = arg;
    const int64_t shape[1] = {4};
    const float in[4] = {-1, 2, -3, 4};
    salus_tensor *x = NULL;
    int rc = salus_tensor_new(SALUS_DTYPE_F32, shape, 1, in, &x);
    const salus_tensor *inputs[1] = {x};
    while (rc == 0 && !atomic_load(&w->stop)) {
        salus_tensor *y = NULL;
        rc = salus_session_run(w->session, &w->x, inputs, 1, &y, 1);
        salus_tensor_free(y);
        if (rc == 0) atomic_fetch_add(&w->done, 1);
    }
    if (rc != 0) {
        snprintf(w->error, sizeof w->error, "%s", salus_last_error());
        atomic_store(&w->rc, rc); /* publishes error */
    }
    salus_tensor_free(x);
    return NULL;
}

static void wait_iterations(worker *w, unsigned long at_least) {
    for (int waited = 0; atomic_load(&w->done) < at_least; waited += POLL_MS) {
        if (atomic_load(&w->rc) != 0) fail_msg("the worker failed: %s", w->error);
        if (waited >= WAIT_MS) fail_msg("no progress: %lu iterations", atomic_load(&w->done));
        sleep_ms(POLL_MS);
    }
}

static void write_file(const char *path, const char *text) {
    FILE *out = fopen(path, "w");
    assert_non_null(out);
    fputs(text, out);
    assert_int_equal(fclose(out), 0);
}

static void wait_policy(salus_client *client, const char *policy) {
    salus_status st;
    for (int waited = 0;; waited += POLL_MS) {
        assert_ok(salus_get_status(client, &st));
        if (strcmp(st.policy, policy) == 0) return;
        if (waited >= WAIT_MS) fail_msg("policy is %s, not %s", st.policy, policy);
        sleep_ms(POLL_MS);
    }
}

static void expect_log(daemon_fixture *f, const char *text) {
    if (!daemon_log_contains(f, text, WAIT_MS)) fail_msg("the log never says \"%s\"", text);
}

static void test_reload_keeps_sessions(void **state) {
    (void)state;
    char config[] = "/tmp/salus-reload-XXXXXX";
    int fd = mkstemp(config);
    assert_true(fd >= 0);
    close(fd);
    write_file(config, "[scheduler]\npolicy = pack\n");
    const char *const args[] = {"--config", config, NULL};
    daemon_fixture f;
    assert_int_equal(daemon_start_logged(&f, args), 0);

    worker w = {0};
    w.client = capi_connect(f.socket_path);
    const int64_t shape[1] = {4};
    salus_graph *g = NULL;
    uint32_t y = 0;
    assert_ok(salus_graph_new(&g));
    assert_ok(salus_graph_add_input(g, "x", SALUS_DTYPE_F32, shape, 1, &w.x));
    assert_ok(salus_graph_add_node(g, "Relu", NULL, &w.x, 1, 1, &y, NULL));
    assert_ok(salus_graph_add_output(g, y));
    assert_ok(salus_session_create(w.client, g, NULL, &w.session));
    salus_graph_free(g);
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, work, &w), 0);
    wait_iterations(&w, 3);
    salus_client *admin = capi_connect(f.socket_path);

    /* Reloadable keys apply; admission needs a restart and is kept. */
    write_file(config, "[server]\nverbose = yes\n[scheduler]\npolicy = fair\nadmission = static\n");
    assert_int_equal(kill(f.pid, SIGHUP), 0);
    wait_policy(admin, "fair");
    expect_log(&f, "configuration reloaded: verbose no -> yes, policy pack -> fair");
    expect_log(&f, "[scheduler] admission changed from safe to static, which needs a restart; "
                   "keeping the running value");
    salus_status st;
    assert_ok(salus_get_status(admin, &st));
    assert_string_equal(st.admission, "safe");
    /* verbose: requests are logged at debug level from now on. */
    expect_log(&f, "<7>connection ");
    unsigned long before = atomic_load(&w.done);
    wait_iterations(&w, before + 3);

    /* A bad file is refused as a whole, with its line: policy stays fair. */
    write_file(config, "[scheduler]\npolicy = fifo\nnot a key value line\n");
    assert_int_equal(kill(f.pid, SIGHUP), 0);
    char refused[160];
    snprintf(refused, sizeof refused, "reload refused: %s:3: ", config);
    expect_log(&f, refused);
    expect_log(&f, "reload refused: the running configuration stays as it was");
    assert_ok(salus_get_status(admin, &st));
    assert_string_equal(st.policy, "fair");
    before = atomic_load(&w.done);
    wait_iterations(&w, before + 3);

    /* A policy set at run time survives a reload that leaves the key alone. */
    assert_ok(salus_set_policy(admin, "srtf"));
    write_file(config, "[server]\nverbose = yes\ndrain-timeout = 10s\n[scheduler]\npolicy = fair\n"
                       "admission = static\nhold-max-us = 0\n");
    assert_int_equal(kill(f.pid, SIGHUP), 0);
    expect_log(&f, "configuration reloaded: drain-timeout 30s -> 10s, hold-max-us 5000 -> 0");
    assert_ok(salus_get_status(admin, &st));
    assert_string_equal(st.policy, "srtf");
    /* Its lane, perhaps held for it, goes on without holds. */
    before = atomic_load(&w.done);
    wait_iterations(&w, before + 3);

    atomic_store(&w.stop, 1);
    pthread_join(thread, NULL);
    if (atomic_load(&w.rc) != 0) fail_msg("the worker failed: %s", w.error);
    /* One session all along: its iterations were all counted. */
    salus_session_info info[4];
    size_t n = 0;
    assert_ok(salus_list_sessions(admin, info, 4, &n));
    assert_int_equal(n, 1);
    assert_int_equal(info[0].iterations, atomic_load(&w.done));
    assert_ok(salus_session_close(w.session));
    salus_disconnect(w.client);
    salus_disconnect(admin);
    assert_int_equal(daemon_stop(&f), 0);
    unlink(config);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reload_keeps_sessions),
    };
    return cmocka_run_group_tests_name("reload", tests, NULL, NULL);
}
