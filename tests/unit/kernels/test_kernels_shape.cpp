// The shape family (ops/shape.cpp): malformed uses refused by the validator
// with the node named, the CPU kernels against plain references on the cases
// the catalogue cannot hold (other dtypes, i64 indices, data-dependent
// errors), and the CUDA device code on those same cases.
#include "../graph/graph_helpers.h"
#include "graph/validate.h"
#include "kernel_test_util.h"
#include "shape_emulation.h"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace salus::test {
namespace {

// ---- validation ----------------------------------------------------------------

struct Misuse {
    const char *name;
    std::function<uint32_t(GraphBuilder &b)> build; // returns the output
    const char *expected;                           // in the message
};

std::vector<Misuse> misuses() {
    using test::int_attr;
    using test::ints_attr;
    auto in = [](GraphBuilder &b, Shape s, DType dtype = DType::F32) {
        return b.tensor("x" + std::to_string(b.graph().tensors.size()), TensorKind::Input,
                        std::move(s), true, dtype);
    };
    return {
        {"ConcatAxisOutOfRange",
         [=](GraphBuilder &b) {
             return b.op("Concat", {in(b, {2, 3}), in(b, {2, 3})}, {{"axis", int_attr(2)}}, "cat");
         },
         "node 0 \"cat\" (Concat): Concat axis 2 is out of range for input 0 [2, 3]"},
        {"ConcatMismatch",
         [=](GraphBuilder &b) {
             return b.op("Concat", {in(b, {2, 3}), in(b, {4, 4})}, {{"axis", int_attr(0)}}, "cat");
         },
         "Concat input 1 [4, 4] does not match input 0 [2, 3] outside axis 0"},
        {"ConcatMixedDtypes",
         [=](GraphBuilder &b) {
             return b.op("Concat", {in(b, {2}), in(b, {2}, DType::I32)}, {{"axis", int_attr(0)}},
                         "cat");
         },
         "Concat input 1 is i32 but input 0 is f32"},
        {"ConcatNeedsAxis",
         [=](GraphBuilder &b) { return b.op("Concat", {in(b, {2})}, {}, "cat"); },
         "node 0 \"cat\" (Concat)"},
        {"SplitSizesDoNotSum",
         [=](GraphBuilder &b) {
             return b.op("Split", {in(b, {5, 2})}, {{"split", ints_attr({2, 2})}}, "sp");
         },
         "node 0 \"sp\" (Split): Split split [2, 2] does not sum to 5"},
        {"SplitTooManyParts",
         [=](GraphBuilder &b) {
             return b.op("Split", {in(b, {2, 2})}, {{"num_outputs", int_attr(3)}}, "sp");
         },
         "cannot split axis 0 of input [2, 2] into 3 non-empty parts"},
        {"SliceZeroStep",
         [=](GraphBuilder &b) {
             return b.op(
                 "Slice", {in(b, {4})},
                 {{"starts", ints_attr({0})}, {"ends", ints_attr({4})}, {"steps", ints_attr({0})}},
                 "sl");
         },
         "node 0 \"sl\" (Slice): Slice step of axis 0 is 0"},
        {"SliceAxisOutOfRange",
         [=](GraphBuilder &b) {
             return b.op(
                 "Slice", {in(b, {4})},
                 {{"starts", ints_attr({0})}, {"ends", ints_attr({4})}, {"axes", ints_attr({1})}},
                 "sl");
         },
         "Slice axis 1 is out of range for input [4]"},
        {"SliceLengthsDiffer",
         [=](GraphBuilder &b) {
             return b.op("Slice", {in(b, {4, 4})},
                         {{"starts", ints_attr({0, 1})}, {"ends", ints_attr({4})}}, "sl");
         },
         "Slice starts [0, 1] and ends [4] differ in length"},
        {"SliceGradWrongDy",
         [=](GraphBuilder &b) {
             return b.op(
                 "SliceGrad", {in(b, {3})},
                 {{"shape", ints_attr({4})}, {"starts", ints_attr({0})}, {"ends", ints_attr({2})}},
                 "sg");
         },
         "SliceGrad dY [3] is not the slice [2] of shape [4]"},
        {"SqueezeNotOne",
         [=](GraphBuilder &b) {
             return b.op("Squeeze", {in(b, {2, 3})}, {{"axes", ints_attr({1})}}, "sq");
         },
         "node 0 \"sq\" (Squeeze): Squeeze axis 1 of input [2, 3] is not of size 1"},
        {"UnsqueezeTwice",
         [=](GraphBuilder &b) {
             return b.op("Unsqueeze", {in(b, {2})}, {{"axes", ints_attr({0, -3})}}, "us");
         },
         "Unsqueeze axes [0, -3] name axis 0 twice"},
        {"UnsqueezeOutOfRange",
         [=](GraphBuilder &b) {
             return b.op("Unsqueeze", {in(b, {2})}, {{"axes", ints_attr({2})}}, "us");
         },
         "Unsqueeze axis 2 is out of range for an output of rank 2"},
        {"FlattenAxis",
         [=](GraphBuilder &b) {
             return b.op("Flatten", {in(b, {2, 3})}, {{"axis", int_attr(3)}}, "fl");
         },
         "Flatten axis 3 is outside [-2, 2] for input [2, 3]"},
        {"TileRepeatsRank",
         [=](GraphBuilder &b) {
             return b.op("Tile", {in(b, {2, 3})}, {{"repeats", ints_attr({2})}}, "ti");
         },
         "node 0 \"ti\" (Tile): Tile repeats [2] must have one entry per axis"},
        {"TileNegative",
         [=](GraphBuilder &b) {
             return b.op("Tile", {in(b, {2})}, {{"repeats", ints_attr({-1})}}, "ti");
         },
         "Tile repeats [-1] has a negative entry"},
        {"TileGradNotATiling",
         [=](GraphBuilder &b) {
             return b.op("TileGrad", {in(b, {5})}, {{"shape", ints_attr({2})}}, "tg");
         },
         "TileGrad dY [5] is not a tiling of shape [2]"},
        {"GatherAxis",
         [=](GraphBuilder &b) {
             return b.op("Gather", {in(b, {4, 3}), in(b, {2}, DType::I32)},
                         {{"axis", int_attr(-3)}}, "ga");
         },
         "node 0 \"ga\" (Gather): Gather axis -3 is out of range for data [4, 3]"},
        {"GatherFloatIndices",
         [=](GraphBuilder &b) {
             return b.op("Gather", {in(b, {4, 3}), in(b, {2})}, {}, "ga");
         },
         "node 0 \"ga\" (Gather)"},
        {"GatherScalarData",
         [=](GraphBuilder &b) {
             return b.op("Gather", {in(b, {}), in(b, {2}, DType::I64)}, {}, "ga");
         },
         "Gather needs data of rank >= 1, got a scalar"},
        {"GatherGradWrongDy",
         [=](GraphBuilder &b) {
             return b.op("GatherGrad", {in(b, {3, 3}), in(b, {2}, DType::I32)},
                         {{"shape", ints_attr({5, 3})}}, "gg");
         },
         "GatherGrad dY [3, 3] is not Gather's output [2, 3]"},
        {"GatherElementsRank",
         [=](GraphBuilder &b) {
             return b.op("GatherElements", {in(b, {4, 3}), in(b, {4}, DType::I32)}, {}, "ge");
         },
         "node 0 \"ge\" (GatherElements): GatherElements needs indices of data's rank"},
        {"GatherElementsTooWide",
         [=](GraphBuilder &b) {
             return b.op("GatherElements", {in(b, {4, 3}), in(b, {2, 5}, DType::I32)}, {}, "ge");
         },
         "GatherElements indices [2, 5] exceed data [4, 3] along axis 1"},
        {"MatMulBatch",
         [=](GraphBuilder &b) {
             return b.op("MatMul", {in(b, {2, 3, 4}), in(b, {3, 4, 5})}, {}, "mm");
         },
         "node 0 \"mm\" (MatMul): MatMul batch dimensions do not broadcast"},
        {"GemmRank",
         [=](GraphBuilder &b) {
             return b.op("Gemm", {in(b, {2, 3, 4}), in(b, {4, 5})}, {}, "gm");
         },
         "node 0 \"gm\" (Gemm): Gemm needs rank-2 A and B"},
        {"GemmC",
         [=](GraphBuilder &b) {
             return b.op("Gemm", {in(b, {2, 3}), in(b, {3, 4}), in(b, {3})}, {}, "gm");
         },
         "Gemm C [3] does not broadcast to [2, 4]"},
        {"GemmFlag",
         [=](GraphBuilder &b) {
             return b.op("Gemm", {in(b, {2, 3}), in(b, {3, 4})}, {{"transA", int_attr(2)}}, "gm");
         },
         "Gemm attribute \"transA\" must be 0 or 1, got 2"},
    };
}

TEST(ShapeOps, MisusesAreRefusedNamingTheNode) {
    for (const Misuse &m : misuses()) {
        GraphBuilder b;
        b.output(m.build(b));
        std::vector<uint32_t> order;
        const Status st = validate_graph(&b.graph(), &order);
        EXPECT_EQ(st.code(), SALUS_EGRAPH) << m.name;
        EXPECT_NE(st.message().find(m.expected), std::string::npos)
            << m.name << ": " << st.message();
    }
}

TEST(ShapeOps, SplitOutputCountMustMatchTheNode) {
    GraphBuilder b;
    const uint32_t x = b.input("x", {6});
    const uint32_t y1 = b.intermediate("y1"), y2 = b.intermediate("y2");
    b.node("Split", {x}, {y1, y2}, {{"num_outputs", test::int_attr(3)}}, "sp");
    b.output(y1);
    std::vector<uint32_t> order;
    const Status st = validate_graph(&b.graph(), &order);
    EXPECT_NE(st.message().find("Split makes 3 outputs but the node has 2"), std::string::npos)
        << st.message();
}

TEST(ShapeOps, SplitWithoutSizesUsesTheNodesOutputs) {
    GraphBuilder b;
    const uint32_t x = b.input("x", {7, 2});
    const uint32_t y1 = b.intermediate("y1"), y2 = b.intermediate("y2");
    b.node("Split", {x}, {y1, y2}, {}, "sp");
    b.output(y1).output(y2);
    std::vector<uint32_t> order;
    ASSERT_TRUE(validate_graph(&b.graph(), &order).ok());
    // ONNX: equal parts, the last one smaller.
    EXPECT_EQ(b.graph().tensors[y1].shape, (Shape{4, 2}));
    EXPECT_EQ(b.graph().tensors[y2].shape, (Shape{3, 2}));
}

// ---- kernels ---------------------------------------------------------------------

Tensor indices(const Shape &shape, const std::vector<int64_t> &values, DType dtype) {
    Tensor t(shape);
    t.dtype = dtype;
    if (dtype == DType::I64) t.data.resize(values.size() * 2);
    for (size_t i = 0; i < values.size(); ++i) {
        if (dtype == DType::I64) {
            std::memcpy(&t.data[2 * i], &values[i], sizeof(int64_t));
        } else {
            const auto v = static_cast<int32_t>(values[i]);
            std::memcpy(&t.data[i], &v, sizeof v);
        }
    }
    return t;
}

TEST(ShapeOps, GatherOutOfRangeFailsTheIteration) {
    for (DType dtype : {DType::I32, DType::I64}) {
        NodeDesc node = make_node("Gather");
        const Tensor data({4, 2}, {0, 1, 2, 3, 4, 5, 6, 7});
        const Tensor idx = indices({3}, {1, -4, 4}, dtype);
        Tensor y({3, 2});
        const Status st = run_kernel(node, {&data, &idx}, {&y});
        EXPECT_EQ(st.code(), SALUS_EEXEC);
        EXPECT_EQ(st.message(), "Gather: index 4 (indices element 2) is out of range for an axis "
                                "of extent 4");
        node.op = "GatherElements";
        const Tensor idx2 = indices({1, 2}, {-5, 0}, dtype);
        Tensor y2({1, 2});
        const Status st2 = run_kernel(node, {&data, &idx2}, {&y2});
        EXPECT_EQ(st2.code(), SALUS_EEXEC);
        EXPECT_NE(st2.message().find("index -5 (indices element 0)"), std::string::npos);
    }
}

TEST(ShapeOps, GatherWithI64IndicesAndNegativeOnes) {
    NodeDesc node = make_node("Gather");
    set_int(&node, "axis", 1);
    const Tensor data({2, 3}, {0, 1, 2, 3, 4, 5});
    const Tensor idx = indices({2, 2}, {-1, 0, 1, 1}, DType::I64);
    const Tensor y = run1(node, {&data, &idx}, {2, 2, 2});
    EXPECT_EQ(y.data, (std::vector<float>{2, 0, 1, 1, 5, 3, 4, 4}));
    // Its gradient adds the repeated index twice.
    NodeDesc grad = make_node("GatherGrad");
    set_int(&grad, "axis", 1);
    set_ints(&grad, "shape", {2, 3});
    const Tensor dy({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
    const Tensor dx = run1(grad, {&dy, &idx}, {2, 3});
    EXPECT_EQ(dx.data, (std::vector<float>{2, 7, 1, 6, 15, 5}));
}

TEST(ShapeOps, GatherElementsIsTorchGather) {
    NodeDesc node = make_node("GatherElements");
    set_int(&node, "axis", 1);
    const Tensor data({2, 3}, {0, 1, 2, 3, 4, 5});
    const Tensor idx = indices({2, 2}, {2, 0, -1, 2}, DType::I32);
    EXPECT_EQ(run1(node, {&data, &idx}, {2, 2}).data, (std::vector<float>{2, 0, 5, 5}));
    NodeDesc grad = make_node("GatherElementsGrad");
    set_int(&grad, "axis", 1);
    set_ints(&grad, "shape", {2, 3});
    const Tensor dy({2, 2}, {1, 2, 3, 4});
    EXPECT_EQ(run1(grad, {&dy, &idx}, {2, 3}).data, (std::vector<float>{2, 0, 1, 0, 0, 7}));
}

// Other dtypes move as bytes: i64 (8 bytes) and bool (1 byte) through Slice,
// Concat, Tile and Gather, the CPU kernel and the device code alike.
TEST(ShapeOps, DataMovementKeepsOtherDtypesBitForBit) {
    std::mt19937 rng(5);
    struct Case {
        NodeDesc node;
        std::vector<Shape> inputs;
    };
    std::vector<Case> cases;
    auto node = [](const char *op) { return make_node(op); };
    cases.push_back({node("Slice"), {{5, 4}}});
    set_ints(&cases.back().node, "starts", {-1, 0});
    set_ints(&cases.back().node, "ends", {-6, 4});
    set_ints(&cases.back().node, "steps", {-2, 3});
    cases.push_back({node("Concat"), {{2, 3}, {2, 1}}});
    set_int(&cases.back().node, "axis", 1);
    cases.push_back({node("Tile"), {{2, 3}}});
    set_ints(&cases.back().node, "repeats", {2, 2});
    cases.push_back({node("Gather"), {{5, 2}, {3}}});
    cases.push_back({node("GatherElements"), {{5, 2}, {3, 2}}});
    cases.push_back({node("Split"), {{4, 2}}});
    set_ints(&cases.back().node, "split", {1, 3});
    for (DType dtype : {DType::I64, DType::Bool}) {
        for (Case &c : cases) {
            NodeDesc canonical = c.node;
            ASSERT_TRUE(canonicalize_attrs(*find_op(c.node.op), &canonical).ok());
            const size_t esize = dtype_size(dtype);
            // Data as raw bytes in float storage, indices i32 in [0, 3).
            std::vector<std::vector<uint8_t>> bytes;
            std::vector<TensorView> in;
            for (size_t i = 0; i < c.inputs.size(); ++i) {
                const bool is_index = i == 1 && c.node.op.rfind("Gather", 0) == 0;
                const DType dt = is_index ? DType::I32 : dtype;
                std::vector<uint8_t> b(static_cast<size_t>(num_elements(c.inputs[i])) *
                                       dtype_size(dt));
                for (size_t k = 0; k < b.size(); ++k) b[k] = static_cast<uint8_t>(rng());
                if (is_index) {
                    for (size_t k = 0; k < b.size() / 4; ++k) {
                        const int32_t v = static_cast<int32_t>(rng() % 3);
                        std::memcpy(&b[k * 4], &v, 4);
                    }
                } else if (dtype == DType::Bool) {
                    for (uint8_t &v : b) v &= 1;
                }
                bytes.push_back(std::move(b));
                in.push_back({bytes.back().data(), dt, c.inputs[i]});
            }
            for (size_t i = 0; i < in.size(); ++i) in[i].data = bytes[i].data();
            std::vector<InputInfo> infos;
            for (const TensorView &v : in) infos.push_back({v.dtype, &v.shape});
            std::vector<OutputInfo> outs;
            ASSERT_TRUE(infer_node(*find_op(c.node.op), &canonical, infos, &outs).ok());
            std::vector<std::vector<uint8_t>> cpu_out, emu_out;
            KernelContext cpu, emu;
            cpu.node = emu.node = &canonical;
            cpu.inputs = emu.inputs = in;
            for (const OutputInfo &o : outs) {
                EXPECT_EQ(o.dtype, dtype) << c.node.op;
                cpu_out.emplace_back(static_cast<size_t>(num_elements(o.shape)) * esize, 0);
                emu_out.emplace_back(static_cast<size_t>(num_elements(o.shape)) * esize, 0);
            }
            for (size_t i = 0; i < outs.size(); ++i) {
                cpu.outputs.push_back({cpu_out[i].data(), dtype, outs[i].shape});
                emu.outputs.push_back({emu_out[i].data(), dtype, outs[i].shape});
            }
            ASSERT_TRUE(run_cpu_kernel(cpu).ok()) << c.node.op;
            ASSERT_TRUE(emulate_shape(emu).ok()) << c.node.op;
            EXPECT_EQ(cpu_out, emu_out) << c.node.op << " " << dtype_name(dtype);
            if (c.node.op == "Slice") {
                // data[-1::-2, 0:4:3] of a [5, 4] tensor: rows 4, 2, 0; columns 0, 3.
                size_t at = 0;
                for (int r : {4, 2, 0}) {
                    for (int col : {0, 3}) {
                        EXPECT_EQ(0, std::memcmp(&cpu_out[0][at * esize],
                                                 &bytes[0][(r * 4 + col) * esize], esize));
                        ++at;
                    }
                }
            }
        }
    }
}

TEST(ShapeOps, SliceClampsAsOnnx) {
    // [start, end, step] on an axis of 6 and the elements taken.
    struct Case {
        int64_t start, end, step;
        std::vector<float> want;
    };
    const Tensor x({6}, {0, 1, 2, 3, 4, 5});
    for (const Case &c :
         {Case{-100, 100, 1, {0, 1, 2, 3, 4, 5}}, Case{100, -100, -1, {5, 4, 3, 2, 1, 0}},
          Case{-2, 1, -2, {4, 2}}, Case{4, 4, 1, {}}, Case{1, 6, 4, {1, 5}},
          Case{5, 0, -INT64_MAX, {5}}, Case{0, 6, INT64_MAX, {0}}}) {
        NodeDesc node = make_node("Slice");
        set_ints(&node, "starts", {c.start});
        set_ints(&node, "ends", {c.end});
        set_ints(&node, "steps", {c.step});
        const Tensor y = run1(node, {&x}, {static_cast<int64_t>(c.want.size())});
        EXPECT_EQ(y.data, c.want) << c.start << ":" << c.end << ":" << c.step;
    }
}

TEST(ShapeOps, BatchedMatMulAgainstAPlainLoop) {
    std::mt19937 rng(11);
    NodeDesc node = make_node("MatMul");
    set_int(&node, "transB", 1);
    const Tensor a = random_tensor({3, 1, 2, 4}, rng);
    const Tensor b = random_tensor({2, 5, 4}, rng);
    const Tensor y = run1(node, {&a, &b}, {3, 2, 2, 5});
    for (int i = 0; i < 3; ++i) {
        for (int j = 0; j < 2; ++j) {
            for (int r = 0; r < 2; ++r) {
                for (int c = 0; c < 5; ++c) {
                    double acc = 0;
                    for (int k = 0; k < 4; ++k) {
                        acc += static_cast<double>(a.data[(i * 2 + r) * 4 + k]) *
                               b.data[(j * 5 + c) * 4 + k];
                    }
                    EXPECT_NEAR(y.data[((i * 2 + j) * 2 + r) * 5 + c], acc, 1e-5);
                }
            }
        }
    }
}

TEST(ShapeOps, GemmAgainstAPlainLoopOnBothBackends) {
    std::mt19937 rng(12);
    NodeDesc node = make_node("Gemm");
    set_float(&node, "alpha", 0.5);
    set_int(&node, "transA", 1);
    ASSERT_TRUE(canonicalize_attrs(*find_op("Gemm"), &node).ok()); // beta = 1
    const Tensor a = random_tensor({4, 3}, rng), b = random_tensor({4, 5}, rng);
    const Tensor c = random_tensor({3, 1}, rng);
    const Tensor y = run1(node, {&a, &b, &c}, {3, 5});
    Tensor emu({3, 5});
    KernelContext ctx;
    ctx.node = &node;
    ctx.inputs = {view(a), view(b), view(c)};
    ctx.outputs = {view(emu)};
    ASSERT_TRUE(emulate_shape(ctx).ok());
    for (int i = 0; i < 3; ++i) {
        for (int j = 0; j < 5; ++j) {
            double acc = 0;
            for (int k = 0; k < 4; ++k) {
                acc += static_cast<double>(a.data[k * 3 + i]) * b.data[k * 5 + j];
            }
            const double want = 0.5 * acc + c.data[i];
            EXPECT_NEAR(y.data[i * 5 + j], want, 1e-5);
            EXPECT_NEAR(emu.data[i * 5 + j], want, 1e-5);
        }
    }
}

} // namespace
} // namespace salus::test
