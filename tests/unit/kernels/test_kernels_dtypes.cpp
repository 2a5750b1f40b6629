// The kernels that take other dtypes than f32: OneHot (i32 and i64 indices)
// and Identity and Reshape (bytes of any dtype), against plain references.
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

template <typename Index>
Raw indices(DType dtype, Shape shape, const std::vector<Index> &values) {
    Raw r(dtype, std::move(shape));
    EXPECT_EQ(r.bytes.size(), values.size() * sizeof(Index));
    std::memcpy(r.bytes.data(), values.data(), r.bytes.size());
    return r;
}

Status run_raw(const NodeDesc &node, std::vector<Raw *> inputs, std::vector<Raw *> outputs) {
    KernelContext ctx;
    ctx.node = &node;
    for (Raw *r : inputs) ctx.inputs.push_back(r->view());
    for (Raw *r : outputs) ctx.outputs.push_back(r->view());
    return run_cpu_kernel(ctx);
}

std::vector<float> floats(const Raw &r) {
    std::vector<float> v(r.bytes.size() / 4);
    std::memcpy(v.data(), r.bytes.data(), r.bytes.size());
    return v;
}

template <typename Index>
void check_one_hot(DType dtype) {
    // In range, negative (from the end), and out of range on both sides.
    const std::vector<Index> idx = {0, 2, -1, -3, 3, -4, 1, 7};
    const int64_t depth = 3;
    Raw x = indices<Index>(dtype, {2, 4}, idx);
    Raw y(DType::F32, {2, 4, depth});
    NodeDesc node = make_node("OneHot");
    set_int(&node, "depth", depth);
    ASSERT_TRUE(run_raw(node, {&x}, {&y}).ok());
    const std::vector<float> got = floats(y);
    const int64_t hot[] = {0, 2, 2, 0, -1, -1, 1, -1}; // -1: a row of zeros
    for (size_t i = 0; i < idx.size(); ++i) {
        for (int64_t k = 0; k < depth; ++k) {
            EXPECT_EQ(got[i * depth + static_cast<size_t>(k)], k == hot[i] ? 1.0f : 0.0f)
                << dtype_name(dtype) << " index " << idx[i] << " column " << k;
        }
    }
}

TEST(KernelsDtypes, OneHotOfI32AndI64) {
    check_one_hot<int32_t>(DType::I32);
    check_one_hot<int64_t>(DType::I64);
}

TEST(KernelsDtypes, OneHotOfAScalarIsOneRow) {
    Raw x = indices<int32_t>(DType::I32, {}, {1});
    Raw y(DType::F32, {4});
    NodeDesc node = make_node("OneHot");
    set_int(&node, "depth", 4);
    ASSERT_TRUE(run_raw(node, {&x}, {&y}).ok());
    EXPECT_EQ(floats(y), (std::vector<float>{0, 1, 0, 0}));
}

TEST(KernelsDtypes, OneHotRefusesFloatIndices) {
    Raw x(DType::F32, {2});
    Raw y(DType::F32, {2, 3});
    NodeDesc node = make_node("OneHot");
    set_int(&node, "depth", 3);
    const Status st = run_raw(node, {&x}, {&y});
    EXPECT_EQ(st.code(), SALUS_EEXEC);
    EXPECT_NE(st.message().find("takes i32 and i64"), std::string::npos) << st.message();
}

TEST(KernelsDtypes, IdentityAndReshapeCopyEveryDtype) {
    for (DType dtype : {DType::F32, DType::F16, DType::BF16, DType::I32, DType::I64, DType::F64}) {
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
