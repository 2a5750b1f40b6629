// The elementwise family's rows of the kernel case catalogue (kernel_cases.h):
// every op of ops/elementwise.cpp on several shapes, broadcasts, dtypes and
// attribute values.
#pragma once

#include "kernel_cases.h"

#include <string>
#include <vector>

namespace salus::test {

// The elementwise ops whose CUDA results may differ from the CPU's by a few
// ulp: CUDA's math library against glibc's, and a*b+c fused on the GPU.
// The others are the same float operations on both, bit for bit.
inline bool elementwise_inexact_on_gpu(const std::string &op) {
    for (const char *name : {"Exp", "Log", "Erf", "Sin", "Cos", "Pow", "Elu", "EluGrad", "Selu",
                             "SeluGrad", "Softplus", "SoftplusGrad", "Gelu", "GeluGrad", "Silu",
                             "SiluGrad", "HardSigmoid", "HardSigmoidGrad"}) {
        if (op == name) return true;
    }
    return false;
}

inline void add_elementwise_cases(std::vector<KernelCase> *cases) {
    const std::vector<std::pair<Shape, Shape>> broadcasts = {
        {{3, 4}, {3, 4}},     {{7}, {5, 7}},    {{3, 1, 4}, {1, 4}}, {{2, 3}, {}},
        {{}, {2, 3}},         {{1, 5}, {4, 1}}, {{6, 1}, {1, 6}},    {{2, 1, 4, 1}, {3, 1, 5}},
        {{64, 1000}, {1000}}, {{0, 3}, {3}},
    };
    for (const auto &[a, b] : broadcasts) {
        cases->push_back(make_case("Div", {a, b}, {Fill::Wide, Fill::Positive}));
        // The other numeric dtypes (Indices has zeros: integer x/0 is 0).
        for (const char *op : {"Add", "Sub", "Mul", "Div"}) {
            for (Fill f : {Fill::Indices, Fill::Int64, Fill::Double}) {
                cases->push_back(make_case(op, {a, b}, {f, f}));
            }
        }
        cases->push_back(make_case("Pow", {a, b}, {Fill::Positive, Fill::Wide}));
        cases->push_back(make_case("Pow", {a, b}, {Fill::Wide, Fill::Coarse})); // negative bases
        for (const char *op : {"Max", "Min"}) {
            cases->push_back(make_case(op, {a, b}, {Fill::Coarse, Fill::Coarse}));
        }
        for (const char *op : {"Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual"}) {
            cases->push_back(make_case(op, {a, b}, {Fill::Coarse, Fill::Coarse}));
            cases->push_back(make_case(op, {a, b}, {Fill::Indices, Fill::Indices}));
            cases->push_back(make_case(op, {a, b}, {Fill::Int64, Fill::Int64}));
            cases->push_back(make_case(op, {a, b}, {Fill::Double, Fill::Double}));
        }
        for (const char *op : {"And", "Or", "Xor"}) {
            cases->push_back(make_case(op, {a, b}, {Fill::Bool, Fill::Bool}));
        }
        const Shape &cond = b;
        for (Fill f : {Fill::Wide, Fill::Indices, Fill::Int64, Fill::Bool, Fill::Double}) {
            cases->push_back(make_case("Where", {cond, a, b}, {Fill::Bool, f, f}));
        }
    }
    cases->push_back(make_case("Where", {{2, 1, 3}, {4, 1}, {1}}, {Fill::Bool}));

    const std::vector<Shape> shapes = {{3, 5}, {}, {2, 3, 4, 5}, {0, 4}, {100003}};
    for (const Shape &s : shapes) {
        for (const char *op :
             {"Neg", "Abs", "Sign", "Exp", "Erf", "Sin", "Cos", "Softplus", "Silu", "HardSwish"}) {
            cases->push_back(make_case(op, {s}, {Fill::Wide}));
        }
        for (const char *op : {"Log", "Sqrt", "Reciprocal", "Rsqrt"}) {
            cases->push_back(make_case(op, {s}, {Fill::Positive}));
        }
        cases->push_back(make_case("Log", {s}, {Fill::Coarse})); // 0 and below: -inf, NaN
        cases->push_back(make_case("Sign", {s}, {Fill::Coarse}));
        for (const char *op :
             {"LeakyRelu", "Elu", "Selu", "Softplus", "Gelu", "Silu", "HardSigmoid", "HardSwish"}) {
            cases->push_back(make_case(op, {s}, {Fill::Wide}));
            cases->push_back(
                make_case(std::string(op) + "Grad", {s, s}, {Fill::Uniform, Fill::Wide}));
        }
        cases->push_back(with_float(make_case("LeakyRelu", {s}, {Fill::Wide}), "alpha", 0.2));
        cases->push_back(with_float(make_case("Elu", {s}, {Fill::Wide}), "alpha", 0.5));
        cases->push_back(with_float(make_case("EluGrad", {s, s}), "alpha", 0.5));
        cases->push_back(
            with_float(with_float(make_case("HardSigmoid", {s}, {Fill::Wide}), "alpha", 1.0 / 6.0),
                       "beta", 0.5));
        cases->push_back(with_float(
            make_case("HardSigmoidGrad", {s, s}, {Fill::Uniform, Fill::Wide}), "alpha", 1.0 / 6.0));
        cases->push_back(with_string(make_case("Gelu", {s}, {Fill::Wide}), "approximate", "tanh"));
        cases->push_back(with_string(make_case("GeluGrad", {s, s}, {Fill::Uniform, Fill::Wide}),
                                     "approximate", "tanh"));
        cases->push_back(make_case("Clip", {s}, {Fill::Wide}));
        cases->push_back(make_case("Clip", {s, {}}, {Fill::Wide, Fill::Uniform}));
        cases->push_back(make_case("Clip", {s, {}, {1}}, {Fill::Wide, Fill::Uniform, Fill::Wide}));
        cases->push_back(make_case("ClipGrad", {s, s, {}, {}},
                                   {Fill::Uniform, Fill::Coarse, Fill::Coarse, Fill::Coarse}));
        cases->push_back(make_case("ClipGrad", {s, s}));
        cases->push_back(make_case("Not", {s}, {Fill::Bool}));
        for (const char *to : {"f32", "i32", "i64", "bool", "f64"}) {
            for (Fill f :
                 {Fill::Wide, Fill::Indices, Fill::Int64, Fill::Bool, Fill::Coarse, Fill::Double}) {
                // Double's 1e198 has no integer (undefined: x86 and CUDA differ).
                const bool integer = std::string(to)[0] == 'i';
                if (f == Fill::Double && integer) continue;
                cases->push_back(with_string(make_case("Cast", {s}, {f}), "to", to));
            }
        }
    }
    const std::vector<std::pair<Shape, Shape>> slopes = {
        {{2, 3, 4, 5}, {3, 1, 1}},
        {{2, 3, 4, 5}, {1}},
        {{2, 3, 4, 5}, {}},
        {{2, 3, 4, 5}, {2, 3, 4, 5}},
        {{7, 6}, {6}},
        {{4, 3}, {4, 1}},
        {{0, 3}, {3}},
        {{64, 100}, {1}},
    };
    for (const auto &[x, slope] : slopes) {
        cases->push_back(make_case("PRelu", {x, slope}, {Fill::Wide, Fill::Uniform}));
        cases->push_back(
            make_case("PReluGrad", {x, x, slope}, {Fill::Uniform, Fill::Wide, Fill::Uniform}));
    }
}

} // namespace salus::test
