// plan_memory(): exact P and T on hand-computed graphs, then the plan's
// invariants on a few hundred random valid DAGs.
#include "exec/cuda/workspace.h"
#include "exec/kernel.h"
#include "graph/planner.h"
#include "graph/validate.h"

#include "graph_helpers.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace salus {
namespace {

using test::float_attr;
using test::GraphBuilder;
using test::int_attr;
using test::ints_attr;

// The CUDA plans need the CUDA kernels' scratch sizes, registered only in
// builds with the CUDA backend.
#ifdef SALUS_HAVE_CUDA
constexpr bool kCudaBuilt = true;
#else
constexpr bool kCudaBuilt = false;
#endif
#define SKIP_WITHOUT_CUDA()                                                                        \
    if (!kCudaBuilt) GTEST_SKIP() << "this build has no CUDA backend"

uint64_t aligned(uint64_t n) {
    return (n + kPlanAlignment - 1) / kPlanAlignment * kPlanAlignment;
}

// The plan with the scratch space of `device`'s kernels (no device needed:
// the kernels with scratch space on CUDA size it from shapes alone).
MemoryPlan plan_for(const Graph &g, const std::vector<uint32_t> &order, DeviceType device) {
    std::vector<PreparedKernel> kernels;
    const Status st = prepare_kernels(g, order, device, nullptr, default_kernels(), &kernels);
    EXPECT_TRUE(st.ok()) << st.message();
    return plan_memory(g, order, workspace_bytes(kernels));
}

MemoryPlan validate_and_plan(Graph *g, std::vector<uint32_t> *order) {
    const Status st = validate_graph(g, order);
    EXPECT_TRUE(st.ok()) << st.message();
    return plan_memory(*g, *order);
}

// x [17] -> Relu a [17] -> ReduceSum s [] -> Expand e [40] -> Relu y [40] (output).
// Bytes: x, a = 68 -> 128; s = 4 -> 64; e, y = 160 -> 192.
// Steps 0..3; lifetimes x [0,0], a [0,1], s [1,2], e [2,3], y [3,3].
// Placement order (size desc, then first step, then id): e, y, x, a, s.
//   e -> 0 (nothing placed);  y [3,3] meets e [0,192)        -> 192
//   x -> 0 (meets neither e nor y);  a [0,1] meets x [0,128) -> 128
//   s [1,2] meets e [0,192) and a [128,256)                    -> 256
// T = max(192 + 192, 256 + 64) = 384, which is also the step-3 live sum.
TEST(Planner, ChainReusesMemoryAndAlignsTo64) {
    GraphBuilder b;
    const uint32_t x = b.input("x", {17});
    const uint32_t a = b.op("Relu", {x});
    const uint32_t s = b.op("ReduceSum", {a}, {{"keepdims", int_attr(0)}});
    const uint32_t e = b.op("Expand", {s}, {{"shape", ints_attr({40})}});
    const uint32_t y = b.op("Relu", {e});
    b.output(y);
    std::vector<uint32_t> order;
    const MemoryPlan plan = validate_and_plan(&b.graph(), &order);

    EXPECT_EQ(plan.persistent_bytes, 0u);
    EXPECT_EQ(plan.ephemeral_bytes, 384u);
    EXPECT_EQ(plan.ephemeral_offset, (std::vector<uint64_t>{0, 128, 256, 0, 192}));
    EXPECT_EQ(plan.first_step, (std::vector<uint32_t>{0, 0, 1, 2, 3}));
    EXPECT_EQ(plan.last_step, (std::vector<uint32_t>{0, 1, 2, 3, 3}));
    EXPECT_EQ(plan.persistent_offset, std::vector<uint64_t>(5, kNoOffset));
    EXPECT_EQ(plan.workspace_bytes, std::vector<uint64_t>(4, 0));
    EXPECT_EQ(plan.workspace_offset, std::vector<uint64_t>(4, 0));
    (void)x, (void)a, (void)s, (void)e;
}

// x [10, 10] feeds a = Relu(x) and b = Tanh(x); c = Add(a, b) is the output.
// Every tensor is 400 bytes -> 448. Lifetimes x [0,1], a [0,2], b [1,2], c [2,2]:
// x, a and b are all live at step 1, so none of them can share; only c may
// take x's place. Placement x -> 0, a -> 448, b -> 896, c -> 0.
// T = 3 * 448 = 1344.
TEST(Planner, DiamondBranchesCannotShare) {
    GraphBuilder b;
    const uint32_t x = b.input("x", {10, 10});
    const uint32_t a = b.op("Relu", {x});
    const uint32_t t = b.op("Tanh", {x});
    b.output(b.op("Add", {a, t}));
    std::vector<uint32_t> order;
    const MemoryPlan plan = validate_and_plan(&b.graph(), &order);

    EXPECT_EQ(plan.ephemeral_bytes, 1344u);
    EXPECT_EQ(plan.ephemeral_offset, (std::vector<uint64_t>{0, 448, 896, 0}));
    EXPECT_EQ(plan.first_step, (std::vector<uint32_t>{0, 0, 1, 2}));
    EXPECT_EQ(plan.last_step, (std::vector<uint32_t>{1, 2, 2, 2}));
}

// Persistent region: w [3, 5] = 60 -> 64 at 0, bias [5] = 20 -> 64 at 64,
// k [7, 7] = 196 -> 256 at 128 (unused, still planned); P = 384.
// Nodes: h = x·w, y = h + bias (output), g = xᵀ·y, SGDUpdate(w, g);
// order 0, 1, 2, 3. Ephemeral (all 64 bytes): x [0,2] (read by steps 0 and 2),
// h [0,1], y [1,3] (output: to the last step), g [2,3].
// Placement x -> 0, h -> 64, y -> 128 (meets x and h), g -> 64 (h is dead).
// T = 192.
TEST(Planner, PersistentRegionAndTrainingStep) {
    GraphBuilder b;
    const uint32_t x = b.input("x", {2, 3});
    const uint32_t w = b.variable("w", {3, 5});
    const uint32_t bias = b.variable("bias", {5});
    const uint32_t k = b.constant("k", {7, 7});
    const uint32_t h = b.op("MatMul", {x, w});
    const uint32_t y = b.op("Add", {h, bias});
    const uint32_t g = b.op("MatMul", {x, y}, {{"transA", int_attr(1)}});
    b.sink("SGDUpdate", {w, g}, {{"lr", float_attr(0.1)}});
    b.output(y);
    std::vector<uint32_t> order;
    const MemoryPlan plan = validate_and_plan(&b.graph(), &order);

    ASSERT_EQ(order, (std::vector<uint32_t>{0, 1, 2, 3}));
    EXPECT_EQ(plan.persistent_bytes, 384u);
    EXPECT_EQ(plan.persistent_offset,
              (std::vector<uint64_t>{kNoOffset, 0, 64, 128, kNoOffset, kNoOffset, kNoOffset}));
    EXPECT_EQ(plan.ephemeral_bytes, 192u);
    EXPECT_EQ(plan.ephemeral_offset,
              (std::vector<uint64_t>{0, kNoOffset, kNoOffset, kNoOffset, 64, 128, 64}));
    EXPECT_EQ(plan.first_step, (std::vector<uint32_t>{0, 0, 0, 0, 0, 1, 2}));
    EXPECT_EQ(plan.last_step, (std::vector<uint32_t>{2, 3, 3, 3, 1, 3, 3}));
    (void)bias, (void)k, (void)h;
}

// The same training step planned for CUDA: each MatMul step (0 and 2) gets
// cuBLAS's workspace W = 4 MiB + 192 (exec/cuda/workspace.h; a multiple of 64).
// Placement by size: both workspaces first, at 0 (their lifetimes [0,0] and
// [2,2] do not meet); then x [0,2] meets both -> W; h [0,1] -> W + 64;
// y [1,3] meets ws2, x and h -> W + 128; g [2,3] meets ws2, x, y but not h
// -> W + 64. T = W + 192. (The CPU's MatMul plans oneDNN's scratchpad
// instead, whatever oneDNN asks for.)
TEST(Planner, CudaPlansTheCublasWorkspaceInT) {
    SKIP_WITHOUT_CUDA();
    GraphBuilder b;
    const uint32_t x = b.input("x", {2, 3});
    const uint32_t w = b.variable("w", {3, 5});
    const uint32_t bias = b.variable("bias", {5});
    const uint32_t h = b.op("MatMul", {x, w});
    const uint32_t y = b.op("Add", {h, bias});
    const uint32_t g = b.op("MatMul", {x, y}, {{"transA", int_attr(1)}});
    b.sink("SGDUpdate", {w, g}, {{"lr", float_attr(0.1)}});
    b.output(y);
    std::vector<uint32_t> order;
    ASSERT_TRUE(validate_graph(&b.graph(), &order).ok());
    const uint64_t ws = kCublasWorkspaceBytes + kCublasWorkspaceAlignment - kPlanAlignment;
    ASSERT_EQ(ws % kPlanAlignment, 0u);

    const MemoryPlan cpu = plan_for(b.graph(), order, DeviceType::CPU);
    const MemoryPlan cuda = plan_for(b.graph(), order, DeviceType::CUDA);
    EXPECT_EQ(cuda.workspace_bytes, (std::vector<uint64_t>{ws, 0, ws, 0}));
    EXPECT_EQ(cuda.workspace_offset, (std::vector<uint64_t>{0, 0, 0, 0}));
    EXPECT_EQ(cuda.ephemeral_offset,
              (std::vector<uint64_t>{ws, kNoOffset, kNoOffset, ws + 64, ws + 128, ws + 64}));
    EXPECT_EQ(cuda.ephemeral_bytes, ws + 192);
    EXPECT_EQ(cuda.persistent_bytes, cpu.persistent_bytes);
    (void)bias, (void)h, (void)g;
}

// SoftmaxCrossEntropy keeps one double per row on CUDA: [6, 5] logits -> 48
// bytes, planned as 64.
TEST(Planner, CudaPlansRowLossesOfSoftmaxCrossEntropy) {
    SKIP_WITHOUT_CUDA();
    GraphBuilder b;
    const uint32_t logits = b.input("logits", {6, 5});
    const uint32_t labels = b.input("labels", {6, 5});
    b.output(b.op("SoftmaxCrossEntropy", {logits, labels}));
    std::vector<uint32_t> order;
    ASSERT_TRUE(validate_graph(&b.graph(), &order).ok());
    EXPECT_EQ(plan_for(b.graph(), order, DeviceType::CUDA).workspace_bytes,
              (std::vector<uint64_t>{48}));
    EXPECT_EQ(plan_for(b.graph(), order, DeviceType::CPU).workspace_bytes,
              (std::vector<uint64_t>{0}));
}

// A convolution on the CPU runs on oneDNN with its scratchpad and layout
// reorders in the kernel's workspace: the plan reserves exactly what the
// prepared kernel reports, at that step only, and T covers it.
TEST(Planner, CpuPlansTheConvolutionWorkspaceOfItsPreparedKernel) {
    GraphBuilder b;
    const uint32_t x = b.input("x", {2, 8, 12, 12});
    const uint32_t w = b.variable("w", {16, 8, 3, 3});
    const uint32_t y = b.op("Conv", {x, w}, {{"pads", ints_attr({1, 1, 1, 1})}});
    b.output(b.op("Relu", {y}));
    std::vector<uint32_t> order;
    ASSERT_TRUE(validate_graph(&b.graph(), &order).ok());
    std::vector<PreparedKernel> kernels;
    ASSERT_TRUE(
        prepare_kernels(b.graph(), order, DeviceType::CPU, nullptr, default_kernels(), &kernels)
            .ok());
    const MemoryPlan plan = plan_for(b.graph(), order, DeviceType::CPU);
    ASSERT_EQ(plan.workspace_bytes.size(), 2u);
    EXPECT_GT(plan.workspace_bytes[0], 0u);
    EXPECT_EQ(plan.workspace_bytes[0], kernels[0].workspace_bytes);
    EXPECT_EQ(plan.workspace_bytes[1], 0u);
    // At the Conv step x, y and the workspace are live together.
    const uint64_t tensor_bytes = 2 * 8 * 12 * 12 * 4 + 2 * 16 * 12 * 12 * 4;
    EXPECT_GE(plan.ephemeral_bytes, aligned(plan.workspace_bytes[0]) + tensor_bytes);
}

// Wherever the planner puts a MatMul workspace (any multiple of 64 from a
// pool whose base cudaMalloc aligns to 256), the kernel finds 4 MiB at a
// 256-byte boundary inside it.
TEST(Planner, CublasWorkspaceAlignsInsideItsPlannedBytes) {
    const size_t planned = kCublasWorkspaceBytes + kCublasWorkspaceAlignment - kPlanAlignment;
    alignas(256) static uint8_t base[kCublasWorkspaceBytes + 2 * kCublasWorkspaceAlignment];
    for (size_t offset = 0; offset < 2 * kCublasWorkspaceAlignment; offset += kPlanAlignment) {
        const AlignedWorkspace ws = cuda_workspace_aligned(base + offset, planned);
        const auto at = reinterpret_cast<uintptr_t>(ws.data);
        EXPECT_EQ(at % kCublasWorkspaceAlignment, 0u) << offset;
        EXPECT_GE(ws.bytes, kCublasWorkspaceBytes) << offset;
        EXPECT_GE(at, reinterpret_cast<uintptr_t>(base + offset));
        EXPECT_LE(at + ws.bytes, reinterpret_cast<uintptr_t>(base + offset + planned));
    }
    EXPECT_EQ(cuda_workspace_aligned(nullptr, planned).data, nullptr);
    EXPECT_EQ(cuda_workspace_aligned(base + 64, 100).bytes, 0u); // too small to align
}

// No nodes: one virtual step 0 during which x [3] (12 -> 64) is fed and read
// back; the unused input u [100] (400 -> 448) also lives at step 0 only.
// T = 448 + 64 = 512.
TEST(Planner, GraphWithoutNodesHasOneVirtualStep) {
    GraphBuilder b;
    const uint32_t x = b.input("x", {3});
    b.input("u", {100});
    b.output(x);
    std::vector<uint32_t> order;
    const MemoryPlan plan = validate_and_plan(&b.graph(), &order);

    EXPECT_TRUE(order.empty());
    EXPECT_EQ(plan.ephemeral_bytes, 512u);
    EXPECT_EQ(plan.ephemeral_offset, (std::vector<uint64_t>{448, 0}));
    EXPECT_EQ(plan.first_step, (std::vector<uint32_t>{0, 0}));
    EXPECT_EQ(plan.last_step, (std::vector<uint32_t>{0, 0}));
    EXPECT_TRUE(plan.workspace_bytes.empty());
    EXPECT_TRUE(plan.workspace_offset.empty());
}

// An input that is also a graph output stays live to the last step, and an
// unconsumed intermediate lives only at its producer's step.
TEST(Planner, OutputInputsLiveToTheEndAndDeadResultsForOneStep) {
    GraphBuilder b;
    const uint32_t x = b.input("x", {16});
    const uint32_t dead = b.op("Relu", {x});
    const uint32_t y = b.op("Sigmoid", {x});
    b.output(b.op("Tanh", {y})).output(x);
    std::vector<uint32_t> order;
    const MemoryPlan plan = validate_and_plan(&b.graph(), &order);

    EXPECT_EQ(plan.first_step[x], 0u);
    EXPECT_EQ(plan.last_step[x], 2u);
    EXPECT_EQ(plan.first_step[dead], 0u);
    EXPECT_EQ(plan.last_step[dead], 0u);
    // x [0,2], dead [0,0], y [1,2], out [2,2], 64 bytes each: at step 2 x, y
    // and out are live, and dead's slot is free again by then.
    EXPECT_EQ(plan.ephemeral_bytes, 192u);
}

// A random valid DAG over the shape-polymorphic ops, built with known shapes
// so every node is valid, then with its node list shuffled.
class RandomGraph {
  public:
    explicit RandomGraph(std::mt19937 *rng) : rng_(*rng) {}

