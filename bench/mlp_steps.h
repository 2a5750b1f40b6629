// MLP training steps timed three ways, shared by bench-mlp (CPU) and
// bench-gpu-mlp (CUDA): in-process on a device, through salusd, and by the
// PyTorch twin (torch_mlp.py). Every path feeds the same batches from host
// memory and reads the loss back after every step.
#pragma once

#include "device/device.h"
#include "mlp/mlp.h"

#include <string>
#include <vector>

namespace salus::bench {

// MLP 784-1024-1024-10, batch 64, f32, SGD: the model both benchmarks time.
mlp_spec benchmark_mlp();

struct Batches {
    std::vector<std::vector<float>> x, labels;
};
// A few distinct batches, made before timing so every path feeds the same bytes.
Batches make_batches(const mlp_spec &spec, int count);

// Exits with a message on any failure: a benchmark has nothing to report then.
void check(int rc, const char *what);
void check(const Status &st, const char *what);

// Steps per second of each path; *last_loss is the loss of the last step.
double run_in_process(Device *device, const mlp_spec &spec, const Batches &b, int steps,
                      float *last_loss);
double run_salusd(const char *socket_path, const mlp_spec &spec, const Batches &b, int steps,
                  float *last_loss);

// Runs `/usr/bin/python3 SCRIPT ARGS`: steps per second, or 0 with *note
// saying why there is none (no torch, no CUDA in this torch, ...).
double run_torch(const std::string &script, const std::string &args, std::string *note);

} // namespace salus::bench
