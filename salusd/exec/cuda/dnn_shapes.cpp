#include "exec/cuda/dnn_shapes.h"

#include "graph/shape_util.h"

#include <climits>

namespace salus::cuda {

Status dnn_unsupported(const NodeDesc &node, const std::string &why) {
    return Status(SALUS_ENOTSUP, node.op + " on CUDA (cuDNN): " + why);
}

Status dnn_nchw(const NodeDesc &node, const Shape &s, int out[4]) {
    if (num_elements(s) > INT_MAX) {
        return dnn_unsupported(node, shape_str(s) + " has more elements than cuDNN's int strides");
    }
    const bool one_d = s.size() == 3;
    out[0] = static_cast<int>(s[0]);
    out[1] = static_cast<int>(s[1]);
    out[2] = one_d ? 1 : static_cast<int>(s[2]);
    out[3] = static_cast<int>(s[one_d ? 2 : 3]);
    return {};
}

Status dnn_window(const NodeDesc &node, const Window &win, DnnWindow *out) {
    const int first = win.rank == 1 ? 1 : 0; // a 1-D window is the width's
    for (int a = 0; a < win.rank; ++a) {
        if (win.kernel[a] > INT_MAX || win.pad_begin[a] > INT_MAX || win.pad_end[a] > INT_MAX ||
            win.stride[a] > INT_MAX || win.dilation[a] > INT_MAX) {
            return dnn_unsupported(node, "windows, strides, pads and dilations must fit cuDNN's "
                                         "int");
        }
        out->kernel[first + a] = static_cast<int>(win.kernel[a]);
        out->pad[first + a] = static_cast<int>(win.pad_begin[a]);
        out->pad_end[first + a] = static_cast<int>(win.pad_end[a]);
        out->stride[first + a] = static_cast<int>(win.stride[a]);
        out->dilation[first + a] = static_cast<int>(win.dilation[a]);
    }
    return {};
}

} // namespace salus::cuda
