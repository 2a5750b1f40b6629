#include "exec/cuda/dnn_conv.h"

#include "device/cuda/cuda_check.h"
#include "device/cuda/cuda_stream.h"
#include "device/cuda/dnn_planning.h"
#include "exec/cuda/conv_launchers.h"
#include "exec/cuda/dnn_conv_algo.h"
#include "exec/cuda/kernel_context.h"
#include "exec/cuda/workspace.h"
#include "graph/planner.h"

namespace salus::cuda {

namespace {

const float kOne = 1.0f, kZero = 0.0f;

class DnnConvKernel : public OpKernel {
  public:
    Status init(const KernelInit &init) {
        SALUS_RETURN_IF_ERROR(plan_dnn_conv(init, &plan_));
        SALUS_RETURN_IF_ERROR(d_.create(plan_));
        if (plan_.empty) return {};
        const PlanningDnn planning = planning_dnn(init.device);
        return choose_dnn_conv_algo(planning.handle(), plan_, d_, &algo_);
    }

    // cuDNN gets a 256-byte aligned workspace, as cuBLAS does (workspace.h),
    // then the explicitly padded X, when the pads are asymmetric.
    size_t workspace_bytes() const override {
        const size_t bytes = padded_offset() + padded_bytes();
        return bytes ? bytes + kCublasWorkspaceAlignment - kPlanAlignment : 0;
    }

    Status run(const KernelContext &ctx) override {
        CudaStream &stream = lane_stream(ctx.stream);
        const AlignedWorkspace ws = cuda_workspace_aligned(ctx.workspace, ctx.workspace_bytes);
        if (ws.bytes < padded_offset() + padded_bytes()) {
            return Status(SALUS_EINTERNAL,
                          ctx.node->op + ": the planned cuDNN workspace is missing");
        }
        const cudnnHandle_t h = stream.dnn();
        switch (plan_.pass) {
        case DnnConvPass::Forward:
            return forward(ctx, h, ws);
        case DnnConvPass::BackwardData:
            return backward_data(ctx, h, ws);
        case DnnConvPass::BackwardFilter:
            return backward_filter(ctx, h, ws);
        }
        return Status(SALUS_EINTERNAL, "unknown cuDNN convolution pass");
    }

  private:
    size_t padded_offset() const {
        const size_t a = kCublasWorkspaceAlignment;
        return plan_.explicit_pad ? (algo_.workspace + a - 1) / a * a : algo_.workspace;
    }
    size_t padded_bytes() const {
        if (!plan_.explicit_pad) return 0;
        return static_cast<size_t>(plan_.x[0]) * plan_.x[1] * plan_.x[2] * plan_.x[3] *
               sizeof(float);
    }
    float *padded(const AlignedWorkspace &ws) const {
        return reinterpret_cast<float *>(static_cast<uint8_t *>(ws.data) + padded_offset());
    }

    // The convolution's x: X itself, or X copied into the padded buffer.
    Status input_x(const KernelContext &ctx, const TensorView &x, const AlignedWorkspace &ws,
                   const void **out) {
        *out = x.data;
        if (!plan_.explicit_pad) return {};
        float *p = padded(ws);
        *out = p;
        return launched(ctx, launch_resample(plan_.pad_map,
                                             static_cast<int64_t>(padded_bytes() / sizeof(float)),
                                             x.f32(), 0.0f, p, stream_of(ctx)));
    }

    // Y = X ⋆ W (+ B).
    Status forward(const KernelContext &ctx, cudnnHandle_t h, const AlignedWorkspace &ws) {
        if (plan_.empty) SALUS_RETURN_IF_ERROR(zero(ctx, ctx.outputs[0]));
        if (!plan_.empty) {
            const void *x = nullptr;
            SALUS_RETURN_IF_ERROR(input_x(ctx, ctx.inputs[0], ws, &x));
            SALUS_RETURN_IF_ERROR(check(
                cudnnConvolutionForward(h, &kOne, d_.x, x, d_.w, ctx.inputs[1].data, d_.conv,
                                        static_cast<cudnnConvolutionFwdAlgo_t>(algo_.algo), ws.data,
                                        algo_.workspace, &kZero, d_.y, ctx.outputs[0].data),
                "cudnnConvolutionForward"));
        }
        return add_bias(ctx, h, d_.y, ctx.outputs[0].data);
    }

