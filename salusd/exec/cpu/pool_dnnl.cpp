// MaxPool, AveragePool and their gradients on oneDNN pooling (exec/cpu/
// dnnl_kernel.h), multithreaded and vectorized. X goes through oneDNN's
// channel-blocked layout: on plain NCHW oneDNN 2.6 only has a slow reference
// pooling (for [32, 64, 32, 32], 3x3 windows, stride 2 on 2 threads: 100 ms
// against 14 ms blocked, reorders included). MaxPoolGrad runs the forward
// pooling again (its maxima and oneDNN's workspace of their positions in
// buffers of T), then the backward one.
// pool.cpp keeps plain loops for what oneDNN does not do as ONNX says:
// MaxPool's Indices, and count_include_pad with a ceil_mode window past the
// end pad (oneDNN divides by the whole window there, ONNX and torch by the
// part inside X and its pads).
#include "exec/cpu/conv_kernels.h"
#include "exec/cpu/dnnl_kernel.h"
#include "ops/conv_window.h"

#include <algorithm>
#include <string>
#include <vector>

namespace salus::cpu {

namespace {

using dnnl::memory;
using Dims = memory::dims;
using Role = DnnlKernel::Role;

struct PoolDims {
    Dims strides, kernel, dilation, pad_l, pad_r;
    bool extends_end = false; // pad_r goes past the end pad (ceil_mode)
};

Status pool_dims(const KernelInit &init, Window *w, PoolDims *d) {
    const NodeDesc &node = *init.node;
    const Shape &x = init.inputs.back().shape; // X: the only input, or the grad's last
    SALUS_RETURN_IF_ERROR(make_window(node, x, node.get_ints("kernel_shape"), pool_rule(node), w));
    for (int a = 0; a < w->rank; ++a) {
        d->strides.push_back(w->stride[a]);
        d->kernel.push_back(w->kernel[a]);
        d->dilation.push_back(w->dilation[a] - 1); // oneDNN counts the holes
        d->pad_l.push_back(w->pad_begin[a]);
        // oneDNN wants out = ⌊(in + pads − extent) / stride⌋ + 1: a ceil_mode
        // window that reaches past the end pad needs that much more.
        const int64_t reach = w->end_reach(a);
        d->pad_r.push_back(std::max(w->pad_end[a], reach));
        d->extends_end = d->extends_end || reach > w->pad_end[a];
    }
    return {};
}

// Channels in blocks of 8 (AVX2's width), where oneDNN's jit pooling runs.
memory::desc blocked(const memory::desc &like) {
    const memory::dims dims = like.dims();
    return memory::desc(dims, memory::data_type::f32,
                        dims.size() == 3 ? memory::format_tag::aBc8b : memory::format_tag::aBcd8b);
}

bool is_max(const NodeDesc &node) {
    return node.op == "MaxPool" || node.op == "MaxPoolGrad";
}

dnnl::algorithm pool_algorithm(const NodeDesc &node) {
    if (is_max(node)) return dnnl::algorithm::pooling_max;
    return node.get_int("count_include_pad") == 1 ? dnnl::algorithm::pooling_avg_include_padding
                                                  : dnnl::algorithm::pooling_avg_exclude_padding;
}

class DnnlPoolKernel : public DnnlKernel {
  public:
    Status init(const KernelInit &init) {
        Window w;
        PoolDims d;
        SALUS_RETURN_IF_ERROR(pool_dims(init, &w, &d));
        empty_ = any_empty(init);
        if (empty_) return {};
        const memory::desc src = dnnl_plain(dnnl_dims(init.inputs[0].shape));
        const memory::desc dst = dnnl_plain(dnnl_dims(init.outputs[0].shape));
        try {
            dnnl::pooling_v2_forward::desc desc(
                dnnl::prop_kind::forward_inference, pool_algorithm(*init.node), blocked(src),
                dnnl_any(dst), d.strides, d.kernel, d.dilation, d.pad_l, d.pad_r);
            dnnl::pooling_v2_forward::primitive_desc pd(desc, dnnl_user_scratchpad(),
                                                        dnnl_cpu_engine());
            add_step(dnnl::pooling_v2_forward(pd), pd,
                     {{DNNL_ARG_SRC, Role::Input, 0, src}, {DNNL_ARG_DST, Role::Output, 0, dst}});
            finish();
        } catch (const dnnl::error &e) {
            return dnnl_failure(*init.node, "pooling", e);
        }
        return {};
    }
};

class DnnlPoolGradKernel : public DnnlKernel {
  public:
    Status init(const KernelInit &init) {
        Window w;
        PoolDims d;
        SALUS_RETURN_IF_ERROR(pool_dims(init, &w, &d));
        empty_ = any_empty(init);
        if (empty_) return {};
        const bool max = is_max(*init.node);
        const memory::desc dy = dnnl_plain(dnnl_dims(init.inputs[0].shape));
        const memory::desc x = dnnl_plain(dnnl_dims(init.inputs[1].shape));
        try {
            const dnnl::algorithm alg = pool_algorithm(*init.node);
            dnnl::pooling_v2_forward::desc fwd(dnnl::prop_kind::forward_training, alg, blocked(x),
                                               dnnl_any(dy), d.strides, d.kernel, d.dilation,
                                               d.pad_l, d.pad_r);
            dnnl::pooling_v2_forward::primitive_desc fwd_pd(fwd, dnnl_user_scratchpad(),
                                                            dnnl_cpu_engine());
            dnnl::pooling_v2_backward::desc bwd(alg, blocked(x), dnnl_any(dy), d.strides, d.kernel,
                                                d.dilation, d.pad_l, d.pad_r);
            dnnl::pooling_v2_backward::primitive_desc pd(bwd, dnnl_user_scratchpad(),
                                                         dnnl_cpu_engine(), fwd_pd);
            std::vector<Arg> args{{DNNL_ARG_DIFF_DST, Role::Input, 0, dy},
                                  {DNNL_ARG_DIFF_SRC, Role::Output, 0, x}};
            if (max) {
                // The maxima (buffer 0) are recomputed for their positions
                // (buffer 1, oneDNN's workspace).
                const memory::desc ws = fwd_pd.workspace_desc();
                add_step(dnnl::pooling_v2_forward(fwd_pd), fwd_pd,
                         {{DNNL_ARG_SRC, Role::Input, 1, x},
                          {DNNL_ARG_DST, Role::Buffer, 0, fwd_pd.dst_desc()},
                          {DNNL_ARG_WORKSPACE, Role::Buffer, 1, ws}});
                args.push_back({DNNL_ARG_WORKSPACE, Role::Buffer, 1, ws});
            }
            add_step(dnnl::pooling_v2_backward(pd), pd, args);
            finish();
        } catch (const dnnl::error &e) {
            return dnnl_failure(*init.node, "pooling gradient", e);
        }
        return {};
    }
};

} // namespace

bool dnnl_pool_fits(const KernelInit &init) {
    if (init.node->op == "MaxPool" && init.outputs.size() > 1) return false; // Indices
    if (is_max(*init.node) || init.node->get_int("count_include_pad") == 0) return true;
    Window w;
    PoolDims d;
    return pool_dims(init, &w, &d).ok() && !d.extends_end;
}

Status make_dnnl_pool(const KernelInit &init, std::unique_ptr<OpKernel> *out) {
    return make_kernel<DnnlPoolKernel>(init, out);
}

Status make_dnnl_pool_grad(const KernelInit &init, std::unique_ptr<OpKernel> *out) {
    return make_kernel<DnnlPoolGradKernel>(init, out);
}

} // namespace salus::cpu
