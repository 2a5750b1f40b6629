/* A live salusd on the GPU (--device cuda), through the C API:
 *  - the foundation's MLP trains to the same losses as on the CPU backend;
 *  - sessions in two lanes run at the same time, each on its own stream;
 *  - the device memory pool is claimed once: the driver's free memory does
 *    not move while sessions come, run and go, convolutions on cuDNN too
 *    (beyond the code CUDA loads at a kernel's first launch);
 *  - a session larger than the pool is refused at admission, and one that
 *    fits runs: nothing takes device memory behind the planner's back.
 * Run through if_gpu.sh, which skips it (77) without a GPU. */
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

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static salus_client *connect_to(const daemon_fixture *f) {
    salus_connect_options opts;
    salus_connect_options_init(&opts, SALUS_CONNECT_OPTIONS_VERSION);
    opts.socket_path = f->socket_path;
    salus_client *c = NULL;
    assert_int_equal(salus_connect(&opts, &c), 0);
    return c;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The daemons a test started, stopped by the teardown when a failed
 * assertion ends the test early: a daemon left holding the GPU's memory
 * would fail every test after it. Fixtures are static for that reason. */
static daemon_fixture *started[4];

static void start_daemon(daemon_fixture *f, const char *const *args) {
    assert_int_equal(daemon_start(f, args), 0);
    for (size_t i = 0; i < sizeof started / sizeof started[0]; ++i) {
        if (!started[i]) {
            started[i] = f;
            return;
        }
    }
    fail_msg("more than four daemons in one test");
}

static int stop_started(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof started / sizeof started[0]; ++i) {
        if (started[i]) daemon_stop(started[i]); /* a second stop does nothing */
        started[i] = NULL;
    }
    return 0;
}

/* Trains `spec` for `steps` steps on the data of seed 11; the loss of
 * every step into losses. */
static void train(const daemon_fixture *f, const mlp_spec *spec, int steps, float *losses) {
    salus_client *c = connect_to(f);
    mlp_graph m;
    assert_int_equal(mlp_build(spec, &m), 0);
    salus_session *s = NULL;
    assert_int_equal(salus_session_create(c, m.graph, NULL, &s), 0);
    mlp_data d;
    assert_int_equal(mlp_data_init(&d, spec, 11), 0);
    const uint32_t ids[2] = {m.x, m.labels};
    for (int i = 0; i < steps; ++i) {
        salus_tensor *in[2], *loss = NULL;
        assert_int_equal(mlp_data_tensors(&d, (uint64_t)i, in), 0);
        assert_int_equal(salus_session_run(s, ids, (const salus_tensor *const *)in, 2, &loss, 1),
                         0);
        losses[i] = *(const float *)salus_tensor_const_data(loss);
        salus_tensor_free(loss);
        salus_tensor_free(in[0]);
        salus_tensor_free(in[1]);
    }
    mlp_data_free(&d);
    assert_int_equal(salus_session_close(s), 0);
    salus_graph_free(m.graph);
    salus_disconnect(c);
}

/* The MLP of the benchmarks (784-1024-1024-10, batch 64) for 100 SGD steps
 * on both backends. Both compute in f32 but sum in different orders
 * (OpenBLAS against cuBLAS, sequential against block reductions): a step
 * differs by about 1e-6 relative, and the difference grows slowly through
 * training. 1e-3 relative (1e-5 absolute near zero) leaves two orders of
 * magnitude of headroom, while a wrong gradient or a mistransposed GEMM
 * moves the losses by 1e-1 within a few steps. */
