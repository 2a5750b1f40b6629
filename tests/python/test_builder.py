"""The graph builder without a daemon: shapes inferred and checked as ops are
added, clear errors at the line of the mistake, names, outputs, and the
structure of gradients."""

import os
import re

import numpy as np
import pytest

import salus

DOC_OPS = os.path.join(os.path.dirname(__file__), "..", "..", "doc", "ops.md")

# doc/ops.md op -> the Graph method that emits it.
METHODS = {
    "MatMul": "matmul", "Add": "add", "Sub": "sub", "Mul": "mul", "Relu": "relu",
    "ReluGrad": "relu_grad", "Sigmoid": "sigmoid", "SigmoidGrad": "sigmoid_grad",
    "Tanh": "tanh", "TanhGrad": "tanh_grad", "Softmax": "softmax",
    "SoftmaxGrad": "softmax_grad", "SoftmaxCrossEntropy": "softmax_cross_entropy",
    "SoftmaxCrossEntropyGrad": "softmax_cross_entropy_grad", "OneHot": "one_hot",
    "ReduceSum": "reduce_sum", "ReduceMean": "reduce_mean", "Expand": "expand",
    "Reshape": "reshape", "Transpose": "transpose", "Identity": "identity",
    "SGDUpdate": "sgd_update", "AdamUpdate": "adam_update",
}


def test_every_op_of_the_catalogue_has_a_method():
    with open(DOC_OPS) as f:
        # The catalogue is the first table; later sections (per backend) come
        # under their own headings.
        catalogue = f.read().split("\n## ")[0]
    documented = re.findall(r"^\| `(\w+)` \|", catalogue, re.M)
    assert len(documented) >= 23
    assert sorted(documented) == sorted(METHODS)
    for method in METHODS.values():
        assert callable(getattr(salus.Graph, method)), method


@pytest.fixture
def g():
    return salus.Graph()


def test_shapes_are_inferred(g):
    x = g.input("x", (8, 4))
    w = g.variable("w", np.zeros((4, 3)))
    b = g.variable("b", np.zeros(3))
    h = x @ w + b
    assert h.shape == (8, 3) and h.dtype is salus.float32
    assert g.matmul(x, w, transpose_a=False).shape == (8, 3)
    assert g.matmul(w, x, transpose_a=True, transpose_b=True).shape == (3, 8)
    assert h.sum().shape == ()
    assert h.sum(axis=0).shape == (3,)
    assert h.mean(axis=(0, 1), keepdims=True).shape == (1, 1)
    assert g.reduce_sum(h, axis=-1, keepdims=True).shape == (8, 1)
    assert h.reshape(-1).shape == (24,)
    assert h.reshape(4, 6).shape == (4, 6)
    assert h.T.shape == (3, 8)
    assert g.transpose(g.expand(b, (2, 5, 3)), (2, 0, 1)).shape == (3, 2, 5)
    assert g.softmax(h, axis=0).shape == (8, 3)
    assert (h * 2.0 - 1.0).shape == (8, 3)
    assert (-h).shape == (8, 3)


def test_integer_labels_go_through_one_hot(g):
    logits = g.input("logits", (5, 7))
    labels = g.input("labels", (5,), dtype="int64")
    loss = g.softmax_cross_entropy(logits, labels, name="loss")
    assert loss.shape == () and loss.name == "loss"
    hot = loss.node.inputs[1]
    assert hot.node.op == "OneHot" and hot.shape == (5, 7) and hot.dtype is salus.float32
    assert hot.node.attrs == {"depth": 7}


def test_identity_and_reshape_keep_any_dtype(g):
    for dt in (salus.float16, salus.bfloat16, salus.int32, salus.int64):
        t = g.input(f"in_{dt.name}", (2, 3), dtype=dt)
        assert g.identity(t).dtype is dt
        assert g.reshape(t, (3, 2)).dtype is dt


