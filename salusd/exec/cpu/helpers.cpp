#include "exec/cpu/helpers.h"

#include <climits>

#include <string>

namespace salus::cpu {

namespace {

Status dtype_error(const KernelContext &ctx, const char *what, size_t index, DType dtype) {
    return Status(SALUS_EEXEC, ctx.node->op + ": " + what + " " + std::to_string(index) + " is " +
                                   dtype_name(dtype) + "; the kernels support f32 only");
}

} // namespace

Status check_arity(const KernelContext &ctx, size_t min_inputs, size_t num_outputs) {
    if (ctx.inputs.size() < min_inputs || ctx.outputs.size() < num_outputs) {
        return Status(SALUS_EEXEC, ctx.node->op + ": kernel called with " +
                                       std::to_string(ctx.inputs.size()) + " inputs and " +
                                       std::to_string(ctx.outputs.size()) + " outputs");
    }
    return Status();
}

KernelContext context_of(const KernelInit &init) {
    KernelContext ctx;
    ctx.node = init.node;
    ctx.inputs = init.inputs;
    ctx.outputs = init.outputs;
    return ctx;
}

Status check_f32(const KernelContext &ctx, size_t min_inputs, size_t num_outputs) {
    SALUS_RETURN_IF_ERROR(check_arity(ctx, min_inputs, num_outputs));
    for (size_t i = 0; i < ctx.inputs.size(); ++i) {
        if (ctx.inputs[i].dtype != DType::F32) {
            return dtype_error(ctx, "input", i, ctx.inputs[i].dtype);
        }
    }
    for (size_t i = 0; i < ctx.outputs.size(); ++i) {
        if (ctx.outputs[i].dtype != DType::F32) {
            return dtype_error(ctx, "output", i, ctx.outputs[i].dtype);
        }
    }
    return Status();
}

Status gemm_dims(const KernelContext &ctx, GemmDims *dims) {
    SALUS_RETURN_IF_ERROR(check_f32(ctx, 2, 1));
    const std::string &op = ctx.node->op;
    const Shape &a = ctx.inputs[0].shape;
    const Shape &b = ctx.inputs[1].shape;
    const Shape &y = ctx.outputs[0].shape;
    const size_t ra = a.size(), rb = b.size(), ry = y.size();
    if (ra < 2 || rb < 2 || ry < 2 || ry > kMaxRank) {
        return Status(SALUS_EEXEC,
                      op + ": operands must have rank 2 to " + std::to_string(kMaxRank));
    }
    const bool trans_a = ctx.node->get_int("transA") != 0;
    const bool trans_b = ctx.node->get_int("transB") != 0;
    const int64_t m = trans_a ? a[ra - 1] : a[ra - 2];
    const int64_t k = trans_a ? a[ra - 2] : a[ra - 1];
    const int64_t kb = trans_b ? b[rb - 1] : b[rb - 2];
    const int64_t n = trans_b ? b[rb - 2] : b[rb - 1];
    // The batch walk, built in place: a kernel must not allocate.
    StridedLoop &loop = dims->batch;
    loop = StridedLoop();
    loop.rank = static_cast<int>(ry - 2);
    loop.operands = 3;
    const Shape *operand[3] = {&y, &a, &b};
    const int64_t matrix[3] = {m * n, m * k, k * n}; // each batch step moves whole matrices
    bool agree = k == kb && y[ry - 2] == m && y[ry - 1] == n;
    for (int op_i = 0; op_i < 3 && agree; ++op_i) {
        const Shape &s = *operand[op_i];
        const int lead = loop.rank - static_cast<int>(s.size() - 2);
        if (lead < 0) agree = false;
        int64_t step = matrix[op_i];
        for (int d = loop.rank - 1; d >= 0 && agree; --d) {
            const int64_t dim = d < lead ? 1 : s[d - lead];
            if (dim != y[d] && dim != 1) agree = false;
            loop.strides[op_i][d] = dim == 1 ? 0 : step;
            step *= dim;
        }
    }
    if (!agree) return Status(SALUS_EEXEC, op + ": operand shapes do not agree with the output");
    for (int64_t d : {a[ra - 2], a[ra - 1], b[rb - 2], b[rb - 1]}) {
        if (d > INT_MAX) return Status(SALUS_EEXEC, op + ": a dimension exceeds BLAS's int range");
    }
    dims->batches = 1;
    for (int d = 0; d < loop.rank; ++d) {
        loop.dims[d] = y[d];
        dims->batches *= y[d];
    }
    loop.simplify();
    dims->trans_a = trans_a;
    dims->trans_b = trans_b;
    dims->m = static_cast<int>(m);
    dims->n = static_cast<int>(n);
    dims->k = static_cast<int>(k);
    dims->lda = static_cast<int>(a[ra - 1]);
    dims->ldb = static_cast<int>(b[rb - 1]);
    return Status();
}

int normalize_axis(int64_t axis, int rank) {
    if (axis < 0) axis += rank;
    return axis >= 0 && axis < rank ? static_cast<int>(axis) : -1;
}

void contiguous_strides(const Shape &shape, int64_t strides[kMaxRank]) {
    int64_t s = 1;
    for (size_t i = shape.size(); i-- > 0;) {
        strides[i] = s;
        s *= shape[i];
    }
}

bool broadcast_strides(const Shape &in, const Shape &out, int64_t strides[kMaxRank]) {
    const size_t rank = out.size();
    if (rank > kMaxRank || in.size() > rank) return false;
    const size_t lead = rank - in.size();
    int64_t s = 1;
    for (size_t i = rank; i-- > 0;) {
        if (i < lead) {
            strides[i] = 0;
            continue;
        }
        const int64_t d = in[i - lead];
        if (d == out[i]) {
            strides[i] = d == 1 ? 0 : s;
        } else if (d == 1) {
            strides[i] = 0;
        } else {
            return false;
        }
        s *= d;
    }
    return true;
}

void StridedLoop::simplify() {
    // Drop size-1 dimensions: their strides never matter.
    int r = 0;
    for (int d = 0; d < rank; ++d) {
        if (dims[d] == 1) continue;
        dims[r] = dims[d];
        for (int k = 0; k < operands; ++k) strides[k][r] = strides[k][d];
        ++r;
    }
    if (r == 0) {
        dims[0] = 1;
        for (int k = 0; k < operands; ++k) strides[k][0] = 0;
        rank = 1;
        return;
    }
    // Merge dimension d into d+1 when every operand steps over d as one block.
    int out = r - 1;
    for (int d = r - 2; d >= 0; --d) {
        bool merge = true;
        for (int k = 0; k < operands; ++k) {
            if (strides[k][d] != strides[k][out] * dims[out]) merge = false;
        }
        if (merge) {
            dims[out] *= dims[d];
            continue;
        }
        --out;
        dims[out] = dims[d];
        for (int k = 0; k < operands; ++k) strides[k][out] = strides[k][d];
    }
    rank = r - out;
    for (int d = 0; d < rank; ++d) {
        dims[d] = dims[d + out];
        for (int k = 0; k < operands; ++k) strides[k][d] = strides[k][d + out];
    }
}

StridedLoop make_loop(const Shape &dims, int operands, const int64_t (*strides)[kMaxRank]) {
    StridedLoop loop;
    loop.rank = static_cast<int>(dims.size());
    loop.operands = operands;
    for (int d = 0; d < loop.rank; ++d) {
        loop.dims[d] = dims[d];
        for (int k = 0; k < operands; ++k) loop.strides[k][d] = strides[k][d];
    }
    loop.simplify();
    return loop;
}

} // namespace salus::cpu
