// The loss family's per-element code (ops/loss.cpp), plain C++ that nvcc
// compiles for the device (loss.cu) and g++ for the host: the CPU kernels
// (exec/cpu/loss_*.cpp) call the same functions, and the unit tests run the
// CUDA kernels' index math on the CPU (test_kernels_loss.cpp).
#pragma once

#include "exec/cuda/device_code.h"

namespace salus::cuda {

// --- optimizers ---------------------------------------------------------------
// Each follows torch.optim's single-tensor code step for step in float, with
// the per-step scalars in double as torch computes them in Python floats.

// Where the learning rate comes from: the attribute, or the optional input
// at `index` (a scalar the kernel reads when it runs).
struct LrSource {
    double value = 0.0;
    const float *input = nullptr;
};

struct SgdParams {
    float weight_decay = 0.0f;
    float momentum = 0.0f;
    float dampening = 0.0f;
    bool nesterov = false;
};

// SGDUpdate: w -= lr * (g + weight_decay * w).
SALUS_HD inline float sgd_element(const SgdParams &p, float lr, float g, float w) {
    const float d = p.weight_decay != 0.0f ? g + p.weight_decay * w : g;
    return w + -lr * d;
}

// SGDMomentumUpdate; `first`: the step count is 0, the buffer starts as d.
SALUS_HD inline void sgd_momentum_element(const SgdParams &p, float lr, bool first, float g,
                                          float *w, float *buf) {
    float d = p.weight_decay != 0.0f ? g + p.weight_decay * *w : g;
    const float b = first ? d : *buf * p.momentum + (1.0f - p.dampening) * d;
    *buf = b;
    d = p.nesterov ? d + p.momentum * b : b;
    *w = *w + -lr * d;
}

struct AdamParams {
    double beta1 = 0.9, beta2 = 0.999;
    float b1 = 0.9f, b2 = 0.999f, c1 = 0.1f, c2 = 0.001f, eps = 1e-8f;
    double weight_decay = 0.0;
    bool decoupled = false; // AdamW
};

struct AdamStep {
    float step_size = 0.0f;  // lr / (1 - beta1^t)
    float bias2_sqrt = 0.0f; // sqrt(1 - beta2^t)
    float decay = 1.0f;      // AdamW: 1 - lr * weight_decay
};

// From the step count before this update and the learning rate.
SALUS_HD inline AdamStep adam_step(const AdamParams &p, float step_before, double lr) {
    const double t = static_cast<double>(step_before + 1.0f);
    AdamStep s;
    s.step_size = static_cast<float>(lr / (1.0 - pow(p.beta1, t)));
    s.bias2_sqrt = static_cast<float>(sqrt(1.0 - pow(p.beta2, t)));
    s.decay = static_cast<float>(1.0 - lr * p.weight_decay);
    return s;
}

SALUS_HD inline void adam_element(const AdamParams &p, const AdamStep &s, float g, float *w,
                                  float *m, float *v) {
    if (p.decoupled) {
        *w = *w * s.decay;
    } else if (p.weight_decay != 0.0) {
        g = g + static_cast<float>(p.weight_decay) * *w;
    }
    *m = *m * p.b1 + p.c1 * g;
    *v = *v * p.b2 + p.c2 * g * g;
    const float denom = sqrtf(*v) / s.bias2_sqrt + p.eps;
    *w = *w + -s.step_size * (*m / denom);
}

// --- reductions by comparison -------------------------------------------------

// Whether x replaces the running max (min) acc: NaN wins and stays, as in
// torch.amax/amin.
SALUS_HD inline bool extremum_takes(bool max, float x, float acc) {
    if (acc != acc) return false;
    if (x != x) return true;
    return max ? x > acc : x < acc;
}

// ArgMax/ArgMin: whether x at a later index replaces best; with `last`, an
// equal value does too. NaN counts as the extremum, its first (last) index.
SALUS_HD inline bool arg_takes(bool max, bool last, float x, float best) {
    if (best != best) return last && x != x;
    if (x != x) return true;
    if (last && x == best) return true;
    return max ? x > best : x < best;
}

// --- log-softmax --------------------------------------------------------------

// The max of line `line` and log(sum(exp(x - max))), the sum in double of
// exp_poly terms. A contiguous line (inner 1) runs in kLanes interleaved
// partial maxima and sums, which CPU loops vectorize (max is exact in any
// order; the double sum differs from one in order by about 1e-16).
SALUS_HD inline void line_max_lse(const AxisPlan &p, const float *x, int64_t line, float *max,
                                  double *lse) {
    const float *xl = x + axis_offset(p, line, 0); // the line's elements are inner apart
    float m = -INFINITY;
    double sum = 0.0;
    int64_t k = 0;
    if (p.inner == 1) {
        constexpr int kLanes = 8;
        float mw[kLanes];
        double sw[kLanes];
        for (int w = 0; w < kLanes; ++w) {
            mw[w] = -INFINITY;
            sw[w] = 0.0;
        }
        const int64_t whole = p.n - p.n % kLanes;
        // x > m ? x : m skips NaN as fmaxf(m, x) does (m never becomes NaN).
        for (k = 0; k < whole; k += kLanes) {
            for (int w = 0; w < kLanes; ++w) mw[w] = xl[k + w] > mw[w] ? xl[k + w] : mw[w];
        }
        for (int w = 0; w < kLanes; ++w) m = mw[w] > m ? mw[w] : m;
        for (int64_t j = whole; j < p.n; ++j) m = xl[j] > m ? xl[j] : m;
        for (k = 0; k < whole; k += kLanes) {
            for (int w = 0; w < kLanes; ++w) sw[w] += exp_poly(xl[k + w] - m);
        }
        for (int w = 0; w < kLanes; ++w) sum += sw[w];
    } else {
        for (int64_t j = 0; j < p.n; ++j) m = fmaxf(m, xl[j * p.inner]);
    }
    for (; k < p.n; ++k) sum += exp_poly(xl[k * p.inner] - m);
    *max = m;
    *lse = log(sum);
}

// dLogits of one class of a position of SoftmaxCrossEntropyLoss: (softmax −
// one-hot) · scale, softmax from the line's max and 1 / sum(exp(x − max)).
SALUS_HD inline float sce_grad_value(float x, float m, double inv_sum, bool target, double scale) {
    const double prob = static_cast<double>(exp_poly(x - m)) * inv_sum;
    return static_cast<float>((prob - (target ? 1.0 : 0.0)) * scale);
}

SALUS_HD inline double log_softmax_value(float x, float m, double lse) {
    return static_cast<double>(x - m) - lse;
}

// LogSoftmaxGrad per element, given the line's sum of dY as a float.
SALUS_HD inline float log_softmax_grad_value(float dy, float y, float sum) {
    return dy - expf(y) * sum;
}

// --- losses with class indices -------------------------------------------------
// scores/input [N, C, D] (D the product of the trailing dims), labels [N, D]:
// position p = n * D + d; class c of position p at (n * C + c) * D + d.

struct LabelPlan {
    int64_t n = 0, c = 0, d = 1;
    bool wide = false; // i64 labels (else i32)
    bool has_ignore = false;
    int64_t ignore_index = 0;
    bool has_weight = false;
    int reduction = 0; // 0 mean, 1 sum, 2 none
};

// CUDA scratch of the losses: the label check's result, then (forward) one
// double per position, the terms summed into the reduced loss.
struct LabelScratch {
    int64_t bad_position; // -1: every label is valid or ignored
    int64_t bad_label;
    double total_weight;
};

SALUS_HD inline int64_t label_positions(const LabelPlan &p) {
    return p.n * p.d;
}

SALUS_HD inline int64_t class_offset(const LabelPlan &p, int64_t pos, int64_t c) {
    const int64_t n = pos / p.d;
    return (n * p.c + c) * p.d + (pos - n * p.d);
}

SALUS_HD inline int64_t label_at(const LabelPlan &p, const void *labels, int64_t pos) {
    return p.wide ? static_cast<const int64_t *>(labels)[pos]
                  : static_cast<const int32_t *>(labels)[pos];
}

// The classes of the label positions as axis lines: [N, C, D] around C.
SALUS_HD inline AxisPlan class_lines(const LabelPlan &p) {
    AxisPlan a;
    a.outer = p.n;
    a.n = p.c;
    a.inner = p.d;
    return a;
}

SALUS_HD inline bool label_ignored(const LabelPlan &p, int64_t label) {
    return p.has_ignore && label == p.ignore_index;
}

SALUS_HD inline bool label_valid(const LabelPlan &p, int64_t label) {
    return label >= 0 && label < p.c;
}

SALUS_HD inline float label_weight(const LabelPlan &p, const float *weight, int64_t label) {
    return p.has_weight ? weight[label] : 1.0f;
}

// The factor of each position's gradient: dLoss there ("none"), or the
// scalar dLoss, divided by the total weight for "mean".
SALUS_HD inline double loss_grad_scale(const LabelPlan &p, const float *dloss, int64_t pos,
                                       double total_weight) {
    if (p.reduction == 2) return dloss[pos];
    return p.reduction == 0 ? dloss[0] / total_weight : dloss[0];
}

// The reduced loss from the sum of the terms and of the weights.
SALUS_HD inline float reduce_loss(const LabelPlan &p, double total, double total_weight) {
    return static_cast<float>(p.reduction == 0 ? total / total_weight : total);
}

} // namespace salus::cuda
