// The kernels that take other dtypes than f32: Identity and Reshape (bytes
// of any dtype), against plain references.
#include "kernel_test_util.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace salus::test {
namespace {

// A tensor of any dtype over raw bytes.
struct Raw {
    DType dtype;
    Shape shape;
    std::vector<uint8_t> bytes;

    Raw(DType d, Shape s)
        : dtype(d), shape(std::move(s)),
          bytes(static_cast<size_t>(num_elements(shape)) * dtype_size(d), 0xAB) {}
    TensorView view() { return TensorView{bytes.data(), dtype, shape}; }
};

Status run_raw(const NodeDesc &node, std::vector<Raw *> inputs, std::vector<Raw *> outputs) {
    KernelContext ctx;
    ctx.node = &node;
    for (Raw *r : inputs) ctx.inputs.push_back(r->view());
    for (Raw *r : outputs) ctx.outputs.push_back(r->view());
    return cpu_kernel(node.op)(ctx);
}

TEST(KernelsDtypes, IdentityAndReshapeCopyEveryDtype) {
    for (DType dtype : {DType::F32, DType::F16, DType::BF16, DType::I32, DType::I64}) {
        Raw x(dtype, {2, 3});
        for (size_t i = 0; i < x.bytes.size(); ++i) x.bytes[i] = static_cast<uint8_t>(i * 7 + 1);
        Raw same(dtype, {2, 3});
        ASSERT_TRUE(run_raw(make_node("Identity"), {&x}, {&same}).ok()) << dtype_name(dtype);
        EXPECT_EQ(same.bytes, x.bytes) << dtype_name(dtype);

        NodeDesc reshape = make_node("Reshape");
        set_ints(&reshape, "shape", {3, -1});
        Raw flat(dtype, {3, 2});
        ASSERT_TRUE(run_raw(reshape, {&x}, {&flat}).ok()) << dtype_name(dtype);
        EXPECT_EQ(flat.bytes, x.bytes) << dtype_name(dtype);
    }
}

TEST(KernelsDtypes, CopyRefusesAnOutputOfAnotherDtype) {
    Raw x(DType::I32, {4});
    Raw y(DType::F32, {4});
    const Status st = run_raw(make_node("Identity"), {&x}, {&y});
    EXPECT_EQ(st.code(), SALUS_EEXEC);
    EXPECT_NE(st.message().find("input is i32 but output is f32"), std::string::npos)
        << st.message();
}

} // namespace
} // namespace salus::test
