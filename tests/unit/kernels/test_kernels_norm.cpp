// The norm family: malformed uses refused by the validator with the node
// named; the CPU kernels against double-precision references and finite
// differences, on edge cases (size-1 dims, a group per channel, ratio 0 and
// 1); the CUDA device code (norm_device.h) emulated on the CPU as norm.cu
// composes it, against the CPU kernels; and no kernel allocating while it runs.
#include "../counting_new.h"
#include "../graph/graph_helpers.h"
#include "exec/cuda/norm_device.h"
#include "graph/validate.h"
#include "kernel_test_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace salus::test {
namespace {

// ---- validation -------------------------------------------------------------

struct BadUse {
    std::string op;
    std::vector<Shape> inputs;
    Attrs attrs;
    std::string message;
    std::vector<int> variables = {}; // inputs that are variables
    std::vector<DType> dtypes = {};  // per input, f32 when absent
};

TEST(NormValidate, MalformedUsesAreRefusedNamingTheNode) {
    const std::vector<BadUse> cases = {
        {"BatchNormalization", {{3}, {3}, {3}, {3}, {3}}, {}, "rank 2 or more"},
        {"BatchNormalization", {{2, 3}, {4}, {3}, {3}, {3}}, {}, "scale of shape [3]"},
        {"BatchNormalization", {{2, 3}, {3}, {3}, {3}, {2}}, {}, "input_var of shape [3]"},
        {"BatchNormalization",
         {{2, 3}, {3}, {3}, {3}, {3}},
         {{"epsilon", float_attr(-1.0)}},
         "epsilon must be >= 0"},
        {"BatchNormalization",
         {{2, 3}, {3}, {3}, {3}, {3}},
         {{"training_mode", int_attr(1)}},
         "training_mode must be 0"},
        {"BatchNormalizationTraining",
         {{2, 3}, {3}, {3}, {3}, {3}},
         {},
         "can only update a variable",
         {4}},
        {"BatchNormalizationTraining",
         {{1, 3, 1}, {3}, {3}, {3}, {3}},
         {},
         "more than one value per channel",
         {3, 4}},
        {"BatchNormalizationTraining",
         {{2, 3}, {3}, {3}, {3}, {3}},
         {{"momentum", float_attr(1.5)}},
         "momentum must be in [0, 1]",
         {3, 4}},
        {"BatchNormalizationGrad", {{2, 4}, {2, 3}, {3}, {3}, {3}}, {}, "dY of X's shape"},
        {"LayerNormalization", {{}, {}}, {}, "rank 1 or more"},
        {"LayerNormalization", {{2, 3}, {2}}, {}, "Scale of shape [3]"},
        {"LayerNormalization", {{2, 3}, {3}}, {{"axis", int_attr(2)}}, "axis 2 is out of range"},
        {"LayerNormalization", {{2, 3}, {3}}, {{"axis", int_attr(-3)}}, "axis -3 is out of range"},
        {"LayerNormalization", {{2, 3}, {3}, {2}}, {}, "B of shape [3]"},
        {"LayerNormalization", {{2, 3}, {3}}, {{"stash_type", int_attr(0)}}, "stash_type"},
        {"LayerNormalizationGrad", {{2, 3}, {2, 3}, {3}, {2, 2}, {2, 1}}, {}, "Mean of shape"},
        {"InstanceNormalization", {{2, 3}, {3}, {3}}, {}, "rank 3 or more"},
        {"InstanceNormalization", {{2, 3, 4}, {4}, {3}}, {}, "scale of shape [3]"},
        {"GroupNormalization", {{2, 6, 3}, {6}, {6}}, {}, "num_groups"},
        {"GroupNormalization",
         {{2, 6, 3}, {6}, {6}},
         {{"num_groups", int_attr(4)}},
         "does not divide the 6 channels"},
        {"GroupNormalization",
         {{2, 6, 3}, {6}, {6}},
         {{"num_groups", int_attr(-2)}},
         "num_groups must be > 0"},
        {"GroupNormalizationGrad",
         {{2, 6, 3}, {2, 6, 3}, {5}},
         {{"num_groups", int_attr(3)}},
         "scale of shape [6]"},
        {"Dropout", {{2, 3}}, {{"ratio", float_attr(-0.1)}}, "ratio must be in [0, 1]"},
        {"Dropout", {{2, 3}}, {{"training_mode", int_attr(2)}}, "must be 0 or 1"},
        {"DropoutGrad", {{2, 3}, {3, 2}}, {}, "mask of dY's shape", {}, {DType::F32, DType::Bool}},
        {"DropoutGrad", {{2, 3}, {2, 3}}, {}, "bool"},
    };
    for (const BadUse &c : cases) {
        SCOPED_TRACE(c.op + ": " + c.message);
        GraphBuilder b;
        std::vector<uint32_t> ins;
        for (size_t i = 0; i < c.inputs.size(); ++i) {
            const bool variable = std::find(c.variables.begin(), c.variables.end(),
                                            static_cast<int>(i)) != c.variables.end();
            const DType dtype = i < c.dtypes.size() ? c.dtypes[i] : DType::F32;
            ins.push_back(b.tensor("in" + std::to_string(i),
                                   variable ? TensorKind::Variable : TensorKind::Input, c.inputs[i],
                                   true, dtype));
        }
        std::vector<uint32_t> outs;
        for (int i = 0; i < find_op(c.op)->max_outputs; ++i) outs.push_back(b.intermediate());
        b.node(c.op, ins, outs, c.attrs, "bad");
        b.output(outs[0]);
        std::vector<uint32_t> order;
        const Status st = validate_graph(&b.graph(), &order);
        EXPECT_EQ(st.code(), SALUS_EGRAPH);
        EXPECT_NE(st.message().find("node 0 \"bad\" (" + c.op + ")"), std::string::npos)
            << st.message();
        EXPECT_NE(st.message().find(c.message), std::string::npos) << st.message();
    }
}

TEST(NormValidate, OptionalOutputsMayBeLeftOut) {
    GraphBuilder b;
    const uint32_t x = b.input("x", {4, 3});
    const uint32_t w = b.input("w", {3});
    const uint32_t y = b.intermediate("y");
    b.node("LayerNormalization", {x, w}, {y}, {}, "ln");
    const uint32_t d = b.intermediate("d");
    b.node("Dropout", {y}, {d}, {{"training_mode", int_attr(1)}}, "drop");
    b.output(d);
    std::vector<uint32_t> order;
    const Status st = validate_graph(&b.graph(), &order);
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_EQ(b.graph().tensors[d].shape, (Shape{4, 3}));
}

// ---- CPU kernels --------------------------------------------------------------

// The outputs of node's CPU kernel on `inputs`, shaped by the op's inference.
std::vector<Tensor> run(const NodeDesc &node, const std::vector<const Tensor *> &inputs,
                        uint64_t iteration = 0) {
    std::vector<InputInfo> infos;
    for (const Tensor *t : inputs) infos.push_back({t->dtype, &t->shape});
    NodeDesc canonical = node;
    std::vector<OutputInfo> outs;
    const Status inferred = infer_node(*find_op(node.op), &canonical, infos, &outs);
    EXPECT_TRUE(inferred.ok()) << inferred.message();
    std::vector<Tensor> y;
    for (const OutputInfo &o : outs) {
        y.emplace_back(o.shape);
        y.back().dtype = o.dtype;
    }
    KernelInit init;
    init.node = &canonical;
    init.device = cpu_device();
    for (const Tensor *t : inputs) init.inputs.push_back(view(*t));
    for (Tensor &t : y) init.outputs.push_back(view(t));
    PreparedKernel kernel;
    EXPECT_TRUE(default_kernels().prepare(init, &kernel).ok());
    std::vector<uint8_t> workspace(kernel.workspace_bytes);
    KernelContext ctx;
    ctx.node = &canonical;
    ctx.inputs = init.inputs;
    ctx.outputs = init.outputs;
    ctx.workspace = workspace.data();
    ctx.workspace_bytes = workspace.size();
    ctx.iteration = iteration;
    const Status st = kernel.run(ctx);
    EXPECT_TRUE(st.ok()) << node.op << ": " << st.message();
    return y;
}

const uint8_t *bytes(const Tensor &t) {
    return reinterpret_cast<const uint8_t *>(t.data.data());
}

Tensor positive(const Shape &shape, std::mt19937 &rng) {
    return random_tensor(shape, rng, 0.5f, 2.0f);
}

TEST(NormKernels, BatchNormTrainingMatchesADoubleReference) {
    std::mt19937 rng(1);
    for (const Shape &shape : std::vector<Shape>{{2, 3}, {4, 2, 5}, {2, 3, 2, 2}, {1, 1, 7}}) {
        SCOPED_TRACE(shape_str(shape));
        const int64_t n = shape[0], c = shape[1], inner = num_elements(shape) / (n * c);
        const Tensor x = random_tensor(shape, rng, -3.0f, 5.0f);
        const Tensor w = random_tensor({c}, rng), bias = random_tensor({c}, rng);
        Tensor rm = random_tensor({c}, rng), rv = positive({c}, rng);
        const Tensor rm0 = rm, rv0 = rv;
        NodeDesc node = make_node("BatchNormalizationTraining");
        set_float(&node, "momentum", 0.7);
        const std::vector<Tensor> y = run(node, {&x, &w, &bias, &rm, &rv});
        ASSERT_EQ(y.size(), 3u);
        for (int64_t ch = 0; ch < c; ++ch) {
            double sum = 0, sq = 0;
            const int64_t m = n * inner;
            for (int64_t i = 0; i < n; ++i)
                for (int64_t k = 0; k < inner; ++k) sum += x.data[(i * c + ch) * inner + k];
            const double mean = sum / m;
            for (int64_t i = 0; i < n; ++i)
                for (int64_t k = 0; k < inner; ++k)
                    sq += std::pow(x.data[(i * c + ch) * inner + k] - mean, 2);
            const double var = sq / m, inv = 1 / std::sqrt(var + 1e-5);
            EXPECT_NEAR(y[1].data[ch], mean, 1e-6);
            EXPECT_NEAR(y[2].data[ch], inv, 1e-5 * inv);
            EXPECT_NEAR(rm.data[ch], 0.7 * rm0.data[ch] + 0.3 * mean, 1e-6);
            EXPECT_NEAR(rv.data[ch], 0.7 * rv0.data[ch] + 0.3 * var * m / (m - 1), 1e-5);
            for (int64_t i = 0; i < n; ++i) {
                for (int64_t k = 0; k < inner; ++k) {
                    const int64_t at = (i * c + ch) * inner + k;
                    const double want = (x.data[at] - mean) * inv * w.data[ch] + bias.data[ch];
                    EXPECT_NEAR(y[0].data[at], want, 1e-5 * (1 + std::abs(want)));
                }
            }
        }
    }
}

TEST(NormKernels, InstanceNormIsGroupNormWithAGroupPerChannel) {
    std::mt19937 rng(2);
    const Tensor x = random_tensor({2, 3, 4}, rng), w = random_tensor({3}, rng),
                 b = random_tensor({3}, rng), dy = random_tensor({2, 3, 4}, rng);
    NodeDesc in = make_node("InstanceNormalization"), gn = make_node("GroupNormalization");
    set_int(&gn, "num_groups", 3);
    EXPECT_EQ(run(in, {&x, &w, &b})[0].data, run(gn, {&x, &w, &b})[0].data);
    NodeDesc in_grad = make_node("InstanceNormalizationGrad"),
             gn_grad = make_node("GroupNormalizationGrad");
    set_int(&gn_grad, "num_groups", 3);
    const std::vector<Tensor> a = run(in_grad, {&dy, &x, &w}), g = run(gn_grad, {&dy, &x, &w});
    for (size_t i = 0; i < 3; ++i) EXPECT_EQ(a[i].data, g[i].data) << "output " << i;
}

TEST(NormKernels, OneGroupIsLayerNormOverEveryAxisButTheFirst) {
    std::mt19937 rng(3);
    const Tensor x = random_tensor({2, 4, 3}, rng);
    Tensor ones({4}), zeros({4}), ones_ln({4, 3});
    std::fill(ones.data.begin(), ones.data.end(), 1.0f);
    std::fill(ones_ln.data.begin(), ones_ln.data.end(), 1.0f);
    NodeDesc gn = make_node("GroupNormalization"), ln = make_node("LayerNormalization");
    set_int(&gn, "num_groups", 1);
    set_int(&ln, "axis", 1);
    // Our loops against oneDNN's layer norm: a few float roundings apart.
    const Tensor a = run(gn, {&x, &ones, &zeros})[0], b = run(ln, {&x, &ones_ln})[0];
    for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a.data[i], b.data[i], 1e-5);
}

