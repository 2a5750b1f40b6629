// OneHot: integer class indices to rows of zeros with a one (ONNX semantics:
// a negative index counts from the end, one outside [-depth, depth) gives a
// row of zeros). The labels of SoftmaxCrossEntropy come from here.
#include "exec/cpu/cpu_kernels.h"
#include "exec/cpu/helpers.h"

#include <algorithm>
#include <string>

namespace salus::cpu {

namespace {

template <typename Index>
void one_hot_rows(const Index *indices, int64_t n, int64_t depth, float *y) {
    std::fill(y, y + n * depth, 0.0f);
    for (int64_t i = 0; i < n; ++i) {
        int64_t k = static_cast<int64_t>(indices[i]);
        if (k < 0) k += depth;
        if (k >= 0 && k < depth) y[i * depth + k] = 1.0f;
    }
}

} // namespace

Status one_hot(const KernelContext &ctx) {
    SALUS_RETURN_IF_ERROR(check_arity(ctx, 1, 1));
    const TensorView &x = ctx.inputs[0];
    const TensorView &y = ctx.outputs[0];
    const int64_t depth = ctx.node->attr_int("depth", 0);
    if (y.dtype != DType::F32) {
        return Status(SALUS_EEXEC, std::string("OneHot: output is ") + dtype_name(y.dtype) +
                                       "; the CPU kernel writes f32 only");
    }
    if (depth <= 0 || y.numel() != x.numel() * depth) {
        return Status(SALUS_EEXEC, "OneHot: the output does not hold depth values per index");
    }
    switch (x.dtype) {
    case DType::I32:
        one_hot_rows(static_cast<const int32_t *>(x.data), x.numel(), depth, y.f32());
        return Status();
    case DType::I64:
        one_hot_rows(static_cast<const int64_t *>(x.data), x.numel(), depth, y.f32());
        return Status();
    default:
        return Status(SALUS_EEXEC, std::string("OneHot: indices are ") + dtype_name(x.dtype) +
                                       "; the CPU kernel takes i32 and i64");
    }
}

} // namespace salus::cpu
