/* Policies with synchronous clients: each job runs one iteration at a time
 * (salus_session_run), as most training loops do, three jobs on one lane.
 *   priority  priorities 10, 5 and 0: the top job's throughput against the
 *             same job alone (target >= 0.95), and its share of the lane;
 *   srtf      jobs declaring 2N, N and N/2 iterations, started together
 *             (admitted longest first): completion order and average job
 *             completion time (JCT) against the ideal, shortest first one
 *             after another (each job's run time in this run, plus the
 *             lane's mean time between two iterations);
 *   pack      three equal jobs: the share of the time the lane runs no
 *             iteration (target < 5%), from the daemon's run times.
 *
 *   bench-sync-policies --socket PATH [--iterations N]
 * salusd must run with --max-lanes 1. N (default 200) is the top job's
 * iteration count; the srtf jobs run 2N, N and N/2. The benchmark switches
 * the policy and restores the one it found. */
#include "mlp/mlp.h"

#include "client_bench.h"

#include <salus/salus.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHECK(rc, what) bench_check("bench-sync-policies", (rc), (what))

/* A few milliseconds per iteration from a small request (see
 * tests/integration/test_sync_clients.c). */
static const mlp_spec kModel = {
    .n_layers = 3, .sizes = {32, 1536, 1536, 10}, .batch = 32, .lr = 0.01f, .seed = 3, .train = 1};

typedef struct job {
    const char *name;
    salus_client *client;
    salus_session *session;
    mlp_graph m;
    salus_tensor *batch[2];
    int limit;         /* iterations to run; 0: until *stop */
    atomic_int *stop;  /* NULL with a limit */
    atomic_int *pause; /* while set, it queues nothing (may be NULL) */
    atomic_int idle;   /* it saw *pause and has nothing running */
    atomic_int done;
    double end_s; /* when its last iteration's result came back */
    pthread_t thread;
} job;

static void job_open(job *j, const char *socket_path, const char *name, uint64_t declared,
                     int32_t priority) {
    memset(j, 0, sizeof *j);
    j->name = name;
    j->client = bench_connect("bench-sync-policies", socket_path);
    CHECK(mlp_build(&kModel, &j->m), "build the model");
    mlp_data data;
    CHECK(mlp_data_init(&data, &kModel, 4), "data");
    CHECK(mlp_data_tensors(&data, 0, j->batch), "batch");
    mlp_data_free(&data);
    salus_session_options so;
    salus_session_options_init(&so, SALUS_SESSION_OPTIONS_VERSION);
    so.name = name;
    so.declared_iterations = declared;
    so.priority = priority;
    CHECK(salus_session_create(j->client, j->m.graph, &so, &j->session), "create a session");
}

static void job_step(job *j) {
    uint32_t ids[2] = {j->m.x, j->m.labels};
    salus_tensor *loss = NULL;
    CHECK(salus_session_run(j->session, ids, (const salus_tensor *const *)j->batch, 2, &loss, 1),
          "run");
    salus_tensor_free(loss);
    atomic_fetch_add(&j->done, 1);
}

static void *job_loop(void *arg) {
    job *j = arg;
    while (j->stop ? !atomic_load(j->stop) : atomic_load(&j->done) < j->limit) {
        if (j->pause && atomic_load(j->pause)) {
            atomic_store(&j->idle, 1);
            nanosleep(&(struct timespec){.tv_nsec = 200000}, NULL);
            continue;
        }
        atomic_store(&j->idle, 0);
        job_step(j);
    }
    j->end_s = bench_now_s();
    return NULL;
}

static void job_start(job *j) {
    if (pthread_create(&j->thread, NULL, job_loop, j) != 0) {
        fprintf(stderr, "bench-sync-policies: cannot start a thread\n");
        exit(1);
    }
}

static void job_close(job *j) {
    CHECK(salus_session_close(j->session), "close");
    salus_tensor_free(j->batch[0]);
    salus_tensor_free(j->batch[1]);
    salus_graph_free(j->m.graph);
    salus_disconnect(j->client);
}

static void wait_done(job *j, int n) {
    while (atomic_load(&j->done) < n) nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
}

/* Seconds for n synchronous iterations of j, with the lane as it is. */
static double timed_steps(job *j, int n) {
    double t0 = bench_now_s();
    for (int i = 0; i < n; ++i) job_step(j);
    return bench_now_s() - t0;
}

/* Exits 2 unless the jobs share one lane. */
static void check_one_lane(salus_client *admin, job *const *jobs, int n_jobs) {
    salus_session_info infos[64];
    size_t count = 0;
    CHECK(salus_list_sessions(admin, infos, 64, &count), "list sessions");
    uint64_t lane = SALUS_NO_LANE;
    for (size_t i = 0; i < count && i < 64; ++i) {
        for (int k = 0; k < n_jobs; ++k) {
            if (infos[i].session_id != salus_session_id(jobs[k]->session)) continue;
            if (lane != SALUS_NO_LANE && infos[i].lane != lane) {
                fprintf(stderr, "bench-sync-policies: salusd must run with --max-lanes 1\n");
                exit(2);
            }
            lane = infos[i].lane;
        }
    }
}

