// AdamUpdate against Adam written out in double precision (the update of
// torch.optim.Adam with its defaults), over several steps so that the bias
// correction and the moment estimates are both exercised.
#include "kernel_test_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace salus::test {
namespace {

struct AdamReference {
    double lr, beta1, beta2, eps;
    std::vector<double> w, m, v;
    int step = 0;

    void update(const std::vector<float> &g) {
        ++step;
        const double bc1 = 1.0 - std::pow(beta1, step);
        const double bc2 = 1.0 - std::pow(beta2, step);
        for (size_t i = 0; i < w.size(); ++i) {
            m[i] = beta1 * m[i] + (1.0 - beta1) * g[i];
            v[i] = beta2 * v[i] + (1.0 - beta2) * g[i] * g[i];
            w[i] -= lr / bc1 * m[i] / (std::sqrt(v[i]) / std::sqrt(bc2) + eps);
        }
    }
};

void check_adam(NodeDesc node, double lr, double beta1, double beta2, double eps) {
    std::mt19937 rng(11);
    Tensor w = random_tensor({4, 5}, rng);
    Tensor m({4, 5}), v({4, 5}), step(Shape{});
    step.data = {0.0f};
    AdamReference ref{lr, beta1, beta2, eps, {}, {}, {}};
    ref.w.assign(w.data.begin(), w.data.end());
    ref.m.assign(w.size(), 0.0);
    ref.v.assign(w.size(), 0.0);

    for (int s = 1; s <= 25; ++s) {
        // Gradients of changing sign and scale, some tiny, as in training.
        const Tensor g = random_tensor({4, 5}, rng, s % 3 == 0 ? -1e-3f : -2.0f, 2.0f);
        ASSERT_TRUE(run_kernel(node, {&w, &g, &m, &v, &step}, {}).ok());
        ref.update(g.data);
        ASSERT_EQ(step.data[0], static_cast<float>(s));
        for (size_t i = 0; i < w.size(); ++i) {
            // Float against double: a few ulps per step, accumulated.
            ASSERT_NEAR(w.data[i], ref.w[i], 1e-5 + 1e-5 * std::abs(ref.w[i]))
                << "step " << s << " element " << i;
            ASSERT_NEAR(m.data[i], ref.m[i], 1e-6 + 1e-5 * std::abs(ref.m[i])) << "step " << s;
            ASSERT_NEAR(v.data[i], ref.v[i], 1e-7 + 1e-5 * std::abs(ref.v[i])) << "step " << s;
        }
    }
}

TEST(KernelsAdam, DefaultsMatchTheReference) {
    NodeDesc node = make_node("AdamUpdate");
    set_float(&node, "lr", 0.01);
    check_adam(node, 0.01, 0.9, 0.999, 1e-8);
}

TEST(KernelsAdam, AttributesMatchTheReference) {
    NodeDesc node = make_node("AdamUpdate");
    set_float(&node, "lr", 0.003);
    set_float(&node, "beta1", 0.5);
    set_float(&node, "beta2", 0.9);
    set_float(&node, "eps", 1e-3);
    check_adam(node, 0.003, 0.5, 0.9, 1e-3);
}

TEST(KernelsAdam, FirstStepMovesEveryWeightByAboutLr) {
    // With m and v at zero, the first bias-corrected step is lr * sign(g).
    NodeDesc node = make_node("AdamUpdate");
    set_float(&node, "lr", 0.1);
    Tensor w({3}, {1.0f, 1.0f, 1.0f});
    const Tensor g({3}, {4.0f, -0.5f, 1e-3f});
    Tensor m({3}), v({3}), step(Shape{});
    step.data = {0.0f};
    ASSERT_TRUE(run_kernel(node, {&w, &g, &m, &v, &step}, {}).ok());
    EXPECT_NEAR(w.data[0], 0.9f, 1e-6);
    EXPECT_NEAR(w.data[1], 1.1f, 1e-6);
    EXPECT_NEAR(w.data[2], 0.9f, 1e-5);
}

} // namespace
} // namespace salus::test