TEST(NormKernels, LayerNormOfAConstantRowIsItsBias) {
    Tensor x({2, 3}, {4, 4, 4, -1, -1, -1}), w({3}, {1, 2, 3}), b({3}, {0.5f, -1, 2});
    const std::vector<Tensor> y = run(make_node("LayerNormalization"), {&x, &w, &b});
    for (size_t i = 0; i < 6; ++i) EXPECT_EQ(y[0].data[i], b.data[i % 3]);
    EXPECT_EQ(y[1].data, (std::vector<float>{4, -1}));
    EXPECT_NEAR(y[2].data[0], 1 / std::sqrt(1e-5), 1e-2);
}

// d(sum(forward(inputs)[0] * dy)) / d inputs[wrt], by central differences.
std::vector<double> numeric_grad(const NodeDesc &forward, std::vector<Tensor> inputs, size_t wrt,
                                 const Tensor &dy) {
    std::vector<double> g(inputs[wrt].size());
    const float eps = 1e-2f;
    for (size_t k = 0; k < g.size(); ++k) {
        double f[2];
        for (int s = 0; s < 2; ++s) {
            std::vector<Tensor> in = inputs;
            in[wrt].data[k] += s == 0 ? eps : -eps;
            std::vector<const Tensor *> ptrs;
            for (const Tensor &t : in) ptrs.push_back(&t);
            const Tensor y = run(forward, ptrs)[0];
            f[s] = 0;
            for (size_t i = 0; i < y.size(); ++i)
                f[s] += static_cast<double>(y.data[i]) * dy.data[i];
        }
        g[k] = (f[0] - f[1]) / (2 * eps);
    }
    return g;
}

