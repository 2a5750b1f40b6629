#include "device/health.h"

#include <atomic>
#include <mutex>

namespace salus {
namespace {

std::atomic<bool> g_lost{false};
std::mutex g_mutex;
std::string g_why; // under g_mutex; written once

} // namespace

void report_device_lost(const std::string &why) {
    std::lock_guard<std::mutex> lock(g_mutex);
    if (g_lost.load(std::memory_order_relaxed)) return;
    g_why = why;
    g_lost.store(true, std::memory_order_release);
}

bool device_lost(std::string *why) {
    if (!g_lost.load(std::memory_order_acquire)) return false;
    if (why) {
        std::lock_guard<std::mutex> lock(g_mutex);
        *why = g_why;
    }
    return true;
}

} // namespace salus