/* The daemon's run time of these sessions, in seconds. */
static double run_seconds(salus_client *admin, job *const *jobs, int n_jobs) {
    salus_session_info infos[64];
    size_t count = 0;
    CHECK(salus_list_sessions(admin, infos, 64, &count), "list sessions");
    double total = 0;
    for (size_t i = 0; i < count && i < 64; ++i) {
        for (int k = 0; k < n_jobs; ++k) {
            if (infos[i].session_id == salus_session_id(jobs[k]->session)) {
                total += (double)infos[i].run_ns * 1e-9;
            }
        }
    }
    return total;
}

/* The top job alone and against two lower-priority jobs that keep asking
 * for the lane, in alternating rounds so that both see the same load on the
 * machine. */
static void bench_priority(salus_client *admin, const char *socket_path, int n) {
    enum { ROUNDS = 10 };
    CHECK(salus_set_policy(admin, "priority"), "set policy");
    job top, mid, low;
    atomic_int stop = 0, pause = 1;
    job_open(&top, socket_path, "top", 0, 10);
    job_open(&mid, socket_path, "mid", 0, 5);
    job_open(&low, socket_path, "low", 0, 0);
    check_one_lane(admin, (job *const[]){&top, &mid, &low}, 3);
    mid.stop = low.stop = &stop;
    mid.pause = low.pause = &pause;
    job_start(&mid);
    job_start(&low);
    timed_steps(&top, 10); /* warm-up: caches, and its turnaround measured */

    const int per_round = n / ROUNDS > 0 ? n / ROUNDS : 1;
    double alone = 0, shared = 0, run_alone = 0, run_shared = 0;
    job *top_only[1] = {&top};
    int others = 0;
    for (int r = 0; r < ROUNDS; ++r) {
        while (!atomic_load(&mid.idle) || !atomic_load(&low.idle)) {
            nanosleep(&(struct timespec){.tv_nsec = 200000}, NULL);
        }
        double run0 = run_seconds(admin, top_only, 1);
        alone += timed_steps(&top, per_round);
        run_alone += run_seconds(admin, top_only, 1) - run0;
        atomic_store(&pause, 0);
        while (atomic_load(&mid.idle) || atomic_load(&low.idle)) {
            nanosleep(&(struct timespec){.tv_nsec = 200000}, NULL);
        }
        /* Untimed: the others' requests arrive, and one of theirs may be
         * running when the top job comes back. */
        timed_steps(&top, 2);
        int others_before = atomic_load(&mid.done) + atomic_load(&low.done);
        run0 = run_seconds(admin, top_only, 1);
        shared += timed_steps(&top, per_round);
        run_shared += run_seconds(admin, top_only, 1) - run0;
        others += atomic_load(&mid.done) + atomic_load(&low.done) - others_before;
        atomic_store(&pause, 1);
    }
    atomic_store(&stop, 1);
    pthread_join(mid.thread, NULL);
    pthread_join(low.thread, NULL);

    const int total = per_round * ROUNDS;
    printf("priority: 3 synchronous jobs (priorities 10, 5, 0) on one lane, %d iterations of "
           "the top one alone and %d with the others, in %d alternating rounds\n",
           total, total, ROUNDS);
    printf("  top job alone:               %8.3f ms/iteration (%.3f ms of it running)\n",
           1e3 * alone / total, 1e3 * run_alone / total);
    printf("  top job with the others:     %8.3f ms/iteration (%.3f ms of it running)\n",
           1e3 * shared / total, 1e3 * run_shared / total);
    printf("  others' iterations meanwhile: %d (the top job's share of the lane: %.3f)\n", others,
           (double)total / (total + others));
    printf("  **throughput against alone: %.3f** (target >= 0.95)\n", alone / shared);
    /* Immune to the iteration itself running slower or faster meanwhile. */
    printf("  share of the time the lane runs the top job, against alone: %.3f\n",
           (run_shared / shared) / (run_alone / alone));
    job_close(&low);
    job_close(&mid);
    job_close(&top);
}

static int by_end(const void *a, const void *b) {
    const job *x = *(const job *const *)a, *y = *(const job *const *)b;
    return (x->end_s > y->end_s) - (x->end_s < y->end_s);
}