void expect_grad(const std::vector<double> &numeric, const Tensor &got, const std::string &what) {
    ASSERT_EQ(numeric.size(), got.size()) << what;
    for (size_t i = 0; i < numeric.size(); ++i) {
        EXPECT_NEAR(got.data[i], numeric[i], 2e-3 + 2e-2 * std::abs(numeric[i]))
            << what << " element " << i;
    }
}

TEST(NormKernels, GradientsMatchFiniteDifferences) {
    std::mt19937 rng(4);
    const Shape shape{3, 2, 2};
    const Tensor x = random_tensor(shape, rng), dy = random_tensor(shape, rng);
    const Tensor w = random_tensor({2}, rng), b = random_tensor({2}, rng);
    const Tensor rm({2}), rv({2}, {1, 1});

    // Batch statistics: BatchNormalizationTraining's Y, through its saved stats.
    const NodeDesc bn = make_node("BatchNormalizationTraining");
    Tensor rm1 = rm, rv1 = rv;
    const std::vector<Tensor> fwd = run(bn, {&x, &w, &b, &rm1, &rv1});
    const std::vector<Tensor> bn_grad =
        run(make_node("BatchNormalizationGrad"), {&dy, &x, &w, &fwd[1], &fwd[2]});
    for (size_t wrt = 0; wrt < 3; ++wrt) {
        expect_grad(numeric_grad(bn, {x, w, b, rm, rv}, wrt, dy), bn_grad[wrt],
                    "BatchNormalizationGrad output " + std::to_string(wrt));
    }

    NodeDesc gn = make_node("GroupNormalization"), gn_grad = make_node("GroupNormalizationGrad");
    set_int(&gn, "num_groups", 1);
    set_int(&gn_grad, "num_groups", 1);
    const std::vector<Tensor> g = run(gn_grad, {&dy, &x, &w});
    for (size_t wrt = 0; wrt < 3; ++wrt) {
        expect_grad(numeric_grad(gn, {x, w, b}, wrt, dy), g[wrt],
                    "GroupNormalizationGrad output " + std::to_string(wrt));
    }

    NodeDesc ln = make_node("LayerNormalization"), ln_grad = make_node("LayerNormalizationGrad");
    set_int(&ln, "axis", -2);
    set_int(&ln_grad, "axis", -2);
    const Tensor lw = random_tensor({2, 2}, rng), lb = random_tensor({2, 2}, rng);
    const std::vector<Tensor> lf = run(ln, {&x, &lw, &lb});
    const std::vector<Tensor> lg = run(ln_grad, {&dy, &x, &lw, &lf[1], &lf[2]});
    for (size_t wrt = 0; wrt < 3; ++wrt) {
        expect_grad(numeric_grad(ln, {x, lw, lb}, wrt, dy), lg[wrt],
                    "LayerNormalizationGrad output " + std::to_string(wrt));
    }
}

