"""The norm family (batch, layer, instance and group normalization, dropout)
against PyTorch through a real salusd: forward ops, their backward ops
(through the builder's gradient rules against torch autograd, and by finite
differences) and the builder methods. Tolerances: forward 1e-5 relative
(f32 statistics accumulated in double); gradients 1e-4 (sums over the
batch)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import salus
from op_harness import check_op, run_op

RNG = np.random.default_rng(11)
TOL = {"rtol": 1e-5, "atol": 1e-5}
GRAD_TOL = {"rtol": 1e-4, "atol": 1e-4}


def rand(*shape, scale=1.0, shift=0.0):
    return (RNG.standard_normal(shape) * scale + shift).astype(np.float32)


def t(a, grad=False):
    """The reference runs in float64: torch's own f32 kernels round more than ours."""
    return torch.tensor(np.asarray(a, np.float64), requires_grad=grad)


def close(got, want, what, rtol, atol):
    want = want.detach().numpy() if isinstance(want, torch.Tensor) else np.asarray(want)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=what)


def run_graph(client, g, feeds, iterations=1):
    with client.session(g, name="norm") as s:
        return [s.run(feeds) for _ in range(iterations)]


# ---- BatchNormalization ---------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 5), (2, 3, 4, 5), (1, 2, 1, 3), (3, 1, 2)])
@pytest.mark.parametrize("eps", [1e-5, 0.1])
def test_batch_norm_inference(client, shape, eps):
    c = shape[1]
    x, w, b, m = rand(*shape), rand(c), rand(c), rand(c)
    v = RNG.uniform(0.5, 2.0, c).astype(np.float32)
    want = F.batch_norm(t(x), t(m), t(v), t(w), t(b), training=False, eps=eps)
    check_op(client, "BatchNormalization", [x, w, b, m, v], want, epsilon=eps, **TOL)


def batch_norm_graph(x, w, b, rm, rv, momentum, eps):
    g = salus.Graph()
    xi = g.input("x", x.shape)
    wv, bv = g.variable("w", w), g.variable("b", b)
    rmv, rvv = g.variable("rm", rm), g.variable("rv", rv)
    y = g.batch_norm(xi, rmv, rvv, wv, bv, training=True, momentum=momentum, eps=eps)
    dy = g.input("dy", x.shape)
    dx, dw, db = g.gradients(y, [xi, wv, bv], grad_y=dy)
    for name, tensor in (("y", y), ("dx", dx), ("dw", dw), ("db", db), ("rm", rmv),
                         ("rv", rvv)):
        g.output(tensor, name)
    return g


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (2, 3, 4, 5), (2, 2, 1, 1), (1, 2, 3)])
@pytest.mark.parametrize("momentum", [0.1, 0.5])
def test_batch_norm_training_against_torch(client, shape, momentum):
    c = shape[1]
    x, dy, w, b = rand(*shape, scale=2.0, shift=0.5), rand(*shape), rand(c), rand(c)
    rm, rv = rand(c), RNG.uniform(0.5, 2.0, c).astype(np.float32)
    g = batch_norm_graph(x, w, b, rm, rv, momentum, 1e-5)
    runs = run_graph(client, g, {"x": x, "dy": dy}, iterations=2)

    trm, trv = t(rm), t(rv)
    for it, got in enumerate(runs):
        tx, tw, tb = t(x, True), t(w, True), t(b, True)
        y = F.batch_norm(tx, trm, trv, tw, tb, training=True, momentum=momentum, eps=1e-5)
        y.backward(t(dy))
        close(got["y"], y, f"y, iteration {it}", **TOL)
        close(got["rm"], trm, f"running_mean, iteration {it}", **TOL)
        close(got["rv"], trv, f"running_var, iteration {it}", **TOL)
        close(got["dx"], tx.grad, "dx", **GRAD_TOL)
        close(got["dw"], tw.grad, "dweight", **GRAD_TOL)
        close(got["db"], tb.grad, "dbias", **GRAD_TOL)


