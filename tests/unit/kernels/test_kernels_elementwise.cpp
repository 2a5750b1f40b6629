// The elementwise family: the validator refuses malformed uses naming the
// node; the CPU kernels against double-precision references written here
// (not the shared formulas), their gradients against central differences
// of those references; dtype edge cases; the plans refusing what the
// kernels cannot run. (The CUDA device code is checked against these CPU
// kernels on every case of elementwise_cases.h by the cuda_device_code test.)
#include "exec/cuda/elementwise_plans.h"
#include "graph/validate.h"
#include "kernel_test_util.h"

#include "../graph/graph_helpers.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace salus::test {
namespace {

AttrValue string_attr(const std::string &s) {
    AttrValue a;
    a.type = AttrValue::Type::String;
    a.s = s;
    return a;
}

// --- validation ------------------------------------------------------------------

struct Misuse {
    const char *name;
    std::function<void(GraphBuilder &)> build;
    std::string expected;
};

uint32_t typed(GraphBuilder &b, const char *name, Shape s, DType d) {
    return b.tensor(name, TensorKind::Input, std::move(s), true, d);
}

TEST(ElementwiseValidation, MisusesAreRefusedNamingTheNode) {
    const std::vector<Misuse> cases = {
        {"BinaryShapes",
         [](GraphBuilder &b) {
             b.output(b.op("Div", {b.input("a", {2, 3}), b.input("b", {4})}, {}, "d"));
         },
         "node 0 \"d\" (Div): Div inputs do not broadcast: A [2, 3], B [4]"},
        {"PowOfIntegers",
         [](GraphBuilder &b) {
             const uint32_t i = typed(b, "i", {2}, DType::I32);
             b.output(b.op("Pow", {i, i}, {}, "p"));
         },
         "node 0 \"p\" (Pow): dtype i32 is not supported by Pow"},
        {"ArithmeticOfMixedDtypes",
         [](GraphBuilder &b) {
             b.output(b.op("Add", {typed(b, "i", {2}, DType::I32), typed(b, "j", {2}, DType::I64)},
                           {}, "s"));
         },
         "node 0 \"s\" (Add): Add needs A and B of one dtype, got A i32 and B i64"},
        {"ExpOfDoubles",
         [](GraphBuilder &b) { b.output(b.op("Exp", {typed(b, "d", {2}, DType::F64)}, {}, "e")); },
         "node 0 \"e\" (Exp): dtype f64 is not supported by Exp"},
        {"ArithmeticOfBools",
         [](GraphBuilder &b) {
             const uint32_t c = typed(b, "c", {2}, DType::Bool);
             b.output(b.op("Mul", {c, c}, {}, "m"));
         },
         "node 0 \"m\" (Mul): dtype bool is not supported by Mul"},
        {"CompareMixedDtypes",
         [](GraphBuilder &b) {
             b.output(b.op("Less", {b.input("a", {2}), typed(b, "i", {2}, DType::I64)}, {}, "lt"));
         },
         "node 0 \"lt\" (Less): Less compares inputs of one dtype, got A f32 and B i64"},
        {"CompareBools",
         [](GraphBuilder &b) {
             const uint32_t c = typed(b, "c", {2}, DType::Bool);
             b.output(b.op("Equal", {c, c}, {}, "eq"));
         },
         "node 0 \"eq\" (Equal): dtype bool is not supported by Equal"},
        {"LogicOnFloats",
         [](GraphBuilder &b) {
             b.output(b.op("And", {b.input("a", {2}), typed(b, "c", {2}, DType::Bool)}, {}, "and"));
         },
         "node 0 \"and\" (And): dtype f32 is not supported by And"},
        {"WhereConditionNotBool",
         [](GraphBuilder &b) {
             const uint32_t x = b.input("x", {2});
             b.output(b.op("Where", {x, x, x}, {}, "w"));
         },
         "node 0 \"w\" (Where): dtype f32 is not supported by Where (input 0 condition"},
        {"WhereMixedDtypes",
         [](GraphBuilder &b) {
             b.output(b.op("Where",
                           {typed(b, "c", {2}, DType::Bool), b.input("x", {2}),
                            typed(b, "y", {2}, DType::I32)},
                           {}, "w"));
         },
         "node 0 \"w\" (Where): Where needs X and Y of one dtype, got X f32 and Y i32"},
        {"WhereShapes",
         [](GraphBuilder &b) {
             b.output(
                 b.op("Where",
                      {typed(b, "c", {3}, DType::Bool), b.input("x", {2, 1}), b.input("y", {2})},
                      {}, "w"));
         },
         "node 0 \"w\" (Where): Where inputs do not broadcast: condition [3], X [2, 1], Y [2]"},
        {"ClipMinNotScalar",
         [](GraphBuilder &b) {
             b.output(b.op("Clip", {b.input("x", {2, 3}), b.input("lo", {3})}, {}, "c"));
         },
         "node 0 \"c\" (Clip): Clip min must be a scalar ([] or [1]), got [3]"},
        {"ClipMaxNotScalar",
         [](GraphBuilder &b) {
             b.output(b.op("Clip", {b.input("x", {2}), b.input("lo", {}), b.input("hi", {1, 2})},
                           {}, "c"));
         },
         "node 0 \"c\" (Clip): Clip max must be a scalar ([] or [1]), got [1, 2]"},
        {"ClipGradShapes",
         [](GraphBuilder &b) {
             b.output(b.op("ClipGrad", {b.input("dy", {2}), b.input("x", {3})}, {}, "cg"));
         },
         "node 0 \"cg\" (ClipGrad): ClipGrad needs dY and X of the same shape"},
        {"CastWithoutTo",
         [](GraphBuilder &b) { b.output(b.op("Cast", {b.input("x", {2})}, {}, "k")); },
         "node 0 \"k\" (Cast)"},
        {"CastToHalf",
         [](GraphBuilder &b) {
             b.output(b.op("Cast", {b.input("x", {2})}, {{"to", string_attr("f16")}}, "k"));
         },
         "node 0 \"k\" (Cast): Cast attribute \"to\" must be one of f32, i32, i64, bool, f64; got "
         "\"f16\""},
        {"GeluBadApproximation",
         [](GraphBuilder &b) {
             b.output(
                 b.op("Gelu", {b.input("x", {2})}, {{"approximate", string_attr("erf")}}, "g"));
         },
         "node 0 \"g\" (Gelu): Gelu attribute \"approximate\" must be \"none\" or \"tanh\", got "
         "\"erf\""},
        {"LeakyReluIntAlpha",
         [](GraphBuilder &b) {
             b.output(b.op("LeakyRelu", {b.input("x", {2})}, {{"alpha", int_attr(1)}}, "lr"));
         },
         "node 0 \"lr\" (LeakyRelu)"},
        {"EluUnknownAttribute",
         [](GraphBuilder &b) {
             b.output(b.op("Elu", {b.input("x", {2})}, {{"beta", float_attr(1)}}, "e"));
         },
         "node 0 \"e\" (Elu): unknown attribute \"beta\" for Elu"},
        {"PReluSlopeDoesNotBroadcast",
         [](GraphBuilder &b) {
             b.output(b.op("PRelu", {b.input("x", {2, 3, 4}), b.input("s", {3})}, {}, "p"));
         },
         "node 0 \"p\" (PRelu): PRelu slope [3] does not broadcast to X [2, 3, 4]"},
        {"PReluSlopeWiderThanX",
         [](GraphBuilder &b) {
             b.output(b.op("PRelu", {b.input("x", {1, 4}), b.input("s", {3, 4})}, {}, "p"));
         },
         "node 0 \"p\" (PRelu): PRelu slope [3, 4] does not broadcast to X [1, 4]"},
        {"PReluGradShapes",
         [](GraphBuilder &b) {
             const uint32_t dx = b.intermediate("dx"), ds = b.intermediate("ds");
             b.node("PReluGrad", {b.input("dy", {2, 3}), b.input("x", {2, 4}), b.input("s", {1})},
                    {dx, ds}, {}, "pg");
             b.output(dx);
         },
         "node 0 \"pg\" (PReluGrad): PReluGrad needs dY and X of the same shape"},
        {"ActivationGradShapes",
         [](GraphBuilder &b) {
             b.output(b.op("SiluGrad", {b.input("dy", {2}), b.input("x", {2, 1})}, {}, "sg"));
         },
         "node 0 \"sg\" (SiluGrad): SiluGrad needs dY and X of the same shape"},
        {"UnaryTooManyInputs",
         [](GraphBuilder &b) {
             const uint32_t x = b.input("x", {2});
             b.output(b.op("Exp", {x, x}, {}, "e"));
         },
         "node 0 \"e\" (Exp)"},
    };
    for (const Misuse &m : cases) {
        SCOPED_TRACE(m.name);
        GraphBuilder b;
        m.build(b);
        std::vector<uint32_t> order;
        const Status st = validate_graph(&b.graph(), &order, ValidationLimits{});
        EXPECT_EQ(st.code(), SALUS_EGRAPH);
        EXPECT_NE(st.message().find(m.expected), std::string::npos) << st.message();
    }
}

TEST(ElementwiseValidation, ComparisonsGiveBoolAndCastGivesItsTarget) {
    GraphBuilder b;
    const uint32_t i = typed(b, "i", {2, 1}, DType::I64);
    const uint32_t lt = b.op("Less", {i, typed(b, "j", {3}, DType::I64)}, {}, "lt");
    const uint32_t k = b.op("Cast", {lt}, {{"to", string_attr("i32")}}, "k");
    const uint32_t w = b.op("Where", {lt, k, typed(b, "z", {}, DType::I32)}, {}, "w");
    b.output(w);
    std::vector<uint32_t> order;
    const Status st = validate_graph(&b.graph(), &order, ValidationLimits{});
    ASSERT_TRUE(st.ok()) << st.message();
    EXPECT_EQ(b.graph().tensors[lt].dtype, DType::Bool);
    EXPECT_EQ(b.graph().tensors[lt].shape, (Shape{2, 3}));
    EXPECT_EQ(b.graph().tensors[k].dtype, DType::I32);
    EXPECT_EQ(b.graph().tensors[w].dtype, DType::I32);
}

// --- f32 kernels against double references -----------------------------------------

constexpr double kPi = 3.14159265358979323846;

double sigmoid(double x) {
    return 1.0 / (1.0 + std::exp(-x));
}

struct Reference {
    const char *op;
    std::function<double(double)> f;
    Attrs attrs;
    double lo = -5.0, hi = 5.0;
    bool has_grad = false;
};

std::vector<Reference> references() {
    const double selu_a = 1.6732632423543772, selu_g = 1.0507009873554805;
    auto gelu_tanh = [](double x) {
        return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / kPi) * (x + 0.044715 * x * x * x)));
    };
    return {
        {"Neg", [](double x) { return -x; }, {}},
        {"Abs", [](double x) { return std::fabs(x); }, {}},
        {"Sign", [](double x) { return x > 0   ? 1.0
                                       : x < 0 ? -1.0
                                               : 0.0; }, {}},
        {"Exp", [](double x) { return std::exp(x); }, {}},
        {"Log", [](double x) { return std::log(x); }, {}, 0.01, 5.0},
        {"Sqrt", [](double x) { return std::sqrt(x); }, {}, 0.0, 5.0},
        {"Reciprocal", [](double x) { return 1.0 / x; }, {}, 0.05, 5.0},
        {"Rsqrt", [](double x) { return 1.0 / std::sqrt(x); }, {}, 0.05, 5.0},
        {"Erf", [](double x) { return std::erf(x); }, {}},
        {"Sin", [](double x) { return std::sin(x); }, {}},
        {"Cos", [](double x) { return std::cos(x); }, {}},
        {"LeakyRelu", [](double x) { return x > 0 ? x : 0.01 * x; }, {}, -5, 5, true},
        {"LeakyRelu",
         [](double x) { return x > 0 ? x : 0.3 * x; },
         {{"alpha", float_attr(0.3)}},
         -5,
         5,
         true},
        {"Elu", [](double x) { return x > 0 ? x : std::expm1(x); }, {}, -5, 5, true},
        {"Elu",
         [](double x) { return x > 0 ? x : 2.0 * std::expm1(x); },
         {{"alpha", float_attr(2.0)}},
         -5,
         5,
         true},
        {"Selu",
         [=](double x) { return selu_g * (x > 0 ? x : selu_a * std::expm1(x)); },
         {},
         -5,
         5,
         true},
        {"Softplus", [](double x) { return std::log1p(std::exp(x)); }, {}, -15, 15, true},
        {"Gelu",
         [](double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); },
         {},
         -5,
         5,
         true},
        {"Gelu", gelu_tanh, {{"approximate", string_attr("tanh")}}, -5, 5, true},
        {"Silu", [](double x) { return x * sigmoid(x); }, {}, -10, 10, true},
        {"HardSigmoid",
         [](double x) { return std::fmax(0.0, std::fmin(1.0, 0.2 * x + 0.5)); },
         {},
         -5,
         5,
         true},
        {"HardSigmoid",
         [](double x) { return std::fmax(0.0, std::fmin(1.0, x / 6 + 0.5)); },
         {{"alpha", float_attr(1.0 / 6.0)}, {"beta", float_attr(0.5)}},
         -5,
         5,
         true},
        {"HardSwish",
         [](double x) { return x * std::fmax(0.0, std::fmin(6.0, x + 3)) / 6; },
         {},
         -5,
         5,
         true},
    };
}