NodeDesc dropout_node(double ratio, int64_t training, int64_t seed) {
    NodeDesc node = make_node("Dropout");
    set_float(&node, "ratio", ratio);
    set_int(&node, "training_mode", training);
    set_int(&node, "seed", seed);
    return node;
}

TEST(NormKernels, DropoutIsReproduciblePerSeedAndIteration) {
    std::mt19937 rng(5);
    const Tensor x = random_tensor({100, 100}, rng, 0.5f, 1.0f);
    const std::vector<Tensor> a = run(dropout_node(0.3, 1, 7), {&x}, 4);
    const std::vector<Tensor> again = run(dropout_node(0.3, 1, 7), {&x}, 4);
    const std::vector<Tensor> next = run(dropout_node(0.3, 1, 7), {&x}, 5);
    const std::vector<Tensor> other = run(dropout_node(0.3, 1, 8), {&x}, 4);
    const size_t n = x.size();
    EXPECT_EQ(std::memcmp(bytes(a[1]), bytes(again[1]), n), 0);
    EXPECT_EQ(a[0].data, again[0].data);
    EXPECT_NE(std::memcmp(bytes(a[1]), bytes(next[1]), n), 0);
    EXPECT_NE(std::memcmp(bytes(a[1]), bytes(other[1]), n), 0);
    size_t kept = 0;
    for (size_t i = 0; i < n; ++i) {
        const bool keep = bytes(a[1])[i] != 0;
        kept += keep;
        EXPECT_EQ(a[0].data[i], keep ? x.data[i] * (1.0f / 0.7f) : 0.0f);
    }
    EXPECT_NEAR(static_cast<double>(kept) / n, 0.7, 0.02);

    // Its gradient goes through the same mask, with the same scale.
    Tensor mask = a[1];
    mask.dtype = DType::Bool;
    NodeDesc grad = make_node("DropoutGrad");
    set_float(&grad, "ratio", 0.3);
    set_int(&grad, "training_mode", 1);
    const Tensor dx = run(grad, {&x, &mask})[0];
    EXPECT_EQ(dx.data, a[0].data);
}

TEST(NormKernels, DropoutEdgeModes) {
    std::mt19937 rng(6);
    const Tensor x = random_tensor({5, 3}, rng);
    for (const NodeDesc &node : {dropout_node(0.5, 0, 0), dropout_node(0.0, 1, 0)}) {
        const std::vector<Tensor> y = run(node, {&x}, 3);
        EXPECT_EQ(y[0].data, x.data);
        for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(bytes(y[1])[i], 1);
    }
    const std::vector<Tensor> all = run(dropout_node(1.0, 1, 0), {&x}, 3);
    for (size_t i = 0; i < x.size(); ++i) {
        EXPECT_EQ(all[0].data[i], 0.0f);
        EXPECT_EQ(bytes(all[1])[i], 0);
    }
    Tensor mask({5, 3});
    mask.dtype = DType::Bool;
    NodeDesc grad = make_node("DropoutGrad"); // training_mode 0: the identity
    EXPECT_EQ(run(grad, {&x, &mask})[0].data, x.data);
}

// ---- CUDA device code, emulated ----------------------------------------------

// norm.cu's layer_norm_kernel with a block's threads as one sequential loop.
void emulate_layer_norm(int64_t rows, int64_t k, float eps, const float *x, const float *scale,
                        const float *bias, float *y, float *mean, float *inv_std) {
    for (int64_t r = 0; r < rows; ++r) {
        const float *xr = x + r * k;
        double sum = 0.0;
        for (int64_t j = 0; j < k; ++j) sum += xr[j];
        const double m = k > 0 ? sum / static_cast<double>(k) : 0.0;
        double sq = 0.0;
        for (int64_t j = 0; j < k; ++j) sq += (xr[j] - m) * (xr[j] - m);
        const float is = cuda::norm_inv_std(k > 0 ? sq / static_cast<double>(k) : 0.0, eps);
        const float mf = static_cast<float>(m);
        for (int64_t j = 0; j < k; ++j) {
            y[r * k + j] = cuda::norm_apply(xr[j], mf, is, scale[j], bias ? bias[j] : 0.0f);
        }
        mean[r] = mf;
        inv_std[r] = is;
    }
}

