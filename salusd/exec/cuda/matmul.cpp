// MatMul through cuBLAS, on the lane's handle with the workspace the planner
// put in T (exec/cuda/workspace.h): cuBLAS never takes device memory of its own.
#include "device/cuda/cuda_check.h"
#include "device/cuda/cuda_stream.h"
#include "exec/cuda/cuda_kernels.h"
#include "exec/cuda/kernel_plans.h"
#include "exec/cuda/workspace.h"

namespace salus::cuda {

Status matmul(const KernelContext &ctx) {
    GemmPlan g;
    SALUS_RETURN_IF_ERROR(plan_gemm(ctx, &g));
    if (g.m == 0 || g.n == 0) return {};
    CudaStream &stream = lane_stream(ctx.stream);
    float *y = ctx.outputs[0].f32();
    if (g.k == 0) {
        // An empty sum, as on the CPU.
        const size_t bytes = static_cast<size_t>(g.m) * static_cast<size_t>(g.n) * sizeof(float);
        return check(cudaMemsetAsync(y, 0, bytes, stream.handle()), "MatMul: cudaMemsetAsync");
    }
    const AlignedWorkspace ws = cuda_workspace_aligned(ctx.workspace, ctx.workspace_bytes);
    if (ws.bytes < kCublasWorkspaceBytes) {
        return Status(SALUS_EINTERNAL, "MatMul: the planned cuBLAS workspace is missing");
    }
    SALUS_RETURN_IF_ERROR(
        check(cublasSetWorkspace(stream.blas(), ws.data, ws.bytes), "MatMul: cublasSetWorkspace"));
    const float one = 1.0f, zero = 0.0f;
    return check(cublasSgemm(stream.blas(), g.trans_first ? CUBLAS_OP_T : CUBLAS_OP_N,
                             g.trans_second ? CUBLAS_OP_T : CUBLAS_OP_N, g.m, g.n, g.k, &one,
                             ctx.inputs[1].f32(), g.ld_first, ctx.inputs[0].f32(), g.ld_second,
                             &zero, y, g.ldc),
                 "MatMul: cublasSgemm");
}

} // namespace salus::cuda
