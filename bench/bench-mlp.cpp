// MLP training step throughput: through salusd, against the same graph run by
// the same kernels in-process, and against PyTorch on the CPU with the same
// model, batch and thread count when python3-torch is installed. One run,
// side by side.
//
//   bench-mlp --socket SALUSD_SOCKET [--steps N] [--threads N] [--torch SCRIPT]
#include "exec/executable.h"
#include "graph/import.h"
#include "mlp/mlp.h"

#include <cblas.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

int check(int rc, const char *what) {
    if (rc < 0) {
        std::fprintf(stderr, "bench-mlp: %s: %s (%s)\n", what, salus_strerror(rc),
                     salus_last_error());
        std::exit(1);
    }
    return rc;
}

void check(const salus::Status &st, const char *what) {
    if (!st.ok()) {
        std::fprintf(stderr, "bench-mlp: %s: %s\n", what, st.message().c_str());
        std::exit(1);
    }
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct Batches {
    std::vector<std::vector<float>> x, labels;
};

// A few distinct batches, made before timing so both sides feed the same bytes.
Batches make_batches(const mlp_spec &spec, int count) {
    mlp_data data;
    check(mlp_data_init(&data, &spec, 11), "data");
    Batches b;
    for (int i = 0; i < count; ++i) {
        b.x.emplace_back(static_cast<size_t>(spec.batch * spec.sizes[0]));
        b.labels.emplace_back(static_cast<size_t>(spec.batch * spec.sizes[spec.n_layers]));
        mlp_data_batch(&data, static_cast<uint64_t>(i), b.x.back().data(), b.labels.back().data());
    }
    mlp_data_free(&data);
    return b;
}

double run_in_process(const mlp_spec &spec, const Batches &b, int steps, float *last_loss) {
    mlp_graph m;
    check(mlp_build(&spec, &m), "build");
    void *buf = nullptr;
    size_t size = 0;
    check(salus_graph_export(m.graph, &buf, &size), "export");
    salus::Graph graph;
    check(salus::import_graph(*salus::ir::GetGraph(buf), &graph), "import");
    salus_buffer_free(buf);
    salus_graph_free(m.graph);

    auto device = salus::make_cpu_device();
    salus::Status st;
    std::unique_ptr<salus::Stream> stream = device->create_stream(&st);
    check(st, "stream");
    std::unique_ptr<salus::Executable> exe;
    check(salus::Executable::create(device.get(), salus::default_kernels(), std::move(graph), &exe),
          "create");
    int64_t xs[2] = {spec.batch, spec.sizes[0]}, ls[2] = {spec.batch, spec.sizes[spec.n_layers]};
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < steps; ++i) {
        size_t k = static_cast<size_t>(i) % b.x.size();
        salus::Feed feeds[2] = {
            {m.x, salus::DType::F32, xs, 2, b.x[k].data(), b.x[k].size() * 4},
            {m.labels, salus::DType::F32, ls, 2, b.labels[k].data(), b.labels[k].size() * 4}};
        check(exe->run(stream.get(), feeds, 2), "run");
        exe->read_output(0, last_loss);
    }
    return static_cast<double>(steps) / seconds_since(t0);
}

double run_salusd(const char *socket_path, const mlp_spec &spec, const Batches &b, int steps,
                  float *last_loss) {
    salus_connect_options opts;
    salus_connect_options_init(&opts, SALUS_CONNECT_OPTIONS_VERSION);
    opts.socket_path = socket_path;
    opts.client_name = "bench-mlp";
    salus_client *client = nullptr;
    check(salus_connect(&opts, &client), "connect");
    mlp_graph m;
    check(mlp_build(&spec, &m), "build");
    salus_session *s = nullptr;
    check(salus_session_create(client, m.graph, nullptr, &s), "create session");
    salus_graph_free(m.graph);

    int64_t xs[2] = {spec.batch, spec.sizes[0]}, ls[2] = {spec.batch, spec.sizes[spec.n_layers]};
    std::vector<salus_tensor *> xt, lt;
    for (size_t k = 0; k < b.x.size(); ++k) {
        salus_tensor *x = nullptr, *l = nullptr;
        check(salus_tensor_new(SALUS_DTYPE_F32, xs, 2, b.x[k].data(), &x), "tensor");
        check(salus_tensor_new(SALUS_DTYPE_F32, ls, 2, b.labels[k].data(), &l), "tensor");
        xt.push_back(x);
        lt.push_back(l);
    }
    uint32_t ids[2] = {m.x, m.labels};
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < steps; ++i) {
        size_t k = static_cast<size_t>(i) % xt.size();
        const salus_tensor *in[2] = {xt[k], lt[k]};
        salus_tensor *out = nullptr;
        check(salus_session_run(s, ids, in, 2, &out, 1), "run");
        std::memcpy(last_loss, salus_tensor_const_data(out), sizeof(float));
        salus_tensor_free(out);
    }
    double rate = static_cast<double>(steps) / seconds_since(t0);
    for (size_t k = 0; k < xt.size(); ++k) {
        salus_tensor_free(xt[k]);
        salus_tensor_free(lt[k]);
    }
    check(salus_session_close(s), "close");
    salus_disconnect(client);
    return rate;
}

