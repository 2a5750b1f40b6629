// Batch normalization on the CPU: salusd's kernels (our loops) against
// oneDNN's batch normalization on the same tensors, training forward and
// gradient, on ResNet-18's shapes for CIFAR-10 at batch 32, in alternating
// rounds. The figures behind keeping batch norm on our loops while layer
// norm runs on oneDNN (doc/ops.md "On the CPU backend").
//   bench-norm [--threads N] [--rounds N] [--reps N]
#include "device/cpu_threads.h"
#include "exec/kernel.h"
#include "graph/graph.h"
#include "graph/ops.h"
#include "stats.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace {

using namespace salus;
using dnnl::memory;

double now_ms() {
    return std::chrono::duration<double, std::milli>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

struct Buffer {
    Shape shape;
    std::vector<float> data;
    explicit Buffer(Shape s, std::mt19937 *rng = nullptr, float lo = -1.0f, float hi = 1.0f)
        : shape(std::move(s)), data(static_cast<size_t>(num_elements(shape)), 1.0f) {
        std::uniform_real_distribution<float> dist(lo, hi);
        if (rng) {
            for (float &v : data) v = dist(*rng);
        }
    }
    TensorView view() {
        TensorView v;
        v.data = data.data();
        v.dtype = DType::F32;
        v.shape = shape;
        return v;
    }
};

// One registered CPU kernel, prepared as salusd prepares it.
class Prepared {
  public:
    Prepared(const std::string &op, std::vector<Buffer *> in, std::vector<Buffer *> out,
             std::unique_ptr<Device> *device) {
        node_.name = op;
        node_.op = op;
        if (!canonicalize_attrs(*find_op(op), &node_).ok()) std::abort();
        KernelInit init;
        init.node = &node_;
        init.device = device->get();
        for (Buffer *b : in) init.inputs.push_back(b->view());
        for (Buffer *b : out) init.outputs.push_back(b->view());
        if (!default_kernels().prepare(init, &kernel_).ok()) std::abort();
        workspace_.resize(kernel_.workspace_bytes);
        ctx_.node = &node_;
        ctx_.inputs = init.inputs;
        ctx_.outputs = init.outputs;
        ctx_.workspace = workspace_.data();
        ctx_.workspace_bytes = workspace_.size();
    }
    void run() {
        if (!kernel_.run(ctx_).ok()) std::abort();
    }

  private:
    NodeDesc node_;
    PreparedKernel kernel_;
    KernelContext ctx_;
    std::vector<uint8_t> workspace_;
};

} // namespace

