// One catalogue of kernel cases for every op of the op table: several shapes,
// the broadcasting cases, every attribute variant. The CUDA kernels are
// checked against the CPU kernels on it twice: their device code emulated on
// the CPU (unit suite, every build) and on a GPU (cuda suite).
//
// A case names its node and input shapes; output shapes come from the op's
// own shape inference and scratch space from its own workspace function, as
// the validator and the planner would give them.
#pragma once

#include "exec/cuda/workspace.h"
#include "graph/ops.h"
#include "kernel_test_util.h"
#include "ops/conv_window.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace salus::test {

// How a case fills an input.
enum class Fill {
    Uniform,  // [-1, 1)
    Wide,     // [-5, 5): saturates activations, spreads softmax
    Positive, // [0.05, 1): outputs of Sigmoid
    OneHot,   // [N, C] one-hot rows
    Soft,     // [N, C] rows of probabilities
    Indices,  // i32 in [-8, 8): class indices, some negative, some out of range
    Step,     // a scalar step count in [0, 10)
    Coarse,   // f32 multiples of 0.5 in [-2, 2]: ties for comparisons, Max, Min
    Bool,     // bool, about half true
    Int64,    // i64 in [-8, 8)
    Classes,  // i32 in [0, 4): labels of cases with at least 4 classes
    Double,   // f64 in [-5, 5), every 5th element ±1e198 (beyond float32)
};

struct KernelCase {
    NodeDesc node;
    std::vector<Shape> inputs;
    std::vector<Fill> fills; // per input
    std::string label;       // op, shapes and attributes, for messages
};

inline KernelCase make_case(const std::string &op, std::vector<Shape> inputs,
                            std::vector<Fill> fills = {}) {
    KernelCase c;
    c.node = make_node(op);
    c.inputs = std::move(inputs);
    c.fills = std::move(fills);
    c.fills.resize(c.inputs.size(), Fill::Uniform);
    c.label = op;
    for (const Shape &s : c.inputs) c.label += " " + shape_str(s);
    return c;
}

inline KernelCase with_int(KernelCase c, const std::string &key, int64_t v) {
    set_int(&c.node, key, v);
    c.label += " " + key + "=" + std::to_string(v);
    return c;
}

inline KernelCase with_ints(KernelCase c, const std::string &key, const std::vector<int64_t> &v) {
    set_ints(&c.node, key, v);
    c.label += " " + key + "=[";
    for (int64_t x : v) c.label += std::to_string(x) + ",";
    c.label += "]";
    return c;
}

inline KernelCase with_float(KernelCase c, const std::string &key, double v) {
    set_float(&c.node, key, v);
    c.label += " " + key + "=" + std::to_string(v);
    return c;
}

inline KernelCase with_string(KernelCase c, const std::string &key, const std::string &v) {
    AttrValue a;
    a.type = AttrValue::Type::String;
    a.s = v;
    c.node.attrs[key] = a;
    c.label += " " + key + "=" + v;
    return c;
}

} // namespace salus::test

#include "elementwise_cases.h" // the elementwise family's cases
#include "conv_cases.h" // the convolutions' cases, built with the builders above
#include "loss_cases.h" // the loss family's cases, built with the builders above

