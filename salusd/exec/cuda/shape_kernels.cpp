// CUDA kernels of the shape family (ops/shape.cpp): plans from shape_plans.h,
// launches from shape_launchers.h; Concat and Split are 2-D memory copies,
// Squeeze, Unsqueeze and Flatten Reshape's copy.
#include "device/cuda/cuda_check.h"
#include "device/cuda/cuda_stream.h"
#include "exec/cuda/cuda_kernels.h"
#include "exec/cuda/kernel_context.h"
#include "exec/cuda/shape_launchers.h"
#include "exec/cuda/shape_plans.h"
#include "exec/cuda/workspace.h"
#include "exec/index_error.h"

namespace salus::cuda {

Status gemm(const KernelContext &ctx); // matmul.cpp

namespace {

size_t esize_of(const TensorView &t) {
    return dtype_size(t.dtype);
}

bool wide(const TensorView &indices) {
    return indices.dtype == DType::I64;
}

Status zero(const KernelContext &ctx, const TensorView &t) {
    const size_t bytes = static_cast<size_t>(t.numel()) * esize_of(t);
    if (bytes == 0) return {};
    return check(cudaMemsetAsync(t.data, 0, bytes, stream_of(ctx)),
                 (ctx.node->op + ": cudaMemsetAsync").c_str());
}

Status pieces(const KernelContext &ctx, bool join) {
    PiecesPlan plan;
    SALUS_RETURN_IF_ERROR(plan_pieces(ctx, join, &plan));
    auto *whole = static_cast<uint8_t *>((join ? ctx.outputs[0] : ctx.inputs[0]).data);
    const size_t count = join ? ctx.inputs.size() : ctx.outputs.size();
    int64_t at = 0;
    for (size_t p = 0; p < count; ++p) {
        const int64_t width = piece_bytes(ctx, join, p);
        void *piece = (join ? ctx.inputs[p] : ctx.outputs[p]).data;
        if (width > 0 && plan.rows == 1) {
            // One row (the axis is the outermost): a plain copy, with no pitch limit.
            void *dst = join ? static_cast<void *>(whole + at) : piece;
            const void *src = join ? piece : static_cast<const void *>(whole + at);
            SALUS_RETURN_IF_ERROR(check(cudaMemcpyAsync(dst, src, static_cast<size_t>(width),
                                                        cudaMemcpyDeviceToDevice, stream_of(ctx)),
                                        (ctx.node->op + ": cudaMemcpyAsync").c_str()));
        } else if (width > 0 && plan.rows > 0) {
            const auto w = static_cast<size_t>(width);
            const auto pitch = static_cast<size_t>(plan.row_bytes);
            const cudaError_t err =
                join ? cudaMemcpy2DAsync(whole + at, pitch, piece, w, w,
                                         static_cast<size_t>(plan.rows), cudaMemcpyDeviceToDevice,
                                         stream_of(ctx))
                     : cudaMemcpy2DAsync(piece, w, whole + at, pitch, w,
                                         static_cast<size_t>(plan.rows), cudaMemcpyDeviceToDevice,
                                         stream_of(ctx));
            SALUS_RETURN_IF_ERROR(check(err, (ctx.node->op + ": cudaMemcpy2DAsync").c_str()));
        }
        at += width;
    }
    return {};
}

Status concat(const KernelContext &ctx) {
    return pieces(ctx, true);
}

Status split(const KernelContext &ctx) {
    return pieces(ctx, false);
}

Status slice(const KernelContext &ctx) {
    const TensorView &x = ctx.inputs[0];
    const TensorView &y = ctx.outputs[0];
    if (y.numel() == 0) return {};
    StridedIndex ix;
    int64_t base = 0;
    SALUS_RETURN_IF_ERROR(plan_slice(ctx, x.shape, y.shape, &ix, &base));
    const auto *src =
        static_cast<const uint8_t *>(x.data) + base * static_cast<int64_t>(esize_of(x));
    return launched(
        ctx, launch_strided_copy(ix, y.numel(), esize_of(x), src, y.data, false, stream_of(ctx)));
}

Status slice_grad(const KernelContext &ctx) {
    const TensorView &dy = ctx.inputs[0];
    const TensorView &dx = ctx.outputs[0];
    SALUS_RETURN_IF_ERROR(zero(ctx, dx));
    if (dy.numel() == 0) return {};
    StridedIndex ix;
    int64_t base = 0;
    SALUS_RETURN_IF_ERROR(plan_slice(ctx, dx.shape, dy.shape, &ix, &base));
    return launched(ctx, launch_strided_copy(ix, dy.numel(), sizeof(float), dy.data,
                                             dx.f32() + base, true, stream_of(ctx)));
}

Status tile(const KernelContext &ctx) {
    const TensorView &x = ctx.inputs[0];
    const TensorView &y = ctx.outputs[0];
    TilePlan plan;
    SALUS_RETURN_IF_ERROR(plan_tile(ctx, x.shape, y.shape, &plan));
    return launched(ctx, launch_tile(plan, y.numel(), esize_of(x), x.data, y.data, stream_of(ctx)));
}

Status tile_grad(const KernelContext &ctx) {
    const TensorView &dy = ctx.inputs[0];
    const TensorView &dx = ctx.outputs[0];
    TilePlan plan;
    SALUS_RETURN_IF_ERROR(plan_tile(ctx, dx.shape, dy.shape, &plan));
    return launched(ctx, launch_tile_grad(plan, dx.numel(), dy.f32(), dx.f32(), stream_of(ctx)));
}

// Every index in range before anything is written, as on the CPU: checked on
// the device, and the lane waits for the verdict (16 bytes back).
Status check_indices(const KernelContext &ctx, int64_t extent) {
    if (ctx.workspace_bytes < sizeof(IndexVerdict)) {
        return Status(SALUS_EEXEC, ctx.node->op + ": workspace too small");
    }
    const TensorView &indices = ctx.inputs[1];
    auto *verdict = static_cast<IndexVerdict *>(ctx.workspace);
    const cudaStream_t stream = stream_of(ctx);
    SALUS_RETURN_IF_ERROR(
        launched(ctx, launch_check_indices(indices.data, wide(indices), indices.numel(), extent,
                                           verdict, stream)));
    IndexVerdict v{};
    SALUS_RETURN_IF_ERROR(
        check(cudaMemcpyAsync(&v, verdict, sizeof v, cudaMemcpyDeviceToHost, stream),
              "index check copy"));
    SALUS_RETURN_IF_ERROR(check(cudaStreamSynchronize(stream), "index check"));
    if (v.bad_position >= 0) return index_out_of_range(ctx, v.bad_position, v.bad_index, extent);
    return {};
}

Status gather(const KernelContext &ctx) {
    const TensorView &data = ctx.inputs[0];
    GatherPlan plan;
    SALUS_RETURN_IF_ERROR(plan_gather(ctx, data.shape, &plan));
    SALUS_RETURN_IF_ERROR(check_indices(ctx, plan.n));
    return launched(ctx, launch_gather_rows(plan, ctx.outputs[0].numel(), esize_of(data), data.data,
                                            ctx.inputs[1].data, wide(ctx.inputs[1]),
                                            ctx.outputs[0].data, stream_of(ctx)));
}

Status gather_grad(const KernelContext &ctx) {
    const TensorView &dx = ctx.outputs[0];
    GatherPlan plan;
    SALUS_RETURN_IF_ERROR(plan_gather(ctx, dx.shape, &plan));
    SALUS_RETURN_IF_ERROR(check_indices(ctx, plan.n));
    return launched(ctx,
                    launch_gather_grad(plan, dx.numel(), ctx.inputs[0].f32(), ctx.inputs[1].data,
                                       wide(ctx.inputs[1]), dx.f32(), stream_of(ctx)));
}

Status gather_elements(const KernelContext &ctx) {
    const TensorView &data = ctx.inputs[0];
    ElementsPlan plan;
    SALUS_RETURN_IF_ERROR(plan_elements(ctx, data.shape, &plan));
    SALUS_RETURN_IF_ERROR(check_indices(ctx, plan.x_dims[plan.axis]));
    return launched(ctx, launch_gather_elements(plan, ctx.outputs[0].numel(), esize_of(data),
                                                data.data, ctx.inputs[1].data, wide(ctx.inputs[1]),
                                                ctx.outputs[0].data, stream_of(ctx)));
}

Status gather_elements_grad(const KernelContext &ctx) {
    const TensorView &dx = ctx.outputs[0];
    ElementsPlan plan;
    SALUS_RETURN_IF_ERROR(plan_elements(ctx, dx.shape, &plan));
    SALUS_RETURN_IF_ERROR(check_indices(ctx, plan.x_dims[plan.axis]));
    return launched(ctx, launch_gather_elements_grad(plan, dx.numel(), ctx.inputs[0].f32(),
                                                     ctx.inputs[1].data, wide(ctx.inputs[1]),
                                                     dx.f32(), stream_of(ctx)));
}

} // namespace

void register_shape_kernels(KernelRegistry *registry) {
    struct Entry {
        const char *op;
        KernelFn fn;
    };
    static constexpr Entry kKernels[] = {
        {"Concat", concat},
        {"Split", split},
        {"Slice", slice},
        {"SliceGrad", slice_grad},
        {"Squeeze", copy},
        {"Unsqueeze", copy},
        {"Flatten", copy},
        {"Tile", tile},
        {"TileGrad", tile_grad},
        {"Gather", gather},
        {"GatherGrad", gather_grad},
        {"GatherElements", gather_elements},
        {"GatherElementsGrad", gather_elements_grad},
        {"Gemm", gemm},
    };
    for (const Entry &e : kKernels) {
        registry->add(DeviceType::CUDA, e.op, e.fn, cuda_workspace_fn(e.op));
    }
}

} // namespace salus::cuda
