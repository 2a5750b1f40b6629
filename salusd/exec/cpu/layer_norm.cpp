// Layer normalization and its gradient on oneDNN (exec/cpu/dnnl_kernel.h):
// X seen as [rows, k], the normalized axes [axis, rank) flattened, which
// oneDNN normalizes as its last axis. oneDNN's statistics are a mean and a
// biased variance, the ops save InvStdDev = 1/√(var + epsilon): the forward
// turns the variance into it after the primitive, the gradient turns it back
// before, O(rows) beside the primitive's O(numel).
#include "exec/cpu/dnnl_kernel.h"
#include "exec/cpu/helpers.h"
#include "exec/cpu/norm_kernels.h"
#include "exec/cuda/norm_device.h"

#include <algorithm>
#include <vector>

namespace salus::cpu {

LayerRows split_layer_rows(const NodeDesc &node, const Shape &x) {
    const int rank = static_cast<int>(x.size());
    const int axis = normalize_axis(node.get_int("axis"), rank);
    LayerRows r;
    for (int d = 0; d < rank; ++d) (d < axis ? r.rows : r.k) *= x[d];
    return r;
}

namespace {

using dnnl::memory;
using Flags = dnnl::normalization_flags;
using Role = DnnlKernel::Role;

// Workspace buffers of the statistics oneDNN computes or reads.
constexpr size_t kMeanBuffer = 0;
constexpr size_t kVarianceBuffer = 1;
// oneDNN 2.6's backward with use_shift will not execute without a shift,
// which it does not read: the gradient gives it this unused buffer.
constexpr size_t kUnusedShiftBuffer = 2;

// var = 1/inv_std²: the variance the gradient's primitive reads, with an
// epsilon of 0, for the saved statistic (var + epsilon of the forward).
void variance_from_inv_std(const float *inv_std, int64_t n, float *var) {
    for (int64_t i = 0; i < n; ++i) {
        const double s = inv_std[i];
        var[i] = static_cast<float>(1.0 / (s * s));
    }
}

// LayerNormalization: statistics per row, saved when the graph asks.
class DnnlLayerNormKernel : public DnnlKernel {
  public:
    Status init(const KernelInit &init) {
        SALUS_RETURN_IF_ERROR(check_f32(context_of(init), 2, 1));
        const LayerRows r = split_layer_rows(*init.node, init.inputs[0].shape);
        rows_ = r.rows;
        eps_ = static_cast<float>(init.node->get_float("epsilon"));
        empty_ = r.rows * r.k == 0;
        if (empty_) return {};
        const bool bias = init.inputs.size() > 2;
        const memory::desc x = dnnl_plain({r.rows, r.k});
        const memory::desc k = dnnl_plain({r.k});
        const memory::desc stats = dnnl_plain({r.rows});
        try {
            const Flags flags = bias ? Flags::use_scale | Flags::use_shift : Flags::use_scale;
            dnnl::layer_normalization_forward::desc desc(dnnl::prop_kind::forward_training, x,
                                                         stats, eps_, flags);
            dnnl::layer_normalization_forward::primitive_desc pd(desc, dnnl_user_scratchpad(),
                                                                 dnnl_cpu_engine());
            std::vector<Arg> args{{DNNL_ARG_SRC, Role::Input, 0, x},
                                  {DNNL_ARG_SCALE, Role::Input, 1, k},
                                  {DNNL_ARG_DST, Role::Output, 0, x},
                                  {DNNL_ARG_MEAN, Role::Buffer, kMeanBuffer, stats},
                                  {DNNL_ARG_VARIANCE, Role::Buffer, kVarianceBuffer, stats}};
            if (bias) args.push_back({DNNL_ARG_SHIFT, Role::Input, 2, k});
            add_step(dnnl::layer_normalization_forward(pd), pd, args);
            finish();
        } catch (const dnnl::error &e) {
            return dnnl_failure(*init.node, "layer normalization", e);
        }
        return {};
    }

