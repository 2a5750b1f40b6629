/* Policies with synchronous clients on a live salusd with one lane: each job
 * runs one iteration at a time (salus_session_run), as most training loops
 * do, so between two of its iterations it has nothing queued. The daemon
 * holds the lane for the job the policy prefers (hold-max-us) so that
 * priority still gives the lane to the top job and srtf still finishes the
 * shorter job first. Thresholds leave room for a noisy VM: without
 * holds the top job would get about half of the lane, the long srtf job
 * about as many iterations as the short one. Under $SALUSD_WRAPPER
 * (valgrind: 20-50x slower, its threads serialized) the jobs are smaller
 * and the shares are printed, not judged: what it checks there is memory. */
#include "../capi/capi_test.h"
#include "../capi/daemon_fixture.h"
#include "mlp/mlp.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct sync_job {
    salus_client *client;
    salus_session *session;
    mlp_graph m;
    mlp_data data;
    salus_tensor *batch[2];
    int limit; /* iterations to run; 0: until *stop */
    atomic_int *stop;
    atomic_int done;
    /* What another job had done when this one finished its last iteration. */
    struct sync_job *watch;
    int watch_done_at_end;
    int rc; /* first failure, reported by the main thread (cmocka is not thread-safe) */
    char error[256];
    pthread_t thread;
} sync_job;

static void job_open(sync_job *j, daemon_fixture *f, const char *name, uint64_t declared,
                     int32_t priority) {
    memset(j, 0, sizeof *j);
    salus_connect_options opts;
    salus_connect_options_init(&opts, SALUS_CONNECT_OPTIONS_VERSION);
    opts.socket_path = f->socket_path;
    assert_int_equal(salus_connect(&opts, &j->client), 0);
    /* A few milliseconds per iteration, long against a client's turnaround,
     * from a small request: the shorter the turnaround, the less often the
     * VM preempts a client or the event loop in the middle of one. (Batch
     * 96: on oneDNN's matmul an iteration of batch 32 took about 1 ms.) */
    const int64_t hidden = daemon_fixture_wrapped() ? 64 : 1536;
    mlp_spec spec = {.n_layers = 3,
                     .sizes = {32, hidden, hidden, 10},
                     .batch = daemon_fixture_wrapped() ? 32 : 96,
                     .lr = 0.01f,
                     .seed = 3,
                     .train = 1};
    assert_int_equal(mlp_build(&spec, &j->m), 0);
    assert_int_equal(mlp_data_init(&j->data, &spec, 4), 0);
    assert_int_equal(mlp_data_tensors(&j->data, 0, j->batch), 0);
    salus_session_options so;
    salus_session_options_init(&so, SALUS_SESSION_OPTIONS_VERSION);
    so.name = name;
    so.declared_iterations = declared;
    so.priority = priority;
    int rc = salus_session_create(j->client, j->m.graph, &so, &j->session);
    if (rc != 0) fail_msg("create %s: %s", name, salus_last_error());
}

/* One synchronous iteration; 0 or the error. */
static int job_step(sync_job *j) {
    uint32_t ids[2] = {j->m.x, j->m.labels};
    salus_tensor *loss = NULL;
    int rc = salus_session_run(j->session, ids, (const salus_tensor *const *)j->batch, 2, &loss, 1);
    if (rc != 0) {
        j->rc = rc;
        snprintf(j->error, sizeof j->error, "%s", salus_last_error());
        return rc;
    }
    salus_tensor_free(loss);
    atomic_fetch_add(&j->done, 1);
    return 0;
}

static void *job_loop(void *arg) {
    sync_job *j = arg;
    while (j->limit == 0 ? !atomic_load(j->stop) : atomic_load(&j->done) < j->limit) {
        if (job_step(j) != 0) break;
    }
    if (j->watch) j->watch_done_at_end = atomic_load(&j->watch->done);
    return NULL;
}

static void job_start(sync_job *j) {
    assert_int_equal(pthread_create(&j->thread, NULL, job_loop, j), 0);
}

static void job_join(sync_job *j) {
    assert_int_equal(pthread_join(j->thread, NULL), 0);
    if (j->rc != 0) fail_msg("iteration: %s", j->error);
}

static void job_close(sync_job *j) {
    assert_int_equal(salus_session_close(j->session), 0);
    salus_tensor_free(j->batch[0]);
    salus_tensor_free(j->batch[1]);
    mlp_data_free(&j->data);
    salus_graph_free(j->m.graph);
    salus_disconnect(j->client);
}

/* Waits up to 30 s (more under a wrapper) until the job has done n iterations. */
static void wait_done(sync_job *j, int n) {
    for (int ms = 0; atomic_load(&j->done) < n; ++ms) {
        if (j->rc != 0 || ms > 30000 * daemon_fixture_slowdown())
            fail_msg("job stalled: %s", j->error);
        nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
    }
}