def test_batch_norm_inference_gradients_against_torch(client):
    x, dy, w, b, m = rand(3, 4, 2, 2), rand(3, 4, 2, 2), rand(4), rand(4), rand(4)
    v = RNG.uniform(0.5, 2.0, 4).astype(np.float32)
    g = salus.Graph()
    xi, dyi = g.input("x", x.shape), g.input("dy", x.shape)
    wv, bv = g.variable("w", w), g.variable("b", b)
    y = g.batch_norm(xi, g.variable("m", m), g.variable("v", v), wv, bv)
    for name, tensor in zip(("dx", "dw", "db"), g.gradients(y, [xi, wv, bv], grad_y=dyi)):
        g.output(tensor, name)
    (got,) = run_graph(client, g, {"x": x, "dy": dy})
    tx, tw, tb = t(x, True), t(w, True), t(b, True)
    F.batch_norm(tx, t(m), t(v), tw, tb, training=False).backward(t(dy))
    close(got["dx"], tx.grad, "dx", **GRAD_TOL)
    close(got["dw"], tw.grad, "dweight", **GRAD_TOL)
    close(got["db"], tb.grad, "dbias", **GRAD_TOL)


@pytest.mark.parametrize("wrt", [0, 1, 2])
def test_batch_norm_grad_finite_differences(client, wrt):
    x, w, b, m = rand(2, 2, 3), rand(2), rand(2), rand(2)
    v = RNG.uniform(0.5, 2.0, 2).astype(np.float32)
    fd_check(client, "BatchNormalization", "BatchNormalizationInferenceGrad", [x, w, b, m, v],
             wrt, wrt, lambda dy, ins, outs: [dy, ins[0], ins[1], ins[3], ins[4]])


# ---- LayerNormalization ---------------------------------------------------------------------


@pytest.mark.parametrize("shape,normalized", [((4, 6), (6,)), ((2, 3, 4), (4,)),
                                              ((2, 3, 4), (3, 4)), ((3, 1), (1,)),
                                              ((1, 5), (1, 5))])
@pytest.mark.parametrize("with_bias", [True, False])
def test_layer_norm_against_torch(client, shape, normalized, with_bias):
    x, dy = rand(*shape, scale=3.0, shift=1.0), rand(*shape)
    w, b = rand(*normalized), rand(*normalized)
    g = salus.Graph()
    xi, dyi = g.input("x", shape), g.input("dy", shape)
    wv, bv = g.variable("w", w), g.variable("b", b)
    y = g.layer_norm(xi, normalized, wv, bv if with_bias else None, eps=1e-5)
    wrt = [xi, wv] + ([bv] if with_bias else [])
    g.output(y, "y")
    for name, tensor in zip(("dx", "dw", "db"), g.gradients(y, wrt, grad_y=dyi)):
        g.output(tensor, name)
    (got,) = run_graph(client, g, {"x": x, "dy": dy})
    tx, tw, tb = t(x, True), t(w, True), t(b, True)
    ty = F.layer_norm(tx, normalized, tw, tb if with_bias else None, eps=1e-5)
    ty.backward(t(dy))
    close(got["y"], ty, "y", **TOL)
    close(got["dx"], tx.grad, "dx", **GRAD_TOL)
    close(got["dw"], tw.grad, "dweight", **GRAD_TOL)
    if with_bias:
        close(got["db"], tb.grad, "dbias", **GRAD_TOL)


@pytest.mark.parametrize("axis", [0, 1, -1, 2])
def test_layer_norm_outputs_mean_and_inv_std(client, axis):
    x = rand(2, 3, 4)
    a = axis % 3
    w = rand(*x.shape[a:])
    tx = t(x)
    dims = tuple(range(a, 3))
    mean = tx.mean(dims, keepdim=True)
    inv = 1.0 / torch.sqrt(tx.var(dims, unbiased=False, keepdim=True) + 1e-5)
    y = (tx - mean) * inv * t(w)
    check_op(client, "LayerNormalization", [x, w], [y, mean, inv], num_outputs=3, axis=axis,
             **TOL)


