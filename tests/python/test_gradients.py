"""The builder's gradients against finite differences, both computed by the
daemon: for every differentiable op, the gradient graph runs in salusd and
is compared with central differences of the forward graph, also run in
salusd, in float32.

Tolerance: |analytic - numeric| <= ATOL + RTOL * |numeric|, with a step of
EPS = 1e-2 on inputs of magnitude about 1. The central difference is off by
at most EPS^2/6 * |f'''| (about 2e-5 for these ops) plus the float32 rounding
of the loss divided by the step: the loss (a weighted sum of at most a few
dozen terms of order 1) is exact to a few 1e-7 relative, so about 1e-4
absolute after dividing by 2 * EPS. ATOL = 2e-3 and RTOL = 1e-2 leave an
order of magnitude above both, while any wrong rule (a missing factor, a
transpose, a lost broadcast) is off by far more; test_the_check_can_fail
shows a gradient 5 % off is caught."""

import numpy as np
import pytest

import salus

EPS = 1e-2
ATOL = 2e-3
RTOL = 1e-2


def away_from_zero(rng, shape):
    """Values of magnitude 0.2 to 1.5: no kink of Relu within EPS."""
    return np.asarray(rng.choice([-1, 1], size=shape) * rng.uniform(0.2, 1.5, size=shape),
                      np.float32)


def weighted_loss(g, y, rng):
    """sum(y * r) for random r, so that every element of y matters."""
    r = g.constant("r", rng.uniform(0.5, 1.5, size=y.shape).astype(np.float32))
    return g.output(g.reduce_sum(y * r) if y.shape else y * r, name="loss")


def gradient_check(client, build, shapes, wrt, seed=0, values=None, perturb_analytic=1.0):
    """Builds y = build(g, inputs) over float32 inputs of the given shapes
    (plus any in `values`), differentiates sum(y * r) with respect to the
    inputs named in wrt, and compares with central differences."""
    rng = np.random.default_rng(seed)
    g = salus.Graph()
    inputs = {n: g.input(n, s) for n, s in shapes.items()}
    feeds = {n: away_from_zero(rng, s) for n, s in shapes.items()}
    for n, v in (values or {}).items():
        inputs[n] = g.input(n, v.shape, dtype=v.dtype)
        feeds[n] = v
    loss = weighted_loss(g, build(g, inputs), rng)
    for n, d in zip(wrt, g.gradients(loss, [inputs[n] for n in wrt])):
        g.output(d, name="d_" + n)
    with client.session(g, name="gradcheck") as s:
        analytic = s.run(feeds)
        for n in wrt:
            x = feeds[n]
            numeric = np.zeros(x.shape, np.float64)
            pending = []
            for i in range(x.size):  # every perturbation queued, then collected
                plus, minus = x.copy(), x.copy()
                plus.flat[i] += EPS
                minus.flat[i] -= EPS
                step = float(plus.flat[i]) - float(minus.flat[i])  # as fed, in float32
                pending.append((i, step, s.submit({**feeds, n: plus}),
                                s.submit({**feeds, n: minus})))
            for i, step, fp, fm in pending:
                numeric.flat[i] = (float(fp.result(fetch="loss")) -
                                   float(fm.result(fetch="loss"))) / step
            got = analytic["d_" + n].astype(np.float64) * perturb_analytic
            assert got.shape == x.shape
            bad = np.abs(got - numeric) > ATOL + RTOL * np.abs(numeric)
            assert not bad.any(), (f"d loss / d {n}: analytic {got[bad]} vs numeric "
                                   f"{numeric[bad]} at {np.argwhere(bad).tolist()}")


@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
def test_matmul(client, ta, tb):
    a = (4, 3) if ta else (3, 4)
    b = (2, 4) if tb else (4, 2)
    gradient_check(client, lambda g, i: g.matmul(i["a"], i["b"], transpose_a=ta, transpose_b=tb),
                   {"a": a, "b": b}, ["a", "b"])


@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
def test_matmul_batched_with_shared_b(client, ta, tb):
    # A Linear layer on [batch, seq, in]: B's gradient sums over both
    # batch axes (one product of the stacked rows when A is not transposed).
    a = (2, 3, 4, 3) if ta else (2, 3, 3, 4)
    b = (2, 4) if tb else (4, 2)
    gradient_check(client, lambda g, i: g.matmul(i["a"], i["b"], transpose_a=ta, transpose_b=tb),
                   {"a": a, "b": b}, ["a", "b"])


@pytest.mark.parametrize("op", ["add", "sub", "mul"])
@pytest.mark.parametrize("sa, sb", [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)),
                                    ((2, 3, 4), (3, 1)), ((), (2, 3))])