static int start_daemon(void **state, const char *policy) {
    daemon_fixture *f = calloc(1, sizeof *f);
    /* A client's turnaround is some 150 us, but a loaded 2-core VM leaves a
     * client or the event loop off its CPU for a scheduler slice (4 to 6 ms
     * seen) every few dozen iterations. The holds grow for such a session
     * (they follow the gap's deviation) up to hold-max-us: here enough to
     * cover a slice, so the test checks holding and not the VM. */
    const char *args[] = {"--max-lanes", "1", "--policy", policy, "--hold-max-us", "20000", NULL};
    if (!f || daemon_start(f, args) != 0) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int start_priority(void **state) {
    return start_daemon(state, "priority");
}
static int start_srtf(void **state) {
    return start_daemon(state, "srtf");
}

/* The long job has far more left than the short one even when the VM starts
 * the short job's thread late (with 80, one run in five beside another test
 * had the long job finish first). */
enum { TOP_ITERATIONS = 150, LONG_ITERATIONS = 200, SHORT_ITERATIONS = 40 };

static void priority_top_job_keeps_the_lane(void **state) {
    daemon_fixture *f = *state;
    atomic_int stop = 0;
    sync_job low, mid, top;
    job_open(&low, f, "low", 0, 0);
    job_open(&mid, f, "mid", 0, 5);
    job_open(&top, f, "top", 0, 10);
    low.stop = mid.stop = &stop;
    job_start(&low);
    job_start(&mid);
    wait_done(&mid, 3);
    /* Top runs in this thread while the other two keep asking for the lane. */
    int others_before = atomic_load(&low.done) + atomic_load(&mid.done);
    for (int i = 0; i < TOP_ITERATIONS; ++i) {
        if (job_step(&top) != 0) fail_msg("top: %s", top.error);
    }
    int others = atomic_load(&low.done) + atomic_load(&mid.done) - others_before;
    atomic_store(&stop, 1);
    job_join(&low);
    job_join(&mid);
    double share = (double)TOP_ITERATIONS / (TOP_ITERATIONS + others);
    print_message("# top job: %d iterations, the others %d meanwhile: %.3f of the lane\n",
                  TOP_ITERATIONS, others, share);
    /* Its first iteration or two let another slip in (its turnaround is not
     * measured yet); so may a client thread the VM leaves off its CPU for
     * longer than the hold. */
    assert_unless_wrapped(share >= 0.9);
    /* Operators see those holds: most of top's iterations began one, and
     * every hold has ended but perhaps the last. */
    salus_hold_stats holds;
    assert_int_equal(salus_hold_stats_init(&holds, SALUS_HOLD_STATS_VERSION), 0);
    assert_int_equal(salus_get_hold_stats(top.client, &holds), 0);
    print_message("# holds: %llu (%llu returned, %llu expired, %llu early), %llu ns held\n",
                  (unsigned long long)holds.granted, (unsigned long long)holds.returned,
                  (unsigned long long)holds.expired, (unsigned long long)holds.early,
                  (unsigned long long)holds.held_ns);
    assert_unless_wrapped(holds.returned > 0 && holds.held_ns > 0);
    assert_true(holds.returned + holds.expired + holds.early <= holds.granted);
    assert_true(holds.granted <= holds.returned + holds.expired + holds.early + 1);
    job_close(&top);
    job_close(&mid);
    job_close(&low);
}

static void srtf_shorter_declared_job_finishes_first(void **state) {
    daemon_fixture *f = *state;
    sync_job longer, shorter;
    job_open(&longer, f, "long", LONG_ITERATIONS, 0);
    job_open(&shorter, f, "short", SHORT_ITERATIONS, 0);
    longer.limit = LONG_ITERATIONS;
    shorter.limit = SHORT_ITERATIONS;
    shorter.watch = &longer;
    job_start(&longer);
    job_start(&shorter);
    job_join(&shorter);
    int long_done = shorter.watch_done_at_end;
    job_join(&longer);
    print_message("# long job: %d of %d iterations done when the short one finished\n", long_done,
                  LONG_ITERATIONS);
    /* Ideally 1 or 2: its first (to be measured) and maybe one before the
     * short job's turnaround is known; alternating would be SHORT_ITERATIONS. */
    assert_unless_wrapped(long_done <= SHORT_ITERATIONS / 3);
    job_close(&shorter);
    job_close(&longer);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(priority_top_job_keeps_the_lane, start_priority,
                                        daemon_teardown),
        cmocka_unit_test_setup_teardown(srtf_shorter_declared_job_finishes_first, start_srtf,
                                        daemon_teardown),
    };
    return cmocka_run_group_tests_name("sync-clients", tests, NULL, NULL);
}