    Status run(const KernelContext &ctx) override {
        SALUS_RETURN_IF_ERROR(DnnlKernel::run(ctx)); // zeroes the outputs when empty
        // Mean and InvStdDev from the primitive's statistics; rows of no
        // element have mean 0 and variance 0.
        const float *mean = empty_ ? nullptr : buffer(ctx, kMeanBuffer);
        const float *var = empty_ ? nullptr : buffer(ctx, kVarianceBuffer);
        if (mean && ctx.outputs.size() > 1) std::copy(mean, mean + rows_, ctx.outputs[1].f32());
        if (ctx.outputs.size() > 2) {
            float *inv_std = ctx.outputs[2].f32();
            for (int64_t i = 0; i < rows_; ++i) {
                inv_std[i] = cuda::norm_inv_std(var ? var[i] : 0.0, eps_);
            }
        }
        return {};
    }

  private:
    int64_t rows_ = 0;
    float eps_ = 0.0f;
};

// LayerNormalizationGrad, from the saved Mean and InvStdDev.
class DnnlLayerNormGradKernel : public DnnlKernel {
  public:
    Status init(const KernelInit &init) {
        SALUS_RETURN_IF_ERROR(check_f32(context_of(init), 5, 2));
        const LayerRows r = split_layer_rows(*init.node, init.inputs[1].shape);
        rows_ = r.rows;
        empty_ = any_empty(init);
        if (empty_) return {};
        const bool bias = init.outputs.size() > 2;
        const memory::desc x = dnnl_plain({r.rows, r.k});
        const memory::desc k = dnnl_plain({r.k});
        const memory::desc stats = dnnl_plain({r.rows});
        try {
            // Epsilon 0: the saved InvStdDev holds the forward's.
            const Flags flags = bias ? Flags::use_scale | Flags::use_shift : Flags::use_scale;
            dnnl::layer_normalization_forward::desc fwd(dnnl::prop_kind::forward_training, x, stats,
                                                        0.0f, flags);
            dnnl::layer_normalization_forward::primitive_desc fwd_pd(fwd, dnnl_user_scratchpad(),
                                                                     dnnl_cpu_engine());
            dnnl::layer_normalization_backward::desc bwd(dnnl::prop_kind::backward, x, x, stats,
                                                         0.0f, flags);
            dnnl::layer_normalization_backward::primitive_desc pd(bwd, dnnl_user_scratchpad(),
                                                                  dnnl_cpu_engine(), fwd_pd);
            std::vector<Arg> args{{DNNL_ARG_DIFF_DST, Role::Input, 0, x},
                                  {DNNL_ARG_SRC, Role::Input, 1, x},
                                  {DNNL_ARG_SCALE, Role::Input, 2, k},
                                  {DNNL_ARG_MEAN, Role::Input, 3, stats},
                                  {DNNL_ARG_VARIANCE, Role::Buffer, kVarianceBuffer, stats},
                                  {DNNL_ARG_DIFF_SRC, Role::Output, 0, x},
                                  {DNNL_ARG_DIFF_SCALE, Role::Output, 1, k}};
            if (bias) {
                args.push_back({DNNL_ARG_SHIFT, Role::Buffer, kUnusedShiftBuffer, k});
                args.push_back({DNNL_ARG_DIFF_SHIFT, Role::Output, 2, k});
            }
            add_step(dnnl::layer_normalization_backward(pd), pd, args);
            finish();
        } catch (const dnnl::error &e) {
            return dnnl_failure(*init.node, "layer normalization gradient", e);
        }
        return {};
    }

    Status run(const KernelContext &ctx) override {
        if (!empty_) {
            variance_from_inv_std(ctx.inputs[4].f32(), rows_, buffer(ctx, kVarianceBuffer));
        }
        return DnnlKernel::run(ctx);
    }

  private:
    int64_t rows_ = 0;
};

} // namespace

Status make_layer_norm(const KernelInit &init, std::unique_ptr<OpKernel> *out) {
    return make_kernel<DnnlLayerNormKernel>(init, out);
}

Status make_layer_norm_grad(const KernelInit &init, std::unique_ptr<OpKernel> *out) {
    return make_kernel<DnnlLayerNormGradKernel>(init, out);
}

} // namespace salus::cpu
