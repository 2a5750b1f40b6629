// Conv, ConvTranspose and ConvGradWeight on oneDNN (2.x API). Primitives and
// the reorders into their preferred layouts are created when the session is
// prepared, with a user scratchpad and the reorder buffers planned into T;
// run() only points oneDNN's memory objects at the iteration's tensors and
// executes.
//
// oneDNN's execute itself allocates (it builds a map of the arguments and
// an execution context on every call): tests/unit/kernels/
// test_kernels_noalloc.cpp records and bounds that.
#include "exec/cpu/conv_kernels.h"
#include "ops/conv_window.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

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

// One primitive and the reorders around it, each with its argument array
// made at init; run() points the memory objects at the iteration's tensors
// and workspace and executes them in order. The primitive picks its own
// layouts (format `any`: oneDNN's blocked layouts run the 3x3 convolutions
// of a ResNet several times faster than our plain NCHW, the weight gradient
// most); where it picks one that is not the tensor's, a reorder moves the
// tensor into a buffer of the workspace before it (inputs) or out of one
// after it (outputs). The workspace holds the scratchpad, then the buffers.
class DnnlKernel : public OpKernel {
  public:
    size_t workspace_bytes() const override { return workspace_bytes_; }

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
                memories_[b.slot].set_data_handle(t.data);
            }
            auto *ws = static_cast<uint8_t *>(ctx.workspace);
            for (const Buffer &b : buffers_) memories_[b.slot].set_data_handle(ws + b.offset);
            // The C call takes the argument arrays made at init; the C++
            // execute() would build them again on every call.
            for (Step &step : steps_) {
                dnnl::error::wrap_c_api(
                    dnnl_primitive_execute(step.primitive.get(), stream_.get(),
                                           static_cast<int>(step.args.size()), step.args.data()),
                    "could not execute a primitive");
            }
            stream_.wait();
        } catch (const dnnl::error &e) {
            return Status(SALUS_EEXEC, ctx.node->op + ": oneDNN execution failed: " + e.what());
        }
        return {};
    }

  protected:
    // An argument of the primitive: oneDNN's argument id, which tensor of
    // the node it is, and that tensor's own layout.
    struct Arg {
        int arg;
        bool output;
        size_t index;
        memory::desc layout;
    };

    // Binds `primitive` (made from `pd`, with a user scratchpad) to `args`,
    // adding reorders where pd wants another layout.
    void setup(const dnnl::primitive &primitive, const dnnl::primitive_desc_base &pd,
               const std::vector<Arg> &args) {
        Step main{primitive, {}, pd.scratchpad_desc()};
        std::vector<Step> before, after;
        std::vector<std::pair<size_t, size_t>> buffers; // slot, bytes
        for (const Arg &a : args) {
            const size_t user = add_memory(a.layout);
            bindings_.push_back({user, a.output, a.index});
            const memory::desc want = pd.query_md(dnnl::query::exec_arg_md, a.arg);
            if (want == a.layout) {
                main.args.push_back({a.arg, memories_[user].get()});
                continue;
            }
            const size_t inner = add_memory(want);
            buffers.emplace_back(inner, want.get_size());
            main.args.push_back({a.arg, memories_[inner].get()});
            const memory::desc &from = a.output ? want : a.layout;
            const memory::desc &to = a.output ? a.layout : want;
            dnnl::reorder::primitive_desc rpd(cpu_engine(), from, cpu_engine(), to,
                                              user_scratchpad());
            Step r{dnnl::reorder(rpd),
                   {{DNNL_ARG_FROM, memories_[a.output ? inner : user].get()},
                    {DNNL_ARG_TO, memories_[a.output ? user : inner].get()}},
                   rpd.scratchpad_desc()};
            (a.output ? after : before).push_back(std::move(r));
        }
        steps_ = std::move(before);
        steps_.push_back(std::move(main));
        for (Step &r : after) steps_.push_back(std::move(r));
        // Every step's scratchpad starts the workspace (they run one by one).
        size_t scratch = 0;
        for (Step &step : steps_) {
            const size_t bytes = step.scratchpad.get_size();
            if (bytes == 0) continue;
            scratch = std::max(scratch, bytes);
            const size_t slot = add_memory(step.scratchpad);
            buffers_.push_back({slot, 0});
            step.args.push_back({DNNL_ARG_SCRATCHPAD, memories_[slot].get()});
        }
        size_t offset = align(scratch);
        for (const auto &[slot, bytes] : buffers) {
            buffers_.push_back({slot, offset});
            offset += align(bytes);
        }
        workspace_bytes_ = offset;
        stream_ = dnnl::stream(cpu_engine());
    }

    bool empty_ = false;

  private:
    static size_t align(size_t bytes) { return (bytes + 63) / 64 * 64; }

    size_t add_memory(const memory::desc &md) {
        memories_.push_back(memory(md, cpu_engine(), DNNL_MEMORY_NONE));
        return memories_.size() - 1;
    }

    struct Binding {
        size_t slot; // in memories_
        bool output;
        size_t index; // of the input or output
    };
    struct Buffer {
        size_t slot;
        size_t offset; // in the workspace
    };
    struct Step {
        dnnl::primitive primitive;
        std::vector<dnnl_exec_arg_t> args;
        memory::desc scratchpad;
    };
    std::vector<memory> memories_;
    std::vector<Binding> bindings_;
    std::vector<Buffer> buffers_;
    std::vector<Step> steps_;
    dnnl::stream stream_;
    size_t workspace_bytes_ = 0;
};