static void bench_srtf(salus_client *admin, const char *socket_path, int n) {
    CHECK(salus_set_policy(admin, "srtf"), "set policy");
    enum { JOBS = 3 };
    static const char *names[JOBS] = {"long", "medium", "short"};
    const int iterations[JOBS] = {2 * n, n, n / 2};
    job jobs[JOBS];
    /* Admitted longest first: the policy, not arrival, must order them. */
    for (int i = 0; i < JOBS; ++i) {
        job_open(&jobs[i], socket_path, names[i], (uint64_t)iterations[i], 0);
        jobs[i].limit = iterations[i];
    }
    double t0 = bench_now_s();
    for (int i = 0; i < JOBS; ++i) job_start(&jobs[i]);
    for (int i = 0; i < JOBS; ++i) pthread_join(jobs[i].thread, NULL);

    job *order[JOBS];
    for (int i = 0; i < JOBS; ++i) order[i] = &jobs[i];
    qsort(order, JOBS, sizeof order[0], by_end);
    /* Ideal: shortest first, one after another, at this run's speeds: each
     * job takes its own run time in the daemon plus, per iteration, the
     * lane's mean time between iterations in this run (the synchronous
     * client's turnaround, switches). */
    const double makespan = order[JOBS - 1]->end_s - t0;
    double run[JOBS], run_total = 0;
    for (int i = 0; i < JOBS; ++i) {
        job *one[1] = {&jobs[i]};
        run[i] = run_seconds(admin, one, 1);
        run_total += run[i];
    }
    const double between = (makespan - run_total) / (iterations[0] + iterations[1] + iterations[2]);
    double ideal_sum = 0, ideal_end = 0, sum = 0;
    for (int i = JOBS - 1; i >= 0; --i) {
        ideal_end += run[i] + iterations[i] * between;
        ideal_sum += ideal_end;
    }
    printf("srtf: 3 synchronous jobs declaring %d, %d and %d iterations, started together\n",
           iterations[0], iterations[1], iterations[2]);
    printf("  completion order: ");
    for (int i = 0; i < JOBS; ++i) {
        sum += order[i]->end_s - t0;
        printf("%s%s (%.2f s)", i ? ", " : "", order[i]->name, order[i]->end_s - t0);
    }
    printf("; ideal: short, medium, long\n");
    printf("  average JCT %.3f s, ideal %.3f s: **%.3fx the ideal**\n", sum / JOBS,
           ideal_sum / JOBS, sum / ideal_sum);
    for (int i = 0; i < JOBS; ++i) job_close(&jobs[i]);
}

static void bench_pack(salus_client *admin, const char *socket_path, int n) {
    CHECK(salus_set_policy(admin, "pack"), "set policy");
    enum { JOBS = 3 };
    job jobs[JOBS];
    job *all[JOBS];
    atomic_int stop = 0;
    for (int i = 0; i < JOBS; ++i) {
        job_open(&jobs[i], socket_path, "pack", 0, 0);
        jobs[i].stop = &stop;
        all[i] = &jobs[i];
    }
    for (int i = 0; i < JOBS; ++i) job_start(&jobs[i]);
    for (int i = 0; i < JOBS; ++i) wait_done(&jobs[i], 5);
    int before = 0, after = 0;
    for (int i = 0; i < JOBS; ++i) before += atomic_load(&jobs[i].done);
    double run0 = run_seconds(admin, all, JOBS), t0 = bench_now_s();
    wait_done(&jobs[0], 5 + n);
    double run1 = run_seconds(admin, all, JOBS), t1 = bench_now_s();
    for (int i = 0; i < JOBS; ++i) after += atomic_load(&jobs[i].done);
    atomic_store(&stop, 1);
    for (int i = 0; i < JOBS; ++i) pthread_join(jobs[i].thread, NULL);
    printf("pack: 3 equal synchronous jobs on one lane, %d iterations in %.2f s\n", after - before,
           t1 - t0);
    printf("  iterations per job: %d, %d, %d\n", atomic_load(&jobs[0].done),
           atomic_load(&jobs[1].done), atomic_load(&jobs[2].done));
    printf("  **lane idle (no iteration running): %.1f%%** (target < 5%%)\n",
           100.0 * (1.0 - (run1 - run0) / (t1 - t0)));
    for (int i = 0; i < JOBS; ++i) job_close(&jobs[i]);
}

int main(int argc, char **argv) {
    const char *socket_path;
    int n = 200;
    bench_parse_args(argc, argv, &socket_path, &n);
    if (n < 2) n = 2;
    salus_client *admin = bench_connect("bench-sync-policies", socket_path);
    salus_status st;
    CHECK(salus_get_status(admin, &st), "status");
    char policy[sizeof st.policy];
    snprintf(policy, sizeof policy, "%s", st.policy);

    bench_priority(admin, socket_path, n);
    bench_srtf(admin, socket_path, n);
    bench_pack(admin, socket_path, n);

    CHECK(salus_set_policy(admin, policy), "restore the policy");
    salus_disconnect(admin);
    return 0;
}
