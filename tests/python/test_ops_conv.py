"""The conv family against PyTorch through a real salusd: each builder method
(forward) and its gradient rule (backward ops) against torch autograd on
random inputs across the attribute space, raw ops through Graph.op, finite
differences for a subset, and misuse refused naming the node.

Tolerances (|salus - torch| <= atol + rtol·|torch|): convolutions sum up to
a few dozen products of N(0, 1) values in float32 with another summation
order than torch: rtol 1e-4, atol 1e-4. Pooling, padding and resampling
only move, compare or average values: rtol 1e-5, atol 1e-6 (exact for
moves). Gradients that sum over N and positions: rtol 1e-4, atol 2e-4."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import salus
from op_harness import check_op, grad_check

RNG = np.random.default_rng(11)
CONV_TOL = dict(rtol=1e-4, atol=2e-4)
MOVE_TOL = dict(rtol=1e-5, atol=1e-6)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def close(got, want, what, rtol, atol):
    want = want.detach().numpy() if isinstance(want, torch.Tensor) else want
    assert got.shape == want.shape, f"{what}: shape {got.shape}, torch {want.shape}"
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=what)


def against_torch(client, build, torch_fn, values, tol, wrt=None):
    """y = build(g, inputs) and d(sum(y·r))/d(inputs) in salusd against
    torch_fn and torch autograd on the same values (a dict name -> array)."""
    wrt = list(values) if wrt is None else wrt
    g = salus.Graph()
    inputs = {n: g.input(n, v.shape) for n, v in values.items()}
    y = build(g, inputs)
    r = rand(*y.shape)
    g.output(y, name="y")
    loss = g.reduce_sum(g.mul(y, g.constant("r", r)))
    for n, d in zip(wrt, g.gradients(loss, [inputs[n] for n in wrt])):
        g.output(d, name="d_" + n)
    with client.session(g, name="conv-vs-torch") as s:
        got = s.run(values)
    tv = {n: torch.from_numpy(v).requires_grad_(n in wrt) for n, v in values.items()}
    ty = torch_fn(tv)
    close(got["y"], ty, "forward", **tol)
    (ty * torch.from_numpy(r)).sum().backward()
    for n in wrt:
        close(got["d_" + n], tv[n].grad, f"gradient of {n}", **tol)


# ---- convolution -------------------------------------------------------------

CONV2D = [  # stride, padding, dilation, groups, bias, x shape, weight shape
    (1, 0, 1, 1, True, (2, 3, 6, 5), (4, 3, 3, 3)),
    (2, 1, 1, 1, False, (2, 3, 7, 7), (5, 3, 3, 3)),
    ((2, 1), (1, 0), (1, 2), 1, True, (1, 2, 8, 9), (3, 2, 3, 2)),
    (1, 1, 1, 2, True, (2, 4, 5, 5), (6, 2, 3, 3)),
    (1, 1, 1, 4, True, (1, 4, 6, 6), (4, 1, 3, 3)),  # depthwise
    (3, 2, 2, 1, True, (2, 2, 9, 8), (2, 2, 2, 3)),  # rounding: output_padding in dx
    (1, 0, 1, 1, True, (1, 1, 1, 1), (1, 1, 1, 1)),  # size-1 everything
]


@pytest.mark.parametrize("stride,padding,dilation,groups,bias,xs,ws", CONV2D)
def test_conv2d(client, stride, padding, dilation, groups, bias, xs, ws):
    values = {"x": rand(*xs), "w": rand(*ws)}
    if bias:
        values["b"] = rand(ws[0])

    def build(g, t):
        return g.conv2d(t["x"], t["w"], t.get("b"), stride=stride, padding=padding,
                        dilation=dilation, groups=groups)

    def ref(t):
        return F.conv2d(t["x"], t["w"], t.get("b"), stride=stride, padding=padding,
                        dilation=dilation, groups=groups)

    against_torch(client, build, ref, values, CONV_TOL)


@pytest.mark.parametrize("pads", [(0, 1, 2, 0), (2, 0, 0, 1)])
def test_conv2d_asymmetric_pads(client, pads):
    values = {"x": rand(2, 3, 6, 7), "w": rand(4, 3, 3, 2), "b": rand(4)}
    top, left, bottom, right = pads

    def build(g, t):
        return g.conv2d(t["x"], t["w"], t["b"], stride=2, pads=pads)

    def ref(t):
        return F.conv2d(F.pad(t["x"], (left, right, top, bottom)), t["w"], t["b"], stride=2)

    if client.status().device.startswith("cuda"):
        # cuDNN pads both ends of an axis alike: refused when the session is
        # created, naming the node (doc/ops.md, CUDA kernels).
        with pytest.raises(salus.NotSupportedError, match=r'"conv2d_0" \(Conv\).*asymmetric'):
            against_torch(client, build, ref, values, CONV_TOL)
        return
    against_torch(client, build, ref, values, CONV_TOL)


@pytest.mark.parametrize("stride,padding,dilation,groups", [(1, 0, 1, 1), (2, 1, 2, 3),
                                                            (3, 2, 1, 1)])
def test_conv1d(client, stride, padding, dilation, groups):
    values = {"x": rand(2, 3, 11), "w": rand(6, 3 // groups, 3), "b": rand(6)}

    def build(g, t):
        return g.conv1d(t["x"], t["w"], t["b"], stride=stride, padding=padding,
                        dilation=dilation, groups=groups)

    def ref(t):
        return F.conv1d(t["x"], t["w"], t["b"], stride=stride, padding=padding,
                        dilation=dilation, groups=groups)

    against_torch(client, build, ref, values, CONV_TOL)


def test_gradients_of_ops_built_with_schema_defaults(client):
    # g.op leaves every default to the daemon; the rules pass the node's own
    # attributes on, so they need none of them.
    values = {"x": rand(2, 3, 7, 6), "w": rand(4, 3, 3, 3)}

    def build(g, t):
        y = g.op("Conv", t["x"], t["w"], strides=[2, 2])
        return g.op("MaxPool", y, kernel_shape=[2, 2])

    def ref(t):
        return F.max_pool2d(F.conv2d(t["x"], t["w"], stride=2), 2, stride=1)

    against_torch(client, build, ref, values, CONV_TOL)


def test_conv_gradient_of_weights_only(client):
    # x is not differentiated: no ConvTranspose is built for it.
    values = {"x": rand(2, 3, 5, 5), "w": rand(2, 3, 3, 3)}
    against_torch(client, lambda g, t: g.conv2d(t["x"], t["w"], padding=1),
                  lambda t: F.conv2d(t["x"], t["w"], padding=1), values, CONV_TOL, wrt=["w"])


CONVT = [  # stride, padding, output_padding, groups, dilation, bias, x shape, weight shape
    (1, 0, 0, 1, 1, True, (2, 3, 4, 5), (3, 2, 3, 3)),
    (2, 1, 1, 1, 1, False, (1, 2, 4, 4), (2, 3, 3, 3)),
    ((2, 3), (0, 1), (1, 2), 1, (1, 2), True, (2, 2, 3, 4), (2, 2, 2, 3)),
    (2, 1, 0, 2, 1, True, (1, 4, 3, 3), (4, 3, 4, 4)),
]


@pytest.mark.parametrize("stride,padding,output_padding,groups,dilation,bias,xs,ws", CONVT)
def test_conv_transpose2d(client, stride, padding, output_padding, groups, dilation, bias, xs,
                          ws):
    values = {"x": rand(*xs), "w": rand(*ws)}
    if bias:
        values["b"] = rand(ws[1] * groups)
    kw = dict(stride=stride, padding=padding, output_padding=output_padding, groups=groups,
              dilation=dilation)
    against_torch(client, lambda g, t: g.conv_transpose2d(t["x"], t["w"], t.get("b"), **kw),
                  lambda t: F.conv_transpose2d(t["x"], t["w"], t.get("b"), **kw), values,
                  CONV_TOL)


def test_conv_grad_weight_by_finite_differences(client):
    x, w, dy = rand(1, 2, 4, 4), rand(2, 2, 2, 2), rand(1, 2, 2, 2)
    attrs = dict(strides=[2, 1], pads=[0, 0, 0, 0], dilations=[1, 2])
    # ConvGradWeight takes kernel_shape, Conv checks it: one attribute set serves both.
    grad_check(client, "Conv", "ConvGradWeight", [x, w], wrt=1, dy=dy,
               backward_inputs=lambda dy, ins, outs: [dy, ins[0]], kernel_shape=[2, 2],
               **attrs)


# ---- pooling -----------------------------------------------------------------

MAXPOOL = [  # kernel, stride, padding, dilation, ceil_mode, shape
    (2, None, 0, 1, False, (2, 3, 6, 6)),
    (3, 2, 1, 1, False, (1, 2, 7, 6)),
    (3, 2, 1, 1, True, (1, 2, 8, 8)),
    ((2, 3), (1, 2), (1, 0), (2, 1), True, (2, 1, 7, 9)),
    (1, 1, 0, 1, False, (1, 1, 1, 1)),
]


@pytest.mark.parametrize("kernel,stride,padding,dilation,ceil_mode,shape", MAXPOOL)
def test_max_pool2d(client, kernel, stride, padding, dilation, ceil_mode, shape):
    kw = dict(stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode)
    against_torch(client, lambda g, t: g.max_pool2d(t["x"], kernel, **kw),
                  lambda t: F.max_pool2d(t["x"], kernel, **kw), {"x": rand(*shape)}, MOVE_TOL)


@pytest.mark.parametrize("kernel,stride,padding,ceil_mode", [(2, None, 0, False), (3, 2, 1, True),
                                                             (4, 3, 2, True)])
def test_max_pool1d_and_indices(client, kernel, stride, padding, ceil_mode):
    x = rand(2, 3, 10)
    kw = dict(stride=stride, padding=padding, ceil_mode=ceil_mode)
    against_torch(client, lambda g, t: g.max_pool1d(t["x"], kernel, **kw),
                  lambda t: F.max_pool1d(t["x"], kernel, **kw), {"x": x}, MOVE_TOL)
    want, idx = F.max_pool1d(torch.from_numpy(x), kernel, return_indices=True, **kw)
    flat = idx + torch.arange(6).reshape(2, 3, 1) * x.shape[-1]  # ONNX: flat over all of X
    check_op(client, "MaxPool", [x], [want, flat], kernel_shape=[kernel],
             strides=[stride or kernel], pads=[padding, padding], ceil_mode=int(ceil_mode))


AVGPOOL = [  # kernel, stride, padding, ceil_mode, count_include_pad, shape
    (2, None, 0, False, True, (2, 3, 6, 6)),
    (3, 2, 1, False, True, (1, 2, 7, 6)),
    (3, 2, 1, False, False, (1, 2, 7, 6)),
    (3, 2, 1, True, True, (1, 2, 8, 8)),
    (3, 2, 1, True, False, (1, 2, 8, 8)),
    ((2, 3), (1, 2), (1, 1), True, True, (2, 1, 5, 6)),
]


@pytest.mark.parametrize("kernel,stride,padding,ceil_mode,include,shape", AVGPOOL)
def test_avg_pool2d(client, kernel, stride, padding, ceil_mode, include, shape):
    kw = dict(stride=stride, padding=padding, ceil_mode=ceil_mode, count_include_pad=include)
    against_torch(client, lambda g, t: g.avg_pool2d(t["x"], kernel, **kw),
                  lambda t: F.avg_pool2d(t["x"], kernel, **kw), {"x": rand(*shape)}, MOVE_TOL)


@pytest.mark.parametrize("include", [True, False])
def test_avg_pool1d(client, include):
    kw = dict(stride=2, padding=1, ceil_mode=True, count_include_pad=include)
    against_torch(client, lambda g, t: g.avg_pool1d(t["x"], 3, **kw),
                  lambda t: F.avg_pool1d(t["x"], 3, **kw), {"x": rand(2, 2, 9)}, MOVE_TOL)


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (1, 1, 1, 1), (2, 3, 7)])
def test_global_avg_pool(client, shape):
    against_torch(client, lambda g, t: g.global_avg_pool(t["x"]),
                  lambda t: t["x"].mean(dim=tuple(range(2, len(shape))), keepdim=True),
                  {"x": rand(*shape)}, MOVE_TOL)
    against_torch(client, lambda g, t: g.adaptive_avg_pool2d(t["x"], 1),
                  lambda t: F.adaptive_avg_pool2d(t["x"], 1), {"x": rand(2, 3, 4, 5)}, MOVE_TOL)


def test_pool_grads_by_finite_differences(client):
    x, dy = rand(1, 1, 4, 5), rand(1, 1, 2, 2)
    attrs = dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 0, 0])
    grad_check(client, "AveragePool", "AveragePoolGrad", [x], wrt=0, dy=dy,
               backward_inputs=lambda dy, ins, outs: [dy, ins[0]], count_include_pad=0,
               **attrs)
    grad_check(client, "MaxPool", "MaxPoolGrad", [x], wrt=0, dy=dy,
               backward_inputs=lambda dy, ins, outs: [dy, ins[0]], **attrs)


# ---- padding and resampling ------------------------------------------------------

@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate"])
@pytest.mark.parametrize("pad,shape", [((1, 2), (2, 3, 5)), ((2, 0, 1, 3), (1, 2, 4, 5)),
                                       ((0, 1, 1, 0), (1, 1, 2, 2))])
def test_pad(client, mode, pad, shape):
    value = 0.5 if mode == "constant" else 0.0
    kw = dict(value=value) if mode == "constant" else {}
    against_torch(client, lambda g, t: g.pad(t["x"], pad, mode=mode, value=value),
                  lambda t: F.pad(t["x"], pad, mode=mode, **kw), {"x": rand(*shape)}, MOVE_TOL)


def test_pad_every_axis_and_grad_by_finite_differences(client):
    x = rand(2, 3)
    want = np.pad(x, ((1, 0), (2, 1)), mode="reflect")
    check_op(client, "Pad", [x], want, rtol=0, atol=0, pads=[1, 2, 0, 1], mode="reflect")
    grad_check(client, "Pad", "PadGrad", [x], wrt=0, dy=rand(3, 6),
               backward_inputs=lambda dy, ins, outs: [dy], pads=[1, 2, 0, 1], mode="edge")


@pytest.mark.parametrize("factor,shape", [(2, (2, 8, 3, 2)), (3, (1, 9, 1, 1)), (1, (1, 2, 2, 3))])
def test_pixel_shuffle(client, factor, shape):
    against_torch(client, lambda g, t: g.pixel_shuffle(t["x"], factor),
                  lambda t: F.pixel_shuffle(t["x"], factor), {"x": rand(*shape)}, MOVE_TOL)


@pytest.mark.parametrize("mode", ["DCR", "CRD"])
def test_depth_to_space_modes(client, mode):
    x = rand(2, 8, 3, 2)
    b = 2
    n, c, h, w = x.shape
    if mode == "DCR":  # the ONNX definition
        want = x.reshape(n, b, b, c // 4, h, w).transpose(0, 3, 4, 1, 5, 2)
    else:
        want = x.reshape(n, c // 4, b, b, h, w).transpose(0, 1, 4, 2, 5, 3)
    want = want.reshape(n, c // 4, h * b, w * b)
    check_op(client, "DepthToSpace", [x], want, rtol=0, atol=0, blocksize=b, mode=mode)
    check_op(client, "SpaceToDepth", [want], x, rtol=0, atol=0, blocksize=b, mode=mode)
    against_torch(client, lambda g, t: g.space_to_depth(g.depth_to_space(t["x"], b, mode), b,
                                                        mode),
                  lambda t: t["x"] * 1, {"x": x}, MOVE_TOL)


@pytest.mark.parametrize("scale,shape", [(2, (2, 3, 4, 5)), ((3, 1), (1, 2, 2, 3)),
                                         (2, (2, 3, 5)), (1, (1, 1, 1, 1))])
def test_upsample_nearest(client, scale, shape):
    against_torch(client, lambda g, t: g.upsample_nearest(t["x"], scale),
                  lambda t: F.interpolate(t["x"], scale_factor=scale, mode="nearest"),
                  {"x": rand(*shape)}, MOVE_TOL)


def test_small_cnn_trains_like_torch(client):
    # conv -> relu -> max pool -> conv (stride 2) -> global pool: every rule in one graph.
    values = {"x": rand(2, 3, 8, 8), "w1": rand(4, 3, 3, 3), "b1": rand(4),
              "w2": rand(6, 4, 3, 3)}

    def build(g, t):
        h = g.max_pool2d(g.relu(g.conv2d(t["x"], t["w1"], t["b1"], padding=1)), 2)
        h = g.conv2d(g.pad(h, (1, 0, 0, 1), mode="reflect"), t["w2"], stride=2)
        return g.global_avg_pool(h)

    def ref(t):
        h = F.max_pool2d(torch.relu(F.conv2d(t["x"], t["w1"], t["b1"], padding=1)), 2)
        h = F.conv2d(F.pad(h, (1, 0, 0, 1), mode="reflect"), t["w2"], stride=2)
        return F.adaptive_avg_pool2d(h, 1)

    against_torch(client, build, ref, values, CONV_TOL)


# ---- misuse ------------------------------------------------------------------------

@pytest.mark.parametrize("op,shapes,attrs,message", [
    ("Conv", [(1, 4, 5, 5), (2, 3, 3, 3)], {}, r"C/group = 4"),
    ("Conv", [(1, 4, 5, 5), (2, 4, 3, 3)], {"group": 3}, r"group 3 must divide"),
    ("Conv", [(1, 4, 5), (2, 4, 3, 3)], {}, r"W of X's rank"),
    ("Conv", [(1, 4, 5, 5), (2, 4, 3, 3)], {"pads": [1, 1]}, r"pads \[1, 1\] needs 4"),
    ("Conv", [(1, 4, 5, 5), (2, 4, 3, 3)], {"strides": [0, 1]}, r"strides .* >= 1"),
    ("Conv", [(1, 4, 5, 5), (2, 4, 3, 3)], {"auto_pad": "SAME_UPPER"}, r"auto_pad"),
    ("Conv", [(1, 4, 5, 5), (2, 4, 3, 3)], {"kernel_shape": [2, 2]}, r"kernel_shape"),
    ("Conv", [(1, 4, 2, 2), (2, 4, 3, 3)], {}, r"does not fit"),
    ("MaxPool", [(1, 4, 5, 5)], {"kernel_shape": [2, 2], "pads": [2, 2, 2, 2]},
     r"smaller than the window"),
    ("MaxPool", [(4, 5)], {"kernel_shape": [2]}, r"rank 3"),
    ("Pad", [(2, 3)], {"pads": [1, 1, 3, 1], "mode": "reflect"}, r"reflect"),
    ("Pad", [(2, 3)], {"pads": [1, -1, 0, 0]}, r">= 0"),
    ("DepthToSpace", [(1, 6, 2, 2)], {"blocksize": 2}, r"divisible"),
    ("Upsample", [(1, 2, 3, 3)], {"scales": [1, 1, 2]}, r"one value per axis"),
])
def test_misuse_is_refused_naming_the_node(client, op, shapes, attrs, message):
    g = salus.Graph()
    ins = [g.input(f"in{i}", s) for i, s in enumerate(shapes)]
    with pytest.raises(salus.GraphError, match=rf'"bad" \({op}\): .*{message}'):
        g.op(op, *ins, name="bad", **attrs)
