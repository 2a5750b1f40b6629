// What the GPU kernel tests share: one CUDA device and lane stream per test
// suite, and device buffers made from and read back into host Tensors.
#pragma once

#include "device/device.h"
#include "kernel_test_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>
#include <vector>

namespace salus::test {

class GpuFixture : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        const Status st = open_cuda_device(0, &device_);
        ASSERT_TRUE(st.ok()) << st.message();
        Status made;
        stream_ = device_->create_stream(&made);
        ASSERT_TRUE(made.ok()) << made.message();
        ASSERT_TRUE(stream_->attach_thread().ok());
    }
    static void TearDownTestSuite() {
        stream_.reset();
        device_.reset();
    }

    // Device memory holding `t`'s values (or NaN, for outputs), released by
    // release_all(). An empty tensor still gets a few bytes: a valid address.
    void *upload(const Tensor &t, bool poison) {
        Status st;
        const size_t bytes = std::max<size_t>(t.size() * sizeof(float), 4);
        void *p = device_->allocate(bytes, &st);
        EXPECT_TRUE(st.ok()) << st.message();
        std::vector<float> values = t.data;
        if (poison) std::fill(values.begin(), values.end(), std::nanf(""));
        if (!values.empty()) {
            EXPECT_TRUE(device_->copy_to_device(p, values.data(), values.size() * 4).ok());
        }
        buffers_.push_back({p, bytes});
        return p;
    }
    // Only the tensor's own bytes: the rest of the last word (a bool or f16
    // tensor's padding) keeps the host's value, not the poison.
    void download(Tensor *t, const void *p) {
        const size_t bytes = static_cast<size_t>(num_elements(t->shape)) * dtype_size(t->dtype);
        if (bytes) {
            EXPECT_TRUE(device_->copy_to_host(t->data.data(), p, bytes).ok());
        }
    }
    // Runs node's CUDA kernel as a session runs it: prepared for this device
    // (cuDNN or our own, as the registry chooses), its workspace given, on
    // `inputs`; fills `outputs` (their shapes and dtypes say what to expect)
    // and reads back the inputs the op updates in place. False, with the
    // test failed, on error; releases its buffers.
    bool run_prepared(const NodeDesc &node, std::vector<Tensor> *inputs,
                      std::vector<Tensor> *outputs) {
        KernelInit init;
        init.node = &node;
        init.device_type = DeviceType::CUDA;
        init.device = device_.get();
        for (const Tensor &t : *inputs) init.inputs.push_back({nullptr, t.dtype, t.shape});
        for (const Tensor &t : *outputs) init.outputs.push_back({nullptr, t.dtype, t.shape});
        PreparedKernel kernel;
        const Status prepared = default_kernels().prepare(init, &kernel);
        EXPECT_TRUE(prepared.ok()) << prepared.message();
        if (!prepared.ok()) return false;

        KernelContext ctx;
        ctx.node = &node;
        ctx.stream = stream_.get();
        for (const Tensor &t : *inputs) ctx.inputs.push_back({upload(t, false), t.dtype, t.shape});
        for (const Tensor &t : *outputs) ctx.outputs.push_back({upload(t, true), t.dtype, t.shape});
        if (kernel.workspace_bytes) {
            Tensor ws(Shape{static_cast<int64_t>((kernel.workspace_bytes + 3) / 4)});
            ctx.workspace = upload(ws, true);
            ctx.workspace_bytes = kernel.workspace_bytes;
        }
        const Status st = kernel.run(ctx);
        EXPECT_TRUE(st.ok()) << st.message();
        const Status synced = stream_->synchronize();
        EXPECT_TRUE(synced.ok()) << synced.message();
        const bool ran = st.ok() && synced.ok();
        if (ran) {
            for (size_t i = 0; i < outputs->size(); ++i) {
                download(&(*outputs)[i], ctx.outputs[i].data);
            }
            for (int i : find_op(node.op)->updates_inputs) {
                const auto at = static_cast<size_t>(i);
                download(&(*inputs)[at], ctx.inputs[at].data);
            }
        }
        release_all();
        return ran;
    }

    void release_all() {
        for (const auto &[p, bytes] : buffers_) device_->release(p, bytes);
        buffers_.clear();
    }

    inline static std::unique_ptr<Device> device_;
    inline static std::unique_ptr<Stream> stream_;
    std::vector<std::pair<void *, size_t>> buffers_;
};

} // namespace salus::test