    Graph make() {
        const int inputs = uniform(1, 3);
        for (int i = 0; i < inputs; ++i) input(random_shape(uniform(1, 3)));
        const int nodes = uniform(0, 40);
        for (int i = 0; i < nodes; ++i) add_node();

        std::vector<uint32_t> candidates = readable_;
        std::shuffle(candidates.begin(), candidates.end(), rng_);
        candidates.resize(static_cast<size_t>(uniform(1, static_cast<int>(candidates.size()))));
        for (uint32_t t : candidates) b_.output(t);

        Graph g = b_.graph();
        std::shuffle(g.nodes.begin(), g.nodes.end(), rng_);
        return g;
    }

  private:
    int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
    bool coin(double p = 0.5) { return std::bernoulli_distribution(p)(rng_); }
    int64_t dim() { return coin(0.2) ? uniform(20, 70) : uniform(1, 9); }
    Shape random_shape(int rank) {
        Shape s;
        for (int i = 0; i < rank; ++i) s.push_back(dim());
        return s;
    }

    uint32_t track(uint32_t t, Shape shape) {
        shapes_.resize(std::max<size_t>(shapes_.size(), t + 1));
        shapes_[t] = std::move(shape);
        readable_.push_back(t);
        return t;
    }
    uint32_t input(Shape s) { return track(b_.input("", s), s); }
    uint32_t op(const char *name, std::vector<uint32_t> in, Shape out, Attrs attrs = {}) {
        return track(b_.op(name, std::move(in), std::move(attrs)), std::move(out));
    }
    uint32_t pick() {
        return readable_[static_cast<size_t>(uniform(0, int(readable_.size()) - 1))];
    }

