#include "exec/cpu/dnnl_kernel.h"

#include "device/cpu_threads.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace salus::cpu {

using dnnl::memory;

namespace {

// Reorder buffers get ids past any an op uses.
constexpr size_t kFirstReorderBuffer = std::numeric_limits<size_t>::max() / 2;

size_t align(size_t bytes) {
    return (bytes + 63) / 64 * 64;
}

} // namespace

dnnl::engine &dnnl_cpu_engine() {
    // oneDNN's primitives fix their thread count when created, from the
    // creating thread's OpenMP default: sessions are prepared on threads
    // that run no kernels (2 threads on 2 cores, whatever --blas-threads
    // says), and a primitive made there ran every iteration on a team of 2,
    // the second thread spinning at the barriers.
    attach_cpu_math_threads();
    static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    return engine;
}

memory::desc dnnl_plain(const memory::dims &dims) {
    memory::dims strides(dims.size(), 1);
    for (size_t i = dims.size() - 1; i > 0; --i) strides[i - 1] = strides[i] * dims[i];
    return memory::desc(dims, memory::data_type::f32, strides);
}

memory::dims dnnl_dims(const Shape &s) {
    return memory::dims(s.begin(), s.end());
}

memory::desc dnnl_any(const memory::desc &like) {
    return memory::desc(like.dims(), memory::data_type::f32, memory::format_tag::any);
}

dnnl::primitive_attr dnnl_user_scratchpad() {
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    return attr;
}

Status dnnl_failure(const NodeDesc &node, const char *what, const dnnl::error &e) {
    return Status(SALUS_ENOTSUP, node.op + ": oneDNN " + what + " failed: " + e.what());
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

Status DnnlKernel::run(const KernelContext &ctx) {
    if (empty_) {
        // Nothing to compute: sums over nothing are zero.
        for (const TensorView &t : ctx.outputs) {
            const size_t bytes = static_cast<size_t>(t.numel()) * dtype_size(t.dtype);
            if (bytes > 0) std::memset(t.data, 0, bytes); // an empty one may have no data
        }
        return {};
    }
    try {
        for (const Binding &b : bindings_) {
            const TensorView &t = b.output ? ctx.outputs[b.index] : ctx.inputs[b.index];
            memories_[b.slot].set_data_handle(t.data);
        }
        auto *ws = static_cast<uint8_t *>(ctx.workspace);
        for (size_t slot : scratch_slots_) memories_[slot].set_data_handle(ws);
        for (const Buffer &b : buffers_) memories_[b.slot].set_data_handle(ws + b.offset);
        // The C call takes the argument arrays made at init; the C++
        // execute() would build them again on every call.
        for (Step &step : steps_) {
            dnnl::error::wrap_c_api(dnnl_primitive_execute(step.primitive.get(), stream_.get(),
                                                           static_cast<int>(step.args.size()),
                                                           step.args.data()),
                                    "could not execute a primitive");
        }
        stream_.wait();
    } catch (const dnnl::error &e) {
        return Status(SALUS_EEXEC, ctx.node->op + ": oneDNN execution failed: " + e.what());
    }
    return {};
}

size_t DnnlKernel::add_memory(const memory::desc &md) {
    memories_.push_back(memory(md, dnnl_cpu_engine(), DNNL_MEMORY_NONE));
    return memories_.size() - 1;
}

size_t DnnlKernel::buffer_slot(size_t id, const memory::desc &md) {
    for (const Buffer &b : buffers_) {
        if (b.id == id) return b.slot;
    }
    const size_t slot = add_memory(md);
    buffers_.push_back({slot, md.get_size(), id});
    return slot;
}

void DnnlKernel::add_step(const dnnl::primitive &primitive, const dnnl::primitive_desc_base &pd,
                          const std::vector<Arg> &args) {
    Step main{primitive, {}, pd.scratchpad_desc()};
    std::vector<Step> after;
    for (const Arg &a : args) {
        if (a.role == Role::Buffer) {
            main.args.push_back({a.arg, memories_[buffer_slot(a.index, a.layout)].get()});
            continue;
        }
        const bool output = a.role == Role::Output;
        const size_t user = add_memory(a.layout);
        bindings_.push_back({user, output, a.index});
        const memory::desc want = pd.query_md(dnnl::query::exec_arg_md, a.arg);
        if (want == a.layout) {
            main.args.push_back({a.arg, memories_[user].get()});
            continue;
        }
        const size_t inner = buffer_slot(kFirstReorderBuffer + memories_.size(), want);
        main.args.push_back({a.arg, memories_[inner].get()});
        dnnl::reorder::primitive_desc rpd(dnnl_cpu_engine(), output ? want : a.layout,
                                          dnnl_cpu_engine(), output ? a.layout : want,
                                          dnnl_user_scratchpad());
        Step r{dnnl::reorder(rpd),
               {{DNNL_ARG_FROM, memories_[output ? inner : user].get()},
                {DNNL_ARG_TO, memories_[output ? user : inner].get()}},
               rpd.scratchpad_desc()};
        if (output) {
            after.push_back(std::move(r));
        } else {
            steps_.push_back(std::move(r));
        }
    }
    steps_.push_back(std::move(main));
    for (Step &r : after) steps_.push_back(std::move(r));
}

float *DnnlKernel::buffer(const KernelContext &ctx, size_t id) const {
    for (const Buffer &b : buffers_) {
        if (b.id == id)
            return reinterpret_cast<float *>(static_cast<uint8_t *>(ctx.workspace) + b.offset);
    }
    return nullptr;
}

void DnnlKernel::finish() {
    // Every step's scratchpad starts the workspace (the steps run one by one).
    size_t scratch = 0;
    for (Step &step : steps_) {
        const size_t bytes = step.scratchpad.get_size();
        if (bytes == 0) continue;
        scratch = std::max(scratch, bytes);
        const size_t slot = add_memory(step.scratchpad);
        scratch_slots_.push_back(slot);
        step.args.push_back({DNNL_ARG_SCRATCHPAD, memories_[slot].get()});
    }
    size_t offset = align(scratch);
    for (Buffer &b : buffers_) {
        b.offset = offset;
        offset += align(b.bytes);
    }
    workspace_bytes_ = offset;
    stream_ = dnnl::stream(dnnl_cpu_engine());
}

} // namespace salus::cpu
