// The --device values, apart from opening devices: the config parser checks
// them without linking any device (tests/fuzz links it alone).
#include "device/device.h"

#include <string>

namespace salus {

int cuda_spec_index(const std::string &spec) {
    if (spec == "cuda") return 0;
    if (spec.rfind("cuda:", 0) != 0 || spec.size() == 5 || spec.size() > 9) return -1;
    int index = 0;
    for (size_t i = 5; i < spec.size(); ++i) {
        if (spec[i] < '0' || spec[i] > '9') return -1;
        index = index * 10 + (spec[i] - '0');
    }
    return index;
}

bool is_device_spec(const std::string &spec) {
    return spec == "cpu" || spec == "auto" || cuda_spec_index(spec) >= 0;
}

} // namespace salus
