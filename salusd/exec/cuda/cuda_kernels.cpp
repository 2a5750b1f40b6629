#include "exec/cuda/cuda_kernels.h"
#include "exec/cuda/kernel_context.h"

#include "device/cuda/cuda_check.h"
#include "device/cuda/cuda_stream.h"
#include "exec/cuda/kernel_plans.h"
#include "exec/cuda/launchers.h"
#include "exec/cuda/workspace.h"

#include <string>

namespace salus {
namespace cuda {
namespace {

const float *in(const KernelContext &ctx, size_t i) {
    return ctx.inputs[i].f32();
}

float *out(const KernelContext &ctx) {
    return ctx.outputs[0].f32();
}

Status reduce(const KernelContext &ctx, bool mean) {
    ReducePlan plan;
    SALUS_RETURN_IF_ERROR(plan_reduce(ctx, mean, &plan));
    return launched(ctx, launch_reduce(plan, in(ctx, 0), out(ctx), stream_of(ctx)));
}

} // namespace

Status reduce_sum(const KernelContext &ctx) {
    return reduce(ctx, false);
}
Status reduce_mean(const KernelContext &ctx) {
    return reduce(ctx, true);
}

Status copy(const KernelContext &ctx) {
    size_t bytes = 0;
    SALUS_RETURN_IF_ERROR(plan_copy(ctx, &bytes));
    // The planner may give the output the input's buffer: nothing to move.
    if (bytes == 0 || ctx.outputs[0].data == ctx.inputs[0].data) return {};
    return check(cudaMemcpyAsync(ctx.outputs[0].data, ctx.inputs[0].data, bytes,
                                 cudaMemcpyDeviceToDevice, stream_of(ctx)),
                 (ctx.node->op + ": cudaMemcpyAsync").c_str());
}

Status softmax(const KernelContext &ctx) {
    AxisPlan plan;
    SALUS_RETURN_IF_ERROR(plan_softmax(ctx, &plan));
    return launched(ctx, launch_softmax(plan, in(ctx, 0), out(ctx), stream_of(ctx)));
}

Status softmax_grad(const KernelContext &ctx) {
    AxisPlan plan;
    SALUS_RETURN_IF_ERROR(plan_softmax_grad(ctx, &plan));
    return launched(ctx,
                    launch_softmax_grad(plan, in(ctx, 0), in(ctx, 1), out(ctx), stream_of(ctx)));
}

Status softmax_cross_entropy(const KernelContext &ctx) {
    XentPlan plan;
    SALUS_RETURN_IF_ERROR(plan_xent(ctx, &plan));
    return launched(ctx,
                    launch_xent(plan, in(ctx, 0), in(ctx, 1), static_cast<double *>(ctx.workspace),
                                out(ctx), stream_of(ctx)));
}

Status softmax_cross_entropy_grad(const KernelContext &ctx) {
    XentPlan plan;
    SALUS_RETURN_IF_ERROR(plan_xent_grad(ctx, &plan));
    const float *dloss = ctx.inputs.size() > 2 ? in(ctx, 2) : nullptr;
    return launched(
        ctx, launch_xent_grad(plan, in(ctx, 0), in(ctx, 1), dloss, out(ctx), stream_of(ctx)));
}

Status expand(const KernelContext &ctx) {
    StridedIndex ix;
    int64_t n = 0;
    SALUS_RETURN_IF_ERROR(plan_expand(ctx, &ix, &n));
    return launched(ctx, launch_gather(ix, n, in(ctx, 0), out(ctx), stream_of(ctx)));
}

Status transpose(const KernelContext &ctx) {
    StridedIndex ix;
    int64_t n = 0;
    SALUS_RETURN_IF_ERROR(plan_transpose(ctx, &ix, &n));
    return launched(ctx, launch_gather(ix, n, in(ctx, 0), out(ctx), stream_of(ctx)));
}

Status one_hot(const KernelContext &ctx) {
    int64_t count = 0, depth = 0;
    bool wide = false;
    SALUS_RETURN_IF_ERROR(plan_one_hot(ctx, &count, &depth, &wide));
    return launched(
        ctx, launch_one_hot(ctx.inputs[0].data, wide, count, depth, out(ctx), stream_of(ctx)));
}

Status test_fault(const KernelContext &ctx) {
    const AttrValue *fault = ctx.node->attr("fault");
    if (fault && fault->s == "sticky") {
        // Fails at the stream's synchronization, as a faulting kernel does.
        return launched(ctx, launch_illegal_address(stream_of(ctx)));
    }
    return launched(ctx, launch_bad_configuration(stream_of(ctx)));
}

} // namespace cuda

void register_cuda_kernels(KernelRegistry *registry) {
    struct Entry {
        const char *op;
        KernelFn fn;
    };
    static constexpr Entry kKernels[] = {
        {"MatMul", cuda::matmul},
        {"Softmax", cuda::softmax},
        {"SoftmaxGrad", cuda::softmax_grad},
        {"SoftmaxCrossEntropy", cuda::softmax_cross_entropy},
        {"SoftmaxCrossEntropyGrad", cuda::softmax_cross_entropy_grad},
        {"ReduceSum", cuda::reduce_sum},
        {"ReduceMean", cuda::reduce_mean},
        {"Expand", cuda::expand},
        {"Reshape", cuda::copy},
        {"Transpose", cuda::transpose},
        {"Identity", cuda::copy},
        {"OneHot", cuda::one_hot},
        {"TestFault", cuda::test_fault},
    };
    for (const Entry &e : kKernels) {
        registry->add(DeviceType::CUDA, e.op, e.fn, cuda_workspace_fn(e.op));
    }
    cuda::register_elementwise_kernels(registry);
    cuda::register_conv_kernels(registry);
    cuda::register_norm_kernels(registry);
    cuda::register_shape_kernels(registry);
    cuda::register_loss_kernels(registry);
}

} // namespace salus
