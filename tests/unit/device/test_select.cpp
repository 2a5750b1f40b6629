// --device: the CPU, CUDA devices by index, auto, and the errors for the
// rest. On a build without the CUDA backend, or a machine without a GPU,
// asking for CUDA is an error that says why, and auto falls back to the CPU
// saying why; with a GPU, auto picks it.
#include "device/device.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace salus {
namespace {

TEST(DeviceSelect, CpuIsAlwaysThere) {
    std::unique_ptr<Device> device;
    std::string why;
    ASSERT_TRUE(open_device("cpu", &device, &why).ok());
    EXPECT_EQ(device->type(), DeviceType::CPU);
    EXPECT_TRUE(device->host_visible());
    EXPECT_EQ(why, "asked for");
}

TEST(DeviceSelect, MalformedSpecsAreRefused) {
    for (const char *spec : {"", "gpu", "CUDA", "cuda:", "cuda:x", "cuda:-1", "cuda:1a",
                             "cuda:12345", "cpu:0", " cpu"}) {
        std::unique_ptr<Device> device;
        std::string why;
        const Status st = open_device(spec, &device, &why);
        EXPECT_EQ(st.code(), SALUS_EINVAL) << "\"" << spec << "\"";
        EXPECT_NE(st.message().find("expected auto, cpu, cuda or cuda:N"), std::string::npos)
            << st.message();
        EXPECT_EQ(device, nullptr);
    }
}

TEST(DeviceSelect, AutoPicksCudaWhenItCanAndSaysWhy) {
    std::unique_ptr<Device> device;
    std::string why;
    ASSERT_TRUE(open_device("auto", &device, &why).ok());
    ASSERT_NE(device, nullptr);
#ifdef SALUS_HAVE_CUDA
    std::string reason;
    if (cuda_device_count(&reason) > 0) {
        EXPECT_EQ(device->type(), DeviceType::CUDA);
        EXPECT_EQ(why, "auto: first CUDA device");
        return;
    }
    EXPECT_EQ(device->type(), DeviceType::CPU);
    EXPECT_EQ(why, "auto: no CUDA device (" + reason + ")");
    EXPECT_FALSE(reason.empty());
#else
    EXPECT_EQ(device->type(), DeviceType::CPU);
    EXPECT_EQ(why, "auto: this salusd was built without the CUDA backend");
#endif
}

TEST(DeviceSelect, CudaWithoutAGpuIsAnErrorThatSaysWhy) {
    std::unique_ptr<Device> device;
    std::string why;
#ifdef SALUS_HAVE_CUDA
    std::string reason;
    if (cuda_device_count(&reason) > 0) {
        ASSERT_TRUE(open_device("cuda", &device, &why).ok());
        EXPECT_EQ(device->type(), DeviceType::CUDA);
        EXPECT_EQ(device->facts().index, 0);
        EXPECT_EQ(device->description().rfind("cuda:0 ", 0), 0u) << device->description();
        // One past the last device is no device.
        const std::string past = "cuda:" + std::to_string(cuda_device_count(&reason));
        const Status st = open_device(past, &device, &why);
        EXPECT_EQ(st.code(), SALUS_EINVAL) << st.message();
        return;
    }
    const Status st = open_device("cuda:0", &device, &why);
    EXPECT_EQ(st.code(), SALUS_ERESOURCE);
    EXPECT_EQ(st.message(), "no CUDA device: " + reason);
#else
    const Status st = open_device("cuda", &device, &why);
    EXPECT_EQ(st.code(), SALUS_ENOTSUP);
    EXPECT_NE(st.message().find("built without the CUDA backend"), std::string::npos);
#endif
    EXPECT_EQ(device, nullptr);
}

} // namespace
} // namespace salus