    void add_node() {
        const uint32_t a = pick();
        const Shape sa = shapes_[a]; // a copy: new tensors grow shapes_
        switch (uniform(0, 7)) {
        case 0: {
            const char *ops[] = {"Identity", "Relu", "Sigmoid", "Tanh"};
            op(ops[uniform(0, 3)], {a}, sa);
            break;
        }
        case 1: {
            // The other operand: a itself, or a new tensor of a broadcastable suffix.
            uint32_t other = a;
            if (coin()) {
                Shape suffix(sa.end() - uniform(0, static_cast<int>(sa.size())), sa.end());
                for (int64_t &d : suffix) d = coin(0.3) ? 1 : d;
                other = coin() ? input(suffix) : track(b_.constant("", suffix), suffix);
            }
            const char *ops[] = {"Add", "Sub", "Mul"};
            op(ops[uniform(0, 2)],
               coin() ? std::vector<uint32_t>{a, other} : std::vector<uint32_t>{other, a}, sa);
            break;
        }
        case 2: {
            uint32_t x = a;
            if (sa.size() != 2) x = input({dim(), dim()});
            const int64_t m = shapes_[x][0];
            const int64_t k = shapes_[x][1];
            const int64_t n = dim();
            const bool trans_b = coin();
            const Shape ws = trans_b ? Shape{n, k} : Shape{k, n};
            // Readable by later nodes too, which the update must then wait for.
            const uint32_t w = track(b_.variable("", ws), ws);
            const uint32_t y = op("MatMul", {x, w}, {m, n}, {{"transB", int_attr(trans_b)}});
            if (coin()) {
                // A gradient-like update that must wait for the MatMul reading w.
                const uint32_t g = trans_b
                                       ? op("MatMul", {y, x}, {n, k}, {{"transA", int_attr(1)}})
                                       : op("MatMul", {x, y}, {k, n}, {{"transA", int_attr(1)}});
                b_.sink("SGDUpdate", {w, g}, {{"lr", float_attr(0.01)}});
            }
            break;
        }
        case 3: {
            const bool keep = coin();
            Shape out;
            Attrs attrs = {{"keepdims", int_attr(keep)}};
            if (coin() && !sa.empty()) {
                const int64_t axis = uniform(0, static_cast<int>(sa.size()) - 1);
                attrs["axes"] = ints_attr({coin() ? axis : axis - int64_t(sa.size())});
                for (size_t i = 0; i < sa.size(); ++i) {
                    if (int64_t(i) != axis)
                        out.push_back(sa[i]);
                    else if (keep)
                        out.push_back(1);
                }
            } else if (keep) {
                out.assign(sa.size(), 1);
            }
            op(coin() ? "ReduceSum" : "ReduceMean", {a}, out, attrs);
            break;
        }
        case 4:
            op("Transpose", {a}, Shape(sa.rbegin(), sa.rend()));
            break;
        case 5:
            op("Reshape", {a}, {num_elements(sa)}, {{"shape", ints_attr({-1})}});
            break;
        case 6: {
            if (sa.size() >= 4 || num_elements(sa) > 2000) break;
            Shape out = sa;
            out.insert(out.begin(), dim());
            op("Expand", {a}, out, {{"shape", ints_attr(out)}});
            break;
        }
        default: {
            if (sa.size() != 2) break;
            const uint32_t labels = input(sa);
            op("SoftmaxCrossEntropy", {a, labels}, {});
            break;
        }
        }
    }

