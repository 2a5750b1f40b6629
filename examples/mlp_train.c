/* SPDX-License-Identifier: MIT */
/*
 * mlp_train: trains a small multi-layer perceptron on salusd.
 *
 * The whole training step (forward pass, loss, backward pass and SGD update)
 * is one graph, sent to the daemon once. Every iteration then only feeds a
 * batch of inputs and labels and gets the loss back; the weights stay on the
 * daemon's device between iterations.
 *
 *     mlp_train [SOCKET]
 *
 * SOCKET defaults to $SALUS_SOCKET, else the daemon's default socket.
 */
#include <salus/salus.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The model and the data set. */
enum {
    BATCH = 64,     /* samples per iteration */
    IN = 8,         /* input features */
    HIDDEN = 32,    /* hidden units */
    CLASSES = 4,    /* output classes */
    SAMPLES = 1024, /* size of the synthetic data set */
    ITERATIONS = 200,
};
static const double LEARNING_RATE = 0.1;

/* Prints why a libsalus call failed and jumps to the cleanup code. */
#define CHECK(call)                                                                                \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_ < 0) {                                                                             \
            fprintf(stderr, "%s:%d: %s: %s (%s)\n", __FILE__, __LINE__, #call,                     \
                    salus_strerror(rc_), salus_last_error());                                      \
            goto out;                                                                              \
        }                                                                                          \
    } while (0)

/* ---- a tiny seeded random generator, so every run is the same ---------- */

static uint64_t rng_state = 42;

static double uniform(void) { /* in [0, 1) */
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng_state >> 11) * (1.0 / 9007199254740992.0);
}

static double gaussian(void) { /* Box-Muller */
    double u = uniform(), v = uniform();
    return sqrt(-2.0 * log(1.0 - u)) * cos(6.283185307179586 * v);
}

/* Glorot-uniform initial weights; biases start at zero. */
static void init_weights(float *w, size_t fan_in, size_t fan_out) {
    double limit = sqrt(6.0 / (double)(fan_in + fan_out));
    for (size_t i = 0; i < fan_in * fan_out; ++i) w[i] = (float)((2.0 * uniform() - 1.0) * limit);
}

/* Gaussian blobs: class c is drawn around its own random centre. Labels are
 * one-hot rows, as SoftmaxCrossEntropy expects. */
static void make_dataset(float *x, float *labels) {
    float centres[CLASSES][IN];
    for (int c = 0; c < CLASSES; ++c)
        for (int j = 0; j < IN; ++j) centres[c][j] = (float)(3.0 * gaussian());
    memset(labels, 0, sizeof(float) * SAMPLES * CLASSES);
    for (int i = 0; i < SAMPLES; ++i) {
        int c = (int)(uniform() * CLASSES);
        for (int j = 0; j < IN; ++j) x[i * IN + j] = centres[c][j] + (float)gaussian();
        labels[i * CLASSES + c] = 1.0f;
    }
}

/* ---- graph construction helpers ---------------------------------------- */

/* Adds a node with one output and returns the output's tensor id. */
static int node1(salus_graph *g, const char *op, const char *name, const uint32_t *inputs,
                 size_t n_inputs, uint32_t *out, uint32_t *node) {
    return salus_graph_add_node(g, op, name, inputs, n_inputs, 1, out, node);
}

/* ReduceSum over the batch axis: the gradient of a broadcast bias. */
static int sum_batch(salus_graph *g, const char *name, uint32_t x, uint32_t *out) {
    static const int64_t axes[] = {0};
    uint32_t node;
    int rc = node1(g, "ReduceSum", name, &x, 1, out, &node);
    if (rc == 0) rc = salus_graph_set_attr_ints(g, node, "axes", axes, 1);
    if (rc == 0) rc = salus_graph_set_attr_int(g, node, "keepdims", 0);
    return rc;
}

