#include "exec/cuda/dnn_pool_plans.h"

#include "graph/shape_util.h"

#include <string>

namespace salus::cuda {

Status plan_dnn_pool(const KernelInit &init, DnnPoolPlan *p) {
    const NodeDesc &node = *init.node;
    const std::string &op = node.op;
    const bool max = op == "MaxPool" || op == "MaxPoolGrad";
    p->grad = op == "MaxPoolGrad" || op == "AveragePoolGrad";
    if (!max && !p->grad && op != "AveragePool") {
        return Status(SALUS_EINTERNAL, op + " is not a cuDNN pooling");
    }
    if (op == "MaxPool" && init.outputs.size() > 1) {
        return dnn_unsupported(node, "cuDNN's pooling has no Indices output");
    }
    if (op == "MaxPoolGrad") {
        return dnn_unsupported(node, "cuDNN does not say which of tied maxima takes dY; ONNX "
                                     "and torch give it to the first");
    }
    const Shape &x = init.inputs.back().shape; // X: the only input, or the grad's last
    const Shape &y = p->grad ? init.inputs[0].shape : init.outputs[0].shape;
    if (num_elements(x) == 0 || num_elements(y) == 0) {
        return dnn_unsupported(node, "cuDNN refuses tensors without elements");
    }
    Window w;
    SALUS_RETURN_IF_ERROR(make_window(node, x, node.get_ints("kernel_shape"), pool_rule(node), &w));
    const bool include_pad = !max && node.get_int("count_include_pad") == 1;
    for (int a = 0; a < w.rank; ++a) {
        if (w.dilation[a] != 1) return dnn_unsupported(node, "cuDNN's pooling has no dilations");
        if (w.end_reach(a) > w.pad_end[a]) {
            return dnn_unsupported(node, "a ceil_mode window reaches past the end pad; cuDNN "
                                         "documents only the floor rule's output size");
        }
    }
    SALUS_RETURN_IF_ERROR(dnn_window(node, w, &p->window));
    if (!p->window.symmetric()) {
        return dnn_unsupported(node, "pads " + ints_str(node.get_ints("pads")) +
                                         " are asymmetric; cuDNN pads both ends of an axis alike");
    }
    SALUS_RETURN_IF_ERROR(dnn_nchw(node, x, p->x));
    SALUS_RETURN_IF_ERROR(dnn_nchw(node, y, p->y));
    p->mode = max           ? DnnPoolMode::Max
              : include_pad ? DnnPoolMode::AverageIncludePad
                            : DnnPoolMode::AverageExcludePad;
    return {};
}

} // namespace salus::cuda
