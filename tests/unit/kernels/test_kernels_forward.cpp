// Every CPU kernel against a plain-loop reference in double precision.
#include "graph/ops.h"
#include "graph/test_ops.h"
#include "kernel_test_util.h"
#include "ops/awaiting_cuda.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <vector>

namespace salus::test {
namespace {

constexpr double kRtol = 1e-5;
constexpr double kAtol = 1e-5;

// --- references -------------------------------------------------------------

std::vector<double> ref_binary(const std::string &op, const Tensor &a, const Tensor &b,
                               const Shape &y_shape) {
    std::vector<double> y(static_cast<size_t>(num_elements(y_shape)));
    for (size_t i = 0; i < y.size(); ++i) {
        const std::vector<int64_t> idx = unravel(static_cast<int64_t>(i), y_shape);
        const double va = a.data[static_cast<size_t>(broadcast_offset(idx, a.shape))];
        const double vb = b.data[static_cast<size_t>(broadcast_offset(idx, b.shape))];
        y[i] = op == "Add" ? va + vb : op == "Sub" ? va - vb : va * vb;
    }
    return y;
}

std::vector<double> ref_matmul(const Tensor &a, const Tensor &b, bool ta, bool tb) {
    const int64_t m = ta ? a.shape[1] : a.shape[0];
    const int64_t k = ta ? a.shape[0] : a.shape[1];
    const int64_t n = tb ? b.shape[0] : b.shape[1];
    std::vector<double> y(static_cast<size_t>(m * n));
    for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < n; ++j) {
            double acc = 0.0;
            for (int64_t p = 0; p < k; ++p) {
                const double va = ta ? a.data[p * m + i] : a.data[i * k + p];
                const double vb = tb ? b.data[j * k + p] : b.data[p * n + j];
                acc += va * vb;
            }
            y[i * n + j] = acc;
        }
    }
    return y;
}

// Splits a shape around `axis` into outer/n/inner.
void split(const Shape &s, int axis, int64_t *outer, int64_t *n, int64_t *inner) {
    *outer = *inner = 1;
    *n = s[axis];
    for (int d = 0; d < axis; ++d) *outer *= s[d];
    for (size_t d = axis + 1; d < s.size(); ++d) *inner *= s[d];
}

std::vector<double> ref_softmax(const Tensor &x, int64_t axis_attr) {
    const int axis = normalize(axis_attr, x.shape.size());
    int64_t outer, n, inner;
    split(x.shape, axis, &outer, &n, &inner);
    std::vector<double> y(x.size());
    for (int64_t o = 0; o < outer; ++o) {
        for (int64_t j = 0; j < inner; ++j) {
            auto at = [&](int64_t i) { return static_cast<size_t>((o * n + i) * inner + j); };
            double m = -INFINITY;
            for (int64_t i = 0; i < n; ++i) m = std::max(m, static_cast<double>(x.data[at(i)]));
            double sum = 0.0;
            for (int64_t i = 0; i < n; ++i) sum += std::exp(x.data[at(i)] - m);
            for (int64_t i = 0; i < n; ++i) y[at(i)] = std::exp(x.data[at(i)] - m) / sum;
        }
    }
    return y;
}

std::vector<double> ref_softmax_grad(const Tensor &dy, const Tensor &y, int64_t axis_attr) {
    const int axis = normalize(axis_attr, y.shape.size());
    int64_t outer, n, inner;
    split(y.shape, axis, &outer, &n, &inner);
    std::vector<double> dx(y.size());
    for (int64_t o = 0; o < outer; ++o) {
        for (int64_t j = 0; j < inner; ++j) {
            auto at = [&](int64_t i) { return static_cast<size_t>((o * n + i) * inner + j); };
            double dot = 0.0;
            for (int64_t i = 0; i < n; ++i) dot += double(dy.data[at(i)]) * y.data[at(i)];
            for (int64_t i = 0; i < n; ++i) dx[at(i)] = y.data[at(i)] * (dy.data[at(i)] - dot);
        }
    }
    return dx;
}

