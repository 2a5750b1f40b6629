#include "exec/cuda/dnn_conv_plans.h"

#include "exec/cuda/conv_plans.h"

#include "graph/shape_util.h"

#include <climits>
#include <string>
#include <vector>

namespace salus::cuda {

Status plan_dnn_conv(const KernelInit &init, DnnConvPlan *p) {
    const NodeDesc &node = *init.node;
    const std::string &op = node.op;
    const Shape *x = nullptr, *w = nullptr, *y = nullptr;
    Window win;
    if (op == "Conv" || op == "ConvTranspose") {
        const bool transpose = op == "ConvTranspose";
        const Shape &in = init.inputs[0].shape, &wt = init.inputs[1].shape;
        SALUS_RETURN_IF_ERROR(make_window(node, in, std::vector<int64_t>(wt.begin() + 2, wt.end()),
                                          transpose ? WindowRule::Transpose : WindowRule::Floor,
                                          &win));
        p->pass = transpose ? DnnConvPass::BackwardData : DnnConvPass::Forward;
        x = transpose ? &init.outputs[0].shape : &in;
        y = transpose ? &in : &init.outputs[0].shape;
        w = &wt;
        p->bias = init.inputs.size() > 2 ? static_cast<int>(init.outputs[0].shape[1]) : 0;
    } else if (op == "ConvGradWeight") {
        const Shape &dy = init.inputs[0].shape, &in = init.inputs[1].shape;
        SALUS_RETURN_IF_ERROR(
            make_window(node, in, node.get_ints("kernel_shape"), WindowRule::Floor, &win));
        p->pass = DnnConvPass::BackwardFilter;
        x = &in;
        y = &dy;
        w = &init.outputs[0].shape;
        p->bias = init.outputs.size() > 1 ? static_cast<int>(dy[1]) : 0;
    } else {
        return Status(SALUS_EINTERNAL, op + " is not a cuDNN convolution");
    }
    SALUS_RETURN_IF_ERROR(dnn_nchw(node, *x, p->x));
    SALUS_RETURN_IF_ERROR(dnn_nchw(node, *w, p->w));
    SALUS_RETURN_IF_ERROR(dnn_nchw(node, *y, p->y));
    DnnWindow dw;
    SALUS_RETURN_IF_ERROR(dnn_window(node, win, &dw));
    p->explicit_pad = !dw.symmetric();
    std::vector<int64_t> before(4, 0);
    int64_t padded[4] = {p->x[0], p->x[1], p->x[2], p->x[3]};
    for (int a = 0; a < 2; ++a) {
        before[static_cast<size_t>(2 + a)] = dw.pad[a];
        padded[2 + a] += dw.pad[a] + dw.pad_end[a];
        p->pad[a] = dw.pad[a];
        p->stride[a] = dw.stride[a];
        p->dilation[a] = dw.dilation[a];
    }
    p->group = static_cast<int>(node.get_int("group"));
    p->empty = num_elements(*x) == 0 || num_elements(*w) == 0 || num_elements(*y) == 0;
    p->explicit_pad = p->explicit_pad && !p->empty;
    if (p->explicit_pad) {
        const Shape big(padded, padded + 4);
        if (num_elements(big) > INT_MAX) {
            return dnn_unsupported(node, "X padded to " + shape_str(big) +
                                             " has more elements than cuDNN's int strides");
        }
        p->pad_map = constant_pad_map(big, Shape(p->x, p->x + 4), before);
        for (int d = 0; d < 4; ++d) p->x[d] = static_cast<int>(padded[d]);
        p->pad[0] = p->pad[1] = 0;
    }
    return {};
}

} // namespace salus::cuda
