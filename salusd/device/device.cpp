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
    int index = cuda_spec_index(spec);
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
