#include "device/cpu_threads.h"

#include <atomic>
#include <omp.h>

namespace salus {
namespace {

std::atomic<int> g_threads{1};

} // namespace

void set_cpu_math_threads(int threads) {
    g_threads.store(threads, std::memory_order_relaxed);
    attach_cpu_math_threads();
}

void attach_cpu_math_threads() {
    omp_set_num_threads(g_threads.load(std::memory_order_relaxed));
}

} // namespace salus
