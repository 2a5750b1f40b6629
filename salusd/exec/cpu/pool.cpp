// MaxPool, AveragePool, AveragePoolGrad and GlobalAveragePool as plain
// loops over [N·C] planes, where oneDNN (pool_dnnl.cpp) does not fit. A 1-D window
// is a 2-D one of height 1. The window is read from the attributes once,
// when the session is prepared.
#include "exec/cpu/conv_kernels.h"
#include "exec/cpu/cpu_kernels.h"
#include "ops/conv_window.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace salus::cpu {

namespace {

// A window over planes [H, W] (1-D: H = 1).
struct Plane {
    int64_t planes = 0; // N·C
    int64_t ih = 1, iw = 1, oh = 1, ow = 1;
    int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
    int64_t ph = 0, pw = 0;         // begin pads
    int64_t ph_end = 0, pw_end = 0; // end pads
};

Plane plane_of(const Window &w, const Shape &x) {
    Plane p;
    p.planes = x[0] * x[1];
    const int a = w.rank - 1; // the last (fastest) spatial axis
    p.iw = w.in[a];
    p.ow = w.out[a];
    p.kw = w.kernel[a];
    p.sw = w.stride[a];
    p.dw = w.dilation[a];
    p.pw = w.pad_begin[a];
    p.pw_end = w.pad_end[a];
    if (w.rank == 2) {
        p.ih = w.in[0];
        p.oh = w.out[0];
        p.kh = w.kernel[0];
        p.sh = w.stride[0];
        p.dh = w.dilation[0];
        p.ph = w.pad_begin[0];
        p.ph_end = w.pad_end[0];
    }
    return p;
}

class PoolKernel : public OpKernel {
  public:
    Status init(const KernelInit &init) {
        const Shape &x = init.inputs.back().shape; // X: the only input, or the last of a grad
        Window w;
        SALUS_RETURN_IF_ERROR(make_window(*init.node, x, init.node->get_ints("kernel_shape"),
                                          pool_rule(*init.node), &w));
        p_ = plane_of(w, x);
        include_pad_ = init.node->attr("count_include_pad") != nullptr &&
                       init.node->get_int("count_include_pad") == 1;
        return {};
    }

  protected:
    // Calls fn(flat input index) for each position of output (oy, ox)'s
    // window inside the plane; the taps that fall in the padding are cut
    // off first, so the loops check nothing per element.
    template <typename Fn>
    void each_in_window(int64_t oy, int64_t ox, Fn &&fn) const {
        const int64_t y0 = oy * p_.sh - p_.ph, x0 = ox * p_.sw - p_.pw;
        const int64_t ky_end = taps_end(y0, p_.dh, p_.kh, p_.ih);
        const int64_t kx_begin = taps_begin(x0, p_.dw), kx_end = taps_end(x0, p_.dw, p_.kw, p_.iw);
        for (int64_t ky = taps_begin(y0, p_.dh); ky < ky_end; ++ky) {
            const int64_t row = (y0 + ky * p_.dh) * p_.iw + x0;
            for (int64_t kx = kx_begin; kx < kx_end; ++kx) fn(row + kx * p_.dw);
        }
    }

    // The first tap k with start + k·dilation >= 0.
    static int64_t taps_begin(int64_t start, int64_t dilation) {
        return start >= 0 ? 0 : (-start + dilation - 1) / dilation;
    }
    // One past the last of `kernel` taps with start + k·dilation < in.
    static int64_t taps_end(int64_t start, int64_t dilation, int64_t kernel, int64_t in) {
        if (start >= in) return 0;
        return std::min(kernel, (in - 1 - start) / dilation + 1);
    }

    // Position in the plane of output (oy, ox)'s maximum (the first on ties),
    // -1 when its window holds no element of X.
    int64_t argmax(const float *x, int64_t oy, int64_t ox) const {
        int64_t best = -1;
        float best_v = -std::numeric_limits<float>::infinity();
        each_in_window(oy, ox, [&](int64_t i) {
            if (best < 0 || x[i] > best_v || (x[i] != x[i] && best_v == best_v)) {
                best = i;
                best_v = x[i];
            }
        });
        return best;
    }

    // AveragePool's divisor: the window clipped to X, or to X and its pads.
    int64_t divisor(int64_t oy, int64_t ox) const {
        auto span = [&](int64_t o, int64_t s, int64_t pad, int64_t k, int64_t in, int64_t end) {
            const int64_t start = o * s - pad;
            const int64_t stop = std::min(start + k, in + end);
            if (include_pad_) return stop - start;
            return std::min(stop, in) - std::max<int64_t>(start, 0);
        };
        return span(oy, p_.sh, p_.ph, p_.kh, p_.ih, p_.ph_end) *
               span(ox, p_.sw, p_.pw, p_.kw, p_.iw, p_.pw_end);
    }

