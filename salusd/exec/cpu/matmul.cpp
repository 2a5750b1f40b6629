// MatMul through OpenBLAS's sgemm.
#include "exec/cpu/cpu_kernels.h"
#include "exec/cpu/helpers.h"

#include <cblas.h>

#include <cstring>

namespace salus::cpu {

Status matmul(const KernelContext &ctx) {
    GemmDims d;
    SALUS_RETURN_IF_ERROR(gemm_dims(ctx, &d));
    float *y = ctx.outputs[0].f32();
    if (d.m == 0 || d.n == 0) return Status();
    if (d.k == 0) {
        // An empty sum; not every BLAS applies beta when k is 0.
        std::memset(y, 0, static_cast<size_t>(d.m) * static_cast<size_t>(d.n) * sizeof(float));
        return Status();
    }
    cblas_sgemm(CblasRowMajor, d.trans_a ? CblasTrans : CblasNoTrans,
                d.trans_b ? CblasTrans : CblasNoTrans, d.m, d.n, d.k, 1.0f, ctx.inputs[0].f32(),
                d.lda, ctx.inputs[1].f32(), d.ldb, 0.0f, y, d.n);
    return Status();
}

} // namespace salus::cpu
