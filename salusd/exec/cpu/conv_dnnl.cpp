// Conv, ConvTranspose and ConvGradWeight on oneDNN (exec/cpu/dnnl_kernel.h).
// The primitives choose their layouts (format any): on a ResNet 3x3 conv
// (batch 32, 64 channels, 32x32, 2 threads, AVX2) oneDNN's blocked layouts
// take about 63 ms forward, 56 ms for the data and 75 ms for the weight
// gradient, reorders into workspace buffers included, against 105, 109 and
// 620 ms on our plain NCHW (its gemm implementation); the price is the
// reorder buffers in T (17 MB there).
#include "exec/cpu/conv_kernels.h"
#include "exec/cpu/dnnl_kernel.h"
#include "ops/conv_window.h"

#include <cstring>
#include <string>
#include <vector>

namespace salus::cpu {

namespace {

using dnnl::memory;
using Dims = memory::dims;
using Role = DnnlKernel::Role;

// Conv-style weights W [O, I/group, k...] as oneDNN sees them: grouped
// weights gain a leading group axis over the same bytes.
memory::desc conv_weights(const Shape &w, int64_t group) {
    if (group == 1) return dnnl_plain(dnnl_dims(w));
    Dims dims{group, w[0] / group};
    dims.insert(dims.end(), w.begin() + 1, w.end());
    return dnnl_plain(dims);
}

// ConvTranspose's W [C, M/group, k...]: oneDNN wants [group, M/group,
// C/group, k...] (output channels first), strided over our bytes.
memory::desc deconv_weights(const Shape &w, int64_t group) {
    int64_t k = 1;
    for (size_t i = 2; i < w.size(); ++i) k *= w[i];
    const int64_t cg = w[0] / group, mg = w[1];
    Dims dims{mg, cg}, strides{k, mg * k};
    if (group != 1) {
        dims.insert(dims.begin(), group);
        strides.insert(strides.begin(), cg * mg * k);
    }
    int64_t s = k;
    for (size_t i = 2; i < w.size(); ++i) {
        dims.push_back(w[i]);
        s /= w[i];
        strides.push_back(s);
    }
    return memory::desc(dims, memory::data_type::f32, strides);
}

struct WindowDims {
    Dims strides, dilates, pad_l, pad_r;
};

WindowDims window_dims(const Window &w) {
    WindowDims d;
    for (int a = 0; a < w.rank; ++a) {
        d.strides.push_back(w.stride[a]);
        d.dilates.push_back(w.dilation[a] - 1); // oneDNN counts the holes
        d.pad_l.push_back(w.pad_begin[a]);
        // ConvTranspose's output_padding extends the end: less end padding
        // (possibly negative, which oneDNN takes).
        d.pad_r.push_back(w.pad_end[a] - w.output_padding[a]);
    }
    return d;
}

// Without input channels a convolution is its bias: Y[n, m, ...] = B[m], or 0.
Status bias_only(const KernelContext &ctx) {
    const TensorView &y = ctx.outputs[0];
    if (y.numel() == 0) return {};
    if (ctx.inputs.size() < 3) {
        std::memset(y.data, 0, static_cast<size_t>(y.numel()) * sizeof(float));
        return {};
    }
    const float *b = ctx.inputs[2].f32();
    const int64_t m = y.shape[1], size = y.numel() / (y.shape[0] * m);
    float *out = y.f32();
    for (int64_t i = 0; i < y.numel(); ++i) out[i] = b[i / size % m];
    return {};
}

// A convolution or its transpose: the output gets the bias even when empty_.
class ConvLikeKernel : public DnnlKernel {
  public:
    Status run(const KernelContext &ctx) override {
        return empty_ ? bias_only(ctx) : DnnlKernel::run(ctx);
    }
};

// How Conv and ConvTranspose differ: oneDNN's primitive and algorithm, the
// window rule, the weights' layout and where the bias length comes from.
struct ConvForward {
    using Primitive = dnnl::convolution_forward;
    static constexpr dnnl::algorithm kAlgorithm = dnnl::algorithm::convolution_direct;
    static constexpr WindowRule kRule = WindowRule::Floor;
    static constexpr const char *kWhat = "convolution";
    static memory::desc weights(const Shape &w, int64_t group) { return conv_weights(w, group); }
};

struct DeconvForward {
    using Primitive = dnnl::deconvolution_forward;
    static constexpr dnnl::algorithm kAlgorithm = dnnl::algorithm::deconvolution_direct;
    static constexpr WindowRule kRule = WindowRule::Transpose;
    static constexpr const char *kWhat = "transposed convolution";
    static memory::desc weights(const Shape &w, int64_t group) { return deconv_weights(w, group); }
};

// Y = X (*) W (+ B) on one oneDNN forward primitive: Conv or ConvTranspose.
template <typename Kind>
class ConvForwardKernel : public ConvLikeKernel {
  public:
    Status init(const KernelInit &init) {
        const NodeDesc &node = *init.node;
        const Shape &x = init.inputs[0].shape, &w = init.inputs[1].shape;
        Window win;
        SALUS_RETURN_IF_ERROR(
            make_window(node, x, std::vector<int64_t>(w.begin() + 2, w.end()), Kind::kRule, &win));
        empty_ = any_empty(init);
        if (empty_) return {};
        const WindowDims d = window_dims(win);
        const bool bias = init.inputs.size() > 2;
        const Shape &y = init.outputs[0].shape;
        const memory::desc src = dnnl_plain(dnnl_dims(x));
        const memory::desc wei = Kind::weights(w, node.get_int("group"));
        const memory::desc dst = dnnl_plain(dnnl_dims(y));
        const memory::desc b = bias ? dnnl_plain({y[1]}) : memory::desc();
        try {
            typename Kind::Primitive::desc desc(dnnl::prop_kind::forward_training, Kind::kAlgorithm,
                                                dnnl_any(src), dnnl_any(wei), b, dnnl_any(dst),
                                                d.strides, d.dilates, d.pad_l, d.pad_r);
            typename Kind::Primitive::primitive_desc pd(desc, dnnl_user_scratchpad(),
                                                        dnnl_cpu_engine());
            std::vector<Arg> args{{DNNL_ARG_SRC, Role::Input, 0, src},
                                  {DNNL_ARG_WEIGHTS, Role::Input, 1, wei},
                                  {DNNL_ARG_DST, Role::Output, 0, dst}};
            if (bias) args.push_back({DNNL_ARG_BIAS, Role::Input, 2, b});
            add_step(typename Kind::Primitive(pd), pd, args);
            finish();
        } catch (const dnnl::error &e) {
            return dnnl_failure(node, Kind::kWhat, e);
        }
        return {};
    }
};

class ConvGradWeightKernel : public DnnlKernel {
  public:
    Status init(const KernelInit &init) {
        const NodeDesc &node = *init.node;
        const Shape &dy = init.inputs[0].shape, &x = init.inputs[1].shape;
        Window win;
        SALUS_RETURN_IF_ERROR(
            make_window(node, x, node.get_ints("kernel_shape"), WindowRule::Floor, &win));
        empty_ = any_empty(init);
        if (empty_) return {};
        const WindowDims d = window_dims(win);
        const bool bias = init.outputs.size() > 1;
        const memory::desc src = dnnl_plain(dnnl_dims(x));
        const memory::desc wei = conv_weights(init.outputs[0].shape, node.get_int("group"));
        const memory::desc dst = dnnl_plain(dnnl_dims(dy));
        const memory::desc b = bias ? dnnl_plain({dy[1]}) : memory::desc();
        try {
            // oneDNN derives the backward primitive from a forward one.
            const memory::desc asrc = dnnl_any(src), awei = dnnl_any(wei), adst = dnnl_any(dst);
            dnnl::convolution_forward::desc fwd(dnnl::prop_kind::forward_training,
                                                dnnl::algorithm::convolution_direct, asrc, awei, b,
                                                adst, d.strides, d.dilates, d.pad_l, d.pad_r);
            dnnl::convolution_forward::primitive_desc fwd_pd(fwd, dnnl_cpu_engine());
            dnnl::convolution_backward_weights::desc desc(dnnl::algorithm::convolution_direct, asrc,
                                                          awei, b, adst, d.strides, d.dilates,
                                                          d.pad_l, d.pad_r);
            dnnl::convolution_backward_weights::primitive_desc pd(desc, dnnl_user_scratchpad(),
                                                                  dnnl_cpu_engine(), fwd_pd);
            std::vector<Arg> args{{DNNL_ARG_DIFF_DST, Role::Input, 0, dst},
                                  {DNNL_ARG_SRC, Role::Input, 1, src},
                                  {DNNL_ARG_DIFF_WEIGHTS, Role::Output, 0, wei}};
            if (bias) args.push_back({DNNL_ARG_DIFF_BIAS, Role::Output, 1, b});
            add_step(dnnl::convolution_backward_weights(pd), pd, args);
            finish();
        } catch (const dnnl::error &e) {
            return dnnl_failure(node, "convolution weight gradient", e);
        }
        return {};
    }
};

} // namespace

void register_conv_dnnl_kernels(KernelRegistry *registry) {
    registry->add(DeviceType::CPU, "Conv", make_kernel<ConvForwardKernel<ConvForward>>);
    registry->add(DeviceType::CPU, "ConvTranspose", make_kernel<ConvForwardKernel<DeconvForward>>);
    registry->add(DeviceType::CPU, "ConvGradWeight", make_kernel<ConvGradWeightKernel>);
}

} // namespace salus::cpu
