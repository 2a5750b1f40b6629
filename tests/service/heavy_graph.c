#include "heavy_graph.h"

#include "../capi/daemon_fixture.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* The matrices' side. Under $SALUSD_WRAPPER (valgrind) a smaller one:
 * an 8 MiB input frame there took valgrind's daemon longer than its frame
 * timeout to read while a MatMul ran, and a probe of 1024^3 MatMuls minutes. */
static int64_t side(void) {
    return daemon_fixture_wrapped() ? 256 : 1024;
}

double heavy_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int heavy_open(salus_client *client, uint32_t length, heavy_session *out) {
    memset(out, 0, sizeof *out);
    const int64_t shape[2] = {side(), side()};
    salus_graph *g = NULL;
    int rc = salus_graph_new(&g);
    if (rc == 0) rc = salus_graph_add_input(g, "x", SALUS_DTYPE_F32, shape, 2, &out->x);
    if (rc == 0) rc = salus_graph_add_input(g, "w", SALUS_DTYPE_F32, shape, 2, &out->w);
    uint32_t h = out->x;
    for (uint32_t i = 0; rc == 0 && i < length; ++i) {
        const uint32_t inputs[2] = {h, out->w};
        rc = salus_graph_add_node(g, "MatMul", NULL, inputs, 2, 1, &h, NULL);
    }
    uint32_t sum = 0, node = 0;
    if (rc == 0) rc = salus_graph_add_node(g, "ReduceSum", "sum", &h, 1, 1, &sum, &node);
    if (rc == 0) rc = salus_graph_set_attr_int(g, node, "keepdims", 0);
    if (rc == 0) rc = salus_graph_add_output(g, sum);
    salus_session_options opts;
    salus_session_options_init(&opts, SALUS_SESSION_OPTIONS_VERSION);
    opts.name = "heavy";
    if (rc == 0) rc = salus_session_create(client, g, &opts, &out->session);
    salus_graph_free(g);
    if (rc == 0) rc = salus_tensor_new(SALUS_DTYPE_F32, shape, 2, NULL, &out->xv);
    if (rc == 0) rc = salus_tensor_new(SALUS_DTYPE_F32, shape, 2, NULL, &out->wv);
    if (rc != 0) heavy_close(out);
    return rc;
}

void heavy_close(heavy_session *h) {
    salus_session_close(h->session);
    salus_tensor_free(h->xv);
    salus_tensor_free(h->wv);
    memset(h, 0, sizeof *h);
}

int heavy_submit(heavy_session *h, salus_pending **out) {
    const uint32_t ids[2] = {h->x, h->w};
    const salus_tensor *inputs[2] = {h->xv, h->wv};
    return salus_session_submit(h->session, ids, inputs, 2, out);
}

int heavy_wait(salus_pending *p) {
    salus_tensor *sum = NULL;
    int rc = salus_pending_wait(p, &sum, 1);
    salus_tensor_free(sum);
    return rc;
}

uint32_t heavy_length_for(salus_client *client, double seconds) {
    enum { PROBE = 8 };
    heavy_session h;
    if (heavy_open(client, PROBE, &h) != 0) return 0;
    double per_matmul = 0;
    /* The second run: the first pays for page faults and caches. */
    for (int i = 0; i < 2; ++i) {
        salus_pending *p = NULL;
        double start = heavy_now();
        int rc = heavy_submit(&h, &p);
        if (rc == 0) rc = heavy_wait(p);
        salus_pending_free(p);
        if (rc != 0) {
            heavy_close(&h);
            return 0;
        }
        per_matmul = (heavy_now() - start) / PROBE;
    }
    heavy_close(&h);
    double length = seconds / (per_matmul > 1e-6 ? per_matmul : 1e-6);
    if (length < 1) length = 1;
    if (length > 100000) length = 100000;
    printf("# one %dx%d MatMul takes %.1f ms: %.0f of them for %.1f s\n", (int)side(), (int)side(),
           per_matmul * 1e3, length, seconds);
    return (uint32_t)length;
}
