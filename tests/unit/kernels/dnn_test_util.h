// What the cuDNN plan tests share: a node with canonical attributes and the
// shapes its inference gives, as a session prepares it for CUDA (no device).
#pragma once

#include "kernel_test_util.h"

#include <gtest/gtest.h>

#include <string>
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

// p's plan by planner (a cuda::plan_dnn_* function), init pointed at p's
// node first.
template <typename Plan>
Status plan_of(Prepared &p, Status (*planner)(const KernelInit &, Plan *), Plan *out) {
    p.init.node = &p.node;
    return planner(p.init, out);
}

// The plan of a node cuDNN runs.
template <typename Plan>
Plan fits(Prepared &p, Status (*planner)(const KernelInit &, Plan *)) {
    Plan out;
    const Status st = plan_of(p, planner, &out);
    EXPECT_TRUE(st.ok()) << p.node.op << ": " << st.message();
    return out;
}

// A node that stays on our kernel: SALUS_ENOTSUP, its message holding `why`.
template <typename Plan>
void stays_ours(Prepared &p, Status (*planner)(const KernelInit &, Plan *),
                const std::string &why) {
    Plan out;
    const Status st = plan_of(p, planner, &out);
    EXPECT_EQ(st.code(), SALUS_ENOTSUP) << p.node.op;
    EXPECT_NE(st.message().find(why), std::string::npos) << st.message();
}

inline std::vector<int> v4(const int d[4]) {
    return {d[0], d[1], d[2], d[3]};
}

} // namespace salus::test
