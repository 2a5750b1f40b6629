#include "gpu_check.h"

#include "device/device.h"

#include <cstdio>

namespace salus::test {

bool gpu_present(std::string *why) {
    return cuda_device_count(why) > 0;
}

int require_gpu(const char *test) {
    std::string why;
    if (gpu_present(&why)) return 0;
    std::printf("SKIP: %s: no CUDA device (%s)\n", test, why.c_str());
    std::fflush(stdout);
    return kSkip;
}

} // namespace salus::test
