// The norm family's CUDA kernels (exec/cuda/norm.cu, and cuDNN's batch
// normalization where the registry chooses it: dnn_batch_norm_plans.h)
// against its CPU kernels, on the GPU, on random inputs; exits 77 without a
// GPU. Bounds: Dropout and DropoutGrad bit for bit (the same hash draws the
// same mask; one IEEE multiply per element); the normalizations 2e-5 (1 +
// |y|): our GPU kernels sum in double, the CPU in double or (layer norm, on
// oneDNN) float, in different orders, then both apply a few float operations
// that nvcc may fuse into FMAs, on inputs within [-2, 3] (test_kernels_norm.cpp
// checks oneDNN's layer norm gradient against the device code within this
// bound). cuDNN's batch normalization sums in float, in an order it does not
// document: with at most 2,048 values per channel here its rounding is
// expected within the same bound (not yet confirmed on a GPU).
#include "device/cuda/cuda_stream.h"
#include "device/device.h"
#include "gpu_check.h"
#include "gpu_fixture.h"
#include "kernel_test_util.h"

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

struct Case {
    NodeDesc node;
    std::vector<Shape> inputs;
    std::vector<bool> bool_inputs = {}; // per input: a mask
};

Case make(const std::string &op, std::vector<Shape> inputs,
          std::vector<std::pair<std::string, double>> attrs = {}) {
    Case c{make_node(op), std::move(inputs)};
    for (const auto &[key, value] : attrs) {
        if (key == "epsilon" || key == "ratio" || key == "momentum") {
            set_float(&c.node, key, value);
        } else {
            set_int(&c.node, key, static_cast<int64_t>(value));
        }
    }
    return c;
}

std::vector<Case> norm_cases() {
    std::vector<Case> cases;
    for (const Shape &x : std::vector<Shape>{{32, 16, 8, 8}, {7, 3}, {2, 5, 300}, {1, 2, 1, 3}}) {
        const Shape c{x[1]};
        cases.push_back(make("BatchNormalization", {x, c, c, c, c}));
        cases.push_back(make("BatchNormalizationTraining", {x, c, c, c, c}, {{"momentum", 0.7}}));
        cases.push_back(make("BatchNormalizationGrad", {x, x, c, c, c}));
        cases.push_back(make("BatchNormalizationInferenceGrad", {x, x, c, c, c}));
        if (x.size() >= 3) {
            cases.push_back(make("InstanceNormalization", {x, c, c}));
            cases.push_back(make("InstanceNormalizationGrad", {x, x, c}));
        }
        const double groups = x[1] % 2 == 0 ? 2 : 1;
        cases.push_back(make("GroupNormalization", {x, c, c}, {{"num_groups", groups}}));
        cases.push_back(make("GroupNormalizationGrad", {x, x, c}, {{"num_groups", groups}}));
    }
    for (const auto &[x, axis] : std::vector<std::pair<Shape, int64_t>>{
             {{64, 512}, -1}, {{4, 6, 10}, 1}, {{3, 1}, -1}, {{2, 3000}, -1}, {{5, 7}, 0}}) {
        const Shape norm(x.begin() + (axis < 0 ? axis + static_cast<int64_t>(x.size()) : axis),
                         x.end());
        Shape stats(x.begin(), x.end() - static_cast<int64_t>(norm.size()));
        stats.resize(x.size(), 1);
        cases.push_back(make("LayerNormalization", {x, norm, norm}, {{"axis", axis}}));
        cases.push_back(make("LayerNormalization", {x, norm}, {{"axis", axis}}));
        cases.push_back(
            make("LayerNormalizationGrad", {x, x, norm, stats, stats}, {{"axis", axis}}));
    }
    for (const Shape &x : std::vector<Shape>{{1000, 33}, {7}}) {
        for (double ratio : {0.0, 0.3, 1.0}) {
            for (double training : {0.0, 1.0}) {
                const std::vector<std::pair<std::string, double>> attrs = {
                    {"ratio", ratio}, {"training_mode", training}};
                std::vector<std::pair<std::string, double>> forward = attrs;
                forward.emplace_back("seed", 5);
                cases.push_back(make("Dropout", {x}, forward));
                Case grad = make("DropoutGrad", {x, x}, attrs);
                grad.bool_inputs = {false, true};
                cases.push_back(grad);
            }
        }
    }
    return cases;
}

