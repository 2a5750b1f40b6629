#include "exec/cuda/conv_plans.h"

#include <string>

namespace salus::cuda {

namespace {

Status check_f32_rank(const KernelContext &ctx, const Shape &big) {
    for (const TensorView &t : ctx.inputs) {
        if (t.dtype != DType::F32) return Status(SALUS_EEXEC, ctx.node->op + ": needs f32");
    }
    if (big.size() > static_cast<size_t>(kMaxRank)) {
        return Status(SALUS_EEXEC, ctx.node->op + ": rank " + std::to_string(big.size()) +
                                       " is over " + std::to_string(kMaxRank));
    }
    return {};
}

// out (the larger tensor) and in (the one read or summed into) of a map.
void fill_dims(const Shape &out, const Shape &in, ResampleMap *m) {
    m->rank = static_cast<int>(out.size());
    int64_t stride = 1;
    for (int d = m->rank - 1; d >= 0; --d) {
        m->out_dims[d] = out[static_cast<size_t>(d)];
        m->in_dims[d] = in[static_cast<size_t>(d)];
        m->in_strides[d] = stride;
        stride *= m->in_dims[d];
    }
}

} // namespace

Status plan_pad(const KernelContext &ctx, bool grad, ResampleMap *m) {
    const Shape &small = grad ? ctx.outputs[0].shape : ctx.inputs[0].shape;
    const Shape &big = grad ? ctx.inputs[0].shape : ctx.outputs[0].shape;
    SALUS_RETURN_IF_ERROR(check_f32_rank(ctx, big));
    fill_dims(big, small, m);
    const std::string &mode = ctx.node->get_string("mode");
    m->mode = mode == "reflect" ? ResampleMode::Reflect
              : mode == "edge"  ? ResampleMode::Edge
                                : ResampleMode::Constant;
    const std::vector<int64_t> &pads = ctx.node->get_ints("pads");
    for (int d = 0; d < m->rank; ++d) m->before[d] = pads[static_cast<size_t>(d)];
    return {};
}

Status plan_upsample(const KernelContext &ctx, bool grad, ResampleMap *m) {
    const Shape &small = grad ? ctx.outputs[0].shape : ctx.inputs[0].shape;
    const Shape &big = grad ? ctx.inputs[0].shape : ctx.outputs[0].shape;
    SALUS_RETURN_IF_ERROR(check_f32_rank(ctx, big));
    fill_dims(big, small, m);
    m->mode = ResampleMode::Upsample;
    const std::vector<int64_t> &scales = ctx.node->get_ints("scales");
    for (int d = 0; d < m->rank; ++d) m->scale[d] = scales[static_cast<size_t>(d)];
    return {};
}

Status plan_depth_space(const KernelContext &ctx, DepthSpace *p) {
    const bool to_space = ctx.node->op == "DepthToSpace";
    const Shape &space = to_space ? ctx.outputs[0].shape : ctx.inputs[0].shape;
    SALUS_RETURN_IF_ERROR(check_f32_rank(ctx, space));
    p->c = space[1];
    p->h = space[2];
    p->w = space[3];
    p->block = ctx.node->get_int("blocksize");
    p->crd = ctx.node->get_string("mode") == "CRD";
    return {};
}

} // namespace salus::cuda
