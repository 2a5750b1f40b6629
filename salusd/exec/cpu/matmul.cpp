// MatMul through OpenBLAS's sgemm.
#include "exec/cpu/cpu_kernels.h"
#include "exec/cpu/helpers.h"

#include <cblas.h>

#include <climits>
#include <cstring>

namespace salus::cpu {

Status matmul(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(check_f32(ctx, 2, 1));
    const TensorView &a = ctx.inputs[0];
    const TensorView &b = ctx.inputs[1];
    const TensorView &y = ctx.outputs[0];
    if (a.shape.size() != 2 || b.shape.size() != 2 || y.shape.size() != 2) {
        return Status(SALUS_EEXEC, "MatMul: operands must have rank 2");
    }
    const bool trans_a = ctx.node->attr_int("transA", 0) != 0;
    const bool trans_b = ctx.node->attr_int("transB", 0) != 0;
    const int64_t m = trans_a ? a.shape[1] : a.shape[0];
    const int64_t k = trans_a ? a.shape[0] : a.shape[1];
    const int64_t kb = trans_b ? b.shape[1] : b.shape[0];
    const int64_t n = trans_b ? b.shape[0] : b.shape[1];
    if (k != kb || y.shape[0] != m || y.shape[1] != n) {
        return Status(SALUS_EEXEC, "MatMul: operand shapes do not agree with the output");
    }
    // cblas takes int dimensions.
    for (int64_t d : {a.shape[0], a.shape[1], b.shape[0], b.shape[1]}) {
        if (d > INT_MAX) return Status(SALUS_EEXEC, "MatMul: a dimension exceeds BLAS's int range");
    }
    if (m == 0 || n == 0) return Status();
    if (k == 0) {
        // An empty sum; not every BLAS applies beta when k is 0.
        std::memset(y.data, 0, static_cast<size_t>(m * n) * sizeof(float));
        return Status();
    }
    // Row-major leading dimensions are the stored row lengths.
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
                static_cast<int>(k), 1.0f, a.f32(), static_cast<int>(a.shape[1]), b.f32(),
                static_cast<int>(b.shape[1]), 0.0f, y.f32(), static_cast<int>(n));
    return Status();
}

} // namespace salus::cpu