// Values in [lo, hi) at least 0.01 from the activations' kinks (0, ±2.5, ±3).
Tensor away_from_kinks(const Shape &shape, double lo, double hi, std::mt19937 &rng) {
    Tensor t(shape);
    std::uniform_real_distribution<double> dist(lo, hi);
    for (float &v : t.data) {
        double x;
        do {
            x = dist(rng);
        } while (std::fabs(x) < 0.01 || std::fabs(std::fabs(x) - 2.5) < 0.01 ||
                 std::fabs(std::fabs(x) - 3.0) < 0.01);
        v = static_cast<float>(x);
    }
    return t;
}

TEST(ElementwiseKernels, ForwardMatchesDoubleReferences) {
    std::mt19937 rng(11);
    for (const Reference &r : references()) {
        for (const Shape &s : std::vector<Shape>{{7, 9}, {}, {1}, {0, 3}}) {
            NodeDesc node = make_node(r.op);
            node.attrs = r.attrs;
            const Tensor x = away_from_kinks(s, r.lo, r.hi, rng);
            const Tensor y = run1(node, {&x}, s);
            std::vector<double> want;
            for (float v : x.data) want.push_back(r.f(v));
            expect_near_all(y, want, 2e-6, 1e-6, std::string(r.op) + " " + shape_str(s));
        }
    }
}