    std::mt19937 &rng_;
    GraphBuilder b_;
    std::vector<Shape> shapes_;      // per tensor id (persistent ones too)
    std::vector<uint32_t> readable_; // tensors a new node may read
};

// Lifetimes as the planner's contract states them, computed independently.
void expect_lifetimes(const Graph &g, const std::vector<uint32_t> &order, const MemoryPlan &plan) {
    const auto last = static_cast<uint32_t>(order.empty() ? 0 : order.size() - 1);
    std::vector<uint32_t> first(g.tensors.size(), 0);
    std::vector<uint32_t> until(g.tensors.size(), 0);
    for (uint32_t s = 0; s < order.size(); ++s) {
        for (uint32_t t : g.nodes[order[s]].outputs) first[t] = until[t] = s;
    }
    for (uint32_t s = 0; s < order.size(); ++s) {
        for (uint32_t t : g.nodes[order[s]].inputs) until[t] = std::max(until[t], s);
    }
    for (uint32_t t : g.outputs) until[t] = last;
    for (size_t t = 0; t < g.tensors.size(); ++t) {
        if (g.tensors[t].persistent()) until[t] = last;
        EXPECT_EQ(plan.first_step[t], first[t]) << "tensor " << t;
        EXPECT_EQ(plan.last_step[t], until[t]) << "tensor " << t;
    }
}

void expect_valid_plan(const Graph &g, const std::vector<uint32_t> &order, const MemoryPlan &plan,
                       DeviceType device) {
    const size_t n = g.tensors.size();
    ASSERT_EQ(plan.persistent_offset.size(), n);
    ASSERT_EQ(plan.ephemeral_offset.size(), n);
    ASSERT_EQ(plan.first_step.size(), n);
    ASSERT_EQ(plan.last_step.size(), n);
    ASSERT_EQ(plan.workspace_bytes.size(), order.size());
    ASSERT_EQ(plan.workspace_offset.size(), order.size());
    expect_lifetimes(g, order, plan);

    // Persistent: packed in id order, hence disjoint and summing to P.
    uint64_t expected_offset = 0;
    for (size_t t = 0; t < n; ++t) {
        if (!g.tensors[t].persistent()) {
            EXPECT_EQ(plan.persistent_offset[t], kNoOffset);
            continue;
        }
        EXPECT_EQ(plan.ephemeral_offset[t], kNoOffset);
        EXPECT_EQ(plan.persistent_offset[t], expected_offset);
        expected_offset += aligned(g.tensors[t].nbytes());
    }
    EXPECT_EQ(plan.persistent_bytes, expected_offset);

    struct Buf {
        uint64_t offset, size;
        uint32_t first, last;
    };
    // A view of an ephemeral tensor (Reshape, Identity, ...) shares its
    // buffer: one buffer per root, live from its group's first step to its
    // last; anything else has its own.
    std::vector<size_t> root(n);
    for (size_t t = 0; t < n; ++t) root[t] = t;
    for (uint32_t id : order) {
        const NodeDesc &node = g.nodes[id];
        if (!is_view_op(node.op)) continue;
        const uint32_t in = node.inputs[0], out = node.outputs[0];
        if (g.tensors[in].persistent() || g.tensors[out].persistent()) continue;
        root[out] = root[in];
        EXPECT_EQ(plan.ephemeral_offset[out], plan.ephemeral_offset[in]) << "view " << out;
    }
    std::vector<Buf> bufs;
    std::vector<size_t> buf_of(n, SIZE_MAX);
    for (size_t t = 0; t < n; ++t) {
        if (g.tensors[t].persistent() || root[t] != t) continue;
        buf_of[t] = bufs.size();
        bufs.push_back({plan.ephemeral_offset[t], aligned(g.tensors[t].nbytes()),
                        plan.first_step[t], plan.last_step[t]});
    }
    for (size_t t = 0; t < n; ++t) {
        if (g.tensors[t].persistent() || root[t] == t) continue;
        Buf &b = bufs[buf_of[root[t]]];
        b.first = std::min(b.first, plan.first_step[t]);
        b.last = std::max(b.last, plan.last_step[t]);
    }
    for (uint32_t s = 0; s < order.size(); ++s) {
        if (device == DeviceType::CPU) {
            EXPECT_EQ(plan.workspace_bytes[s], 0u);
        }
        if (plan.workspace_bytes[s]) {
            bufs.push_back({plan.workspace_offset[s], aligned(plan.workspace_bytes[s]), s, s});
        }
    }

    const uint64_t peak = plan.ephemeral_bytes;
    uint64_t total = 0;
    for (const Buf &b : bufs) {
        EXPECT_EQ(b.offset % kPlanAlignment, 0u);
        EXPECT_LE(b.offset + b.size, peak);
        total += b.size;
    }
    EXPECT_LE(peak, total);
    for (size_t i = 0; i < bufs.size(); ++i) {
        for (size_t j = i + 1; j < bufs.size(); ++j) {
            const Buf &p = bufs[i];
            const Buf &q = bufs[j];
            const bool live_together = p.first <= q.last && q.first <= p.last;
            const bool share_bytes = p.offset < q.offset + q.size && q.offset < p.offset + p.size;
            EXPECT_FALSE(live_together && share_bytes) << "buffers " << i << " and " << j;
        }
    }
    const size_t steps = std::max<size_t>(order.size(), 1);
    for (uint32_t s = 0; s < steps; ++s) {
        uint64_t live = 0;
        for (const Buf &b : bufs) {
            if (b.first <= s && s <= b.last) live += b.size;
        }
        EXPECT_GE(peak, live) << "step " << s;
    }
}

// The order the plan builds on: producers first, updates after all readers.
void expect_order(const Graph &g, const std::vector<uint32_t> &order) {
    std::vector<size_t> pos(g.nodes.size());
    for (size_t i = 0; i < order.size(); ++i) pos[order[i]] = i;
    std::vector<size_t> producer(g.tensors.size(), SIZE_MAX);
    std::vector<size_t> updater(g.tensors.size(), SIZE_MAX);
    for (size_t n = 0; n < g.nodes.size(); ++n) {
        for (uint32_t t : g.nodes[n].outputs) producer[t] = n;
        if (g.nodes[n].op == "SGDUpdate") updater[g.nodes[n].inputs[0]] = n;
    }
    for (size_t n = 0; n < g.nodes.size(); ++n) {
        for (uint32_t t : g.nodes[n].inputs) {
            if (producer[t] != SIZE_MAX) {
                EXPECT_LT(pos[producer[t]], pos[n]);
            }
            if (updater[t] != SIZE_MAX && updater[t] != n) {
                EXPECT_LT(pos[n], pos[updater[t]]);
            }
        }
    }
}

// Freed blocks are reused best fit, coalesced with their neighbours, and a
// free block at the top of the arena grows rather than being skipped.
TEST(Placement, ByStepReusesCoalescesAndExtendsTheTop) {
    auto place = [](std::vector<PlacedBuffer> buffers, std::vector<uint64_t> want_offsets,
                    uint64_t want_peak) {
        EXPECT_EQ(place_buffers(&buffers, Placement::ByStep), want_peak);
        for (size_t i = 0; i < buffers.size(); ++i) {
            EXPECT_EQ(buffers[i].offset, want_offsets[i]) << "buffer " << i;
        }
    };
    // Two blocks freed after step 0 merge into one that holds 128 bytes.
    place({{64, 0, 0, 0, 0}, {64, 0, 0, 1, 0}, {128, 1, 1, 2, 0}}, {0, 64, 0}, 128);
    // The free block [64, 128) is at the top: the 128-byte buffer starts there.
    place({{64, 0, 1, 0, 0}, {64, 0, 0, 1, 0}, {128, 1, 1, 2, 0}}, {0, 64, 64}, 192);
    // The free block [0, 64) is not: the arena grows.
    place({{64, 0, 0, 0, 0}, {64, 0, 1, 1, 0}, {128, 1, 1, 2, 0}}, {0, 64, 128}, 256);
    // Best fit: the 64-byte hole, not the 192-byte one.
    place(
        {{192, 0, 0, 0, 0}, {64, 0, 2, 1, 0}, {64, 0, 0, 2, 0}, {64, 0, 2, 3, 0}, {64, 1, 1, 4, 0}},
        {0, 192, 256, 320, 256}, 384);
    // Empty buffers take no room.
    place({{0, 0, 3, 0, 0}, {64, 1, 1, 1, 0}}, {0, 0}, 64);
}

// A graph far beyond greedy placement's size is planned by step, validly.
TEST(Planner, BigChainIsPlannedByStep) {
    GraphBuilder b;
    uint32_t t = b.input("x", {1, 256});
    const size_t n = 3 * kGreedyPlacementMaxBuffers;
    for (size_t i = 0; i < n; ++i) t = b.op("Relu", {t});
    b.output(t);
    std::vector<uint32_t> order;
    const MemoryPlan plan = validate_and_plan(&b.graph(), &order);
    expect_valid_plan(b.graph(), order, plan, DeviceType::CPU);
    // A chain needs two buffers at a time, whatever its length.
    EXPECT_EQ(plan.ephemeral_bytes, 2u * 1024u);
}

TEST(Planner, RandomDagsGivePlansThatHold) {
    std::mt19937 rng(20240521);
    size_t nodes = 0;
    size_t updates = 0;
    size_t workspaces = 0;
    uint64_t by_size_peak = 0, by_step_peak = 0;
    for (int i = 0; i < 250; ++i) {
        SCOPED_TRACE("graph " + std::to_string(i));
        Graph g = RandomGraph(&rng).make();
        std::vector<uint32_t> order;
        const Status st = validate_graph(&g, &order);
        ASSERT_TRUE(st.ok()) << st.message();
        ASSERT_EQ(order.size(), g.nodes.size());
        expect_order(g, order);
        const MemoryPlan plan = plan_memory(g, order);
        expect_valid_plan(g, order, plan, DeviceType::CPU);
        // The by-step placement (big graphs) keeps the same invariants.
        const MemoryPlan by_step = plan_memory(g, order, {}, Placement::ByStep);
        expect_valid_plan(g, order, by_step, DeviceType::CPU);
        by_step_peak += by_step.ephemeral_bytes;
        by_size_peak += plan.ephemeral_bytes;
        // CUDA plans hold kernels' scratch space too, under the same invariants.
        if (kCudaBuilt) {
            const MemoryPlan cuda = plan_for(g, order, DeviceType::CUDA);
            expect_valid_plan(g, order, cuda, DeviceType::CUDA);
            EXPECT_GE(cuda.ephemeral_bytes, plan.ephemeral_bytes);
            for (uint64_t ws : cuda.workspace_bytes) workspaces += ws > 0;
        }
        if (testing::Test::HasFailure()) return;

        // Deterministic: the same graph always gets the same plan.
        const MemoryPlan again = plan_memory(g, order);
        EXPECT_EQ(again.ephemeral_offset, plan.ephemeral_offset);
        EXPECT_EQ(again.ephemeral_bytes, plan.ephemeral_bytes);

        nodes += g.nodes.size();
        for (const NodeDesc &n : g.nodes) updates += n.op == "SGDUpdate";
    }
    // By size is the tighter on the whole; by step stays within 2x.
    EXPECT_LE(by_size_peak, by_step_peak);
    EXPECT_LE(by_step_peak, 2 * by_size_peak);
    std::printf("peaks over the graphs: by size %llu, by step %llu bytes\n",
                static_cast<unsigned long long>(by_size_peak),
                static_cast<unsigned long long>(by_step_peak));
    // The generator really exercised something.
    EXPECT_GT(nodes, 2000u);
    EXPECT_GT(updates, 50u);
    if (kCudaBuilt) {
        EXPECT_GT(workspaces, 50u);
    }
}

} // namespace
} // namespace salus