// norm.cu's layer_norm_dx_kernel and layer_norm_params_kernel.
void emulate_layer_norm_grad(int64_t rows, int64_t k, const float *dy, const float *x,
                             const float *scale, const float *mean, const float *inv_std, float *dx,
                             float *dscale, float *dbias) {
    for (int64_t r = 0; r < rows; ++r) {
        const int64_t base = r * k;
        double sum_g = 0.0, sum_gx = 0.0;
        for (int64_t j = 0; j < k; ++j) {
            const float g = dy[base + j] * scale[j];
            sum_g += g;
            sum_gx += static_cast<double>(g) * ((x[base + j] - mean[r]) * inv_std[r]);
        }
        for (int64_t j = 0; j < k; ++j) {
            const float xhat = (x[base + j] - mean[r]) * inv_std[r];
            dx[base + j] = cuda::norm_grad_input(dy[base + j] * scale[j], xhat, inv_std[r],
                                                 sum_g / static_cast<double>(k),
                                                 sum_gx / static_cast<double>(k));
        }
    }
    for (int64_t j = 0; j < k; ++j) {
        double ds = 0.0, db = 0.0;
        for (int64_t r = 0; r < rows; ++r) {
            const float g = dy[r * k + j];
            ds += static_cast<double>(g) * ((x[r * k + j] - mean[r]) * inv_std[r]);
            db += g;
        }
        dscale[j] = static_cast<float>(ds);
        dbias[j] = static_cast<float>(db);
    }
}

// Two implementations a few float roundings apart: group norm's CPU loops
// factor each channel's scale out of its group's sums where the device code
// scales every element; the CPU's layer norm is oneDNN's.
void expect_close(const std::vector<Tensor> &got, const std::vector<Tensor> &want,
                  const std::string &what) {
    ASSERT_EQ(got.size(), want.size()) << what;
    for (size_t o = 0; o < got.size(); ++o) {
        for (size_t i = 0; i < got[o].size(); ++i) {
            const double w = want[o].data[i];
            EXPECT_NEAR(got[o].data[i], w, 1e-5 * (1.0 + std::abs(w))) << what << o << " at " << i;
        }
    }
}

TEST(NormDeviceCode, LayerNormMatchesTheCpuKernel) {
    std::mt19937 rng(7);
    struct Case {
        Shape x;
        int64_t axis;
    };
    for (const Case &c : {Case{{4, 6}, -1}, Case{{2, 3, 5}, 1}, Case{{3, 1}, -1}, Case{{1, 300}, 1},
                          Case{{2, 3, 4}, 0}, Case{{70, 33}, -1}, Case{{3, 0}, -1}}) {
        SCOPED_TRACE(shape_str(c.x) + " axis " + std::to_string(c.axis));
        const int64_t axis = c.axis < 0 ? c.axis + static_cast<int64_t>(c.x.size()) : c.axis;
        const Shape norm(c.x.begin() + axis, c.x.end());
        const int64_t k = num_elements(norm);
        const int64_t rows = num_elements(Shape(c.x.begin(), c.x.begin() + axis));
        const Tensor x = random_tensor(c.x, rng, -2.0f, 3.0f), dy = random_tensor(c.x, rng);
        const Tensor w = random_tensor(norm, rng), b = random_tensor(norm, rng);
        NodeDesc ln = make_node("LayerNormalization"), grad = make_node("LayerNormalizationGrad");
        set_int(&ln, "axis", c.axis);
        set_int(&grad, "axis", c.axis);
        const std::vector<Tensor> cpu = run(ln, {&x, &w, &b});
        std::vector<Tensor> emu = cpu;
        emulate_layer_norm(rows, k, 1e-5f, x.data.data(), w.data.data(), b.data.data(),
                           emu[0].data.data(), emu[1].data.data(), emu[2].data.data());
        expect_close(emu, cpu, "LayerNormalization output ");

        const std::vector<Tensor> cpu_grad = run(grad, {&dy, &x, &w, &cpu[1], &cpu[2]});
        std::vector<Tensor> emu_grad = cpu_grad;
        emulate_layer_norm_grad(rows, k, dy.data.data(), x.data.data(), w.data.data(),
                                cpu[1].data.data(), cpu[2].data.data(), emu_grad[0].data.data(),
                                emu_grad[1].data.data(), emu_grad[2].data.data());
        expect_close(emu_grad, cpu_grad, "LayerNormalizationGrad output ");
    }
}

// The inputs tests/cuda/test_cuda_norm.cpp gives the GPU: statistics
// unrelated to X, so x̂ reaches about 17 and dX's terms cancel. oneDNN's
// float sums must stay within that test's bound, 2e-5 (1 + |y|), of the
// device code's double ones.
TEST(NormDeviceCode, LayerNormGradStaysWithinTheGpuTestsBound) {
    std::mt19937 rng(11);
    for (const Shape &xs : {Shape{64, 512}, Shape{2, 3000}, Shape{4, 6, 10}}) {
        SCOPED_TRACE(shape_str(xs));
        const int64_t k = xs.back(), rows = num_elements(xs) / k;
        Shape stats = xs;
        stats.back() = 1;
        const Tensor x = random_tensor(xs, rng, -2.0f, 3.0f),
                     dy = random_tensor(xs, rng, -2.0f, 3.0f);
        const Tensor w = random_tensor({k}, rng, -2.0f, 3.0f);
        const Tensor mean = random_tensor(stats, rng, -2.0f, 3.0f);
        Tensor inv_std = random_tensor(stats, rng, -2.0f, 3.0f);
        for (float &v : inv_std.data) v = std::abs(v) + 0.5f;
        const std::vector<Tensor> cpu =
            run(make_node("LayerNormalizationGrad"), {&dy, &x, &w, &mean, &inv_std});
        std::vector<Tensor> emu = cpu;
        emulate_layer_norm_grad(rows, k, dy.data.data(), x.data.data(), w.data.data(),
                                mean.data.data(), inv_std.data.data(), emu[0].data.data(),
                                emu[1].data.data(), emu[2].data.data());
        for (size_t o = 0; o < emu.size(); ++o) {
            for (size_t i = 0; i < emu[o].size(); ++i) {
                const double want = emu[o].data[i];
                ASSERT_NEAR(cpu[o].data[i], want, 2e-5 * (1.0 + std::abs(want)))
                    << "output " << o << " at " << i;
            }
        }
    }
}

