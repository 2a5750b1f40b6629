/* Many clients on one live salusd: concurrent training gives exactly the
 * losses each job gets alone, and a client killed in the middle of an
 * iteration leaves the daemon serving the others with its session freed. */
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
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { N_CLIENTS = 8, N_ITERS = 25 };

typedef struct job {
    const char *socket_path;
    mlp_spec spec;
    uint64_t data_seed;
    int iterations;
    float losses[N_ITERS];
    int rc;
} job;

static void make_job(job *j, const char *socket_path, int k) {
    memset(j, 0, sizeof *j);
    j->socket_path = socket_path;
    /* Different sizes and seeds, so no two clients compute the same thing. */
    j->spec.n_layers = 2;
    j->spec.sizes[0] = 32 + 8 * k;
    j->spec.sizes[1] = 64 + 16 * (k % 3);
    j->spec.sizes[2] = 4 + k % 5;
    j->spec.batch = 16 + 4 * k;
    j->spec.lr = 0.05f;
    j->spec.seed = 100 + (uint64_t)k;
    j->spec.train = 1;
    j->data_seed = 200 + (uint64_t)k;
    j->iterations = N_ITERS;
}

/* Trains with the asynchronous API, two iterations in flight. */
static void *train(void *arg) {
    job *j = arg;
    salus_connect_options opts;
    salus_connect_options_init(&opts, SALUS_CONNECT_OPTIONS_VERSION);
    opts.socket_path = j->socket_path;
    salus_client *c = NULL;
    salus_session *s = NULL;
    mlp_graph m = {0};
    mlp_data d = {0};
    if ((j->rc = salus_connect(&opts, &c)) < 0) return NULL;
    if ((j->rc = mlp_build(&j->spec, &m)) < 0) goto out;
    if ((j->rc = mlp_data_init(&d, &j->spec, j->data_seed)) < 0) goto out;
    if ((j->rc = salus_session_create(c, m.graph, NULL, &s)) < 0) goto out;
    uint32_t ids[2] = {m.x, m.labels};
    salus_pending *inflight[N_ITERS] = {0};
    for (int it = 0; it < j->iterations; ++it) {
        salus_tensor *in[2];
        if ((j->rc = mlp_data_tensors(&d, (uint64_t)it, in)) < 0) goto out;
        j->rc = salus_session_submit(s, ids, (const salus_tensor *const *)in, 2, &inflight[it]);
        salus_tensor_free(in[0]);
        salus_tensor_free(in[1]);
        if (j->rc < 0) goto out;
        int done = it - 1;
        if (done >= 0) {
            salus_tensor *loss = NULL;
            if ((j->rc = salus_pending_wait(inflight[done], &loss, 1)) < 0) goto out;
            j->losses[done] = *(const float *)salus_tensor_const_data(loss);
            salus_tensor_free(loss);
        }
    }
    salus_tensor *loss = NULL;
    if ((j->rc = salus_pending_wait(inflight[j->iterations - 1], &loss, 1)) < 0) goto out;
    j->losses[j->iterations - 1] = *(const float *)salus_tensor_const_data(loss);
    salus_tensor_free(loss);
out:
    for (int it = 0; it < N_ITERS; ++it) salus_pending_free(inflight[it]);
    if (s) {
        int rc = salus_session_close(s);
        if (j->rc == 0) j->rc = rc;
    }
    mlp_data_free(&d);
    salus_graph_free(m.graph);
    salus_disconnect(c);
    return NULL;
}

