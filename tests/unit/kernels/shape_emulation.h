// The shape family's CUDA kernels (exec/cuda/shape_kernels.cpp, matmul.cpp)
// emulated on the CPU: the same plans (shape_plans.h, kernel_plans.h), the
// same per-element device code (shape_device.h), the thread loops as plain
// loops, cudaMemcpy2D and cuBLAS as the loops they stand for.
#pragma once

#include "exec/cuda/kernel_plans.h"
#include "exec/cuda/shape_plans.h"

#include <cstring>
#include <string>

namespace salus::test {

inline bool is_shape_emulated(const std::string &op) {
    for (const char *name : {"MatMul", "Gemm", "Concat", "Split", "Slice", "SliceGrad", "Squeeze",
                             "Unsqueeze", "Flatten", "Tile", "TileGrad", "Gather", "GatherGrad",
                             "GatherElements", "GatherElementsGrad"}) {
        if (op == name) return true;
    }
    return false;
}

// Y = alpha · op(A) op(B) + beta · Y per matrix, as cuBLAS reads the plan:
// column-major C = op(first) op(second), first B and second A.
inline Status emulate_batched_gemm(const KernelContext &ctx, float alpha, float beta) {
    cuda::GemmPlan g;
    SALUS_RETURN_IF_ERROR(cuda::plan_gemm(ctx, &g));
    for (int64_t b = 0; b < g.batches; ++b) {
        const float *second = ctx.inputs[0].f32() + cuda::strided_offset(g.batch, 1, b);
        const float *first = ctx.inputs[1].f32() + cuda::strided_offset(g.batch, 2, b);
        float *c = ctx.outputs[0].f32() + cuda::strided_offset(g.batch, 0, b);
        for (int i = 0; i < g.m; ++i) {
            for (int j = 0; j < g.n; ++j) {
                double acc = 0.0;
                for (int p = 0; p < g.k; ++p) {
                    const float f = g.trans_first ? first[p + static_cast<int64_t>(i) * g.ld_first]
                                                  : first[i + static_cast<int64_t>(p) * g.ld_first];
                    const float s = g.trans_second
                                        ? second[j + static_cast<int64_t>(p) * g.ld_second]
                                        : second[p + static_cast<int64_t>(j) * g.ld_second];
                    acc += static_cast<double>(f) * s;
                }
                float &out = c[i + static_cast<int64_t>(j) * g.ldc];
                out = alpha * static_cast<float>(acc) + (beta != 0.0f ? beta * out : 0.0f);
            }
        }
    }
    return {};
}

template <typename Fn>
void with_indices(const TensorView &t, Fn &&fn) {
    if (t.dtype == DType::I64) {
        fn(static_cast<const int64_t *>(t.data));
    } else {
        fn(static_cast<const int32_t *>(t.data));
    }
}

inline Status emulate_shape(const KernelContext &ctx) {
    using namespace salus::cuda;
    const std::string &op = ctx.node->op;
    const TensorView &x = ctx.inputs[0];
    const TensorView &y = ctx.outputs[0];
    const size_t esize = dtype_size(x.dtype);
    if (op == "MatMul") return emulate_batched_gemm(ctx, 1.0f, 0.0f);
    if (op == "Gemm") {
        const float beta = static_cast<float>(ctx.node->get_float("beta"));
        const bool with_c = ctx.inputs.size() > 2 && beta != 0.0f;
        if (with_c) {
            StridedIndex ix;
            SALUS_RETURN_IF_ERROR(plan_gemm_c(ctx, &ix));
            for (int64_t i = 0; i < y.numel(); ++i) {
                y.f32()[i] = beta * ctx.inputs[2].f32()[strided_offset(ix, 1, i)];
            }
        }
        const float alpha = static_cast<float>(ctx.node->get_float("alpha"));
        GemmPlan g;
        SALUS_RETURN_IF_ERROR(plan_gemm(ctx, &g));
        if (g.k == 0) {
            if (!with_c) std::memset(y.data, 0, static_cast<size_t>(y.numel()) * sizeof(float));
            return {};
        }
        return emulate_batched_gemm(ctx, alpha, with_c ? 1.0f : 0.0f);
    }
    if (op == "Concat" || op == "Split") {
        const bool join = op == "Concat";
        PiecesPlan plan;
        SALUS_RETURN_IF_ERROR(plan_pieces(ctx, join, &plan));
        auto *whole = static_cast<uint8_t *>((join ? y : x).data);
        const size_t count = join ? ctx.inputs.size() : ctx.outputs.size();
        int64_t at = 0;
        for (size_t p = 0; p < count; ++p) {
            const int64_t w = piece_bytes(ctx, join, p);
            auto *piece = static_cast<uint8_t *>((join ? ctx.inputs[p] : ctx.outputs[p]).data);
            for (int64_t r = 0; r < plan.rows && w > 0; ++r) {
                uint8_t *in_whole = whole + r * plan.row_bytes + at;
                if (join) {
                    std::memcpy(in_whole, piece + r * w, static_cast<size_t>(w));
                } else {
                    std::memcpy(piece + r * w, in_whole, static_cast<size_t>(w));
                }
            }
            at += w;
        }
        return {};
    }
    if (op == "Squeeze" || op == "Unsqueeze" || op == "Flatten") {
        size_t bytes = 0;
        SALUS_RETURN_IF_ERROR(plan_copy(ctx, &bytes));
        if (bytes) std::memcpy(y.data, x.data, bytes);
        return {};
    }
    if (op == "Slice" || op == "SliceGrad") {
        const bool grad = op == "SliceGrad";
        StridedIndex ix;
        int64_t base = 0;
        if (grad) std::memset(y.data, 0, static_cast<size_t>(y.numel()) * sizeof(float));
        if ((grad ? x : y).numel() == 0) return {};
        SALUS_RETURN_IF_ERROR(grad ? plan_slice(ctx, y.shape, x.shape, &ix, &base)
                                   : plan_slice(ctx, x.shape, y.shape, &ix, &base));
        const int64_t n = (grad ? x : y).numel();
        for (int64_t i = 0; i < n; ++i) {
            const int64_t at = base + strided_offset(ix, 1, i);
            if (grad) {
                y.f32()[at] = x.f32()[i];
            } else {
                std::memcpy(static_cast<uint8_t *>(y.data) + i * esize,
                            static_cast<const uint8_t *>(x.data) + at * esize, esize);
            }
        }
        return {};
    }
    if (op == "Tile" || op == "TileGrad") {
        TilePlan plan;
        if (op == "Tile") {
            SALUS_RETURN_IF_ERROR(plan_tile(ctx, x.shape, y.shape, &plan));
            for (int64_t i = 0; i < y.numel(); ++i) {
                std::memcpy(static_cast<uint8_t *>(y.data) + i * esize,
                            static_cast<const uint8_t *>(x.data) + tile_source(plan, i) * esize,
                            esize);
            }
        } else {
            SALUS_RETURN_IF_ERROR(plan_tile(ctx, y.shape, x.shape, &plan));
            for (int64_t j = 0; j < y.numel(); ++j) y.f32()[j] = tile_grad_value(plan, x.f32(), j);
        }
        return {};
    }
    if (op == "Gather" || op == "GatherGrad") {
        GatherPlan plan;
        const TensorView &indices = ctx.inputs[1];
        if (op == "Gather") {
            SALUS_RETURN_IF_ERROR(plan_gather(ctx, x.shape, &plan));
            with_indices(indices, [&](auto *ind) {
                for (int64_t i = 0; i < y.numel(); ++i) {
                    const int64_t index = normalize_index(
                        static_cast<int64_t>(ind[gather_index_position(plan, i)]), plan.n);
                    if (index < 0) continue;
                    std::memcpy(static_cast<uint8_t *>(y.data) + i * esize,
                                static_cast<const uint8_t *>(x.data) +
                                    gather_source(plan, i, index) * esize,
                                esize);
                }
            });
        } else {
            SALUS_RETURN_IF_ERROR(plan_gather(ctx, y.shape, &plan));
            with_indices(indices, [&](auto *ind) {
                for (int64_t j = 0; j < y.numel(); ++j) {
                    y.f32()[j] = gather_grad_value(plan, x.f32(), ind, j);
                }
            });
        }
        return {};
    }
    if (op == "GatherElements" || op == "GatherElementsGrad") {
        ElementsPlan plan;
        const TensorView &indices = ctx.inputs[1];
        if (op == "GatherElements") {
            SALUS_RETURN_IF_ERROR(plan_elements(ctx, x.shape, &plan));
            with_indices(indices, [&](auto *ind) {
                for (int64_t i = 0; i < y.numel(); ++i) {
                    const int64_t index =
                        normalize_index(static_cast<int64_t>(ind[i]), plan.x_dims[plan.axis]);
                    if (index < 0) continue;
                    std::memcpy(static_cast<uint8_t *>(y.data) + i * esize,
                                static_cast<const uint8_t *>(x.data) +
                                    elements_source(plan, i, index) * esize,
                                esize);
                }
            });
        } else {
            SALUS_RETURN_IF_ERROR(plan_elements(ctx, y.shape, &plan));
            with_indices(indices, [&](auto *ind) {
                for (int64_t j = 0; j < y.numel(); ++j) {
                    y.f32()[j] = elements_grad_value(plan, x.f32(), ind, j);
                }
            });
        }
        return {};
    }
    return Status(SALUS_ENOTSUP, "no emulation for " + op);
}

} // namespace salus::test