// dX = dY · f'(X), f' by central differences of the double reference.
TEST(ElementwiseKernels, GradOpsMatchDifferencesOfTheReference) {
    std::mt19937 rng(12);
    const double h = 1e-5;
    for (const Reference &r : references()) {
        if (!r.has_grad) continue;
        NodeDesc node = make_node(std::string(r.op) + "Grad");
        node.attrs = r.attrs;
        const Tensor x = away_from_kinks({5, 8}, r.lo, r.hi, rng);
        const Tensor dy = random_tensor({5, 8}, rng);
        const Tensor dx = run1(node, {&dy, &x}, {5, 8});
        std::vector<double> want;
        for (size_t i = 0; i < x.size(); ++i) {
            const double v = x.data[i];
            want.push_back(dy.data[i] * (r.f(v + h) - r.f(v - h)) / (2 * h));
        }
        expect_near_all(dx, want, 1e-5, 1e-5, node.op);
    }
}

TEST(ElementwiseKernels, BinaryOpsBroadcastAgainstReferences) {
    std::mt19937 rng(13);
    struct Op {
        const char *name;
        double (*f)(double, double);
    };
    const Op ops[] = {{"Div", [](double a, double b) { return a / b; }},
                      {"Pow", [](double a, double b) { return std::pow(a, b); }},
                      {"Max", [](double a, double b) { return std::fmax(a, b); }},
                      {"Min", [](double a, double b) { return std::fmin(a, b); }},
                      {"PRelu", [](double a, double b) { return a < 0 ? a * b : a; }}};
    for (const Op &op : ops) {
        for (const auto &[sa, sb] : std::vector<std::pair<Shape, Shape>>{
                 {{3, 4}, {3, 4}}, {{2, 3, 4}, {3, 1}}, {{5}, {}}, {{4, 1, 2}, {1, 3, 1}}}) {
            if (std::string(op.name) == "PRelu" && broadcast_shape(sa, sb) != sa) continue;
            const Tensor a = random_tensor(sa, rng, 0.1f, 3.0f);
            const Tensor b = random_tensor(sb, rng, -2.0f, 2.0f);
            const Shape ys = broadcast_shape(sa, sb);
            const Tensor y = run1(make_node(op.name), {&a, &b}, ys);
            std::vector<double> want;
            for (int64_t i = 0; i < num_elements(ys); ++i) {
                const std::vector<int64_t> idx = unravel(i, ys);
                want.push_back(
                    op.f(a.data[broadcast_offset(idx, sa)], b.data[broadcast_offset(idx, sb)]));
            }
            expect_near_all(y, want, 2e-6, 1e-7, op.name);
        }
    }
}