namespace salus::test {
inline void add_shape_cases(std::vector<KernelCase> *cases); // shape_cases.h

inline std::vector<KernelCase> kernel_cases() {
    std::vector<KernelCase> cases;
    const std::vector<std::pair<Shape, Shape>> broadcasts = {
        {{3, 4}, {3, 4}},
        {{64, 1024}, {1024}},
        {{7}, {5, 7}},
        {{3, 1, 4}, {1, 4}},
        {{2, 3, 4}, {4}},
        {{4, 1, 3}, {2, 1}},
        {{2, 3}, {}},
        {{}, {2, 3}},
        {{1, 5}, {4, 1}},
        {{3, 4}, {3, 1}},
        {{1}, {1}},
        {{6, 1}, {1, 6}},
        {{2, 1, 4, 1}, {3, 1, 5}},
        {{1000, 37}, {37}},
        {{33, 2, 40}, {33, 1, 40}},
    };
    for (const char *op : {"Add", "Sub", "Mul"}) {
        for (const auto &[a, b] : broadcasts) cases.push_back(make_case(op, {a, b}));
    }
    add_elementwise_cases(&cases);
    for (const Shape &s : std::vector<Shape>{{3, 5}, {64, 1024}, {}, {2, 3, 4, 5}, {100003}}) {
        for (const char *op : {"Relu", "Sigmoid", "Tanh", "Identity"}) {
            cases.push_back(make_case(op, {s}, {Fill::Wide}));
        }
        cases.push_back(make_case("ReluGrad", {s, s}, {Fill::Uniform, Fill::Wide}));
        cases.push_back(make_case("SigmoidGrad", {s, s}, {Fill::Uniform, Fill::Positive}));
        cases.push_back(make_case("TanhGrad", {s, s}));
        cases.push_back(with_float(make_case("SGDUpdate", {s, s}), "lr", 0.05));
    }
    for (const Shape &s : std::vector<Shape>{{3, 5}, {64, 1024}, {}, {100003}}) {
        const std::vector<Fill> fills = {Fill::Uniform, Fill::Uniform, Fill::Uniform,
                                         Fill::Positive, Fill::Step};
        cases.push_back(with_float(make_case("AdamUpdate", {s, s, s, s, {}}, fills), "lr", 0.01));
    }
    {
        const std::vector<Fill> fills = {Fill::Uniform, Fill::Wide, Fill::Uniform, Fill::Positive,
                                         Fill::Step};
        KernelCase c = with_float(
            make_case("AdamUpdate", {{7, 9}, {7, 9}, {7, 9}, {7, 9}, {}}, fills), "lr", 0.003);
        cases.push_back(
            with_float(with_float(with_float(c, "beta1", 0.8), "beta2", 0.99), "eps", 1e-4));
    }
    for (const auto &[shape, depth] : std::vector<std::pair<Shape, int64_t>>{
             {{8}, 5}, {{3, 4}, 10}, {{}, 3}, {{64}, 10}, {{1000}, 7}}) {
        cases.push_back(with_int(make_case("OneHot", {shape}, {Fill::Indices}), "depth", depth));
    }
    struct Gemm {
        int64_t m, k, n;
    };
    for (const Gemm &g : {Gemm{3, 5, 4}, Gemm{37, 65, 19}, Gemm{64, 784, 1024}, Gemm{1, 7, 1},
                          Gemm{64, 1024, 10}, Gemm{3, 0, 2}}) {
        for (int ta = 0; ta < 2; ++ta) {
            for (int tb = 0; tb < 2; ++tb) {
                const Shape a = ta ? Shape{g.k, g.m} : Shape{g.m, g.k};
                const Shape b = tb ? Shape{g.n, g.k} : Shape{g.k, g.n};
                cases.push_back(
                    with_int(with_int(make_case("MatMul", {a, b}), "transA", ta), "transB", tb));
            }
        }
    }
    struct Axis {
        Shape shape;
        int64_t axis;
    };
    for (const Axis &c : {Axis{{4, 7}, -1}, Axis{{4, 7}, 0}, Axis{{3, 4, 5}, 1},
                          Axis{{3, 4, 5}, -3}, Axis{{2, 3, 300}, 1}, Axis{{5, 600}, 0},
                          Axis{{9}, 0}, Axis{{64, 10}, 1}, Axis{{2, 1000}, -1}}) {
        cases.push_back(with_int(make_case("Softmax", {c.shape}, {Fill::Wide}), "axis", c.axis));
        cases.push_back(
            with_int(make_case("SoftmaxGrad", {c.shape, c.shape}, {Fill::Uniform, Fill::Positive}),
                     "axis", c.axis));
    }
    cases.push_back(make_case("Softmax", {{3, 4}})); // default axis: the last
    for (const Shape &s : std::vector<Shape>{{6, 5}, {64, 10}, {1, 1000}, {300, 3}}) {
        for (Fill labels : {Fill::OneHot, Fill::Soft}) {
            cases.push_back(make_case("SoftmaxCrossEntropy", {s, s}, {Fill::Wide, labels}));
            cases.push_back(make_case("SoftmaxCrossEntropyGrad", {s, s}, {Fill::Wide, labels}));
            cases.push_back(make_case("SoftmaxCrossEntropyGrad", {s, s, {}},
                                      {Fill::Wide, labels, Fill::Uniform}));
        }
    }
    struct Reduce {
        Shape shape;
        std::vector<int64_t> axes; // empty: attribute absent
    };
    for (const Reduce &r :
         {Reduce{{2, 3, 4, 5}, {1}}, Reduce{{2, 3, 4, 5}, {-1}}, Reduce{{2, 3, 4, 5}, {0, 2}},
          Reduce{{2, 3, 4, 5}, {-1, 0}}, Reduce{{2, 3, 4, 5}, {1, 2}},
          Reduce{{2, 3, 4, 5}, {0, 1, 2, 3}}, Reduce{{2, 3, 4, 5}, {}}, Reduce{{7}, {0}},
          Reduce{{64, 1024}, {0}}, Reduce{{3, 1, 4}, {1}}, Reduce{{1000, 3}, {0}},
          Reduce{{5, 4000}, {1}}}) {
        for (int keepdims = 0; keepdims < 2; ++keepdims) {
            for (const char *op : {"ReduceSum", "ReduceMean"}) {
                KernelCase c = with_int(make_case(op, {r.shape}), "keepdims", keepdims);
                if (!r.axes.empty()) c = with_ints(c, "axes", r.axes);
                cases.push_back(c);
            }
        }
    }
    for (const auto &[x, y] : std::vector<std::pair<Shape, Shape>>{{{3, 1}, {2, 3, 4}},
                                                                   {{4}, {3, 4}},
                                                                   {{}, {2, 2}},
                                                                   {{2, 3}, {2, 3}},
                                                                   {{1, 3, 1}, {2, 3, 5}},
                                                                   {{1024}, {64, 1024}}}) {
        cases.push_back(with_ints(make_case("Expand", {x}), "shape", y));
    }
    for (const auto &[x, shape] : std::vector<std::pair<Shape, std::vector<int64_t>>>{
             {{2, 3, 4}, {0, -1}}, {{2, 3, 4}, {-1, 0, 2}}, {{2, 3, 4}, {24}}, {{64, 784}, {-1}}}) {
        cases.push_back(with_ints(make_case("Reshape", {x}), "shape", shape));
    }
    struct Perm {
        Shape shape;
        std::vector<int64_t> perm; // empty: attribute absent (reverse)
    };
    for (const Perm &p :
         {Perm{{2, 3, 4}, {2, 0, 1}}, Perm{{2, 3, 4}, {1, 0, 2}}, Perm{{2, 3, 4}, {0, 2, 1}},
          Perm{{2, 3, 4}, {}}, Perm{{70, 45}, {1, 0}}, Perm{{5, 1, 3}, {2, 1, 0}},
          Perm{{2, 3, 4, 5}, {3, 1, 0, 2}}, Perm{{6}, {0}}, Perm{{33, 2, 40}, {2, 1, 0}}}) {
        KernelCase c = make_case("Transpose", {p.shape});
        cases.push_back(p.perm.empty() ? c : with_ints(c, "perm", p.perm));
    }
    add_shape_cases(&cases);
    append_loss_cases(&cases);
    add_conv_cases(&cases);
    // Kernels read canonical attributes (graph/ops.h); the harnesses hand
    // c.node to them as it is.
    for (KernelCase &c : cases) {
        EXPECT_TRUE(canonicalize_attrs(*find_op(c.node.op), &c.node).ok()) << c.label;
    }
    return cases;
}

inline Tensor fill_tensor(const Shape &shape, Fill fill, std::mt19937 &rng) {
    switch (fill) {
    case Fill::Uniform:
        return random_tensor(shape, rng);
    case Fill::Wide:
        return random_tensor(shape, rng, -5.0f, 5.0f);
    case Fill::Positive:
        return random_tensor(shape, rng, 0.05f, 1.0f);
    case Fill::Classes:
    case Fill::Indices: {
        Tensor t(shape);
        t.dtype = DType::I32;
        for (float &v : t.data) {
            const int32_t index = fill == Fill::Classes ? static_cast<int32_t>(rng() % 4u)
                                                        : static_cast<int32_t>(rng() % 16u) - 8;
            std::memcpy(&v, &index, sizeof index);
        }
        return t;
    }
    case Fill::Step: {
        Tensor t(shape);
        for (float &v : t.data) v = static_cast<float>(rng() % 10u);
        return t;
    }
    case Fill::Coarse: {
        Tensor t(shape);
        for (float &v : t.data) v = static_cast<float>(static_cast<int>(rng() % 9u) - 4) * 0.5f;
        return t;
    }
    case Fill::Bool: {
        Tensor t(shape, DType::Bool);
        auto *b = reinterpret_cast<uint8_t *>(t.data.data());
        for (int64_t i = 0; i < num_elements(shape); ++i) b[i] = rng() % 2u;
        return t;
    }
    case Fill::Int64: {
        Tensor t(shape, DType::I64);
        auto *v = reinterpret_cast<int64_t *>(t.data.data());
        for (int64_t i = 0; i < num_elements(shape); ++i) v[i] = static_cast<int64_t>(rng() % 16u) - 8;
        return t;
    }
    case Fill::Double: {
        Tensor t(shape, DType::F64);
        auto *v = reinterpret_cast<double *>(t.data.data());
        std::uniform_real_distribution<double> dist(-5.0, 5.0);
        for (int64_t i = 0; i < num_elements(shape); ++i) {
            v[i] = i % 5 == 4 ? (rng() % 2u ? 1e198 : -1e198) : dist(rng);
        }
        return t;
    }
    case Fill::OneHot:
    case Fill::Soft:
        break;
    }
    Tensor t(shape);
    const int64_t rows = shape[0], cols = shape[1];
    std::uniform_real_distribution<float> dist(0.0f, 1.0f);
    for (int64_t r = 0; r < rows; ++r) {
        float *row = t.data.data() + r * cols;
        if (fill == Fill::OneHot) {
            row[rng() % static_cast<unsigned>(cols)] = 1.0f;
            continue;
        }
        float sum = 0.0f;
        for (int64_t i = 0; i < cols; ++i) sum += row[i] = dist(rng);
        for (int64_t i = 0; i < cols; ++i) row[i] /= sum;
    }
    return t;
}

// A case made concrete: inputs filled, outputs shaped by the op's shape
// inference, scratch sized by its workspace function for `device`.
struct CaseData {
    std::vector<Tensor> inputs;
    std::vector<Tensor> outputs;
    size_t workspace_bytes = 0;
};

inline CaseData instantiate(const KernelCase &c, DeviceType device, std::mt19937 &rng) {
    CaseData d;
    std::vector<InputInfo> infos;
    for (size_t i = 0; i < c.inputs.size(); ++i) {
        d.inputs.push_back(fill_tensor(c.inputs[i], c.fills[i], rng));
    }
    for (const Tensor &t : d.inputs) infos.push_back({t.dtype, &t.shape});
    const OpSchema *op = find_op(c.node.op);
    EXPECT_NE(op, nullptr) << c.label;
    if (!op) return d;
    std::vector<OutputInfo> outs;
    NodeDesc node = c.node;
    const Status st = infer_node(*op, &node, infos, &outs);
    EXPECT_TRUE(st.ok()) << c.label << ": " << st.message();
    for (const OutputInfo &o : outs) d.outputs.emplace_back(o.shape, o.dtype);
    KernelInit init;
    init.node = &node;
    init.device_type = device;
    for (const Tensor &t : d.inputs) init.inputs.push_back({nullptr, t.dtype, t.shape});
    for (const Tensor &t : d.outputs) init.outputs.push_back({nullptr, t.dtype, t.shape});
    // CUDA scratch comes from the list the CUDA registration reads, so the
    // device code's emulation gets it in builds without the CUDA backend too.
    const KernelDef *k = default_kernels().find(device, c.node.op);
    const WorkspaceFn workspace = device == DeviceType::CUDA ? cuda_workspace_fn(c.node.op)
                                  : k                        ? k->workspace
                                                             : nullptr;
    if (workspace) d.workspace_bytes = workspace(init);
    return d;
}

// Sum of |terms| behind each element of a MatMul, a convolution or a
// reduction (the CPU kernel run on |inputs|), and how many terms, per result:
// the rounding error of any order of summation is at most about
// terms * 2^-24 * that sum, once per side.
struct Magnitude {
    std::vector<std::vector<double>> sum; // per result, per element; empty: not a sum
    std::vector<double> terms;            // per result

