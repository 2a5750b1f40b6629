#include "exec/cuda/dnn_batch_norm.h"

#include "device/cuda/cuda_check.h"
#include "device/cuda/cuda_stream.h"
#include "exec/cuda/dnn_conv_descriptors.h"

#include <cudnn.h>

namespace salus::cuda {

static_assert(kDnnBatchNormMinEpsilon == CUDNN_BN_MIN_EPSILON,
              "dnn_batch_norm_plans.h's minimum epsilon is cuDNN's");

namespace {

const float kOne = 1.0f, kZero = 0.0f;

class DnnBatchNormKernel : public OpKernel {
  public:
    ~DnnBatchNormKernel() override {
        if (channels_) (void)cudnnDestroyTensorDescriptor(channels_);
        if (x_) (void)cudnnDestroyTensorDescriptor(x_);
    }

    Status init(const KernelInit &init) {
        SALUS_RETURN_IF_ERROR(plan_dnn_batch_norm(init, &plan_));
        SALUS_RETURN_IF_ERROR(dnn_tensor_descriptor(plan_.x, &x_));
        // Scale, bias, means and variances: [1, C, 1, 1], what
        // cudnnDeriveBNTensorDescriptor gives in spatial mode.
        const int c[4] = {1, plan_.x[1], 1, 1};
        return dnn_tensor_descriptor(c, &channels_);
    }

    size_t workspace_bytes() const override { return dnn_batch_norm_workspace(plan_); }

    Status run(const KernelContext &ctx) override {
        const cudnnHandle_t h = lane_stream(ctx.stream).dnn();
        const std::vector<TensorView> &in = ctx.inputs;
        switch (plan_.pass) {
        case DnnBatchNormPass::Inference:
            return check(cudnnBatchNormalizationForwardInference(
                             h, CUDNN_BATCHNORM_SPATIAL, &kOne, &kZero, x_, in[0].data, x_,
                             ctx.outputs[0].data, channels_, in[1].data, in[2].data, in[3].data,
                             in[4].data, plan_.epsilon),
                         "cudnnBatchNormalizationForwardInference");
        case DnnBatchNormPass::Training:
            return training(ctx, h);
        case DnnBatchNormPass::Backward:
            // dX = 1 · dX' + 0, dScale and dBias likewise (nothing accumulated).
            return check(cudnnBatchNormalizationBackward(
                             h, CUDNN_BATCHNORM_SPATIAL, &kOne, &kZero, &kOne, &kZero, x_,
                             in[1].data, x_, in[0].data, x_, ctx.outputs[0].data, channels_,
                             in[2].data, ctx.outputs[1].data, ctx.outputs[2].data, plan_.epsilon,
                             in[3].data, in[4].data),
                         "cudnnBatchNormalizationBackward");
        }
        return Status(SALUS_EINTERNAL, "unknown cuDNN batch normalization pass");
    }

  private:
    // Running statistics (inputs 3 and 4, variables) updated in place.
    Status training(const KernelContext &ctx, cudnnHandle_t h) {
        if (ctx.workspace_bytes < workspace_bytes()) {
            return Status(SALUS_EINTERNAL, ctx.node->op + ": the planned workspace for the saved "
                                                          "statistics is missing");
        }
        auto *ws = static_cast<char *>(ctx.workspace);
        void *mean = plan_.saved_mean ? ctx.outputs[1].data : ws;
        void *inv_std =
            plan_.saved_inv_std ? ctx.outputs[2].data : ws + dnn_batch_norm_inv_std_slot(plan_);
        const std::vector<TensorView> &in = ctx.inputs;
        return check(cudnnBatchNormalizationForwardTraining(
                         h, CUDNN_BATCHNORM_SPATIAL, &kOne, &kZero, x_, in[0].data, x_,
                         ctx.outputs[0].data, channels_, in[1].data, in[2].data,
                         plan_.average_factor, in[3].data, in[4].data, plan_.epsilon, mean,
                         inv_std),
                     "cudnnBatchNormalizationForwardTraining");
    }

    DnnBatchNormPlan plan_;
    cudnnTensorDescriptor_t x_ = nullptr, channels_ = nullptr;
};

} // namespace

Status make_dnn_batch_norm_kernel(const KernelInit &init, std::unique_ptr<OpKernel> *out) {
    return make_kernel<DnnBatchNormKernel>(init, out);
}

} // namespace salus::cuda
