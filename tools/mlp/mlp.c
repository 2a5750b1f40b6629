#include "mlp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t next_u64(uint64_t *s) {
    /* xorshift64*: small, fast, and the same on every platform. */
    uint64_t x = *s ? *s : 0x9E3779B97F4A7C15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1Dull;
}

float mlp_randn(uint64_t *state) {
    double u1 = ((double)(next_u64(state) >> 11) + 1.0) / 9007199254740993.0;
    double u2 = (double)(next_u64(state) >> 11) / 9007199254740992.0;
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

static int add_param(salus_graph *g, const char *name, int64_t rows, int64_t cols, float scale,
                     uint64_t *rng, uint32_t *id) {
    int64_t shape[2] = {rows, cols};
    size_t rank = rows > 0 ? 2 : 1;
    const int64_t *dims = rows > 0 ? shape : &shape[1];
    size_t n = (size_t)(rows > 0 ? rows : 1) * (size_t)cols;
    float *init = calloc(n, sizeof(float));
    if (!init) return SALUS_ENOMEM;
    if (scale > 0.0f) {
        for (size_t i = 0; i < n; ++i) init[i] = scale * mlp_randn(rng);
    }
    int rc =
        salus_graph_add_variable(g, name, SALUS_DTYPE_F32, dims, rank, init, n * sizeof(float), id);
    free(init);
    return rc;
}

static int node(salus_graph *g, const char *op, uint32_t a, uint32_t b, size_t n_in, uint32_t *out,
                uint32_t *node_id) {
    uint32_t in[2] = {a, b};
    return salus_graph_add_node(g, op, NULL, in, n_in, out ? 1 : 0, out, node_id);
}

#define CHECK(expr)                                                                                \
    do {                                                                                           \
        int rc_ = (expr);                                                                          \
        if (rc_ < 0) {                                                                             \
            salus_graph_free(g);                                                                   \
            return rc_;                                                                            \
        }                                                                                          \
    } while (0)

int mlp_build(const mlp_spec *spec, mlp_graph *out) {
    if (!spec || !out || spec->n_layers < 1 || spec->n_layers > MLP_MAX_LAYERS || spec->batch < 1)
        return SALUS_EINVAL;
    salus_graph *g = NULL;
    int rc = salus_graph_new(&g);
    if (rc < 0) return rc;

    size_t L = spec->n_layers;
    int64_t classes = spec->sizes[L];
    uint64_t rng = spec->seed;
    mlp_graph m = {0};
    int64_t xshape[2] = {spec->batch, spec->sizes[0]};
    int64_t lshape[2] = {spec->batch, classes};
    CHECK(salus_graph_add_input(g, "x", SALUS_DTYPE_F32, xshape, 2, &m.x));
    m.n_inputs = 1;
    if (spec->train) {
        CHECK(salus_graph_add_input(g, "labels", SALUS_DTYPE_F32, lshape, 2, &m.labels));
        m.n_inputs = 2;
    }

    uint32_t W[MLP_MAX_LAYERS], b[MLP_MAX_LAYERS];
    uint32_t act_in[MLP_MAX_LAYERS + 1], pre[MLP_MAX_LAYERS];
    char name[32];
    for (size_t l = 0; l < L; ++l) {
        float he = sqrtf(2.0f / (float)spec->sizes[l]);
        snprintf(name, sizeof name, "W%zu", l + 1);
        CHECK(add_param(g, name, spec->sizes[l], spec->sizes[l + 1], he, &rng, &W[l]));
        snprintf(name, sizeof name, "b%zu", l + 1);
        CHECK(add_param(g, name, 0, spec->sizes[l + 1], 0.0f, &rng, &b[l]));
    }

    /* Forward: h = relu(h W + b) for hidden layers, logits for the last. */
    act_in[0] = m.x;
    for (size_t l = 0; l < L; ++l) {
        uint32_t mm;
        CHECK(node(g, "MatMul", act_in[l], W[l], 2, &mm, NULL));
        CHECK(node(g, "Add", mm, b[l], 2, &pre[l], NULL));
        if (l + 1 < L) CHECK(node(g, "Relu", pre[l], 0, 1, &act_in[l + 1], NULL));
    }
    uint32_t logits = pre[L - 1];

    if (!spec->train) {
        uint32_t probs;
        CHECK(node(g, "Softmax", logits, 0, 1, &probs, NULL));
        CHECK(salus_graph_add_output(g, probs));
        out->graph = g;
        out->x = m.x;
        out->labels = 0;
        out->n_inputs = 1;
        return 0;
    }

    uint32_t loss, grad;
    CHECK(node(g, "SoftmaxCrossEntropy", logits, m.labels, 2, &loss, NULL));
    CHECK(salus_graph_add_output(g, loss));
    CHECK(node(g, "SoftmaxCrossEntropyGrad", logits, m.labels, 2, &grad, NULL));

    /* Backward: grad is dL/d(pre[l]) on entry to each layer. */
    const int64_t axis0 = 0;
    for (size_t l = L; l-- > 0;) {
        uint32_t dW, db, nid;
        CHECK(node(g, "MatMul", act_in[l], grad, 2, &dW, &nid));
        CHECK(salus_graph_set_attr_int(g, nid, "transA", 1));
        CHECK(node(g, "ReduceSum", grad, 0, 1, &db, &nid));
        CHECK(salus_graph_set_attr_ints(g, nid, "axes", &axis0, 1));
        CHECK(salus_graph_set_attr_int(g, nid, "keepdims", 0));
        if (l > 0) {
            uint32_t dh;
            CHECK(node(g, "MatMul", grad, W[l], 2, &dh, &nid));
            CHECK(salus_graph_set_attr_int(g, nid, "transB", 1));
            CHECK(node(g, "ReluGrad", dh, pre[l - 1], 2, &grad, NULL));
        }
        CHECK(node(g, "SGDUpdate", W[l], dW, 2, NULL, &nid));
        CHECK(salus_graph_set_attr_float(g, nid, "lr", spec->lr));
        CHECK(node(g, "SGDUpdate", b[l], db, 2, NULL, &nid));
        CHECK(salus_graph_set_attr_float(g, nid, "lr", spec->lr));
    }
    m.graph = g;
    *out = m;
    return 0;
}

int mlp_data_init(mlp_data *data, const mlp_spec *spec, uint64_t seed) {
    if (!data || !spec) return SALUS_EINVAL;
    mlp_data d = {spec->sizes[0], spec->sizes[spec->n_layers], spec->batch, NULL, seed};
    d.centers = malloc((size_t)(d.classes * d.in) * sizeof(float));
    if (!d.centers) return SALUS_ENOMEM;
    uint64_t rng = seed ^ 0xC0FFEEull;
    for (int64_t i = 0; i < d.classes * d.in; ++i) d.centers[i] = mlp_randn(&rng);
    *data = d;
    return 0;
}

void mlp_data_free(mlp_data *data) {
    if (!data) return;
    free(data->centers);
    data->centers = NULL;
}

void mlp_data_batch(const mlp_data *data, uint64_t index, float *x, float *labels) {
    uint64_t rng = data->seed * 0x9E3779B97F4A7C15ull + index + 1;
    for (int64_t r = 0; r < data->batch; ++r) {
        int64_t cls = (int64_t)(next_u64(&rng) % (uint64_t)data->classes);
        const float *c = &data->centers[cls * data->in];
        for (int64_t i = 0; i < data->in; ++i) x[r * data->in + i] = c[i] + 0.5f * mlp_randn(&rng);
        if (labels) {
            for (int64_t k = 0; k < data->classes; ++k)
                labels[r * data->classes + k] = k == cls ? 1.0f : 0.0f;
        }
    }
}

int mlp_data_tensors(const mlp_data *data, uint64_t index, salus_tensor *out[2]) {
    int64_t xs[2] = {data->batch, data->in};
    int64_t ls[2] = {data->batch, data->classes};
    salus_tensor *x = NULL, *l = NULL;
    int rc = salus_tensor_new(SALUS_DTYPE_F32, xs, 2, NULL, &x);
    if (rc == 0) rc = salus_tensor_new(SALUS_DTYPE_F32, ls, 2, NULL, &l);
    if (rc < 0) {
        salus_tensor_free(x);
        return rc;
    }
    mlp_data_batch(data, index, salus_tensor_data(x), salus_tensor_data(l));
    out[0] = x;
    out[1] = l;
    return 0;
}
