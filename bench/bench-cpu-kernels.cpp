// salusd's CPU kernels against the other library on the same tensors, in
// alternating rounds: the figures behind which library runs what (doc/ops.md
// "On the CPU backend").
//  - batch norm, training forward + gradient, on ResNet-18's shapes for
//    CIFAR-10 at batch 32: our loops against oneDNN's batch normalization;
//  - MatMul on the MLP's and the transformer's shapes (bench-mlp,
//    bench-models.py): salusd's (oneDNN's matmul) against OpenBLAS's sgemm.
//   bench-cpu-kernels [--threads N] [--rounds N] [--reps N]
#include "device/cpu_threads.h"
#include "exec/kernel.h"
#include "graph/graph.h"
#include "graph/ops.h"
#include "stats.h"

#include <cblas.h>
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

struct Settings {
    int threads = 1, rounds = 5, reps = 10;
};

// Median milliseconds per call of ours and of theirs, rounds alternating.
std::pair<double, double> time_pair(const Settings &s, const std::function<void()> &ours,
                                    const std::function<void()> &theirs) {
    ours();
    theirs(); // first calls set themselves up
    std::vector<double> ours_ms, theirs_ms;
    for (int r = 0; r < s.rounds; ++r) {
        for (auto [f, out] : {std::pair{&ours, &ours_ms}, std::pair{&theirs, &theirs_ms}}) {
            const double t0 = now_ms();
            for (int i = 0; i < s.reps; ++i) (*f)();
            out->push_back((now_ms() - t0) / s.reps);
        }
    }
    return {bench::summarize(ours_ms).p50, bench::summarize(theirs_ms).p50};
}

memory::desc plain_desc(const Shape &shape, memory::format_tag tag) {
    return memory::desc(memory::dims(shape.begin(), shape.end()), memory::data_type::f32, tag);
}

void bench_batch_norm(const Settings &settings, std::unique_ptr<Device> *device,
                      dnnl::engine &engine, dnnl::stream &stream, std::mt19937 &rng) {
    std::printf("batch norm, training forward + gradient, %d thread(s), median of %d rounds "
                "of %d calls\n",
                settings.threads, settings.rounds, settings.reps);
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
                         device);
        Prepared grad("BatchNormalizationGrad", {&dy, &x, &scale, &mean, &inv_std},
                      {&dx, &d_scale, &d_bias}, device);

        // oneDNN on the same tensors, NCHW as salusd holds them.
        const memory::desc md = plain_desc(shape, memory::format_tag::abcd);
        const memory::desc cd = plain_desc({c}, memory::format_tag::a);
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
        const auto [a, b] = time_pair(
            settings,
            [&] {
                forward.run();
                grad.run();
            },
            [&] {
                fwd.execute(stream, fwd_args);
                bwd.execute(stream, bwd_args);
                stream.wait();
            });
        std::printf("%-18s %14.2f %14.2f %7.2fx   %s\n", shape_str(shape).c_str(), a, b, b / a,
                    fpd.impl_info_str());
    }
}

// MatMul A [batch..., M, K] · B [batch..., K, N], row-major as salusd holds
// them: salusd's kernel (oneDNN's matmul) against OpenBLAS's sgemm, one call
// per matrix.
void bench_matmul(const Settings &settings, std::unique_ptr<Device> *device, std::mt19937 &rng) {
    std::printf("\nMatMul, %d thread(s), median of %d rounds of %d calls\n", settings.threads,
                settings.rounds, settings.reps);
    std::printf("%-28s %14s %14s %8s\n", "A · B", "salusd ms", "OpenBLAS ms", "ratio");
    openblas_set_num_threads(settings.threads);
    struct Case {
        Shape a, b;
    };
    const std::vector<Case> cases = {
        {{64, 784}, {784, 1024}},    {{64, 1024}, {1024, 1024}}, {{1024, 64}, {64, 1024}},
        {{64, 1024}, {1024, 10}},    {{1024, 256}, {256, 256}},  {{1024, 256}, {256, 1024}},
        {{1024, 1024}, {1024, 256}}, {{256, 1024}, {1024, 256}}, {{64, 64, 64}, {64, 64, 64}},
    };
    for (const Case &c : cases) {
        Shape y = c.a;
        y.back() = c.b.back();
        Buffer a(c.a, &rng), b(c.b, &rng), out(y), out2(y);
        Prepared ours("MatMul", {&a, &b}, {&out}, device);
        const int m = static_cast<int>(c.a[c.a.size() - 2]), k = static_cast<int>(c.a.back()),
                  n = static_cast<int>(c.b.back());
        const int64_t batches = c.a.size() == 3 ? c.a[0] : 1;
        const auto [t_ours, t_theirs] = time_pair(
            settings, [&] { ours.run(); },
            [&] {
                for (int64_t i = 0; i < batches; ++i) {
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f,
                                a.data.data() + i * m * k, k, b.data.data() + i * k * n, n, 0.0f,
                                out2.data.data() + i * m * n, n);
                }
            });
        const std::string label = shape_str(c.a) + " · " + shape_str(c.b);
        std::printf("%-28s %14.3f %14.3f %7.2fx\n", label.c_str(), t_ours, t_theirs,
                    t_theirs / t_ours);
    }
}

} // namespace

int main(int argc, char **argv) {
    Settings settings;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--threads" && i + 1 < argc) {
            settings.threads = std::atoi(argv[++i]);
        } else if (a == "--rounds" && i + 1 < argc) {
            settings.rounds = std::atoi(argv[++i]);
        } else if (a == "--reps" && i + 1 < argc) {
            settings.reps = std::atoi(argv[++i]);
        } else {
            std::fprintf(stderr, "usage: %s [--threads N] [--rounds N] [--reps N]\n", argv[0]);
            return 2;
        }
    }
    if (settings.threads < 1 || settings.rounds < 1 || settings.reps < 1) return 2;
    set_cpu_math_threads(settings.threads);
    attach_cpu_math_threads();
    std::unique_ptr<Device> device = make_cpu_device();
    dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    dnnl::stream stream(engine);
    std::mt19937 rng(1);
    bench_batch_norm(settings, &device, engine, stream, rng);
    bench_matmul(settings, &device, rng);
    std::printf("ratio: the other library's time / salusd's (above 1: salusd's kernel is "
                "faster)\n");
    return 0;
}