// Per-row log_softmax of [N,C] logits.
std::vector<double> ref_log_softmax(const Tensor &logits) {
    const int64_t n = logits.shape[0], c = logits.shape[1];
    std::vector<double> out(logits.size());
    for (int64_t r = 0; r < n; ++r) {
        const float *x = &logits.data[r * c];
        double m = -INFINITY;
        for (int64_t i = 0; i < c; ++i) m = std::max(m, double(x[i]));
        double sum = 0.0;
        for (int64_t i = 0; i < c; ++i) sum += std::exp(x[i] - m);
        for (int64_t i = 0; i < c; ++i) out[r * c + i] = x[i] - m - std::log(sum);
    }
    return out;
}

double ref_xent(const Tensor &logits, const Tensor &labels) {
    const std::vector<double> ls = ref_log_softmax(logits);
    double total = 0.0;
    for (size_t i = 0; i < ls.size(); ++i) total -= labels.data[i] * ls[i];
    return total / static_cast<double>(logits.shape[0]);
}

std::vector<double> ref_xent_grad(const Tensor &logits, const Tensor &labels, double dloss) {
    const std::vector<double> ls = ref_log_softmax(logits);
    std::vector<double> d(ls.size());
    const double n = static_cast<double>(logits.shape[0]);
    for (size_t i = 0; i < ls.size(); ++i) d[i] = (std::exp(ls[i]) - labels.data[i]) / n * dloss;
    return d;
}

// Reduction over `axes` (empty: all); fills the output shape.
std::vector<double> ref_reduce(const Tensor &x, std::vector<int64_t> axes, bool keepdims, bool mean,
                               Shape *y_shape) {
    const size_t rank = x.shape.size();
    std::vector<bool> red(rank, axes.empty());
    for (int64_t a : axes) red[static_cast<size_t>(normalize(a, rank))] = true;
    Shape keep_shape;
    y_shape->clear();
    int64_t count = 1;
    for (size_t d = 0; d < rank; ++d) {
        keep_shape.push_back(red[d] ? 1 : x.shape[d]);
        if (red[d]) count *= x.shape[d];
        if (!red[d] || keepdims) y_shape->push_back(red[d] ? 1 : x.shape[d]);
    }
    std::vector<double> y(static_cast<size_t>(num_elements(keep_shape)), 0.0);
    for (size_t i = 0; i < x.size(); ++i) {
        const std::vector<int64_t> idx = unravel(static_cast<int64_t>(i), x.shape);
        y[static_cast<size_t>(broadcast_offset(idx, keep_shape))] += x.data[i];
    }
    if (mean) {
        for (double &v : y) v /= static_cast<double>(count);
    }
    return y;
}

std::vector<double> ref_transpose(const Tensor &x, const std::vector<int64_t> &perm,
                                  Shape *y_shape) {
    y_shape->clear();
    for (int64_t p : perm) y_shape->push_back(x.shape[static_cast<size_t>(p)]);
    std::vector<double> y(x.size());
    for (size_t i = 0; i < y.size(); ++i) {
        const std::vector<int64_t> yi = unravel(static_cast<int64_t>(i), *y_shape);
        std::vector<int64_t> xi(perm.size());
        for (size_t d = 0; d < perm.size(); ++d) xi[static_cast<size_t>(perm[d])] = yi[d];
        int64_t off = 0;
        for (size_t d = 0; d < xi.size(); ++d) off = off * x.shape[d] + xi[d];
        y[i] = x.data[static_cast<size_t>(off)];
    }
    return y;
}

std::vector<double> as_double(const Tensor &t) {
    return {t.data.begin(), t.data.end()};
}

bool all_finite(const Tensor &t) {
    for (float v : t.data) {
        if (!std::isfinite(v)) return false;
    }
    return true;
}

class KernelsForward : public ::testing::Test {
  protected:
    std::mt19937 rng{20240611};
};

// --- catalogue --------------------------------------------------------------

TEST(KernelsRegistry, EveryOpOfTheSchemaTableHasACpuKernel) {
    ASSERT_FALSE(all_ops().empty());
    for (const OpSchema &op : all_ops()) {
        EXPECT_NE(default_kernels().find(DeviceType::CPU, op.name), nullptr) << op.name;
    }
}