    int64_t in_size() const { return p_.ih * p_.iw; }
    int64_t out_size() const { return p_.oh * p_.ow; }

    Plane p_;
    bool include_pad_ = false;
};

class MaxPoolKernel : public PoolKernel {
  public:
    Status run(const KernelContext &ctx) override {
        const float *x = ctx.inputs[0].f32();
        float *y = ctx.outputs[0].f32();
        int64_t *indices =
            ctx.outputs.size() > 1 ? static_cast<int64_t *>(ctx.outputs[1].data) : nullptr;
        for (int64_t c = 0; c < p_.planes; ++c) {
            const float *xc = x + c * in_size();
            for (int64_t oy = 0; oy < p_.oh; ++oy) {
                for (int64_t ox = 0; ox < p_.ow; ++ox) {
                    const int64_t best = argmax(xc, oy, ox);
                    const int64_t o = c * out_size() + oy * p_.ow + ox;
                    y[o] = best < 0 ? -std::numeric_limits<float>::infinity() : xc[best];
                    if (indices) indices[o] = best < 0 ? -1 : c * in_size() + best;
                }
            }
        }
        return {};
    }
};

class AveragePoolKernel : public PoolKernel {
  public:
    Status run(const KernelContext &ctx) override {
        const float *x = ctx.inputs[0].f32();
        float *y = ctx.outputs[0].f32();
        for (int64_t c = 0; c < p_.planes; ++c) {
            const float *xc = x + c * in_size();
            for (int64_t oy = 0; oy < p_.oh; ++oy) {
                for (int64_t ox = 0; ox < p_.ow; ++ox) {
                    float sum = 0.0f;
                    each_in_window(oy, ox, [&](int64_t i) { sum += xc[i]; });
                    const int64_t n = divisor(oy, ox);
                    y[c * out_size() + oy * p_.ow + ox] =
                        n > 0 ? sum / static_cast<float>(n) : 0.0f;
                }
            }
        }
        return {};
    }
};

class AveragePoolGradKernel : public PoolKernel {
  public:
    Status run(const KernelContext &ctx) override {
        const float *dy = ctx.inputs[0].f32();
        float *dx = ctx.outputs[0].f32();
        std::fill(dx, dx + ctx.outputs[0].numel(), 0.0f);
        for (int64_t c = 0; c < p_.planes; ++c) {
            float *dxc = dx + c * in_size();
            for (int64_t oy = 0; oy < p_.oh; ++oy) {
                for (int64_t ox = 0; ox < p_.ow; ++ox) {
                    const int64_t n = divisor(oy, ox);
                    if (n <= 0) continue;
                    const float g = dy[c * out_size() + oy * p_.ow + ox] / static_cast<float>(n);
                    each_in_window(oy, ox, [&](int64_t i) { dxc[i] += g; });
                }
            }
        }
        return {};
    }
};

Status global_average_pool(const KernelContext &ctx) {
    const TensorView &xv = ctx.inputs[0];
    const int64_t planes = xv.shape[0] * xv.shape[1];
    const int64_t size = planes == 0 ? 0 : xv.numel() / planes;
    const float *x = xv.f32();
    float *y = ctx.outputs[0].f32();
    for (int64_t c = 0; c < planes; ++c) {
        double sum = 0.0;
        for (int64_t i = 0; i < size; ++i) sum += x[c * size + i];
        y[c] = static_cast<float>(sum / static_cast<double>(size));
    }
    return {};
}

// oneDNN where it fits (pool_dnnl.cpp), else the loops above.
template <typename Loops, KernelFactory Dnnl>
Status make_pool(const KernelInit &init, std::unique_ptr<OpKernel> *out) {
    return dnnl_pool_fits(init) ? Dnnl(init, out) : make_kernel<Loops>(init, out);
}

} // namespace

void register_pool_kernels(KernelRegistry *registry) {
    registry->add(DeviceType::CPU, "MaxPool", make_pool<MaxPoolKernel, make_dnnl_pool>);
    registry->add(DeviceType::CPU, "MaxPoolGrad", make_dnnl_pool_grad);
    registry->add(DeviceType::CPU, "AveragePool", make_pool<AveragePoolKernel, make_dnnl_pool>);
    registry->add(DeviceType::CPU, "AveragePoolGrad",
                  make_pool<AveragePoolGradKernel, make_dnnl_pool_grad>);
    registry->add(DeviceType::CPU, "GlobalAveragePool", global_average_pool);
}

} // namespace salus::cpu
