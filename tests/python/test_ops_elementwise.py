"""The elementwise family against PyTorch (torch 1.13) through a real salusd:
every op forward on random inputs across its attributes, broadcasts, dtypes
and size-1 and scalar shapes; every backward op against torch autograd, some
against finite differences too; the builder's methods and gradient rules on
small graphs against torch autograd.

Tolerances: ops that are one correctly rounded float operation (Neg, Abs,
Div, Max, Clip, comparisons, ...) match torch exactly (0). Transcendental
functions (exp, log, erf, sin, pow, ...) are glibc's float functions against
torch's vectorized ones: a few ulp, so rtol 1e-5 with atol 1e-6 (the
absolute term covers results near zero). Formulas of several roundings
(GELU, SiLU, Softplus, SELU and their gradients) get rtol 1e-5, atol 1e-5.
Composite gradient rules (several ops, each rounded) get rtol 1e-4, atol
1e-5."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import salus
from op_harness import check_op, grad_check, run_op

RNG = np.random.default_rng(17)
SHAPES = [(2, 3, 4), (3, 1), (1,), ()]


def rand(*shape, lo=-3.0, hi=3.0):
    return RNG.uniform(lo, hi, size=shape).astype(np.float32)


def coarse(*shape):
    """Multiples of 0.5 in [-2, 2]: ties and zeros."""
    return (RNG.integers(-4, 5, size=shape) * 0.5).astype(np.float32)


def t(a):
    return torch.from_numpy(np.asarray(a))


# ---- unary math ------------------------------------------------------------------

POSITIVE = dict(lo=0.05, hi=4.0)
UNARY = [
    ("Neg", torch.neg, {}, 0),
    ("Abs", torch.abs, {}, 0),
    ("Exp", torch.exp, {}, 1e-6),
    ("Log", torch.log, POSITIVE, 1e-6),
    ("Sqrt", torch.sqrt, POSITIVE, 0),
    ("Reciprocal", torch.reciprocal, POSITIVE, 0),
    ("Rsqrt", torch.rsqrt, POSITIVE, 1e-6),
    ("Erf", torch.erf, {}, 1e-6),
    ("Sin", torch.sin, {}, 1e-6),
    ("Cos", torch.cos, {}, 1e-6),
]


@pytest.mark.parametrize("op,fn,rng,tol", UNARY, ids=[u[0] for u in UNARY])
@pytest.mark.parametrize("shape", SHAPES)
def test_unary(client, op, fn, rng, tol, shape):
    x = rand(*shape, **rng)
    check_op(client, op, [x], fn(t(x)), rtol=tol * 10, atol=tol)


def test_sign_of_zero_and_nan_is_zero_as_torch(client):
    x = np.array([-2.0, -0.0, 0.0, 3.5, np.nan, -np.inf], np.float32)
    (got,) = run_op(client, "Sign", [x])
    np.testing.assert_array_equal(got, torch.sign(t(x)).numpy())


def test_log_and_sqrt_outside_their_domain_are_ieee(client):
    x = np.array([0.0, -1.0, 1.0], np.float32)
    (log,) = run_op(client, "Log", [x])
    (sqrt,) = run_op(client, "Sqrt", [x])
    np.testing.assert_array_equal(log, torch.log(t(x)).numpy())
    np.testing.assert_array_equal(sqrt, torch.sqrt(t(x)).numpy())


# ---- binary arithmetic -----------------------------------------------------------

BROADCASTS = [((3, 4), (3, 4)), ((2, 1, 4), (3, 1)), ((), (5,)), ((1,), (2, 3, 1, 2)),
              ((4, 1), ())]
BINARY = [("Div", torch.div, 0), ("Max", torch.maximum, 0), ("Min", torch.minimum, 0)]


@pytest.mark.parametrize("op,fn,tol", BINARY, ids=[b[0] for b in BINARY])
@pytest.mark.parametrize("shapes", BROADCASTS)
def test_binary(client, op, fn, tol, shapes):
    a, b = coarse(*shapes[0]), rand(*shapes[1], lo=0.5, hi=2.0)
    if op != "Div":
        b = coarse(*shapes[1])
    check_op(client, op, [a, b], fn(t(a), t(b)), rtol=tol, atol=tol)


@pytest.mark.parametrize("shapes", BROADCASTS)
def test_pow(client, shapes):
    a, b = rand(*shapes[0], lo=0.1, hi=3.0), rand(*shapes[1], lo=-2.0, hi=2.0)
    check_op(client, "Pow", [a, b], torch.pow(t(a), t(b)), rtol=1e-5, atol=1e-6)
    # Negative bases: integer exponents are defined, others NaN, as in torch.
    a, b = coarse(*shapes[0]), coarse(*shapes[1])
    want = torch.pow(t(a), t(b)).numpy()
    (got,) = run_op(client, "Pow", [a, b])
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=0, equal_nan=True)


def test_max_min_propagate_nan(client):
    a = np.array([np.nan, 1.0, 2.0], np.float32)
    b = np.array([1.0, np.nan, 3.0], np.float32)
    for op, fn in (("Max", torch.maximum), ("Min", torch.minimum)):
        (got,) = run_op(client, op, [a, b])
        np.testing.assert_array_equal(got, fn(t(a), t(b)).numpy())


# ---- Clip and Where ---------------------------------------------------------------

@pytest.mark.parametrize("bounds", [(None, None), (-1.0, None), (-1.0, 0.5), (1.0, -1.0),
                                    (-np.inf, 2.0)])
@pytest.mark.parametrize("shape", [(3, 5), ()])
def test_clip(client, bounds, shape):
    x = rand(*shape)
    lo, hi = bounds
    inputs = [x] + [np.float32(v) for v in bounds if v is not None]
    want = torch.clamp(t(x), min=lo, max=hi) if lo is not None or hi is not None else t(x)
    check_op(client, "Clip", inputs, want, rtol=0, atol=0)


def test_clip_keeps_nan(client):
    x = np.array([np.nan, -5.0, 5.0], np.float32)
    (got,) = run_op(client, "Clip", [x, np.float32(-1), np.float32(1)])
    np.testing.assert_array_equal(got, torch.clamp(t(x), -1, 1).numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int64, np.bool_])
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4), (3, 4)), ((2, 1, 4), (3, 1), (4,)),
                                    ((), (2, 3), (1, 3)), ((5, 1), (1,), ())])
def test_where(client, dtype, shapes):
    c = RNG.random(shapes[0]) > 0.5
    x = (RNG.standard_normal(shapes[1]) * 5).astype(dtype)
    y = (RNG.standard_normal(shapes[2]) * 5).astype(dtype)
    check_op(client, "Where", [c, x, y], torch.where(t(c), t(x), t(y)), rtol=0, atol=0)


# ---- comparisons, logic, Cast -------------------------------------------------------

COMPARE = [("Equal", torch.eq), ("Less", torch.lt), ("LessOrEqual", torch.le),
           ("Greater", torch.gt), ("GreaterOrEqual", torch.ge)]


@pytest.mark.parametrize("op,fn", COMPARE, ids=[c[0] for c in COMPARE])
@pytest.mark.parametrize("dtype", [np.float32, np.int32, np.int64])
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((2, 1, 4), (3, 1)), ((), (5,))])
def test_compare(client, op, fn, dtype, shapes):
    a, b = (coarse(*s).astype(dtype) for s in shapes)
    (got,) = run_op(client, op, [a, b])
    assert got.dtype == np.bool_
    np.testing.assert_array_equal(got, fn(t(a), t(b)).numpy())


LOGIC = [("And", torch.logical_and), ("Or", torch.logical_or), ("Xor", torch.logical_xor)]


@pytest.mark.parametrize("op,fn", LOGIC, ids=[c[0] for c in LOGIC])
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((2, 1, 4), (3, 1)), ((), (5,))])
def test_logic(client, op, fn, shapes):
    a, b = (RNG.random(s) > 0.5 for s in shapes)
    (got,) = run_op(client, op, [a, b])
    np.testing.assert_array_equal(got, fn(t(a), t(b)).numpy())


@pytest.mark.parametrize("shape", [(3, 4), ()])
def test_not(client, shape):
    a = RNG.random(shape) > 0.5
    (got,) = run_op(client, "Not", [np.asarray(a)])
    np.testing.assert_array_equal(got, np.logical_not(a))


CASTS = {"f32": (np.float32, torch.float32), "i32": (np.int32, torch.int32),
         "i64": (np.int64, torch.int64), "bool": (np.bool_, torch.bool)}


@pytest.mark.parametrize("src", list(CASTS))
@pytest.mark.parametrize("to", list(CASTS))
def test_cast(client, src, to):
    x = (RNG.uniform(-6, 6, size=(4, 5))).astype(np.float32)
    x[0, :3] = [0.0, -0.7, 2.9]  # zero and truncation toward zero
    x = t(x).to(CASTS[src][1]).numpy()
    (got,) = run_op(client, "Cast", [x], to=to)
    assert got.dtype == CASTS[to][0]
    np.testing.assert_array_equal(got, t(x).to(CASTS[to][1]).numpy())


# ---- activations -------------------------------------------------------------------

ACTIVATIONS = [
    ("LeakyRelu", {}, lambda x: F.leaky_relu(x, 0.01), 0),
    ("LeakyRelu", {"alpha": 0.2}, lambda x: F.leaky_relu(x, 0.2), 0),
    ("Elu", {}, F.elu, 1e-6),
    ("Elu", {"alpha": 0.5}, lambda x: F.elu(x, 0.5), 1e-6),
    ("Selu", {}, F.selu, 1e-5),
    ("Softplus", {}, F.softplus, 1e-5),
    ("Gelu", {}, F.gelu, 1e-5),
    ("Gelu", {"approximate": "tanh"}, lambda x: F.gelu(x, approximate="tanh"), 1e-5),
    ("Silu", {}, F.silu, 1e-5),
    ("HardSigmoid", {"alpha": 1 / 6, "beta": 0.5}, F.hardsigmoid, 1e-6),
    ("HardSigmoid", {}, lambda x: torch.clamp(0.2 * x + 0.5, 0, 1), 1e-6),  # ONNX defaults
    ("HardSwish", {}, F.hardswish, 1e-6),
]


@pytest.mark.parametrize("op,attrs,fn,tol", ACTIVATIONS,
                         ids=[f"{a[0]}-{a[1]}" for a in ACTIVATIONS])
@pytest.mark.parametrize("shape", [(4, 6), (1,), ()])
def test_activation_and_its_grad(client, op, attrs, fn, tol, shape):
    x = rand(*shape, lo=-5, hi=5)
    x.reshape(-1)[:1] = 25.0 if x.size else 0  # Softplus's linear range
    tx = t(x).clone().requires_grad_(True)
    y = fn(tx)
    check_op(client, op, [x], y, rtol=tol, atol=tol, **attrs)
    dy = rand(*shape)
    (want,) = torch.autograd.grad(y, tx, t(dy))
    check_op(client, op + "Grad", [dy, x], want, rtol=max(tol, 1e-6), atol=max(tol, 1e-6),
             **attrs)


PRELU_SLOPES = [((2, 3, 4), (3, 1)), ((2, 3, 4, 2), (3, 1, 1)), ((2, 3, 4), (1,)), ((5, 6), (6,)), ((2, 3, 4, 2), ()),
                ((4, 3), (4, 3))]


@pytest.mark.parametrize("x_shape,slope_shape", PRELU_SLOPES)
def test_prelu_and_its_grad(client, x_shape, slope_shape):
    x, slope = rand(*x_shape), rand(*slope_shape, lo=0.0, hi=0.5)
    tx = t(x).clone().requires_grad_(True)
    ts = t(slope).clone().requires_grad_(True)
    y = torch.where(tx >= 0, tx, ts * tx)  # numpy broadcasting, as ONNX's PRelu
    check_op(client, "PRelu", [x, slope], y, rtol=0, atol=0)
    dy = rand(*x_shape)
    dx, ds = torch.autograd.grad(y, (tx, ts), t(dy))
    check_op(client, "PReluGrad", [dy, x, slope], [dx, ds], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("bounds", [(-1.0, 1.0), (-0.5,), ()])
def test_clip_grad(client, bounds):
    x, dy = coarse(4, 5), rand(4, 5)
    tx = t(x).clone().requires_grad_(True)
    lo = bounds[0] if bounds else None
    hi = bounds[1] if len(bounds) > 1 else None
    y = torch.clamp(tx, lo, hi) if bounds else tx * 1
    (want,) = torch.autograd.grad(y, tx, t(dy))
    check_op(client, "ClipGrad", [dy, x] + [np.float32(b) for b in bounds], want, rtol=0, atol=0)


# Finite differences of the forward ops, both run in salusd (tiny sizes).
FD = [("Elu", "EluGrad", {}), ("Gelu", "GeluGrad", {"approximate": "tanh"}),
      ("Gelu", "GeluGrad", {}), ("Softplus", "SoftplusGrad", {}), ("Silu", "SiluGrad", {}),
      ("Selu", "SeluGrad", {}), ("HardSwish", "HardSwishGrad", {})]


@pytest.mark.parametrize("forward,backward,attrs", FD, ids=[f"{f[1]}-{f[2]}" for f in FD])
def test_grad_ops_by_finite_differences(client, forward, backward, attrs):
    x = np.array([-2.1, -0.7, 0.4, 1.9], np.float32)  # away from HardSwish's kinks
    dy = np.array([0.5, -1.0, 2.0, 1.5], np.float64)
    grad_check(client, forward, backward, [x], 0, dy,
               lambda dy, inputs, outs: [dy.astype(np.float32), inputs[0]], **attrs)


def test_prelu_grad_by_finite_differences(client):
    # dSlope (output 1); dX is checked against torch autograd above.
    wrt = 1
    x = np.array([[-1.5, 0.5, -0.25], [0.75, -2.0, 1.0]], np.float32)
    slope = np.array([0.1, 0.3, -0.2], np.float32)
    dy = np.array([[1.0, -0.5, 2.0], [0.5, 1.5, -1.0]], np.float64)
    grad_check(client, "PRelu", "PReluGrad", [x, slope], wrt, dy,
               lambda dy, inputs, outs: [dy.astype(np.float32)] + list(inputs), output=wrt)


# ---- the builder and its gradient rules against torch autograd ----------------------------

def autograd_case(client, build, torch_fn, arrays, rtol=1e-4, atol=1e-5):
    """Builds sum(build(g, *inputs) * r) with g.gradients for every input and
    compares value and gradients with torch autograd of the same."""
    g = salus.Graph()
    ins = [g.input(f"x{i}", a.shape) for i, a in enumerate(arrays)]
    y = build(g, *ins)
    r = RNG.uniform(0.5, 1.5, size=y.shape).astype(np.float32)
    loss = g.reduce_sum(y * g.constant("r", r))
    g.output(y, "y")
    for i, d in enumerate(g.gradients(loss, ins)):
        g.output(d, f"d{i}")
    with client.session(g, name="ew-autograd") as s:
        got = s.run({f"x{i}": a for i, a in enumerate(arrays)})
    tins = [t(a).clone().requires_grad_(True) for a in arrays]
    ty = torch_fn(*tins)
    grads = torch.autograd.grad((ty * t(r)).sum(), tins)
    np.testing.assert_allclose(got["y"], ty.detach().numpy(), rtol=rtol, atol=atol)
    for i, want in enumerate(grads):
        np.testing.assert_allclose(got[f"d{i}"], want.numpy(), rtol=rtol, atol=atol,
                                   err_msg=f"gradient of input {i}")


def pos(*shape):
    return rand(*shape, lo=0.2, hi=2.0)


BUILDERS = [
    ("div", lambda g, a, b: a / b, lambda a, b: a / b, [rand(3, 4), pos(4)]),
    ("rdiv", lambda g, a: 2.0 / a, lambda a: 2.0 / a, [pos(3, 4)]),
    ("pow", lambda g, a, b: a ** b, torch.pow, [pos(2, 3), rand(3, lo=-2, hi=2)]),
    ("pow-scalar", lambda g, a: a ** 2.0, lambda a: a ** 2.0, [rand(5)]),
    ("maximum", lambda g, a, b: g.maximum(a, b), torch.maximum, [rand(3, 4), rand(4)]),
    ("minimum", lambda g, a, b: g.minimum(a, b), torch.minimum, [rand(3, 1), rand(1, 4)]),
    ("maximum-ties", lambda g, a, b: g.maximum(a, b), torch.maximum, [coarse(4, 4), coarse(4)]),
    ("neg", lambda g, a: -a, torch.neg, [rand(3)]),
    ("abs", lambda g, a: abs(a), torch.abs, [rand(3, 4)]),
    ("sign", lambda g, a: g.sign(a) * a, lambda a: torch.sign(a) * a, [rand(3, 4)]),
    ("exp", lambda g, a: g.exp(a), torch.exp, [rand(3, 4)]),
    ("log", lambda g, a: g.log(a), torch.log, [pos(3, 4)]),
    ("sqrt", lambda g, a: g.sqrt(a), torch.sqrt, [pos(3, 4)]),
    ("rsqrt", lambda g, a: g.rsqrt(a), torch.rsqrt, [pos(3, 4)]),
    ("reciprocal", lambda g, a: g.reciprocal(a), torch.reciprocal, [pos(3, 4)]),
    ("erf", lambda g, a: g.erf(a), torch.erf, [rand(3, 4)]),
    ("sin", lambda g, a: g.sin(a), torch.sin, [rand(3, 4)]),
    ("cos", lambda g, a: g.cos(a), torch.cos, [rand(3, 4)]),
    ("clamp", lambda g, a: g.clamp(a, -1.0, 0.5), lambda a: torch.clamp(a, -1.0, 0.5),
     [rand(3, 4)]),
    ("clamp-max", lambda g, a: g.clamp(a, max=0.5), lambda a: torch.clamp(a, max=0.5),
     [rand(3, 4)]),
    ("where", lambda g, a, b: g.where(g.gt(a, 0.0), a, b),
     lambda a, b: torch.where(a > 0, a, b), [rand(3, 4), rand(4)]),
    ("leaky_relu", lambda g, a: g.leaky_relu(a, 0.1), lambda a: F.leaky_relu(a, 0.1),
     [rand(3, 4)]),
    ("elu", lambda g, a: g.elu(a, 0.7), lambda a: F.elu(a, 0.7), [rand(3, 4)]),
    ("selu", lambda g, a: g.selu(a), F.selu, [rand(3, 4)]),
    ("softplus", lambda g, a: g.softplus(a), F.softplus, [rand(3, 4)]),
    ("softplus-beta", lambda g, a: g.softplus(a, beta=4.0), lambda a: F.softplus(a, beta=4.0),
     [rand(3, 6)]),
    ("gelu", lambda g, a: g.gelu(a), F.gelu, [rand(3, 4)]),
    ("gelu-tanh", lambda g, a: g.gelu(a, approximate="tanh"),
     lambda a: F.gelu(a, approximate="tanh"), [rand(3, 4)]),
    ("silu", lambda g, a: g.silu(a), F.silu, [rand(3, 4)]),
    ("hardsigmoid", lambda g, a: g.hardsigmoid(a), F.hardsigmoid, [rand(3, 4)]),
    ("hardswish", lambda g, a: g.hardswish(a), F.hardswish, [rand(3, 4)]),
    ("prelu-channels", lambda g, a, w: g.prelu(a, w), F.prelu, [rand(2, 3, 4), pos(3)]),
    ("prelu-one", lambda g, a, w: g.prelu(a, w), F.prelu, [rand(2, 3), pos(1)]),
    ("cast-f32", lambda g, a: g.cast(a, "float32") * a, lambda a: a.float() * a, [rand(3)]),
]


@pytest.mark.parametrize("build,torch_fn,arrays", [b[1:] for b in BUILDERS],
                         ids=[b[0] for b in BUILDERS])
def test_builder_and_gradient_rules(client, build, torch_fn, arrays):
    autograd_case(client, build, torch_fn, arrays)


def test_comparison_and_logic_builders(client):
    g = salus.Graph()
    a, b = g.input("a", (3, 4), dtype="int32"), g.input("b", (4,), dtype="int32")
    out = {"eq": g.eq(a, b), "lt": g.lt(a, 1), "le": g.le(a, b), "gt": g.gt(a, b),
           "ge": g.ge(a, 0)}
    out["and"] = g.logical_and(out["lt"], out["ge"])
    out["or"] = g.logical_or(out["eq"], out["gt"])
    out["xor"] = g.logical_xor(out["le"], out["ge"])
    out["not"] = g.logical_not(out["eq"])
    out["i64"] = g.cast(a, "int64")
    for k, v in out.items():
        g.output(v, k)
    av, bv = RNG.integers(-2, 3, size=(3, 4), dtype=np.int32), RNG.integers(-2, 3, 4,
                                                                             dtype=np.int32)
    with client.session(g, name="ew-logic") as s:
        got = s.run({"a": av, "b": bv})
    ta, tb = t(av), t(bv)
    want = {"eq": ta == tb, "lt": ta < 1, "le": ta <= tb, "gt": ta > tb, "ge": ta >= 0}
    want["and"] = want["lt"] & want["ge"]
    want["or"] = want["eq"] | want["gt"]
    want["xor"] = want["le"] ^ want["ge"]
    want["not"] = ~want["eq"]
    want["i64"] = ta.long()
    for k, w in want.items():
        np.testing.assert_array_equal(got[k], w.numpy(), err_msg=k)


def test_misuse_is_refused_with_the_node_named(client):
    g = salus.Graph()
    x, i = g.input("x", (2, 3)), g.input("i", (2, 3), dtype="int32")
    c = g.input("c", (2, 3), dtype="bool")
    with pytest.raises(salus.GraphError, match=r'"cmp" \(Less\): Less compares inputs of one '
                                               r'dtype, got A f32 and B i32'):
        g.op("Less", x, i, name="cmp")
    with pytest.raises(salus.GraphError, match=r'"w" \(Where\): Where needs X and Y of one dtype'):
        g.op("Where", c, x, i, name="w")
    with pytest.raises(salus.GraphError, match=r'"p" \(PRelu\): PRelu slope \[4\] does not '
                                               r'broadcast to X \[2, 3\]'):
        g.op("PRelu", x, g.input("s", (4,)), name="p")
    with pytest.raises(salus.GraphError, match=r'"k" \(Clip\): Clip min must be a scalar'):
        g.op("Clip", x, g.input("lo", (2,)), name="k")
    with pytest.raises(salus.GraphError, match=r'"cast" \(Cast\): Cast attribute "to" must be '
                                               r'one of f32, i32, i64, bool, f64; got "f16"'):
        g.op("Cast", x, to="f16", name="cast")
    with pytest.raises(salus.GraphError, match=r'"ge" \(Gelu\): Gelu attribute "approximate"'):
        g.op("Gelu", x, approximate="erf", name="ge")
    with pytest.raises(salus.GraphError, match=r"Exp"):
        g.exp(i)
    with pytest.raises(salus.GraphError, match=r"And"):
        g.logical_and(x, c)
    with pytest.raises(salus.GraphError, match="no gradient with respect to its bounds"):
        lo = g.input("lo0", ())
        g.gradients(g.reduce_sum(g.clamp(x, lo)), [lo])
    with pytest.raises(salus.GraphError, match="at least one of min and max"):
        g.clamp(x)
