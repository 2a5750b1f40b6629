// A CPU kernel made of oneDNN (2.x API) primitives: the conv family's
// convolutions and pooling, batch and layer normalization. The primitives, the reorders into the
// layouts they prefer and every memory object and argument array are made when the session is
// prepared; the scratchpads (user mode) and the buffers between steps are planned into T. run()
// points the memory objects at the iteration's tensors and workspace and executes the steps in
// order.
//
// oneDNN's execute itself allocates (it builds a map of the arguments and an
// execution context on every call): tests/unit/kernels/
// test_kernels_noalloc.cpp records and bounds that.
#pragma once

#include "exec/kernel.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <string>
#include <vector>

namespace salus::cpu {

// The CPU engine, for primitives created on the calling thread: first gives
// that thread's OpenMP teams salusd's kernel thread count
// (attach_cpu_math_threads), which the primitives keep.
dnnl::engine &dnnl_cpu_engine();

// A row-major f32 descriptor of `dims`.
dnnl::memory::desc dnnl_plain(const dnnl::memory::dims &dims);
dnnl::memory::dims dnnl_dims(const Shape &s);
// A descriptor that lets the primitive choose the layout.
dnnl::memory::desc dnnl_any(const dnnl::memory::desc &like);
// Primitive attributes with a user scratchpad (planned into T).
dnnl::primitive_attr dnnl_user_scratchpad();
// SALUS_ENOTSUP naming the op, for a primitive oneDNN cannot make.
Status dnnl_failure(const NodeDesc &node, const char *what, const dnnl::error &e);

class DnnlKernel : public OpKernel {
  public:
    size_t workspace_bytes() const override { return workspace_bytes_; }
    Status run(const KernelContext &ctx) override;

    // An argument of a step: a tensor of the node (input or output `index`,
    // in its own layout) or a buffer of the workspace shared between steps
    // (`index` names it; the first step that uses it gives its layout).
    enum class Role { Input, Output, Buffer };
    struct Arg {
        int arg; // DNNL_ARG_*
        Role role;
        size_t index;
        dnnl::memory::desc layout;
    };

  protected:
    // Adds `primitive` (made from `pd`, with a user scratchpad), with
    // reorders before or after it where pd wants a tensor in another layout.
    void add_step(const dnnl::primitive &primitive, const dnnl::primitive_desc_base &pd,
                  const std::vector<Arg> &args);
    // Lays out the workspace once every step is added.
    void finish();
    // Buffer `id` (an Arg's index) in this run's workspace, for the work a
    // kernel does around the steps (run() overridden).
    float *buffer(const KernelContext &ctx, size_t id) const;

    // Set by init when a tensor is empty: run() zeroes the outputs instead.
    bool empty_ = false;

  private:
    size_t add_memory(const dnnl::memory::desc &md);
    size_t buffer_slot(size_t id, const dnnl::memory::desc &md);

    struct Binding {
        size_t slot; // in memories_
        bool output;
        size_t index; // of the input or output
    };
    struct Buffer {
        size_t slot;
        size_t bytes;
        size_t id;         // an Arg's index; reorder buffers have their own
        size_t offset = 0; // in the workspace, after the scratchpad
    };
    struct Step {
        dnnl::primitive primitive;
        std::vector<dnnl_exec_arg_t> args;
        dnnl::memory::desc scratchpad;
    };
    std::vector<dnnl::memory> memories_;
    std::vector<Binding> bindings_;
    std::vector<Buffer> buffers_;
    std::vector<size_t> scratch_slots_;
    std::vector<Step> steps_;
    dnnl::stream stream_;
    size_t workspace_bytes_ = 0;
};

// Whether any input or output of init is empty.
bool any_empty(const KernelInit &init);

} // namespace salus::cpu
