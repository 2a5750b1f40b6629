/* Job-switch latency inside salusd: two sessions share one lane, each keeps
 * several tiny iterations queued, so after every iteration the pack policy
 * switches to the other session. The daemon measures each switch, from the
 * end of one session's kernels to the start of the other's (the reply, the
 * accounting and the scheduler's decision in between), and reports the
 * percentiles in its status.
 *
 *   bench-switch --socket PATH [--iterations N]
 * salusd must run with --max-lanes 1 --policy pack. */
#include <salus/salus.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { IN_FLIGHT = 8, ELEMS = 16 };

typedef struct job {
    const char *socket_path;
    int iterations;
    int rc;
} job;

static int check(int rc, const char *what) {
    if (rc < 0) {
        fprintf(stderr, "bench-switch: %s: %s (%s)\n", what, salus_strerror(rc),
                salus_last_error());
        exit(1);
    }
    return rc;
}

static void *run(void *arg) {
    job *j = arg;
    salus_connect_options opts;
    salus_connect_options_init(&opts, SALUS_CONNECT_OPTIONS_VERSION);
    opts.socket_path = j->socket_path;
    salus_client *c = NULL;
    check(salus_connect(&opts, &c), "connect");
    salus_graph *g = NULL;
    check(salus_graph_new(&g), "graph");
    int64_t shape[1] = {ELEMS};
    uint32_t x, y;
    check(salus_graph_add_input(g, "x", SALUS_DTYPE_F32, shape, 1, &x), "input");
    check(salus_graph_add_node(g, "Relu", NULL, &x, 1, 1, &y, NULL), "node");
    check(salus_graph_add_output(g, y), "output");
    salus_session *s = NULL;
    check(salus_session_create(c, g, NULL, &s), "create session");
    salus_graph_free(g);
    salus_tensor *in = NULL;
    check(salus_tensor_new(SALUS_DTYPE_F32, shape, 1, NULL, &in), "tensor");

    salus_pending *ring[IN_FLIGHT] = {0};
    for (int i = 0; i < j->iterations + IN_FLIGHT; ++i) {
        salus_pending **slot = &ring[i % IN_FLIGHT];
        if (*slot) {
            salus_tensor *out = NULL;
            check(salus_pending_wait(*slot, &out, 1), "wait");
            salus_tensor_free(out);
            salus_pending_free(*slot);
            *slot = NULL;
        }
        if (i < j->iterations) {
            check(salus_session_submit(s, &x, (const salus_tensor *const *)&in, 1, slot), "submit");
        }
    }
    salus_tensor_free(in);
    check(salus_session_close(s), "close");
    salus_disconnect(c);
    return NULL;
}

int main(int argc, char **argv) {
    const char *socket_path = NULL;
    int iterations = 20000;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
            socket_path = argv[++i];
        } else if (strcmp(argv[i], "--iterations") == 0 && i + 1 < argc) {
            iterations = atoi(argv[++i]);
        } else {
            socket_path = NULL;
            break;
        }
    }
    if (!socket_path || iterations < 1) {
        fprintf(stderr, "usage: %s --socket PATH [--iterations N]\n", argv[0]);
        return 2;
    }
    salus_connect_options opts;
    salus_connect_options_init(&opts, SALUS_CONNECT_OPTIONS_VERSION);
    opts.socket_path = socket_path;
    salus_client *admin = NULL;
    check(salus_connect(&opts, &admin), "connect");
    salus_status before, after;
    check(salus_get_status(admin, &before), "status");

    job jobs[2] = {{socket_path, iterations, 0}, {socket_path, iterations, 0}};
    pthread_t threads[2];
    for (int i = 0; i < 2; ++i) pthread_create(&threads[i], NULL, run, &jobs[i]);
    for (int i = 0; i < 2; ++i) pthread_join(threads[i], NULL);

    check(salus_get_status(admin, &after), "status");
    salus_disconnect(admin);
    printf("job switch in one lane (policy %s, %u lane(s) now), 2 sessions x %d iterations\n",
           after.policy, after.lanes, iterations);
    printf("  switches measured: %llu\n", (unsigned long long)(after.switches - before.switches));
    printf("  p50 %8.2f us  (target <= 20 us)\n", (double)after.switch_p50_ns / 1000.0);
    printf("  p99 %8.2f us  (target <= 100 us)\n", (double)after.switch_p99_ns / 1000.0);
    return 0;
}