TEST(ElementwiseKernels, ClipBoundsAsTorchClamp) {
    const Tensor x({6}, {-3.0f, -0.5f, 0.0f, 0.5f, 3.0f, NAN});
    const Tensor lo({}, {-1.0f}), hi({1}, {0.25f}), inverted({}, {-2.0f});
    const Tensor both = run1(make_node("Clip"), {&x, &lo, &hi}, {6});
    const Tensor only_lo = run1(make_node("Clip"), {&x, &lo}, {6});
    const Tensor none = run1(make_node("Clip"), {&x}, {6});
    const Tensor lo_over_hi = run1(make_node("Clip"), {&x, &hi, &inverted}, {6});
    const float want_both[] = {-1.0f, -0.5f, 0.0f, 0.25f, 0.25f};
    const float want_lo[] = {-1.0f, -0.5f, 0.0f, 0.5f, 3.0f};
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(both.data[i], want_both[i]) << i;
        EXPECT_EQ(only_lo.data[i], want_lo[i]) << i;
        EXPECT_EQ(none.data[i], x.data[i]) << i;
        EXPECT_EQ(lo_over_hi.data[i], -2.0f) << i; // min > max gives max
    }
    EXPECT_TRUE(std::isnan(both.data[5]));
    const Tensor dy({6}, {1, 2, 3, 4, 5, 6});
    const Tensor dx = run1(make_node("ClipGrad"), {&dy, &x, &lo, &hi}, {6});
    const float want_dx[] = {0, 2, 3, 0, 0, 0}; // the bounds themselves pass (lo <= x <= hi)
    for (int i = 0; i < 6; ++i) EXPECT_EQ(dx.data[i], want_dx[i]) << i;
}

