"""Add, Sub, Mul and Div on every numeric dtype (float32, float64, int32,
int64) against PyTorch: integers wrap and Div truncates toward zero
(torch's rounding_mode="trunc"), float64 keeps what float32 cannot."""

import numpy as np
import pytest
import torch

import salus
from op_harness import check_op, run_op

RNG = np.random.default_rng(11)

SHAPES = [((3, 4), (3, 4)), ((2, 1, 4), (3, 1)), ((), (5,)), ((1,), (2, 3, 1, 2))]
TORCH = {"Add": torch.add, "Sub": torch.sub, "Mul": torch.mul,
         "Div": lambda a, b: torch.div(a, b, rounding_mode="trunc")}


def ints(shape, dtype):
    return RNG.integers(-1000, 1000, size=shape, dtype=dtype)


@pytest.mark.parametrize("op", sorted(TORCH))
@pytest.mark.parametrize("dtype", [np.int32, np.int64])
@pytest.mark.parametrize("shapes", SHAPES)
def test_integer_arithmetic_is_torch(client, op, dtype, shapes):
    a, b = ints(shapes[0], dtype), ints(shapes[1], dtype)
    b[b == 0] = 7  # torch refuses integer division by zero; Salus gives 0 (below)
    want = TORCH[op](torch.from_numpy(a), torch.from_numpy(b))
    (got,) = check_op(client, op, [a, b], want)
    assert got.dtype == dtype


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_integer_overflow_wraps_and_division_never_traps(client, dtype):
    info = np.iinfo(dtype)
    a = np.array([info.max, info.min, info.min, 9, -9], dtype)
    b = np.array([1, -1, -1, 0, 4], dtype)
    (s,) = run_op(client, "Add", [a, b])
    assert s[0] == info.min  # max + 1 wraps, as numpy and torch
    (q,) = run_op(client, "Div", [a, b])
    assert q.tolist() == [info.max, info.min, info.min, 0, -2]


@pytest.mark.parametrize("op", sorted(TORCH))
@pytest.mark.parametrize("shapes", SHAPES)
def test_double_arithmetic_is_torch(client, op, shapes):
    a = np.asarray(RNG.standard_normal(shapes[0]) * 1e198)
    b = np.asarray(RNG.standard_normal(shapes[1]) + 1e-12)
    fn = torch.div if op == "Div" else TORCH[op]  # true division for floats
    want = fn(torch.from_numpy(a), torch.from_numpy(b))
    (got,) = check_op(client, op, [a, b], want, rtol=0, atol=0)
    assert got.dtype == np.float64


def test_cast_to_and_from_double(client):
    x = np.array([1e198, -2.75, 1.0 + 1e-12], np.float64)
    (f,) = run_op(client, "Cast", [x], to="f32")
    assert f.dtype == np.float32 and np.isinf(f[0]) and f[1] == -2.75 and f[2] == 1.0
    (i,) = run_op(client, "Cast", [x[1:]], to="i64")
    assert i.tolist() == [-2, 1]
    (d,) = run_op(client, "Cast", [np.float32([0.1])], to="f64")
    assert d.dtype == np.float64 and d[0] == np.float64(np.float32(0.1))


def test_builder_arithmetic_keeps_the_dtype(client):
    g = salus.Graph()
    a = g.input("a", (3,), dtype="int64")
    y = g.output(g.div(g.add(a, 10), -3), "y")
    assert y.dtype is salus.int64
    with client.session(g) as s:
        got = s.run({"a": np.array([-20, 0, 5], np.int64)})["y"]
    assert got.tolist() == [3, -3, -5]


def test_mixed_or_unsupported_dtypes_are_refused_with_the_op_named(client):
    g = salus.Graph()
    i, j = g.input("i", (2,), dtype="int32"), g.input("j", (2,), dtype="int64")
    d = g.input("d", (2,), dtype="float64")
    with pytest.raises(salus.GraphError, match=r"Add needs A and B of one dtype, got A i32"):
        g.add(i, j)
    with pytest.raises(salus.GraphError, match=r"dtype f64 is not supported by Exp"):
        g.op("Exp", d)


def test_no_gradient_through_integers(client):
    # Integers join a float path only through Cast, whose rule refuses them.
    g = salus.Graph()
    w = g.variable("w", np.ones(3, np.float32))
    k = g.cast(w, "int32")
    loss = g.reduce_sum(g.cast(g.mul(k, k), "float32"))
    with pytest.raises(salus.GraphError, match=r"cast .* to or from int32 has no gradient"):
        g.gradients(loss, [w])
