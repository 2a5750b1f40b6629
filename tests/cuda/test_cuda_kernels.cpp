// Every CUDA kernel against the CPU kernel, on the GPU: every case of
// kernel_cases.h (every op, several shapes, the broadcasting cases, every
// attribute variant) on random inputs from three seeds. Exits 77 without a
// GPU.
//
// Relative error bounds, f32 (the only dtype that executes today), with
// u = 2^-24 the unit roundoff:
//  - exact: data movement and selection (Identity, Reshape, Expand,
//    Transpose, Relu, ReluGrad, OneHot) and single IEEE operations (Add, Sub, Mul):
//    both devices round each result correctly, so they agree bit for bit;
//  - 8u (1 + |y|): SGDUpdate, SigmoidGrad, TanhGrad, where nvcc may fuse
//    a * b + c into one FMA that rounds once where the CPU rounds twice; the
//    cases keep every operand within [-1, 1], so a few ulp of 1 bound it;
//  - 16u (1 + |y|): AdamUpdate (var, m, v; the step count exactly), two such
//    fusable updates in a row plus a correctly rounded sqrtf and division
//    (nvcc's defaults, -prec-sqrt and -prec-div) on operands within [-1, 1]
//    and per-step scalars computed in double on both sides;
//  - 8u |y| + 2u: Sigmoid and Tanh, whose CUDA expf and tanhf are within 2 ulp
//    (CUDA C++ Programming Guide, single-precision functions) and glibc's
//    within 1, plus the sigmoid's division;
//  - 1e-6 |y| + 1e-7 (about 16 ulp): Softmax, SoftmaxGrad and the
//    cross-entropy, where each element carries one expf and a few float
//    scalings and both devices sum in double;
//  - 2 n u sum|terms| (the classic bound for any order of n-term summation,
//    once per side): ReduceSum, ReduceMean, MatMul and the convolutions
//    (Conv, ConvTranspose, ConvGradWeight's dW and dB), where the orders
//    differ (CPU float partial sums, OpenBLAS, oneDNN, cuBLAS and cuDNN float
//    accumulators, split-K). cuBLAS runs in its default math mode, which
//    never uses TF32 for a float GEMM, and cuDNN in FMA math; the bound would
//    catch TF32 if either used it.
#include "device/cuda/cuda_stream.h"
#include "device/device.h"
#include "device/health.h"
#include "gpu_check.h"
#include "gpu_fixture.h"
#include "kernel_cases.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace salus::test {
namespace {

constexpr double kU = 1.0 / 16777216.0; // 2^-24

// Element i of result r.
double tolerance(const KernelCase &c, const Magnitude &mag, size_t r, size_t i, double want) {
    const std::string &op = c.node.op;
    if (const double loss = loss_tolerance(op, want); loss >= 0.0) return loss;
    if (!mag.empty()) return mag.bound(r, i) + 1e-30;
    if (op == "SGDUpdate" || op == "SigmoidGrad" || op == "TanhGrad") {
        return 8.0 * kU * (1.0 + std::abs(want));
    }
    if (op == "AdamUpdate") return 16.0 * kU * (1.0 + std::abs(want));
    if (op == "Sigmoid" || op == "Tanh") return 8.0 * kU * std::abs(want) + 2.0 * kU;
    if (op.rfind("Softmax", 0) == 0) return 1e-6 * std::abs(want) + 1e-7;
    // The elementwise family: CUDA's math library (a few ulp) and fused
    // multiply-adds against glibc; exact where the formula is exact.
    if (elementwise_inexact_on_gpu(op)) return 32.0 * kU * (1.0 + std::abs(want));
    return 0.0;
}

class CudaKernels : public GpuFixture {};

TEST_F(CudaKernels, EveryCaseMatchesTheCpuKernel) {
    const std::vector<KernelCase> cases = kernel_cases();
    size_t compared = 0;
    for (uint32_t seed : {1u, 2u, 3u}) {
        std::mt19937 rng(seed);
        for (const KernelCase &c : cases) {
            // A failed ASSERT ends this case only: one run reports every case.
            [&] {
                SCOPED_TRACE(c.label + " seed " + std::to_string(seed));
                CaseData cpu = instantiate(c, DeviceType::CPU, rng);
                CaseData gpu = cpu;
                const Magnitude mag = magnitude(c, cpu);

                std::vector<const Tensor *> cpu_in;
                std::vector<Tensor *> cpu_out;
                for (const Tensor &t : cpu.inputs) cpu_in.push_back(&t);
                for (Tensor &t : cpu.outputs) cpu_out.push_back(&t);
                const Status st_cpu = run_kernel(c.node, cpu_in, cpu_out);
                ASSERT_TRUE(st_cpu.ok()) << st_cpu.message();

                // Prepared as a session would prepare it on this device (cuDNN
                // chooses its algorithm with the device's planning handle).
                ASSERT_TRUE(run_prepared(c.node, &gpu.inputs, &gpu.outputs));

                const std::vector<const Tensor *> want = results(c, cpu), got = results(c, gpu);
                ASSERT_EQ(want.size(), got.size());
                for (size_t r = 0; r < want.size(); ++r) {
                    ASSERT_EQ(want[r]->size(), got[r]->size());
                    for (size_t i = 0; i < want[r]->size(); ++i) {
                        const double w = want[r]->data[i], g = got[r]->data[i];
                        // Bool and i64 outputs compare as 4-byte words; NaN is NaN.
                        if (std::memcmp(&want[r]->data[i], &got[r]->data[i], 4) == 0 ||
                            (std::isnan(w) && std::isnan(g))) {
                            ++compared;
                            continue;
                        }
                        ASSERT_NEAR(g, w, tolerance(c, mag, r, i, w)) << "element " << i;
                        ++compared;
                    }
                }
            }();
            release_all();
        }
    }
    EXPECT_GT(compared, 1000000u);
    EXPECT_FALSE(device_lost(nullptr));
}

// A launch error fails the kernel and leaves the context usable: the same
// stream runs the next kernel.
TEST_F(CudaKernels, ARecoverableErrorLeavesTheStreamUsable) {
    NodeDesc fault = make_node("TestFault");
    AttrValue kind;
    kind.type = AttrValue::Type::String;
    kind.s = "error";
    fault.attrs["fault"] = kind;
    std::mt19937 rng(9);
    const Tensor x = fill_tensor({4}, Fill::Uniform, rng);
    KernelContext ctx;
    ctx.node = &fault;
    ctx.stream = stream_.get();
    ctx.inputs.push_back({upload(x, false), DType::F32, x.shape});
    ctx.outputs.push_back({upload(x, true), DType::F32, x.shape});
    const Status st = default_kernels().find(DeviceType::CUDA, "TestFault")->fn(ctx);
    EXPECT_EQ(st.code(), SALUS_EEXEC);
    // CUDA 12 calls a block of 4096 threads an invalid configuration; CUDA 13
    // (driver 580, H200) an invalid value.
    EXPECT_TRUE(st.message().find("cudaErrorInvalidConfiguration") != std::string::npos ||
                st.message().find("cudaErrorInvalidValue") != std::string::npos)
        << st.message();
    EXPECT_FALSE(device_lost(nullptr));

    NodeDesc relu = make_node("Relu");
    ctx.node = &relu;
    ASSERT_TRUE(default_kernels().find(DeviceType::CUDA, "Relu")->fn(ctx).ok());
    ASSERT_TRUE(stream_->synchronize().ok());
    Tensor y(x.shape);
    download(&y, ctx.outputs[0].data);
    for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(y.data[i], std::max(x.data[i], 0.0f));
    release_all();
}

} // namespace
} // namespace salus::test

int main(int argc, char **argv) {
    if (int rc = salus::test::require_gpu("cuda-kernels")) return rc;
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