TEST(ElementwiseKernels, PReluGradSumsTheSlopeOverItsBroadcast) {
    std::mt19937 rng(14);
    for (const auto &[xs, ss] : std::vector<std::pair<Shape, Shape>>{
             {{2, 3, 4}, {3, 1}}, {{2, 3, 4}, {}}, {{2, 3, 4}, {2, 3, 4}}, {{5, 6}, {1, 6}}}) {
        const Tensor x = random_tensor(xs, rng), dy = random_tensor(xs, rng);
        const Tensor slope = random_tensor(ss, rng);
        Tensor dx(xs), ds(ss);
        ASSERT_TRUE(run_kernel(make_node("PReluGrad"), {&dy, &x, &slope}, {&dx, &ds}).ok());
        std::vector<double> want_dx, want_ds(ds.size(), 0.0);
        for (int64_t i = 0; i < num_elements(xs); ++i) {
            const int64_t s = broadcast_offset(unravel(i, xs), ss);
            want_dx.push_back(x.data[i] < 0 ? dy.data[i] * slope.data[s] : dy.data[i]);
            if (x.data[i] < 0) want_ds[s] += static_cast<double>(dy.data[i]) * x.data[i];
        }
        expect_near_all(dx, want_dx, 0, 0, "dX " + shape_str(ss));
        expect_near_all(ds, want_ds, 1e-6, 1e-6, "dSlope " + shape_str(ss));
    }
}

// --- other dtypes, over raw bytes ---------------------------------------------------

struct Raw {
    DType dtype;
    Shape shape;
    std::vector<uint8_t> bytes;

    Raw(DType d, Shape s)
        : dtype(d), shape(std::move(s)),
          bytes(static_cast<size_t>(num_elements(shape)) * dtype_size(d), 0xAB) {}
    template <typename T>
    Raw(DType d, Shape s, const std::vector<T> &values) : Raw(d, std::move(s)) {
        EXPECT_EQ(values.size() * sizeof(T), bytes.size());
        std::memcpy(bytes.data(), values.data(), bytes.size());
    }
    TensorView view() { return TensorView{bytes.data(), dtype, shape}; }
    template <typename T>
    T at(size_t i) const {
        T v;
        std::memcpy(&v, bytes.data() + i * sizeof(T), sizeof(T));
        return v;
    }
};

Status run_raw(const std::string &op, const Attrs &attrs, std::vector<Raw *> in,
               std::vector<Raw *> out) {
    NodeDesc node = make_node(op);
    node.attrs = attrs;
    SALUS_RETURN_IF_ERROR(canonicalize_attrs(*find_op(op), &node));
    KernelContext ctx;
    ctx.node = &node;
    for (Raw *r : in) ctx.inputs.push_back(r->view());
    for (Raw *r : out) ctx.outputs.push_back(r->view());
    return run_cpu_kernel(ctx);
}

TEST(ElementwiseKernels, CastTruncatesTowardZeroAndBoolIsNonZero) {
    Raw x(DType::F32, {6}, std::vector<float>{-2.7f, -0.5f, 0.0f, 0.5f, 2.7f, 3e9f});
    Raw i32(DType::I32, {6}), i64(DType::I64, {6}), b(DType::Bool, {6}), back(DType::F32, {6});
    ASSERT_TRUE(run_raw("Cast", {{"to", string_attr("i32")}}, {&x}, {&i32}).ok());
    ASSERT_TRUE(run_raw("Cast", {{"to", string_attr("i64")}}, {&x}, {&i64}).ok());
    ASSERT_TRUE(run_raw("Cast", {{"to", string_attr("bool")}}, {&x}, {&b}).ok());
    ASSERT_TRUE(run_raw("Cast", {{"to", string_attr("f32")}}, {&b}, {&back}).ok());
    const int32_t want32[] = {-2, 0, 0, 0, 2};
    const uint8_t want_b[] = {1, 1, 0, 1, 1, 1};
    for (size_t i = 0; i < 5; ++i) EXPECT_EQ(i32.at<int32_t>(i), want32[i]) << i;
    EXPECT_EQ(i64.at<int64_t>(5), 3000000000LL); // fits i64, not i32
    for (size_t i = 0; i < 6; ++i) {
        EXPECT_EQ(b.bytes[i], want_b[i]) << i;
        EXPECT_EQ(back.at<float>(i), static_cast<float>(want_b[i])) << i;
    }
}

