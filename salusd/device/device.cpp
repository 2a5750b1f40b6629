#include "device/device.h"

#include <string>

namespace salus {

const char *device_type_name(DeviceType type) {
    switch (type) {
    case DeviceType::CPU:
        return "cpu";
    case DeviceType::CUDA:
        return "cuda";
    }
    return "unknown";
}

namespace {

// "cuda" is device 0; "cuda:N" device N. -1 when spec names no CUDA device.
int cuda_index(const std::string &spec) {
    if (spec == "cuda") return 0;
    if (spec.rfind("cuda:", 0) != 0 || spec.size() == 5 || spec.size() > 9) return -1;
    int index = 0;
    for (size_t i = 5; i < spec.size(); ++i) {
        if (spec[i] < '0' || spec[i] > '9') return -1;
        index = index * 10 + (spec[i] - '0');
    }
    return index;
}

} // namespace

bool is_device_spec(const std::string &spec) {
    return spec == "cpu" || spec == "auto" || cuda_index(spec) >= 0;
}

Status open_device(const std::string &spec, std::unique_ptr<Device> *out, std::string *why) {
    if (spec == "cpu") {
        *out = make_cpu_device();
        *why = "asked for";
        return {};
    }
    if (spec == "auto") {
#ifdef SALUS_HAVE_CUDA
        std::string reason;
        if (cuda_device_count(&reason) > 0) {
            SALUS_RETURN_IF_ERROR(open_cuda_device(0, out));
            *why = "auto: first CUDA device";
            return {};
        }
        *why = "auto: no CUDA device (" + reason + ")";
#else
        *why = "auto: this salusd was built without the CUDA backend";
#endif
        *out = make_cpu_device();
        return {};
    }
    int index = cuda_index(spec);
    if (index < 0) {
        return Status(SALUS_EINVAL,
                      "unknown device \"" + spec + "\" (expected auto, cpu, cuda or cuda:N)");
    }
#ifdef SALUS_HAVE_CUDA
    SALUS_RETURN_IF_ERROR(open_cuda_device(index, out));
    *why = "asked for";
    return {};
#else
    return Status(SALUS_ENOTSUP,
                  "device \"" + spec + "\": this salusd was built without the CUDA backend");
#endif
}

} // namespace salus
