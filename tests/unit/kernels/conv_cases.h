// The convolutions' cases of kernel_cases.h: 1-D and 2-D, strides, pads,
// dilations, groups (depthwise too), asymmetric pads, with and without bias,
// ConvTranspose's output_padding, an empty batch and no input channels. Their CUDA kernels
// are cuDNN's (no device code of our own to emulate on the CPU): the cuda
// suite compares them on a GPU.
#pragma once

namespace salus::test {

inline void add_conv_cases(std::vector<KernelCase> *cases) {
    struct Conv {
        Shape x;
        int64_t m, group;
        std::vector<int64_t> k, strides, pads, dilations;
    };
    const std::vector<Conv> convs = {
        {{2, 3, 9, 9}, 4, 1, {3, 3}, {}, {}, {}},
        {{2, 4, 10, 8}, 6, 2, {3, 2}, {2, 1}, {1, 0, 1, 0}, {1, 2}},
        {{3, 8, 7, 7}, 8, 8, {3, 3}, {1, 1}, {1, 1, 1, 1}, {2, 2}}, // depthwise
        {{32, 16, 16, 16}, 32, 1, {3, 3}, {1, 1}, {1, 1, 1, 1}, {}},
        {{4, 64, 8, 8}, 32, 1, {1, 1}, {2, 2}, {}, {}},
        {{2, 3, 17}, 5, 1, {4}, {2}, {1, 1}, {}}, // 1-D
        {{2, 6, 12}, 4, 2, {3}, {1}, {2, 2}, {3}},
        {{0, 3, 5, 5}, 2, 1, {3, 3}, {}, {}, {}}, // no batch
        // Asymmetric pads (cuDNN's run on an explicitly padded X).
        {{2, 4, 9, 8}, 4, 2, {3, 3}, {2, 1}, {1, 0, 2, 1}, {}},
        {{2, 3, 11}, 4, 1, {3}, {2}, {0, 2}, {}},
    };
    for (const Conv &v : convs) {
        const int64_t c = v.x[1];
        Shape w{v.m, c / v.group};
        w.insert(w.end(), v.k.begin(), v.k.end());
        auto attrs = [&](KernelCase k) {
            k = with_int(k, "group", v.group);
            if (!v.strides.empty()) k = with_ints(k, "strides", v.strides);
            if (!v.pads.empty()) k = with_ints(k, "pads", v.pads);
            if (!v.dilations.empty()) k = with_ints(k, "dilations", v.dilations);
            return k;
        };
        cases->push_back(attrs(make_case("Conv", {v.x, w})));
        cases->push_back(attrs(make_case("Conv", {v.x, w, {v.m}})));
        // ConvTranspose from Conv's output size back to X's: its W is
        // [C_in, C_out/group, k...] with C_in = m here.
        Shape tx{v.x[0], v.m};
        Window win;
        NodeDesc conv = attrs(make_case("Conv", {v.x, w})).node;
        if (!canonicalize_attrs(*find_op("Conv"), &conv).ok() ||
            !make_window(conv, v.x, v.k, WindowRule::Floor, &win).ok()) {
            ADD_FAILURE() << "conv case " << shape_str(v.x);
            continue;
        }
        for (int a = 0; a < win.rank; ++a) tx.push_back(win.out[a]);
        Shape tw{v.m, c / v.group};
        tw.insert(tw.end(), v.k.begin(), v.k.end());
        KernelCase t = attrs(make_case("ConvTranspose", {tx, tw, {c}}));
        // output_padding restores the size that stride-2 windows drop.
        if (!v.strides.empty() && v.strides[0] > 1) {
            std::vector<int64_t> op(v.strides.size(), 0);
            op[0] = 1;
            t = with_ints(t, "output_padding", op);
        }
        cases->push_back(t);
        cases->push_back(attrs(make_case("ConvTranspose", {tx, tw})));
        KernelCase gw =
            with_ints(attrs(make_case("ConvGradWeight", {tx, v.x})), "kernel_shape", v.k);
        cases->push_back(gw);
        gw.node.outputs.resize(2); // with dB
        gw.label += " with dB";
        cases->push_back(gw);
    }
    // No input channels: Y is the bias.
    cases->push_back(make_case("Conv", {{2, 0, 5, 5}, {3, 0, 3, 3}, {3}}));
}

} // namespace salus::test
