// The CUDA kernels' host-side logic and per-element device code, run on the
// CPU against the CPU kernels on every case of kernel_cases.h. Each CUDA
// kernel is emulated exactly as cuda_kernels.cpp and kernels.cu compose it:
// the same plan (exec/cuda/kernel_plans.h), the same device code
// (exec/cuda/device_code.h), with the loops over threads written as plain
// loops and the block reductions as sequential sums. What this cannot check
// (the thread loops, the block reductions, cuBLAS itself) the cuda suite
// checks on a GPU with the same cases.
#include "elementwise_emulation.h"
#include "exec/cuda/device_code.h"
#include "exec/cuda/kernel_plans.h"
#include "exec/cuda/launch_config.h"
#include "family_device_tests.h"
#include "kernel_cases.h"
#include "ops/awaiting_cuda.h"
#include "shape_emulation.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace salus::test {
namespace {

using namespace salus::cuda;

Status emulate_softmax(const KernelContext &ctx, bool grad) {
    AxisPlan p;
    SALUS_RETURN_IF_ERROR(grad ? plan_softmax_grad(ctx, &p) : plan_softmax(ctx, &p));
    float *y = ctx.outputs[0].f32();
    for (int64_t line = 0; line < axis_lines(p); ++line) {
        if (grad) {
            const float *dy = ctx.inputs[0].f32();
            const float *yv = ctx.inputs[1].f32();
            double dot = 0.0;
            for (int64_t k = 0; k < p.n; ++k) {
                dot +=
                    static_cast<double>(dy[axis_offset(p, line, k)]) * yv[axis_offset(p, line, k)];
            }
            for (int64_t k = 0; k < p.n; ++k) {
                const int64_t at = axis_offset(p, line, k);
                y[at] = softmax_grad_value(dy[at], yv[at], static_cast<float>(dot));
            }
            continue;
        }
        const float *x = ctx.inputs[0].f32();
        float m = -std::numeric_limits<float>::infinity();
        for (int64_t k = 0; k < p.n; ++k) m = std::fmax(m, x[axis_offset(p, line, k)]);
        double sum = 0.0;
        for (int64_t k = 0; k < p.n; ++k) sum += expf(x[axis_offset(p, line, k)] - m);
        const float scale = static_cast<float>(1.0 / sum);
        for (int64_t k = 0; k < p.n; ++k) {
            const int64_t at = axis_offset(p, line, k);
            y[at] = softmax_value(x[at], m, scale);
        }
    }
    return {};
}

void row_max_sum(const float *x, int64_t cols, float *m, double *sum) {
    *m = -std::numeric_limits<float>::infinity();
    for (int64_t c = 0; c < cols; ++c) *m = std::fmax(*m, x[c]);
    *sum = 0.0;
    for (int64_t c = 0; c < cols; ++c) *sum += expf(x[c] - *m);
}

Status emulate_xent(const KernelContext &ctx) {
    XentPlan p;
    SALUS_RETURN_IF_ERROR(plan_xent(ctx, &p));
    auto *row_loss = static_cast<double *>(ctx.workspace);
    for (int64_t r = 0; r < p.rows; ++r) {
        const float *x = ctx.inputs[0].f32() + r * p.cols;
        const float *t = ctx.inputs[1].f32() + r * p.cols;
        float m;
        double sum;
        row_max_sum(x, p.cols, &m, &sum);
        const double lse = std::log(sum);
        row_loss[r] = 0.0;
        for (int64_t c = 0; c < p.cols; ++c) row_loss[r] += xent_term(x[c], t[c], m, lse);
    }
    double total = 0.0;
    for (int64_t r = 0; r < p.rows; ++r) total += row_loss[r];
    ctx.outputs[0].f32()[0] =
        p.rows > 0 ? static_cast<float>(total / static_cast<double>(p.rows)) : 0.0f;
    return {};
}

Status emulate_xent_grad(const KernelContext &ctx) {
    XentPlan p;
    SALUS_RETURN_IF_ERROR(plan_xent_grad(ctx, &p));
    double scale = p.rows > 0 ? 1.0 / static_cast<double>(p.rows) : 0.0;
    if (ctx.inputs.size() > 2) scale *= ctx.inputs[2].f32()[0];
    for (int64_t r = 0; r < p.rows; ++r) {
        const float *x = ctx.inputs[0].f32() + r * p.cols;
        const float *t = ctx.inputs[1].f32() + r * p.cols;
        float m;
        double sum;
        row_max_sum(x, p.cols, &m, &sum);
        for (int64_t c = 0; c < p.cols; ++c) {
            ctx.outputs[0].f32()[r * p.cols + c] = xent_grad_value(x[c], t[c], m, 1.0 / sum, scale);
        }
    }
    return {};
}

// The CUDA kernel of ctx.node->op, its device code run on the CPU.
Status emulate(const KernelContext &ctx) {
    const std::string &op = ctx.node->op;
    const float *x = ctx.inputs.empty() ? nullptr : ctx.inputs[0].f32();
    float *y = ctx.outputs.empty() ? nullptr : ctx.outputs[0].f32();
    int64_t n = 0;
    StridedIndex ix;
    if (Status st; emulate_elementwise(ctx, &st)) return st;
    if (op == "Identity" || op == "Reshape") {
        size_t bytes = 0;
        SALUS_RETURN_IF_ERROR(plan_copy(ctx, &bytes));
        if (bytes) std::memcpy(y, x, bytes);
        return {};
    }
    if (op == "Expand" || op == "Transpose") {
        SALUS_RETURN_IF_ERROR(op == "Expand" ? plan_expand(ctx, &ix, &n)
                                             : plan_transpose(ctx, &ix, &n));
        for (int64_t i = 0; i < n; ++i) y[i] = x[strided_offset(ix, 1, i)];
        return {};
    }
    if (op == "ReduceSum" || op == "ReduceMean") {
        ReducePlan p;
        SALUS_RETURN_IF_ERROR(plan_reduce(ctx, op == "ReduceMean", &p));
        for (int64_t o = 0; o < p.outputs; ++o) {
            double sum = 0.0;
            for (int64_t k = 0; k < p.count; ++k) sum += x[reduce_offset(p, o, k)];
            y[o] = static_cast<float>(sum) * p.scale;
        }
        return {};
    }
    if (op == "OneHot") {
        int64_t count = 0, depth = 0;
        bool wide = false;
        SALUS_RETURN_IF_ERROR(plan_one_hot(ctx, &count, &depth, &wide));
        for (int64_t i = 0; i < count * depth; ++i) {
            const int64_t row = i / depth;
            const int64_t index = wide ? static_cast<const int64_t *>(ctx.inputs[0].data)[row]
                                       : static_cast<const int32_t *>(ctx.inputs[0].data)[row];
            y[i] = one_hot_value(index, depth, i - row * depth);
        }
        return {};
    }
    if (op == "Softmax") return emulate_softmax(ctx, false);
    if (op == "SoftmaxGrad") return emulate_softmax(ctx, true);
    if (op == "SoftmaxCrossEntropy") return emulate_xent(ctx);
    if (op == "SoftmaxCrossEntropyGrad") return emulate_xent_grad(ctx);
    if (is_shape_emulated(op)) return emulate_shape(ctx);
    if (Status st; loss_emulation::emulate(ctx, &st)) return st;
    return Status(SALUS_ENOTSUP, "no emulation for " + op);
}

KernelContext context(const KernelCase &c, CaseData &d, std::vector<uint8_t> *workspace) {
    KernelContext ctx;
    ctx.node = &c.node;
    for (const Tensor &t : d.inputs) ctx.inputs.push_back(view(t));
    for (const Tensor &t : d.outputs) ctx.outputs.push_back(view(t));
    workspace->assign(d.workspace_bytes, 0);
    ctx.workspace = workspace->data();
    ctx.workspace_bytes = d.workspace_bytes;
    return ctx;
}

TEST(CudaDeviceCode, EveryCaseMatchesTheCpuKernel) {
    std::mt19937 rng(20261201);
    std::vector<std::string> ops_seen;
    const std::vector<KernelCase> cases = kernel_cases();
    for (const KernelCase &c : cases) {
        SCOPED_TRACE(c.label);
        if (kLibraryKernels.count(c.node.op)) {
            // Nothing to emulate; the cuda suite needs the case valid.
            CaseData cpu = instantiate(c, DeviceType::CPU, rng);
            std::vector<const Tensor *> in;
            std::vector<Tensor *> out;
            for (const Tensor &t : cpu.inputs) in.push_back(&t);
            for (Tensor &t : cpu.outputs) out.push_back(&t);
            const Status st = run_kernel(c.node, in, out);
            ASSERT_TRUE(st.ok()) << st.message();
            EXPECT_EQ(magnitude(c, cpu).sum.size(), cpu.outputs.size());
            continue;
        }
        CaseData cpu = instantiate(c, DeviceType::CPU, rng);
        CaseData emu = cpu;
        emu.workspace_bytes = instantiate(c, DeviceType::CUDA, rng).workspace_bytes;
        for (Tensor &t : cpu.outputs) std::fill(t.data.begin(), t.data.end(), NAN);
        for (Tensor &t : emu.outputs) std::fill(t.data.begin(), t.data.end(), NAN);

        std::vector<uint8_t> ws_cpu, ws_emu;
        const KernelContext cpu_ctx = context(c, cpu, &ws_cpu);
        const KernelContext emu_ctx = context(c, emu, &ws_emu);
        const Status st_cpu = run_cpu_kernel(cpu_ctx);
        const Status st_emu = emulate(emu_ctx);
        ASSERT_TRUE(st_cpu.ok()) << st_cpu.message();
        ASSERT_TRUE(st_emu.ok()) << st_emu.message();

        const std::vector<const Tensor *> want = results(c, cpu), got = results(c, emu);
        ASSERT_EQ(want.size(), got.size());
        const Magnitude mag = magnitude(c, cpu);
        for (size_t r = 0; r < want.size(); ++r) {
            ASSERT_EQ(want[r]->size(), got[r]->size());
            for (size_t i = 0; i < want[r]->size(); ++i) {
                const double w = want[r]->data[i], g = got[r]->data[i];
                // The same bits (NaN included; bool and i64 outputs are compared
                // as 4-byte words).
                if (std::memcmp(&want[r]->data[i], &got[r]->data[i], sizeof(float)) == 0) continue;
                // Elementwise ops and data movement run the CPU's float
                // operations exactly. Sums run in another order (and the
                // CPU keeps float partial sums in places, OpenBLAS a float
                // accumulator): bounded by terms * 2^-24 * sum |terms|, twice
                // over for the two sides. Softmax and cross-entropy sum in
                // double on both sides: a few float roundings apart.
                double tol = 0.0;
                if (!mag.empty()) {
                    tol = mag.bound(r, i) + 1e-12;
                } else if (c.node.op.rfind("Softmax", 0) == 0 || loss_tolerance(c.node.op, w) > 0) {
                    tol = 1e-6 * std::abs(w) + 1e-7;
                }
                ASSERT_NEAR(g, w, tol) << "element " << i;
            }
        }
        if (ops_seen.empty() || ops_seen.back() != c.node.op) ops_seen.push_back(c.node.op);
    }
    // The catalogue covers every op of the table that has device code of its
    // own to check here.
    for (const OpSchema &op : all_ops()) {
        if (kAwaitingCudaKernel.count(op.name) || kDeviceCodeTestedByFamily.count(op.name) ||
            kLibraryKernels.count(op.name))
            continue;
        EXPECT_NE(std::find(ops_seen.begin(), ops_seen.end(), op.name), ops_seen.end()) << op.name;
    }
}

TEST(CudaDeviceCode, PlansRefuseWhatTheKernelCannotRun) {
    const Tensor a({2, 3}), b({4, 5}), y({2, 3}), scalar(Shape{}), bytes({6});
    NodeDesc add = make_node("Add");
    KernelContext ctx;
    ctx.node = &add;
    ctx.inputs = {view(a), view(b)};
    ctx.outputs = {view(y)};
    StridedIndex ix;
    int64_t n = 0;
    EXPECT_EQ(plan_binary(ctx, &ix, &n).code(), SALUS_EEXEC);

    NodeDesc mm = make_node("MatMul");
    ctx.node = &mm;
    GemmPlan g;
    EXPECT_EQ(plan_gemm(ctx, &g).code(), SALUS_EEXEC); // 3 != 4

    NodeDesc xent = make_node("SoftmaxCrossEntropy");
    ctx.node = &xent;
    ctx.inputs = {view(a), view(a)};
    ctx.outputs = {view(scalar)};
    XentPlan xp;
    const Status no_ws = plan_xent(ctx, &xp); // no workspace for the row losses
    EXPECT_EQ(no_ws.code(), SALUS_EEXEC);
    EXPECT_NE(no_ws.message().find("workspace"), std::string::npos) << no_ws.message();

    NodeDesc id = make_node("Identity");
    ctx.node = &id;
    ctx.inputs = {view(a)};
    ctx.outputs = {view(bytes)};
    ctx.outputs[0].dtype = DType::I32;
    size_t copy = 0;
    EXPECT_EQ(plan_copy(ctx, &copy).code(), SALUS_EEXEC); // dtypes differ
    ctx.inputs[0].dtype = DType::I32;
    EXPECT_TRUE(plan_copy(ctx, &copy).ok()); // any dtype, byte for byte
    EXPECT_EQ(copy, 24u);

    NodeDesc relu = make_node("Relu");
    ctx.node = &relu;
    const Status dtype = plan_same_size(ctx, 1, &n);
    EXPECT_EQ(dtype.code(), SALUS_EEXEC);
    EXPECT_NE(dtype.message().find("f32"), std::string::npos) << dtype.message();
}

TEST(CudaDeviceCode, GemmPlanSwapsOperandsForColumnMajor) {
    // Y [2, 4] = A [2, 3] x B^T with B [4, 3]: cuBLAS computes Y^T [4, 2] =
    // B [4 x 3 read transposed] x A^T.
    const Tensor a({2, 3}), b({4, 3}), y({2, 4});
    NodeDesc mm = make_node("MatMul");
    set_int(&mm, "transB", 1);
    KernelContext ctx;
    ctx.node = &mm;
    ctx.inputs = {view(a), view(b)};
    ctx.outputs = {view(y)};
    GemmPlan g;
    ASSERT_TRUE(plan_gemm(ctx, &g).ok());
    EXPECT_TRUE(g.trans_first);
    EXPECT_FALSE(g.trans_second);
    EXPECT_EQ(g.m, 4);
    EXPECT_EQ(g.n, 2);
    EXPECT_EQ(g.k, 3);
    EXPECT_EQ(g.ld_first, 3);
    EXPECT_EQ(g.ld_second, 3);
    EXPECT_EQ(g.ldc, 4);
}

TEST(CudaLaunchConfig, ElementwiseCoversEveryElementWithinTheGridCap) {
    EXPECT_EQ(elementwise_launch(0).blocks, 0u);
    EXPECT_EQ(elementwise_launch(-3).blocks, 0u);
    for (int64_t n : {int64_t{1}, int64_t{255}, int64_t{256}, int64_t{257}, int64_t{1} << 20,
                      int64_t{1} << 40}) {
        const LaunchConfig c = elementwise_launch(n);
        EXPECT_EQ(c.threads, kElementwiseThreads);
        EXPECT_GE(c.blocks, 1u);
        EXPECT_LE(static_cast<int64_t>(c.blocks), kMaxBlocks);
        // Either one thread per element, or the grid-stride loop goes round.
        const int64_t threads = static_cast<int64_t>(c.blocks) * c.threads;
        EXPECT_TRUE(threads >= n || c.blocks == kMaxBlocks) << n;
        EXPECT_LT(threads - n, static_cast<int64_t>(c.threads)) << n;
    }
}

TEST(CudaLaunchConfig, LineBlocksArePowersOfTwoWithinTheSharedArrays) {
    EXPECT_EQ(line_launch(0, 10).blocks, 0u);
    for (int64_t len : {int64_t{0}, int64_t{1}, int64_t{10}, int64_t{32}, int64_t{33}, int64_t{200},
                        int64_t{256}, int64_t{100000}}) {
        const LaunchConfig c = line_launch(3, len);
        EXPECT_EQ(c.blocks, 3u);
        EXPECT_EQ(c.threads & (c.threads - 1), 0u) << len;
        EXPECT_GE(c.threads, kMinLineThreads);
        EXPECT_LE(c.threads, kMaxLineThreads);
        if (len <= kMaxLineThreads) {
            EXPECT_GE(static_cast<int64_t>(c.threads), len); // one element per thread
            EXPECT_TRUE(c.threads == kMinLineThreads || static_cast<int64_t>(c.threads) / 2 < len);
        }
    }
    EXPECT_EQ(static_cast<int64_t>(line_launch(int64_t{1} << 40, 4).blocks), kMaxBlocks);
}

} // namespace
} // namespace salus::test