    // Y = the data gradient of the convolution from Y to X, at X (+ B);
    // with explicit pads at the padded X, then cropped.
    Status backward_data(const KernelContext &ctx, cudnnHandle_t h, const AlignedWorkspace &ws) {
        if (plan_.empty) SALUS_RETURN_IF_ERROR(zero(ctx, ctx.outputs[0]));
        if (plan_.empty) return add_bias(ctx, h, d_.x, ctx.outputs[0].data);
        void *x = plan_.explicit_pad ? padded(ws) : ctx.outputs[0].data;
        SALUS_RETURN_IF_ERROR(check(
            cudnnConvolutionBackwardData(h, &kOne, d_.w, ctx.inputs[1].data, d_.y,
                                         ctx.inputs[0].data, d_.conv,
                                         static_cast<cudnnConvolutionBwdDataAlgo_t>(algo_.algo),
                                         ws.data, algo_.workspace, &kZero, d_.x, x),
            "cudnnConvolutionBackwardData"));
        SALUS_RETURN_IF_ERROR(add_bias(ctx, h, d_.x, x));
        if (!plan_.explicit_pad) return {};
        return launched(ctx, launch_pad_grad(plan_.pad_map, ctx.outputs[0].numel(),
                                             static_cast<const float *>(x), ctx.outputs[0].f32(),
                                             stream_of(ctx)));
    }

    // dW from dY and X; dB = dY summed over N and positions.
    Status backward_filter(const KernelContext &ctx, cudnnHandle_t h, const AlignedWorkspace &ws) {
        if (plan_.empty) SALUS_RETURN_IF_ERROR(zero(ctx, ctx.outputs[0]));
        if (!plan_.empty) {
            const void *x = nullptr;
            SALUS_RETURN_IF_ERROR(input_x(ctx, ctx.inputs[1], ws, &x));
            SALUS_RETURN_IF_ERROR(
                check(cudnnConvolutionBackwardFilter(
                          h, &kOne, d_.x, x, d_.y, ctx.inputs[0].data, d_.conv,
                          static_cast<cudnnConvolutionBwdFilterAlgo_t>(algo_.algo), ws.data,
                          algo_.workspace, &kZero, d_.w, ctx.outputs[0].data),
                      "cudnnConvolutionBackwardFilter"));
        }
        if (plan_.bias == 0) return {};
        // No dY: an empty sum.
        if (!d_.y) return zero(ctx, ctx.outputs[1]);
        return check(cudnnConvolutionBackwardBias(h, &kOne, d_.y, ctx.inputs[0].data, &kZero,
                                                  d_.bias, ctx.outputs[1].data),
                     "cudnnConvolutionBackwardBias");
    }

    // out += B over N and positions; `desc` describes out (null when it
    // has no elements).
    Status add_bias(const KernelContext &ctx, cudnnHandle_t h, cudnnTensorDescriptor_t desc,
                    void *out) {
        if (plan_.bias == 0 || !desc) return {};
        return check(cudnnAddTensor(h, &kOne, d_.bias, ctx.inputs[2].data, &kOne, desc, out),
                     "cudnnAddTensor");
    }

    static Status zero(const KernelContext &ctx, const TensorView &t) {
        const size_t bytes = static_cast<size_t>(t.numel()) * sizeof(float);
        if (bytes == 0) return {};
        return check(cudaMemsetAsync(t.data, 0, bytes, stream_of(ctx)),
                     (ctx.node->op + ": cudaMemsetAsync").c_str());
    }

    DnnConvPlan plan_;
    DnnConvDescriptors d_;
    DnnConvAlgo algo_;
};

} // namespace

Status make_dnn_conv_kernel(const KernelInit &init, std::unique_ptr<OpKernel> *out) {
    return make_kernel<DnnConvKernel>(init, out);
}

} // namespace salus::cuda