TEST(ElementwiseKernels, ComparisonsOfEachDtypeAndNan) {
    Raw a(DType::I64, {2, 2}, std::vector<int64_t>{1, 5, -3, 4000000000LL});
    Raw c(DType::I64, {2}, std::vector<int64_t>{1, 4000000000LL});
    Raw y(DType::Bool, {2, 2});
    ASSERT_TRUE(run_raw("Equal", {}, {&a, &c}, {&y}).ok());
    EXPECT_EQ(y.bytes, (std::vector<uint8_t>{1, 0, 0, 1}));
    ASSERT_TRUE(run_raw("GreaterOrEqual", {}, {&a, &c}, {&y}).ok());
    EXPECT_EQ(y.bytes, (std::vector<uint8_t>{1, 0, 0, 1}));
    Raw f(DType::F32, {3}, std::vector<float>{NAN, 1.0f, 2.0f});
    Raw g(DType::F32, {3}, std::vector<float>{NAN, NAN, 2.0f});
    Raw z(DType::Bool, {3});
    for (const char *op : {"Equal", "Less", "Greater"}) {
        ASSERT_TRUE(run_raw(op, {}, {&f, &g}, {&z}).ok());
        EXPECT_EQ(z.bytes[0], 0) << op << ": NaN compares false";
        EXPECT_EQ(z.bytes[1], 0) << op;
    }
    ASSERT_TRUE(run_raw("LessOrEqual", {}, {&f, &g}, {&z}).ok());
    EXPECT_EQ(z.bytes[2], 1);
}

TEST(ElementwiseKernels, LogicAndWhereOverBytes) {
    Raw p(DType::Bool, {2, 2}, std::vector<uint8_t>{0, 1, 0, 1});
    Raw q(DType::Bool, {2, 1}, std::vector<uint8_t>{0, 1});
    Raw y(DType::Bool, {2, 2});
    ASSERT_TRUE(run_raw("Xor", {}, {&p, &q}, {&y}).ok());
    EXPECT_EQ(y.bytes, (std::vector<uint8_t>{0, 1, 1, 0}));
    ASSERT_TRUE(run_raw("Or", {}, {&p, &q}, {&y}).ok());
    EXPECT_EQ(y.bytes, (std::vector<uint8_t>{0, 1, 1, 1}));
    ASSERT_TRUE(run_raw("And", {}, {&p, &q}, {&y}).ok());
    EXPECT_EQ(y.bytes, (std::vector<uint8_t>{0, 0, 0, 1}));
    ASSERT_TRUE(run_raw("Not", {}, {&p}, {&y}).ok());
    EXPECT_EQ(y.bytes, (std::vector<uint8_t>{1, 0, 1, 0}));
    Raw x(DType::I64, {2}, std::vector<int64_t>{10, 20});
    Raw v(DType::I64, {2, 1}, std::vector<int64_t>{-1, -2});
    Raw w(DType::I64, {2, 2});
    ASSERT_TRUE(run_raw("Where", {}, {&p, &x, &v}, {&w}).ok());
    EXPECT_EQ(w.at<int64_t>(0), -1);
    EXPECT_EQ(w.at<int64_t>(1), 20);
    EXPECT_EQ(w.at<int64_t>(2), -2);
    EXPECT_EQ(w.at<int64_t>(3), 20);
}

TEST(ElementwiseValidation, ArithmeticKeepsItsDtype) {
    for (DType d : {DType::I32, DType::I64, DType::F64}) {
        GraphBuilder b;
        const uint32_t y = b.op("Div", {typed(b, "a", {2, 1}, d), typed(b, "b", {3}, d)}, {}, "q");
        const uint32_t k = b.op("Cast", {y}, {{"to", string_attr("f64")}}, "k");
        b.output(k);
        std::vector<uint32_t> order;
        const Status st = validate_graph(&b.graph(), &order, ValidationLimits{});
        ASSERT_TRUE(st.ok()) << st.message();
        EXPECT_EQ(b.graph().tensors[y].dtype, d);
        EXPECT_EQ(b.graph().tensors[y].shape, (Shape{2, 3}));
        EXPECT_EQ(b.graph().tensors[k].dtype, DType::F64);
    }
}

