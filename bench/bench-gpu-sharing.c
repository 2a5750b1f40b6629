/* Small jobs sharing one GPU through salusd's lanes: 2, 4 and 8 training
 * jobs at once (each on its own connection, session and lane), against the
 * same jobs run one after another, each with the GPU to itself. Prints the
 * aggregate throughput of both and their ratio. Exits 77 with the reason
 * when salusd is not on a GPU.
 *
 *   bench-gpu-sharing --socket SALUSD_SOCKET [--iterations N]
 * salusd should run with --device cuda --max-lanes 8. */
#include "mlp/mlp.h"

#include "client_bench.h"

#include <salus/salus.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHECK(rc, what) bench_check("bench-gpu-sharing", (rc), (what))

enum { MAX_JOBS = 8, SKIP = 77 };

/* A small job: a few hundred microseconds of GPU work per iteration. */
static const mlp_spec kJob = {
    .n_layers = 2, .sizes = {784, 256, 10}, .batch = 32, .lr = 0.01f, .seed = 1, .train = 1};

typedef struct job {
    const char *socket_path;
    int iterations;
    salus_client *client;
    mlp_graph m;
    salus_session *session;
    salus_tensor *in[2];
    pthread_barrier_t *start; /* NULL when it runs alone */
    double seconds;
} job;

static void open_job(job *j, const char *socket_path, int iterations, uint64_t seed) {
    memset(j, 0, sizeof *j);
    j->socket_path = socket_path;
    j->iterations = iterations;
    salus_connect_options opts;
    salus_connect_options_init(&opts, SALUS_CONNECT_OPTIONS_VERSION);
    opts.socket_path = socket_path;
    opts.client_name = "bench-gpu-sharing";
    CHECK(salus_connect(&opts, &j->client), "connect");
    mlp_spec spec = kJob;
    spec.seed = seed;
    CHECK(mlp_build(&spec, &j->m), "build");
    CHECK(salus_session_create(j->client, j->m.graph, NULL, &j->session), "create session");
    mlp_data d;
    CHECK(mlp_data_init(&d, &spec, seed), "data");
    CHECK(mlp_data_tensors(&d, 0, j->in), "data");
    mlp_data_free(&d);
}

static void close_job(job *j) {
    salus_tensor_free(j->in[0]);
    salus_tensor_free(j->in[1]);
    CHECK(salus_session_close(j->session), "close");
    salus_graph_free(j->m.graph);
    salus_disconnect(j->client);
}

static void *run_job(void *arg) {
    job *j = arg;
    const uint32_t ids[2] = {j->m.x, j->m.labels};
    salus_tensor *loss = NULL;
    CHECK(salus_session_run(j->session, ids, (const salus_tensor *const *)j->in, 2, &loss, 1),
          "warm-up");
    salus_tensor_free(loss);
    if (j->start) pthread_barrier_wait(j->start);
    const double t0 = bench_now_s();
    for (int i = 0; i < j->iterations; ++i) {
        CHECK(salus_session_run(j->session, ids, (const salus_tensor *const *)j->in, 2, &loss, 1),
              "run");
        salus_tensor_free(loss);
    }
    j->seconds = bench_now_s() - t0;
    return NULL;
}

int main(int argc, char **argv) {
    const char *socket_path;
    int iterations = 500;
    bench_parse_args(argc, argv, &socket_path, &iterations);
    salus_client *admin = bench_connect("bench-gpu-sharing", socket_path);
    salus_device_info dev;
    CHECK(salus_device_info_init(&dev, SALUS_DEVICE_INFO_VERSION), "device info");
    CHECK(salus_get_device_info(admin, &dev), "device info");
    if (strcmp(dev.type, "cuda") != 0) {
        printf("bench-gpu-sharing: salusd at %s runs on %s, not cuda: nothing to measure\n",
               socket_path, dev.type);
        return SKIP;
    }
    printf("%d small jobs (MLP 784-256-10, batch 32, training), %d iterations each, on %s\n",
           MAX_JOBS, iterations, dev.name);
    printf("  %4s %22s %22s %8s\n", "jobs", "one after another it/s", "sharing (lanes) it/s",
           "ratio");
    for (int n = 2; n <= MAX_JOBS; n *= 2) {
        job jobs[MAX_JOBS];
        /* Exclusive: each job alone, one after the other. */
        double exclusive = 0.0;
        for (int k = 0; k < n; ++k) {
            open_job(&jobs[k], socket_path, iterations, (uint64_t)k + 1);
            run_job(&jobs[k]);
            exclusive += jobs[k].seconds;
            close_job(&jobs[k]);
        }
        /* Shared: all at once, each in its lane. */
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, (unsigned)n);
        pthread_t threads[MAX_JOBS];
        for (int k = 0; k < n; ++k) {
            open_job(&jobs[k], socket_path, iterations, (uint64_t)k + 1);
            jobs[k].start = &start;
        }
        salus_status st;
        CHECK(salus_get_status(admin, &st), "status");
        for (int k = 0; k < n; ++k) pthread_create(&threads[k], NULL, run_job, &jobs[k]);
        double shared = 0.0;
        for (int k = 0; k < n; ++k) {
            pthread_join(threads[k], NULL);
            if (jobs[k].seconds > shared) shared = jobs[k].seconds;
            close_job(&jobs[k]);
        }
        pthread_barrier_destroy(&start);
        const double total = (double)n * iterations;
        printf("  %4d %22.1f %22.1f %7.2fx  (%u lanes)\n", n, total / exclusive, total / shared,
               exclusive / shared, st.lanes);
    }
    salus_disconnect(admin);
    return 0;
}
