// The conv family: malformed uses refused at validation naming the node, and
// the CPU kernels against direct loops (groups, strides, dilations,
// asymmetric pads, ceil_mode, every pad mode and block mode) and on edge
// cases (size-1 and empty dimensions, windows that fit once).
#include "../graph/graph_helpers.h"
#include "exec/cuda/conv_plans.h"
#include "graph/validate.h"
#include "kernel_test_util.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace salus::test {
namespace {

// ---- validation ----------------------------------------------------------------

AttrValue string_attr(std::string s) {
    AttrValue a;
    a.type = AttrValue::Type::String;
    a.s = std::move(s);
    return a;
}

struct Misuse {
    const char *label;
    const char *op;
    std::vector<Shape> inputs;
    Attrs attrs;
    const char *message; // after the node label
};

class ConvValidation : public ::testing::TestWithParam<Misuse> {};

TEST_P(ConvValidation, RefusedNamingTheNode) {
    const Misuse &m = GetParam();
    GraphBuilder b;
    std::vector<uint32_t> ins;
    for (size_t i = 0; i < m.inputs.size(); ++i) {
        ins.push_back(b.input("in" + std::to_string(i), m.inputs[i]));
    }
    b.output(b.op(m.op, ins, m.attrs, "bad"));
    std::vector<uint32_t> order;
    EXPECT_EQ(validate_graph(&b.graph(), &order).message(),
              std::string("node 0 \"bad\" (") + m.op + "): " + m.message);
}

const Misuse kMisuses[] = {
    {"ConvRank",
     "Conv",
     {{1, 4, 5}, {2, 4, 3, 3}},
     {},
     "Conv needs W of X's rank 3, got W [2, 4, 3, 3] for X [1, 4, 5]"},
    {"ConvRank5",
     "Conv",
     {{1, 1, 3, 3, 3}, {1, 1, 1, 1, 1}},
     {},
     "Conv needs X of rank 3 [N, C, L] or 4 [N, C, H, W], got [1, 1, 3, 3, 3]"},
    {"ConvChannels",
     "Conv",
     {{1, 4, 5, 5}, {2, 3, 3, 3}},
     {},
     "Conv needs W [M, C/group, k...] with C/group = 4 for X [1, 4, 5, 5] and group 1, got W "
     "[2, 3, 3, 3]"},
    {"ConvGroupDivides",
     "Conv",
     {{1, 4, 5, 5}, {3, 2, 3, 3}},
     {{"group", int_attr(2)}},
     "Conv group 2 must divide the input channels 4 and the output channels 3"},
    {"ConvGroupZero",
     "Conv",
     {{1, 4, 5, 5}, {3, 2, 3, 3}},
     {{"group", int_attr(0)}},
     "Conv group 0 must be positive"},
    {"ConvBias",
     "Conv",
     {{1, 4, 5, 5}, {3, 4, 3, 3}, {4}},
     {},
     "Conv needs B [3] (one per output channel), got [4]"},
    {"ConvNegativePads",
     "Conv",
     {{1, 4, 5, 5}, {3, 4, 3, 3}},
     {{"pads", ints_attr({0, -1, 0, 0})}},
     "Conv pads [0, -1, 0, 0] must be >= 0"},
    {"ConvPadsCount",
     "Conv",
     {{1, 4, 5, 5}, {3, 4, 3, 3}},
     {{"pads", ints_attr({1, 1})}},
     "Conv pads [1, 1] needs 4 values"},
    {"ConvDilation",
     "Conv",
     {{1, 4, 5, 5}, {3, 4, 3, 3}},
     {{"dilations", ints_attr({0, 1})}},
     "Conv dilations [0, 1] must be >= 1"},
    {"ConvKernelShape",
     "Conv",
     {{1, 4, 5, 5}, {3, 4, 3, 3}},
     {{"kernel_shape", ints_attr({3, 2})}},
     "Conv kernel_shape [3, 2] differs from W [3, 4, 3, 3]"},
    {"ConvAutoPad",
     "Conv",
     {{1, 4, 5, 5}, {3, 4, 3, 3}},
     {{"auto_pad", string_attr("SAME_UPPER")}},
     "Conv auto_pad \"SAME_UPPER\" is not supported: give explicit pads (auto_pad NOTSET)"},
    {"ConvDoesNotFit",
     "Conv",
     {{1, 4, 2, 2}, {3, 4, 3, 3}},
     {},
     "Conv window [3, 3] (dilations [1, 1], pads [0, 0, 0, 0]) does not fit X [1, 4, 2, 2]"},
    {"ConvTransposeChannels",
     "ConvTranspose",
     {{1, 4, 5, 5}, {3, 2, 3, 3}},
     {},
     "ConvTranspose needs W [C, M/group, k...] with C = 4 for X [1, 4, 5, 5], got W "
     "[3, 2, 3, 3]"},
    {"ConvTransposeOutputPadding",
     "ConvTranspose",
     {{1, 4, 5, 5}, {4, 2, 3, 3}},
     {{"strides", ints_attr({2, 2})}, {"output_padding", ints_attr({2, 0})}},
     "ConvTranspose output_padding [2, 0] must be smaller than strides [2, 2]"},
    {"ConvGradWeightDy",
     "ConvGradWeight",
     {{1, 2, 4, 4}, {1, 3, 5, 5}},
     {{"kernel_shape", ints_attr({3, 3})}},
     "ConvGradWeight needs dY [1, 2, 3, 3] (Conv's output for X [1, 3, 5, 5]), got [1, 2, 4, 4]"},
    {"MaxPoolPads",
     "MaxPool",
     {{1, 2, 5, 5}},
     {{"kernel_shape", ints_attr({2, 2})}, {"pads", ints_attr({2, 0, 0, 0})}},
     "MaxPool pads [2, 0, 0, 0] must be smaller than the window [2, 2]"},
    {"MaxPoolKernel",
     "MaxPool",
     {{1, 2, 5, 5}},
     {{"kernel_shape", ints_attr({2})}},
     "MaxPool kernel [2] needs 2 sizes for X [1, 2, 5, 5]"},
    {"MaxPoolStorageOrder",
     "MaxPool",
     {{1, 2, 5, 5}},
     {{"kernel_shape", ints_attr({2, 2})}, {"storage_order", int_attr(1)}},
     "MaxPool storage_order 1 is not supported: only 0"},
    {"AveragePoolCeil",
     "AveragePool",
     {{1, 2, 5, 5}},
     {{"kernel_shape", ints_attr({2, 2})}, {"ceil_mode", int_attr(2)}},
     "AveragePool attribute \"ceil_mode\" must be 0 or 1, got 2"},
    {"PoolGradDy",
     "MaxPoolGrad",
     {{1, 2, 3, 3}, {1, 2, 5, 5}},
     {{"kernel_shape", ints_attr({2, 2})}},
     "MaxPoolGrad needs dY [1, 2, 4, 4] (the pooled shape of X [1, 2, 5, 5]), got [1, 2, 3, 3]"},
    {"GlobalPoolRank",
     "GlobalAveragePool",
     {{2, 3}},
     {},
     "GlobalAveragePool needs X [N, C, spatial...] of rank >= 3, got [2, 3]"},
    {"PadCount",
     "Pad",
     {{2, 3}},
     {{"pads", ints_attr({1, 1})}},
     "Pad pads [1, 1] needs 4 values for X [2, 3]"},
    {"PadReflect",
     "Pad",
     {{2, 3}},
     {{"pads", ints_attr({0, 3, 0, 0})}, {"mode", string_attr("reflect")}},
     "Pad mode reflect needs pads [0, 3, 0, 0] smaller than the padded axis 1 (3)"},
    {"PadMode",
     "Pad",
     {{2, 3}},
     {{"pads", ints_attr({0, 0, 0, 0})}, {"mode", string_attr("wrap")}},
     "Pad mode \"wrap\" must be constant, reflect or edge"},
    {"PadGradExceeds",
     "PadGrad",
     {{2, 3}},
     {{"pads", ints_attr({2, 0, 1, 0})}},
     "PadGrad pads [2, 0, 1, 0] exceed dY [2, 3]"},
    {"DepthToSpaceChannels",
     "DepthToSpace",
     {{1, 6, 2, 2}},
     {{"blocksize", int_attr(2)}},
     "DepthToSpace needs channels divisible by blocksize² = 4, got X [1, 6, 2, 2]"},
    {"DepthToSpaceMode",
     "DepthToSpace",
     {{1, 4, 2, 2}},
     {{"blocksize", int_attr(2)}, {"mode", string_attr("RDC")}},
     "DepthToSpace mode \"RDC\" must be DCR or CRD"},
    {"SpaceToDepthSize",
     "SpaceToDepth",
     {{1, 1, 3, 4}},
     {{"blocksize", int_attr(2)}},
     "SpaceToDepth needs H and W divisible by blocksize 2, got X [1, 1, 3, 4]"},
    {"UpsampleScales",
     "Upsample",
     {{1, 1, 3, 4}},
     {{"scales", ints_attr({1, 1, 0, 2})}},
     "Upsample scales [1, 1, 0, 2] must be >= 1"},
    {"UpsampleMode",
     "Upsample",
     {{1, 1, 3, 4}},
     {{"scales", ints_attr({1, 1, 2, 2})}, {"mode", string_attr("linear")}},
     "Upsample mode \"linear\" must be nearest"},
    {"UpsampleGradDivides",
     "UpsampleGrad",
     {{1, 1, 3, 4}},
     {{"scales", ints_attr({1, 1, 2, 2})}},
     "UpsampleGrad scales [1, 1, 2, 2] must divide dY [1, 1, 3, 4]"},
};

INSTANTIATE_TEST_SUITE_P(Conv, ConvValidation, ::testing::ValuesIn(kMisuses),
                         [](const auto &p) { return std::string(p.param.label); });

// ---- kernels against direct loops -------------------------------------------------

struct Geometry {
    int64_t n, c, h, w, m, kh, kw;
    int64_t sh, sw, dh, dw, pt, pl, pb, pr, group;
};

int64_t conv_out(int64_t in, int64_t k, int64_t s, int64_t d, int64_t p0, int64_t p1) {
    return (in + p0 + p1 - d * (k - 1) - 1) / s + 1;
}

NodeDesc window_node(const std::string &op, const Geometry &g, bool one_d) {
    NodeDesc node = make_node(op);
    if (one_d) {
        set_ints(&node, "strides", {g.sw});
        set_ints(&node, "dilations", {g.dw});
        set_ints(&node, "pads", {g.pl, g.pr});
    } else {
        set_ints(&node, "strides", {g.sh, g.sw});
        set_ints(&node, "dilations", {g.dh, g.dw});
        set_ints(&node, "pads", {g.pt, g.pl, g.pb, g.pr});
    }
    set_int(&node, "group", g.group);
    return node;
}

Shape dims4(bool one_d, int64_t a, int64_t b, int64_t h, int64_t w) {
    return one_d ? Shape{a, b, w} : Shape{a, b, h, w};
}

// Calls fn(y_index, x_index, w_index) for every product of the convolution
// (1-D: h = kh = 1).
template <typename Fn>
void conv_terms(const Geometry &g, Fn &&fn) {
    const int64_t oh = conv_out(g.h, g.kh, g.sh, g.dh, g.pt, g.pb);
    const int64_t ow = conv_out(g.w, g.kw, g.sw, g.dw, g.pl, g.pr);
    const int64_t cg = g.c / g.group, mg = g.m / g.group;
    for (int64_t n = 0; n < g.n; ++n)
        for (int64_t m = 0; m < g.m; ++m)
            for (int64_t y = 0; y < oh; ++y)
                for (int64_t x = 0; x < ow; ++x)
                    for (int64_t c = 0; c < cg; ++c)
                        for (int64_t i = 0; i < g.kh; ++i)
                            for (int64_t j = 0; j < g.kw; ++j) {
                                const int64_t iy = y * g.sh - g.pt + i * g.dh;
                                const int64_t ix = x * g.sw - g.pl + j * g.dw;
                                if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
                                const int64_t ci = m / mg * cg + c;
                                fn(((n * g.m + m) * oh + y) * ow + x,
                                   ((n * g.c + ci) * g.h + iy) * g.w + ix,
                                   ((m * cg + c) * g.kh + i) * g.kw + j);
                            }
}

const Geometry kGeometries[] = {
    {2, 3, 6, 5, 4, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1},
    {1, 4, 7, 8, 6, 3, 2, 2, 3, 1, 2, 1, 0, 2, 1, 2}, // groups, asymmetric pads
    {2, 4, 5, 5, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4}, // depthwise
    {1, 2, 9, 8, 3, 2, 3, 3, 2, 2, 1, 0, 2, 1, 0, 1}, // leftover rows and columns
    {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1}, // size 1
};

TEST(ConvKernels, ForwardTransposeAndWeightGradMatchDirectLoops) {
    std::mt19937 rng(5);
    for (const Geometry &g0 : kGeometries) {
        for (bool one_d : {false, true}) {
            Geometry g = g0;
            if (one_d) g.h = g.kh = g.sh = g.dh = 1, g.pt = g.pb = 0;
            SCOPED_TRACE(::testing::Message() << "C " << g.c << " M " << g.m << " group " << g.group
                                              << (one_d ? " 1-D" : " 2-D"));
            const int64_t oh = conv_out(g.h, g.kh, g.sh, g.dh, g.pt, g.pb);
            const int64_t ow = conv_out(g.w, g.kw, g.sw, g.dw, g.pl, g.pr);
            const Tensor x = random_tensor(dims4(one_d, g.n, g.c, g.h, g.w), rng);
            const Tensor w = random_tensor(dims4(one_d, g.m, g.c / g.group, g.kh, g.kw), rng);
            const Tensor b = random_tensor({g.m}, rng);
            const Tensor dy = random_tensor(dims4(one_d, g.n, g.m, oh, ow), rng);

            std::vector<double> y(dy.size()), xt(x.size()), dw(w.size(), 0.0), db(b.size());
            for (size_t i = 0; i < y.size(); ++i) y[i] = b.data[i / (oh * ow) % g.m];
            for (int64_t i = 0; i < g.n * oh * ow; ++i)
                for (int64_t m = 0; m < g.m; ++m) {
                    db[m] += dy.data[(i / (oh * ow) * g.m + m) * oh * ow + i % (oh * ow)];
                }
            conv_terms(g, [&](int64_t yi, int64_t xi, int64_t wi) {
                y[yi] += static_cast<double>(x.data[xi]) * w.data[wi];
                xt[xi] += static_cast<double>(dy.data[yi]) * w.data[wi];
                dw[wi] += static_cast<double>(dy.data[yi]) * x.data[xi];
            });

            const NodeDesc conv = window_node("Conv", g, one_d);
            expect_near_all(run1(conv, {&x, &w, &b}, dy.shape), y, 1e-5, 1e-5, "Conv");

            // The data gradient is ConvTranspose of dY with the same W; the
            // leftover of Conv's rounding is output_padding.
            NodeDesc tconv = window_node("ConvTranspose", g, one_d);
            const int64_t rh = (g.h + g.pt + g.pb - g.dh * (g.kh - 1) - 1) % g.sh;
            const int64_t rw = (g.w + g.pl + g.pr - g.dw * (g.kw - 1) - 1) % g.sw;
            set_ints(&tconv, "output_padding",
                     one_d ? std::vector<int64_t>{rw} : std::vector<int64_t>{rh, rw});
            expect_near_all(run1(tconv, {&dy, &w}, x.shape), xt, 1e-5, 1e-5, "ConvTranspose");

            NodeDesc gw = window_node("ConvGradWeight", g, one_d);
            set_ints(&gw, "kernel_shape",
                     one_d ? std::vector<int64_t>{g.kw} : std::vector<int64_t>{g.kh, g.kw});
            Tensor got_dw(w.shape), got_db(b.shape);
            const Status st = run_kernel(gw, {&dy, &x}, {&got_dw, &got_db});
            ASSERT_TRUE(st.ok()) << st.message();
            expect_near_all(got_dw, dw, 1e-5, 1e-5, "ConvGradWeight dW");
            expect_near_all(got_db, db, 1e-5, 1e-5, "ConvGradWeight dB");
            // Without the dB output only dW is computed.
            expect_near_all(run1(gw, {&dy, &x}, w.shape), dw, 1e-5, 1e-5, "dW alone");
        }
    }
}

TEST(ConvKernels, EmptyBatchGivesZeroWeightGradient) {
    const Tensor dy({0, 2, 3, 3}), x({0, 1, 5, 5});
    NodeDesc gw = make_node("ConvGradWeight");
    set_ints(&gw, "kernel_shape", {3, 3});
    Tensor dw({2, 1, 3, 3}), db({2});
    std::fill(dw.data.begin(), dw.data.end(), 7.0f);
    std::fill(db.data.begin(), db.data.end(), 7.0f);
    ASSERT_TRUE(run_kernel(gw, {&dy, &x}, {&dw, &db}).ok());
    for (float v : dw.data) EXPECT_EQ(v, 0.0f);
    for (float v : db.data) EXPECT_EQ(v, 0.0f);
}

TEST(ConvKernels, NoInputChannelsGiveTheBias) {
    const Tensor x({2, 0, 3, 3}), w({2, 0, 1, 1}), b({2}, {0.5f, -2.0f});
    Tensor y = run1(make_node("Conv"), {&x, &w, &b}, {2, 2, 3, 3});
    for (size_t i = 0; i < y.size(); ++i) EXPECT_EQ(y.data[i], i / 9 % 2 ? -2.0f : 0.5f) << i;
    y = run1(make_node("Conv"), {&x, &w}, {2, 2, 3, 3});
    for (size_t i = 0; i < y.size(); ++i) EXPECT_EQ(y.data[i], 0.0f) << i;
    const Tensor tw({0, 2, 1, 1});
    y = run1(make_node("ConvTranspose"), {&x, &tw, &b}, {2, 2, 3, 3});
    for (size_t i = 0; i < y.size(); ++i) EXPECT_EQ(y.data[i], i / 9 % 2 ? -2.0f : 0.5f) << i;
}

// ---- pooling -------------------------------------------------------------------------

NodeDesc pool_node(const std::string &op, std::vector<int64_t> kernel, std::vector<int64_t> strides,
                   std::vector<int64_t> pads, int64_t ceil_mode) {
    NodeDesc node = make_node(op);
    set_ints(&node, "kernel_shape", std::move(kernel));
    set_ints(&node, "strides", std::move(strides));
    set_ints(&node, "pads", std::move(pads));
    set_int(&node, "ceil_mode", ceil_mode);
    return node;
}

TEST(PoolKernels, CeilModeWindowsAndDivisors) {
    // X [1, 1, 1, 5] = 1..5, kernel 1x2, stride 2, pad begin 1, end 1, ceil:
    // windows [-1, 0], [1, 2], [3, 4], and [5, 6] starts past the end pad: 3
    // outputs.
    const Tensor x({1, 1, 1, 5}, {1, 2, 3, 4, 5});
    NodeDesc avg = pool_node("AveragePool", {1, 2}, {1, 2}, {0, 1, 0, 1}, 1);
    set_int(&avg, "count_include_pad", 1);
    expect_near_all(run1(avg, {&x}, {1, 1, 1, 3}), {0.5, 2.5, 4.5}, 0, 1e-7, "with pads");
    set_int(&avg, "count_include_pad", 0);
    expect_near_all(run1(avg, {&x}, {1, 1, 1, 3}), {1, 2.5, 4.5}, 0, 1e-7, "without pads");
    const NodeDesc mx = pool_node("MaxPool", {1, 2}, {1, 2}, {0, 1, 0, 1}, 1);
    Tensor y({1, 1, 1, 3}), idx({1, 1, 1, 3});
    idx.data.resize(6); // i64
    idx.dtype = DType::I64;
    ASSERT_TRUE(run_kernel(mx, {&x}, {&y, &idx}).ok());
    expect_near_all(y, {1, 3, 5}, 0, 0, "MaxPool");
    int64_t got[3];
    std::memcpy(got, idx.data.data(), sizeof got);
    EXPECT_EQ(got[0], 0);
    EXPECT_EQ(got[1], 2);
    EXPECT_EQ(got[2], 4);
}

TEST(PoolKernels, GradsScatterToTheirWindows) {
    const Tensor x({1, 1, 2, 2}, {1, 4, 3, 2}), dy({1, 1, 1, 1}, {2});
    const NodeDesc mx = pool_node("MaxPoolGrad", {2, 2}, {2, 2}, {0, 0, 0, 0}, 0);
    expect_near_all(run1(mx, {&dy, &x}, x.shape), {0, 2, 0, 0}, 0, 0, "MaxPoolGrad");
    const NodeDesc avg = pool_node("AveragePoolGrad", {2, 2}, {2, 2}, {0, 0, 0, 0}, 0);
    expect_near_all(run1(avg, {&dy, &x}, x.shape), {0.5, 0.5, 0.5, 0.5}, 0, 0, "AvgPoolGrad");
    const Tensor g({2, 2, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
    expect_near_all(run1(make_node("GlobalAveragePool"), {&g}, {2, 2, 1}), {2, 5, 8, 11}, 0, 1e-7,
                    "GlobalAveragePool");
}

// ---- padding and resampling ------------------------------------------------------

TEST(ResampleKernels, PadModes) {
    const Tensor x({3}, {1, 2, 3});
    NodeDesc pad = make_node("Pad");
    set_ints(&pad, "pads", {2, 1});
    set_float(&pad, "value", -1.0);
    expect_near_all(run1(pad, {&x}, {6}), {-1, -1, 1, 2, 3, -1}, 0, 0, "constant");
    AttrValue mode;
    mode.type = AttrValue::Type::String;
    mode.s = "reflect";
    pad.attrs["mode"] = mode;
    expect_near_all(run1(pad, {&x}, {6}), {3, 2, 1, 2, 3, 2}, 0, 0, "reflect");
    NodeDesc grad = pad;
    grad.op = "PadGrad";
    grad.attrs.erase("value");
    const Tensor dy({6}, {1, 10, 100, 1000, 10000, 100000});
    expect_near_all(run1(grad, {&dy}, {3}), {100, 1000 + 10 + 100000, 10000 + 1}, 0, 0,
                    "reflect grad");
    pad.attrs["mode"].s = "edge";
    expect_near_all(run1(pad, {&x}, {6}), {1, 1, 1, 2, 3, 3}, 0, 0, "edge");
    // An empty axis padded with a constant.
    const Tensor empty({2, 0});
    NodeDesc cpad = make_node("Pad");
    set_ints(&cpad, "pads", {0, 1, 0, 0});
    expect_near_all(run1(cpad, {&empty}, {2, 1}), {0, 0}, 0, 0, "empty axis");
}

TEST(ResampleKernels, DepthToSpaceModesAndInverse) {
    Tensor x({1, 8, 1, 1});
    for (size_t i = 0; i < x.size(); ++i) x.data[i] = static_cast<float>(i);
    NodeDesc d2s = make_node("DepthToSpace");
    set_int(&d2s, "blocksize", 2);
    // DCR: Y[c, i, j] = X[(i·2 + j)·2 + c]; CRD: X[c·4 + i·2 + j].
    const Tensor dcr = run1(d2s, {&x}, {1, 2, 2, 2});
    expect_near_all(dcr, {0, 2, 4, 6, 1, 3, 5, 7}, 0, 0, "DCR");
    NodeDesc s2d = d2s;
    s2d.op = "SpaceToDepth";
    expect_near_all(run1(s2d, {&dcr}, x.shape), std::vector<double>(x.data.begin(), x.data.end()),
                    0, 0, "DCR inverse");
    AttrValue crd;
    crd.type = AttrValue::Type::String;
    crd.s = "CRD";
    d2s.attrs["mode"] = crd;
    expect_near_all(run1(d2s, {&x}, {1, 2, 2, 2}), {0, 1, 2, 3, 4, 5, 6, 7}, 0, 0, "CRD");
}

TEST(ResampleKernels, UpsampleAndGrad) {
    const Tensor x({1, 2, 1, 2}, {1, 2, 3, 4});
    NodeDesc up = make_node("Upsample");
    set_ints(&up, "scales", {1, 1, 2, 3});
    const Tensor y = run1(up, {&x}, {1, 2, 2, 6});
    expect_near_all(y, {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4}, 0,
                    0, "Upsample");
    NodeDesc grad = up;
    grad.op = "UpsampleGrad";
    expect_near_all(run1(grad, {&y}, x.shape), {6, 12, 18, 24}, 0, 0, "UpsampleGrad");
}

// ---- CUDA device code (conv_device.h) against the CPU kernels ------------------------

// The CUDA kernel's result, its device code run on the CPU over every output
// element as the grid-stride loops of conv.cu do.
Tensor emulate_cuda(const NodeDesc &node, const Tensor &x, const Shape &out_shape) {
    NodeDesc canonical = node;
    EXPECT_TRUE(canonicalize_attrs(*find_op(node.op), &canonical).ok());
    Tensor y(out_shape);
    KernelContext ctx;
    ctx.node = &canonical;
    ctx.inputs = {view(x)};
    ctx.outputs = {view(y)};
    const int64_t n = y.shape.empty() ? 1 : num_elements(y.shape);
    if (node.op == "PadGrad") {
        cuda::ResampleMap m;
        EXPECT_TRUE(cuda::plan_pad(ctx, true, &m).ok());
        for (int64_t j = 0; j < n; ++j) {
            y.data[static_cast<size_t>(j)] = cuda::pad_grad_value(m, x.data.data(), j);
        }
    } else if (node.op == "Pad" || node.op == "Upsample") {
        cuda::ResampleMap m;
        const Status st =
            node.op == "Pad" ? cuda::plan_pad(ctx, false, &m) : cuda::plan_upsample(ctx, false, &m);
        EXPECT_TRUE(st.ok()) << st.message();
        const float value = static_cast<float>(canonical.get_float("value"));
        for (int64_t i = 0; i < n; ++i) {
            const int64_t s = cuda::resample_source(m, i);
            y.data[static_cast<size_t>(i)] = s < 0 ? value : x.data[static_cast<size_t>(s)];
        }
    } else if (node.op == "UpsampleGrad") {
        cuda::ResampleMap m;
        EXPECT_TRUE(cuda::plan_upsample(ctx, true, &m).ok());
        for (int64_t j = 0; j < n; ++j) {
            y.data[static_cast<size_t>(j)] = cuda::upsample_grad_value(m, x.data.data(), j);
        }
    } else if (node.op == "GlobalAveragePool") {
        const int64_t planes = x.shape[0] * x.shape[1];
        for (int64_t c = 0; c < planes; ++c) {
            y.data[static_cast<size_t>(c)] =
                cuda::plane_mean(x.data.data(), c, num_elements(x.shape) / planes);
        }
    } else {
        cuda::DepthSpace p;
        EXPECT_TRUE(cuda::plan_depth_space(ctx, &p).ok());
        const bool to_depth = node.op == "SpaceToDepth";
        for (int64_t s = 0; s < n; ++s) {
            const size_t d = static_cast<size_t>(cuda::depth_index(p, s));
            if (to_depth) {
                y.data[d] = x.data[static_cast<size_t>(s)];
            } else {
                y.data[static_cast<size_t>(s)] = x.data[d];
            }
        }
    }
    return y;
}

AttrValue mode_attr(const char *mode) {
    AttrValue a;
    a.type = AttrValue::Type::String;
    a.s = mode;
    return a;
}

TEST(ConvCudaDeviceCode, MatchesTheCpuKernels) {
    std::mt19937 rng(9);
    struct Case {
        NodeDesc node;
        Shape in, out;
    };
    std::vector<Case> cases;
    for (const char *mode : {"constant", "reflect", "edge"}) {
        NodeDesc pad = make_node("Pad");
        set_ints(&pad, "pads", {0, 2, 1, 1, 0, 2});
        set_float(&pad, "value", 0.25);
        pad.attrs["mode"] = mode_attr(mode);
        cases.push_back({pad, {2, 3, 4}, {3, 5, 7}});
        NodeDesc grad = pad;
        grad.op = "PadGrad";
        grad.attrs.erase("value");
        cases.push_back({grad, {3, 5, 7}, {2, 3, 4}});
        // Pads as wide as reflect allows; edge and constant pad an axis of 1.
        set_ints(&grad, "pads", {1, 0, 3, 0, 2, 0});
        Shape dy{3, 4, 7};
        if (std::string(mode) == "reflect") {
            set_ints(&grad, "pads", {1, 1, 3, 1, 1, 3});
            dy = {4, 4, 10};
        } else {
            cases.push_back({grad, {2, 5, 8}, {1, 3, 5}});
        }
        cases.push_back({grad, dy, {2, 2, 4}});
    }
    NodeDesc pad0 = make_node("Pad");
    set_ints(&pad0, "pads", {});
    cases.push_back({pad0, {}, {}});
    NodeDesc up = make_node("Upsample");
    set_ints(&up, "scales", {1, 2, 3, 1});
    cases.push_back({up, {2, 3, 2, 4}, {2, 6, 6, 4}});
    NodeDesc upg = make_node("UpsampleGrad");
    set_ints(&upg, "scales", {1, 2, 3, 1});
    cases.push_back({upg, {2, 6, 6, 4}, {2, 3, 2, 4}});
    for (const char *mode : {"DCR", "CRD"}) {
        NodeDesc d2s = make_node("DepthToSpace");
        set_int(&d2s, "blocksize", 2);
        d2s.attrs["mode"] = mode_attr(mode);
        cases.push_back({d2s, {2, 12, 3, 2}, {2, 3, 6, 4}});
        NodeDesc s2d = d2s;
        s2d.op = "SpaceToDepth";
        cases.push_back({s2d, {2, 3, 6, 4}, {2, 12, 3, 2}});
    }
    cases.push_back({make_node("GlobalAveragePool"), {2, 3, 5, 7}, {2, 3, 1, 1}});
    cases.push_back({make_node("GlobalAveragePool"), {1, 2, 9}, {1, 2, 1}});
    for (const Case &c : cases) {
        SCOPED_TRACE(c.node.op + " " + shape_str(c.in));
        NodeDesc checked = c.node;
        std::vector<OutputInfo> inferred;
        ASSERT_TRUE(
            infer_node(*find_op(c.node.op), &checked, {{DType::F32, &c.in}}, &inferred).ok());
        ASSERT_EQ(inferred[0].shape, c.out);
        const Tensor x = random_tensor(c.in, rng);
        const Tensor want = run1(c.node, {&x}, c.out);
        const Tensor got = emulate_cuda(c.node, x, c.out);
        ASSERT_EQ(got.size(), want.size());
        for (size_t i = 0; i < want.size(); ++i) {
            // Moves are exact; sums follow the CPU's order and precision.
            ASSERT_EQ(got.data[i], want.data[i]) << "element " << i;
        }
    }
}

// Pooling: the CUDA kernels' device code over every element against the CPU
// kernels (oneDNN's; where the CPU runs loops, they share the device code's
// formulas and test_ops_conv.py checks both against torch); maxima and
// indices exactly, means and gradients within float rounding of a different
// summation order.
TEST(ConvCudaDeviceCode, PoolingMatchesTheCpuKernels) {
    std::mt19937 rng(13);
    struct PoolGeometry {
        Shape x;
        std::vector<int64_t> kernel, strides, pads, dilations;
        int64_t ceil_mode, include_pad;
    };
    const PoolGeometry geometries[] = {
        {{2, 3, 7, 6}, {3, 2}, {2, 2}, {1, 0, 1, 1}, {1, 1}, 0, 0},
        {{1, 2, 8, 8}, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, 1, 1},
        {{2, 1, 7, 9}, {2, 3}, {1, 2}, {1, 0, 1, 0}, {2, 1}, 1, 0},
        {{2, 3, 10}, {4}, {3}, {2, 2}, {1}, 1, 1},
        {{1, 1, 1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, {1, 1}, 0, 1},
    };
    for (const PoolGeometry &g : geometries) {
        for (const char *op : {"MaxPool", "AveragePool", "MaxPoolGrad", "AveragePoolGrad"}) {
            const bool max = std::string(op).rfind("MaxPool", 0) == 0;
            const bool grad = std::string(op).find("Grad") != std::string::npos;
            NodeDesc node = make_node(op);
            set_ints(&node, "kernel_shape", g.kernel);
            set_ints(&node, "strides", g.strides);
            set_ints(&node, "pads", g.pads);
            set_int(&node, "ceil_mode", g.ceil_mode);
            if (max) {
                set_ints(&node, "dilations", g.dilations);
            } else {
                set_int(&node, "count_include_pad", g.include_pad);
            }
            NodeDesc canonical = node;
            ASSERT_TRUE(canonicalize_attrs(*find_op(op), &canonical).ok());
            cuda::PoolPlan plan;
            ASSERT_TRUE(cuda::plan_pool(canonical, g.x, &plan).ok());
            Shape y_shape{g.x[0], g.x[1]};
            if (g.x.size() == 4) y_shape.push_back(plan.oh);
            y_shape.push_back(plan.ow);
            SCOPED_TRACE(std::string(op) + " X " + shape_str(g.x) + " Y " + shape_str(y_shape));
            const Tensor x = random_tensor(g.x, rng);
            const Tensor dy = random_tensor(y_shape, rng);
            if (grad) {
                const Tensor want = run1(node, {&dy, &x}, g.x);
                const int64_t plane = plan.ih * plan.iw;
                for (int64_t j = 0; j < num_elements(g.x); ++j) {
                    const int64_t c = j / plane, r = j % plane;
                    const float got = cuda::pool_grad_value(plan, max, x.data.data() + c * plane,
                                                            dy.data.data() + c * plan.oh * plan.ow,
                                                            r / plan.iw, r % plan.iw);
                    ASSERT_NEAR(got, want.data[static_cast<size_t>(j)], 1e-6) << "element " << j;
                }
                continue;
            }
            Tensor want(y_shape), indices(y_shape);
            indices.data.resize(2 * indices.size()); // i64
            indices.dtype = DType::I64;
            std::vector<Tensor *> outs{&want};
            if (max) outs.push_back(&indices);
            ASSERT_TRUE(run_kernel(node, {&x}, outs).ok());
            const int64_t per_plane = plan.oh * plan.ow;
            for (int64_t o = 0; o < num_elements(y_shape); ++o) {
                const int64_t c = o / per_plane, r = o % per_plane;
                const float *xc = x.data.data() + c * plan.ih * plan.iw;
                if (max) {
                    int64_t at = -1;
                    ASSERT_EQ(cuda::pool_max(plan, xc, r / plan.ow, r % plan.ow, &at),
                              want.data[static_cast<size_t>(o)]);
                    int64_t index = 0;
                    std::memcpy(&index, indices.data.data() + 2 * o, sizeof index);
                    ASSERT_EQ(c * plan.ih * plan.iw + at, index) << "index " << o;
                } else {
                    ASSERT_NEAR(cuda::pool_mean(plan, xc, r / plan.ow, r % plan.ow),
                                want.data[static_cast<size_t>(o)], 1e-6)
                        << "element " << o;
                }
            }
        }
    }
}

TEST(ConvCudaDeviceCode, PlansRefuseWhatTheKernelsCannotRun) {
    const Tensor big(Shape(9, 1)), small(Shape(9, 1));
    NodeDesc up = make_node("Upsample");
    set_ints(&up, "scales", std::vector<int64_t>(9, 1));
    KernelContext ctx;
    ctx.node = &up;
    ctx.inputs = {view(small)};
    ctx.outputs = {view(big)};
    cuda::ResampleMap m;
    EXPECT_EQ(cuda::plan_upsample(ctx, false, &m).code(), SALUS_EEXEC);
}

} // namespace
} // namespace salus::test