// ONNX's integer Div truncates toward zero (C's, torch's rounding_mode
// "trunc"); x/0 and MIN/-1, which trap x86's idiv, give 0 and MIN.
TEST(ElementwiseKernels, IntegerDivTruncatesAndNeverTraps) {
    const int32_t lo = INT32_MIN;
    Raw a(DType::I32, {7}, std::vector<int32_t>{7, -7, 7, -7, 5, lo, lo});
    Raw b(DType::I32, {7}, std::vector<int32_t>{2, 2, -2, -2, 0, -1, 1});
    Raw y(DType::I32, {7});
    ASSERT_TRUE(run_raw("Div", {}, {&a, &b}, {&y}).ok());
    const int32_t want[] = {3, -3, -3, 3, 0, lo, lo};
    for (size_t i = 0; i < 7; ++i) EXPECT_EQ(y.at<int32_t>(i), want[i]) << i;
    const int64_t lo64 = INT64_MIN;
    Raw p(DType::I64, {3}, std::vector<int64_t>{lo64, 9000000000LL, -9});
    Raw q(DType::I64, {3}, std::vector<int64_t>{-1, 0, 4});
    Raw z(DType::I64, {3});
    ASSERT_TRUE(run_raw("Div", {}, {&p, &q}, {&z}).ok());
    EXPECT_EQ(z.at<int64_t>(0), lo64);
    EXPECT_EQ(z.at<int64_t>(1), 0);
    EXPECT_EQ(z.at<int64_t>(2), -2);
}

// Integers wrap around as numpy and torch (two's complement), broadcast.
TEST(ElementwiseKernels, IntegerArithmeticWrapsAndBroadcasts) {
    Raw a(DType::I32, {2, 1}, std::vector<int32_t>{INT32_MAX, -3});
    Raw b(DType::I32, {3}, std::vector<int32_t>{1, 2, -4});
    Raw y(DType::I32, {2, 3});
    ASSERT_TRUE(run_raw("Add", {}, {&a, &b}, {&y}).ok());
    const int32_t sum[] = {INT32_MIN, INT32_MIN + 1, INT32_MAX - 4, -2, -1, -7};
    for (size_t i = 0; i < 6; ++i) EXPECT_EQ(y.at<int32_t>(i), sum[i]) << i;
    ASSERT_TRUE(run_raw("Mul", {}, {&a, &b}, {&y}).ok());
    const int32_t prod[] = {INT32_MAX, -2, 4, -3, -6, 12}; // MAX * 2 wraps to -2
    for (size_t i = 0; i < 6; ++i) EXPECT_EQ(y.at<int32_t>(i), prod[i]) << i;
    Raw c(DType::I64, {2, 2}, std::vector<int64_t>{5000000000LL, 0, -1, 7});
    Raw d(DType::I64, {2}, std::vector<int64_t>{1, 8});
    Raw z(DType::I64, {2, 2});
    ASSERT_TRUE(run_raw("Sub", {}, {&c, &d}, {&z}).ok());
    const int64_t diff[] = {4999999999LL, -8, -2, -1};
    for (size_t i = 0; i < 4; ++i) EXPECT_EQ(z.at<int64_t>(i), diff[i]) << i;
}

