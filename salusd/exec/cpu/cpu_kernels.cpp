#include "exec/cpu/cpu_kernels.h"

namespace salus {

void register_cpu_kernels(KernelRegistry *registry) {
    struct Entry {
        const char *op;
        KernelFn fn;
    };
    static constexpr Entry kKernels[] = {
        {"Softmax", cpu::softmax},
        {"SoftmaxGrad", cpu::softmax_grad},
        {"SoftmaxCrossEntropy", cpu::softmax_cross_entropy},
        {"SoftmaxCrossEntropyGrad", cpu::softmax_cross_entropy_grad},
        {"OneHot", cpu::one_hot},
        {"ReduceSum", cpu::reduce_sum},
        {"ReduceMean", cpu::reduce_mean},
        {"Expand", cpu::expand},
        {"Reshape", cpu::reshape},
        {"Transpose", cpu::transpose},
        {"Identity", cpu::identity},
        {"TestFault", cpu::test_fault},
    };
    for (const Entry &e : kKernels) registry->add(DeviceType::CPU, e.op, e.fn);
    for (const char *op : {"MatMul", "Gemm"}) registry->add(DeviceType::CPU, op, cpu::make_matmul);
    cpu::register_elementwise_kernels(registry);
    cpu::register_conv_kernels(registry);
    cpu::register_norm_kernels(registry);
    cpu::register_shape_kernels(registry);
    cpu::register_loss_kernels(registry);
}

} // namespace salus
