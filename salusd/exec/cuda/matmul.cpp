// MatMul (batched, broadcasting its batch axes) and Gemm through cuBLAS, on
// the lane's handle with the workspace the planner put in T
// (exec/cuda/workspace.h): cuBLAS never takes device memory of its own. A
// batch is one strided-batched GEMM per run of its innermost merged batch
// axis (stride 0 for a broadcast operand), or a single GEMM when B is shared
// and A's matrices stack into one.
#include "device/cuda/cuda_check.h"
#include "device/cuda/cuda_stream.h"
#include "exec/cuda/cuda_kernels.h"
#include "exec/cuda/kernel_plans.h"
#include "exec/cuda/shape_launchers.h"
#include "exec/cuda/shape_plans.h"
#include "exec/cuda/workspace.h"

#include <climits>

namespace salus::cuda {

namespace {

// Y = alpha · op(A) op(B) + beta · Y for every matrix of the batch.
Status batched_gemm(const KernelContext &ctx, const GemmPlan &g, float alpha, float beta) {
    CudaStream &stream = lane_stream(ctx.stream);
    const std::string &op = ctx.node->op;
    const AlignedWorkspace ws = cuda_workspace_aligned(ctx.workspace, ctx.workspace_bytes);
    if (ws.bytes < kCublasWorkspaceBytes) {
        return Status(SALUS_EINTERNAL, op + ": the planned cuBLAS workspace is missing");
    }
    SALUS_RETURN_IF_ERROR(
        check(cublasSetWorkspace(stream.blas(), ws.data, ws.bytes), "cublasSetWorkspace"));
    const float *a = ctx.inputs[0].f32();
    const float *b = ctx.inputs[1].f32();
    float *y = ctx.outputs[0].f32();
    const cublasOperation_t t_first = g.trans_first ? CUBLAS_OP_T : CUBLAS_OP_N;
    const cublasOperation_t t_second = g.trans_second ? CUBLAS_OP_T : CUBLAS_OP_N;
    const StridedIndex &ix = g.batch;
    const int last = ix.rank - 1;
    const int64_t len = ix.dims[last];
    const int64_t mk = static_cast<int64_t>(g.n) * g.k; // A's matrix (cuBLAS n is Y's rows)
    const int64_t mn = static_cast<int64_t>(g.m) * g.n;
    if (ix.rank == 1 && ix.strides[2][0] == 0 && !g.trans_second && ix.strides[1][0] == mk &&
        ix.strides[0][0] == mn && len * g.n <= INT_MAX) {
        return check(cublasSgemm(stream.blas(), t_first, t_second, g.m, static_cast<int>(len * g.n),
                                 g.k, &alpha, b, g.ld_first, a, g.ld_second, &beta, y, g.ldc),
                     "cublasSgemm");
    }
    int64_t outer = 1;
    for (int d = 0; d < last; ++d) outer *= ix.dims[d];
    for (int64_t row = 0; row < outer; ++row) {
        // The offsets of this run: row's coordinates over the outer axes.
        int64_t off[3] = {0, 0, 0};
        int64_t rest = row;
        for (int d = last - 1; d >= 0; --d) {
            const int64_t c = rest % ix.dims[d];
            rest /= ix.dims[d];
            for (int k = 0; k < 3; ++k) off[k] += c * ix.strides[k][d];
        }
        for (int64_t done = 0; done < len; done += INT_MAX) {
            const int count = static_cast<int>(len - done < INT_MAX ? len - done : INT_MAX);
            SALUS_RETURN_IF_ERROR(
                check(cublasSgemmStridedBatched(
                          stream.blas(), t_first, t_second, g.m, g.n, g.k, &alpha,
                          b + off[2] + done * ix.strides[2][last], g.ld_first, ix.strides[2][last],
                          a + off[1] + done * ix.strides[1][last], g.ld_second, ix.strides[1][last],
                          &beta, y + off[0] + done * ix.strides[0][last], g.ldc,
                          ix.strides[0][last], count),
                      "cublasSgemmStridedBatched"));
        }
    }
    return {};
}

Status zero_output(const KernelContext &ctx) {
    const size_t bytes = static_cast<size_t>(ctx.outputs[0].numel()) * sizeof(float);
    return check(cudaMemsetAsync(ctx.outputs[0].data, 0, bytes, lane_stream(ctx.stream).handle()),
                 (ctx.node->op + ": cudaMemsetAsync").c_str());
}

} // namespace

Status matmul(const KernelContext &ctx) {
    GemmPlan g;
    SALUS_RETURN_IF_ERROR(plan_gemm(ctx, &g));
    if (ctx.outputs[0].numel() == 0) return {};
    // An empty sum, as on the CPU.
    if (g.k == 0) return zero_output(ctx);
    return batched_gemm(ctx, g, 1.0f, 0.0f);
}

Status gemm(const KernelContext &ctx) {
    GemmPlan g;
    SALUS_RETURN_IF_ERROR(plan_gemm(ctx, &g));
    const int64_t n = ctx.outputs[0].numel();
    if (n == 0) return {};
    const float alpha = static_cast<float>(ctx.node->get_float("alpha"));
    const float beta = static_cast<float>(ctx.node->get_float("beta"));
    // Y = beta · C first (beta 0 ignores C, as the CPU kernel).
    const bool with_c = ctx.inputs.size() > 2 && beta != 0.0f;
    if (with_c) {
        StridedIndex ix;
        SALUS_RETURN_IF_ERROR(plan_gemm_c(ctx, &ix));
        SALUS_RETURN_IF_ERROR(
            check(launch_scaled_gather(ix, n, beta, ctx.inputs[2].f32(), ctx.outputs[0].f32(),
                                       lane_stream(ctx.stream).handle()),
                  "Gemm: C kernel"));
    }
    if (g.k == 0) return with_c ? Status() : zero_output(ctx);
    return batched_gemm(ctx, g, alpha, with_c ? 1.0f : 0.0f);
}

} // namespace salus::cuda
