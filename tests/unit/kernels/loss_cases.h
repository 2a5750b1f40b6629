// The loss family's share of kernel_cases.h (included there, after the case
// builders): cases of every op of ops/loss.cpp, and the emulation of their
// CUDA kernels (loss.cu) on the CPU for test_kernels_cuda_device_code.cpp.
#pragma once

#include "exec/cuda/loss_plans.h"
#include "kernel_cases.h"

#include <cmath>
#include <string>
#include <vector>

namespace salus::test {

inline void append_loss_cases(std::vector<KernelCase> *cases) {
    auto add = [&](KernelCase c) { cases->push_back(std::move(c)); };
    struct Reduce {
        Shape x;
        std::vector<int64_t> axes; // empty: all
    };
    for (const Reduce &r : {Reduce{{3, 4, 5}, {1}}, Reduce{{3, 4, 5}, {0, -1}}, Reduce{{7}, {}},
                            Reduce{{2, 1, 6}, {2}}, Reduce{{40, 33}, {0}}}) {
        for (int keepdims : {0, 1}) {
            for (const char *op : {"ReduceMax", "ReduceMin"}) {
                KernelCase c = with_int(make_case(op, {r.x}, {Fill::Wide}), "keepdims", keepdims);
                if (!r.axes.empty()) c = with_ints(c, "axes", r.axes);
                add(c);
                // The grad's Y: the reduced shape, from the forward's rule.
                NodeDesc node = c.node;
                std::vector<OutputInfo> outs;
                const std::vector<InputInfo> infos{{DType::F32, &r.x}};
                EXPECT_TRUE(infer_node(*find_op(op), &node, infos, &outs).ok());
                KernelCase g = c;
                g.node.op = std::string(op) + "Grad";
                g.inputs = {outs[0].shape, r.x, outs[0].shape};
                g.fills = {Fill::Uniform, Fill::Step, Fill::Step}; // ties: small integers
                g.label = g.node.op + " " + c.label;
                add(g);
            }
        }
    }
    for (const auto &[shape, axis] : std::vector<std::pair<Shape, int64_t>>{
             {{3, 4, 5}, 0}, {{3, 4, 5}, 1}, {{3, 4, 5}, -1}, {{9}, 0}, {{2, 1}, 1}}) {
        for (int last : {0, 1}) {
            for (const char *op : {"ArgMax", "ArgMin"}) {
                add(with_int(with_int(with_int(make_case(op, {shape}, {Fill::Step}), "axis", axis),
                                      "select_last_index", last),
                             "keepdims", last));
            }
        }
    }
    for (const auto &[shape, axis] : std::vector<std::pair<Shape, int64_t>>{
             {{3, 4}, -1}, {{2, 3, 4}, 1}, {{5}, 0}, {{4, 1}, 1}, {{16, 300}, -1}}) {
        add(with_int(make_case("LogSoftmax", {shape}, {Fill::Wide}), "axis", axis));
        add(with_int(make_case("LogSoftmaxGrad", {shape, shape}, {Fill::Uniform, Fill::Wide}),
                     "axis", axis));
    }
    struct Loss {
        Shape x, t;
    };
    for (const Loss &l : {Loss{{6, 5}, {6}}, Loss{{2, 5, 3}, {2, 3}}, Loss{{1, 4, 2, 2}, {1, 2, 2}},
                          Loss{{64, 10}, {64}}}) {
        for (const char *reduction : {"mean", "sum", "none"}) {
            for (int variant = 0; variant < 3; ++variant) {
                // 0: plain; 1: class weights; 2: ignore_index 2.
                std::vector<Shape> in{l.x, l.t};
                std::vector<Fill> fills{Fill::Wide, Fill::Classes};
                if (variant == 1) {
                    in.push_back({l.x[1]});
                    fills.push_back(Fill::Positive);
                }
                const Shape dloss = std::string(reduction) == "none" ? l.t : Shape{};
                for (const char *op : {"NegativeLogLikelihoodLoss", "SoftmaxCrossEntropyLoss"}) {
                    KernelCase c = with_string(make_case(op, in, fills), "reduction", reduction);
                    if (variant == 2) c = with_int(c, "ignore_index", 2);
                    add(c);
                    std::vector<Shape> gin{dloss};
                    gin.insert(gin.end(), in.begin(), in.end());
                    std::vector<Fill> gfills{Fill::Uniform};
                    gfills.insert(gfills.end(), fills.begin(), fills.end());
                    KernelCase g = c;
                    g.node.op = std::string(op) + "Grad";
                    g.inputs = gin;
                    g.fills = gfills;
                    g.label = g.node.op + " " + c.label;
                    add(g);
                }
            }
        }
    }
    for (const Shape &s : std::vector<Shape>{{3, 5}, {}, {1000}}) {
        add(with_float(with_float(make_case("SGDUpdate", {s, s}), "lr", 0.05), "weight_decay",
                       0.1));
        add(make_case("SGDUpdate", {s, s, {}}, {Fill::Uniform, Fill::Uniform, Fill::Positive}));
        const std::vector<Fill> mfills{Fill::Uniform, Fill::Uniform, Fill::Uniform, Fill::Step,
                                       Fill::Positive};
        KernelCase m = with_float(make_case("SGDMomentumUpdate", {s, s, s, {}}, mfills), "lr", 0.1);
        add(with_float(m, "momentum", 0.9));
        add(with_float(with_float(with_float(m, "momentum", 0.5), "dampening", 0.3), "weight_decay",
                       0.01));
        KernelCase nesterov = make_case("SGDMomentumUpdate", {s, s, s, {}, {}}, mfills);
        add(with_int(with_float(nesterov, "momentum", 0.9), "nesterov", 1));
        const std::vector<Fill> afills{Fill::Uniform,  Fill::Uniform, Fill::Uniform,
                                       Fill::Positive, Fill::Step,    Fill::Positive};
        const std::vector<Shape> adam{s, s, s, s, {}};
        add(with_float(with_float(make_case("AdamUpdate", adam, afills), "lr", 0.01),
                       "weight_decay", 0.1));
        add(with_float(make_case("AdamWUpdate", adam, afills), "lr", 0.01));
        add(make_case("AdamWUpdate", {s, s, s, s, {}, {}}, afills));
    }
}

// --- the CUDA kernels of loss.cu, emulated ------------------------------------

namespace loss_emulation {

using namespace salus::cuda;

inline Status labels(const KernelContext &ctx, size_t first, LabelPlan *p, LabelScratch *s) {
    SALUS_RETURN_IF_ERROR(plan_labels(ctx, first, p));
    const float *weight = p->has_weight ? ctx.inputs[first + 2].f32() : nullptr;
    *s = LabelScratch{-1, 0, 0.0};
    for (int64_t pos = 0; pos < label_positions(*p); ++pos) {
        const int64_t t = label_at(*p, ctx.inputs[first + 1].data, pos);
        if (label_ignored(*p, t)) continue;
        if (!label_valid(*p, t)) return bad_label(ctx, *p, pos, t);
        s->total_weight += label_weight(*p, weight, t);
    }
    return {};
}

inline Status loss(const KernelContext &ctx, bool softmax) {
    LabelPlan p;
    LabelScratch s{-1, 0, 0.0};
    SALUS_RETURN_IF_ERROR(labels(ctx, 0, &p, &s));
    const float *x = ctx.inputs[0].f32();
    const float *weight = p.has_weight ? ctx.inputs[2].f32() : nullptr;
    float *out = ctx.outputs[0].f32();
    float *log_prob = softmax && ctx.outputs.size() > 1 ? ctx.outputs[1].f32() : nullptr;
    const AxisPlan lines = class_lines(p);
    double total = 0.0;
    for (int64_t pos = 0; pos < label_positions(p); ++pos) {
        float m = 0.0f;
        double lse = 0.0;
        if (softmax) line_max_lse(lines, x, pos, &m, &lse);
        for (int64_t c = 0; log_prob && c < p.c; ++c) {
            const int64_t at = class_offset(p, pos, c);
            log_prob[at] = static_cast<float>(log_softmax_value(x[at], m, lse));
        }
        const int64_t t = label_at(p, ctx.inputs[1].data, pos);
        double term = 0.0;
        if (!label_ignored(p, t)) {
            const float xt = x[class_offset(p, pos, t)];
            const float w = label_weight(p, weight, t);
            term = softmax ? -static_cast<double>(w) * log_softmax_value(xt, m, lse)
                           : static_cast<double>(-w * xt);
        }
        if (p.reduction == 2) out[pos] = static_cast<float>(term);
        total += term;
    }
    if (p.reduction != 2) out[0] = reduce_loss(p, total, s.total_weight);
    return {};
}

inline Status loss_grad(const KernelContext &ctx, bool softmax) {
    LabelPlan p;
    LabelScratch s{-1, 0, 0.0};
    SALUS_RETURN_IF_ERROR(labels(ctx, 1, &p, &s));
    const float *dloss = ctx.inputs[0].f32();
    const float *x = ctx.inputs[1].f32();
    const float *weight = p.has_weight ? ctx.inputs[3].f32() : nullptr;
    float *dx = ctx.outputs[0].f32();
    const AxisPlan lines = class_lines(p);
    for (int64_t pos = 0; pos < label_positions(p); ++pos) {
        const int64_t t = label_at(p, ctx.inputs[2].data, pos);
        for (int64_t c = 0; c < p.c; ++c) dx[class_offset(p, pos, c)] = 0.0f;
        if (label_ignored(p, t)) continue;
        const double scale = loss_grad_scale(p, dloss, pos, s.total_weight);
        const float w = label_weight(p, weight, t);
        if (!softmax) {
            dx[class_offset(p, pos, t)] = static_cast<float>(-w * scale);
            continue;
        }
        float m;
        double lse;
        line_max_lse(lines, x, pos, &m, &lse);
        for (int64_t c = 0; c < p.c; ++c) {
            const int64_t at = class_offset(p, pos, c);
            const double prob = exp(log_softmax_value(x[at], m, lse));
            dx[at] = static_cast<float>((prob - (c == t ? 1.0 : 0.0)) * (scale * w));
        }
    }
    return {};
}

inline double lr_of(const LrSource &lr) {
    return lr.input ? static_cast<double>(*lr.input) : lr.value;
}

// Emulates ctx's op when it belongs to the loss family.
inline bool emulate(const KernelContext &ctx, Status *st) {
    const std::string &op = ctx.node->op;
    auto run = [&](Status s) {
        *st = s;
        return true;
    };
    if (op == "ReduceMax" || op == "ReduceMin") {
        ReducePlan p;
        if (!(*st = plan_extremum(ctx, &p)).ok()) return true;
        const float *x = ctx.inputs[0].f32();
        for (int64_t o = 0; o < p.outputs; ++o) {
            float acc = x[reduce_offset(p, o, 0)];
            for (int64_t k = 1; k < p.count; ++k) {
                const float v = x[reduce_offset(p, o, k)];
                if (extremum_takes(op == "ReduceMax", v, acc)) acc = v;
            }
            ctx.outputs[0].f32()[o] = acc;
        }
        return true;
    }
    if (op == "ReduceMaxGrad" || op == "ReduceMinGrad") {
        ReducePlan p;
        if (!(*st = plan_extremum_grad(ctx, &p)).ok()) return true;
        const float *dy = ctx.inputs[0].f32(), *x = ctx.inputs[1].f32(), *y = ctx.inputs[2].f32();
        for (int64_t o = 0; o < p.outputs; ++o) {
            int64_t ties = 0;
            for (int64_t k = 0; k < p.count; ++k) ties += x[reduce_offset(p, o, k)] == y[o];
            const float share = ties > 0 ? dy[o] / static_cast<float>(ties) : 0.0f;
            for (int64_t k = 0; k < p.count; ++k) {
                const int64_t at = reduce_offset(p, o, k);
                ctx.outputs[0].f32()[at] = x[at] == y[o] ? share : 0.0f;
            }
        }
        return true;
    }
    if (op == "ArgMax" || op == "ArgMin") {
        AxisPlan p;
        if (!(*st = plan_arg(ctx, &p)).ok()) return true;
        const bool last = ctx.node->get_int("select_last_index") != 0;
        const float *x = ctx.inputs[0].f32();
        for (int64_t line = 0; line < axis_lines(p); ++line) {
            int64_t best = 0;
            float best_value = x[axis_offset(p, line, 0)];
            for (int64_t k = 1; k < p.n; ++k) {
                const float v = x[axis_offset(p, line, k)];
                if (arg_takes(op == "ArgMax", last, v, best_value)) {
                    best = k;
                    best_value = v;
                }
            }
            static_cast<int64_t *>(ctx.outputs[0].data)[line] = best;
        }
        return true;
    }
    if (op == "LogSoftmax" || op == "LogSoftmaxGrad") {
        const bool grad = op == "LogSoftmaxGrad";
        AxisPlan p;
        if (!(*st = grad ? plan_softmax_grad(ctx, &p) : plan_softmax(ctx, &p)).ok()) return true;
        float *y = ctx.outputs[0].f32();
        for (int64_t line = 0; line < axis_lines(p); ++line) {
            if (grad) {
                double sum = 0.0;
                for (int64_t k = 0; k < p.n; ++k)
                    sum += ctx.inputs[0].f32()[axis_offset(p, line, k)];
                for (int64_t k = 0; k < p.n; ++k) {
                    const int64_t at = axis_offset(p, line, k);
                    y[at] = log_softmax_grad_value(ctx.inputs[0].f32()[at], ctx.inputs[1].f32()[at],
                                                   static_cast<float>(sum));
                }
                continue;
            }
            float m;
            double lse;
            line_max_lse(p, ctx.inputs[0].f32(), line, &m, &lse);
            for (int64_t k = 0; k < p.n; ++k) {
                const int64_t at = axis_offset(p, line, k);
                y[at] = static_cast<float>(log_softmax_value(ctx.inputs[0].f32()[at], m, lse));
            }
        }
        return true;
    }
    if (op == "NegativeLogLikelihoodLoss") return run(loss(ctx, false));
    if (op == "SoftmaxCrossEntropyLoss") return run(loss(ctx, true));
    if (op == "NegativeLogLikelihoodLossGrad") return run(loss_grad(ctx, false));
    if (op == "SoftmaxCrossEntropyLossGrad") return run(loss_grad(ctx, true));
    if (op == "SGDUpdate" || op == "SGDMomentumUpdate") {
        const bool momentum = op == "SGDMomentumUpdate";
        int64_t n = 0;
        SgdParams p;
        LrSource lr;
        if (!(*st = plan_sgd(ctx, momentum, &n, &p, &lr)).ok()) return true;
        const auto rate = static_cast<float>(lr_of(lr));
        float *w = ctx.inputs[0].f32();
        const float *g = ctx.inputs[1].f32();
        if (!momentum) {
            for (int64_t i = 0; i < n; ++i) w[i] = sgd_element(p, rate, g[i], w[i]);
            return true;
        }
        float *step = ctx.inputs[3].f32();
        for (int64_t i = 0; i < n; ++i) {
            sgd_momentum_element(p, rate, *step == 0.0f, g[i], &w[i], &ctx.inputs[2].f32()[i]);
        }
        *step += 1.0f;
        return true;
    }
    if (op == "AdamUpdate" || op == "AdamWUpdate") {
        int64_t n = 0;
        AdamParams p;
        LrSource lr;
        if (!(*st = plan_adam(ctx, &n, &p, &lr)).ok()) return true;
        float *step = ctx.inputs[4].f32();
        const AdamStep s = adam_step(p, *step, lr_of(lr));
        for (int64_t i = 0; i < n; ++i) {
            adam_element(p, s, ctx.inputs[1].f32()[i], &ctx.inputs[0].f32()[i],
                         &ctx.inputs[2].f32()[i], &ctx.inputs[3].f32()[i]);
        }
        *step += 1.0f;
        return true;
    }
    return false;
}

} // namespace loss_emulation

// The GPU suite's bound for the loss family's ops (tests/cuda), or -1 for
// another family's op. u = 2^-24; every case keeps its operands within a few
// units, so absolute terms bound the fusable updates:
//  - exact: ArgMax/ArgMin, ReduceMax/ReduceMin and their grads (comparisons
//    and one division);
//  - 16u (1 + |y|): the optimizers (a few fusable multiply-adds, sqrtf and a
//    division, per-step scalars in double on both sides);
//  - 1e-6 |y| + 1e-7 (about 16 ulp): log-softmax and the losses, one expf and
//    a log per element, sums in double.
inline double loss_tolerance(const std::string &op, double want) {
    if (op.find("Update") != std::string::npos)
        return 16.0 * std::ldexp(1.0, -24) * (1.0 + std::abs(want));
    if (op.find("Arg") == 0 || op == "ReduceMax" || op == "ReduceMin") return 0.0;
    // dX = dY - exp(Y) sum(dY) cancels: its error scales with dY (within
    // [-1, 1] here), not with dX.
    if (op == "LogSoftmaxGrad") return 1e-6 * (1.0 + std::abs(want));
    if (op.find("LogSoftmax") == 0 || op.find("LogLikelihood") != std::string::npos ||
        op.find("SoftmaxCrossEntropyLoss") == 0) {
        return 1e-6 * std::abs(want) + 1e-7;
    }
    return -1.0;
}

} // namespace salus::test