class CudaNorm : public GpuFixture {};

TEST_F(CudaNorm, EveryKernelMatchesTheCpuKernel) {
    std::mt19937 rng(3);
    for (const Case &c : norm_cases()) {
        // A failed ASSERT ends this case only: one run reports every case.
        [&] {
            std::string label = c.node.op;
            for (const Shape &s : c.inputs) label += " " + shape_str(s);
            SCOPED_TRACE(label);
            NodeDesc node = c.node;
            std::vector<Tensor> inputs;
            std::vector<InputInfo> infos;
            for (size_t i = 0; i < c.inputs.size(); ++i) {
                // Positive where a variance or an inverse standard deviation goes.
                const bool positive = i == 4 && c.node.op.rfind("BatchNormalization", 0) == 0;
                inputs.push_back(random_tensor(c.inputs[i], rng, positive ? 0.5f : -2.0f, 3.0f));
                if (i < c.bool_inputs.size() && c.bool_inputs[i]) {
                    inputs.back().dtype = DType::Bool;
                    auto *bytes = reinterpret_cast<uint8_t *>(inputs.back().data.data());
                    for (int64_t k = 0; k < num_elements(c.inputs[i]); ++k) bytes[k] = rng() % 2;
                }
            }
            if (c.node.op == "LayerNormalizationGrad") {
                for (float &v : inputs[4].data) v = std::abs(v) + 0.5f;
            }
            for (const Tensor &t : inputs) infos.push_back({t.dtype, &t.shape});
            std::vector<OutputInfo> outs;
            ASSERT_TRUE(infer_node(*find_op(node.op), &node, infos, &outs).ok());
            std::vector<Tensor> cpu_out;
            for (const OutputInfo &o : outs) {
                cpu_out.emplace_back(o.shape);
                cpu_out.back().dtype = o.dtype;
            }
            std::vector<Tensor> cpu_in = inputs;
            {
                std::vector<const Tensor *> in;
                std::vector<Tensor *> out;
                for (const Tensor &t : cpu_in) in.push_back(&t);
                for (Tensor &t : cpu_out) out.push_back(&t);
                // The iteration number only matters to Dropout: run_kernel's is 0.
                ASSERT_TRUE(run_kernel(node, in, out).ok());
            }

            // Batch normalization on cuDNN where the registry chooses it.
            std::vector<Tensor> gpu_in = inputs, gpu_out = cpu_out;
            ASSERT_TRUE(run_prepared(node, &gpu_in, &gpu_out));

            const bool exact = node.op.rfind("Dropout", 0) == 0;
            auto compare = [&](const Tensor &want, const Tensor &got, const std::string &what) {
                if (want.dtype == DType::Bool) {
                    const size_t n = static_cast<size_t>(num_elements(want.shape));
                    EXPECT_EQ(std::memcmp(want.data.data(), got.data.data(), n), 0) << what;
                    return;
                }
                for (size_t i = 0; i < want.size(); ++i) {
                    const double w = want.data[i];
                    const double tol = exact ? 0.0 : 2e-5 * (1.0 + std::abs(w));
                    ASSERT_NEAR(got.data[i], w, tol) << what << " element " << i;
                }
            };
            for (size_t i = 0; i < cpu_out.size(); ++i) {
                compare(cpu_out[i], gpu_out[i], "output " + std::to_string(i));
            }
            for (int i : find_op(node.op)->updates_inputs) {
                compare(cpu_in[static_cast<size_t>(i)], gpu_in[static_cast<size_t>(i)],
                        "updated input " + std::to_string(i));
            }
        }();
        release_all();
    }
}

} // namespace
} // namespace salus::test

int main(int argc, char **argv) {
    if (int rc = salus::test::require_gpu("cuda-norm")) return rc;
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
