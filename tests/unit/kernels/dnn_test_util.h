// What the cuDNN plan tests share: a node with canonical attributes and the
// shapes its inference gives, as a session prepares it for CUDA (no device).
#pragma once

#include "kernel_test_util.h"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

namespace salus::test {

struct Prepared {
    NodeDesc node;
    KernelInit init;
};

// init.node is left for the caller to point at node once the Prepared has
// its final address.
inline Prepared prepare(NodeDesc node, const std::vector<Shape> &inputs, size_t outputs = 1) {
    Prepared p;
    node.outputs.resize(outputs);
    const OpSchema *op = find_op(node.op);
    EXPECT_TRUE(canonicalize_attrs(*op, &node).ok());
    std::vector<InputInfo> infos;
    for (const Shape &s : inputs) infos.push_back({DType::F32, &s});
    std::vector<OutputInfo> outs;
    const Status st = infer_node(*op, &node, infos, &outs);
    EXPECT_TRUE(st.ok()) << st.message();
    p.node = std::move(node);
    p.init.device_type = DeviceType::CUDA;
    for (const Shape &s : inputs) p.init.inputs.push_back({nullptr, DType::F32, s});
    for (const OutputInfo &o : outs) p.init.outputs.push_back({nullptr, o.dtype, o.shape});
    return p;
}

inline std::vector<int> v4(const int d[4]) {
    return {d[0], d[1], d[2], d[3]};
}

} // namespace salus::test
