// The shape family's part of the kernel case catalogue (kernel_cases.h):
// every op of ops/shape.cpp over its attributes, size-1 and empty axes,
// negative axes and steps, and batched MatMul's broadcasting. Gathers read
// Fill::Indices ([-8, 8)), so their gathered axes have at least 8 entries.
#pragma once

#include "kernel_cases.h"

#include <vector>

namespace salus::test {

inline void add_shape_cases(std::vector<KernelCase> *cases) {
    using Ints = std::vector<int64_t>;
    // The kernels read canonical attributes (defaults filled in: Gemm's alpha
    // and beta), and the device-code and GPU tests hand them the case's node.
    auto add = [&](KernelCase c) {
        if (const OpSchema *op = find_op(c.node.op)) {
            EXPECT_TRUE(canonicalize_attrs(*op, &c.node).ok()) << c.label;
        }
        cases->push_back(std::move(c));
    };
    add(with_int(make_case("Concat", {{2, 3}, {4, 3}, {1, 3}}), "axis", 0));
    add(with_int(make_case("Concat", {{2, 3, 4}, {2, 1, 4}, {2, 5, 4}}), "axis", -2));
    add(with_int(make_case("Concat", {{3, 2}, {3, 0}, {3, 7}}), "axis", 1));
    add(with_int(make_case("Concat", {{5}}), "axis", 0));
    add(with_int(with_ints(make_case("Split", {{7, 3}}), "split", {2, 0, 5}), "axis", 0));
    add(with_int(with_int(make_case("Split", {{2, 10, 3}}), "num_outputs", 3), "axis", 1));
    add(with_int(with_int(make_case("Split", {{4, 6}}), "num_outputs", 2), "axis", -1));
    struct Slice {
        Shape x;
        Ints starts, ends, axes, steps; // empty axes / steps: absent
    };
    for (const Slice &s :
         {Slice{{10}, {2}, {8}, {}, {}}, Slice{{10}, {-3}, {100}, {}, {}},
          Slice{{10}, {9}, {-100}, {}, {-2}}, Slice{{10}, {7}, {2}, {0}, {-1}},
          Slice{{4, 6, 5}, {1, -1}, {3, 0}, {0, 2}, {1, -2}},
          Slice{{4, 6, 5}, {0, 1}, {6, 6}, {-3, 2}, {4, 2}}, Slice{{3, 4}, {5}, {7}, {1}, {}},
          Slice{{3, 1, 8}, {0}, {8}, {2}, {3}}}) {
        KernelCase c =
            with_ints(with_ints(make_case("Slice", {s.x}), "starts", s.starts), "ends", s.ends);
        if (!s.axes.empty()) c = with_ints(c, "axes", s.axes);
        if (!s.steps.empty()) c = with_ints(c, "steps", s.steps);
        add(c);
        // SliceGrad of the same slice: dY of the slice's shape.
        const OpSchema *op = find_op("Slice");
        NodeDesc node = c.node;
        std::vector<OutputInfo> outs;
        const std::vector<InputInfo> in = {{DType::F32, &s.x}};
        if (op && infer_node(*op, &node, in, &outs).ok()) {
            KernelCase g = c;
            g.node.op = "SliceGrad";
            g.inputs = {outs[0].shape};
            g.label = "SliceGrad of " + c.label;
            add(with_ints(g, "shape", s.x));
        }
    }
    add(make_case("Squeeze", {{1, 3, 1, 2}}));
    add(with_ints(make_case("Squeeze", {{1, 3, 1, 2}}), "axes", {-2}));
    add(with_ints(make_case("Unsqueeze", {{3, 2}}), "axes", {0, -1}));
    add(make_case("Flatten", {{2, 3, 4}}));
    add(with_int(make_case("Flatten", {{2, 3, 4}}), "axis", 0));
    add(with_int(make_case("Flatten", {{2, 3, 4}}), "axis", -1));
    for (const auto &[x, reps] : std::vector<std::pair<Shape, Ints>>{{{2, 3}, {2, 3}},
                                                                     {{3}, {4}},
                                                                     {{2, 1, 3}, {1, 5, 2}},
                                                                     {{4, 2}, {0, 2}},
                                                                     {{}, {}},
                                                                     {{1, 7}, {3, 1}}}) {
        add(with_ints(make_case("Tile", {x}), "repeats", reps));
        Shape y = x;
        for (size_t d = 0; d < x.size(); ++d) y[d] *= reps[d];
        add(with_ints(make_case("TileGrad", {y}), "shape", x));
    }
    struct Gather {
        Shape data, indices;
        int64_t axis;
    };
    for (const Gather &g :
         {Gather{{10, 4}, {5}, 0}, Gather{{8, 3}, {2, 3}, 0}, Gather{{2, 9, 3}, {4}, 1},
          Gather{{3, 8}, {6}, -1}, Gather{{12}, {}, 0}, Gather{{8, 1}, {7, 2}, 0}}) {
        const std::vector<Fill> fills = {Fill::Uniform, Fill::Indices};
        add(with_int(make_case("Gather", {g.data, g.indices}, fills), "axis", g.axis));
        const int rank = static_cast<int>(g.data.size());
        const int axis = static_cast<int>(g.axis < 0 ? g.axis + rank : g.axis);
        Shape dy(g.data.begin(), g.data.begin() + axis);
        dy.insert(dy.end(), g.indices.begin(), g.indices.end());
        dy.insert(dy.end(), g.data.begin() + axis + 1, g.data.end());
        add(with_int(with_ints(make_case("GatherGrad", {dy, g.indices}, fills), "shape", g.data),
                     "axis", g.axis));
    }
    for (const Gather &g : {Gather{{8, 3}, {5, 3}, 0}, Gather{{3, 9}, {2, 4}, 1},
                            Gather{{2, 8, 3}, {2, 6, 2}, -2}, Gather{{8}, {12}, 0}}) {
        const std::vector<Fill> fills = {Fill::Uniform, Fill::Indices};
        add(with_int(make_case("GatherElements", {g.data, g.indices}, fills), "axis", g.axis));
        add(with_int(with_ints(make_case("GatherElementsGrad", {g.indices, g.indices}, fills),
                               "shape", g.data),
                     "axis", g.axis));
    }
    struct Batched {
        Shape a, b;
        int64_t ta, tb;
    };
    for (const Batched &m :
         {Batched{{2, 3, 4}, {2, 4, 5}, 0, 0}, Batched{{2, 3, 4}, {4, 5}, 0, 0},
          Batched{{3, 4}, {2, 4, 5}, 0, 0}, Batched{{2, 1, 3, 4}, {3, 5, 4}, 0, 1},
          Batched{{4, 2, 4, 3}, {4, 1, 4, 5}, 1, 0}, Batched{{2, 3, 5, 4}, {1, 3, 4, 5}, 1, 1},
          Batched{{6, 7, 16}, {16, 9}, 0, 0}, Batched{{2, 0, 3, 4}, {4, 5}, 0, 0},
          Batched{{2, 3, 0}, {2, 0, 4}, 0, 0}}) {
        add(with_int(with_int(make_case("MatMul", {m.a, m.b}), "transA", m.ta), "transB", m.tb));
    }
    add(make_case("Gemm", {{3, 4}, {4, 5}}));
    add(make_case("Gemm", {{3, 4}, {4, 5}, {5}}));
    add(with_float(with_float(make_case("Gemm", {{3, 4}, {4, 5}, {3, 1}}), "alpha", 0.5), "beta",
                   -2.0));
    add(with_int(with_int(make_case("Gemm", {{4, 3}, {5, 4}, {3, 5}}), "transA", 1), "transB", 1));
    add(with_float(make_case("Gemm", {{2, 6}, {6, 3}, {2, 3}}), "beta", 0.0));
    add(make_case("Gemm", {{3, 0}, {0, 2}, {1}}));
}

} // namespace salus::test
