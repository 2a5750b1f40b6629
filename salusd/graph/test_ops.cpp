#include "graph/test_ops.h"

#include "graph/infer_util.h"

#include <atomic>
#include <string>

namespace salus {
namespace {

std::atomic<bool> g_enabled{false};

Status infer_test_fault(const NodeDesc &node, const std::vector<InputInfo> &inputs,
                        std::vector<OutputInfo> *outputs) {
    const AttrValue *fault = node.attr("fault");
    if (!fault || (fault->s != "error" && fault->s != "sticky")) {
        return Status(SALUS_EGRAPH, "attribute fault must be \"error\" or \"sticky\"");
    }
    return infer::infer_unary(node, inputs, outputs);
}

} // namespace

void enable_test_ops() {
    g_enabled.store(true);
}

bool test_ops_enabled() {
    return g_enabled.load();
}

const OpSchema &test_fault_op() {
    static const OpSchema op = OpDef("TestFault", "Tests")
                                   .doc("fails its iteration as `fault` says (tests only)")
                                   .input("X")
                                   .output("Y")
                                   .required_attr("fault", AttrValue::Type::String)
                                   .infer(infer_test_fault)
                                   .build();
    return op;
}

} // namespace salus