// Every device this salusd was built with runs every op, TestFault included
// (a daemon started for tests must be able to run it anywhere), except the
// ops still awaiting a CUDA kernel; that list names no op that has one.
TEST(KernelsRegistry, EveryOpHasAKernelOnEveryBuiltDevice) {
    std::vector<DeviceType> built = {DeviceType::CPU};
#ifdef SALUS_HAVE_CUDA
    built.push_back(DeviceType::CUDA);
#endif
    std::vector<std::string> ops = {test_fault_op().name};
    for (const OpSchema &op : all_ops()) ops.push_back(op.name);
    for (const std::string &op : kAwaitingCudaKernel) {
        EXPECT_NE(find_op(op), nullptr) << op << " is awaited but not an op";
    }
    for (DeviceType device : built) {
        for (const std::string &op : ops) {
            const bool awaited = device == DeviceType::CUDA && kAwaitingCudaKernel.count(op);
            EXPECT_EQ(default_kernels().find(device, op) != nullptr, !awaited)
                << op
                << (awaited ? " has a CUDA kernel: take it off kAwaitingCudaKernel"
                            : " has no " + std::string(device_type_name(device)) + " kernel");
        }
    }
}

TEST(KernelsRegistry, NonF32IsAnExecError) {
    const Tensor a({2, 2}, {1, 2, 3, 4});
    Tensor y({2, 2});
    for (const char *op : {"Add", "MatMul", "Relu", "Softmax", "ReduceSum", "Transpose"}) {
        NodeDesc node = make_node(op);
        KernelContext ctx;
        ctx.node = &node;
        ctx.inputs = {view(a), view(a)};
        ctx.inputs[0].dtype = DType::I32;
        ctx.outputs = {view(y)};
        const Status st = run_cpu_kernel(ctx);
        EXPECT_EQ(st.code(), SALUS_EEXEC) << op;
        EXPECT_NE(st.message().find("f32"), std::string::npos) << st.message();
    }
}

// --- broadcasting binary ops ----------------------------------------------

TEST_F(KernelsForward, BinaryOpsBroadcast) {
    const std::vector<std::pair<Shape, Shape>> pairs = {
        {{3, 4}, {3, 4}},          // same shape
        {{5, 7}, {7}},             // bias
        {{7}, {5, 7}},             // bias on the left
        {{3, 1, 4}, {1, 4}},       // bias with a leading 1
        {{2, 3, 4}, {4}},          // bias on a 3-d tensor
        {{4, 1, 3}, {2, 1}},       // general
        {{2, 3}, {}},              // scalar right
        {{}, {2, 3}},              // scalar left
        {{1, 5}, {4, 1}},          // outer product
        {{2, 1, 4, 1}, {3, 1, 5}}, // rank 4 vs 3
        {{6, 1}, {1, 6}},
        {{3, 4}, {3, 1}}, // column broadcast
        {{1}, {1}},
    };
    for (const auto &[sa, sb] : pairs) {
        const Tensor a = random_tensor(sa, rng);
        const Tensor b = random_tensor(sb, rng);
        const Shape ys = broadcast_shape(sa, sb);
        for (const char *op : {"Add", "Sub", "Mul"}) {
            const Tensor y = run1(make_node(op), {&a, &b}, ys);
            expect_near_all(y, ref_binary(op, a, b, ys), kRtol, kAtol,
                            std::string(op) + " " + shape_str(sa) + " " + shape_str(sb));
        }
    }
}

TEST_F(KernelsForward, BinaryOpInPlace) {
    Tensor a = random_tensor({4, 5}, rng);
    const Tensor b = random_tensor({5}, rng);
    const std::vector<double> want = ref_binary("Add", a, b, a.shape);
    // The planner may hand the output the buffer of a dead input.
    ASSERT_TRUE(run_kernel(make_node("Add"), {&a, &b}, {&a}).ok());
    expect_near_all(a, want, kRtol, kAtol, "in-place Add");
}

// --- activations ------------------------------------------------------------

