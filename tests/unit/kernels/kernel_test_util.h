// Shared pieces of the kernel tests: tensors over std::vector, node
// construction, running a registered CPU kernel, and index arithmetic for the
// reference implementations.
#pragma once

#include "exec/kernel.h"
#include "graph/ops.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace salus::test {

// A tensor of 4-byte elements: f32 values, or i32 ones (dtype I32) kept bit
// for bit in `data`; other dtypes (bool, i64) keep their bytes in as many
// 4-byte words as they need (Tensor(shape, dtype)).
struct Tensor {
    Shape shape;
    std::vector<float> data;
    DType dtype = DType::F32;

    Tensor() = default;
    explicit Tensor(Shape s)
        : shape(std::move(s)), data(static_cast<size_t>(num_elements(shape))) {}
    Tensor(Shape s, std::vector<float> d) : shape(std::move(s)), data(std::move(d)) {}
    Tensor(Shape s, DType d)
        : shape(std::move(s)),
          data((static_cast<size_t>(num_elements(shape)) * dtype_size(d) + 3) / 4), dtype(d) {}
    size_t size() const { return data.size(); }
};

inline Tensor random_tensor(const Shape &shape, std::mt19937 &rng, float lo = -1.0f,
                            float hi = 1.0f) {
    Tensor t(shape);
    std::uniform_real_distribution<float> dist(lo, hi);
    for (float &v : t.data) v = dist(rng);
    return t;
}

inline NodeDesc make_node(const std::string &op) {
    NodeDesc node;
    node.name = "test_" + op;
    node.op = op;
    return node;
}

inline void set_int(NodeDesc *node, const std::string &key, int64_t v) {
    AttrValue a;
    a.type = AttrValue::Type::Int;
    a.i = v;
    node->attrs[key] = a;
}

inline void set_ints(NodeDesc *node, const std::string &key, std::vector<int64_t> v) {
    AttrValue a;
    a.type = AttrValue::Type::Ints;
    a.ints = std::move(v);
    node->attrs[key] = a;
}

inline void set_float(NodeDesc *node, const std::string &key, double v) {
    AttrValue a;
    a.type = AttrValue::Type::Float;
    a.f = v;
    node->attrs[key] = a;
}

inline const KernelDef *cpu_kernel(const std::string &op) {
    return default_kernels().find(DeviceType::CPU, op);
}

inline Device *cpu_device() {
    static const std::unique_ptr<Device> device = make_cpu_device();
    return device.get();
}

inline TensorView view(const Tensor &t) {
    TensorView v;
    v.data = const_cast<float *>(t.data.data());
    v.dtype = t.dtype;
    v.shape = t.shape;
    return v;
}

// Runs the CPU kernel of ctx's node on ctx's tensors, prepared for their
// shapes as a session prepares it (library kernels hold oneDNN primitives),
// with scratch space of its own when ctx gives less than it needs.
inline Status run_cpu_kernel(const KernelContext &ctx) {
    KernelInit init;
    init.node = ctx.node;
    init.device = cpu_device();
    init.device_type = DeviceType::CPU;
    init.inputs = ctx.inputs;
    init.outputs = ctx.outputs;
    PreparedKernel kernel;
    SALUS_RETURN_IF_ERROR(default_kernels().prepare(init, &kernel));
    std::vector<uint8_t> workspace;
    KernelContext with_scratch = ctx;
    if (ctx.workspace_bytes < kernel.workspace_bytes) {
        workspace.resize(kernel.workspace_bytes);
        with_scratch.workspace = workspace.data();
        with_scratch.workspace_bytes = workspace.size();
    }
    return kernel.run(with_scratch);
}

// Runs node's CPU kernel on `inputs`, writing into `outputs` (already
// shaped), as the executor does: attributes made canonical, the kernel
// prepared for these shapes, its scratch space given.
inline Status run_kernel(const NodeDesc &node, const std::vector<const Tensor *> &inputs,
                         const std::vector<Tensor *> &outputs) {
    NodeDesc canonical = node;
    if (const OpSchema *op = find_op(node.op))
        SALUS_RETURN_IF_ERROR(canonicalize_attrs(*op, &canonical));
    KernelInit init;
    init.node = &canonical;
    init.device = cpu_device();
    init.device_type = DeviceType::CPU;
    for (const Tensor *t : inputs) init.inputs.push_back(view(*t));
    for (Tensor *t : outputs) init.outputs.push_back(view(*t));
    PreparedKernel kernel;
    SALUS_RETURN_IF_ERROR(default_kernels().prepare(init, &kernel));
    std::vector<uint8_t> workspace(kernel.workspace_bytes);
    KernelContext ctx;
    ctx.node = &canonical;
    ctx.inputs = init.inputs;
    ctx.outputs = init.outputs;
    ctx.workspace = workspace.empty() ? nullptr : workspace.data();
    ctx.workspace_bytes = workspace.size();
    return kernel.run(ctx);
}

// Runs a single-output kernel and returns the output of shape out_shape; the
// output starts as NaN so that an element the kernel forgets shows up.
inline Tensor run1(const NodeDesc &node, const std::vector<const Tensor *> &inputs,
                   const Shape &out_shape) {
    Tensor y(out_shape);
    for (float &v : y.data) v = std::numeric_limits<float>::quiet_NaN();
    Status st = run_kernel(node, inputs, {&y});
    EXPECT_TRUE(st.ok()) << node.op << ": " << st.message();
    return y;
}

// numpy broadcasting of two shapes.
inline Shape broadcast_shape(const Shape &a, const Shape &b) {
    const size_t rank = std::max(a.size(), b.size());
    Shape y(rank);
    for (size_t i = 0; i < rank; ++i) {
        const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
        const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
        y[i] = da == 1 ? db : da;
    }
    return y;
}

// Multi-index of flat position `flat` in `shape`.
inline std::vector<int64_t> unravel(int64_t flat, const Shape &shape) {
    std::vector<int64_t> idx(shape.size());
    for (size_t i = shape.size(); i-- > 0;) {
        idx[i] = flat % shape[i];
        flat /= shape[i];
    }
    return idx;
}

// Flat position in `shape` of the output index `idx` (of a possibly higher
// rank), reading broadcast dimensions at 0.
inline int64_t broadcast_offset(const std::vector<int64_t> &idx, const Shape &shape) {
    const size_t lead = idx.size() - shape.size();
    int64_t off = 0;
    for (size_t i = 0; i < shape.size(); ++i) {
        off = off * shape[i] + (shape[i] == 1 ? 0 : idx[i + lead]);
    }
    return off;
}

inline int normalize(int64_t axis, size_t rank) {
    return static_cast<int>(axis < 0 ? axis + static_cast<int64_t>(rank) : axis);
}

inline void expect_near_all(const Tensor &got, const std::vector<double> &want, double rtol,
                            double atol, const std::string &what) {
    ASSERT_EQ(got.size(), want.size()) << what;
    for (size_t i = 0; i < want.size(); ++i) {
        const double tol = atol + rtol * std::abs(want[i]);
        ASSERT_NEAR(got.data[i], want[i], tol) << what << " at element " << i;
    }
}

} // namespace salus::test
