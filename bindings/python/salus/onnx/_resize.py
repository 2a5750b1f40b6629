"""The import table's resampling (Resize, Upsample): integer nearest-neighbour
upsampling is the daemon's Upsample; any other resampling of an axis is a
product with a constant [out, in] matrix of the interpolation weights, made
here the way ONNX's reference makes them (its test data's generator)."""

import math

import numpy as np

from ._import import floats, lowering, op, refuse


def _source(mode, x, scale, size, out, roi):
    """Where output index x reads from in the input, by ONNX's
    coordinate_transformation_mode; None: outside (tf_crop_and_resize)."""
    width = scale * size  # ONNX's, a float when the scale is
    if mode == "align_corners":
        return 0.0 if width == 1 else x * (size - 1) / (width - 1)
    if mode == "asymmetric":
        return x / scale
    if mode == "tf_crop_and_resize":
        start, end = roi
        src = (end - start) * (size - 1) / 2 if width == 1 else \
            x * (end - start) * (size - 1) / (width - 1)
        src += start * (size - 1)
        return None if src < 0 or src > size - 1 else src
    if mode == "pytorch_half_pixel":
        return -0.5 if width == 1 else (x + 0.5) / scale - 0.5
    if mode == "half_pixel":
        return (x + 0.5) / scale - 0.5
    if mode == "tf_half_pixel_for_nn":
        return (x + 0.5) / scale
    refuse(f"coordinate_transformation_mode {mode!r}")


def _coefficients(n, ratio):
    mode = n.attr("mode")
    if mode == "linear":
        return np.array([1 - ratio, ratio])
    if mode == "cubic":
        a = n.attr("cubic_coeff_a")
        r, s = ratio + 1, 2 - ratio  # the far taps' distances
        return np.array([((a * r - 5 * a) * r + 8 * a) * r - 4 * a,
                         ((a + 2) * ratio - (a + 3)) * ratio * ratio + 1,
                         ((a + 2) * (1 - ratio) - (a + 3)) * (1 - ratio) * (1 - ratio) + 1,
                         ((a * s - 5 * a) * s + 8 * a) * s - 4 * a])
    # nearest: one of the two neighbours, by nearest_mode.
    if ratio == 1:
        return np.array([0.0, 1.0])
    rounding = n.attr("nearest_mode", "round_prefer_floor") if n.ver >= 11 else "floor"
    up = {"round_prefer_floor": ratio > 0.5, "round_prefer_ceil": ratio >= 0.5,
          "floor": False, "ceil": True}[rounding]
    return np.array([0.0, 1.0]) if up else np.array([1.0, 0.0])


def weights(n, size, out, scale, roi):
    """([out, in] interpolation weights, the rows outside the crop) of one axis."""
    mode = n.attr("coordinate_transformation_mode", "asymmetric") if n.ver >= 11 \
        else "asymmetric"
    w = np.zeros((out, size))
    outside = np.zeros(out, bool)
    for x in range(out):
        src = _source(mode, x, scale, size, out, roi)
        if src is None:
            outside[x] = True
            continue
        ratio = 1.0 if float(src).is_integer() else src - math.floor(src)
        coeffs = _coefficients(n, ratio)
        taps = len(coeffs)
        # The taps nearest src in the input padded by its edges, the lower first.
        pad = math.ceil(taps / 2)
        near = sorted(sorted(range(size + 2 * pad), key=lambda i: (abs(src + pad - i), i))[:taps])
        idx = np.array(near) - pad
        if n.attr("exclude_outside", 0):
            coeffs = np.where((idx < 0) | (idx >= size), 0.0, coeffs)
            coeffs = coeffs / coeffs.sum()
        for i, c in zip(np.clip(idx, 0, size - 1), coeffs):
            w[x, i] += c
    return w, outside


def _scales_and_sizes(n, x):
    if n.proto.op_type == "Upsample" and n.ver < 9:
        scales = n.attr("scales")
    elif n.proto.op_type == "Upsample" or n.ver < 11:
        scales = n.const(1, "scales")
    elif n.has(3) and n.const(3, "sizes").size:
        sizes = [int(s) for s in n.const(3, "sizes")]
        return [o / i for o, i in zip(sizes, x.shape)], sizes
    else:
        scales = n.const(2, "scales")
    scales = [float(s) for s in np.asarray(scales).reshape(-1)]
    return scales, [int(s * d) for s, d in zip(scales, x.shape)]


def _along(n, x, axis, matrix, bias):
    """matrix [out, in] applied along x's axis (plus bias per output index)."""
    last = x.ndim - 1
    perm = list(range(x.ndim))
    perm[axis], perm[last] = last, axis
    moved = x if axis == last else n.g.transpose(x, perm)
    y = n.g.matmul(moved, n.constant(matrix.T.astype(np.float32)))
    if bias is not None:
        y = op(n, "Add", y, n.constant(bias.astype(np.float32)))
    return y if axis == last else n.g.transpose(y, perm)


@lowering("Upsample", "Resize", since=7)
def _resize(n):
    """Upsample for integer nearest-neighbour upsampling; otherwise, per resampled axis,
    MatMul by the constant matrix of its interpolation weights (nearest, linear, cubic;
    every coordinate mode)."""
    x, = floats(n, 0)
    if n.attr("mode") not in ("nearest", "linear", "cubic"):
        refuse(f"mode {n.attr('mode')!r}")
    scales, sizes = _scales_and_sizes(n, x)
    if any(s < 1 for s in sizes):
        refuse("an empty output: Salus tensors have no zero extent")
    crop = n.attr("coordinate_transformation_mode") == "tf_crop_and_resize" and n.ver >= 11
    roi = np.asarray(n.const(1, "roi"), np.float64).reshape(-1) if crop else None
    plans = []
    for axis, (size, out, scale) in enumerate(zip(x.shape, sizes, scales)):
        if out == size and scale == 1 and not crop:
            continue
        axis_roi = None if roi is None else (roi[axis], roi[axis + x.ndim])
        w, outside = weights(n, size, out, scale, axis_roi)
        plans.append((axis, w, outside))
    if not plans:
        return op(n, "Identity", x)
    repeats = [1] * x.ndim
    for axis, w, outside in plans:
        step = w.shape[0] // w.shape[1]
        if w.shape[0] % w.shape[1] or outside.any() or not np.array_equal(
                w, np.repeat(np.eye(w.shape[1]), step, axis=0)):
            break
        repeats[axis] = step
    else:
        return op(n, "Upsample", x, scales=repeats)
    y = x
    for axis, w, outside in reversed(plans):
        bias = np.where(outside, n.attr("extrapolation_value"), 0.0) if outside.any() else None
        y = _along(n, y, axis, w, bias)
    return y
