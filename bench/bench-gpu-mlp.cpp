// MLP training step throughput on the GPU: through salusd (--device cuda),
// against the same graph on the same CUDA kernels in-process, and against
// PyTorch on the same GPU with the same model, batch and dtype (f32, no
// TF32) when /usr/bin/python3 (or $SALUS_PYTHON) has a torch with CUDA. Every path feeds its
// batch from host memory and reads the loss back every step. One run, side by
// side. Exits 77 with the reason when there is no GPU or salusd is not on it.
//
//   bench-gpu-mlp --socket SALUSD_SOCKET [--steps N] [--torch SCRIPT]
#include "mlp_steps.h"

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

using namespace salus::bench;

namespace {

constexpr int kSkip = 77;

// The daemon's device type ("cpu", "cuda").
std::string daemon_device(const char *socket_path) {
    salus_connect_options opts;
    salus_connect_options_init(&opts, SALUS_CONNECT_OPTIONS_VERSION);
    opts.socket_path = socket_path;
    salus_client *client = nullptr;
    check(salus_connect(&opts, &client), "connect");
    salus_device_info info;
    check(salus_device_info_init(&info, SALUS_DEVICE_INFO_VERSION), "device info");
    check(salus_get_device_info(client, &info), "device info");
    salus_disconnect(client);
    return info.type;
}

} // namespace

int main(int argc, char **argv) {
    const char *socket_path = nullptr;
    std::string torch_script;
    int steps = 500;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--socket" && i + 1 < argc) {
            socket_path = argv[++i];
        } else if (a == "--steps" && i + 1 < argc) {
            steps = std::atoi(argv[++i]);
        } else if (a == "--torch" && i + 1 < argc) {
            torch_script = argv[++i];
        } else {
            socket_path = nullptr;
            break;
        }
    }
    if (!socket_path || steps < 1) {
        std::fprintf(stderr, "usage: %s --socket PATH [--steps N] [--torch SCRIPT]\n", argv[0]);
        return 2;
    }
    std::unique_ptr<salus::Device> device;
    if (salus::Status st = salus::open_cuda_device(0, &device); !st.ok()) {
        std::printf("bench-gpu-mlp: %s: nothing to measure\n", st.message().c_str());
        return kSkip;
    }
    if (const std::string type = daemon_device(socket_path); type != "cuda") {
        std::printf("bench-gpu-mlp: salusd at %s runs on %s, not cuda: nothing to compare\n",
                    socket_path, type.c_str());
        return kSkip;
    }

    const mlp_spec spec = benchmark_mlp();
    const Batches b = make_batches(spec, 8);
    float loss_in = 0, loss_d = 0;
    run_in_process(device.get(), spec, b, 20, &loss_in);
    run_salusd(socket_path, spec, b, 20, &loss_d);
    const double in_process = run_in_process(device.get(), spec, b, steps, &loss_in);
    const double salusd = run_salusd(socket_path, spec, b, steps, &loss_d);

    std::printf("MLP 784-1024-1024-10, batch 64, f32, SGD, %d steps on %s\n", steps,
                device->description().c_str());
    std::printf("  %-26s %9.1f steps/s  (loss after: %.5f)\n", "in-process CUDA kernels",
                in_process, loss_in);
    std::printf("  %-26s %9.1f steps/s  (loss after: %.5f)\n", "through salusd", salusd, loss_d);
    std::printf("  ratio salusd/in-process:   %.3fx\n", salusd / in_process);
    std::string note = "no PyTorch script given (--torch bench/torch_mlp.py)";
    const double torch =
        torch_script.empty()
            ? 0.0
            : run_torch(torch_script, "--device cuda --steps " + std::to_string(steps), &note);
    if (torch > 0) {
        std::printf("  %-26s %9.1f steps/s\n", "PyTorch (same GPU)", torch);
        std::printf("  ratio salusd/PyTorch:      %.3fx  (target >= 0.9x)\n", salusd / torch);
    } else {
        std::printf("  PyTorch: %s\n", note.c_str());
    }
    return 0;
}