TEST_F(KernelsForward, Activations) {
    const Tensor x = random_tensor({3, 5}, rng, -5.0f, 5.0f);
    const Tensor relu = run1(make_node("Relu"), {&x}, x.shape);
    const Tensor sig = run1(make_node("Sigmoid"), {&x}, x.shape);
    const Tensor tanh = run1(make_node("Tanh"), {&x}, x.shape);
    const Tensor id = run1(make_node("Identity"), {&x}, x.shape);
    for (size_t i = 0; i < x.size(); ++i) {
        const double v = x.data[i];
        EXPECT_EQ(relu.data[i], v > 0 ? v : 0.0);
        EXPECT_NEAR(sig.data[i], 1.0 / (1.0 + std::exp(-v)), 1e-6);
        EXPECT_NEAR(tanh.data[i], std::tanh(v), 1e-6);
        EXPECT_EQ(id.data[i], x.data[i]);
    }
}

TEST_F(KernelsForward, ActivationsSaturateWithoutNaN) {
    const Tensor x({6}, {-1000.0f, -100.0f, -20.0f, 20.0f, 100.0f, 1000.0f});
    const Tensor sig = run1(make_node("Sigmoid"), {&x}, x.shape);
    const Tensor tanh = run1(make_node("Tanh"), {&x}, x.shape);
    ASSERT_TRUE(all_finite(sig));
    ASSERT_TRUE(all_finite(tanh));
    EXPECT_EQ(sig.data[0], 0.0f);
    EXPECT_EQ(sig.data[5], 1.0f);
    EXPECT_EQ(tanh.data[0], -1.0f);
    EXPECT_EQ(tanh.data[5], 1.0f);
}

TEST_F(KernelsForward, ActivationGrads) {
    const Tensor dy = random_tensor({4, 6}, rng);
    const Tensor x = random_tensor({4, 6}, rng, -3.0f, 3.0f);
    const Tensor y = random_tensor({4, 6}, rng, 0.0f, 1.0f);
    const Tensor relu = run1(make_node("ReluGrad"), {&dy, &x}, x.shape);
    const Tensor sig = run1(make_node("SigmoidGrad"), {&dy, &y}, x.shape);
    const Tensor tanh = run1(make_node("TanhGrad"), {&dy, &y}, x.shape);
    for (size_t i = 0; i < x.size(); ++i) {
        const double g = dy.data[i], v = y.data[i];
        EXPECT_EQ(relu.data[i], x.data[i] > 0 ? dy.data[i] : 0.0f);
        EXPECT_NEAR(sig.data[i], g * v * (1 - v), 1e-6);
        EXPECT_NEAR(tanh.data[i], g * (1 - v * v), 1e-6);
    }
}

// --- MatMul -----------------------------------------------------------------

TEST_F(KernelsForward, MatMulAllTransposeFlags) {
    const int64_t m = 3, k = 5, n = 4;
    for (int ta = 0; ta < 2; ++ta) {
        for (int tb = 0; tb < 2; ++tb) {
            const Tensor a = random_tensor(ta ? Shape{k, m} : Shape{m, k}, rng);
            const Tensor b = random_tensor(tb ? Shape{n, k} : Shape{k, n}, rng);
            NodeDesc node = make_node("MatMul");
            set_int(&node, "transA", ta);
            set_int(&node, "transB", tb);
            const Tensor y = run1(node, {&a, &b}, {m, n});
            expect_near_all(y, ref_matmul(a, b, ta, tb), 1e-5, 1e-5,
                            "transA=" + std::to_string(ta) + " transB=" + std::to_string(tb));
        }
    }
}

TEST_F(KernelsForward, MatMulLargerAndDegenerate) {
    const Tensor a = random_tensor({37, 65}, rng);
    const Tensor b = random_tensor({65, 19}, rng);
    expect_near_all(run1(make_node("MatMul"), {&a, &b}, {37, 19}), ref_matmul(a, b, 0, 0), 1e-4,
                    1e-4, "37x65x19");
    // K = 0 is an empty sum.
    const Tensor e0({3, 0}), e1({0, 2});
    const Tensor y = run1(make_node("MatMul"), {&e0, &e1}, {3, 2});
    for (float v : y.data) EXPECT_EQ(v, 0.0f);
    // A vector product: [1,K] x [K,1].
    const Tensor r = random_tensor({1, 7}, rng);
    const Tensor c = random_tensor({7, 1}, rng);
    expect_near_all(run1(make_node("MatMul"), {&r, &c}, {1, 1}), ref_matmul(r, c, 0, 0), 1e-5, 1e-5,
                    "dot");
}

