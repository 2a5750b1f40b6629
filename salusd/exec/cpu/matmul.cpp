// MatMul (batched, broadcasting its batch axes) and Gemm through OpenBLAS's
// sgemm, one call per matrix, or one call for the whole batch when B is
// shared and A's matrices stack into one (a Linear layer on [batch, seq, in]).
#include "exec/cpu/cpu_kernels.h"
#include "exec/cpu/helpers.h"
#include "exec/cpu/shape_kernels.h"

#include <cblas.h>

#include <climits>
#include <cstring>

namespace salus::cpu {

namespace {

// Y = alpha · op(A) op(B) + beta · Y for every matrix of the batch.
void batched_sgemm(const GemmDims &d, const float *a, const float *b, float *y, float alpha,
                   float beta) {
    const CBLAS_TRANSPOSE ta = d.trans_a ? CblasTrans : CblasNoTrans;
    const CBLAS_TRANSPOSE tb = d.trans_b ? CblasTrans : CblasNoTrans;
    const StridedLoop &loop = d.batch;
    const int64_t mk = static_cast<int64_t>(d.m) * d.k;
    const int64_t mn = static_cast<int64_t>(d.m) * d.n;
    if (loop.rank == 1 && loop.inner_stride(2) == 0 && !d.trans_a && loop.inner_stride(1) == mk &&
        loop.inner_stride(0) == mn && loop.inner_dim() * d.m <= INT_MAX) {
        const int rows = static_cast<int>(loop.inner_dim() * d.m);
        cblas_sgemm(CblasRowMajor, ta, tb, rows, d.n, d.k, alpha, a, d.lda, b, d.ldb, beta, y, d.n);
        return;
    }
    const int64_t len = loop.inner_dim();
    for_each_row(loop, [&](const int64_t *off) {
        for (int64_t j = 0; j < len; ++j) {
            cblas_sgemm(CblasRowMajor, ta, tb, d.m, d.n, d.k, alpha,
                        a + off[1] + j * loop.inner_stride(1), d.lda,
                        b + off[2] + j * loop.inner_stride(2), d.ldb, beta,
                        y + off[0] + j * loop.inner_stride(0), d.n);
        }
    });
}

} // namespace

Status matmul(const KernelContext &ctx) {
    GemmDims d;
    SALUS_RETURN_IF_ERROR(gemm_dims(ctx, &d));
    float *y = ctx.outputs[0].f32();
    if (d.m == 0 || d.n == 0 || d.batches == 0) return Status();
    if (d.k == 0) {
        // An empty sum; not every BLAS applies beta when k is 0.
        std::memset(y, 0, static_cast<size_t>(ctx.outputs[0].numel()) * sizeof(float));
        return Status();
    }
    batched_sgemm(d, ctx.inputs[0].f32(), ctx.inputs[1].f32(), y, 1.0f, 0.0f);
    return Status();
}

Status gemm(const KernelContext &ctx) {
    GemmDims d;
    SALUS_RETURN_IF_ERROR(gemm_dims(ctx, &d));
    const TensorView &yv = ctx.outputs[0];
    float *y = yv.f32();
    if (yv.numel() == 0) return Status();
    const float alpha = static_cast<float>(ctx.node->get_float("alpha"));
    const float beta = static_cast<float>(ctx.node->get_float("beta"));
    // Y = beta · C first (beta 0 ignores C, NaNs included, as torch.addmm).
    const bool with_c = ctx.inputs.size() > 2 && beta != 0.0f;
    if (with_c) {
        int64_t strides[2][kMaxRank];
        contiguous_strides(yv.shape, strides[0]);
        if (!broadcast_strides(ctx.inputs[2].shape, yv.shape, strides[1])) {
            return Status(SALUS_EEXEC, "Gemm: C does not broadcast to Y");
        }
        const StridedLoop loop = make_loop(yv.shape, 2, strides);
        const float *c = ctx.inputs[2].f32();
        const int64_t len = loop.inner_dim();
        const int64_t sc = loop.inner_stride(1);
        for_each_row(loop, [&](const int64_t *off) {
            for (int64_t j = 0; j < len; ++j) y[off[0] + j] = beta * c[off[1] + j * sc];
        });
    }
    if (d.k == 0) {
        if (!with_c) std::memset(y, 0, static_cast<size_t>(yv.numel()) * sizeof(float));
        return Status();
    }
    batched_sgemm(d, ctx.inputs[0].f32(), ctx.inputs[1].f32(), y, alpha, with_c ? 1.0f : 0.0f);
    return Status();
}

} // namespace salus::cpu