// f64 keeps what f32 cannot: 1e198, and 1 + 1e-12.
TEST(ElementwiseKernels, DoubleArithmeticBeyondFloat) {
    Raw a(DType::F64, {2, 2}, std::vector<double>{1e198, -3e197, 1.0, 2.0});
    Raw b(DType::F64, {2}, std::vector<double>{2e197, 1e-12});
    Raw y(DType::F64, {2, 2});
    ASSERT_TRUE(run_raw("Add", {}, {&a, &b}, {&y}).ok());
    EXPECT_EQ(y.at<double>(0), 1e198 + 2e197);
    EXPECT_EQ(y.at<double>(1), -3e197 + 1e-12);
    EXPECT_EQ(y.at<double>(2), 1.0 + 2e197);
    EXPECT_EQ(y.at<double>(3), 2.0 + 1e-12);
    ASSERT_TRUE(run_raw("Div", {}, {&a, &b}, {&y}).ok());
    EXPECT_EQ(y.at<double>(0), 1e198 / 2e197);
    EXPECT_EQ(y.at<double>(3), 2.0 / 1e-12);
    ASSERT_TRUE(run_raw("Mul", {}, {&a, &a}, {&y}).ok());
    EXPECT_TRUE(std::isinf(y.at<double>(0))); // IEEE: beyond double too
    Raw narrow(DType::F32, {2, 2});
    ASSERT_TRUE(run_raw("Cast", {{"to", string_attr("f32")}}, {&a}, {&narrow}).ok());
    EXPECT_TRUE(std::isinf(narrow.at<float>(0)));
    EXPECT_EQ(narrow.at<float>(3), 2.0f);
    Raw wide(DType::F64, {2, 2});
    ASSERT_TRUE(run_raw("Cast", {{"to", string_attr("f64")}}, {&narrow}, {&wide}).ok());
    EXPECT_EQ(wide.at<double>(2), 1.0);
    Raw t(DType::F64, {2}, std::vector<double>{-2.7, 3e9});
    Raw i(DType::I64, {2});
    ASSERT_TRUE(run_raw("Cast", {{"to", string_attr("i64")}}, {&t}, {&i}).ok());
    EXPECT_EQ(i.at<int64_t>(0), -2);
    EXPECT_EQ(i.at<int64_t>(1), 3000000000LL);
    Raw eq(DType::Bool, {2, 2});
    ASSERT_TRUE(run_raw("Less", {}, {&a, &b}, {&eq}).ok());
    EXPECT_EQ(eq.bytes, (std::vector<uint8_t>{0, 1, 1, 0}));
}

// The kernels check what the validator normally guarantees: a direct call
// with the wrong dtypes or shapes is an exec error, never garbage.
TEST(ElementwiseKernels, MisfedKernelsAreExecErrors) {
    Raw f(DType::F32, {2}), i(DType::I32, {2}), b(DType::Bool, {2}), h(DType::F16, {2});
    Raw f3(DType::F32, {3}), y(DType::F32, {2}), yb(DType::Bool, {2});
    EXPECT_EQ(run_raw("Where", {}, {&b, &f, &i}, {&y}).code(), SALUS_EEXEC);
    EXPECT_EQ(run_raw("Less", {}, {&f, &i}, {&yb}).code(), SALUS_EEXEC);
    EXPECT_EQ(run_raw("Less", {}, {&f, &f}, {&y}).code(), SALUS_EEXEC); // output not bool
    EXPECT_EQ(run_raw("And", {}, {&f, &b}, {&yb}).code(), SALUS_EEXEC);
    EXPECT_EQ(run_raw("Cast", {{"to", string_attr("f32")}}, {&h}, {&y}).code(), SALUS_EEXEC);
    EXPECT_EQ(run_raw("Clip", {}, {&f, &f}, {&y}).code(), SALUS_EEXEC); // min of 2 elements
    EXPECT_EQ(run_raw("Exp", {}, {&f3}, {&y}).code(), SALUS_EEXEC);
    EXPECT_EQ(run_raw("Div", {}, {&f3, &f}, {&y}).code(), SALUS_EEXEC);
    Raw i64(DType::I64, {2}), yi(DType::I32, {2});
    EXPECT_EQ(run_raw("Add", {}, {&i, &i64}, {&yi}).code(), SALUS_EEXEC); // mixed dtypes
    EXPECT_EQ(run_raw("Pow", {}, {&i, &i}, {&yi}).code(), SALUS_EEXEC);   // f32 only
    EXPECT_EQ(run_raw("Add", {}, {&b, &b}, {&yb}).code(), SALUS_EEXEC);   // no bool arithmetic
    const Status st = run_raw("Exp", {}, {&i}, {&y});
    EXPECT_NE(st.message().find("Exp"), std::string::npos) << st.message();
}

// The op lists of elementwise_device.h register kernels by name: each name
// must be an op of the schema (a typo would register a kernel nothing uses).
TEST(ElementwiseKernels, EveryListedKernelIsASchemaOp) {
    std::vector<std::string> names;
#define SALUS_NAME(Op, formula) names.push_back(#Op);
#define SALUS_GRAD_NAME(Op, formula) names.push_back(#Op "Grad");
    SALUS_EW_UNARY_OPS(SALUS_NAME)
    SALUS_EW_GRAD_OPS(SALUS_GRAD_NAME)
    SALUS_EW_BINARY_OPS(SALUS_NAME)
    SALUS_EW_COMPARE_OPS(SALUS_NAME)
    SALUS_EW_LOGIC_OPS(SALUS_NAME)
#undef SALUS_NAME
#undef SALUS_GRAD_NAME
    EXPECT_GE(names.size(), 50u);
    for (const std::string &n : names) {
        EXPECT_NE(find_op(n), nullptr) << n;
        EXPECT_NE(cpu_kernel(n), nullptr) << n;
    }
}

} // namespace
} // namespace salus::test