    bool empty() const { return sum.empty(); }
    // Two orders of summation of element i of result r differ by at most this.
    double bound(size_t r, size_t i) const {
        return 2.0 * terms[r] * std::ldexp(1.0, -24) * sum[r][i];
    }
};

// The outputs of c's kernel run on |inputs| (and |alpha|, |beta|).
inline std::vector<std::vector<double>> abs_outputs(const KernelCase &c, const CaseData &d) {
    std::vector<Tensor> abs_in = d.inputs;
    for (Tensor &t : abs_in) {
        for (float &v : t.data) v = std::abs(v);
    }
    NodeDesc node = c.node;
    if (const AttrValue *a = node.attr("alpha")) set_float(&node, "alpha", std::abs(a->f));
    if (const AttrValue *b = node.attr("beta")) set_float(&node, "beta", std::abs(b->f));
    std::vector<Tensor> outs = d.outputs;
    std::vector<const Tensor *> in;
    std::vector<Tensor *> out;
    for (const Tensor &t : abs_in) in.push_back(&t);
    for (Tensor &t : outs) out.push_back(&t);
    EXPECT_TRUE(run_kernel(node, in, out).ok());
    std::vector<std::vector<double>> sums;
    for (const Tensor &t : outs) sums.emplace_back(t.data.begin(), t.data.end());
    return sums;
}

inline Magnitude magnitude(const KernelCase &c, const CaseData &d) {
    Magnitude m;
    const std::string &op = c.node.op;
    double terms = 0;
    if (op == "MatMul" || op == "Gemm") {
        const Shape &a = d.inputs[0].shape;
        const bool ta = c.node.attr_int("transA", 0) != 0;
        terms = static_cast<double>(a[a.size() - (ta ? 2 : 1)]) + 1.0;
    } else if (op == "ReduceSum" || op == "ReduceMean") {
        terms = static_cast<double>(d.inputs[0].size()) /
                static_cast<double>(std::max<size_t>(d.outputs[0].size(), 1));
    } else if (op == "Conv" || op == "ConvTranspose") {
        // Each output sums C/group · k... products, plus the bias.
        const Shape &w = d.inputs[1].shape;
        const int64_t group = c.node.attr_int("group", 1);
        terms = static_cast<double>(op == "Conv" ? w[1] : w[0] / group);
        for (size_t i = 2; i < w.size(); ++i) terms *= static_cast<double>(w[i]);
        terms += 1.0;
    } else if (op == "ConvGradWeight") {
        // dW and dB sum over N and dY's positions.
        const Shape &dy = d.inputs[0].shape;
        terms = static_cast<double>(num_elements(dy)) /
                static_cast<double>(std::max<int64_t>(dy[1], 1));
    } else {
        return m;
    }
    m.sum = abs_outputs(c, d);
    m.terms.assign(m.sum.size(), terms);
    return m;
}

// What the case produces: its outputs, or the inputs it updates in place.
inline std::vector<const Tensor *> results(const KernelCase &c, const CaseData &d) {
    std::vector<const Tensor *> r;
    if (const OpSchema *op = find_op(c.node.op); op && !op->updates_inputs.empty()) {
        for (int i : op->updates_inputs) r.push_back(&d.inputs[static_cast<size_t>(i)]);
        return r;
    }
    for (const Tensor &t : d.outputs) r.push_back(&t);
    return r;
}

} // namespace salus::test

#include "shape_cases.h"