TEST(NormDeviceCode, DropoutDrawsAreUniformAndMatchTheCpuKernel) {
    // The CPU kernel keeps exactly the elements the device code keeps.
    std::mt19937 rng(8);
    const Tensor x = random_tensor({3000}, rng);
    const std::vector<Tensor> y = run(dropout_node(0.25, 1, 42), {&x}, 9);
    for (int64_t i = 0; i < 3000; ++i) {
        EXPECT_EQ(bytes(y[1])[i] != 0, cuda::dropout_keep(42, 9, i, 0.25f)) << i;
    }
    // Uniform on [0, 1): the mean and the mass of each tenth.
    const int n = 200000;
    double sum = 0.0;
    int bins[10] = {};
    for (int i = 0; i < n; ++i) {
        const float u = cuda::dropout_uniform(1, 0, i);
        ASSERT_GE(u, 0.0f);
        ASSERT_LT(u, 1.0f);
        sum += u;
        ++bins[static_cast<int>(u * 10)];
    }
    EXPECT_NEAR(sum / n, 0.5, 0.005);
    for (int b : bins) EXPECT_NEAR(b, n / 10, n / 100);
    EXPECT_EQ(cuda::dropout_scale(0.5f), 2.0f);
    EXPECT_EQ(cuda::dropout_scale(1.0f), 0.0f);
}

// norm.cu's group_norm_kernel (and batch_norm_inference_kernel), a block as
// one sequential loop.
void emulate_group_norm(const cuda::NormGroups &p, float eps, const float *x, const float *scale,
                        const float *bias, float *y, float *save_mean, float *save_inv_std,
                        float *running_mean, float *running_var, double momentum) {
    const int64_t size = cuda::norm_group_size(p);
    for (int64_t q = 0; q < cuda::norm_group_count(p); ++q) {
        double sum = 0.0, sq = 0.0;
        for (int64_t j = 0; j < size; ++j) sum += x[cuda::norm_group_offset(p, q, j)];
        const double m = size > 0 ? sum / static_cast<double>(size) : 0.0;
        for (int64_t j = 0; j < size; ++j) {
            const double d = x[cuda::norm_group_offset(p, q, j)] - m;
            sq += d * d;
        }
        const double var = size > 0 ? sq / static_cast<double>(size) : 0.0;
        const float is = cuda::norm_inv_std(var, eps), mf = static_cast<float>(m);
        for (int64_t j = 0; j < size; ++j) {
            const int64_t at = cuda::norm_group_offset(p, q, j);
            const int64_t c = cuda::norm_group_channel(p, q, j);
            y[at] = cuda::norm_apply(x[at], mf, is, scale[c], bias[c]);
        }
        if (save_mean) save_mean[q] = mf;
        if (save_inv_std) save_inv_std[q] = is;
        if (running_mean) {
            const double unbiased = var * static_cast<double>(size) / static_cast<double>(size - 1);
            running_mean[q] = cuda::running_update(running_mean[q], m, momentum);
            running_var[q] = cuda::running_update(running_var[q], unbiased, momentum);
        }
    }
}

// norm.cu's batch_norm_grad_kernel.
void emulate_batch_norm_grad(const cuda::NormGroups &p, bool batch_stats, float eps,
                             const float *dy, const float *x, const float *scale, const float *mean,
                             const float *stat, float *dx, float *dscale, float *dbias) {
    const int64_t size = cuda::norm_group_size(p);
    for (int64_t c = 0; c < p.channels; ++c) {
        const float m = mean[c];
        const float is = batch_stats ? stat[c] : cuda::norm_inv_std(stat[c], eps);
        double a = 0.0, b = 0.0;
        for (int64_t j = 0; j < size; ++j) {
            const int64_t at = cuda::norm_group_offset(p, c, j);
            a += dy[at];
            b += static_cast<double>(dy[at]) * (x[at] - m);
        }
        const double sum_dy_xhat = b * is;
        dscale[c] = static_cast<float>(sum_dy_xhat);
        dbias[c] = static_cast<float>(a);
        const double count = static_cast<double>(size);
        const double mean_g = batch_stats ? a * scale[c] / count : 0.0;
        const double mean_gx = batch_stats ? sum_dy_xhat * scale[c] / count : 0.0;
        for (int64_t j = 0; j < size; ++j) {
            const int64_t at = cuda::norm_group_offset(p, c, j);
            dx[at] =
                cuda::norm_grad_input(dy[at] * scale[c], (x[at] - m) * is, is, mean_g, mean_gx);
        }
    }
}