static void mlp_trains_to_the_losses_of_the_cpu(void **state) {
    (void)state;
    enum { STEPS = 100 };
    const mlp_spec spec = {.n_layers = 3,
                           .sizes = {784, 1024, 1024, 10},
                           .batch = 64,
                           .lr = 0.05f,
                           .seed = 7,
                           .train = 1};
    static daemon_fixture cpu, gpu;
    const char *cpu_args[] = {"--device", "cpu", NULL};
    start_daemon(&gpu, NULL); /* SALUS_TEST_DEVICE=cuda */
    start_daemon(&cpu, cpu_args);
    float on_cpu[STEPS], on_gpu[STEPS];
    train(&cpu, &spec, STEPS, on_cpu);
    train(&gpu, &spec, STEPS, on_gpu);
    double worst = 0.0;
    for (int i = 0; i < STEPS; ++i) {
        const double diff = fabs((double)on_gpu[i] - on_cpu[i]);
        const double rel = diff / fmax(fabs((double)on_cpu[i]), 1e-2);
        if (rel > worst) worst = rel;
        if (!(diff <= 1e-3 * fabs((double)on_cpu[i]) + 1e-5)) {
            fail_msg("step %d: loss %.9g on the GPU, %.9g on the CPU", i, on_gpu[i], on_cpu[i]);
        }
    }
    printf("# losses %.6g -> %.6g (CPU %.6g -> %.6g), worst relative difference %.3g\n", on_gpu[0],
           on_gpu[STEPS - 1], on_cpu[0], on_cpu[STEPS - 1], worst);
    assert_true(on_gpu[STEPS - 1] < 0.5f * on_gpu[0]); /* it learned */
    assert_int_equal(daemon_stop(&cpu), 0);
    assert_int_equal(daemon_stop(&gpu), 0);
}

/* x [1, 2^20] -> 100 Softmax (one block each) -> ReduceSum: tens of
 * milliseconds on one multiprocessor, so two of them fit the GPU at once. */
typedef struct chain_job {
    const daemon_fixture *daemon;
    int iterations;
    double seconds;
    uint64_t lane;
} chain_job;

static void *run_chain(void *arg) {
    chain_job *j = arg;
    enum { LINE = 1 << 20, CHAIN = 100 };
    salus_client *c = connect_to(j->daemon);
    salus_graph *g = NULL;
    assert_int_equal(salus_graph_new(&g), 0);
    const int64_t shape[2] = {1, LINE};
    uint32_t x = 0, t = 0, node = 0, y = 0, bias = 0;
    assert_int_equal(salus_graph_add_input(g, "x", SALUS_DTYPE_F32, shape, 2, &x), 0);
    /* A variable gives the session persistent memory, so that a second one
     * does not fit in the first's lane (exactly P + T) and opens its own:
     * sessions of P = 0 and the same T share one lane. */
    assert_int_equal(salus_graph_add_variable(g, "bias", SALUS_DTYPE_F32, shape, 2, NULL, 0, &bias),
                     0);
    const uint32_t add_in[2] = {x, bias};
    assert_int_equal(salus_graph_add_node(g, "Add", NULL, add_in, 2, 1, &t, NULL), 0);
    for (int i = 0; i < CHAIN; ++i) {
        uint32_t next = 0;
        assert_int_equal(salus_graph_add_node(g, "Softmax", NULL, &t, 1, 1, &next, &node), 0);
        assert_int_equal(salus_graph_set_attr_int(g, node, "axis", 1), 0);
        t = next;
    }
    assert_int_equal(salus_graph_add_node(g, "ReduceSum", NULL, &t, 1, 1, &y, NULL), 0);
    assert_int_equal(salus_graph_add_output(g, y), 0);
    salus_session *s = NULL;
    assert_int_equal(salus_session_create(c, g, NULL, &s), 0);
    salus_tensor *in = NULL, *out = NULL;
    assert_int_equal(salus_tensor_new(SALUS_DTYPE_F32, shape, 2, NULL, &in), 0);
    const salus_tensor *inputs[1] = {in};
    assert_int_equal(salus_session_run(s, &x, inputs, 1, &out, 1), 0); /* warm */
    salus_tensor_free(out);
    const double t0 = now_s();
    for (int i = 0; i < j->iterations; ++i) {
        assert_int_equal(salus_session_run(s, &x, inputs, 1, &out, 1), 0);
        /* Softmax rows sum to 1. */
        assert_true(fabsf(*(const float *)salus_tensor_const_data(out) - 1.0f) < 1e-3f);
        salus_tensor_free(out);
    }
    j->seconds = now_s() - t0;
    salus_session_info infos[8];
    size_t n = 0;
    assert_int_equal(salus_list_sessions(c, infos, 8, &n), 0);
    for (size_t i = 0; i < n && i < 8; ++i) {
        if (infos[i].session_id == salus_session_id(s)) j->lane = infos[i].lane;
    }
    salus_tensor_free(in);
    assert_int_equal(salus_session_close(s), 0);
    salus_graph_free(g);
    salus_disconnect(c);
    return NULL;
}

