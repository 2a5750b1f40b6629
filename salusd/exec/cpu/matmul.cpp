// MatMul (batched, numpy-broadcasting its batch axes) and Gemm on oneDNN's
// matmul (exec/cpu/dnnl_kernel.h): broadcast batch axes are oneDNN's own
// (a batch dim of 1), transposes are strides, Gemm's alpha is an output
// scale and its beta · C is written into Y first, then accumulated by a sum
// post-op. bench-cpu-kernels: oneDNN's matmul took 0.44-0.88x OpenBLAS's
// sgemm time on the MLP's and the transformer's shapes (bench/README.md).
#include "exec/cpu/cpu_kernels.h"
#include "exec/cpu/dnnl_kernel.h"
#include "exec/cpu/helpers.h"
#include "exec/cpu/shape_kernels.h"

#include <cstring>
#include <vector>

namespace salus::cpu {

namespace {

using dnnl::memory;

// Operand s of a product whose output has rank `rank`, seen as its logical
// [batch..., rows, cols]: leading batch axes of 1 where s has fewer, the
// last two swapped by strides when `trans`.
memory::desc operand_desc(const Shape &s, size_t rank, bool trans) {
    const size_t lead = rank - s.size();
    memory::dims dims(rank, 1), strides(rank, 1);
    int64_t stride = 1;
    for (size_t d = rank; d-- > 0;) {
        if (d >= lead) dims[d] = s[d - lead];
        strides[d] = stride;
        stride *= dims[d];
    }
    if (trans) {
        std::swap(dims[rank - 2], dims[rank - 1]);
        std::swap(strides[rank - 2], strides[rank - 1]);
    }
    return memory::desc(dims, memory::data_type::f32, strides);
}

class DnnlMatMulKernel : public DnnlKernel {
  public:
    Status init(const KernelInit &init) {
        GemmDims d;
        SALUS_RETURN_IF_ERROR(gemm_dims(context_of(init), &d)); // f32, ranks, shapes agree
        gemm_ = init.node->op == "Gemm";
        const float alpha = gemm_ ? static_cast<float>(init.node->get_float("alpha")) : 1.0f;
        beta_ = gemm_ ? static_cast<float>(init.node->get_float("beta")) : 0.0f;
        // beta 0 ignores C, NaNs included, as torch.addmm.
        with_c_ = gemm_ && init.inputs.size() > 2 && beta_ != 0.0f;
        if (with_c_) SALUS_RETURN_IF_ERROR(plan_c(init.inputs[2].shape, init.outputs[0].shape));
        empty_ = any_empty(init);
        if (empty_) return {};
        const Shape &y = init.outputs[0].shape;
        const memory::desc a = operand_desc(init.inputs[0].shape, y.size(), d.trans_a);
        const memory::desc b = operand_desc(init.inputs[1].shape, y.size(), d.trans_b);
        const memory::desc out = dnnl_plain(dnnl_dims(y));
        try {
            dnnl::primitive_attr attr = dnnl_user_scratchpad();
            if (alpha != 1.0f) attr.set_output_scales(0, {alpha});
            if (with_c_) {
                dnnl::post_ops accumulate;
                accumulate.append_sum(1.0f);
                attr.set_post_ops(accumulate);
            }
            dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, b, out), attr, dnnl_cpu_engine());
            add_step(dnnl::matmul(pd), pd,
                     {{DNNL_ARG_SRC, Role::Input, 0, a},
                      {DNNL_ARG_WEIGHTS, Role::Input, 1, b},
                      {DNNL_ARG_DST, Role::Output, 0, out}});
            finish();
        } catch (const dnnl::error &e) {
            return dnnl_failure(*init.node, "matmul", e);
        }
        return {};
    }

    Status run(const KernelContext &ctx) override {
        if (empty_) SALUS_RETURN_IF_ERROR(DnnlKernel::run(ctx)); // zeroes Y: a sum over no k
        if (with_c_) write_beta_c(ctx);                          // the sum post-op adds A·B to it
        return empty_ ? Status() : DnnlKernel::run(ctx);
    }

  private:
    // The walk that broadcasts C to Y.
    Status plan_c(const Shape &c, const Shape &y) {
        int64_t strides[2][kMaxRank];
        contiguous_strides(y, strides[0]);
        if (!broadcast_strides(c, y, strides[1])) {
            return Status(SALUS_EINVAL, "Gemm: C does not broadcast to Y");
        }
        c_loop_ = make_loop(y, 2, strides);
        return {};
    }

    // Y = beta · C.
    void write_beta_c(const KernelContext &ctx) const {
        float *y = ctx.outputs[0].f32();
        const float *c = ctx.inputs[2].f32();
        const int64_t len = c_loop_.inner_dim();
        const int64_t sc = c_loop_.inner_stride(1);
        for_each_row(c_loop_, [&](const int64_t *off) {
            for (int64_t j = 0; j < len; ++j) y[off[0] + j] = beta_ * c[off[1] + j * sc];
        });
    }

    StridedLoop c_loop_;
    bool gemm_ = false, with_c_ = false;
    float beta_ = 0.0f;
};

} // namespace

Status make_matmul(const KernelInit &init, std::unique_ptr<OpKernel> *out) {
    return make_kernel<DnnlMatMulKernel>(init, out);
}

} // namespace salus::cpu