// A descriptor that lets the primitive choose the layout.
memory::desc any_layout(const memory::desc &like) {
    return memory::desc(like.dims(), memory::data_type::f32, memory::format_tag::any);
}

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
                dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                any_layout(src), any_layout(wei), b, any_layout(dst), d.strides, d.dilates,
                d.pad_l, d.pad_r);
            dnnl::convolution_forward::primitive_desc pd(desc, user_scratchpad(), cpu_engine());
            std::vector<Arg> args{{DNNL_ARG_SRC, false, 0, src},
                                  {DNNL_ARG_WEIGHTS, false, 1, wei},
                                  {DNNL_ARG_DST, true, 0, dst}};
            if (bias) args.push_back({DNNL_ARG_BIAS, false, 2, b});
            setup(dnnl::convolution_forward(pd), pd, args);
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
                dnnl::prop_kind::forward_training, dnnl::algorithm::deconvolution_direct,
                any_layout(src), any_layout(wei), b, any_layout(dst), d.strides, d.dilates,
                d.pad_l, d.pad_r);
            dnnl::deconvolution_forward::primitive_desc pd(desc, user_scratchpad(),
                                                           cpu_engine());
            std::vector<Arg> args{{DNNL_ARG_SRC, false, 0, src},
                                  {DNNL_ARG_WEIGHTS, false, 1, wei},
                                  {DNNL_ARG_DST, true, 0, dst}};
            if (bias) args.push_back({DNNL_ARG_BIAS, false, 2, b});
            setup(dnnl::deconvolution_forward(pd), pd, args);
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
            const memory::desc asrc = any_layout(src), awei = any_layout(wei),
                               adst = any_layout(dst);
            dnnl::convolution_forward::desc fwd(
                dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, asrc,
                awei, b, adst, d.strides, d.dilates, d.pad_l, d.pad_r);
            dnnl::convolution_forward::primitive_desc fwd_pd(fwd, cpu_engine());
            dnnl::convolution_backward_weights::desc desc(dnnl::algorithm::convolution_direct,
                                                          asrc, awei, b, adst, d.strides,
                                                          d.dilates, d.pad_l, d.pad_r);
            dnnl::convolution_backward_weights::primitive_desc pd(desc, user_scratchpad(),
                                                                  cpu_engine(), fwd_pd);
            std::vector<Arg> args{{DNNL_ARG_DIFF_DST, false, 0, dst},
                                  {DNNL_ARG_SRC, false, 1, src},
                                  {DNNL_ARG_DIFF_WEIGHTS, true, 0, wei}};
            if (bias) args.push_back({DNNL_ARG_DIFF_BIAS, true, 1, b});
            setup(dnnl::convolution_backward_weights(pd), pd, args);
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