static void eight_clients_get_their_solo_losses(void **state) {
    daemon_fixture *f = *state;
    job solo[N_CLIENTS], together[N_CLIENTS];
    for (int k = 0; k < N_CLIENTS; ++k) {
        make_job(&solo[k], f->socket_path, k);
        train(&solo[k]);
        assert_int_equal(solo[k].rc, 0);
        assert_true(solo[k].losses[N_ITERS - 1] < solo[k].losses[0]);
    }
    pthread_t threads[N_CLIENTS];
    for (int k = 0; k < N_CLIENTS; ++k) {
        make_job(&together[k], f->socket_path, k);
        assert_int_equal(pthread_create(&threads[k], NULL, train, &together[k]), 0);
    }
    for (int k = 0; k < N_CLIENTS; ++k) pthread_join(threads[k], NULL);
    for (int k = 0; k < N_CLIENTS; ++k) {
        assert_int_equal(together[k].rc, 0);
        /* Same kernels, same order, same data: bit-identical losses. */
        assert_memory_equal(together[k].losses, solo[k].losses, sizeof solo[k].losses);
    }
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int find_session(salus_client *c, const char *name, salus_session_info *found) {
    salus_session_info infos[64];
    size_t count = 0;
    if (salus_list_sessions(c, infos, 64, &count) < 0) return -1;
    for (size_t i = 0; i < count && i < 64; ++i) {
        /* Closed sessions stay listed for a while: they count as gone. */
        if (strcmp(infos[i].name, name) == 0 && strcmp(infos[i].state, "closed") != 0) {
            if (found) *found = infos[i];
            return 1;
        }
    }
    return 0;
}

/* The child: a heavy session that keeps four iterations queued until it is
 * killed (a GPU runs the CPU's model in well under a millisecond: there it
 * is a larger one). */
static void heavy_client(const char *socket_path, int ready_fd) {
    salus_connect_options opts;
    salus_connect_options_init(&opts, SALUS_CONNECT_OPTIONS_VERSION);
    opts.socket_path = socket_path;
    salus_client *c = NULL;
    const mlp_spec cpu = {
        .n_layers = 2, .sizes = {1024, 2048, 10}, .batch = 512, .lr = 0.01f, .seed = 9, .train = 1};
    /* Weights of 64 MiB each: the whole graph stays under the frame limit. */
    const mlp_spec gpu = {.n_layers = 4,
                          .sizes = {64, 4096, 4096, 4096, 10},
                          .batch = 1024,
                          .lr = 0.01f,
                          .seed = 9,
                          .train = 1};
    /* Under valgrind one CPU iteration would outlast the daemon's stop. */
    const mlp_spec wrapped = {
        .n_layers = 2, .sizes = {256, 512, 10}, .batch = 64, .lr = 0.01f, .seed = 9, .train = 1};
    const mlp_spec spec = daemon_fixture_on_gpu() ? gpu : daemon_fixture_wrapped() ? wrapped : cpu;
    mlp_graph m;
    mlp_data d;
    salus_session_options so;
    salus_session_options_init(&so, SALUS_SESSION_OPTIONS_VERSION);
    so.name = "doomed";
    salus_session *s = NULL;
    if (salus_connect(&opts, &c) < 0 || mlp_build(&spec, &m) < 0 ||
        mlp_data_init(&d, &spec, 1) < 0 || salus_session_create(c, m.graph, &so, &s) < 0)
        _exit(1);
    uint32_t ids[2] = {m.x, m.labels};
    enum { QUEUED = 4 };
    salus_pending *p[QUEUED];
    salus_tensor *in[2];
    if (mlp_data_tensors(&d, 0, in) < 0) _exit(1);
    for (uint64_t it = 0;; ++it) {
        salus_pending **slot = &p[it % QUEUED];
        if (it >= QUEUED) {
            salus_tensor *loss = NULL;
            if (salus_pending_wait(*slot, &loss, 1) < 0) _exit(1);
            salus_tensor_free(loss);
            salus_pending_free(*slot);
        }
        if (salus_session_submit(s, ids, (const salus_tensor *const *)in, 2, slot) < 0) _exit(1);
        if (it == QUEUED - 1) (void)!write(ready_fd, "r", 1);
    }
}

static void killed_client_leaves_others_served(void **state) {
    daemon_fixture *f = *state;
    int pipefd[2];
    assert_int_equal(pipe(pipefd), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        /* Never outlive the test, even when an assertion ends it early. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close(pipefd[0]);
        heavy_client(f->socket_path, pipefd[1]);
    }
    close(pipefd[1]);
    char byte;
    assert_int_equal(read(pipefd[0], &byte, 1), 1);
    close(pipefd[0]);

    salus_connect_options opts;
    salus_connect_options_init(&opts, SALUS_CONNECT_OPTIONS_VERSION);
    opts.socket_path = f->socket_path;
    salus_client *observer = NULL;
    assert_int_equal(salus_connect(&opts, &observer), 0);

    /* Kill it while one of its iterations runs, with more queued. */
    salus_session_info info;
    int waited = 0;
    while (find_session(observer, "doomed", &info) != 1 || strcmp(info.state, "running") != 0 ||
           info.pending < 2) {
        assert_true(waited < 10000);
        sleep_ms(2);
        waited += 2;
    }
    kill(child, SIGKILL);
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);

    /* Another client trains meanwhile and gets exactly its solo losses. */
    job ref, after;
    make_job(&ref, f->socket_path, 3);
    make_job(&after, f->socket_path, 3);
    train(&after);
    assert_int_equal(after.rc, 0);
    train(&ref);
    assert_int_equal(ref.rc, 0);
    assert_memory_equal(after.losses, ref.losses, sizeof ref.losses);

    /* The dead client's session is freed once its in-flight iteration ends. */
    waited = 0;
    int r;
    while ((r = find_session(observer, "doomed", NULL)) == 1) {
        assert_true(waited < 20000);
        sleep_ms(20);
        waited += 20;
    }
    assert_int_equal(r, 0);
    salus_disconnect(observer);
}

/* A client that leaves with iterations queued, again and again, while
 * another keeps asking the daemon for its sessions: the daemon frees what
 * was queued without running it and keeps serving. Each round races the
 * disconnect against the lane picking the next iteration. */
static void leaving_with_queued_iterations(void **state) {
    daemon_fixture *f = *state;
    salus_connect_options opts;
    salus_connect_options_init(&opts, SALUS_CONNECT_OPTIONS_VERSION);
    opts.socket_path = f->socket_path;
    salus_client *observer = NULL;
    assert_int_equal(salus_connect(&opts, &observer), 0);
    mlp_spec spec = {
        .n_layers = 2, .sizes = {64, 128, 10}, .batch = 32, .lr = 0.05f, .seed = 5, .train = 1};
    mlp_graph m;
    mlp_data d;
    assert_int_equal(mlp_build(&spec, &m), 0);
    assert_int_equal(mlp_data_init(&d, &spec, 5), 0);
    uint32_t ids[2] = {m.x, m.labels};
    for (int round = 0; round < 40; ++round) {
        salus_client *c = NULL;
        salus_session *s = NULL;
        assert_int_equal(salus_connect(&opts, &c), 0);
        assert_int_equal(salus_session_create(c, m.graph, NULL, &s), 0);
        salus_pending *p[3];
        for (int it = 0; it < 3; ++it) {
            salus_tensor *in[2];
            assert_int_equal(mlp_data_tensors(&d, (uint64_t)it, in), 0);
            assert_int_equal(
                salus_session_submit(s, ids, (const salus_tensor *const *)in, 2, &p[it]), 0);
            salus_tensor_free(in[0]);
            salus_tensor_free(in[1]);
        }
        salus_disconnect(c);
        for (int it = 0; it < 3; ++it) salus_pending_free(p[it]);
        (void)salus_session_close(s);
        size_t count = 0;
        assert_int_equal(salus_list_sessions(observer, NULL, 0, &count), 0);
    }
    /* Every one of those sessions is gone and the daemon still trains. */
    int waited = 0;
    salus_status st;
    for (;;) {
        assert_int_equal(salus_get_status(observer, &st), 0);
        if (st.open_sessions == 0) break;
        assert_true(waited < 10000);
        sleep_ms(10);
        waited += 10;
    }
    job after;
    make_job(&after, f->socket_path, 1);
    train(&after);
    assert_int_equal(after.rc, 0);
    mlp_data_free(&d);
    salus_graph_free(m.graph);
    salus_disconnect(observer);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(eight_clients_get_their_solo_losses, daemon_setup,
                                        daemon_teardown),
        cmocka_unit_test_setup_teardown(killed_client_leaves_others_served, daemon_setup,
                                        daemon_teardown),
        cmocka_unit_test_setup_teardown(leaving_with_queued_iterations, daemon_setup,
                                        daemon_teardown),
    };
    return cmocka_run_group_tests_name("integration", tests, NULL, NULL);
}
