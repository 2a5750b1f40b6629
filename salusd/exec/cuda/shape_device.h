// Index arithmetic of the shape family's CUDA kernels (shape.cu), in plain
// C++ that nvcc compiles for the device and g++ for the host: the unit tests
// (test_kernels_shape.cpp) run it on the CPU against the CPU kernels. Each
// function computes one output element, so the kernels are grid-stride loops
// around them; the gradients sum their contributions in the order the CPU
// kernels add them, so both backends give the same bits.
#pragma once

#include "exec/cuda/device_code.h"

namespace salus::cuda {

// An index normalized against extent n (negative counts from the end); -1
// when it is outside [-n, n).
SALUS_HD inline int64_t normalize_index(int64_t index, int64_t n) {
    if (index < 0) index += n;
    return index >= 0 && index < n ? index : -1;
}

// Tile: Y's dimensions are X's times whole repeats; X is contiguous.
struct TilePlan {
    int rank = 0;
    int64_t y_dims[kMaxRank] = {};
    int64_t x_dims[kMaxRank] = {};
};

// X's offset of Y's element i.
SALUS_HD inline int64_t tile_source(const TilePlan &p, int64_t i) {
    int64_t offset = 0, stride = 1;
    for (int d = p.rank - 1; d >= 0; --d) {
        const int64_t q = i / p.y_dims[d];
        offset += (i - q * p.y_dims[d]) % p.x_dims[d] * stride;
        stride *= p.x_dims[d];
        i = q;
    }
    return offset;
}

// TileGrad: dX's element j, the sum of the dY elements tiled from it, taken
// in dY's row-major order.
SALUS_HD inline float tile_grad_value(const TilePlan &p, const float *dy, int64_t j) {
    int64_t coord[kMaxRank];
    int64_t tiles = 1;
    for (int d = p.rank - 1; d >= 0; --d) {
        const int64_t q = j / p.x_dims[d];
        coord[d] = j - q * p.x_dims[d];
        j = q;
        tiles *= p.y_dims[d] / p.x_dims[d];
    }
    float sum = 0.0f;
    for (int64_t t = 0; t < tiles; ++t) {
        int64_t rest = t, offset = 0, stride = 1;
        for (int d = p.rank - 1; d >= 0; --d) {
            const int64_t reps = p.y_dims[d] / p.x_dims[d];
            const int64_t q = rest / reps;
            offset += ((rest - q * reps) * p.x_dims[d] + coord[d]) * stride;
            stride *= p.y_dims[d];
            rest = q;
        }
        sum += dy[offset];
    }
    return sum;
}

// The verdict of a Gather-family node's index check: the first index outside
// [-extent, extent) and its position (bad_position -1: every index is valid).
struct IndexVerdict {
    int64_t bad_position;
    int64_t bad_index;
};

// Gather: data seen as [outer, n, inner] around the axis, the indices as k
// entries, Y as [outer, k, inner].
struct GatherPlan {
    int64_t outer = 1, n = 1, k = 1, inner = 1;
};

// Which index Y's element i takes.
SALUS_HD inline int64_t gather_index_position(const GatherPlan &p, int64_t i) {
    return i / p.inner % p.k;
}

// data's offset of Y's element i, given its normalized index.
SALUS_HD inline int64_t gather_source(const GatherPlan &p, int64_t i, int64_t index) {
    const int64_t in = i % p.inner;
    const int64_t o = i / (p.inner * p.k);
    return (o * p.n + index) * p.inner + in;
}

// GatherGrad: dData's element j ([outer, n, inner]), the sum of the dY
// elements gathered from it, in index order. Out-of-range indices add nothing.
template <typename Index>
SALUS_HD float gather_grad_value(const GatherPlan &p, const float *dy, const Index *indices,
                                 int64_t j) {
    const int64_t in = j % p.inner;
    const int64_t row = j / p.inner % p.n;
    const int64_t o = j / (p.inner * p.n);
    float sum = 0.0f;
    for (int64_t q = 0; q < p.k; ++q) {
        if (normalize_index(static_cast<int64_t>(indices[q]), p.n) == row) {
            sum += dy[(o * p.k + q) * p.inner + in];
        }
    }
    return sum;
}

// GatherElements: Y (and the indices) of `i_dims`, data of `x_dims`, both
// contiguous; the index replaces the coordinate along `axis`.
struct ElementsPlan {
    int rank = 0;
    int axis = 0;
    int64_t i_dims[kMaxRank] = {};
    int64_t x_dims[kMaxRank] = {};
};

// data's offset of Y's element i with its normalized index.
SALUS_HD inline int64_t elements_source(const ElementsPlan &p, int64_t i, int64_t index) {
    int64_t offset = 0, stride = 1;
    for (int d = p.rank - 1; d >= 0; --d) {
        const int64_t q = i / p.i_dims[d];
        offset += (d == p.axis ? index : i - q * p.i_dims[d]) * stride;
        stride *= p.x_dims[d];
        i = q;
    }
    return offset;
}

// GatherElementsGrad: dData's element j, the sum of the dY elements whose
// index points at it, in dY's row-major order.
template <typename Index>
SALUS_HD float elements_grad_value(const ElementsPlan &p, const float *dy, const Index *indices,
                                   int64_t j) {
    int64_t base = 0, stride = 1, axis_stride = 1, target = 0;
    for (int d = p.rank - 1; d >= 0; --d) {
        const int64_t q = j / p.x_dims[d];
        const int64_t c = j - q * p.x_dims[d];
        j = q;
        if (d == p.axis) {
            target = c;
            axis_stride = stride;
        } else if (c >= p.i_dims[d]) {
            return 0.0f; // beyond the indices' extent: nothing gathered from here
        } else {
            base += c * stride;
        }
        stride *= p.i_dims[d];
    }
    float sum = 0.0f;
    for (int64_t t = 0; t < p.i_dims[p.axis]; ++t) {
        const int64_t at = base + t * axis_stride;
        if (normalize_index(static_cast<int64_t>(indices[at]), p.x_dims[p.axis]) == target) {
            sum += dy[at];
        }
    }
    return sum;
}

} // namespace salus::cuda
