// CUDA kernels of the conv family (ops/conv.cpp). Our own (conv.cu): Pad,
// Upsample and their gradients, DepthToSpace/SpaceToDepth, GlobalAveragePool,
// and MaxPool, AveragePool and their gradients where cuDNN does not pool as
// ONNX says (dnn_pool_plans.h; gathers: each element of dX sums the windows
// that hold it). Conv, ConvTranspose and ConvGradWeight run on cuDNN
// (dnn_conv.h), as does the rest of the pooling (dnn_pool.h).
#include "exec/cuda/cuda_kernels.h"

#include "device/cuda/cuda_check.h"
#include "device/cuda/cuda_stream.h"
#include "exec/cuda/conv_launchers.h"
#include "exec/cuda/conv_plans.h"
#include "exec/cuda/dnn_conv.h"
#include "exec/cuda/dnn_pool.h"

#include <string>

namespace salus::cuda {

namespace {

cudaStream_t stream_of(const KernelContext &ctx) {
    return lane_stream(ctx.stream).handle();
}

Status launched(const KernelContext &ctx, cudaError_t err) {
    return check(err, (ctx.node->op + " kernel").c_str());
}

Status pad(const KernelContext &ctx) {
    ResampleMap m;
    SALUS_RETURN_IF_ERROR(plan_pad(ctx, false, &m));
    const float value = static_cast<float>(ctx.node->get_float("value"));
    return launched(ctx, launch_resample(m, ctx.outputs[0].numel(), ctx.inputs[0].f32(), value,
                                         ctx.outputs[0].f32(), stream_of(ctx)));
}

Status pad_grad(const KernelContext &ctx) {
    ResampleMap m;
    SALUS_RETURN_IF_ERROR(plan_pad(ctx, true, &m));
    return launched(ctx, launch_pad_grad(m, ctx.outputs[0].numel(), ctx.inputs[0].f32(),
                                         ctx.outputs[0].f32(), stream_of(ctx)));
}

Status upsample(const KernelContext &ctx) {
    ResampleMap m;
    SALUS_RETURN_IF_ERROR(plan_upsample(ctx, false, &m));
    return launched(ctx, launch_resample(m, ctx.outputs[0].numel(), ctx.inputs[0].f32(), 0.0f,
                                         ctx.outputs[0].f32(), stream_of(ctx)));
}

Status upsample_grad(const KernelContext &ctx) {
    ResampleMap m;
    SALUS_RETURN_IF_ERROR(plan_upsample(ctx, true, &m));
    return launched(ctx, launch_upsample_grad(m, ctx.outputs[0].numel(), ctx.inputs[0].f32(),
                                              ctx.outputs[0].f32(), stream_of(ctx)));
}

Status depth_space(const KernelContext &ctx) {
    DepthSpace p;
    SALUS_RETURN_IF_ERROR(plan_depth_space(ctx, &p));
    const bool to_depth = ctx.node->op == "SpaceToDepth";
    return launched(ctx,
                    launch_depth_space(p, ctx.outputs[0].numel(), to_depth, ctx.inputs[0].f32(),
                                       ctx.outputs[0].f32(), stream_of(ctx)));
}

Status global_average_pool(const KernelContext &ctx) {
    const TensorView &x = ctx.inputs[0];
    const int64_t planes = x.shape[0] * x.shape[1];
    const int64_t size = planes == 0 ? 0 : x.numel() / planes;
    return launched(ctx,
                    launch_plane_mean(planes, size, x.f32(), ctx.outputs[0].f32(), stream_of(ctx)));
}

// Pooling, its window planned when the session is prepared.
class PoolKernel : public OpKernel {
  public:
    Status init(const KernelInit &init) {
        max_ = init.node->op.rfind("MaxPool", 0) == 0;
        grad_ = init.node->op.find("Grad") != std::string::npos;
        return plan_pool(*init.node, init.inputs.back().shape, &plan_);
    }

    Status run(const KernelContext &ctx) override {
        if (grad_) {
            return launched(ctx, launch_pool_grad(plan_, max_, ctx.outputs[0].numel(),
                                                  ctx.inputs[1].f32(), ctx.inputs[0].f32(),
                                                  ctx.outputs[0].f32(), stream_of(ctx)));
        }
        int64_t *indices =
            ctx.outputs.size() > 1 ? static_cast<int64_t *>(ctx.outputs[1].data) : nullptr;
        return launched(ctx, launch_pool(plan_, max_, ctx.outputs[0].numel(), ctx.inputs[0].f32(),
                                         ctx.outputs[0].f32(), indices, stream_of(ctx)));
    }

  private:
    PoolPlan plan_;
    bool max_ = false, grad_ = false;
};

// cuDNN where it pools as ONNX says, else ours; chosen once per session.
Status make_pool(const KernelInit &init, std::unique_ptr<OpKernel> *out) {
    DnnPoolPlan plan;
    if (plan_dnn_pool(init, &plan).ok()) return make_dnn_pool_kernel(init, out);
    return make_kernel<PoolKernel>(init, out);
}

} // namespace

void register_conv_kernels(KernelRegistry *registry) {
    for (const char *op : {"Conv", "ConvTranspose", "ConvGradWeight"}) {
        registry->add(DeviceType::CUDA, op, make_dnn_conv_kernel);
    }
    for (const char *op : {"MaxPool", "MaxPoolGrad", "AveragePool", "AveragePoolGrad"}) {
        registry->add(DeviceType::CUDA, op, make_pool);
    }
    registry->add(DeviceType::CUDA, "Pad", pad);
    registry->add(DeviceType::CUDA, "PadGrad", pad_grad);
    registry->add(DeviceType::CUDA, "Upsample", upsample);
    registry->add(DeviceType::CUDA, "UpsampleGrad", upsample_grad);
    registry->add(DeviceType::CUDA, "DepthToSpace", depth_space);
    registry->add(DeviceType::CUDA, "SpaceToDepth", depth_space);
    registry->add(DeviceType::CUDA, "GlobalAveragePool", global_average_pool);
}

} // namespace salus::cuda
