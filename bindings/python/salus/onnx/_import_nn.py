"""The import table's neural-network ops: convolutions, pooling,
normalizations, losses and padding. 3-D convolutions and pools
are composed of the daemon's 2-D ones over depth slices."""

import numpy as np

from ._import import I32, I64, floats, lowering, norm_axis, op, refuse, scalar


def _spatial(n, x, kernel):
    """strides, dilations and explicit [begin..., end...] pads of a window op
    over x's spatial axes, auto_pad resolved against the static shape."""
    rank = len(kernel)
    strides = list(n.attr("strides") or [1] * rank)
    dilations = list(n.attr("dilations") or [1] * rank)
    auto = n.attr("auto_pad", "NOTSET")
    if auto in ("NOTSET", ""):
        pads = list(n.attr("pads") or [0] * (2 * rank))
    elif auto == "VALID":
        pads = [0] * (2 * rank)
    else:
        begin, end = [], []
        for size, k, s, d in zip(x.shape[2:], kernel, strides, dilations):
            out = -(-size // s)
            total = max(0, (out - 1) * s + (k - 1) * d + 1 - size)
            small = total // 2
            begin.append(small if auto == "SAME_UPPER" else total - small)
            end.append(total - begin[-1])
        pads = begin + end
    return strides, dilations, pads


def _window_attrs(strides, dilations, pads):
    return {"strides": strides, "dilations": dilations, "pads": pads}


# ---- convolutions --------------------------------------------------------------

@lowering("Conv", since=1)
def _conv(n):
    """Conv, 1-D and 2-D; 3-D as the sum over depth taps of 2-D Convs of depth slices
    (auto_pad resolved)."""
    x, w = floats(n, 0, 1)
    bias = n.t(2, floats=True) if n.has(2) else None
    kernel = list(w.shape[2:])
    strides, dilations, pads = _spatial(n, x, kernel)
    group = n.attr("group")
    if len(kernel) == 3:
        return _conv3d(n, x, w, bias, strides, dilations, pads, group)
    if len(kernel) not in (1, 2):
        refuse(f"a {len(kernel)}-D convolution: Salus convolves 1-D, 2-D and 3-D")
    inputs = [x, w] + ([bias] if bias is not None else [])
    return op(n, "Conv", *inputs, group=group, **_window_attrs(strides, dilations, pads))


def _depth_slices(n, x, start, count, step):
    """x [N, C, D, ...] at depths start, start + step, ... (count of them),
    as [N·count, C, ...]."""
    part = n.g.slice(x, [start], [start + (count - 1) * step + 1], axes=[2], steps=[step])
    perm = [0, 2, 1] + list(range(3, x.ndim))
    moved = n.g.transpose(part, perm)
    return n.g.reshape(moved, (x.shape[0] * count, x.shape[1]) + tuple(x.shape[3:]))


def _unfold_depth(n, y, batch, depth):
    """y [N·D, C, ...] back to [N, C, D, ...]."""
    y = n.g.reshape(y, (batch, depth) + tuple(y.shape[1:]))
    return n.g.transpose(y, [0, 2, 1] + list(range(3, y.ndim)))


def _pad_depth(n, x, before, after, value=0.0):
    if not before and not after:
        return x
    pads = [0] * (2 * x.ndim)
    pads[2], pads[x.ndim + 2] = before, after
    return op(n, "Pad", x, pads=pads, mode="constant", value=value)


def _conv3d(n, x, w, bias, strides, dilations, pads, group):
    # Σ over the kernel's depth taps of 2-D convolutions of depth slices.
    x = _pad_depth(n, x, pads[0], pads[3])
    kd, sd, dd = w.shape[2], strides[0], dilations[0]
    out_depth = (x.shape[2] - dd * (kd - 1) - 1) // sd + 1
    attrs = _window_attrs(strides[1:], dilations[1:], pads[1:3] + pads[4:6])
    total = None
    for tap in range(kd):
        slices = _depth_slices(n, x, tap * dd, out_depth, sd)
        w_tap = n.g.squeeze(n.g.slice(w, [tap], [tap + 1], axes=[2]), 2)
        y = op(n, "Conv", slices, w_tap, group=group, **attrs)
        total = y if total is None else op(n, "Add", total, y)
    y = _unfold_depth(n, total, x.shape[0], out_depth)
    if bias is not None:
        y = op(n, "Add", y, n.g.reshape(bias, (bias.shape[0], 1, 1, 1)))
    return y


@lowering("ConvTranspose", since=1)
def _conv_transpose(n):
    """ConvTranspose, 1-D and 2-D; 3-D as the sum over depth taps of 2-D ones placed at
    their depths (output_shape and auto_pad resolved to pads)."""
    x, w = floats(n, 0, 1)
    kernel = list(w.shape[2:])
    if len(kernel) not in (1, 2, 3):
        refuse(f"a {len(kernel)}-D transposed convolution: Salus has 1-D to 3-D")
    rank = len(kernel)
    strides = list(n.attr("strides") or [1] * rank)
    dilations = list(n.attr("dilations") or [1] * rank)
    out_pad = list(n.attr("output_padding") or [0] * rank)
    pads = list(n.attr("pads") or [0] * (2 * rank))
    auto = n.attr("auto_pad", "NOTSET")
    wanted = n.attr("output_shape")
    if wanted or auto in ("SAME_UPPER", "SAME_LOWER"):
        sizes = list(wanted)[-rank:] if wanted else [d * s for d, s in zip(x.shape[2:], strides)]
        pads = [0] * (2 * rank)
        for i, (size, k, s, d) in enumerate(zip(x.shape[2:], kernel, strides, dilations)):
            total = s * (size - 1) + out_pad[i] + ((k - 1) * d + 1) - sizes[i]
            if total < 0:
                out_pad[i] -= total  # the output grows at its end
                total = 0
            small = total // 2
            pads[i] = small if auto == "SAME_UPPER" else total - small
            pads[i + rank] = total - pads[i]
    elif auto == "VALID":
        pads = [0] * (2 * rank)
    bias = n.t(2, floats=True) if n.has(2) else None
    if rank == 3:
        return _conv_transpose3d(n, x, w, bias, strides, dilations, pads, out_pad)
    inputs = [x, w] + ([bias] if bias is not None else [])
    return op(n, "ConvTranspose", *inputs, group=n.attr("group"), output_padding=out_pad,
              **_window_attrs(strides, dilations, pads))


def _conv_transpose3d(n, x, w, bias, strides, dilations, pads, out_pad):
    # Each depth tap kd: the 2-D transposed convolution of every input depth
    # slice, slice i landing at depth i·stride + kd·dilation of the uncropped
    # output (zeros between, by padding); the taps summed, then cropped.
    batch, depth = x.shape[0], x.shape[2]
    sd, dd = strides[0], dilations[0]
    attrs = _window_attrs(strides[1:], dilations[1:], pads[1:3] + pads[4:6])
    slices = _depth_slices(n, x, 0, depth, 1)
    spread = (depth - 1) * sd + 1
    full = spread + (w.shape[2] - 1) * dd + out_pad[0]
    total = None
    for tap in range(w.shape[2]):
        w_tap = n.g.squeeze(n.g.slice(w, [tap], [tap + 1], axes=[2]), 2)
        y = op(n, "ConvTranspose", slices, w_tap, group=n.attr("group"),
               output_padding=out_pad[1:], **attrs)
        plane = y.shape[1:]
        y = n.g.reshape(y, (batch, depth, 1, int(np.prod(plane))))
        if sd > 1:
            y = op(n, "Pad", y, pads=[0, 0, 0, 0, 0, 0, sd - 1, 0])
        y = n.g.slice(n.g.reshape(y, (batch, depth * sd, y.shape[3])), [0], [spread], axes=[1])
        before = tap * dd
        y = op(n, "Pad", y, pads=[0, before, 0, 0, full - spread - before, 0])
        total = y if total is None else op(n, "Add", total, y)
    out_depth = full - pads[0] - pads[3]
    y = n.g.slice(total, [pads[0]], [pads[0] + out_depth], axes=[1])
    y = n.g.transpose(n.g.reshape(y, (batch, out_depth) + tuple(plane)), [0, 2, 1, 3, 4])
    if bias is not None:
        y = op(n, "Add", y, n.g.reshape(bias, (bias.shape[0], 1, 1, 1)))
    return y


# ---- pooling ---------------------------------------------------------------------

def _pool_attrs(n, x, kernel):
    strides, dilations, pads = _spatial(n, x, kernel)
    attrs = {"kernel_shape": list(kernel), "strides": strides, "pads": pads,
             "ceil_mode": n.attr("ceil_mode", 0)}
    return attrs, dilations


@lowering("MaxPool", since=1)
def _max_pool(n):
    """MaxPool (with Indices), 1-D and 2-D; 3-D as Max over depth of 2-D pools."""
    x, = floats(n, 0)
    if n.attr("storage_order", 0):
        refuse("storage_order 1: Salus's indices are row-major")
    kernel = n.attr("kernel_shape")
    attrs, dilations = _pool_attrs(n, x, kernel)
    want_indices = n.n_out > 1 and n.proto.output[1]
    if len(kernel) == 3 and not want_indices:
        return _pool3d(n, x, "MaxPool", attrs, dilations)
    if len(kernel) not in (1, 2):
        refuse(f"a {len(kernel)}-D pool: Salus pools 1-D, 2-D (and 3-D without indices)")
    outs = op(n, "MaxPool", x, num_outputs=2 if want_indices else 1, dilations=dilations,
              **attrs)
    return outs if want_indices else [outs]


@lowering("AveragePool", since=1)
def _average_pool(n):
    """AveragePool, 1-D and 2-D; 3-D as the mean over depth of 2-D pools."""
    x, = floats(n, 0)
    kernel = n.attr("kernel_shape")
    attrs, dilations = _pool_attrs(n, x, kernel)
    if any(d != 1 for d in dilations):
        refuse("dilations: Salus's AveragePool has none")
    attrs["count_include_pad"] = n.attr("count_include_pad", 0)
    if len(kernel) == 3:
        return _pool3d(n, x, "AveragePool", attrs, dilations)
    if len(kernel) not in (1, 2):
        refuse(f"a {len(kernel)}-D pool: Salus pools 1-D, 2-D and 3-D")
    return op(n, "AveragePool", x, **attrs)


def _pool3d(n, x, kind, attrs, dilations):
    # The 2-D pool of every depth slice, then the window over depth:
    # the max of the taps, or their mean (over the taps inside the input,
    # unless count_include_pad).
    if attrs["ceil_mode"]:
        refuse("ceil_mode on a 3-D pool")
    kd, sd, dd = attrs["kernel_shape"][0], attrs["strides"][0], dilations[0]
    before, after = attrs["pads"][0], attrs["pads"][3]
    attrs2 = dict(attrs, kernel_shape=attrs["kernel_shape"][1:], strides=attrs["strides"][1:],
                  pads=attrs["pads"][1:3] + attrs["pads"][4:6])
    if kind == "MaxPool":
        attrs2["dilations"] = dilations[1:]
    batch, depth = x.shape[0], x.shape[2]
    planes = op(n, kind, _depth_slices(n, x, 0, depth, 1), **attrs2)
    planes = _unfold_depth(n, planes, batch, depth)
    fill = float(np.finfo(np.float32).min) if kind == "MaxPool" else 0.0
    planes = _pad_depth(n, planes, before, after, fill)
    out_depth = (depth + before + after - dd * (kd - 1) - 1) // sd + 1
    total = None
    for tap in range(kd):
        start = tap * dd
        part = n.g.slice(planes, [start], [start + (out_depth - 1) * sd + 1], axes=[2],
                         steps=[sd])
        total = part if total is None else op(n, "Max" if kind == "MaxPool" else "Add",
                                              total, part)
    if kind == "MaxPool":
        return total
    if attrs["count_include_pad"]:
        counts = np.full(out_depth, kd, np.float32)
    else:
        starts = np.arange(out_depth) * sd - before
        taps = starts[:, None] + np.arange(kd) * dd
        counts = ((taps >= 0) & (taps < depth)).sum(1).astype(np.float32)
    return op(n, "Div", total, n.constant(counts.reshape(out_depth, 1, 1)))


@lowering("GlobalAveragePool", "GlobalMaxPool", since=1)
def _global_pool(n):
    """ReduceMean or ReduceMax over the spatial axes."""
    x, = floats(n, 0)
    kind = "ReduceMean" if n.proto.op_type == "GlobalAveragePool" else "ReduceMax"
    return op(n, kind, x, axes=list(range(2, x.ndim)), keepdims=1)


# ---- normalization -----------------------------------------------------------------

@lowering("BatchNormalization", since=6)
def _batch_norm(n):
    """BatchNormalization; training_mode 1 (opset 14) composed of ReduceMean, Sub, Mul,
    Sqrt, Div with its running statistics as outputs."""
    if n.attr("spatial", 1) != 1:
        refuse("spatial 0")
    x, scale, b, mean, var = floats(n, 0, 1, 2, 3, 4)
    eps = n.attr("epsilon")
    if n.attr("training_mode", 0):
        return _batch_norm_training(n, x, scale, b, mean, var, eps)
    if n.attr("is_test", 1) == 0 or any(n.proto.output[1:]):
        refuse("training mode before opset 14")
    return op(n, "BatchNormalization", x, scale, b, mean, var, epsilon=eps)


def _batch_norm_training(n, x, scale, b, mean, var, eps):
    # ONNX's: the batch's mean and biased variance over every axis but 1;
    # running = input · momentum + batch · (1 − momentum).
    axes = [0] + list(range(2, x.ndim))
    per_channel = (x.shape[1],) + (1,) * (x.ndim - 2)
    batch_mean = op(n, "ReduceMean", x, axes=axes, keepdims=1)
    centred = op(n, "Sub", x, batch_mean)
    batch_var = op(n, "ReduceMean", op(n, "Mul", centred, centred), axes=axes, keepdims=1)
    std = op(n, "Sqrt", op(n, "Add", batch_var, scalar(n, eps, x)))
    y = op(n, "Add", op(n, "Mul", op(n, "Div", centred, std), n.g.reshape(scale, per_channel)),
           n.g.reshape(b, per_channel))
    momentum = n.attr("momentum")

    def running(old, batch):
        batch = n.g.reshape(batch, old.shape)
        return op(n, "Add", op(n, "Mul", old, scalar(n, momentum, old)),
                  op(n, "Mul", batch, scalar(n, 1 - momentum, old)))
    return [y, running(mean, batch_mean), running(var, batch_var)]


@lowering("InstanceNormalization", since=6)
def _instance_norm(n):
    """InstanceNormalization."""
    x, scale, b = floats(n, 0, 1, 2)
    return op(n, "InstanceNormalization", x, scale, b, epsilon=n.attr("epsilon"))


@lowering("LayerNormalization", since=17)
def _layer_norm(n):
    """LayerNormalization (with Mean and InvStdDev)."""
    x, scale = floats(n, 0, 1)
    inputs = [x, scale] + ([n.t(2, floats=True)] if n.has(2) else [])
    if n.attr("stash_type") != 1:
        refuse("stash_type other than 1 (float32)")
    count = max(i + 1 for i, name in enumerate(n.proto.output) if name)
    outs = op(n, "LayerNormalization", *inputs, num_outputs=count, axis=n.attr("axis"),
              epsilon=n.attr("epsilon"))
    return outs if count > 1 else [outs]


@lowering("MeanVarianceNormalization", since=9)
def _mvn(n):
    """(x − mean) / (√var + 1e-9) from ReduceMean."""
    x, = floats(n, 0)
    axes = [norm_axis(a, x.ndim) for a in n.attr("axes")]
    centred = op(n, "Sub", x, op(n, "ReduceMean", x, axes=axes, keepdims=1))
    var = op(n, "ReduceMean", op(n, "Mul", centred, centred), axes=axes, keepdims=1)
    return op(n, "Div", centred, op(n, "Add", op(n, "Sqrt", var), scalar(n, 1e-9, x)))


@lowering("LpNormalization", since=1)
def _lp_norm(n):
    """x / ReduceSum of Abs (p 1) or Sqrt of ReduceSum of squares (p 2)."""
    x, = floats(n, 0)
    axis, p = norm_axis(n.attr("axis"), x.ndim), n.attr("p")
    if p not in (1, 2):
        refuse(f"p = {p}: Salus normalizes with p 1 or 2")
    if p == 1:
        norm = op(n, "ReduceSum", op(n, "Abs", x), axes=[axis], keepdims=1)
    else:
        norm = op(n, "Sqrt", op(n, "ReduceSum", op(n, "Mul", x, x), axes=[axis], keepdims=1))
    return op(n, "Div", x, norm)


@lowering("LRN", since=1)
def _lrn(n):
    """x / (bias + alpha · window sums)^beta, the sums an AveragePool over channels."""
    # The sum of squares over each channel window is a 2-D average pool
    # (times its size) of the squares laid out as [N, 1, C, rest].
    x, = floats(n, 0)
    size = n.attr("size")
    batch, channels = x.shape[0], x.shape[1]
    rest = int(np.prod(x.shape[2:], dtype=np.int64))
    sq = n.g.reshape(op(n, "Mul", x, x), (batch, 1, channels, rest))
    before, after = (size - 1) // 2, size - 1 - (size - 1) // 2
    sq = op(n, "Pad", sq, pads=[0, 0, before, 0, 0, 0, after, 0])
    window = op(n, "AveragePool", sq, kernel_shape=[size, 1])
    window = n.g.reshape(window, x.shape)
    alpha, beta, bias = n.attr("alpha"), n.attr("beta"), n.attr("bias")
    base = op(n, "Add", op(n, "Mul", window, scalar(n, alpha, x)), scalar(n, bias, x))
    return op(n, "Div", x, op(n, "Pow", base, scalar(n, beta, x)))


# ---- losses ------------------------------------------------------------------------

def _loss_attrs(n):
    attrs = {"reduction": n.attr("reduction")}
    if n.has_attr("ignore_index"):
        attrs["ignore_index"] = n.attr("ignore_index")
    return attrs


def _labels(n, i):
    t = n.t(i)
    if t.dtype not in (I32, I64):
        refuse(f"labels of {t.dtype.name}: Salus takes int32 or int64")
    return t


@lowering("NegativeLogLikelihoodLoss", since=12)
def _nll(n):
    """NegativeLogLikelihoodLoss."""
    inputs = [n.t(0, floats=True), _labels(n, 1)] + ([n.t(2, floats=True)] if n.has(2) else [])
    return op(n, "NegativeLogLikelihoodLoss", *inputs, **_loss_attrs(n))


@lowering("SoftmaxCrossEntropyLoss", since=12)
def _sce(n):
    """SoftmaxCrossEntropyLoss (with log_prob)."""
    inputs = [n.t(0, floats=True), _labels(n, 1)] + ([n.t(2, floats=True)] if n.has(2) else [])
    count = 2 if n.n_out > 1 and n.proto.output[1] else 1
    outs = op(n, "SoftmaxCrossEntropyLoss", *inputs, num_outputs=count, **_loss_attrs(n))
    return outs if count > 1 else [outs]


# ---- padding ---------------------------------------------------------------------------

@lowering("Pad", since=2)
def _pad(n):
    """Pad: constant, reflect, edge (pads folded)."""
    x, = floats(n, 0)
    if n.ver < 11:
        pads, value = n.attr("pads"), n.attr("value")
    else:
        pads = n.ints(1, "pads")
        value = float(np.asarray(n.const(2, "constant_value")).reshape(-1)[0]) \
            if n.has(2) else 0.0
    if any(p < 0 for p in pads):
        refuse("negative pads (cropping)")
    mode = n.attr("mode")
    if mode not in ("constant", "reflect", "edge"):
        refuse(f"mode {mode!r}: Salus pads constant, reflect and edge")
    if mode == "reflect" and any(p >= d for p, d in zip(pads, x.shape * 2)):
        refuse("reflect pads as long as the axis: the mirror would repeat its edge")
    if not any(pads):
        return op(n, "Identity", x)
    return op(n, "Pad", x, pads=list(pads), mode=mode, value=value)


@lowering("DepthToSpace", "SpaceToDepth", since=1)
def _depth_space(n):
    """The daemon's op of that name."""
    x, = floats(n, 0)
    attrs = {"blocksize": n.attr("blocksize")}
    if n.proto.op_type == "DepthToSpace":
        attrs["mode"] = n.attr("mode", "DCR")
    return op(n, n.proto.op_type, x, **attrs)


from . import _resize, _rnn  # noqa: E402,F401 (register Resize, LSTM, GRU and RNN)
