// Every backward computation, built from the CPU kernels the way the graph
// builder does, against central finite differences of the forward kernels.
// The loss is L = sum(Y * W) for a random W, so dL/dY = W.
#include "kernel_test_util.h"

#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <string>
#include <vector>

namespace salus::test {
namespace {

constexpr double kRtol = 1e-2;
constexpr double kAtol = 1e-3;
constexpr double kEps = 1e-3;
// For inputs the forward is linear in, central differences are exact for any
// step; a larger one keeps f32 rounding of the outputs out of the quotient.
constexpr double kLinearEps = 1e-2;

using Forward = std::function<Tensor(const std::vector<Tensor> &)>;

double weighted_sum(const Tensor &y, const Tensor &w) {
    EXPECT_EQ(y.size(), w.size());
    double s = 0.0;
    for (size_t i = 0; i < y.size(); ++i) s += static_cast<double>(y.data[i]) * w.data[i];
    return s;
}

// dL/d inputs[which] by central differences, in double.
std::vector<double> numeric_grad(const Forward &f, std::vector<Tensor> inputs, size_t which,
                                 const Tensor &w, double eps = kEps) {
    std::vector<double> g(inputs[which].size());
    for (size_t i = 0; i < g.size(); ++i) {
        float &x = inputs[which].data[i];
        const float orig = x;
        // The step actually taken in f32, not the one asked for.
        const float xp = static_cast<float>(orig + eps);
        const float xm = static_cast<float>(orig - eps);
        x = xp;
        const double lp = weighted_sum(f(inputs), w);
        x = xm;
        const double lm = weighted_sum(f(inputs), w);
        x = orig;
        g[i] = (lp - lm) / (static_cast<double>(xp) - static_cast<double>(xm));
    }
    return g;
}

Forward unary_forward(const std::string &op, int64_t axis = 0, bool with_axis = false) {
    return [op, axis, with_axis](const std::vector<Tensor> &in) {
        NodeDesc node = make_node(op);
        if (with_axis) set_int(&node, "axis", axis);
        return run1(node, {&in[0]}, in[0].shape);
    };
}

// ReduceSum of g over the axes along which `target` was broadcast to g's
// shape, reshaped to `target`: the backward of broadcasting.
Tensor reduce_to(const Tensor &g, const Shape &target) {
    const size_t lead = g.shape.size() - target.size();
    std::vector<int64_t> axes;
    Shape kept;
    for (size_t i = 0; i < g.shape.size(); ++i) {
        const int64_t t = i < lead ? 1 : target[i - lead];
        if (t == 1 && g.shape[i] != 1) axes.push_back(static_cast<int64_t>(i));
        kept.push_back(t);
    }
    Tensor summed = g;
    if (!axes.empty()) {
        NodeDesc sum = make_node("ReduceSum");
        set_ints(&sum, "axes", axes);
        summed = run1(sum, {&g}, kept);
    }
    NodeDesc reshape = make_node("Reshape");
    set_ints(&reshape, "shape", target);
    return run1(reshape, {&summed}, target);
}

Tensor matmul(const Tensor &a, const Tensor &b, bool ta, bool tb) {
    NodeDesc node = make_node("MatMul");
    set_int(&node, "transA", ta);
    set_int(&node, "transB", tb);
    const int64_t m = ta ? a.shape[1] : a.shape[0];
    const int64_t n = tb ? b.shape[0] : b.shape[1];
    return run1(node, {&a, &b}, {m, n});
}

Tensor binary(const std::string &op, const Tensor &a, const Tensor &b) {
    return run1(make_node(op), {&a, &b}, broadcast_shape(a.shape, b.shape));
}

class KernelsGrad : public ::testing::Test {
  protected:
    std::mt19937 rng{7};
};

// --- activations ------------------------------------------------------------

TEST_F(KernelsGrad, ReluGrad) {
    // Keep inputs away from the kink at 0, where the difference quotient lies.
    Tensor x = random_tensor({4, 5}, rng, 0.1f, 1.0f);
    for (size_t i = 0; i < x.size(); i += 2) x.data[i] = -x.data[i];
    const Tensor w = random_tensor(x.shape, rng);
    const Tensor got = run1(make_node("ReluGrad"), {&w, &x}, x.shape);
    expect_near_all(got, numeric_grad(unary_forward("Relu"), {x}, 0, w), kRtol, kAtol, "Relu");
}

TEST_F(KernelsGrad, SigmoidAndTanhGrad) {
    const Tensor x = random_tensor({3, 6}, rng, -3.0f, 3.0f);
    const Tensor w = random_tensor(x.shape, rng);
    for (const std::string op : {"Sigmoid", "Tanh"}) {
        const Tensor y = run1(make_node(op), {&x}, x.shape);
        const Tensor got = run1(make_node(op + "Grad"), {&w, &y}, x.shape);
        expect_near_all(got, numeric_grad(unary_forward(op), {x}, 0, w), kRtol, kAtol, op);
    }
}

// --- softmax ----------------------------------------------------------------

TEST_F(KernelsGrad, SoftmaxGrad) {
    const std::pair<Shape, int64_t> cases[] = {
        {{3, 5}, -1}, {{3, 5}, 0}, {{2, 4, 3}, 1}, {{2, 4, 3}, -1}, {{2, 4, 3}, 0}};
    for (const auto &[shape, axis] : cases) {
        const Tensor x = random_tensor(shape, rng, -2.0f, 2.0f);
        const Tensor w = random_tensor(shape, rng);
        NodeDesc fwd = make_node("Softmax");
        set_int(&fwd, "axis", axis);
        const Tensor y = run1(fwd, {&x}, shape);
        NodeDesc bwd = make_node("SoftmaxGrad");
        set_int(&bwd, "axis", axis);
        const Tensor got = run1(bwd, {&w, &y}, shape);
        expect_near_all(got, numeric_grad(unary_forward("Softmax", axis, true), {x}, 0, w), kRtol,
                        kAtol, shape_str(shape) + " axis " + std::to_string(axis));
    }
}

TEST_F(KernelsGrad, SoftmaxCrossEntropyGrad) {
    const Tensor logits = random_tensor({4, 6}, rng, -2.0f, 2.0f);
    // Soft labels: rows of a softmax of random numbers.
    const Tensor raw = random_tensor({4, 6}, rng, -1.0f, 1.0f);
    const Tensor labels = run1(make_node("Softmax"), {&raw}, raw.shape);
    const Forward loss = [](const std::vector<Tensor> &in) {
        return run1(make_node("SoftmaxCrossEntropy"), {&in[0], &in[1]}, {});
    };

    // Without dLoss the gradient is of the loss itself: W = 1.
    const Tensor one({}, {1.0f});
    const Tensor plain = run1(make_node("SoftmaxCrossEntropyGrad"), {&logits, &labels}, {4, 6});
    expect_near_all(plain, numeric_grad(loss, {logits, labels}, 0, one), kRtol, kAtol,
                    "without dLoss");

    const Tensor dloss({}, {-1.7f});
    const Tensor scaled =
        run1(make_node("SoftmaxCrossEntropyGrad"), {&logits, &labels, &dloss}, {4, 6});
    expect_near_all(scaled, numeric_grad(loss, {logits, labels}, 0, dloss), kRtol, kAtol,
                    "with dLoss");
}

// --- MatMul -----------------------------------------------------------------

TEST_F(KernelsGrad, MatMulBackward) {
    const int64_t m = 3, k = 4, n = 5;
    for (int ta = 0; ta < 2; ++ta) {
        for (int tb = 0; tb < 2; ++tb) {
            const Tensor a = random_tensor(ta ? Shape{k, m} : Shape{m, k}, rng);
            const Tensor b = random_tensor(tb ? Shape{n, k} : Shape{k, n}, rng);
            const Tensor w = random_tensor({m, n}, rng);
            // Y = op(A) op(B): dop(A) = W op(B)^T, dop(B) = op(A)^T W, then
            // transposed back where the flag was set.
            Tensor da, db;
            if (!ta && !tb) {
                da = matmul(w, b, false, true);
                db = matmul(a, w, true, false);
            } else if (!ta && tb) {
                da = matmul(w, b, false, false);
                db = matmul(w, a, true, false);
            } else if (ta && !tb) {
                da = matmul(b, w, false, true);
                db = matmul(a, w, false, false);
            } else {
                da = matmul(b, w, true, true);
                db = matmul(w, a, true, true);
            }
            const Forward f = [ta, tb](const std::vector<Tensor> &in) {
                return matmul(in[0], in[1], ta, tb);
            };
            const std::string what =
                "transA=" + std::to_string(ta) + " transB=" + std::to_string(tb);
            expect_near_all(da, numeric_grad(f, {a, b}, 0, w, kLinearEps), kRtol, kAtol,
                            "dA " + what);
            expect_near_all(db, numeric_grad(f, {a, b}, 1, w, kLinearEps), kRtol, kAtol,
                            "dB " + what);
        }
    }
}

// --- broadcasting binary ops ------------------------------------------------

TEST_F(KernelsGrad, BroadcastBinaryBackward) {
    const std::pair<Shape, Shape> pairs[] = {{{4, 1, 3}, {2, 1}}, {{5, 7}, {7}},
                                             {{3, 4}, {3, 1}},    {{2, 3}, {}},
                                             {{1, 4}, {3, 1}},    {{2, 3}, {2, 3}}};
    const Tensor minus_one({}, {-1.0f});
    for (const auto &[sa, sb] : pairs) {
        const Tensor a = random_tensor(sa, rng);
        const Tensor b = random_tensor(sb, rng);
        const Tensor w = random_tensor(broadcast_shape(sa, sb), rng);
        for (const std::string op : {"Add", "Sub", "Mul"}) {
            Tensor da, db;
            if (op == "Add") {
                da = reduce_to(w, sa);
                db = reduce_to(w, sb);
            } else if (op == "Sub") {
                da = reduce_to(w, sa);
                db = reduce_to(binary("Mul", w, minus_one), sb);
            } else {
                da = reduce_to(binary("Mul", w, b), sa);
                db = reduce_to(binary("Mul", w, a), sb);
            }
            const Forward f = [op](const std::vector<Tensor> &in) {
                return binary(op, in[0], in[1]);
            };
            const std::string what = op + " " + shape_str(sa) + " " + shape_str(sb);
            expect_near_all(da, numeric_grad(f, {a, b}, 0, w, kLinearEps), kRtol, kAtol,
                            "dA " + what);
            expect_near_all(db, numeric_grad(f, {a, b}, 1, w, kLinearEps), kRtol, kAtol,
                            "dB " + what);
        }
    }
}

// --- reductions and their backward, Expand ---------------------------------

TEST_F(KernelsGrad, ReduceBackwardIsExpand) {
    const Shape xs = {2, 3, 4};
    const std::vector<int64_t> axes_cases[] = {{1}, {0, 2}, {-1}, {}};
    for (const std::vector<int64_t> &axes : axes_cases) {
        for (int keepdims = 0; keepdims < 2; ++keepdims) {
            for (bool mean : {false, true}) {
                NodeDesc fwd = make_node(mean ? "ReduceMean" : "ReduceSum");
                if (!axes.empty()) set_ints(&fwd, "axes", axes);
                set_int(&fwd, "keepdims", keepdims);
                // Output shapes with and without the reduced axes.
                Shape kept, ys;
                int64_t count = 1;
                for (size_t d = 0; d < xs.size(); ++d) {
                    bool red = axes.empty();
                    for (int64_t a : axes) red = red || normalize(a, xs.size()) == int(d);
                    kept.push_back(red ? 1 : xs[d]);
                    if (red) count *= xs[d];
                    if (!red || keepdims) ys.push_back(red ? 1 : xs[d]);
                }
                const Tensor x = random_tensor(xs, rng);
                const Tensor w = random_tensor(ys, rng);

                NodeDesc reshape = make_node("Reshape");
                set_ints(&reshape, "shape", kept);
                const Tensor wk = run1(reshape, {&w}, kept);
                NodeDesc expand = make_node("Expand");
                set_ints(&expand, "shape", xs);
                Tensor dx = run1(expand, {&wk}, xs);
                if (mean) {
                    const Tensor scale({}, {1.0f / static_cast<float>(count)});
                    dx = binary("Mul", dx, scale);
                }
                const Forward f = [&fwd, &ys](const std::vector<Tensor> &in) {
                    return run1(fwd, {&in[0]}, ys);
                };
                expect_near_all(dx, numeric_grad(f, {x}, 0, w, kLinearEps), kRtol, kAtol,
                                fwd.op + " keepdims " + std::to_string(keepdims));
            }
        }
    }
}

TEST_F(KernelsGrad, ExpandBackwardIsReduceSum) {
    const std::pair<Shape, Shape> cases[] = {{{3, 1}, {2, 3, 4}}, {{4}, {3, 4}}, {{}, {2, 2}}};
    for (const auto &[xs, ys] : cases) {
        const Tensor x = random_tensor(xs, rng);
        const Tensor w = random_tensor(ys, rng);
        NodeDesc expand = make_node("Expand");
        set_ints(&expand, "shape", ys);
        const Forward f = [&expand, ys = ys](const std::vector<Tensor> &in) {
            return run1(expand, {&in[0]}, ys);
        };
        expect_near_all(reduce_to(w, xs), numeric_grad(f, {x}, 0, w, kLinearEps), kRtol, kAtol,
                        shape_str(xs) + " -> " + shape_str(ys));
    }
}

// --- Transpose --------------------------------------------------------------

TEST_F(KernelsGrad, TransposeBackwardIsInversePerm) {
    const std::pair<Shape, std::vector<int64_t>> cases[] = {{{2, 3, 4}, {2, 0, 1}},
                                                            {{2, 3, 4}, {1, 2, 0}},
                                                            {{2, 3, 2, 2}, {1, 2, 0, 3}},
                                                            {{3, 5}, {1, 0}}};
    for (const auto &[xs, perm] : cases) {
        std::vector<int64_t> inv(perm.size());
        Shape ys;
        for (size_t i = 0; i < perm.size(); ++i) {
            inv[static_cast<size_t>(perm[i])] = static_cast<int64_t>(i);
            ys.push_back(xs[static_cast<size_t>(perm[i])]);
        }
        const Tensor x = random_tensor(xs, rng);
        const Tensor w = random_tensor(ys, rng);
        NodeDesc bwd = make_node("Transpose");
        set_ints(&bwd, "perm", inv);
        const Tensor dx = run1(bwd, {&w}, xs);
        NodeDesc fwd = make_node("Transpose");
        set_ints(&fwd, "perm", perm);
        const Forward f = [&fwd, ys = ys](const std::vector<Tensor> &in) {
            return run1(fwd, {&in[0]}, ys);
        };
        expect_near_all(dx, numeric_grad(f, {x}, 0, w, kLinearEps), kRtol, kAtol,
                        "Transpose " + shape_str(xs));
    }
}

} // namespace
} // namespace salus::test
