/* The MLP training graph of examples/mlp_train.c, reusable by the tests,
 * with a seeded synthetic data set (Gaussian blobs, one per class). */
#ifndef SALUS_TESTS_MLP_GRAPH_H
#define SALUS_TESTS_MLP_GRAPH_H

#include <salus/salus.h>

#include <stdint.h>

typedef struct mlp_config {
    int64_t batch, in, hidden, classes;
    double lr;
    uint64_t seed; /* initial weights and the blob centres */
} mlp_config;

/* 32 x 8 -> 16 -> 4, lr 0.1, seed 1. */
mlp_config mlp_default_config(void);

typedef struct mlp_graph {
    mlp_config cfg;
    salus_graph *graph;
    uint32_t x, labels; /* the inputs: [batch, in] and one-hot [batch, classes] */
    uint32_t loss;      /* the only output: a scalar */
    /* Initial values of the variables (row-major), for reference passes. */
    float *w1, *b1, *w2, *b2;
} mlp_graph;

/* Builds the graph: forward (MatMul, Add, Relu, MatMul, Add), the loss
 * SoftmaxCrossEntropy, the backward pass and one SGDUpdate per variable.
 * Returns 0 or the failing libsalus code. */
int mlp_graph_build(const mlp_config *cfg, mlp_graph *m);
void mlp_graph_release(mlp_graph *m);

/* Fills batch number `index` of the data set: x [batch, in] and one-hot
 * labels [batch, classes]. */
void mlp_make_batch(const mlp_config *cfg, uint64_t index, float *x, float *labels);

/* Makes the x and labels tensors of batch `index`; 0 or a libsalus code. */
int mlp_batch_tensors(const mlp_config *cfg, uint64_t index, salus_tensor **x,
                      salus_tensor **labels);

#endif
