"""The loss family (salusd/ops/loss.cpp) against PyTorch through a real
salusd: reductions by comparison, arg-reductions, log-softmax, the losses
with class indices (weights, ignore_index, reductions, [N, C, d] shapes) and
their gradients, the optimizers over several steps against torch.optim, and
an out-of-range label failing its iteration while the session keeps
serving. Tolerances: float32 results of float64-summed kernels, a few ulp
(1e-5 relative, 1e-6 absolute) unless stated."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import salus
from op_harness import check_op, grad_check, run_op

RNG = np.random.default_rng(17)


def rand(*shape, scale=1.0):
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


def labels(shape, classes, dtype=np.int64, ignore=None):
    t = RNG.integers(0, classes, size=shape).astype(dtype)
    if ignore is not None and t.size:
        t.reshape(-1)[:: 3] = ignore
    return t


def T(a):
    return torch.from_numpy(np.asarray(a))


# ---- reductions by comparison ---------------------------------------------------


@pytest.mark.parametrize("op,fn", [("ReduceMax", torch.amax), ("ReduceMin", torch.amin)])
@pytest.mark.parametrize("shape,axes,keepdims", [((2, 3, 4), None, 1), ((2, 3, 4), [0], 0),
                                                 ((2, 3, 4), [-1, 1], 1), ((5, 1), [1], 0),
                                                 ((1,), [0], 0)])
def test_reduce_extremum(client, op, fn, shape, axes, keepdims):
    x = rand(*shape)
    dims = list(range(len(shape))) if axes is None else axes
    attrs = {"keepdims": keepdims, **({} if axes is None else {"axes": axes})}
    want = fn(T(x), dim=dims, keepdim=bool(keepdims))
    check_op(client, op, [x], want, rtol=0, atol=0, **attrs)


@pytest.mark.parametrize("op,fn", [("ReduceMax", torch.amax), ("ReduceMin", torch.amin)])
@pytest.mark.parametrize("axes,keepdims", [(None, 0), ([1], 1), ([0, 2], 0)])
def test_reduce_extremum_grad_splits_ties_as_torch(client, op, fn, axes, keepdims):
    # Small integers: many ties in every group.
    x = RNG.integers(-2, 3, size=(3, 4, 2)).astype(np.float32)
    dims = list(range(3)) if axes is None else axes
    tx = T(x).requires_grad_()
    y = fn(tx, dim=dims, keepdim=bool(keepdims))
    dy = rand(*y.shape)
    y.backward(T(dy))
    attrs = {"keepdims": keepdims, **({} if axes is None else {"axes": axes})}
    check_op(client, op + "Grad", [dy, x, y.detach().numpy()], tx.grad, rtol=1e-6, atol=1e-7,
             **attrs)


@pytest.mark.parametrize("op,fn", [("ArgMax", torch.argmax), ("ArgMin", torch.argmin)])
@pytest.mark.parametrize("shape,axis,keepdims", [((3, 4, 5), 0, 1), ((3, 4, 5), -1, 0),
                                                 ((6,), 0, 0), ((2, 1, 3), 1, 1)])
def test_arg_extremum(client, op, fn, shape, axis, keepdims):
    x = rand(*shape)
    check_op(client, op, [x], fn(T(x), dim=axis, keepdim=bool(keepdims)), axis=axis,
             keepdims=keepdims)


@pytest.mark.parametrize("op,sign", [("ArgMax", 1), ("ArgMin", -1)])
def test_arg_extremum_ties_first_or_last(client, op, sign):
    x = np.array([[1, 3, 3, 0], [2, 2, 2, 2]], np.float32) * sign
    first = run_op(client, op, [x], axis=1, keepdims=0)[0]
    last = run_op(client, op, [x], axis=1, keepdims=0, select_last_index=1)[0]
    assert first.dtype == np.int64 and first.tolist() == [1, 0]
    assert last.tolist() == [2, 3]
    # torch documents the first index among ties.
    fn = torch.argmax if sign > 0 else torch.argmin
    assert fn(T(x), dim=1).tolist() == first.tolist()


# ---- log-softmax -------------------------------------------------------------------


@pytest.mark.parametrize("shape,axis", [((3, 4, 5), 0), ((3, 4, 5), 1), ((3, 4, 5), -1),
                                        ((7,), 0), ((4, 1), 1)])
def test_log_softmax(client, shape, axis):
    x = rand(*shape, scale=5.0)
    check_op(client, "LogSoftmax", [x], torch.log_softmax(T(x), axis), rtol=1e-5, atol=1e-6,
             axis=axis)


@pytest.mark.parametrize("shape,axis", [((3, 4, 5), 1), ((2, 6), -1), ((4, 1), 1)])
def test_log_softmax_grad(client, shape, axis):
    x = rand(*shape, scale=3.0)
    tx = T(x).requires_grad_()
    y = torch.log_softmax(tx, axis)
    dy = rand(*shape)
    y.backward(T(dy))
    check_op(client, "LogSoftmaxGrad", [dy, y.detach().numpy()], tx.grad, rtol=1e-5, atol=1e-6,
             axis=axis)


def test_log_softmax_grad_finite_differences(client):
    x, dy = rand(2, 3), rand(2, 3)
    grad_check(client, "LogSoftmax", "LogSoftmaxGrad", [x], 0, dy,
               lambda dy, ins, outs: [dy, outs[0]], axis=1)


# ---- losses with class indices ----------------------------------------------------

LOSS_CASES = [((6, 5), (6,)), ((2, 4, 3), (2, 3)), ((2, 3, 2, 2), (2, 2, 2)), ((1, 1), (1,))]


def loss_inputs(xshape, tshape, weighted, ignore, dtype):
    x = rand(*xshape, scale=2.0)
    t = labels(tshape, xshape[1], dtype, ignore)
    w = (RNG.random(xshape[1]) + 0.5).astype(np.float32) if weighted else None
    return x, t, w


def torch_loss(fn, x, t, w, ignore, reduction, requires_grad=False):
    tx = T(x).requires_grad_(requires_grad)
    out = fn(tx, T(t).long(), weight=None if w is None else T(w),
             ignore_index=-100 if ignore is None else ignore, reduction=reduction)
    return tx, out


@pytest.mark.parametrize("op,fn", [("NegativeLogLikelihoodLoss", F.nll_loss),
                                   ("SoftmaxCrossEntropyLoss", F.cross_entropy)])
@pytest.mark.parametrize("shapes", LOSS_CASES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted,ignore", [(False, None), (True, None), (True, 1),
                                             (False, 0)])
def test_label_loss_and_grad(client, op, fn, shapes, reduction, weighted, ignore):
    if shapes[0][1] == 1 and ignore == 1:
        pytest.skip("a single class: label 1 is out of range")
    dtype = np.int32 if weighted else np.int64
    x, t, w = loss_inputs(*shapes, weighted, ignore, dtype)
    if op == "NegativeLogLikelihoodLoss":
        x = torch.log_softmax(T(x), 1).numpy()
    tx, want = torch_loss(fn, x, t, w, ignore, reduction, requires_grad=True)
    inputs = [x, t] + ([w] if w is not None else [])
    attrs = {"reduction": reduction, **({} if ignore is None else {"ignore_index": ignore})}
    # A mean over no counted target is 0/0 in both.
    if reduction == "mean" and not np.isfinite(want.item()):
        pytest.skip("every target ignored")
    check_op(client, op, inputs, want, rtol=1e-5, atol=1e-6, num_outputs=1, **attrs)
    dloss = rand(*want.shape)
    want.backward(T(dloss))
    check_op(client, op + "Grad", [dloss] + inputs, tx.grad, rtol=1e-5, atol=1e-6, **attrs)


def test_cross_entropy_log_prob_output(client):
    x, t = rand(4, 3, 2), labels((4, 2), 3)
    check_op(client, "SoftmaxCrossEntropyLoss", [x, t],
             [F.cross_entropy(T(x), T(t)), torch.log_softmax(T(x), 1)], rtol=1e-5, atol=1e-6)


def test_label_loss_grads_finite_differences(client):
    x, t, w = rand(3, 4), labels((3,), 4, np.int32), (RNG.random(4) + 0.5).astype(np.float32)
    dy = np.float32(0.7)
    for op in ("SoftmaxCrossEntropyLoss", "NegativeLogLikelihoodLoss"):
        grad_check(client, op, op + "Grad", [x, t, w], 0, dy,
                   lambda dy, ins, outs: [np.float32(dy)] + list(ins), reduction="mean",
                   ignore_index=2)


@pytest.mark.parametrize("op", ["SoftmaxCrossEntropyLoss", "NegativeLogLikelihoodLoss",
                                "SoftmaxCrossEntropyLossGrad"])
@pytest.mark.parametrize("bad", [10, -1, 12345678901])
def test_out_of_range_label_fails_the_iteration(client, op, bad):
    x, t = rand(4, 10), labels((4,), 10)
    t[2] = bad
    g = salus.Graph()
    xi, ti = g.input("x", x.shape), g.input("t", t.shape, dtype="int64")
    ins = [xi, ti] if not op.endswith("Grad") else [g.input("d", ()), xi, ti]
    g.output(g.op(op, *ins, name="the_loss", ignore_index=-100), "out")
    feeds = {"x": x, "t": t, "d": np.float32(1)}
    feeds = {k: v for k, v in feeds.items() if k in ("x", "t") or op.endswith("Grad")}
    with client.session(g) as s:
        with pytest.raises(salus.ExecutionError) as err:
            s.run(feeds)
        message = str(err.value)
        assert "the_loss" in message and f"label {bad}" in message and "10 classes" in message
        # The session keeps serving: a valid batch runs next.
        t[2] = 3
        out = s.run(dict(feeds, t=t))["out"]
        assert np.all(np.isfinite(out))


def test_softmax_cross_entropy_integer_labels_fail_out_of_range(client):
    # Label 10 of 10 classes gave a loss of 0.0 through OneHot; now an error.
    g = salus.Graph()
    x, y = g.input("x", (2, 10)), g.input("y", (2,), dtype="int32")
    g.output(g.softmax_cross_entropy(x, y, name="loss"))
    with client.session(g) as s:
        with pytest.raises(salus.ExecutionError, match="label 10"):
            s.run({"x": rand(2, 10), "y": np.array([1, 10], np.int32)})
        lx, ly = rand(2, 10), np.array([1, 9], np.int32)
        got = s.run({"x": lx, "y": ly})["loss"]
        np.testing.assert_allclose(got, F.cross_entropy(T(lx), T(ly).long()).item(), rtol=1e-5)


# ---- builder methods and gradient rules ---------------------------------------------


def test_builder_losses_and_gradients_match_torch_autograd(client):
    x0, w0 = rand(6, 5), rand(5, 4) * 0.5
    t0 = labels((6,), 4, np.int64, ignore=-100)
    cw = (RNG.random(4) + 0.5).astype(np.float32)
    g = salus.Graph()
    x, t = g.input("x", x0.shape), g.input("t", t0.shape, dtype="int64")
    w = g.variable("w", w0)
    logits = x @ w
    ce = g.cross_entropy(logits, t, weight=cw)
    nll = g.nll_loss(g.log_softmax(logits, dim=1), t, reduction="sum")
    peak = g.reduce_sum(g.amax(logits, dim=1)) + g.reduce_sum(g.amin(logits, dim=(0, 1)))
    total = ce + nll * 0.5 + peak * 0.1
    (dw,) = g.gradients(total, [w])
    g.output(total, "total")
    g.output(dw, "dw")
    g.output(g.argmax(logits, dim=1), "am")
    g.output(g.argmin(logits), "amin_flat")

    tw = T(w0).requires_grad_()
    tl = T(x0) @ tw
    tt = T(t0)
    want = (F.cross_entropy(tl, tt, weight=T(cw))
            + F.nll_loss(torch.log_softmax(tl, 1), tt, reduction="sum") * 0.5
            + (torch.amax(tl, 1).sum() + torch.amin(tl, (0, 1)).sum()) * 0.1)
    want.backward()
    with client.session(g) as s:
        got = s.run({"x": x0, "t": t0})
    np.testing.assert_allclose(got["total"], want.item(), rtol=1e-5)
    np.testing.assert_allclose(got["dw"], tw.grad.numpy(), rtol=1e-4, atol=1e-5)
    assert got["am"].tolist() == torch.argmax(tl, 1).tolist()
    assert got["amin_flat"].tolist() == torch.argmin(tl).item()


def test_cross_entropy_log_prob_gradient_adds_up(client):
    x0 = rand(3, 4)
    t0 = labels((3,), 4)
    g = salus.Graph()
    x = g.variable("x", x0)
    t = g.input("t", (3,), dtype="int64")
    loss, log_prob = g.cross_entropy(x, t, log_prob=True)
    total = loss + g.reduce_sum(log_prob * g.constant("k", np.arange(12, dtype=np.float32)
                                                      .reshape(3, 4) / 10))
    (dx,) = g.gradients(total, [x])
    g.output(dx, "dx")
    tx = T(x0).requires_grad_()
    (F.cross_entropy(tx, T(t0)) + (torch.log_softmax(tx, 1) * T(
        np.arange(12, dtype=np.float32).reshape(3, 4) / 10)).sum()).backward()
    with client.session(g) as s:
        np.testing.assert_allclose(s.run({"t": t0})["dx"], tx.grad.numpy(), rtol=1e-5,
                                   atol=1e-6)


# ---- optimizers: five steps against torch.optim ------------------------------------

OPTIMIZERS = [
    ("sgd", dict(lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    ("sgd", dict(lr=0.1, weight_decay=0.05), lambda p: torch.optim.SGD(p, lr=0.1,
                                                                       weight_decay=0.05)),
    ("sgd", dict(lr=0.05, momentum=0.9), lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
    ("sgd", dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.01),
     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.01)),
    ("sgd", dict(lr=0.05, momentum=0.9, nesterov=True),
     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True)),
    ("adam", dict(lr=0.02), lambda p: torch.optim.Adam(p, lr=0.02)),
    ("adam", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
     lambda p: torch.optim.Adam(p, lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("adamw", dict(lr=0.02), lambda p: torch.optim.AdamW(p, lr=0.02)),
    ("adamw", dict(lr=0.02, weight_decay=0.3, betas=(0.7, 0.9)),
     lambda p: torch.optim.AdamW(p, lr=0.02, weight_decay=0.3, betas=(0.7, 0.9))),
]


@pytest.mark.parametrize("method,kwargs,make", OPTIMIZERS)
@pytest.mark.parametrize("fed_lr", [False, True])
def test_optimizer_five_steps_match_torch(client, method, kwargs, make, fed_lr):
    x0, w0, b0 = rand(8, 5), rand(5, 3), rand(3)
    t0 = labels((8,), 3)
    lr = kwargs["lr"]
    g = salus.Graph()
    x, t = g.input("x", x0.shape), g.input("t", t0.shape, dtype="int64")
    w, b = g.variable("w", w0), g.variable("b", b0)
    loss = g.cross_entropy(x @ w + b, t, name="loss")
    opts = dict(kwargs)
    feeds = {"x": x0, "t": t0}
    if fed_lr:  # a schedule: the rate halves every step
        opts["lr"] = g.input("lr", ())
    getattr(g, method)(loss, [w, b], **opts)
    g.output(w, "w")
    g.output(b, "b")

    tw, tb = T(w0.copy()).requires_grad_(), T(b0.copy()).requires_grad_()
    opt = make([tw, tb])
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: 0.5 ** k) if fed_lr else None
    with client.session(g) as s:
        for step in range(5):
            if fed_lr:
                feeds["lr"] = np.float32(lr * 0.5 ** step)
            got = s.run(feeds)
            opt.zero_grad()
            want = F.cross_entropy(T(x0) @ tw + tb, T(t0))
            want.backward()
            opt.step()
            if sched:
                sched.step()
            np.testing.assert_allclose(got["loss"], want.item(), rtol=1e-5, atol=1e-6)
            np.testing.assert_allclose(got["w"], tw.detach().numpy(), rtol=1e-5, atol=1e-6,
                                       err_msg=f"step {step}")
            np.testing.assert_allclose(got["b"], tb.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("attrs,inputs,message", [
    ({}, 2, "either as attribute \"lr\" or as input 2 (lr), got neither"),
    ({"lr": 0.1}, 3, "got both"),
])
def test_lr_is_the_attribute_or_the_input(client, attrs, inputs, message):
    g = salus.Graph()
    w = g.variable("w", rand(3))
    ins = [w, g.input("g", (3,)), g.input("lr", ())][:inputs]
    with pytest.raises(salus.GraphError, match="sgd_node") as err:
        g.op("SGDUpdate", *ins, num_outputs=0, name="sgd_node", **attrs)
    assert message in str(err.value)


def test_nesterov_needs_momentum_without_dampening(client):
    g = salus.Graph()
    w = g.variable("w", rand(3))
    with pytest.raises(salus.GraphError, match="nesterov needs momentum > 0 and dampening 0"):
        g.sgd_momentum_update(w, g.input("g", (3,)), g.variable("b", rand(3)),
                              g.variable("s", np.float32(0)), 0.1, 0.9, dampening=0.1,
                              nesterov=True)


def test_builder_per_position_losses_with_grad_y(client):
    # [N, C, d] scores, reduction "none": gradients of sum(loss * grad_y).
    x0, t0 = rand(2, 4, 3), labels((2, 3), 4, np.int32, ignore=3)
    gy = rand(2, 3)
    g = salus.Graph()
    x = g.variable("x", x0)
    t = g.input("t", t0.shape, dtype="int32")
    loss = g.cross_entropy(x, t, ignore_index=3, reduction="none")
    nll = g.nll_loss(g.log_softmax(x, dim=1), t, ignore_index=3, reduction="none")
    (dx,) = g.gradients(loss + nll, [x], grad_y=g.constant("gy", gy))
    g.output(loss, "loss")
    g.output(dx, "dx")
    tx = T(x0).requires_grad_()
    tl = F.cross_entropy(tx, T(t0).long(), ignore_index=3, reduction="none")
    tn = F.nll_loss(torch.log_softmax(tx, 1), T(t0).long(), ignore_index=3, reduction="none")
    ((tl + tn) * T(gy)).sum().backward()
    with client.session(g) as s:
        got = s.run({"t": t0})
    np.testing.assert_allclose(got["loss"], tl.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got["dx"], tx.grad.numpy(), rtol=1e-5, atol=1e-6)
