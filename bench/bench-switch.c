/* Job-switch latency inside salusd: two sessions share one lane, each keeps
 * several tiny iterations queued, so after every iteration the pack policy
 * switches to the other session. The daemon measures each switch, from the
 * end of one session's kernels to the start of the other's (the reply, the
 * accounting and the scheduler's decision in between), and reports the
 * percentiles in its status.
 *
 *   bench-switch --socket PATH [--iterations N]
 * salusd must run with --max-lanes 1 --policy pack. */
#include "client_bench.h"

#include <salus/salus.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(rc, what) bench_check("bench-switch", (rc), (what))

enum { IN_FLIGHT = 8, ELEMS = 16 };

typedef struct job {
    const char *socket_path;
    int iterations;
    int rc;
} job;

static void *run(void *arg) {
    job *j = arg;
    salus_client *c = bench_connect("bench-switch", j->socket_path);
    salus_graph *g = NULL;
    CHECK(salus_graph_new(&g), "graph");
    int64_t shape[1] = {ELEMS};
    uint32_t x, y;
    CHECK(salus_graph_add_input(g, "x", SALUS_DTYPE_F32, shape, 1, &x), "input");
    CHECK(salus_graph_add_node(g, "Relu", NULL, &x, 1, 1, &y, NULL), "node");
    CHECK(salus_graph_add_output(g, y), "output");
    salus_session *s = NULL;
    CHECK(salus_session_create(c, g, NULL, &s), "create session");
    salus_graph_free(g);
    salus_tensor *in = NULL;
    CHECK(salus_tensor_new(SALUS_DTYPE_F32, shape, 1, NULL, &in), "tensor");

    salus_pending *ring[IN_FLIGHT] = {0};
    for (int i = 0; i < j->iterations + IN_FLIGHT; ++i) {
        salus_pending **slot = &ring[i % IN_FLIGHT];
        if (*slot) {
            salus_tensor *out = NULL;
            CHECK(salus_pending_wait(*slot, &out, 1), "wait");
            salus_tensor_free(out);
            salus_pending_free(*slot);
            *slot = NULL;
        }
        if (i < j->iterations) {
            CHECK(salus_session_submit(s, &x, (const salus_tensor *const *)&in, 1, slot), "submit");
        }
    }
    salus_tensor_free(in);
    CHECK(salus_session_close(s), "close");
    salus_disconnect(c);
    return NULL;
}

int main(int argc, char **argv) {
    const char *socket_path;
    int iterations = 20000;
    bench_parse_args(argc, argv, &socket_path, &iterations);
    salus_client *admin = bench_connect("bench-switch", socket_path);
    salus_status before, after;
    CHECK(salus_get_status(admin, &before), "status");

    job jobs[2] = {{socket_path, iterations, 0}, {socket_path, iterations, 0}};
    pthread_t threads[2];
    for (int i = 0; i < 2; ++i) pthread_create(&threads[i], NULL, run, &jobs[i]);
    for (int i = 0; i < 2; ++i) pthread_join(threads[i], NULL);

    CHECK(salus_get_status(admin, &after), "status");
    salus_disconnect(admin);
    printf("job switch in one lane (policy %s, %u lane(s) now), 2 sessions x %d iterations\n",
           after.policy, after.lanes, iterations);
    printf("  switches measured: %llu\n", (unsigned long long)(after.switches - before.switches));
    printf("  p50 %8.2f us  (target <= 20 us)\n", (double)after.switch_p50_ns / 1000.0);
    printf("  p99 %8.2f us  (target <= 100 us)\n", (double)after.switch_p99_ns / 1000.0);
    return 0;
}