@pytest.mark.parametrize("build, message", [
    (lambda g: g.input("a", (4, 3)) @ g.input("b", (4, 3)),
     "matmul: inner dimensions differ: (4, 3) times (4, 3)"),
    (lambda g: g.matmul(g.input("a", (4,)), g.input("b", (4, 3))),
     "matmul: needs rank-2 operands, got (4,) and (4, 3)"),
    (lambda g: g.input("a", (4, 3)) + g.input("b", (4,)),
     "add: shapes (4, 3) and (4,) do not broadcast"),
    (lambda g: g.input("a", (2, 3)).reshape(4, 2),
     "reshape: cannot reshape (2, 3) (6 elements) to (4, 2) (8 elements)"),
    (lambda g: g.input("a", (2, 3)).reshape(-1, -1),
     "reshape: shape (-1, -1) has more than one -1"),
    (lambda g: g.transpose(g.input("a", (2, 3)), (0, 0)),
     "transpose: perm (0, 0) is not a permutation of the 2 axes of (2, 3)"),
    (lambda g: g.expand(g.input("a", (2, 3)), (3, 3)), "expand: cannot broadcast (2, 3) to (3, 3)"),
    (lambda g: g.reduce_sum(g.input("a", (2, 3)), axis=2),
     "reduce_sum: axis 2 is out of range for input (2, 3) of rank 2"),
    (lambda g: g.reduce_mean(g.input("a", (2, 3)), axis=(0, -2)),
     "reduce_mean: axes (0, -2) name an axis of (2, 3) more than once"),
    (lambda g: g.reduce_sum(g.input("a", (2, 3)), axis=()), "reduce_sum: axis () reduces nothing"),
    (lambda g: g.softmax(g.input("a", (2, 3)), axis=-3),
     "softmax: axis -3 is out of range for x (2, 3) of rank 2"),
    (lambda g: g.softmax_cross_entropy(g.input("l", (4, 3)), g.input("y", (4, 2))),
     "softmax_cross_entropy: needs logits and labels of one [N, C] shape, got logits (4, 3) "
     "and labels (4, 2)"),
    (lambda g: g.softmax_cross_entropy(g.input("l", (4, 3)), g.input("y", (5,), dtype="int32")),
     "softmax_cross_entropy: integer labels must be [N] for logits [N, C], got labels (5,)"),
    (lambda g: g.relu(g.input("i", (3,), dtype="int32")),
     "relu: x (tensor 'i') is int32; relu takes float32"),
    (lambda g: g.one_hot(g.input("f", (3,)), 4),
     "one_hot: indices (tensor 'f') are float32; one_hot takes int32 or int64"),
    (lambda g: g.one_hot(g.input("i", (3,), dtype="int32"), 0),
     "one_hot: depth must be positive, got 0"),
    (lambda g: g.input("x", (2, 0)), "x: shape (2, 0) has a non-positive dimension"),
    (lambda g: g.input("x", (1,) * 9), "x: shape (1, 1, 1, 1, 1, 1, 1, 1, 1) has rank 9"),
    (lambda g: g.relu_grad(g.input("dy", (2, 3)), g.input("x", (3, 2))),
     "relu_grad: needs dy and x of one shape, got dy (2, 3), x (3, 2)"),
    (lambda g: g.sgd_update(g.input("x", (3,)), g.input("dx", (3,)), 0.1),
     "sgd_update: var (tensor 'x') is input; only variables are updated in place"),
    (lambda g: g.sgd_update(g.variable("w", np.zeros(3)), g.input("dw", (4,)), 0.1),
     "sgd_update: needs var and grad of one shape, got var (3,), grad (4,)"),
])
def test_mistakes_raise_where_they_are_made(g, build, message):
    with pytest.raises(salus.GraphError) as e:
        build(g)
    assert message in str(e.value)
    assert isinstance(e.value, ValueError)


def test_names(g):
    x = g.input("x", (2,))
    with pytest.raises(salus.GraphError, match="already has a tensor named 'x'"):
        g.variable("x", np.zeros(2))
    with pytest.raises(salus.GraphError, match="non-empty strings"):
        g.input("", (2,))
    r = g.relu(x, name="act")
    assert r.name == "act" and g["act"] is r
    with pytest.raises(salus.GraphError, match="already has a tensor named 'act'"):
        g.sigmoid(x, name="act")
    auto = [g.tanh(x) for _ in range(3)]
    assert len({t.name for t in auto}) == 3
    other = salus.Graph().input("o", (2,))
    with pytest.raises(salus.GraphError, match="belongs to another graph"):
        g.add(x, other)
    with pytest.raises(salus.GraphError, match="no tensor named 'nope'"):
        g["nope"]


def test_outputs(g):
    x = g.input("x", (2,))
    y = g.output(g.relu(x, name="y"))
    g.output(x, name="x_again")
    assert g.outputs == {"y": y, "x_again": x}
    g.output(y)  # declaring again is harmless
    with pytest.raises(salus.GraphError, match="output 'y' is already tensor 'y'"):
        g.output(x, name="y")
    g.output(x, name="third")  # one tensor under two names
    assert g.outputs == {"y": y, "x_again": x, "third": x}