def fd_check(client, forward, backward, inputs, wrt, out, backward_inputs, grads=3,
             forward_outputs=1, eps=1e-2, **attrs):
    """Output `out` of `backward` (which has `grads` outputs) against central
    differences of sum(forward(inputs) * dy) with respect to input `wrt`
    (op_harness.grad_check for backward ops with several outputs)."""
    dy = rand(*inputs[0].shape).astype(np.float64)
    fwd = run_op(client, forward, inputs, num_outputs=forward_outputs, **attrs)
    got = run_op(client, backward, backward_inputs(dy.astype(np.float32), inputs, fwd),
                 num_outputs=grads, **attrs)[out]
    numeric = np.zeros(inputs[wrt].size)
    for k in range(numeric.size):
        f = []
        for sign in (1, -1):
            args = [a.copy() for a in inputs]
            args[wrt].reshape(-1)[k] += sign * eps
            f.append(float(np.sum(run_op(client, forward, args, **attrs)[0] * dy)))
        numeric[k] = (f[0] - f[1]) / (2 * eps)
    np.testing.assert_allclose(got.reshape(-1), numeric, rtol=2e-2, atol=2e-3,
                               err_msg=f"{backward} output {out} against finite differences")


@pytest.mark.parametrize("wrt", [0, 1, 2])
def test_layer_norm_grad_finite_differences(client, wrt):
    x, w, b = rand(2, 5), rand(5), rand(5)
    fd_check(client, "LayerNormalization", "LayerNormalizationGrad", [x, w, b], wrt, wrt,
             lambda dy, ins, outs: [dy, ins[0], ins[1], outs[1], outs[2]], forward_outputs=3)


# ---- InstanceNormalization and GroupNormalization -------------------------------------------


def channel_norm_case(client, method, torch_fn, shape, **kw):
    c = shape[1]
    x, dy, w, b = rand(*shape, scale=2.0, shift=-1.0), rand(*shape), rand(c), rand(c)
    g = salus.Graph()
    xi, dyi = g.input("x", shape), g.input("dy", shape)
    wv, bv = g.variable("w", w), g.variable("b", b)
    y = getattr(g, method)(xi, weight=wv, bias=bv, **kw)
    g.output(y, "y")
    for name, tensor in zip(("dx", "dw", "db"), g.gradients(y, [xi, wv, bv], grad_y=dyi)):
        g.output(tensor, name)
    (got,) = run_graph(client, g, {"x": x, "dy": dy})
    tx, tw, tb = t(x, True), t(w, True), t(b, True)
    ty = torch_fn(tx, tw, tb)
    ty.backward(t(dy))
    close(got["y"], ty, f"{method} y", **TOL)
    close(got["dx"], tx.grad, f"{method} dx", **GRAD_TOL)
    close(got["dw"], tw.grad, f"{method} dweight", **GRAD_TOL)
    close(got["db"], tb.grad, f"{method} dbias", **GRAD_TOL)


@pytest.mark.parametrize("shape", [(2, 3, 4), (2, 3, 2, 3), (1, 2, 1, 3), (3, 1, 5)])
@pytest.mark.parametrize("eps", [1e-5, 1e-2])
def test_instance_norm_against_torch(client, shape, eps):
    channel_norm_case(client, "instance_norm",
                      lambda x, w, b: F.instance_norm(x, weight=w, bias=b, eps=eps), shape,
                      eps=eps)


@pytest.mark.parametrize("shape,groups", [((2, 4, 3), 2), ((2, 6, 2, 2), 3), ((3, 4), 4),
                                          ((1, 4, 5), 1), ((2, 2, 1, 1), 1)])
def test_group_norm_against_torch(client, shape, groups):
    channel_norm_case(client, "group_norm",
                      lambda x, w, b: F.group_norm(x, groups, w, b, eps=1e-5), shape,
                      num_groups=groups)


@pytest.mark.parametrize("op,attrs", [("GroupNormalization", {"num_groups": 2}),
                                      ("InstanceNormalization", {})])
