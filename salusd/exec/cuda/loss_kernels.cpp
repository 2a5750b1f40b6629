// CUDA kernels of the loss family (ops/loss.cpp). The losses check their
// labels first and wait for that check: an out-of-range label must fail the
// iteration (SALUS_EEXEC naming it), so this is the one place where a kernel
// synchronizes its stream, once per loss node.
#include "exec/cuda/cuda_kernels.h"
#include "exec/cuda/kernel_context.h"
#include "exec/cuda/workspace.h"

#include "device/cuda/cuda_check.h"
#include "device/cuda/cuda_stream.h"
#include "exec/cuda/loss_launchers.h"
#include "exec/cuda/loss_plans.h"

namespace salus::cuda {

namespace {

float *in(const KernelContext &ctx, size_t i) {
    return ctx.inputs[i].f32();
}

Status sgd_update(const KernelContext &ctx) {
    int64_t n = 0;
    SgdParams p;
    LrSource lr;
    SALUS_RETURN_IF_ERROR(plan_sgd(ctx, false, &n, &p, &lr));
    return launched(ctx, launch_sgd(p, lr, n, in(ctx, 0), in(ctx, 1), stream_of(ctx)));
}

Status sgd_momentum_update(const KernelContext &ctx) {
    int64_t n = 0;
    SgdParams p;
    LrSource lr;
    SALUS_RETURN_IF_ERROR(plan_sgd(ctx, true, &n, &p, &lr));
    return launched(ctx, launch_sgd_momentum(p, lr, n, in(ctx, 0), in(ctx, 1), in(ctx, 2),
                                             in(ctx, 3), stream_of(ctx)));
}

Status adam_update(const KernelContext &ctx) {
    int64_t n = 0;
    AdamParams p;
    LrSource lr;
    SALUS_RETURN_IF_ERROR(plan_adam(ctx, &n, &p, &lr));
    return launched(ctx, launch_adam(p, lr, n, in(ctx, 0), in(ctx, 1), in(ctx, 2), in(ctx, 3),
                                     in(ctx, 4), stream_of(ctx)));
}

Status reduce_extremum(const KernelContext &ctx, bool max) {
    ReducePlan p;
    SALUS_RETURN_IF_ERROR(plan_extremum(ctx, &p));
    return launched(
        ctx, launch_reduce_extremum(p, max, in(ctx, 0), ctx.outputs[0].f32(), stream_of(ctx)));
}

Status reduce_max(const KernelContext &ctx) {
    return reduce_extremum(ctx, true);
}
Status reduce_min(const KernelContext &ctx) {
    return reduce_extremum(ctx, false);
}

Status reduce_extremum_grad(const KernelContext &ctx) {
    ReducePlan p;
    SALUS_RETURN_IF_ERROR(plan_extremum_grad(ctx, &p));
    return launched(ctx, launch_reduce_extremum_grad(p, in(ctx, 0), in(ctx, 1), in(ctx, 2),
                                                     ctx.outputs[0].f32(), stream_of(ctx)));
}

Status arg_extremum(const KernelContext &ctx, bool max) {
    AxisPlan p;
    SALUS_RETURN_IF_ERROR(plan_arg(ctx, &p));
    const bool last = ctx.node->get_int("select_last_index") != 0;
    return launched(ctx, launch_arg(p, max, last, in(ctx, 0),
                                    static_cast<int64_t *>(ctx.outputs[0].data), stream_of(ctx)));
}

Status arg_max(const KernelContext &ctx) {
    return arg_extremum(ctx, true);
}
Status arg_min(const KernelContext &ctx) {
    return arg_extremum(ctx, false);
}

Status log_softmax(const KernelContext &ctx) {
    AxisPlan p;
    SALUS_RETURN_IF_ERROR(plan_softmax(ctx, &p));
    return launched(ctx, launch_log_softmax(p, in(ctx, 0), ctx.outputs[0].f32(), stream_of(ctx)));
}

Status log_softmax_grad(const KernelContext &ctx) {
    AxisPlan p;
    SALUS_RETURN_IF_ERROR(plan_softmax_grad(ctx, &p));
    return launched(ctx, launch_log_softmax_grad(p, in(ctx, 0), in(ctx, 1), ctx.outputs[0].f32(),
                                                 stream_of(ctx)));
}

// Checks the labels on the device and waits for the verdict.
Status check_labels(const KernelContext &ctx, const LabelPlan &p, size_t first,
                    LabelScratch *scratch) {
    if (ctx.workspace_bytes < sizeof(LabelScratch)) {
        return Status(SALUS_EEXEC, ctx.node->op + ": workspace too small");
    }
    const float *weight = p.has_weight ? in(ctx, first + 2) : nullptr;
    const cudaStream_t stream = stream_of(ctx);
    SALUS_RETURN_IF_ERROR(
        launched(ctx, launch_check_labels(p, ctx.inputs[first + 1].data, weight, scratch, stream)));
    LabelScratch verdict{};
    SALUS_RETURN_IF_ERROR(
        check(cudaMemcpyAsync(&verdict, scratch, sizeof verdict, cudaMemcpyDeviceToHost, stream),
              "label check copy"));
    SALUS_RETURN_IF_ERROR(check(cudaStreamSynchronize(stream), "label check"));
    if (verdict.bad_position >= 0)
        return bad_label(ctx, p, verdict.bad_position, verdict.bad_label);
    return {};
}

Status label_loss(const KernelContext &ctx, bool softmax) {
    LabelPlan p;
    SALUS_RETURN_IF_ERROR(plan_labels(ctx, 0, &p));
    auto *scratch = static_cast<LabelScratch *>(ctx.workspace);
    SALUS_RETURN_IF_ERROR(check_labels(ctx, p, 0, scratch));
    if (ctx.workspace_bytes < sizeof(LabelScratch) + label_positions(p) * sizeof(double)) {
        return Status(SALUS_EEXEC, ctx.node->op + ": workspace too small");
    }
    auto *terms = reinterpret_cast<double *>(scratch + 1);
    float *log_prob = softmax && ctx.outputs.size() > 1 ? ctx.outputs[1].f32() : nullptr;
    const float *weight = p.has_weight ? in(ctx, 2) : nullptr;
    return launched(ctx,
                    launch_label_loss(p, softmax, in(ctx, 0), ctx.inputs[1].data, weight, scratch,
                                      terms, ctx.outputs[0].f32(), log_prob, stream_of(ctx)));
}

Status label_loss_grad(const KernelContext &ctx, bool softmax) {
    LabelPlan p;
    SALUS_RETURN_IF_ERROR(plan_labels(ctx, 1, &p));
    auto *scratch = static_cast<LabelScratch *>(ctx.workspace);
    SALUS_RETURN_IF_ERROR(check_labels(ctx, p, 1, scratch));
    const float *weight = p.has_weight ? in(ctx, 3) : nullptr;
    return launched(ctx,
                    launch_label_loss_grad(p, softmax, in(ctx, 0), in(ctx, 1), ctx.inputs[2].data,
                                           weight, scratch, ctx.outputs[0].f32(), stream_of(ctx)));
}

Status nll_loss(const KernelContext &ctx) {
    return label_loss(ctx, false);
}
Status nll_loss_grad(const KernelContext &ctx) {
    return label_loss_grad(ctx, false);
}
Status sce_loss(const KernelContext &ctx) {
    return label_loss(ctx, true);
}
Status sce_loss_grad(const KernelContext &ctx) {
    return label_loss_grad(ctx, true);
}

} // namespace

void register_loss_kernels(KernelRegistry *registry) {
    struct Entry {
        const char *op;
        KernelFn fn;
    };
    static constexpr Entry kKernels[] = {
        {"ReduceMax", reduce_max},
        {"ReduceMin", reduce_min},
        {"ReduceMaxGrad", reduce_extremum_grad},
        {"ReduceMinGrad", reduce_extremum_grad},
        {"ArgMax", arg_max},
        {"ArgMin", arg_min},
        {"LogSoftmax", log_softmax},
        {"LogSoftmaxGrad", log_softmax_grad},
        {"NegativeLogLikelihoodLoss", nll_loss},
        {"NegativeLogLikelihoodLossGrad", nll_loss_grad},
        {"SoftmaxCrossEntropyLoss", sce_loss},
        {"SoftmaxCrossEntropyLossGrad", sce_loss_grad},
        {"SGDUpdate", sgd_update},
        {"SGDMomentumUpdate", sgd_momentum_update},
        {"AdamUpdate", adam_update},
        {"AdamWUpdate", adam_update},
    };
    for (const Entry &e : kKernels) {
        registry->add(DeviceType::CUDA, e.op, e.fn, cuda_workspace_fn(e.op));
    }
}

} // namespace salus::cuda