static void two_lanes_run_at_the_same_time(void **state) {
    (void)state;
    static daemon_fixture f;
    const char *args[] = {"--max-lanes", "2", NULL};
    start_daemon(&f, args);
    enum { ITERATIONS = 10 };
    chain_job alone = {.daemon = &f, .iterations = ITERATIONS};
    run_chain(&alone);

    /* Two sessions, two lanes, two streams. */
    chain_job both[2] = {{.daemon = &f, .iterations = ITERATIONS},
                         {.daemon = &f, .iterations = ITERATIONS}};
    pthread_t threads[2];
    for (int i = 0; i < 2; ++i) {
        assert_int_equal(pthread_create(&threads[i], NULL, run_chain, &both[i]), 0);
    }
    /* While they run: two lanes, each naming its own CUDA stream. */
    salus_client *c = connect_to(&f);
    salus_lane_info lanes[4];
    size_t n = 0;
    for (int waited = 0; n < 2; waited += 10) {
        assert_true(waited < 20000);
        assert_int_equal(salus_list_lanes(c, lanes, 4, &n), 0);
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(n, 2);
    assert_non_null(strstr(lanes[0].stream, "cuda stream "));
    assert_non_null(strstr(lanes[1].stream, "cuda stream "));
    assert_string_not_equal(lanes[0].stream, lanes[1].stream);
    for (int i = 0; i < 2; ++i) assert_int_equal(pthread_join(threads[i], NULL), 0);
    assert_true(both[0].lane != both[1].lane);
    const double together = fmax(both[0].seconds, both[1].seconds);
    printf("# %d iterations alone %.3f s; two sessions at once %.3f s and %.3f s\n", ITERATIONS,
           alone.seconds, both[0].seconds, both[1].seconds);
    /* One after the other would take twice as long. */
    assert_true(together < 1.5 * alone.seconds);
    salus_disconnect(c);
    assert_int_equal(daemon_stop(&f), 0);
}

static uint64_t device_free(salus_client *c) {
    salus_device_info info;
    assert_int_equal(salus_device_info_init(&info, SALUS_DEVICE_INFO_VERSION), 0);
    assert_int_equal(salus_get_device_info(c, &info), 0);
    assert_string_equal(info.type, "cuda");
    return info.free_bytes;
}

/* The driver's free memory, which sessions must not move: the first launch
 * of a kernel may take a little for its code (CUDA loads modules lazily, in
 * 2 MiB steps: seen on an H200 with CUDA 13), far less than the tensors of
 * the sessions here; once each kernel has run, nothing moves at all. */
static void expect_free_unmoved(salus_client *c, uint64_t *free_now, int first_launches) {
    enum { CODE_SLACK = 8 << 20 };
    const uint64_t now = device_free(c);
    if (!first_launches) {
        assert_int_equal(now, *free_now);
        return;
    }
    assert_true(now <= *free_now);
    if (*free_now - now > 0) {
        printf("# kernel code loaded on first launch: %llu KiB\n",
               (unsigned long long)((*free_now - now) >> 10));
    }
    assert_true(*free_now - now <= CODE_SLACK);
    *free_now = now;
}

static void pool_is_claimed_once(void **state) {
    (void)state;
    static daemon_fixture f;
    start_daemon(&f, NULL); /* the default pool: free - reserve */
    salus_client *c = connect_to(&f);
    uint64_t free_now = device_free(c);
    printf("# device free memory with the pool claimed: %llu MiB\n",
           (unsigned long long)(free_now >> 20));
    const mlp_spec specs[3] = {
        {.n_layers = 2, .sizes = {64, 128, 10}, .batch = 16, .lr = 0.1f, .seed = 1, .train = 1},
        {.n_layers = 3,
         .sizes = {784, 1024, 1024, 10},
         .batch = 64,
         .lr = 0.1f,
         .seed = 2,
         .train = 1},
        {.n_layers = 2, .sizes = {256, 512, 10}, .batch = 32, .lr = 0.1f, .seed = 3, .train = 1},
    };
    for (int round = 0; round < 2; ++round) {
        float losses[5];
        for (int i = 0; i < 3; ++i) {
            train(&f, &specs[i], 5, losses);
            expect_free_unmoved(c, &free_now, round == 0);
        }
    }
    salus_disconnect(c);
    assert_int_equal(daemon_stop(&f), 0);
}

/* A conv session (Conv with bias, ConvTranspose, ConvGradWeight with dB) on
 * cuDNN takes no device memory beyond the pool: the lanes' handles loaded
 * cuDNN's convolution libraries before the pool was claimed, algorithms are
 * chosen without running anything, and workspaces lie in T. */
static void conv_sessions_take_no_device_memory(void **state) {
    (void)state;
    static daemon_fixture f;
    start_daemon(&f, NULL);
    salus_client *c = connect_to(&f);
    uint64_t free_now = device_free(c);

    static float w[8 * 3 * 3 * 3], b[8];
    for (size_t i = 0; i < sizeof w / sizeof w[0]; ++i) w[i] = (float)((int)(i % 7) - 3) * 0.1f;
    for (size_t i = 0; i < 8; ++i) b[i] = 0.01f * (float)i;
    const int64_t xs[4] = {8, 3, 16, 16}, ws[4] = {8, 3, 3, 3}, bs[1] = {8};
    const int64_t pads[4] = {1, 1, 1, 1}, k[2] = {3, 3};
    salus_graph *g = NULL;
    assert_int_equal(salus_graph_new(&g), 0);
    uint32_t x, wt, bt, y, z, grads[2], node;
    assert_int_equal(salus_graph_add_input(g, "x", SALUS_DTYPE_F32, xs, 4, &x), 0);
    assert_int_equal(salus_graph_add_variable(g, "w", SALUS_DTYPE_F32, ws, 4, w, sizeof w, &wt), 0);
    assert_int_equal(salus_graph_add_variable(g, "b", SALUS_DTYPE_F32, bs, 1, b, sizeof b, &bt), 0);
    const uint32_t conv_in[3] = {x, wt, bt};
    assert_int_equal(salus_graph_add_node(g, "Conv", "conv", conv_in, 3, 1, &y, &node), 0);
    assert_int_equal(salus_graph_set_attr_ints(g, node, "pads", pads, 4), 0);
    const uint32_t tconv_in[2] = {y, wt};
    assert_int_equal(salus_graph_add_node(g, "ConvTranspose", "tconv", tconv_in, 2, 1, &z, &node),
                     0);
    assert_int_equal(salus_graph_set_attr_ints(g, node, "pads", pads, 4), 0);
    const uint32_t gw_in[2] = {y, x};
    assert_int_equal(salus_graph_add_node(g, "ConvGradWeight", "gw", gw_in, 2, 2, grads, &node), 0);
    assert_int_equal(salus_graph_set_attr_ints(g, node, "pads", pads, 4), 0);
    assert_int_equal(salus_graph_set_attr_ints(g, node, "kernel_shape", k, 2), 0);
    assert_int_equal(salus_graph_add_output(g, z), 0);
    assert_int_equal(salus_graph_add_output(g, grads[0]), 0);
    assert_int_equal(salus_graph_add_output(g, grads[1]), 0);

    salus_session *s = NULL;
    assert_int_equal(salus_session_create(c, g, NULL, &s), 0);
    salus_tensor *in = NULL;
    assert_int_equal(salus_tensor_new(SALUS_DTYPE_F32, xs, 4, NULL, &in), 0);
    float *xv = salus_tensor_data(in);
    for (size_t i = 0; i < 8 * 3 * 16 * 16; ++i) xv[i] = (float)((int)(i % 11) - 5) * 0.1f;
    for (int step = 0; step < 3; ++step) {
        salus_tensor *out[3] = {NULL, NULL, NULL};
        assert_int_equal(salus_session_run(s, &x, (const salus_tensor *const *)&in, 1, out, 3), 0);
        for (int i = 0; i < 3; ++i) {
            const float *v = salus_tensor_const_data(out[i]);
            for (size_t e = 0; e < salus_tensor_nbytes(out[i]) / sizeof(float); ++e) {
                assert_true(isfinite(v[e]));
            }
            salus_tensor_free(out[i]);
        }
        expect_free_unmoved(c, &free_now, step == 0);
    }
    salus_tensor_free(in);
    assert_int_equal(salus_session_close(s), 0);
    salus_graph_free(g);
    salus_disconnect(c);
    assert_int_equal(daemon_stop(&f), 0);
}

static void oversized_session_is_refused_at_admission(void **state) {
    (void)state;
    static daemon_fixture f;
    const char *args[] = {"--pool-bytes", "64M", NULL};
    start_daemon(&f, args);
    salus_client *c = connect_to(&f);

    /* P 8.5 MB, T about 14 MB with cuBLAS's 4 MiB workspace: fits, and runs. */
    const mlp_spec fits = {
        .n_layers = 2, .sizes = {1024, 2048, 10}, .batch = 64, .lr = 0.01f, .seed = 4, .train = 1};
    mlp_graph m;
    assert_int_equal(mlp_build(&fits, &m), 0);
    salus_session *s = NULL;
    assert_int_equal(salus_session_create(c, m.graph, NULL, &s), 0);
    assert_true(salus_session_ephemeral_bytes(s) > (4u << 20));
    assert_true(salus_session_persistent_bytes(s) + salus_session_ephemeral_bytes(s) <=
                (64u << 20));
    salus_graph_free(m.graph);
    assert_int_equal(salus_session_close(s), 0);
    float losses[3];
    train(&f, &fits, 3, losses);

    /* P alone (a 4096 x 4096 weight is 64 MiB) over the pool: refused at
     * once, never queued. */
    const mlp_spec huge = {
        .n_layers = 2, .sizes = {4096, 4096, 10}, .batch = 64, .lr = 0.01f, .seed = 5, .train = 1};
    assert_int_equal(mlp_build(&huge, &m), 0);
    s = NULL;
    assert_int_equal(salus_session_create(c, m.graph, NULL, &s), SALUS_ERESOURCE);
    assert_null(s);
    assert_non_null(strstr(salus_client_last_error(c), "pool"));
    salus_graph_free(m.graph);
    salus_disconnect(c);
    assert_int_equal(daemon_stop(&f), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(mlp_trains_to_the_losses_of_the_cpu, stop_started),
        cmocka_unit_test_teardown(two_lanes_run_at_the_same_time, stop_started),
        cmocka_unit_test_teardown(pool_is_claimed_once, stop_started),
        cmocka_unit_test_teardown(conv_sessions_take_no_device_memory, stop_started),
        cmocka_unit_test_teardown(oversized_session_is_refused_at_admission, stop_started),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