// --- softmax ----------------------------------------------------------------

TEST_F(KernelsForward, SoftmaxAlongAxes) {
    struct Case {
        Shape shape;
        int64_t axis;
    };
    const Case cases[] = {
        {{4, 7}, -1},    {{4, 7}, 1},      {{4, 7}, 0},   {{3, 4, 5}, 1},
        {{3, 4, 5}, -3}, {{2, 3, 300}, 1}, {{5, 600}, 0}, {{9}, 0},
    };
    for (const Case &c : cases) {
        const Tensor x = random_tensor(c.shape, rng, -4.0f, 4.0f);
        NodeDesc node = make_node("Softmax");
        set_int(&node, "axis", c.axis);
        const std::string what = shape_str(c.shape) + " axis " + std::to_string(c.axis);
        expect_near_all(run1(node, {&x}, x.shape), ref_softmax(x, c.axis), 1e-5, 1e-6, what);

        const Tensor y = run1(node, {&x}, x.shape);
        const Tensor dy = random_tensor(c.shape, rng);
        NodeDesc grad = make_node("SoftmaxGrad");
        set_int(&grad, "axis", c.axis);
        expect_near_all(run1(grad, {&dy, &y}, x.shape), ref_softmax_grad(dy, y, c.axis), 1e-5, 1e-6,
                        "grad " + what);
    }
}

TEST_F(KernelsForward, SoftmaxDefaultAxisIsLast) {
    const Tensor x = random_tensor({3, 4}, rng);
    expect_near_all(run1(make_node("Softmax"), {&x}, x.shape), ref_softmax(x, -1), 1e-5, 1e-6,
                    "default axis");
}

TEST_F(KernelsForward, SoftmaxLargeLogits) {
    const Tensor x({2, 3}, {1000.0f, 0.0f, -1000.0f, 1000.0f, 1000.0f, 999.0f});
    const Tensor y = run1(make_node("Softmax"), {&x}, x.shape);
    ASSERT_TRUE(all_finite(y));
    EXPECT_FLOAT_EQ(y.data[0], 1.0f);
    EXPECT_EQ(y.data[2], 0.0f);
    expect_near_all(y, ref_softmax(x, -1), 1e-5, 1e-7, "large logits");

    NodeDesc axis0 = make_node("Softmax");
    set_int(&axis0, "axis", 0);
    ASSERT_TRUE(all_finite(run1(axis0, {&x}, x.shape)));
}

// --- SoftmaxCrossEntropy ----------------------------------------------------

Tensor random_labels(int64_t n, int64_t c, bool one_hot, std::mt19937 &rng) {
    Tensor t({n, c});
    std::uniform_real_distribution<float> dist(0.0f, 1.0f);
    for (int64_t r = 0; r < n; ++r) {
        if (one_hot) {
            t.data[r * c + static_cast<int64_t>(rng() % static_cast<unsigned>(c))] = 1.0f;
            continue;
        }
        float sum = 0.0f;
        for (int64_t i = 0; i < c; ++i) sum += t.data[r * c + i] = dist(rng);
        for (int64_t i = 0; i < c; ++i) t.data[r * c + i] /= sum;
    }
    return t;
}

TEST_F(KernelsForward, SoftmaxCrossEntropyIsTheBatchMean) {
    for (bool one_hot : {true, false}) {
        const Tensor logits = random_tensor({6, 5}, rng, -3.0f, 3.0f);
        const Tensor labels = random_labels(6, 5, one_hot, rng);
        const Tensor loss = run1(make_node("SoftmaxCrossEntropy"), {&logits, &labels}, {});
        ASSERT_EQ(loss.size(), 1u);
        EXPECT_NEAR(loss.data[0], ref_xent(logits, labels), 1e-5);

        const Tensor d = run1(make_node("SoftmaxCrossEntropyGrad"), {&logits, &labels}, {6, 5});
        expect_near_all(d, ref_xent_grad(logits, labels, 1.0), 1e-5, 1e-7, "grad");
        const Tensor dloss({}, {0.37f});
        const Tensor ds =
            run1(make_node("SoftmaxCrossEntropyGrad"), {&logits, &labels, &dloss}, {6, 5});
        expect_near_all(ds, ref_xent_grad(logits, labels, 0.37), 1e-5, 1e-7, "grad with dLoss");
    }
}