def test_variables_take_their_values(g):
    start = np.arange(6, dtype=np.float32).reshape(2, 3)
    kept = g.variable("kept", start)
    start[0, 0] = 100  # the graph took a copy
    assert g.value(kept)[0, 0] == 0
    w = g.variable("w", np.arange(6.0).reshape(2, 3))  # float64 becomes float32
    assert w.dtype is salus.float32 and w.shape == (2, 3)
    assert g.value(w).dtype == np.float32
    i = g.constant("i", [1, 2, 3])
    assert i.dtype is salus.int64
    h = g.variable("h", np.ones(2, np.float16))
    assert h.dtype is salus.float16
    bf = g.constant("bf", [1.0, -2.5], dtype="bfloat16")
    assert bf.dtype is salus.bfloat16
    assert np.array_equal(salus.from_bfloat16(g.value(bf)), [1.0, -2.5])
    with pytest.raises(salus.InvalidArgumentError, match="unsupported dtype"):
        g.variable("c", np.zeros(2, np.complex64))


def test_one_update_per_variable(g):
    w = g.variable("w", np.zeros(3))
    dw = g.input("dw", (3,))
    g.sgd_update(w, dw, 0.1)
    with pytest.raises(salus.GraphError, match="variable 'w' is already updated"):
        g.sgd_update(w, dw, 0.1)


def test_gradients_structure(g):
    x = g.input("x", (4, 3))
    w = g.variable("w", np.zeros((3, 2)))
    unused = g.variable("unused", np.zeros(2))
    loss = g.reduce_sum(g.relu(x @ w))
    (dw,) = g.gradients(loss, [w])
    assert dw.shape == (3, 2) and dw.dtype is salus.float32
    ops = {n.op for n in g.nodes}
    assert {"ReluGrad", "MatMul", "Expand"} <= ops
    with pytest.raises(salus.GraphError, match="does not depend on 'unused'"):
        g.gradients(loss, [unused])
    with pytest.raises(salus.GraphError, match="loss must be a scalar"):
        g.sgd(x @ w, [w])


def test_no_gradient_through_backward_ops_or_labels(g):
    x = g.input("x", (2, 3))
    w = g.variable("w", np.ones((2, 3)))
    through_grad_op = g.reduce_sum(g.relu_grad(w, x))
    with pytest.raises(salus.GraphError, match="op ReluGrad .* has no gradient"):
        g.gradients(through_grad_op, [w])
    soft = g.variable("soft", np.full((2, 3), 1 / 3))
    loss = g.softmax_cross_entropy(x, soft)
    with pytest.raises(salus.GraphError, match="no gradient with respect to its labels"):
        g.gradients(loss, [soft])


def test_sgd_and_adam_add_their_updates(g):
    x = g.input("x", (4, 3))
    y = g.input("y", (4,), dtype="int32")
    w = g.variable("w", np.zeros((3, 2)))
    b = g.variable("b", np.zeros(2))
    loss = g.softmax_cross_entropy(x @ w + b, y, name="loss")
    grads = g.adam(loss, lr=0.01)  # every float32 variable by default
    assert [t.shape for t in grads] == [(3, 2), (2,)]
    assert "loss" in g.outputs
    adam = [n for n in g.nodes if n.op == "AdamUpdate"]
    assert [n.inputs[0] for n in adam] == [w, b]
    assert g["w/adam_step"].shape == () and g["b/adam_m"].shape == (2,)
    assert adam[0].attrs == {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
    with pytest.raises(salus.GraphError, match="no variables to train"):
        g.sgd(loss)  # every variable is updated already


def test_dtype_names():
    assert salus.dtype("f4") is salus.float32
    assert salus.dtype(np.int32) is salus.int32
    assert salus.dtype(np.dtype("int64")) is salus.int64
    assert salus.dtype("bf16") is salus.bfloat16
    with pytest.raises(salus.InvalidArgumentError, match="ask for|unsupported"):
        salus.dtype(np.uint16)


def test_bfloat16_conversion_rounds_to_nearest_even():
    values = np.array([1.0, -2.0, 3.14159, 1e-3, 65504.0, np.inf, 1 + 2**-8, 1 + 3 * 2**-8],
                      np.float32)
    bits = salus.to_bfloat16(values)
    assert bits.dtype == np.uint16
    back = salus.from_bfloat16(bits)
    assert np.array_equal(back[[0, 1, 5]], values[[0, 1, 5]])
    assert np.allclose(back, values, rtol=2**-8)
    assert back[6] == 1.0  # a tie rounds to even
    assert back[7] == 1 + 2**-6
    assert np.isnan(salus.from_bfloat16(salus.to_bfloat16(np.float32("nan"))))
