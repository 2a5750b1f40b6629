/* The MLP training graph and its data set, for the tests. */
#include "mlp_graph.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* splitmix64: small, seedable and the same on every platform. */
static uint64_t next_u64(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double uniform(uint64_t *state) { /* [0, 1) */
    return (double)(next_u64(state) >> 11) * (1.0 / 9007199254740992.0);
}

static double gaussian(uint64_t *state) {
    double u = uniform(state), v = uniform(state);
    return sqrt(-2.0 * log(1.0 - u)) * cos(6.283185307179586 * v);
}

mlp_config mlp_default_config(void) {
    mlp_config cfg = {32, 8, 16, 4, 0.1, 1};
    return cfg;
}

static int node1(salus_graph *g, const char *op, const char *name, uint32_t a, uint32_t b,
                 size_t n_inputs, uint32_t *out, uint32_t *node) {
    uint32_t inputs[2] = {a, b};
    return salus_graph_add_node(g, op, name, inputs, n_inputs, 1, out, node);
}

static int matmul(salus_graph *g, const char *name, uint32_t a, uint32_t b, int ta, int tb,
                  uint32_t *out) {
    uint32_t node;
    int rc = node1(g, "MatMul", name, a, b, 2, out, &node);
    if (rc == 0 && ta) rc = salus_graph_set_attr_int(g, node, "transA", 1);
    if (rc == 0 && tb) rc = salus_graph_set_attr_int(g, node, "transB", 1);
    return rc;
}

static int sum_batch(salus_graph *g, const char *name, uint32_t x, uint32_t *out) {
    static const int64_t axes[] = {0};
    uint32_t node;
    int rc = node1(g, "ReduceSum", name, x, 0, 1, out, &node);
    if (rc == 0) rc = salus_graph_set_attr_ints(g, node, "axes", axes, 1);
    if (rc == 0) rc = salus_graph_set_attr_int(g, node, "keepdims", 0);
    return rc;
}

static int sgd(salus_graph *g, const char *name, uint32_t var, uint32_t grad, double lr) {
    uint32_t inputs[2] = {var, grad}, node;
    int rc = salus_graph_add_node(g, "SGDUpdate", name, inputs, 2, 0, NULL, &node);
    if (rc == 0) rc = salus_graph_set_attr_float(g, node, "lr", lr);
    return rc;
}

static int build(mlp_graph *m) {
    const mlp_config *c = &m->cfg;
    salus_graph *g = m->graph;
    const int64_t xs[] = {c->batch, c->in}, ys[] = {c->batch, c->classes};
    const int64_t w1s[] = {c->in, c->hidden}, b1s[] = {c->hidden};
    const int64_t w2s[] = {c->hidden, c->classes}, b2s[] = {c->classes};
    size_t f = sizeof(float);
    uint32_t W1, B1, W2, B2, h1, z1, a1, h2, logits, dlogits, dW2, db2, da1, dz1, dW1, db1;
    int rc;
#define TRY(call)                                                                                  \
    if ((rc = (call)) != 0) return rc
    TRY(salus_graph_add_input(g, "x", SALUS_DTYPE_F32, xs, 2, &m->x));
    TRY(salus_graph_add_input(g, "labels", SALUS_DTYPE_F32, ys, 2, &m->labels));
    TRY(salus_graph_add_variable(g, "W1", SALUS_DTYPE_F32, w1s, 2, m->w1,
                                 f * (size_t)(c->in * c->hidden), &W1));
    TRY(salus_graph_add_variable(g, "b1", SALUS_DTYPE_F32, b1s, 1, m->b1, f * (size_t)c->hidden,
                                 &B1));
    TRY(salus_graph_add_variable(g, "W2", SALUS_DTYPE_F32, w2s, 2, m->w2,
                                 f * (size_t)(c->hidden * c->classes), &W2));
    TRY(salus_graph_add_variable(g, "b2", SALUS_DTYPE_F32, b2s, 1, m->b2, f * (size_t)c->classes,
                                 &B2));
    /* forward */
    TRY(matmul(g, "fc1", m->x, W1, 0, 0, &h1));
    TRY(node1(g, "Add", "fc1_bias", h1, B1, 2, &z1, NULL));
    TRY(node1(g, "Relu", "relu1", z1, 0, 1, &a1, NULL));
    TRY(matmul(g, "fc2", a1, W2, 0, 0, &h2));
    TRY(node1(g, "Add", "fc2_bias", h2, B2, 2, &logits, NULL));
    TRY(node1(g, "SoftmaxCrossEntropy", "loss", logits, m->labels, 2, &m->loss, NULL));
    TRY(salus_graph_add_output(g, m->loss));
    /* backward */
    TRY(node1(g, "SoftmaxCrossEntropyGrad", "dlogits", logits, m->labels, 2, &dlogits, NULL));
    TRY(matmul(g, "dW2", a1, dlogits, 1, 0, &dW2));
    TRY(sum_batch(g, "db2", dlogits, &db2));
    TRY(matmul(g, "da1", dlogits, W2, 0, 1, &da1));
    TRY(node1(g, "ReluGrad", "dz1", da1, z1, 2, &dz1, NULL));
    TRY(matmul(g, "dW1", m->x, dz1, 1, 0, &dW1));
    TRY(sum_batch(g, "db1", dz1, &db1));
    /* updates */
    TRY(sgd(g, "sgd_W1", W1, dW1, c->lr));
    TRY(sgd(g, "sgd_b1", B1, db1, c->lr));
    TRY(sgd(g, "sgd_W2", W2, dW2, c->lr));
    TRY(sgd(g, "sgd_b2", B2, db2, c->lr));
#undef TRY
    return 0;
}

int mlp_graph_build(const mlp_config *cfg, mlp_graph *m) {
    memset(m, 0, sizeof(*m));
    m->cfg = *cfg;
    size_t in = (size_t)cfg->in, hidden = (size_t)cfg->hidden, classes = (size_t)cfg->classes;
    m->w1 = calloc(in * hidden, sizeof(float));
    m->b1 = calloc(hidden, sizeof(float));
    m->w2 = calloc(hidden * classes, sizeof(float));
    m->b2 = calloc(classes, sizeof(float));
    if (!m->w1 || !m->b1 || !m->w2 || !m->b2) {
        mlp_graph_release(m);
        return SALUS_ENOMEM;
    }
    /* Glorot-uniform weights; small non-zero biases so that the bias paths
     * matter in reference comparisons. */
    uint64_t rng = cfg->seed;
    double l1 = sqrt(6.0 / (double)(in + hidden)), l2 = sqrt(6.0 / (double)(hidden + classes));
    for (size_t i = 0; i < in * hidden; ++i) m->w1[i] = (float)((2 * uniform(&rng) - 1) * l1);
    for (size_t i = 0; i < hidden; ++i) m->b1[i] = (float)(0.1 * (2 * uniform(&rng) - 1));
    for (size_t i = 0; i < hidden * classes; ++i) m->w2[i] = (float)((2 * uniform(&rng) - 1) * l2);
    for (size_t i = 0; i < classes; ++i) m->b2[i] = (float)(0.1 * (2 * uniform(&rng) - 1));

    int rc = salus_graph_new(&m->graph);
    if (rc == 0) rc = build(m);
    if (rc != 0) mlp_graph_release(m);
    return rc;
}

void mlp_graph_release(mlp_graph *m) {
    salus_graph_free(m->graph);
    free(m->w1);
    free(m->b1);
    free(m->w2);
    free(m->b2);
    memset(m, 0, sizeof(*m));
}

void mlp_make_batch(const mlp_config *cfg, uint64_t index, float *x, float *labels) {
    /* Centres depend on the seed only; samples on the seed and the index. */
    uint64_t crng = cfg->seed ^ 0x5eed5eed5eed5eedull;
    uint64_t srng = cfg->seed * 1000003u + index + 1;
    size_t in = (size_t)cfg->in, classes = (size_t)cfg->classes;
    memset(labels, 0, sizeof(float) * (size_t)cfg->batch * classes);
    for (size_t i = 0; i < (size_t)cfg->batch; ++i) {
        size_t c = (size_t)(uniform(&srng) * (double)classes);
        /* Regenerate the centre of class c: cheap and needs no storage. */
        uint64_t centre = crng + c * 0x1000;
        for (size_t j = 0; j < in; ++j) {
            x[i * in + j] = (float)(3.0 * gaussian(&centre) + gaussian(&srng));
        }
        labels[i * classes + c] = 1.0f;
    }
}

int mlp_batch_tensors(const mlp_config *cfg, uint64_t index, salus_tensor **x,
                      salus_tensor **labels) {
    const int64_t xs[] = {cfg->batch, cfg->in}, ys[] = {cfg->batch, cfg->classes};
    salus_tensor *tx = NULL, *ty = NULL;
    int rc = salus_tensor_new(SALUS_DTYPE_F32, xs, 2, NULL, &tx);
    if (rc == 0) rc = salus_tensor_new(SALUS_DTYPE_F32, ys, 2, NULL, &ty);
    if (rc != 0) {
        salus_tensor_free(tx);
        return rc;
    }
    mlp_make_batch(cfg, index, salus_tensor_data(tx), salus_tensor_data(ty));
    *x = tx;
    *labels = ty;
    return 0;
}
