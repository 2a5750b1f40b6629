// CUDA kernels of the elementwise family (ops/elementwise.cpp): one per line
// of elementwise_device.h's op lists, plus Where, Cast, Clip and PReluGrad.
#include "exec/cuda/cuda_kernels.h"
#include "exec/cuda/kernel_context.h"

#include "device/cuda/cuda_check.h"
#include "device/cuda/cuda_stream.h"
#include "exec/cuda/elementwise_launchers.h"
#include "exec/cuda/elementwise_plans.h"
#include "exec/cuda/kernel_plans.h"

namespace salus::cuda {

namespace {

const float *in(const KernelContext &ctx, size_t i) {
    return ctx.inputs[i].f32();
}

float *out(const KernelContext &ctx, size_t i = 0) {
    return ctx.outputs[i].f32();
}

template <UnaryOp op>
Status unary_kernel(const KernelContext &ctx) {
    int64_t n = 0;
    SALUS_RETURN_IF_ERROR(plan_same_size(ctx, 1, &n));
    return launched(
        ctx, launch_ew_unary(op, ew_params(*ctx.node), n, in(ctx, 0), out(ctx), stream_of(ctx)));
}

template <GradOp op>
Status grad_kernel(const KernelContext &ctx) {
    int64_t n = 0;
    SALUS_RETURN_IF_ERROR(plan_same_size(ctx, 2, &n));
    return launched(ctx, launch_ew_grad(op, ew_params(*ctx.node), n, in(ctx, 0), in(ctx, 1),
                                        out(ctx), stream_of(ctx)));
}

template <BinaryOp op>
Status binary_kernel(const KernelContext &ctx) {
    StridedIndex ix;
    int64_t n = 0;
    if (ctx.outputs.size() == 1 && ctx.outputs[0].dtype != DType::F32) {
        EwDType type;
        SALUS_RETURN_IF_ERROR(plan_arith(ctx, op, &ix, &n, &type));
        return launched(ctx, launch_arith(op, type, ix, n, ctx.inputs[0].data, ctx.inputs[1].data,
                                          ctx.outputs[0].data, stream_of(ctx)));
    }
    SALUS_RETURN_IF_ERROR(plan_binary(ctx, &ix, &n));
    return launched(ctx,
                    launch_ew_binary(op, ix, n, in(ctx, 0), in(ctx, 1), out(ctx), stream_of(ctx)));
}

template <CompareOp op>
Status compare_kernel(const KernelContext &ctx) {
    StridedIndex ix;
    int64_t n = 0;
    EwDType type;
    SALUS_RETURN_IF_ERROR(plan_compare(ctx, &ix, &n, &type));
    return launched(ctx, launch_compare(op, type, ix, n, ctx.inputs[0].data, ctx.inputs[1].data,
                                        static_cast<bool *>(ctx.outputs[0].data), stream_of(ctx)));
}

template <LogicOp op>
Status logic_kernel(const KernelContext &ctx) {
    StridedIndex ix;
    int64_t n = 0;
    SALUS_RETURN_IF_ERROR(plan_logic(ctx, &ix, &n));
    const bool *a = static_cast<const bool *>(ctx.inputs[0].data);
    const bool *b = op == LogicOp::Not ? a : static_cast<const bool *>(ctx.inputs[1].data);
    return launched(ctx, launch_logic(op, ix, n, a, b, static_cast<bool *>(ctx.outputs[0].data),
                                      stream_of(ctx)));
}

Status where(const KernelContext &ctx) {
    StridedIndex ix;
    int64_t n = 0;
    size_t size = 0;
    SALUS_RETURN_IF_ERROR(plan_where(ctx, &ix, &n, &size));
    return launched(ctx, launch_where(size, ix, n, static_cast<const bool *>(ctx.inputs[0].data),
                                      ctx.inputs[1].data, ctx.inputs[2].data, ctx.outputs[0].data,
                                      stream_of(ctx)));
}

Status cast(const KernelContext &ctx) {
    int64_t n = 0;
    EwDType from, to;
    SALUS_RETURN_IF_ERROR(plan_cast(ctx, &n, &from, &to));
    return launched(
        ctx, launch_cast(from, to, n, ctx.inputs[0].data, ctx.outputs[0].data, stream_of(ctx)));
}

template <bool kGrad>
Status clip_kernel(const KernelContext &ctx) {
    int64_t n = 0;
    int lo = -1, hi = -1;
    SALUS_RETURN_IF_ERROR(plan_clip(ctx, kGrad, &n, &lo, &hi));
    const float *plo = lo >= 0 ? in(ctx, static_cast<size_t>(lo)) : nullptr;
    const float *phi = hi >= 0 ? in(ctx, static_cast<size_t>(hi)) : nullptr;
    const float *dy = kGrad ? in(ctx, 0) : nullptr;
    const float *x = in(ctx, kGrad ? 1 : 0);
    return launched(ctx, launch_clip(n, dy, x, plo, phi, out(ctx), stream_of(ctx)));
}

Status prelu_grad(const KernelContext &ctx) {
    StridedIndex ix;
    int64_t n = 0;
    SlopeSumPlan sums;
    SALUS_RETURN_IF_ERROR(plan_prelu_grad(ctx, &ix, &n, &sums));
    return launched(ctx, launch_prelu_grad(ix, n, sums, in(ctx, 0), in(ctx, 1), in(ctx, 2),
                                           out(ctx, 0), out(ctx, 1), stream_of(ctx)));
}

} // namespace

void register_elementwise_kernels(KernelRegistry *registry) {
    const DeviceType gpu = DeviceType::CUDA;
#define SALUS_REG_UNARY(Op, formula) registry->add(gpu, #Op, unary_kernel<UnaryOp::Op>);
#define SALUS_REG_GRAD(Op, formula) registry->add(gpu, #Op "Grad", grad_kernel<GradOp::Op>);
#define SALUS_REG_BINARY(Op, formula) registry->add(gpu, #Op, binary_kernel<BinaryOp::Op>);
#define SALUS_REG_COMPARE(Op, formula) registry->add(gpu, #Op, compare_kernel<CompareOp::Op>);
#define SALUS_REG_LOGIC(Op, formula) registry->add(gpu, #Op, logic_kernel<LogicOp::Op>);
    SALUS_EW_UNARY_OPS(SALUS_REG_UNARY)
    SALUS_EW_GRAD_OPS(SALUS_REG_GRAD)
    SALUS_EW_BINARY_OPS(SALUS_REG_BINARY)
    SALUS_EW_COMPARE_OPS(SALUS_REG_COMPARE)
    SALUS_EW_LOGIC_OPS(SALUS_REG_LOGIC)
#undef SALUS_REG_UNARY
#undef SALUS_REG_GRAD
#undef SALUS_REG_BINARY
#undef SALUS_REG_COMPARE
#undef SALUS_REG_LOGIC
    registry->add(gpu, "Where", where);
    registry->add(gpu, "Cast", cast);
    registry->add(gpu, "Clip", clip_kernel<false>);
    registry->add(gpu, "ClipGrad", clip_kernel<true>);
    registry->add(gpu, "PReluGrad", prelu_grad);
}

} // namespace salus::cuda