@pytest.mark.parametrize("wrt", [0, 1])
def test_channel_norm_grads_finite_differences(client, op, attrs, wrt):
    x, w, b = rand(1, 4, 3), rand(4), rand(4)
    fd_check(client, op, op + "Grad", [x, w, b], wrt, wrt,
             lambda dy, ins, outs: [dy, ins[0], ins[1]], **attrs)


def test_builder_defaults_weight_and_bias(client):
    x = rand(2, 4, 3)
    g = salus.Graph()
    xi = g.input("x", x.shape)
    g.output(g.group_norm(xi, 2), "gn")
    g.output(g.instance_norm(xi), "in")
    g.output(g.layer_norm(xi, 3), "ln")
    (got,) = run_graph(client, g, {"x": x})
    close(got["gn"], F.group_norm(t(x), 2), "group_norm", **TOL)
    close(got["in"], F.instance_norm(t(x)), "instance_norm", **TOL)
    close(got["ln"], F.layer_norm(t(x), (3,)), "layer_norm", **TOL)


# ---- Dropout ----------------------------------------------------------------------------------


def dropout_graph(shape, p, seed=None):
    g = salus.Graph()
    xi, dyi = g.input("x", shape), g.input("dy", shape)
    y = g.dropout(xi, p, seed=seed)
    (dx,) = g.gradients(y, [xi], grad_y=dyi)
    g.output(y, "y")
    g.output(y.node.outputs[1], "mask")
    g.output(dx, "dx")
    return g


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_dropout_training_against_torch_with_its_mask(client, p):
    shape = (40, 50)
    x, dy = rand(*shape), rand(*shape)
    runs = run_graph(client, dropout_graph(shape, p), {"x": x, "dy": dy}, iterations=2)
    for got in runs:
        mask = got["mask"]
        assert mask.dtype == np.bool_
        assert abs(1.0 - mask.mean() - p) < 0.05, f"dropped fraction {1 - mask.mean()}, p {p}"
        # torch's dropout given the same mask: x * mask / (1 - p), and its gradient.
        tx = t(x, True)
        ty = tx * torch.from_numpy(mask) / (1 - p)
        ty.backward(t(dy))
        close(got["y"], ty, "dropout output", rtol=1e-6, atol=1e-6)
        close(got["dx"], tx.grad, "dropout gradient", rtol=1e-6, atol=1e-6)
    assert not np.array_equal(runs[0]["mask"], runs[1]["mask"]), "each iteration draws anew"


def test_dropout_is_reproducible_per_seed_and_iteration(client):
    shape = (8, 16)
    x, dy = rand(*shape), rand(*shape)
    a = run_graph(client, dropout_graph(shape, 0.5, seed=3), {"x": x, "dy": dy}, iterations=3)
    b = run_graph(client, dropout_graph(shape, 0.5, seed=3), {"x": x, "dy": dy}, iterations=3)
    c = run_graph(client, dropout_graph(shape, 0.5, seed=4), {"x": x, "dy": dy}, iterations=1)
    for ra, rb in zip(a, b):
        assert np.array_equal(ra["mask"], rb["mask"]) and np.array_equal(ra["y"], rb["y"])
    assert not np.array_equal(a[0]["mask"], c[0]["mask"])


def test_dropout_session_seed_changes_masks_as_documented(client):
    shape = (8, 16)
    feeds = {"x": rand(*shape), "dy": rand(*shape)}

    def masks(node_seed, session_seed):
        g = dropout_graph(shape, 0.5, seed=node_seed)
        with client.session(g, name="seeded", seed=session_seed) as s:
            return [s.run(feeds)["mask"] for _ in range(2)]

    a, again, other = masks(3, 7), masks(3, 7), masks(3, 8)
    assert all(np.array_equal(x, y) for x, y in zip(a, again)), "a session seed reproduces"
    assert not np.array_equal(a[0], other[0]), "another session seed draws other masks"
    # doc/ops.md: the node's seed becomes seed + session_seed * 0x9e3779b97f4a7c15 (mod 2^64).
    mixed = (3 + 7 * 0x9E3779B97F4A7C15) % 2**64
    mixed = mixed - 2**64 if mixed >= 2**63 else mixed
    assert all(np.array_equal(x, y) for x, y in zip(a, masks(mixed, 0)))