def test_broadcasting_binary_ops(client, op, sa, sb):
    gradient_check(client, lambda g, i: getattr(g, op)(i["a"], i["b"]), {"a": sa, "b": sb},
                   ["a", "b"])


@pytest.mark.parametrize("op", ["relu", "sigmoid", "tanh"])
def test_activations(client, op):
    gradient_check(client, lambda g, i: getattr(g, op)(i["x"]), {"x": (3, 4)}, ["x"])


@pytest.mark.parametrize("shape, axis", [((2, 5), -1), ((2, 5), 0), ((3, 2, 4), 1)])
def test_softmax(client, shape, axis):
    gradient_check(client, lambda g, i: g.softmax(i["x"], axis=axis), {"x": shape}, ["x"])


def test_softmax_cross_entropy_with_probabilities(client):
    probs = np.random.default_rng(5).dirichlet(np.ones(5), size=4).astype(np.float32)
    gradient_check(client, lambda g, i: g.softmax_cross_entropy(i["logits"], i["p"]),
                   {"logits": (4, 5)}, ["logits"], values={"p": probs})


def test_softmax_cross_entropy_with_integer_labels(client):
    labels = np.array([0, 4, 2, 2], np.int32)
    gradient_check(client, lambda g, i: g.softmax_cross_entropy(i["logits"], i["labels"]),
                   {"logits": (4, 5)}, ["logits"], values={"labels": labels})


@pytest.mark.parametrize("op", ["reduce_sum", "reduce_mean"])
@pytest.mark.parametrize("axis, keepdims", [(None, False), (None, True), (0, False),
                                            ((0, 2), True), (-1, False)])
def test_reductions(client, op, axis, keepdims):
    gradient_check(client, lambda g, i: getattr(g, op)(i["x"], axis, keepdims),
                   {"x": (2, 3, 4)}, ["x"])


@pytest.mark.parametrize("src, dst", [((3, 1), (2, 3, 4)), ((), (2, 2)), ((4,), (3, 4))])
def test_expand(client, src, dst):
    gradient_check(client, lambda g, i: g.expand(i["x"], dst), {"x": src}, ["x"])


def test_reshape_transpose_identity(client):
    gradient_check(client, lambda g, i: g.reshape(i["x"], (6, -1)), {"x": (2, 3, 4)}, ["x"])
    gradient_check(client, lambda g, i: g.transpose(i["x"], (2, 0, 1)), {"x": (2, 3, 4)}, ["x"])
    gradient_check(client, lambda g, i: g.transpose(i["x"]), {"x": (2, 3, 4)}, ["x"])
    gradient_check(client, lambda g, i: g.identity(i["x"]), {"x": (3, 2)}, ["x"])


def test_a_tensor_used_twice_accumulates(client):
    gradient_check(client, lambda g, i: i["x"] * i["x"] + g.tanh(i["x"]) - i["x"],
                   {"x": (3, 3)}, ["x"])


def test_a_two_layer_classifier(client):
    labels = np.array([1, 0, 2, 1, 0], np.int32)

    def mlp(g, i):
        h = g.relu(i["x"] @ i["w1"] + i["b1"])
        return g.softmax_cross_entropy(h @ i["w2"] + i["b2"], i["labels"])

    gradient_check(client, mlp, {"x": (5, 4), "w1": (4, 6), "b1": (6,), "w2": (6, 3),
                                 "b2": (3,)}, ["x", "w1", "b1", "w2", "b2"],
                   values={"labels": labels})


def test_gradient_of_a_non_scalar_with_a_seed(client):
    rng = np.random.default_rng(9)
    x0 = away_from_zero(rng, (3, 4))
    seed = rng.normal(size=(3, 4)).astype(np.float32)
    g = salus.Graph()
    x = g.input("x", (3, 4))
    y = g.sigmoid(x)
    (seeded,) = g.gradients(y, [x], grad_y=g.constant("seed", seed))
    (summed,) = g.gradients(g.reduce_sum(y * g.constant("seed2", seed)), [x])
    g.output(seeded, name="seeded")
    g.output(summed, name="summed")
    with client.session(g) as s:
        out = s.run({"x": x0})
    sig = 1 / (1 + np.exp(-x0.astype(np.float64)))
    assert np.allclose(out["seeded"], seed * sig * (1 - sig), rtol=1e-5, atol=1e-6)
    assert np.allclose(out["seeded"], out["summed"], rtol=1e-6, atol=1e-7)


def test_the_check_can_fail(client):
    with pytest.raises(AssertionError, match="d loss / d x"):
        gradient_check(client, lambda g, i: g.tanh(i["x"]), {"x": (3, 4)}, ["x"],
                       perturb_analytic=1.05)
