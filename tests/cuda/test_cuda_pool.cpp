// Pooling's CUDA kernels against the CPU kernels, on the GPU, on random
// inputs: cuDNN's pooling where the registry chooses it
// (exec/cuda/dnn_pool_plans.h), our own kernel for the rest (Indices,
// dilations, asymmetric pads, ceil_mode windows past the end pad, MaxPoolGrad).
// Exits 77 without a GPU. Bounds: maxima and Indices exactly; means and
// gradients 1e-6 (inputs within [-1, 1], at most 9 terms a window, summed in
// different orders).
#include "device/device.h"
#include "gpu_check.h"
#include "gpu_fixture.h"
#include "kernel_test_util.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace salus::test {
namespace {

struct Geometry {
    Shape x;
    std::vector<int64_t> kernel, strides, pads, dilations;
    int64_t ceil_mode, include_pad;
};

NodeDesc pool_node(const std::string &op, const Geometry &g) {
    NodeDesc node = make_node(op);
    set_ints(&node, "kernel_shape", g.kernel);
    set_ints(&node, "strides", g.strides);
    set_ints(&node, "pads", g.pads);
    set_int(&node, "ceil_mode", g.ceil_mode);
    if (op.rfind("MaxPool", 0) == 0) {
        set_ints(&node, "dilations", g.dilations);
    } else {
        set_int(&node, "count_include_pad", g.include_pad);
    }
    return node;
}

class CudaPool : public GpuFixture {
  protected:
    // Runs node on both devices and compares every output.
    void compare(const NodeDesc &node, const std::vector<Tensor> &inputs, size_t outputs) {
        NodeDesc canonical = node;
        canonical.outputs.resize(outputs);
        ASSERT_TRUE(canonicalize_attrs(*find_op(node.op), &canonical).ok());
        std::vector<InputInfo> infos;
        for (const Tensor &t : inputs) infos.push_back({t.dtype, &t.shape});
        std::vector<OutputInfo> outs;
        ASSERT_TRUE(infer_node(*find_op(node.op), &canonical, infos, &outs).ok());
        std::vector<Tensor> cpu_out;
        for (const OutputInfo &o : outs) cpu_out.emplace_back(o.shape, o.dtype);
        {
            std::vector<const Tensor *> in;
            std::vector<Tensor *> out;
            for (const Tensor &t : inputs) in.push_back(&t);
            for (Tensor &t : cpu_out) out.push_back(&t);
            const Status st = run_kernel(canonical, in, out);
            ASSERT_TRUE(st.ok()) << st.message();
        }
        std::vector<Tensor> gpu_in = inputs, gpu_out = cpu_out;
        ASSERT_TRUE(run_prepared(canonical, &gpu_in, &gpu_out));
        for (size_t r = 0; r < cpu_out.size(); ++r) {
            const Tensor &want = cpu_out[r], &got = gpu_out[r];
            ASSERT_EQ(want.data.size(), got.data.size());
            const bool exact = r == 1 || node.op == "MaxPool"; // maxima and Indices
            for (size_t i = 0; i < want.data.size(); ++i) {
                if (exact) {
                    ASSERT_EQ(std::memcmp(&want.data[i], &got.data[i], 4), 0)
                        << "output " << r << " word " << i;
                } else {
                    ASSERT_NEAR(got.data[i], want.data[i], 1e-6) << "output " << r << " " << i;
                }
            }
        }
    }
};

TEST_F(CudaPool, EveryGeometryMatchesTheCpuKernel) {
    std::mt19937 rng(17);
    const Geometry geometries[] = {
        {{2, 3, 8, 8}, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, 0, 0},
        {{4, 16, 16, 16}, {2, 2}, {2, 2}, {0, 0, 0, 0}, {1, 1}, 0, 1},
        {{1, 2, 8, 8}, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, 1, 1}, // include_pad past the end
        {{1, 2, 9, 9}, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, 1, 1}, // ceil, within the pad
        {{2, 3, 7, 6}, {3, 2}, {2, 2}, {1, 0, 1, 1}, {1, 1}, 0, 0}, // asymmetric
        {{2, 1, 7, 9}, {2, 3}, {1, 2}, {1, 0, 1, 0}, {2, 1}, 1, 0}, // dilated max
        {{2, 3, 10}, {4}, {3}, {2, 2}, {1}, 1, 1},                  // 1-D
        {{2, 3, 11}, {3}, {2}, {1, 1}, {1}, 0, 1},
        {{1, 1, 1, 1}, {1, 1}, {1, 1}, {0, 0, 0, 0}, {1, 1}, 0, 1},
    };
    for (const Geometry &g : geometries) {
        for (const char *op : {"MaxPool", "AveragePool", "MaxPoolGrad", "AveragePoolGrad"}) {
            [&] {
                const NodeDesc node = pool_node(op, g);
                SCOPED_TRACE(std::string(op) + " X " + shape_str(g.x));
                const Tensor x = random_tensor(g.x, rng);
                if (std::string(op).find("Grad") == std::string::npos) {
                    compare(node, {x}, 1);
                    if (std::string(op) == "MaxPool") compare(node, {x}, 2); // Indices: ours
                    return;
                }
                // dY: the forward's output shape.
                NodeDesc forward =
                    pool_node(std::string(op).substr(0, std::string(op).size() - 4), g);
                ASSERT_TRUE(canonicalize_attrs(*find_op(forward.op), &forward).ok());
                forward.outputs.resize(1);
                std::vector<OutputInfo> outs;
                ASSERT_TRUE(
                    infer_node(*find_op(forward.op), &forward, {{DType::F32, &x.shape}}, &outs)
                        .ok());
                compare(node, {random_tensor(outs[0].shape, rng), x}, 1);
            }();
            release_all();
        }
    }
}

// After a Relu, windows of zeros tie: ONNX and our kernels give dY to the
// first maximum of each window; cuDNN must agree.
TEST_F(CudaPool, MaxPoolGradTiesGoToTheFirstMaximum) {
    const Geometry g{{2, 4, 8, 8}, {3, 3}, {2, 2}, {1, 1, 1, 1}, {1, 1}, 0, 0};
    std::mt19937 rng(5);
    Tensor x = random_tensor(g.x, rng);
    for (float &v : x.data) v = v < 0.5f ? 0.0f : v;
    const Tensor dy = random_tensor({2, 4, 4, 4}, rng);
    compare(pool_node("MaxPoolGrad", g), {dy, x}, 1);
}

} // namespace
} // namespace salus::test

int main(int argc, char **argv) {
    if (int rc = salus::test::require_gpu("cuda-pool")) return rc;
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