TEST_F(KernelsForward, SoftmaxCrossEntropyLargeLogits) {
    // The correct class far ahead, far behind, and a zero-label class at -inf's doorstep.
    const Tensor logits(
        {3, 3}, {1000.0f, 0.0f, -1000.0f, -1000.0f, 1000.0f, 0.0f, 500.0f, -500.0f, 1000.0f});
    const Tensor labels({3, 3}, {1, 0, 0, 1, 0, 0, 0, 0, 1});
    const Tensor loss = run1(make_node("SoftmaxCrossEntropy"), {&logits, &labels}, {});
    ASSERT_TRUE(all_finite(loss));
    EXPECT_NEAR(loss.data[0], 2000.0 / 3.0, 1e-2);
    const Tensor d = run1(make_node("SoftmaxCrossEntropyGrad"), {&logits, &labels}, {3, 3});
    ASSERT_TRUE(all_finite(d));
    expect_near_all(d, ref_xent_grad(logits, labels, 1.0), 1e-5, 1e-7, "large logits grad");
}

// --- reductions -------------------------------------------------------------

TEST_F(KernelsForward, Reductions) {
    struct Case {
        Shape shape;
        std::vector<int64_t> axes; // empty: attribute absent
    };
    const Case cases[] = {
        {{2, 3, 4, 5}, {1}},
        {{2, 3, 4, 5}, {-1}},
        {{2, 3, 4, 5}, {0}},
        {{2, 3, 4, 5}, {0, 2}},
        {{2, 3, 4, 5}, {-1, 0}},
        {{2, 3, 4, 5}, {1, 2}},
        {{2, 3, 4, 5}, {0, 1, 2, 3}},
        {{2, 3, 4, 5}, {}},
        {{7}, {0}},
        {{7}, {}},
        {{64, 10}, {0}},
        {{3, 1, 4}, {1}},
        {{3, 1, 4}, {0, 2}},
        {{1000, 3}, {0}},
    };
    for (const Case &c : cases) {
        for (int keepdims = 0; keepdims < 2; ++keepdims) {
            for (bool mean : {false, true}) {
                const Tensor x = random_tensor(c.shape, rng);
                NodeDesc node = make_node(mean ? "ReduceMean" : "ReduceSum");
                if (!c.axes.empty()) set_ints(&node, "axes", c.axes);
                set_int(&node, "keepdims", keepdims);
                Shape ys;
                const std::vector<double> want = ref_reduce(x, c.axes, keepdims, mean, &ys);
                std::string what = node.op + " " + shape_str(c.shape) + " axes [";
                for (int64_t a : c.axes) what += std::to_string(a) + " ";
                what += "] keepdims " + std::to_string(keepdims);
                expect_near_all(run1(node, {&x}, ys), want, 1e-5, 1e-5, what);
            }
        }
    }
}

TEST_F(KernelsForward, ReduceKeepdimsDefaultsToOne) {
    // Only the element count reaches the kernel, but it must agree with [2,1].
    const Tensor x = random_tensor({2, 3}, rng);
    NodeDesc node = make_node("ReduceSum");
    set_ints(&node, "axes", {1});
    Shape ys;
    const std::vector<double> want = ref_reduce(x, {1}, true, false, &ys);
    EXPECT_EQ(ys, (Shape{2, 1}));
    expect_near_all(run1(node, {&x}, ys), want, 1e-6, 1e-6, "default keepdims");
}

// --- Expand, Reshape, Transpose -------------------------------------------