def test_dropout_builder_numbers_its_seeds():
    g = salus.Graph()
    x = g.input("x", (4,))
    y1, y2 = g.dropout(x), g.dropout(x)
    assert [y1.node.attrs["seed"], y2.node.attrs["seed"]] == [0, 1]


@pytest.mark.parametrize("attrs", [{"training_mode": 0, "ratio": 0.5}, {"training_mode": 1,
                                                                        "ratio": 0.0}, {}])
def test_dropout_identity_modes(client, attrs):
    x = rand(3, 4)
    y, mask = run_op(client, "Dropout", [x], num_outputs=2, **attrs)
    assert np.array_equal(y, x) and mask.all()
    (dx,) = run_op(client, "DropoutGrad", [x, mask], **attrs)
    assert np.array_equal(dx, x)


def test_dropout_ratio_one_drops_everything(client):
    x = rand(3, 4)
    y, mask = run_op(client, "Dropout", [x], num_outputs=2, ratio=1.0, training_mode=1)
    assert not y.any() and not mask.any()


def test_dropout_builder_is_identity_when_not_training():
    g = salus.Graph()
    x = g.input("x", (4,))
    assert g.dropout(x, 0.5, training=False) is x and g.dropout(x, 0.0) is x


# ---- misuse -----------------------------------------------------------------------------------


@pytest.mark.parametrize("op,shapes,attrs,message", [
    ("BatchNormalization", [(2, 3), (4,), (3,), (3,), (3,)], {}, r"scale of shape \[3\]"),
    ("BatchNormalization", [(3,), (3,), (3,), (3,), (3,)], {}, r"rank 2 or more"),
    ("BatchNormalization", [(2, 3), (3,), (3,), (3,), (3,)], {"epsilon": -1.0}, "epsilon"),
    ("LayerNormalization", [(2, 3), (2,)], {}, r"Scale of shape \[3\]"),
    ("LayerNormalization", [(2, 3), (3,)], {"axis": 2}, "axis 2 is out of range"),
    ("LayerNormalization", [(2, 3), (2, 3), (3,)], {"axis": 0}, r"B of shape \[2, 3\]"),
    ("GroupNormalization", [(2, 6, 3), (6,), (6,)], {"num_groups": 4}, "does not divide"),
    ("GroupNormalization", [(2, 6, 3), (6,), (6,)], {"num_groups": 0}, "must be > 0"),
    ("GroupNormalization", [(2, 6, 3), (6,), (6,)], {}, "num_groups"),
    ("InstanceNormalization", [(2, 3), (3,), (3,)], {}, "rank 3 or more"),
    ("InstanceNormalization", [(2, 3, 4), (4,), (3,)], {}, r"scale of shape \[3\]"),
    ("Dropout", [(2, 3)], {"ratio": 1.5}, r"ratio must be in \[0, 1\]"),
    ("Dropout", [(2, 3)], {"training_mode": 2}, "must be 0 or 1"),
    ("LayerNormalizationGrad", [(2, 3), (2, 4), (4,), (2, 1), (2, 1)], {}, "dY of X's shape"),
])
def test_misuse_is_refused_naming_the_node(op, shapes, attrs, message):
    g = salus.Graph()
    ins = [g.input(f"i{k}", s) for k, s in enumerate(shapes)]
    with pytest.raises(salus.GraphError, match=r'"bad" \(' + op + r'\).*' + message):
        g.op(op, *ins, name="bad", **attrs)


@pytest.mark.parametrize("method", ["batch_norm", "group_norm", "instance_norm"])
def test_builder_refuses_a_rank_one_input_by_the_daemons_rule(method):
    g = salus.Graph()
    x = g.input("x", (4,))
    args = {"batch_norm": (x, g.variable("m", np.zeros(1)), g.variable("v", np.ones(1))),
            "group_norm": (x, 1), "instance_norm": (x,)}[method]
    with pytest.raises(salus.GraphError, match=r"rank [23] or more"):
        getattr(g, method)(*args)


