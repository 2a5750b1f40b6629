/* A multi-layer perceptron built with the libsalus graph builder, and a
 * synthetic, learnable data set for it. Shared by the demo, the benchmarks
 * and the tests; examples/mlp_train.c spells the same graph out for users. */
#ifndef SALUS_TOOLS_MLP_H
#define SALUS_TOOLS_MLP_H

#include <salus/salus.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MLP_MAX_LAYERS 8

typedef struct mlp_spec {
    size_t n_layers;                   /* weight layers; sizes has n_layers + 1 entries */
    int64_t sizes[MLP_MAX_LAYERS + 1]; /* input width, hidden widths..., classes */
    int64_t batch;
    float lr;      /* SGD learning rate (training only) */
    uint64_t seed; /* initial weights */
    int train;     /* 1: loss + backward + SGD; 0: forward to class probabilities */
} mlp_spec;

typedef struct mlp_graph {
    salus_graph *graph;
    uint32_t x;      /* input [batch, sizes[0]] */
    uint32_t labels; /* input [batch, classes], one-hot; training only */
    size_t n_inputs; /* 2 when training, 1 for inference */
} mlp_graph;

/* Builds the graph; its single output is the mean loss (training, a scalar)
 * or the class probabilities [batch, classes] (inference). */
int mlp_build(const mlp_spec *spec, mlp_graph *out);

/* A deterministic stream of batches of Gaussian blobs, one blob per class. */
typedef struct mlp_data {
    int64_t in, classes, batch;
    float *centers; /* classes x in */
    uint64_t seed;
} mlp_data;

int mlp_data_init(mlp_data *data, const mlp_spec *spec, uint64_t seed);
void mlp_data_free(mlp_data *data);
/* Fills x [batch, in] and labels [batch, classes] for batch number `index`. */
void mlp_data_batch(const mlp_data *data, uint64_t index, float *x, float *labels);

/* Host tensors for one batch, fed in the order {x, labels}. */
int mlp_data_tensors(const mlp_data *data, uint64_t index, salus_tensor *out[2]);

/* Gaussian random numbers from a seeded state (xorshift + Box-Muller). */
float mlp_randn(uint64_t *state);

#ifdef __cplusplus
}
#endif

#endif
