// Conv, ConvTranspose and ConvGradWeight on oneDNN (2.x API). Primitives are
// created when the session is prepared, on plain row-major layouts (our
// tensors' own), with a user scratchpad planned into T; run() only points
// oneDNN's memory objects at the iteration's tensors and executes.
//
// oneDNN's execute() itself allocates (it copies the argument map into an
// exec context): tests/unit/kernels/test_kernels_noalloc.cpp records that.
#include "exec/cpu/conv_kernels.h"
#include "ops/conv_window.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <cstring>
#include <string>
#include <unordered_map>

namespace salus::cpu {

namespace {

using dnnl::memory;
using Dims = memory::dims;

dnnl::engine &cpu_engine() {
    static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    return engine;
}

// A row-major f32 descriptor of `dims`.
memory::desc plain(const Dims &dims) {
    Dims strides(dims.size(), 1);
    for (size_t i = dims.size() - 1; i > 0; --i) strides[i - 1] = strides[i] * dims[i];
    return memory::desc(dims, memory::data_type::f32, strides);
}

Dims shape_dims(const Shape &s) {
    return Dims(s.begin(), s.end());
}

// Conv-style weights W [O, I/group, k...] as oneDNN sees them: grouped
// weights gain a leading group axis over the same bytes.
memory::desc conv_weights(const Shape &w, int64_t group) {
    if (group == 1) return plain(shape_dims(w));
    Dims dims{group, w[0] / group};
    dims.insert(dims.end(), w.begin() + 1, w.end());
    return plain(dims);
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

WindowDims window_dims(const Window &w, const std::vector<int64_t> &output_padding) {
    WindowDims d;
    for (int a = 0; a < w.rank; ++a) {
        d.strides.push_back(w.stride[a]);
        d.dilates.push_back(w.dilation[a] - 1); // oneDNN counts the holes
        d.pad_l.push_back(w.pad_begin[a]);
        // ConvTranspose's output_padding extends the end: less end padding
        // (possibly negative, which oneDNN takes).
        const int64_t extra =
            output_padding.empty() ? 0 : output_padding[static_cast<size_t>(a)];
        d.pad_r.push_back(w.pad_end[a] - extra);
    }
    return d;
}

dnnl::primitive_attr user_scratchpad() {
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    return attr;
}

Status dnnl_failure(const NodeDesc &node, const char *what, const dnnl::error &e) {
    return Status(SALUS_ENOTSUP, node.op + ": oneDNN " + what + " failed: " + e.what());
}

// One primitive with its arguments bound to memory objects made at init;
// run() rebinds their data and executes.
class DnnlKernel : public OpKernel {
  public:
    size_t workspace_bytes() const override { return scratch_bytes_; }

    Status run(const KernelContext &ctx) override {
        if (empty_) {
            // No window to compute: gradients of nothing are zero.
            for (const TensorView &t : ctx.outputs) {
                std::memset(t.data, 0, static_cast<size_t>(t.numel()) * sizeof(float));
            }
            return {};
        }
        try {
            for (const Binding &b : bindings_) {
                const TensorView &t = b.output ? ctx.outputs[b.index] : ctx.inputs[b.index];
                args_.at(b.arg).set_data_handle(t.data);
            }
            if (scratch_bytes_ > 0) args_.at(DNNL_ARG_SCRATCHPAD).set_data_handle(ctx.workspace);
            primitive_.execute(stream_, args_);
            stream_.wait();
        } catch (const dnnl::error &e) {
            return Status(SALUS_EEXEC, ctx.node->op + ": oneDNN execution failed: " + e.what());
        }
        return {};
    }

  protected:
    void bind(int arg, const memory::desc &md, bool output, size_t index) {
        args_.emplace(arg, memory(md, cpu_engine(), DNNL_MEMORY_NONE));
        bindings_.push_back({arg, output, index});
    }

    void finish(dnnl::primitive primitive, const memory::desc &scratch) {
        primitive_ = std::move(primitive);
        scratch_bytes_ = scratch.get_size();
        if (scratch_bytes_ > 0) {
            args_.emplace(DNNL_ARG_SCRATCHPAD, memory(scratch, cpu_engine(), DNNL_MEMORY_NONE));
        }
        stream_ = dnnl::stream(cpu_engine());
    }

    bool empty_ = false;

  private:
    struct Binding {
        int arg;
        bool output;
        size_t index;
    };
    std::vector<Binding> bindings_;
    std::unordered_map<int, memory> args_;
    dnnl::primitive primitive_;
    dnnl::stream stream_;
    size_t scratch_bytes_ = 0;
};

bool any_empty(const KernelInit &init) {
    for (const TensorView &t : init.inputs) {
        if (t.numel() == 0) return true;
    }
    for (const TensorView &t : init.outputs) {
        if (t.numel() == 0) return true;
    }
    return false;
}

class ConvKernel : public DnnlKernel {
  public:
    Status init(const KernelInit &init) {
        const NodeDesc &node = *init.node;
        const Shape &x = init.inputs[0].shape, &w = init.inputs[1].shape;
        Window win;
        SALUS_RETURN_IF_ERROR(make_window(node, x, std::vector<int64_t>(w.begin() + 2, w.end()),
                                          WindowRule::Floor, &win));
        empty_ = any_empty(init);
        if (empty_) return {};
        const WindowDims d = window_dims(win, {});
        const bool bias = init.inputs.size() > 2;
        const memory::desc src = plain(shape_dims(x));
        const memory::desc wei = conv_weights(w, node.get_int("group"));
        const memory::desc dst = plain(shape_dims(init.outputs[0].shape));
        const memory::desc b = bias ? plain({w[0]}) : memory::desc();
        try {
            dnnl::convolution_forward::desc desc(
                dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, src, wei,
                b, dst, d.strides, d.dilates, d.pad_l, d.pad_r);
            dnnl::convolution_forward::primitive_desc pd(desc, user_scratchpad(), cpu_engine());
            bind(DNNL_ARG_SRC, src, false, 0);
            bind(DNNL_ARG_WEIGHTS, wei, false, 1);
            if (bias) bind(DNNL_ARG_BIAS, b, false, 2);
            bind(DNNL_ARG_DST, dst, true, 0);
            finish(dnnl::convolution_forward(pd), pd.scratchpad_desc());
        } catch (const dnnl::error &e) {
            return dnnl_failure(node, "convolution", e);
        }
        return {};
    }
};

class ConvTransposeKernel : public DnnlKernel {
  public:
    Status init(const KernelInit &init) {
        const NodeDesc &node = *init.node;
        const Shape &x = init.inputs[0].shape, &w = init.inputs[1].shape;
        Window win;
        SALUS_RETURN_IF_ERROR(make_window(node, x, std::vector<int64_t>(w.begin() + 2, w.end()),
                                          WindowRule::Transpose, &win));
        empty_ = any_empty(init);
        if (empty_) return {};
        std::vector<int64_t> output_padding = node.get_ints("output_padding");
        output_padding.resize(static_cast<size_t>(win.rank), 0); // empty: none
        const WindowDims d = window_dims(win, output_padding);
        const bool bias = init.inputs.size() > 2;
        const memory::desc src = plain(shape_dims(x));
        const memory::desc wei = deconv_weights(w, node.get_int("group"));
        const Shape &y = init.outputs[0].shape;
        const memory::desc dst = plain(shape_dims(y));
        const memory::desc b = bias ? plain({y[1]}) : memory::desc();
        try {
            dnnl::deconvolution_forward::desc desc(
                dnnl::prop_kind::forward_training, dnnl::algorithm::deconvolution_direct, src,
                wei, b, dst, d.strides, d.dilates, d.pad_l, d.pad_r);
            dnnl::deconvolution_forward::primitive_desc pd(desc, user_scratchpad(),
                                                           cpu_engine());
            bind(DNNL_ARG_SRC, src, false, 0);
            bind(DNNL_ARG_WEIGHTS, wei, false, 1);
            if (bias) bind(DNNL_ARG_BIAS, b, false, 2);
            bind(DNNL_ARG_DST, dst, true, 0);
            finish(dnnl::deconvolution_forward(pd), pd.scratchpad_desc());
        } catch (const dnnl::error &e) {
            return dnnl_failure(node, "transposed convolution", e);
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
        const WindowDims d = window_dims(win, {});
        const bool bias = init.outputs.size() > 1;
        const memory::desc src = plain(shape_dims(x));
        const memory::desc wei = conv_weights(init.outputs[0].shape, node.get_int("group"));
        const memory::desc dst = plain(shape_dims(dy));
        const memory::desc b = bias ? plain({dy[1]}) : memory::desc();
        try {
            // oneDNN derives the backward primitive from a forward one.
            dnnl::convolution_forward::desc fwd(
                dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, src, wei,
                b, dst, d.strides, d.dilates, d.pad_l, d.pad_r);
            dnnl::convolution_forward::primitive_desc fwd_pd(fwd, cpu_engine());
            dnnl::convolution_backward_weights::desc desc(dnnl::algorithm::convolution_direct,
                                                          src, wei, b, dst, d.strides, d.dilates,
                                                          d.pad_l, d.pad_r);
            dnnl::convolution_backward_weights::primitive_desc pd(desc, user_scratchpad(),
                                                                  cpu_engine(), fwd_pd);
            bind(DNNL_ARG_DIFF_DST, dst, false, 0);
            bind(DNNL_ARG_SRC, src, false, 1);
            bind(DNNL_ARG_DIFF_WEIGHTS, wei, true, 0);
            if (bias) bind(DNNL_ARG_DIFF_BIAS, b, true, 1);
            finish(dnnl::convolution_backward_weights(pd), pd.scratchpad_desc());
        } catch (const dnnl::error &e) {
            return dnnl_failure(node, "convolution weight gradient", e);
        }
        return {};
    }
};

} // namespace

void register_conv_dnnl_kernels(KernelRegistry *registry) {
    registry->add(DeviceType::CPU, "Conv", make_kernel<ConvKernel>);
    registry->add(DeviceType::CPU, "ConvTranspose", make_kernel<ConvTransposeKernel>);
    registry->add(DeviceType::CPU, "ConvGradWeight", make_kernel<ConvGradWeightKernel>);
}

} // namespace salus::cpu