/* MatMul with optional transposes. */
static int matmul(salus_graph *g, const char *name, uint32_t a, uint32_t b, int trans_a,
                  int trans_b, uint32_t *out) {
    uint32_t inputs[] = {a, b}, node;
    int rc = node1(g, "MatMul", name, inputs, 2, out, &node);
    if (rc == 0 && trans_a) rc = salus_graph_set_attr_int(g, node, "transA", 1);
    if (rc == 0 && trans_b) rc = salus_graph_set_attr_int(g, node, "transB", 1);
    return rc;
}

/* var -= LEARNING_RATE * grad, in place on the daemon. */
static int sgd(salus_graph *g, const char *name, uint32_t var, uint32_t grad) {
    uint32_t inputs[] = {var, grad}, node;
    int rc = salus_graph_add_node(g, "SGDUpdate", name, inputs, 2, 0, NULL, &node);
    if (rc == 0) rc = salus_graph_set_attr_float(g, node, "lr", LEARNING_RATE);
    return rc;
}

int main(int argc, char **argv) {
    int status = EXIT_FAILURE;
    salus_client *client = NULL;
    salus_graph *g = NULL;
    salus_session *session = NULL;
    salus_tensor *x_batch = NULL, *y_batch = NULL;
    float *data_x = malloc(sizeof(float) * SAMPLES * IN);
    float *data_y = malloc(sizeof(float) * SAMPLES * CLASSES);
    static float w1[IN * HIDDEN], b1[HIDDEN], w2[HIDDEN * CLASSES], b2[CLASSES];
    if (!data_x || !data_y) {
        fprintf(stderr, "out of memory\n");
        goto out;
    }
    make_dataset(data_x, data_y);
    init_weights(w1, IN, HIDDEN);
    init_weights(w2, HIDDEN, CLASSES);

    /* Connect. opts.socket_path NULL means $SALUS_SOCKET or the default. */
    salus_connect_options copts;
    CHECK(salus_connect_options_init(&copts, SALUS_CONNECT_OPTIONS_VERSION));
    copts.socket_path = argc > 1 ? argv[1] : NULL;
    copts.client_name = "mlp_train";
    CHECK(salus_connect(&copts, &client));

    /* Inputs fed every iteration, and the persistent variables. */
    CHECK(salus_graph_new(&g));
    const int64_t x_shape[] = {BATCH, IN}, y_shape[] = {BATCH, CLASSES};
    const int64_t w1_shape[] = {IN, HIDDEN}, b1_shape[] = {HIDDEN};
    const int64_t w2_shape[] = {HIDDEN, CLASSES}, b2_shape[] = {CLASSES};
    uint32_t x, y, W1, B1, W2, B2;
    CHECK(salus_graph_add_input(g, "x", SALUS_DTYPE_F32, x_shape, 2, &x));
    CHECK(salus_graph_add_input(g, "labels", SALUS_DTYPE_F32, y_shape, 2, &y));
    CHECK(salus_graph_add_variable(g, "W1", SALUS_DTYPE_F32, w1_shape, 2, w1, sizeof(w1), &W1));
    CHECK(salus_graph_add_variable(g, "b1", SALUS_DTYPE_F32, b1_shape, 1, b1, sizeof(b1), &B1));
    CHECK(salus_graph_add_variable(g, "W2", SALUS_DTYPE_F32, w2_shape, 2, w2, sizeof(w2), &W2));
    CHECK(salus_graph_add_variable(g, "b2", SALUS_DTYPE_F32, b2_shape, 1, b2, sizeof(b2), &B2));

    /* Forward: logits = relu(x W1 + b1) W2 + b2; loss = cross-entropy. */
    uint32_t h1, z1, a1, h2, logits, loss;
    CHECK(matmul(g, "fc1", x, W1, 0, 0, &h1));
    CHECK(node1(g, "Add", "fc1_bias", (uint32_t[]){h1, B1}, 2, &z1, NULL));
    CHECK(node1(g, "Relu", "relu1", &z1, 1, &a1, NULL));
    CHECK(matmul(g, "fc2", a1, W2, 0, 0, &h2));
    CHECK(node1(g, "Add", "fc2_bias", (uint32_t[]){h2, B2}, 2, &logits, NULL));
    CHECK(node1(g, "SoftmaxCrossEntropy", "loss", (uint32_t[]){logits, y}, 2, &loss, NULL));
    CHECK(salus_graph_add_output(g, loss));

    /* Backward, layer by layer (the gradient of the loss is 1). */
    uint32_t dlogits, dW2, db2, da1, dz1, dW1, db1;
    CHECK(
        node1(g, "SoftmaxCrossEntropyGrad", "dlogits", (uint32_t[]){logits, y}, 2, &dlogits, NULL));
    CHECK(matmul(g, "dW2", a1, dlogits, 1, 0, &dW2)); /* a1^T dlogits */
    CHECK(sum_batch(g, "db2", dlogits, &db2));
    CHECK(matmul(g, "da1", dlogits, W2, 0, 1, &da1)); /* dlogits W2^T */
    CHECK(node1(g, "ReluGrad", "dz1", (uint32_t[]){da1, z1}, 2, &dz1, NULL));
    CHECK(matmul(g, "dW1", x, dz1, 1, 0, &dW1)); /* x^T dz1 */
    CHECK(sum_batch(g, "db1", dz1, &db1));

    /* Updates; the daemon runs each after every other reader of its variable. */
    CHECK(sgd(g, "sgd_W1", W1, dW1));
    CHECK(sgd(g, "sgd_b1", B1, db1));
    CHECK(sgd(g, "sgd_W2", W2, dW2));
    CHECK(sgd(g, "sgd_b2", B2, db2));

    /* Open the session: the daemon validates and plans the graph. */
    salus_session_options sopts;
    CHECK(salus_session_options_init(&sopts, SALUS_SESSION_OPTIONS_VERSION));
    sopts.name = "mlp_train";
    sopts.declared_iterations = ITERATIONS;
    CHECK(salus_session_create(client, g, &sopts, &session));
    printf("session %llu: persistent %llu bytes, ephemeral %llu bytes\n",
           (unsigned long long)salus_session_id(session),
           (unsigned long long)salus_session_persistent_bytes(session),
           (unsigned long long)salus_session_ephemeral_bytes(session));
    salus_graph_free(g); /* the daemon has its own copy now */
    g = NULL;

    /* Train: feed the next batch, get the loss back. */
    CHECK(salus_tensor_new(SALUS_DTYPE_F32, x_shape, 2, NULL, &x_batch));
    CHECK(salus_tensor_new(SALUS_DTYPE_F32, y_shape, 2, NULL, &y_batch));
    const uint32_t input_ids[] = {x, y};
    const salus_tensor *inputs[] = {x_batch, y_batch};
    for (int it = 0; it < ITERATIONS; ++it) {
        int first = (it * BATCH) % SAMPLES;
        memcpy(salus_tensor_data(x_batch), data_x + first * IN, sizeof(float) * BATCH * IN);
        memcpy(salus_tensor_data(y_batch), data_y + first * CLASSES,
               sizeof(float) * BATCH * CLASSES);
        salus_tensor *loss_value = NULL;
        CHECK(salus_session_run(session, input_ids, inputs, 2, &loss_value, 1));
        if (it % 20 == 0 || it == ITERATIONS - 1) {
            printf("iteration %3d: loss %.4f\n", it + 1,
                   *(const float *)salus_tensor_const_data(loss_value));
        }
        salus_tensor_free(loss_value);
    }

    /* Closing waits for queued iterations and frees the daemon's memory. */
    int rc = salus_session_close(session);
    session = NULL; /* freed even when closing failed */
    CHECK(rc);
    status = EXIT_SUCCESS;

out:
    salus_tensor_free(x_batch);
    salus_tensor_free(y_batch);
    salus_session_close(session);
    salus_graph_free(g);
    salus_disconnect(client);
    free(data_x);
    free(data_y);
    return status;
}
