#include "mlp_steps.h"

#include "exec/executable.h"
#include "graph/import.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace salus::bench {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

} // namespace

mlp_spec benchmark_mlp() {
    mlp_spec spec{};
    spec.n_layers = 3;
    const int64_t sizes[4] = {784, 1024, 1024, 10};
    std::memcpy(spec.sizes, sizes, sizeof sizes);
    spec.batch = 64;
    spec.lr = 0.01f;
    spec.seed = 5;
    spec.train = 1;
    return spec;
}

void check(int rc, const char *what) {
    if (rc < 0) {
        std::fprintf(stderr, "bench: %s: %s (%s)\n", what, salus_strerror(rc), salus_last_error());
        std::exit(1);
    }
}

void check(const Status &st, const char *what) {
    if (!st.ok()) {
        std::fprintf(stderr, "bench: %s: %s\n", what, st.message().c_str());
        std::exit(1);
    }
}

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

double run_in_process(Device *device, const mlp_spec &spec, const Batches &b, int steps,
                      float *last_loss) {
    mlp_graph m;
    check(mlp_build(&spec, &m), "build");
    void *buf = nullptr;
    size_t size = 0;
    check(salus_graph_export(m.graph, &buf, &size), "export");
    Graph graph;
    check(import_graph(*ir::GetGraph(buf), &graph), "import");
    salus_buffer_free(buf);
    salus_graph_free(m.graph);

    Status st;
    std::unique_ptr<Stream> stream = device->create_stream(&st);
    check(st, "stream");
    check(stream->attach_thread(), "stream");
    std::unique_ptr<Executable> exe;
    check(Executable::create(device, default_kernels(), std::move(graph), &exe), "create");
    int64_t xs[2] = {spec.batch, spec.sizes[0]}, ls[2] = {spec.batch, spec.sizes[spec.n_layers]};
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < steps; ++i) {
        size_t k = static_cast<size_t>(i) % b.x.size();
        Feed feeds[2] = {{m.x, DType::F32, xs, 2, b.x[k].data(), b.x[k].size() * 4},
                         {m.labels, DType::F32, ls, 2, b.labels[k].data(), b.labels[k].size() * 4}};
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

double run_torch(const std::string &script, const std::string &args, std::string *note) {
    // $SALUS_PYTHON names another interpreter (the GPU bundle's runner points
    // it at the machine's python3 with PyTorch).
    const char *env = std::getenv("SALUS_PYTHON");
    const std::string python = env && *env ? env : "/usr/bin/python3";
    const std::string cmd = python + " " + script + " " + args + " 2>&1";
    FILE *p = popen(cmd.c_str(), "r");
    *note = "cannot run " + python;
    if (!p) return 0.0;
    double rate = 0.0;
    char line[512];
    *note = "no result (is python3-torch installed?)";
    while (std::fgets(line, sizeof line, p)) {
        if (std::sscanf(line, "steps_per_s %lf", &rate) == 1) continue;
        if (std::strncmp(line, "unavailable ", 12) == 0) {
            *note = line + 12;
            if (!note->empty() && note->back() == '\n') note->pop_back();
        }
    }
    pclose(p);
    return rate;
}

} // namespace salus::bench