// Runs the PyTorch twin; returns steps/s or 0 when torch is missing.
double run_torch(const std::string &script, int steps, int threads) {
    std::string cmd = "/usr/bin/python3 " + script + " --steps " + std::to_string(steps) +
                      " --threads " + std::to_string(threads) + " 2>/dev/null";
    FILE *p = popen(cmd.c_str(), "r");
    if (!p) return 0.0;
    double rate = 0.0;
    char line[256];
    while (std::fgets(line, sizeof line, p)) std::sscanf(line, "steps_per_s %lf", &rate);
    pclose(p);
    return rate;
}

} // namespace

int main(int argc, char **argv) {
    const char *socket_path = nullptr;
    std::string torch_script;
    int steps = 100, threads = 1;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--socket" && i + 1 < argc) {
            socket_path = argv[++i];
        } else if (a == "--steps" && i + 1 < argc) {
            steps = std::atoi(argv[++i]);
        } else if (a == "--threads" && i + 1 < argc) {
            threads = std::atoi(argv[++i]);
        } else if (a == "--torch" && i + 1 < argc) {
            torch_script = argv[++i];
        } else {
            socket_path = nullptr;
            break;
        }
    }
    if (!socket_path || steps < 1 || threads < 1) {
        std::fprintf(stderr,
                     "usage: %s --socket PATH [--steps N] [--threads N] [--torch SCRIPT]\n"
                     "salusd must run with --blas-threads equal to --threads\n",
                     argv[0]);
        return 2;
    }
    openblas_set_num_threads(threads);

    mlp_spec spec{};
    spec.n_layers = 3;
    int64_t sizes[4] = {784, 1024, 1024, 10};
    std::memcpy(spec.sizes, sizes, sizeof sizes);
    spec.batch = 64;
    spec.lr = 0.01f;
    spec.seed = 5;
    spec.train = 1;
    Batches b = make_batches(spec, 8);

    float loss_in = 0, loss_d = 0;
    // Warm up both paths once, then measure.
    run_in_process(spec, b, 3, &loss_in);
    run_salusd(socket_path, spec, b, 3, &loss_d);
    double in_process = run_in_process(spec, b, steps, &loss_in);
    double salusd = run_salusd(socket_path, spec, b, steps, &loss_d);

    std::printf("MLP 784-1024-1024-10, batch 64, f32, %d BLAS thread(s), %d steps\n", threads,
                steps);
    std::printf("  %-26s %8.2f steps/s  (loss after: %.5f)\n", "in-process kernels", in_process,
                loss_in);
    std::printf("  %-26s %8.2f steps/s  (loss after: %.5f)\n", "through salusd", salusd, loss_d);
    std::printf("  ratio salusd/in-process:   %.3fx  (target >= 0.9x)\n", salusd / in_process);
    if (!torch_script.empty()) {
        double torch = run_torch(torch_script, steps, threads);
        if (torch > 0) {
            std::printf("  %-26s %8.2f steps/s\n", "PyTorch (CPU)", torch);
            std::printf("  ratio salusd/PyTorch:      %.3fx\n", salusd / torch);
        } else {
            std::printf("  PyTorch: not installed (apt-get install python3-torch)\n");
        }
    }
    return 0;
}