int main(int argc, char **argv) {
    int threads = 1, rounds = 5, reps = 10;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--threads" && i + 1 < argc) {
            threads = std::atoi(argv[++i]);
        } else if (a == "--rounds" && i + 1 < argc) {
            rounds = std::atoi(argv[++i]);
        } else if (a == "--reps" && i + 1 < argc) {
            reps = std::atoi(argv[++i]);
        } else {
            std::fprintf(stderr, "usage: %s [--threads N] [--rounds N] [--reps N]\n", argv[0]);
            return 2;
        }
    }
    if (threads < 1 || rounds < 1 || reps < 1) return 2;
    set_cpu_math_threads(threads);
    attach_cpu_math_threads();
    std::unique_ptr<Device> device = make_cpu_device();
    dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    dnnl::stream stream(engine);
    std::mt19937 rng(1);
    std::printf("batch norm, training forward + gradient, %d thread(s), median of %d rounds "
                "of %d calls\n",
                threads, rounds, reps);
    std::printf("%-18s %14s %14s %8s   %s\n", "X", "salusd ms", "oneDNN ms", "ratio",
                "oneDNN implementation");
    for (const Shape &shape : {Shape{32, 64, 32, 32}, Shape{32, 128, 16, 16}, Shape{32, 256, 8, 8},
                               Shape{32, 512, 4, 4}}) {
        const int64_t c = shape[1];
        Buffer x(shape, &rng), dy(shape, &rng), y(shape), dx(shape);
        Buffer scale({c}, &rng), bias({c}, &rng), running_mean({c}), running_var({c});
        Buffer mean({c}), inv_std({c}), d_scale({c}), d_bias({c}), var({c});
        Prepared forward("BatchNormalizationTraining",
                         {&x, &scale, &bias, &running_mean, &running_var}, {&y, &mean, &inv_std},
                         &device);
        Prepared grad("BatchNormalizationGrad", {&dy, &x, &scale, &mean, &inv_std},
                      {&dx, &d_scale, &d_bias}, &device);

        // oneDNN on the same tensors, NCHW as salusd holds them.
        const memory::desc md(dnnl::memory::dims(shape.begin(), shape.end()),
                              memory::data_type::f32, memory::format_tag::abcd);
        const memory::desc cd({c}, memory::data_type::f32, memory::format_tag::a);
        const auto flags =
            dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;
        dnnl::batch_normalization_forward::primitive_desc fpd(
            {dnnl::prop_kind::forward_training, md, 1e-5f, flags}, engine);
        dnnl::batch_normalization_backward::primitive_desc bpd(
            {dnnl::prop_kind::backward, md, md, 1e-5f, flags}, engine, fpd);
        auto mem = [&](const memory::desc &d, Buffer &b) {
            return memory(d, engine, b.data.data());
        };
        dnnl::batch_normalization_forward fwd(fpd);
        dnnl::batch_normalization_backward bwd(bpd);
        Buffer y2(shape), dx2(shape), mean2({c}), d_scale2({c}), d_bias2({c});
        const std::unordered_map<int, memory> fwd_args{
            {DNNL_ARG_SRC, mem(md, x)},       {DNNL_ARG_DST, mem(md, y2)},
            {DNNL_ARG_SCALE, mem(cd, scale)}, {DNNL_ARG_SHIFT, mem(cd, bias)},
            {DNNL_ARG_MEAN, mem(cd, mean2)},  {DNNL_ARG_VARIANCE, mem(cd, var)}};
        const std::unordered_map<int, memory> bwd_args{{DNNL_ARG_SRC, mem(md, x)},
                                                       {DNNL_ARG_DIFF_DST, mem(md, dy)},
                                                       {DNNL_ARG_SCALE, mem(cd, scale)},
                                                       {DNNL_ARG_SHIFT, mem(cd, bias)},
                                                       {DNNL_ARG_MEAN, mem(cd, mean2)},
                                                       {DNNL_ARG_VARIANCE, mem(cd, var)},
                                                       {DNNL_ARG_DIFF_SRC, mem(md, dx2)},
                                                       {DNNL_ARG_DIFF_SCALE, mem(cd, d_scale2)},
                                                       {DNNL_ARG_DIFF_SHIFT, mem(cd, d_bias2)}};

        const std::function<void()> ours = [&] {
            forward.run();
            grad.run();
        };
        const std::function<void()> theirs = [&] {
            fwd.execute(stream, fwd_args);
            bwd.execute(stream, bwd_args);
            stream.wait();
        };
        ours();
        theirs(); // first calls set themselves up
        std::vector<double> ours_ms, theirs_ms;
        for (int r = 0; r < rounds; ++r) {
            for (auto [f, out] : {std::pair{&ours, &ours_ms}, std::pair{&theirs, &theirs_ms}}) {
                const double t0 = now_ms();
                for (int i = 0; i < reps; ++i) (*f)();
                out->push_back((now_ms() - t0) / reps);
            }
        }
        const double a = bench::summarize(ours_ms).p50, b = bench::summarize(theirs_ms).p50;
        std::printf("%-18s %14.2f %14.2f %7.2fx   %s\n", shape_str(shape).c_str(), a, b, b / a,
                    fpd.impl_info_str());
    }
    std::printf("ratio: oneDNN's time / salusd's (above 1: salusd's kernels are faster)\n");
    return 0;
}
