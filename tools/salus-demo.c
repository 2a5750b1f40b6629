/* salus-demo: several jobs share one salusd at the same time.
 *
 * Two training jobs of different sizes and one inference job each open their
 * own connection and session, run their iterations concurrently, print their
 * progress, and a summary at the end.
 *
 *   salus-demo [--socket PATH]
 */
#include "mlp/mlp.h"

#include <salus/salus.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct job {
    const char *name;
    mlp_spec spec;
    uint64_t iterations;
    uint64_t report_every;
    const char *socket_path;
    /* results */
    int rc;
    char error[256];
    uint64_t done;
    double wall_s;
    uint64_t persistent, ephemeral;
    float first_metric, last_metric;
} job;

static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void fail(job *j, int rc, const char *what) {
    j->rc = rc;
    snprintf(j->error, sizeof j->error, "%s: %s (%s)", what, salus_strerror(rc),
             salus_last_error());
}

/* Training reports the loss; inference the mean top-class probability. */
static float metric(const job *j, salus_tensor *out) {
    const float *v = salus_tensor_const_data(out);
    if (j->spec.train) return v[0];
    int64_t rows = salus_tensor_dim(out, 0), cols = salus_tensor_dim(out, 1);
    double sum = 0.0;
    for (int64_t r = 0; r < rows; ++r) {
        float best = 0.0f;
        for (int64_t c = 0; c < cols; ++c)
            if (v[r * cols + c] > best) best = v[r * cols + c];
        sum += best;
    }
    return (float)(sum / (double)rows);
}

static void *run_job(void *arg) {
    job *j = arg;
    salus_client *client = NULL;
    salus_session *session = NULL;
    mlp_graph m = {0};
    mlp_data data = {0};
    salus_connect_options copts;
    salus_connect_options_init(&copts, SALUS_CONNECT_OPTIONS_VERSION);
    copts.socket_path = j->socket_path;
    copts.client_name = j->name;

    int rc = salus_connect(&copts, &client);
    if (rc < 0) {
        fail(j, rc, "connect");
        return NULL;
    }
    if ((rc = mlp_build(&j->spec, &m)) < 0 || (rc = mlp_data_init(&data, &j->spec, 7)) < 0) {
        fail(j, rc, "build graph");
        goto out;
    }
    salus_session_options sopts;
    salus_session_options_init(&sopts, SALUS_SESSION_OPTIONS_VERSION);
    sopts.name = j->name;
    sopts.declared_iterations = j->iterations;
    if ((rc = salus_session_create(client, m.graph, &sopts, &session)) < 0) {
        fail(j, rc, "create session");
        goto out;
    }
    j->persistent = salus_session_persistent_bytes(session);
    j->ephemeral = salus_session_ephemeral_bytes(session);

    uint32_t ids[2] = {m.x, m.labels};
    double start = now_s();
    for (uint64_t it = 0; it < j->iterations; ++it) {
        salus_tensor *in[2] = {NULL, NULL}, *out = NULL;
        if ((rc = mlp_data_tensors(&data, it, in)) < 0) {
            fail(j, rc, "make batch");
            goto out;
        }
        rc = salus_session_run(session, ids, (const salus_tensor *const *)in, m.n_inputs, &out, 1);
        salus_tensor_free(in[0]);
        salus_tensor_free(in[1]);
        if (rc < 0) {
            fail(j, rc, "run iteration");
            goto out;
        }
        float v = metric(j, out);
        salus_tensor_free(out);
        if (it == 0) j->first_metric = v;
        j->last_metric = v;
        j->done = it + 1;
        if (j->done % j->report_every == 0 || j->done == j->iterations) {
            pthread_mutex_lock(&print_lock);
            printf("[%-11s] iteration %4llu/%llu  %s %.4f\n", j->name, (unsigned long long)j->done,
                   (unsigned long long)j->iterations, j->spec.train ? "loss" : "confidence", v);
            fflush(stdout);
            pthread_mutex_unlock(&print_lock);
        }
    }
    j->wall_s = now_s() - start;

out:
    if (session && (rc = salus_session_close(session)) < 0 && j->rc == 0) fail(j, rc, "close");
    mlp_data_free(&data);
    salus_graph_free(m.graph);
    salus_disconnect(client);
    return NULL;
}

/* Bytes in the largest binary unit that keeps the number at least 1. */
static const char *human(uint64_t bytes, char *buf, size_t n) {
    static const char *units[] = {"B", "KiB", "MiB", "GiB"};
    double v = (double)bytes;
    size_t u = 0;
    while (v >= 1024.0 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1024.0;
        ++u;
    }
    snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", v, units[u]);
    return buf;
}

int main(int argc, char **argv) {
    const char *socket_path = NULL;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
            socket_path = argv[++i];
        } else {
            fprintf(stderr, "usage: %s [--socket PATH]\n", argv[0]);
            return 2;
        }
    }

    job jobs[3] = {
        {.name = "train-small",
         .spec = {.n_layers = 2,
                  .sizes = {64, 128, 10},
                  .batch = 32,
                  .lr = 0.05f,
                  .seed = 1,
                  .train = 1},
         .iterations = 400,
         .report_every = 50},
        {.name = "train-large",
         .spec = {.n_layers = 3,
                  .sizes = {256, 512, 512, 10},
                  .batch = 64,
                  .lr = 0.02f,
                  .seed = 2,
                  .train = 1},
         .iterations = 200,
         .report_every = 25},
        {.name = "infer",
         .spec = {.n_layers = 2, .sizes = {64, 256, 10}, .batch = 1, .seed = 3, .train = 0},
         .iterations = 1000,
         .report_every = 125},
    };
    size_t n = sizeof jobs / sizeof jobs[0];
    pthread_t threads[3];
    printf("salus-demo: %zu jobs sharing salusd\n", n);
    for (size_t i = 0; i < n; ++i) {
        jobs[i].socket_path = socket_path;
        pthread_create(&threads[i], NULL, run_job, &jobs[i]);
    }
    for (size_t i = 0; i < n; ++i) pthread_join(threads[i], NULL);

    int status = 0;
    char p[32], t[32];
    printf("\n%-12s %10s %9s %12s %12s  %s\n", "job", "iterations", "wall (s)", "P", "T",
           "first -> last");
    for (size_t i = 0; i < n; ++i) {
        job *j = &jobs[i];
        printf("%-12s %10llu %9.2f %12s %12s  %s %.4f -> %.4f\n", j->name,
               (unsigned long long)j->done, j->wall_s, human(j->persistent, p, sizeof p),
               human(j->ephemeral, t, sizeof t), j->spec.train ? "loss" : "confidence",
               j->first_metric, j->last_metric);
        if (j->rc < 0) {
            fprintf(stderr, "salus-demo: %s failed: %s\n", j->name, j->error);
            status = 1;
        }
    }
    return status;
}
