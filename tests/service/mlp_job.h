// A training job on a live daemon through libsalus: the MLP of
// tests/capi/mlp_graph.h, one iteration after another, recording each loss.
// Deterministic on the CPU: the same count of iterations gives the same
// losses, bit for bit, whatever else the daemon serves meanwhile.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace salus::test {

struct MlpJob {
    std::string socket_path;
    // Runs until `stop` is set and at least `min_iterations` ran; with stop
    // set from the start, exactly min_iterations.
    std::atomic<bool> stop{false};
    uint64_t min_iterations = 0;
    std::atomic<uint64_t> done{0}; // iterations finished so far
    std::vector<float> losses;
    std::string error; // empty on success
};

// Runs the job to its end (call it in a thread for a concurrent job).
void run_mlp_job(MlpJob *job);

} // namespace salus::test
