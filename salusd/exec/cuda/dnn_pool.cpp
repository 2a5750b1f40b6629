#include "exec/cuda/dnn_pool.h"

#include "device/cuda/cuda_check.h"
#include "device/cuda/cuda_stream.h"
#include "exec/cuda/dnn_conv_descriptors.h"

#include <cudnn.h>

namespace salus::cuda {

namespace {

const float kOne = 1.0f, kZero = 0.0f;

cudnnPoolingMode_t pooling_mode(DnnPoolMode mode) {
    switch (mode) {
    case DnnPoolMode::Max:
        // The deterministic one: dX is bitwise reproducible.
        return CUDNN_POOLING_MAX_DETERMINISTIC;
    case DnnPoolMode::AverageIncludePad:
        return CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING;
    case DnnPoolMode::AverageExcludePad:
        break;
    }
    return CUDNN_POOLING_AVERAGE_COUNT_EXCLUDE_PADDING;
}

class DnnPoolKernel : public OpKernel {
  public:
    ~DnnPoolKernel() override {
        if (pool_) (void)cudnnDestroyPoolingDescriptor(pool_);
        if (y_) (void)cudnnDestroyTensorDescriptor(y_);
        if (x_) (void)cudnnDestroyTensorDescriptor(x_);
    }

    Status init(const KernelInit &init) {
        SALUS_RETURN_IF_ERROR(plan_dnn_pool(init, &plan_));
        SALUS_RETURN_IF_ERROR(dnn_tensor_descriptor(plan_.x, &x_));
        SALUS_RETURN_IF_ERROR(dnn_tensor_descriptor(plan_.y, &y_));
        SALUS_RETURN_IF_ERROR(
            check(cudnnCreatePoolingDescriptor(&pool_), "cudnnCreatePoolingDescriptor"));
        // A window holding NaN pools to NaN, as in our kernel (pool_max).
        const DnnWindow &w = plan_.window;
        return check(cudnnSetPooling2dDescriptor(pool_, pooling_mode(plan_.mode),
                                                 CUDNN_PROPAGATE_NAN, w.kernel[0], w.kernel[1],
                                                 w.pad[0], w.pad[1], w.stride[0], w.stride[1]),
                     "cudnnSetPooling2dDescriptor");
    }

    Status run(const KernelContext &ctx) override {
        const cudnnHandle_t h = lane_stream(ctx.stream).dnn();
        if (!plan_.grad) {
            return check(cudnnPoolingForward(h, pool_, &kOne, x_, ctx.inputs[0].data, &kZero, y_,
                                             ctx.outputs[0].data),
                         "cudnnPoolingForward");
        }
        // AveragePoolGrad (MaxPoolGrad stays ours): average pooling's
        // backward reads neither X nor Y, each dY spreads over its window
        // whatever the values, so dY stands in for Y.
        const void *dy = ctx.inputs[0].data, *x = ctx.inputs[1].data;
        return check(cudnnPoolingBackward(h, pool_, &kOne, y_, dy, y_, dy, x_, x, &kZero, x_,
                                          ctx.outputs[0].data),
                     "cudnnPoolingBackward");
    }

  private:
    DnnPoolPlan plan_;
    cudnnTensorDescriptor_t x_ = nullptr, y_ = nullptr;
    cudnnPoolingDescriptor_t pool_ = nullptr;
};

} // namespace

Status make_dnn_pool_kernel(const KernelInit &init, std::unique_ptr<OpKernel> *out) {
    return make_kernel<DnnPoolKernel>(init, out);
}

} // namespace salus::cuda