// norm.cu's group_norm_dx_kernel then group_norm_params_kernel.
void emulate_group_norm_grad(const cuda::NormGroups &p, float eps, const float *dy, const float *x,
                             const float *scale, float *dx, float *dscale, float *dbias) {
    const int64_t size = cuda::norm_group_size(p), groups = cuda::norm_group_count(p);
    std::vector<float> stats(static_cast<size_t>(2 * groups));
    for (int64_t q = 0; q < groups; ++q) {
        double sum = 0.0, sq = 0.0;
        for (int64_t j = 0; j < size; ++j) sum += x[cuda::norm_group_offset(p, q, j)];
        const double md = size > 0 ? sum / static_cast<double>(size) : 0.0;
        for (int64_t j = 0; j < size; ++j) {
            const double d = x[cuda::norm_group_offset(p, q, j)] - md;
            sq += d * d;
        }
        const float is = cuda::norm_inv_std(size > 0 ? sq / static_cast<double>(size) : 0.0, eps);
        const float m = static_cast<float>(md);
        double sum_g = 0.0, sum_gx = 0.0;
        for (int64_t j = 0; j < size; ++j) {
            const int64_t at = cuda::norm_group_offset(p, q, j);
            const float g = dy[at] * scale[cuda::norm_group_channel(p, q, j)];
            sum_g += g;
            sum_gx += static_cast<double>(g) * ((x[at] - m) * is);
        }
        const double count = static_cast<double>(size);
        for (int64_t j = 0; j < size; ++j) {
            const int64_t at = cuda::norm_group_offset(p, q, j);
            dx[at] = cuda::norm_grad_input(dy[at] * scale[cuda::norm_group_channel(p, q, j)],
                                           (x[at] - m) * is, is, sum_g / count, sum_gx / count);
        }
        stats[2 * q] = m;
        stats[2 * q + 1] = is;
    }
    for (int64_t c = 0; c < p.channels; ++c) {
        double ds = 0.0, db = 0.0;
        for (int64_t j = 0; j < p.outer * p.inner; ++j) {
            const int64_t at = cuda::norm_channel_offset(p, c, j);
            const int64_t q = cuda::norm_channel_group(p, c, j);
            ds += static_cast<double>(dy[at]) * ((x[at] - stats[2 * q]) * stats[2 * q + 1]);
            db += dy[at];
        }
        dscale[c] = static_cast<float>(ds);
        dbias[c] = static_cast<float>(db);
    }
}

cuda::NormGroups groups_of(const Shape &x, bool batch, int64_t groups) {
    cuda::NormGroups p;
    p.outer = x[0];
    p.channels = x[1];
    for (size_t d = 2; d < x.size(); ++d) p.inner *= x[d];
    p.batch = batch;
    p.groups = groups;
    return p;
}

void expect_same(const std::vector<Tensor> &got, const std::vector<Tensor> &want,
                 const std::string &what) {
    ASSERT_EQ(got.size(), want.size()) << what;
    for (size_t o = 0; o < got.size(); ++o) EXPECT_EQ(got[o].data, want[o].data) << what << o;
}

TEST(NormDeviceCode, BatchNormMatchesTheCpuKernel) {
    std::mt19937 rng(10);
    for (const Shape &shape :
         std::vector<Shape>{{2, 3}, {4, 2, 5}, {2, 3, 2, 2}, {1, 1, 7}, {32, 4, 3, 3}}) {
        SCOPED_TRACE(shape_str(shape));
        const int64_t c = shape[1];
        const cuda::NormGroups p = groups_of(shape, true, c);
        const Tensor x = random_tensor(shape, rng, -2.0f, 3.0f), dy = random_tensor(shape, rng);
        const Tensor w = random_tensor({c}, rng), b = random_tensor({c}, rng);
        const Tensor mean = random_tensor({c}, rng), var = positive({c}, rng);

        Tensor rm = mean, rv = var, erm = mean, erv = var;
        NodeDesc bn = make_node("BatchNormalizationTraining");
        set_float(&bn, "momentum", 0.8);
        const std::vector<Tensor> cpu = run(bn, {&x, &w, &b, &rm, &rv});
        std::vector<Tensor> emu = cpu;
        emulate_group_norm(p, 1e-5f, x.data.data(), w.data.data(), b.data.data(),
                           emu[0].data.data(), emu[1].data.data(), emu[2].data.data(),
                           erm.data.data(), erv.data.data(), 0.8);
        expect_same(emu, cpu, "BatchNormalizationTraining output ");
        EXPECT_EQ(erm.data, rm.data);
        EXPECT_EQ(erv.data, rv.data);

        // Inference, as batch_norm_inference_kernel computes each element.
        const Tensor y = run(make_node("BatchNormalization"), {&x, &w, &b, &mean, &var})[0];
        for (int64_t i = 0; i < static_cast<int64_t>(x.size()); ++i) {
            const int64_t ch = (i / p.inner) % p.channels;
            EXPECT_EQ(y.data[i], cuda::norm_apply(x.data[i], mean.data[ch],
                                                  cuda::norm_inv_std(var.data[ch], 1e-5f),
                                                  w.data[ch], b.data[ch]));
        }

        for (bool batch_stats : {true, false}) {
            const Tensor &m = batch_stats ? cpu[1] : mean, &stat = batch_stats ? cpu[2] : var;
            const std::vector<Tensor> want =
                run(make_node(batch_stats ? "BatchNormalizationGrad"
                                          : "BatchNormalizationInferenceGrad"),
                    {&dy, &x, &w, &m, &stat});
            std::vector<Tensor> got = want;
            emulate_batch_norm_grad(p, batch_stats, 1e-5f, dy.data.data(), x.data.data(),
                                    w.data.data(), m.data.data(), stat.data.data(),
                                    got[0].data.data(), got[1].data.data(), got[2].data.data());
            expect_same(got, want,
                        batch_stats ? "BatchNormalizationGrad output "
                                    : "BatchNormalizationInferenceGrad output ");
        }
    }
}

