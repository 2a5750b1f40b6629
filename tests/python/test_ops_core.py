"""The MLP ops against PyTorch, through Graph.op and the daemon's own shape
rules: the pattern every op family's tests follow (op_harness.py)."""

import numpy as np
import pytest
import torch

import salus
from op_harness import check_op, run_op

RNG = np.random.default_rng(7)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def test_op_names_are_the_catalogue():
    names = salus.op_names()
    assert len(names) == len(set(names)) and "MatMul" in names and "AdamUpdate" in names


@pytest.mark.parametrize("op,fn", [("Add", torch.add), ("Sub", torch.sub), ("Mul", torch.mul)])
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((2, 1, 4), (3, 1)), ((), (5,)),
                                    ((1,), (2, 3, 1, 2))])
def test_broadcast_binary(client, op, fn, shapes):
    a, b = rand(*shapes[0]), rand(*shapes[1])
    check_op(client, op, [a, b], fn(torch.from_numpy(a), torch.from_numpy(b)), rtol=0, atol=0)


@pytest.mark.parametrize("op,fn,tol", [("Relu", torch.relu, 0), ("Sigmoid", torch.sigmoid, 1e-6),
                                       ("Tanh", torch.tanh, 1e-6)])
def test_activations(client, op, fn, tol):
    x = rand(4, 5)
    check_op(client, op, [x], fn(torch.from_numpy(x)), rtol=tol, atol=tol)


@pytest.mark.parametrize("ta", [0, 1])
@pytest.mark.parametrize("tb", [0, 1])
def test_matmul(client, ta, tb):
    a = rand(*((5, 3) if ta else (3, 5)))
    b = rand(*((4, 5) if tb else (5, 4)))
    ta_, tb_ = torch.from_numpy(a), torch.from_numpy(b)
    want = (ta_.T if ta else ta_) @ (tb_.T if tb else tb_)
    check_op(client, "MatMul", [a, b], want, rtol=1e-5, atol=1e-5, transA=ta, transB=tb)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax(client, axis):
    x = rand(3, 4, 5)
    check_op(client, "Softmax", [x], torch.softmax(torch.from_numpy(x), axis), rtol=1e-5,
             atol=1e-6, axis=axis)


@pytest.mark.parametrize("axes,keepdims", [(None, 1), ([0], 0), ([-1, 1], 1), ([2], 0)])
def test_reductions(client, axes, keepdims):
    x = rand(2, 3, 4)
    tx = torch.from_numpy(x)
    dims = list(range(3)) if axes is None else axes
    attrs = {"keepdims": keepdims} if axes is None else {"axes": axes, "keepdims": keepdims}
    check_op(client, "ReduceSum", [x], tx.sum(dims, keepdim=bool(keepdims)), rtol=1e-5,
             atol=1e-5, **attrs)
    check_op(client, "ReduceMean", [x], tx.mean(dims, keepdim=bool(keepdims)), rtol=1e-5,
             atol=1e-6, **attrs)


def test_defaults_come_from_the_schema(client):
    # Softmax's axis defaults to -1 in the daemon; nothing here says so.
    x = rand(2, 6)
    check_op(client, "Softmax", [x], torch.softmax(torch.from_numpy(x), -1), rtol=1e-5,
             atol=1e-6)


def test_misuse_is_refused_at_the_line_with_the_node_named(client):
    g = salus.Graph()
    a, b = g.input("a", (2, 3)), g.input("b", (4, 5))
    with pytest.raises(salus.GraphError, match=r'node 0 "mm" \(MatMul\): MatMul inner dimensions'):
        g.op("MatMul", a, b, name="mm")
    with pytest.raises(salus.GraphError, match=r'unknown op "Frobnicate"'):
        g.op("Frobnicate", a)
    with pytest.raises(salus.GraphError, match=r'unknown attribute "axs" for Softmax'):
        g.op("Softmax", a, axs=0)
    assert not g.nodes


def test_bool_and_integer_dtypes_pass_through(client):
    mask = RNG.random((3, 4)) > 0.5
    (got,) = run_op(client, "Identity", [mask])
    assert got.dtype == np.bool_ and np.array_equal(got, mask)
