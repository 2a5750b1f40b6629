#include "exec/cuda/conv_plans.h"

#include "ops/conv_window.h"

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

ResampleMap constant_pad_map(const Shape &big, const Shape &small,
                             const std::vector<int64_t> &before) {
    ResampleMap m;
    fill_dims(big, small, &m);
    m.mode = ResampleMode::Constant;
    for (int d = 0; d < m.rank; ++d) m.before[d] = before[static_cast<size_t>(d)];
    return m;
}

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

Status plan_pool(const NodeDesc &node, const Shape &x, PoolPlan *p) {
    Window w;
    SALUS_RETURN_IF_ERROR(make_window(node, x, node.get_ints("kernel_shape"), pool_rule(node), &w));
    p->planes = x[0] * x[1];
    const int a = w.rank - 1; // the last spatial axis; a 1-D window has height 1
    p->iw = w.in[a];
    p->ow = w.out[a];
    p->kw = w.kernel[a];
    p->sw = w.stride[a];
    p->dw = w.dilation[a];
    p->pw = w.pad_begin[a];
    p->pw_end = w.pad_end[a];
    if (w.rank == 2) {
        p->ih = w.in[0];
        p->oh = w.out[0];
        p->kh = w.kernel[0];
        p->sh = w.stride[0];
        p->dh = w.dilation[0];
        p->ph = w.pad_begin[0];
        p->ph_end = w.pad_end[0];
    }
    p->include_pad =
        node.attr("count_include_pad") != nullptr && node.get_int("count_include_pad") == 1;
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
