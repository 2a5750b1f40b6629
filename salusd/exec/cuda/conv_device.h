// What the conv family's CUDA kernels (conv.cu) compute per element, in plain
// C++ that nvcc compiles for the device and g++ for the host: the unit tests
// run these functions on the CPU against the CPU kernels
// (test_kernels_conv.cpp), and the CPU's pooling loops (exec/cpu/pool.cpp,
// where oneDNN does not fit) are these same formulas. Every kernel gathers
// (one thread per output element, no atomics), so results do not depend on
// scheduling.
#pragma once

#include "exec/cuda/device_code.h"

namespace salus::cuda {

// How each output index of Pad or Upsample reads X.
enum class ResampleMode : int { Constant, Reflect, Edge, Upsample };

struct ResampleMap {
    int rank = 0;
    ResampleMode mode = ResampleMode::Constant;
    int64_t out_dims[kMaxRank] = {};
    int64_t in_dims[kMaxRank] = {};
    int64_t in_strides[kMaxRank] = {};
    int64_t before[kMaxRank] = {}; // Pad's begin pads
    int64_t scale[kMaxRank] = {};  // Upsample's factors
};

// X's index along one axis for output index o; -1 for Pad's constant.
SALUS_HD inline int64_t resample_axis(const ResampleMap &m, int d, int64_t o) {
    if (m.mode == ResampleMode::Upsample) return o / m.scale[d];
    const int64_t i = o - m.before[d], in = m.in_dims[d];
    if (i >= 0 && i < in) return i;
    if (m.mode == ResampleMode::Constant) return -1;
    if (m.mode == ResampleMode::Edge) return i < 0 ? 0 : in - 1;
    return i < 0 ? -i : 2 * (in - 1) - i;
}

// X's flat offset read by output element i; -1 for Pad's constant.
SALUS_HD inline int64_t resample_source(const ResampleMap &m, int64_t i) {
    int64_t offset = 0;
    for (int d = m.rank - 1; d >= 0; --d) {
        const int64_t q = i / m.out_dims[d];
        const int64_t s = resample_axis(m, d, i - q * m.out_dims[d]);
        if (s < 0) return -1;
        offset += s * m.in_strides[d];
        i = q;
    }
    return offset;
}

// UpsampleGrad's dX element j (m maps dY, the upsampled tensor, onto dX):
// the sum of dY over the block of scale copies of j, in dY's row-major order.
SALUS_HD inline float upsample_grad_value(const ResampleMap &m, const float *dy, int64_t j) {
    int64_t corner = 0, block = 1, dy_stride = 1;
    int64_t dy_strides[kMaxRank];
    for (int d = m.rank - 1; d >= 0; --d) {
        const int64_t q = j / m.in_dims[d];
        corner += (j - q * m.in_dims[d]) * m.scale[d] * dy_stride;
        dy_strides[d] = dy_stride;
        dy_stride *= m.out_dims[d];
        block *= m.scale[d];
        j = q;
    }
    float sum = 0.0f;
    for (int64_t k = 0; k < block; ++k) {
        int64_t offset = corner, rest = k;
        for (int d = m.rank - 1; d >= 0; --d) {
            const int64_t q = rest / m.scale[d];
            offset += (rest - q * m.scale[d]) * dy_strides[d];
            rest = q;
        }
        sum += dy[offset];
    }
    return sum;
}

// PadGrad: the positions of dY along axis d that Pad filled from dX index i,
// as up to 3 ascending ranges [lo, hi] (reflect: the mirror before, i
// itself, the mirror after; edge: the repeated edge and its pads).
struct PadSources {
    int count = 0;
    int64_t lo[3] = {}, hi[3] = {};
};

SALUS_HD inline PadSources pad_sources(const ResampleMap &m, int d, int64_t i) {
    PadSources s;
    const int64_t in = m.in_dims[d], before = m.before[d], out = m.out_dims[d];
    const int64_t at = i + before;
    auto add = [&s](int64_t lo, int64_t hi) {
        s.lo[s.count] = lo;
        s.hi[s.count] = hi;
        ++s.count;
    };
    if (m.mode == ResampleMode::Edge) {
        add(i == 0 ? 0 : at, i == in - 1 ? out - 1 : at);
    } else if (m.mode == ResampleMode::Reflect) {
        if (i >= 1 && i <= before) add(before - i, before - i);
        add(at, at);
        const int64_t mirror = before + 2 * (in - 1) - i;
        if (i <= in - 2 && mirror < out) add(mirror, mirror);
    } else {
        add(at, at);
    }
    return s;
}

// PadGrad's dX element j (m maps dY, the padded tensor, onto dX): the sum of
// the dY elements Pad filled from it, in dY's row-major order as the CPU
// kernel adds them.
SALUS_HD inline float pad_grad_value(const ResampleMap &m, const float *dy, int64_t j) {
    PadSources src[kMaxRank];
    int64_t dy_strides[kMaxRank];
    int64_t stride = 1;
    for (int d = m.rank - 1; d >= 0; --d) {
        const int64_t q = j / m.in_dims[d];
        src[d] = pad_sources(m, d, j - q * m.in_dims[d]);
        dy_strides[d] = stride;
        stride *= m.out_dims[d];
        j = q;
    }
    // An odometer over the axes' ranges, the last axis fastest.
    int range[kMaxRank] = {};
    int64_t pos[kMaxRank];
    for (int d = 0; d < m.rank; ++d) pos[d] = src[d].lo[0];
    float sum = 0.0f;
    while (true) {
        int64_t offset = 0;
        for (int d = 0; d < m.rank; ++d) offset += pos[d] * dy_strides[d];
        sum += dy[offset];
        int d = m.rank - 1;
        for (; d >= 0; --d) {
            if (pos[d] < src[d].hi[range[d]]) {
                ++pos[d];
                break;
            }
            if (range[d] + 1 < src[d].count) {
                pos[d] = src[d].lo[++range[d]];
                break;
            }
            range[d] = 0;
            pos[d] = src[d].lo[0];
        }
        if (d < 0) break;
    }
    return sum;
}

// A pooling window over planes [H, W] (1-D: H = 1), as the CPU kernels see it.
struct PoolPlan {
    int64_t planes = 0; // N·C
    int64_t ih = 1, iw = 1, oh = 1, ow = 1;
    int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
    int64_t ph = 0, pw = 0, ph_end = 0, pw_end = 0;
    bool include_pad = false;
};

// The maximum of output (oy, ox)'s window in plane x (the first on ties, NaN
// winning) and its position in the plane, -1 for a window all padding.
SALUS_HD inline float pool_max(const PoolPlan &p, const float *x, int64_t oy, int64_t ox,
                               int64_t *at) {
    int64_t best = -1;
    float best_v = -INFINITY;
    for (int64_t ky = 0; ky < p.kh; ++ky) {
        const int64_t y = oy * p.sh - p.ph + ky * p.dh;
        if (y < 0 || y >= p.ih) continue;
        for (int64_t kx = 0; kx < p.kw; ++kx) {
            const int64_t xx = ox * p.sw - p.pw + kx * p.dw;
            if (xx < 0 || xx >= p.iw) continue;
            const float v = x[y * p.iw + xx];
            if (best < 0 || v > best_v || (v != v && best_v == best_v)) {
                best = y * p.iw + xx;
                best_v = v;
            }
        }
    }
    *at = best;
    return best_v;
}

// AveragePool's divisor for output (oy, ox).
SALUS_HD inline int64_t pool_divisor(const PoolPlan &p, int64_t oy, int64_t ox) {
    int64_t n = 1;
    for (int a = 0; a < 2; ++a) {
        const int64_t o = a ? ox : oy, s = a ? p.sw : p.sh, pad = a ? p.pw : p.ph;
        const int64_t k = a ? p.kw : p.kh, in = a ? p.iw : p.ih, end = a ? p.pw_end : p.ph_end;
        const int64_t start = o * s - pad;
        const int64_t stop = start + k < in + end ? start + k : in + end;
        n *= p.include_pad ? stop - start : (stop < in ? stop : in) - (start > 0 ? start : 0);
    }
    return n;
}

SALUS_HD inline float pool_mean(const PoolPlan &p, const float *x, int64_t oy, int64_t ox) {
    float sum = 0.0f;
    for (int64_t ky = 0; ky < p.kh; ++ky) {
        const int64_t y = oy * p.sh - p.ph + ky;
        if (y < 0 || y >= p.ih) continue;
        for (int64_t kx = 0; kx < p.kw; ++kx) {
            const int64_t xx = ox * p.sw - p.pw + kx;
            if (xx >= 0 && xx < p.iw) sum += x[y * p.iw + xx];
        }
    }
    const int64_t n = pool_divisor(p, oy, ox);
    return n > 0 ? sum / static_cast<float>(n) : 0.0f;
}

// The first window (along one axis) whose span reaches index i: start + (k−1)·d >= i.
SALUS_HD inline int64_t pool_windows_begin(int64_t i, int64_t s, int64_t pad, int64_t k,
                                           int64_t d) {
    const int64_t need = i + pad - (k - 1) * d; // o·s must reach it
    return need <= 0 ? 0 : (need + s - 1) / s;
}
// One past the last window starting at or before index i, within out.
SALUS_HD inline int64_t pool_windows_end(int64_t i, int64_t s, int64_t pad, int64_t out) {
    const int64_t last = (i + pad) / s + 1;
    return last < out ? last : out;
}

// The gradient at X's (iy, ix) of plane dy: a gather over the windows that
// hold it (outputs in row-major order). max: the windows whose maximum it is
// (x is the plane of X); else the windows' shares of their dY.
SALUS_HD inline float pool_grad_value(const PoolPlan &p, bool max, const float *x, const float *dy,
                                      int64_t iy, int64_t ix) {
    float sum = 0.0f;
    const int64_t here = iy * p.iw + ix;
    const int64_t oy_end = pool_windows_end(iy, p.sh, p.ph, p.oh);
    const int64_t ox_end = pool_windows_end(ix, p.sw, p.pw, p.ow);
    for (int64_t oy = pool_windows_begin(iy, p.sh, p.ph, p.kh, p.dh); oy < oy_end; ++oy) {
        const int64_t ry = iy - (oy * p.sh - p.ph);
        if (ry % p.dh != 0 || ry / p.dh >= p.kh) continue;
        for (int64_t ox = pool_windows_begin(ix, p.sw, p.pw, p.kw, p.dw); ox < ox_end; ++ox) {
            const int64_t rx = ix - (ox * p.sw - p.pw);
            if (rx % p.dw != 0 || rx / p.dw >= p.kw) continue;
            const float g = dy[oy * p.ow + ox];
            if (max) {
                int64_t at = -1;
                pool_max(p, x, oy, ox, &at);
                if (at == here) sum += g;
            } else {
                const int64_t n = pool_divisor(p, oy, ox);
                if (n > 0) sum += g / static_cast<float>(n);
            }
        }
    }
    return sum;
}

// DepthToSpace/SpaceToDepth: the flat index in the depth tensor [N, C·b², H,
// W] of flat index s of the space tensor [N, C, H·b, W·b].
struct DepthSpace {
    int64_t c = 0, h = 0, w = 0; // the space tensor's C, H·b, W·b
    int64_t block = 1;
    bool crd = false;
};

SALUS_HD inline int64_t depth_index(const DepthSpace &p, int64_t s) {
    const int64_t x = s % p.w, y = s / p.w % p.h, c = s / (p.w * p.h) % p.c;
    const int64_t n = s / (p.w * p.h * p.c);
    const int64_t b = p.block, i = y % b, j = x % b;
    const int64_t dc = p.crd ? (c * b + i) * b + j : (i * b + j) * p.c + c;
    return ((n * p.c * b * b + dc) * (p.h / b) + y / b) * (p.w / b) + x / b;
}

// GlobalAveragePool: the mean of plane `plane` of `size` elements, summed in
// double as the CPU kernel does.
SALUS_HD inline float plane_mean(const float *x, int64_t plane, int64_t size) {
    double sum = 0.0;
    for (int64_t i = 0; i < size; ++i) sum += x[plane * size + i];
    return static_cast<float>(sum / static_cast<double>(size));
}

} // namespace salus::cuda