TEST(NormDeviceCode, GroupAndInstanceNormMatchTheCpuKernels) {
    std::mt19937 rng(11);
    struct Case {
        Shape x;
        int64_t groups; // 0: InstanceNormalization
    };
    for (const Case &c :
         {Case{{2, 4, 3}, 2}, Case{{2, 6, 2, 2}, 3}, Case{{3, 4}, 4}, Case{{1, 4, 5}, 1},
          Case{{2, 3, 4}, 0}, Case{{2, 1, 300}, 0}, Case{{2, 2, 1, 1}, 0}}) {
        SCOPED_TRACE(shape_str(c.x) + " groups " + std::to_string(c.groups));
        const int64_t ch = c.x[1];
        const cuda::NormGroups p = groups_of(c.x, false, c.groups ? c.groups : ch);
        const Tensor x = random_tensor(c.x, rng, -2.0f, 3.0f), dy = random_tensor(c.x, rng);
        const Tensor w = random_tensor({ch}, rng), b = random_tensor({ch}, rng);
        NodeDesc fwd = make_node(c.groups ? "GroupNormalization" : "InstanceNormalization");
        NodeDesc grad = make_node(fwd.op + "Grad");
        if (c.groups) {
            set_int(&fwd, "num_groups", c.groups);
            set_int(&grad, "num_groups", c.groups);
        }
        const std::vector<Tensor> cpu = run(fwd, {&x, &w, &b});
        std::vector<Tensor> emu = cpu;
        emulate_group_norm(p, 1e-5f, x.data.data(), w.data.data(), b.data.data(),
                           emu[0].data.data(), nullptr, nullptr, nullptr, nullptr, 0.0);
        expect_same(emu, cpu, fwd.op + " output ");

        const std::vector<Tensor> want = run(grad, {&dy, &x, &w});
        std::vector<Tensor> got = want;
        emulate_group_norm_grad(p, 1e-5f, dy.data.data(), x.data.data(), w.data.data(),
                                got[0].data.data(), got[1].data.data(), got[2].data.data());
        expect_close(got, want, grad.op + " output ");
    }
}

// ---- no allocation while running ----------------------------------------------

// Layer norm runs on oneDNN, whose execute allocates its own bookkeeping:
// test_kernels_noalloc.cpp bounds it with the conv family's.
TEST(NormKernels, NoKernelAllocatesWhileRunning) {
    std::mt19937 rng(9);
    const Tensor x = random_tensor({4, 6, 5}, rng), dy = random_tensor({4, 6, 5}, rng);
    const Tensor c6 = random_tensor({6}, rng), p6 = positive({6}, rng);
    Tensor rm = random_tensor({6}, rng), rv = positive({6}, rng);
    Tensor mask({4, 6, 5});
    mask.dtype = DType::Bool;
    NodeDesc gn = make_node("GroupNormalization"), gn_grad = make_node("GroupNormalizationGrad");
    set_int(&gn, "num_groups", 3);
    set_int(&gn_grad, "num_groups", 3);
    NodeDesc drop_grad = make_node("DropoutGrad");
    set_int(&drop_grad, "training_mode", 1);
    struct Case {
        NodeDesc node;
        std::vector<const Tensor *> inputs;
    };
    const std::vector<Case> cases = {
        {make_node("BatchNormalization"), {&x, &c6, &c6, &c6, &p6}},
        {make_node("BatchNormalizationTraining"), {&x, &c6, &c6, &rm, &rv}},
        {make_node("BatchNormalizationGrad"), {&dy, &x, &c6, &c6, &p6}},
        {make_node("BatchNormalizationInferenceGrad"), {&dy, &x, &c6, &c6, &p6}},
        {make_node("InstanceNormalization"), {&x, &c6, &c6}},
        {make_node("InstanceNormalizationGrad"), {&dy, &x, &c6}},
        {gn, {&x, &c6, &c6}},
        {gn_grad, {&dy, &x, &c6}},
        {dropout_node(0.5, 1, 3), {&x}},
        {dropout_node(0.5, 0, 3), {&x}},
        {drop_grad, {&dy, &mask}},
    };
    for (const Case &c : cases) {
        std::vector<InputInfo> infos;
        for (const Tensor *t : c.inputs) infos.push_back({t->dtype, &t->shape});
        NodeDesc node = c.node;
        std::vector<OutputInfo> outs;
        ASSERT_TRUE(infer_node(*find_op(node.op), &node, infos, &outs).ok()) << node.op;
        std::vector<Tensor> y;
        for (const OutputInfo &o : outs) y.emplace_back(o.shape);
        KernelInit init;
        init.node = &node;
        init.device = cpu_device();
        for (const Tensor *t : c.inputs) init.inputs.push_back(view(*t));
        for (Tensor &t : y) init.outputs.push_back(view(t));
        for (size_t i = 0; i < outs.size(); ++i) init.outputs[i].dtype = outs[i].dtype;
        PreparedKernel kernel;
        ASSERT_TRUE(default_kernels().prepare(init, &kernel).ok()) << node.op;
        std::vector<uint8_t> workspace(kernel.workspace_bytes);
        KernelContext ctx;
        ctx.node = &node;
        ctx.inputs = init.inputs;
        ctx.outputs = init.outputs;
        ctx.workspace = workspace.data();
        ctx.workspace_bytes = workspace.size();
        g_allocations = 0;
        g_counting = true;
        const Status st = kernel.run(ctx);
        g_counting = false;
        ASSERT_TRUE(st.ok()) << node.op << ": " << st.message();
        EXPECT_EQ(g_allocations, 0) << node.op << " allocated while running";
    }
}

} // namespace
} // namespace salus::test
