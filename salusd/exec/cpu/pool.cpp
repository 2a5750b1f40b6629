// MaxPool (with Indices), AveragePool and AveragePoolGrad where oneDNN
// (pool_dnnl.cpp) does not fit, and GlobalAveragePool: loops over [N·C]
// planes with the formulas the CUDA kernels use (exec/cuda/conv_device.h,
// plain C++ on the host), the window planned when the session is prepared.
#include "exec/cpu/conv_kernels.h"
#include "exec/cpu/cpu_kernels.h"
#include "exec/cuda/conv_plans.h"

namespace salus::cpu {

namespace {

using cuda::PoolPlan;

class PoolKernel : public OpKernel {
  public:
    Status init(const KernelInit &init) {
        // X: the only input, or the last of a grad.
        return cuda::plan_pool(*init.node, init.inputs.back().shape, &p_);
    }

  protected:
    int64_t in_size() const { return p_.ih * p_.iw; }
    int64_t out_size() const { return p_.oh * p_.ow; }

    PoolPlan p_;
};

class MaxPoolKernel : public PoolKernel {
  public:
    Status run(const KernelContext &ctx) override {
        const float *x = ctx.inputs[0].f32();
        float *y = ctx.outputs[0].f32();
        int64_t *indices =
            ctx.outputs.size() > 1 ? static_cast<int64_t *>(ctx.outputs[1].data) : nullptr;
        for (int64_t o = 0; o < p_.planes * out_size(); ++o) {
            const int64_t c = o / out_size(), r = o % out_size();
            int64_t at = -1;
            y[o] = cuda::pool_max(p_, x + c * in_size(), r / p_.ow, r % p_.ow, &at);
            if (indices) indices[o] = at < 0 ? -1 : c * in_size() + at;
        }
        return {};
    }
};

class AveragePoolKernel : public PoolKernel {
  public:
    Status run(const KernelContext &ctx) override {
        const float *x = ctx.inputs[0].f32();
        float *y = ctx.outputs[0].f32();
        for (int64_t o = 0; o < p_.planes * out_size(); ++o) {
            const int64_t c = o / out_size(), r = o % out_size();
            y[o] = cuda::pool_mean(p_, x + c * in_size(), r / p_.ow, r % p_.ow);
        }
        return {};
    }
};

class AveragePoolGradKernel : public PoolKernel {
  public:
    Status run(const KernelContext &ctx) override {
        const float *dy = ctx.inputs[0].f32();
        float *dx = ctx.outputs[0].f32();
        for (int64_t j = 0; j < p_.planes * in_size(); ++j) {
            const int64_t c = j / in_size(), r = j % in_size();
            dx[j] = cuda::pool_grad_value(p_, false, nullptr, dy + c * out_size(), r / p_.iw,
                                          r % p_.iw);
        }
        return {};
    }
};

Status global_average_pool(const KernelContext &ctx) {
    const TensorView &x = ctx.inputs[0];
    const int64_t planes = x.shape[0] * x.shape[1];
    const int64_t size = planes == 0 ? 0 : x.numel() / planes;
    float *y = ctx.outputs[0].f32();
    for (int64_t c = 0; c < planes; ++c) y[c] = cuda::plane_mean(x.f32(), c, size);
    return {};
}

// oneDNN where it fits (pool_dnnl.cpp), else the loops above.
template <typename Loops, KernelFactory Dnnl>
Status make_pool(const KernelInit &init, std::unique_ptr<OpKernel> *out) {
    return dnnl_pool_fits(init) ? Dnnl(init, out) : make_kernel<Loops>(init, out);
}

} // namespace

void register_pool_kernels(KernelRegistry *registry) {
    registry->add(DeviceType::CPU, "MaxPool", make_pool<MaxPoolKernel, make_dnnl_pool>);
    registry->add(DeviceType::CPU, "MaxPoolGrad", make_dnnl_pool_grad);
    registry->add(DeviceType::CPU, "AveragePool", make_pool<AveragePoolKernel, make_dnnl_pool>);
    registry->add(DeviceType::CPU, "AveragePoolGrad",
                  make_pool<AveragePoolGradKernel, make_dnnl_pool_grad>);
    registry->add(DeviceType::CPU, "GlobalAveragePool", global_average_pool);
}

} // namespace salus::cpu