TEST_F(KernelsForward, Expand) {
    const std::vector<std::pair<Shape, Shape>> cases = {
        {{3, 1}, {2, 3, 4}}, {{4}, {3, 4}}, {{}, {2, 2}}, {{2, 3}, {2, 3}}, {{1, 3, 1}, {2, 3, 5}},
    };
    for (const auto &[xs, ys] : cases) {
        const Tensor x = random_tensor(xs, rng);
        NodeDesc node = make_node("Expand");
        set_ints(&node, "shape", ys);
        std::vector<double> want(static_cast<size_t>(num_elements(ys)));
        for (size_t i = 0; i < want.size(); ++i) {
            want[i] = x.data[broadcast_offset(unravel(static_cast<int64_t>(i), ys), xs)];
        }
        expect_near_all(run1(node, {&x}, ys), want, 0, 0, shape_str(xs) + " -> " + shape_str(ys));
    }
}

TEST_F(KernelsForward, Reshape) {
    const Tensor x = random_tensor({2, 3, 4}, rng);
    // {0, -1}: keep dim 0 (2), infer 12; {-1, 0, 2}: infer 4, keep 3, 2.
    const std::vector<std::pair<std::vector<int64_t>, Shape>> cases = {
        {{0, -1}, {2, 12}}, {{-1, 0, 2}, {4, 3, 2}}, {{24}, {24}}, {{4, 0, 2}, {4, 3, 2}}};
    for (const auto &[attr, ys] : cases) {
        NodeDesc node = make_node("Reshape");
        set_ints(&node, "shape", attr);
        const Tensor y = run1(node, {&x}, ys);
        EXPECT_EQ(y.shape, ys);
        expect_near_all(y, as_double(x), 0, 0, "Reshape to " + shape_str(ys));
    }
    // Aliased output: nothing to move.
    NodeDesc node = make_node("Reshape");
    set_ints(&node, "shape", {-1});
    Tensor alias = x;
    Tensor out({24});
    KernelContext ctx;
    ctx.node = &node;
    ctx.inputs = {view(alias)};
    ctx.outputs = {view(alias)};
    ctx.outputs[0].shape = out.shape;
    ASSERT_TRUE(run_cpu_kernel(ctx).ok());
    EXPECT_EQ(alias.data, x.data);
}

TEST_F(KernelsForward, Transpose) {
    struct Case {
        Shape shape;
        std::vector<int64_t> perm; // empty: attribute absent (reverse)
    };
    const Case cases[] = {
        {{2, 3, 4}, {2, 0, 1}},       {{2, 3, 4}, {1, 0, 2}},
        {{2, 3, 4}, {0, 2, 1}},       {{2, 3, 4}, {}},
        {{70, 45}, {1, 0}},           {{5, 1, 3}, {2, 1, 0}},
        {{2, 3, 4, 5}, {3, 1, 0, 2}}, {{6}, {0}},
        {{33, 2, 40}, {2, 1, 0}},
    };
    for (const Case &c : cases) {
        const Tensor x = random_tensor(c.shape, rng);
        NodeDesc node = make_node("Transpose");
        std::vector<int64_t> perm = c.perm;
        if (perm.empty()) {
            for (size_t i = c.shape.size(); i-- > 0;) perm.push_back(static_cast<int64_t>(i));
        } else {
            set_ints(&node, "perm", c.perm);
        }
        Shape ys;
        const std::vector<double> want = ref_transpose(x, perm, &ys);
        expect_near_all(run1(node, {&x}, ys), want, 0, 0, "Transpose " + shape_str(c.shape));
    }
}

// --- SGDUpdate --------------------------------------------------------------

TEST_F(KernelsForward, SgdUpdateInPlace) {
    Tensor var = random_tensor({3, 4}, rng);
    const Tensor grad = random_tensor({3, 4}, rng);
    const Tensor before = var;
    NodeDesc node = make_node("SGDUpdate");
    set_float(&node, "lr", 0.05);
    ASSERT_TRUE(run_kernel(node, {&var, &grad}, {}).ok());
    for (size_t i = 0; i < var.size(); ++i) {
        EXPECT_FLOAT_EQ(var.data[i], before.data[i] - 0.05f * grad.data[i]);
    }
}

} // namespace
} // namespace salus::test
