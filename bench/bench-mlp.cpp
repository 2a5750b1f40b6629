// MLP training step throughput: through salusd, against the same graph run by
// the same kernels in-process, and against PyTorch on the CPU with the same
// model, batch and thread count when python3-torch is installed. One run,
// side by side.
//
//   bench-mlp --socket SALUSD_SOCKET [--steps N] [--threads N] [--torch SCRIPT]
#include "mlp_steps.h"

#include "device/cpu_threads.h"


#include <cstdio>
#include <cstdlib>
#include <string>

using namespace salus::bench;

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
    salus::set_cpu_math_threads(threads);

    const mlp_spec spec = benchmark_mlp();
    const Batches b = make_batches(spec, 8);
    auto device = salus::make_cpu_device();

    float loss_in = 0, loss_d = 0;
    // Warm up both paths once, then measure.
    run_in_process(device.get(), spec, b, 3, &loss_in);
    run_salusd(socket_path, spec, b, 3, &loss_d);
    double in_process = run_in_process(device.get(), spec, b, steps, &loss_in);
    double salusd = run_salusd(socket_path, spec, b, steps, &loss_d);

    std::printf("MLP 784-1024-1024-10, batch 64, f32, %d BLAS thread(s), %d steps\n", threads,
                steps);
    std::printf("  %-26s %8.2f steps/s  (loss after: %.5f)\n", "in-process kernels", in_process,
                loss_in);
    std::printf("  %-26s %8.2f steps/s  (loss after: %.5f)\n", "through salusd", salusd, loss_d);
    std::printf("  ratio salusd/in-process:   %.3fx  (target >= 0.9x)\n", salusd / in_process);
    if (!torch_script.empty()) {
        std::string note;
        const double torch = run_torch(torch_script,
                                       "--device cpu --steps " + std::to_string(steps) +
                                           " --threads " + std::to_string(threads),
                                       &note);
        if (torch > 0) {
            std::printf("  %-26s %8.2f steps/s\n", "PyTorch (CPU)", torch);
            std::printf("  ratio salusd/PyTorch:      %.3fx\n", salusd / torch);
        } else {
            std::printf("  PyTorch: %s\n", note.c_str());
        }
    }
    return 0;
}