def test_batch_norm_training_needs_variables_and_several_values(client):
    g = salus.Graph()
    x = g.input("x", (1, 3))
    with pytest.raises(salus.GraphError, match="more than one value per channel"):
        g.batch_norm(x, g.variable("m", np.zeros(3)), g.variable("v", np.ones(3)),
                     training=True)
    x2 = g.input("x2", (2, 3))
    with pytest.raises(salus.GraphError, match="must be a variable"):
        g.batch_norm(x2, g.input("m2", (3,)), g.variable("v2", np.ones(3)), training=True)


def test_running_stats_must_be_variables_in_the_daemon(client):
    g = salus.Graph()
    x = g.input("x", (2, 3))
    ins = [g.input(n, (3,)) for n in ("w", "b", "m", "v")]
    y = g.op("BatchNormalizationTraining", x, *ins, num_outputs=1, name="bnt")
    g.output(y, "y")
    with pytest.raises(salus.GraphError, match=r'"bnt".*can only update a variable'):
        client.session(g)


# ---- training through the builder ------------------------------------------------------------


def test_mlp_with_batch_norm_layer_norm_and_dropout_trains_as_torch(client):
    # x -> matmul -> batch_norm (training) -> relu -> layer_norm -> dropout -> matmul -> loss,
    # five SGD steps; torch gets the dropout masks salusd drew (fetched each step).
    n, d, h, k, p, lr = 8, 5, 6, 3, 0.25, 0.1
    x = rand(n, d)
    labels = np.eye(k, dtype=np.float32)[RNG.integers(0, k, n)]
    w1, w2 = rand(d, h, scale=0.5), rand(h, k, scale=0.5)
    gamma, beta = rand(h, scale=0.1, shift=1.0), rand(h, scale=0.1)

    g = salus.Graph()
    xi, yi = g.input("x", (n, d)), g.input("labels", (n, k))
    v = {name: g.variable(name, value) for name, value in
         (("w1", w1), ("w2", w2), ("gamma", gamma), ("beta", beta))}
    rm, rv = g.variable("rm", np.zeros(h, np.float32)), g.variable("rv", np.ones(h, np.float32))
    a = g.batch_norm(g.matmul(xi, v["w1"]), rm, rv, v["gamma"], v["beta"], training=True)
    dropped = g.dropout(g.layer_norm(g.relu(a), h), p)
    loss = g.softmax_cross_entropy(g.matmul(dropped, v["w2"]), yi)
    g.sgd(loss, lr=lr)  # trains the four parameters, not the running statistics
    g.output(dropped.node.outputs[1], "mask")
    g.output(rm, "rm")
    g.output(rv, "rv")

    tw = {name: t(value, True) for name, value in
          (("w1", w1), ("w2", w2), ("gamma", gamma), ("beta", beta))}
    trm, trv = torch.zeros(h, dtype=torch.float64), torch.ones(h, dtype=torch.float64)
    with client.session(g, name="norm-mlp") as s:
        for step in range(5):
            got = s.run({"x": x, "labels": labels})
            ta = F.batch_norm(t(x) @ tw["w1"], trm, trv, tw["gamma"], tw["beta"], training=True)
            tl = F.layer_norm(torch.relu(ta), (h,))
            logits = tl * torch.from_numpy(got["mask"]) / (1 - p) @ tw["w2"]
            want = -(t(labels) * torch.log_softmax(logits, 1)).sum(1).mean()
            want.backward()
            close(got[loss.name], want, f"loss, step {step}", 1e-4, 1e-5)
            close(got["rm"], trm, f"running mean, step {step}", 1e-4, 1e-5)
            close(got["rv"], trv, f"running var, step {step}", 1e-4, 1e-5)
            with torch.no_grad():
                for w in tw.values():
                    w -= lr * w.grad
                    w.grad = None
