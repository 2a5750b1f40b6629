"""The shape family (doc/ops.md: Concat ... Gemm, batched MatMul) against
PyTorch through a real salusd: every op forward on random inputs across its
attributes (size-1 and empty axes included), the backward ops against torch
autograd and, for a subset, finite differences; the builder methods and
their gradient rules through g.gradients against torch autograd.

Tolerances: data movement is exact (rtol = atol = 0); its gradients sum at
most a few float32 terms of order 1, exact to 1e-6; MatMul and Gemm sum K
products of order 1 in another order than torch, within 1e-5 relative plus
1e-5 absolute for K <= 16."""

import numpy as np
import pytest
import torch

import salus
from op_harness import check_op, grad_check, run_op

RNG = np.random.default_rng(17)
MM = dict(rtol=1e-5, atol=1e-5)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def t(a):
    return torch.from_numpy(np.array(a))  # a copy: contiguous, 0-d kept


def idx(values, dtype=np.int64):
    return np.asarray(values, dtype=dtype)


# ---- forward ------------------------------------------------------------------------


@pytest.mark.parametrize("shapes,axis", [([(2, 3), (4, 3)], 0),
                                         ([(2, 3, 4), (2, 1, 4), (2, 5, 4)], -2),
                                         ([(3, 1), (3, 5), (3, 2)], 1), ([(5,)], 0)])
@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.bool_])
def test_concat(client, shapes, axis, dtype):
    xs = [(rand(*s) > 0).astype(dtype) if dtype == np.bool_ else (rand(*s) * 10).astype(dtype)
          for s in shapes]
    check_op(client, "Concat", xs, torch.cat([t(x) for x in xs], axis), rtol=0, atol=0, axis=axis)


@pytest.mark.parametrize("shape,axis,attrs,sizes", [
    ((7, 3), 0, {"split": [2, 4, 1]}, [2, 4, 1]),
    ((2, 10, 3), 1, {"num_outputs": 3}, [4, 4, 2]),
    ((4, 6), -1, {"num_outputs": 2}, [3, 3]),
    ((1, 5), 1, {"split": [5]}, [5])])
def test_split(client, shape, axis, attrs, sizes):
    x = rand(*shape)
    want = torch.split(t(x), sizes, dim=axis)
    check_op(client, "Split", [x], list(want), rtol=0, atol=0, axis=axis, **attrs)


SLICES = [  # shape, starts, ends, axes, steps, numpy key
    ((10,), [2], [8], None, None, np.s_[2:8]),
    ((10,), [-3], [100], None, None, np.s_[-3:100]),
    ((10,), [9], [-100], None, [-2], np.s_[9::-2]),
    ((10,), [7], [2], [0], [-1], np.s_[7:2:-1]),
    ((4, 6, 5), [1, -1], [3, 0], [0, 2], [1, -2], np.s_[1:3, :, -1:0:-2]),
    ((4, 6, 5), [0, 1], [6, 6], [-3, 2], [4, 2], np.s_[0:6:4, :, 1:6:2]),
    ((3, 4), [-7], [7], [1], None, np.s_[:, -7:7]),
    ((3, 1, 8), [0], [8], [2], [3], np.s_[:, :, 0:8:3]),
]


@pytest.mark.parametrize("shape,starts,ends,axes,steps,key", SLICES)
def test_slice_and_its_gradient(client, shape, starts, ends, axes, steps, key):
    x = rand(*shape)
    attrs = {"starts": starts, "ends": ends}
    if axes is not None:
        attrs["axes"] = axes
    if steps is not None:
        attrs["steps"] = steps
    # numpy's basic slicing is the reference: torch has no negative steps.
    want = x[key]
    check_op(client, "Slice", [x], want, rtol=0, atol=0, **attrs)
    dy = rand(*want.shape)
    dx = np.zeros_like(x)
    dx[key] = dy
    check_op(client, "SliceGrad", [dy], dx, rtol=0, atol=0, shape=list(shape), **attrs)


@pytest.mark.parametrize("shape,axes", [((1, 3, 1, 2), None), ((1, 3, 1, 2), [-2]), ((1,), [0])])
def test_squeeze(client, shape, axes):
    x = rand(*shape)
    want = t(x).squeeze() if axes is None else t(x).squeeze(axes[0])
    check_op(client, "Squeeze", [x], want, rtol=0, atol=0,
             **({} if axes is None else {"axes": axes}))


@pytest.mark.parametrize("shape,axes,want_shape", [((3, 2), [0, -1], (1, 3, 2, 1)), ((), [0], (1,)),
                                                   ((2,), [1, 0], (1, 1, 2))])
def test_unsqueeze(client, shape, axes, want_shape):
    x = rand(*shape)
    check_op(client, "Unsqueeze", [x], x.reshape(want_shape), rtol=0, atol=0, axes=axes)


@pytest.mark.parametrize("shape,axis", [((2, 3, 4), 1), ((2, 3, 4), 0), ((2, 3, 4), -1),
                                        ((2, 3, 4), 3), ((5,), 1)])
def test_flatten(client, shape, axis):
    x = rand(*shape)
    a = axis + len(shape) if axis < 0 else axis
    want = x.reshape(int(np.prod(shape[:a])), int(np.prod(shape[a:])))
    check_op(client, "Flatten", [x], want, rtol=0, atol=0, axis=axis)


@pytest.mark.parametrize("shape,repeats", [((2, 3), [2, 3]), ((3,), [4]), ((2, 1, 3), [1, 5, 2]),
                                           ((4, 2), [1, 2]), ((1, 7), [3, 1])])
def test_tile_and_its_gradient(client, shape, repeats):
    x = rand(*shape)
    tx = t(x).requires_grad_()
    y = tx.repeat(*repeats)
    check_op(client, "Tile", [x], y, rtol=0, atol=0, repeats=repeats)
    dy = rand(*y.shape)
    y.backward(t(dy))
    check_op(client, "TileGrad", [dy], tx.grad, rtol=1e-6, atol=1e-6, shape=list(shape))


@pytest.mark.parametrize("shape,indices,axis", [((10, 4), [3, 0, -1, 3], 0),
                                                ((8, 3), [[1, 2], [7, -8]], 0),
                                                ((2, 9, 3), [4, 4, 0], 1), ((3, 8), [5], -1),
                                                ((12,), 3, 0)])
@pytest.mark.parametrize("itype", [np.int32, np.int64])
def test_gather_and_its_gradient(client, shape, indices, axis, itype):
    x = rand(*shape)
    i = idx(indices, itype)
    tx = t(x).requires_grad_()
    ti = torch.from_numpy(np.asarray(np.where(i < 0, i + shape[axis], i), np.int64))
    y = torch.index_select(tx, axis, ti.reshape(-1)).reshape(
        shape[:axis % len(shape)] + i.shape + shape[axis % len(shape) + 1:])
    check_op(client, "Gather", [x, i], y, rtol=0, atol=0, axis=axis)
    dy = rand(*y.shape)
    y.backward(t(dy))
    check_op(client, "GatherGrad", [dy, i], tx.grad, rtol=1e-6, atol=1e-6, shape=list(shape),
             axis=axis)


@pytest.mark.parametrize("shape,ishape,axis", [((8, 3), (5, 3), 0), ((3, 9), (2, 4), 1),
                                               ((2, 8, 3), (2, 6, 2), -2), ((4,), (6,), 0)])
def test_gather_elements_and_its_gradient(client, shape, ishape, axis):
    x = rand(*shape)
    n = shape[axis]
    i = RNG.integers(-n, n, size=ishape).astype(np.int64)
    tx = t(x).requires_grad_()
    y = torch.gather(tx, axis, t(np.where(i < 0, i + n, i)))
    check_op(client, "GatherElements", [x, i], y, rtol=0, atol=0, axis=axis)
    dy = rand(*ishape)
    y.backward(t(dy))
    check_op(client, "GatherElementsGrad", [dy, i], tx.grad, rtol=1e-6, atol=1e-6,
             shape=list(shape), axis=axis)


@pytest.mark.parametrize("op", ["Gather", "GatherElements"])
def test_an_index_out_of_range_fails_the_iteration(client, op):
    x = rand(4, 4)
    i = idx([[0, 4]] if op == "GatherElements" else [0, 4])
    with pytest.raises(salus.ExecutionError, match=r'node.*index 4 \(indices element 1\) is out '
                                                   r'of range for an axis of extent 4'):
        run_op(client, op, [x, i])


@pytest.mark.parametrize("sa,sb,ta,tb", [((2, 3, 4), (2, 4, 5), 0, 0), ((2, 3, 4), (4, 5), 0, 0),
                                         ((3, 4), (2, 4, 5), 0, 0), ((2, 1, 3, 4), (3, 5, 4), 0, 1),
                                         ((4, 2, 4, 3), (4, 1, 4, 5), 1, 0),
                                         ((2, 3, 5, 4), (1, 3, 4, 5), 1, 1),
                                         ((6, 7, 16), (16, 9), 0, 0), ((2, 1, 3, 4), (4, 5), 0, 0),
                                         ((1, 1), (3, 1, 2), 0, 0)])
def test_batched_matmul(client, sa, sb, ta, tb):
    a, b = rand(*sa), rand(*sb)
    ta_, tb_ = t(a), t(b)
    want = torch.matmul(ta_.transpose(-1, -2) if ta else ta_, tb_.transpose(-1, -2) if tb else tb_)
    check_op(client, "MatMul", [a, b], want, transA=ta, transB=tb, **MM)


@pytest.mark.parametrize("sa,sb,sc,alpha,beta,ta,tb", [
    ((3, 4), (4, 5), None, 1.0, 1.0, 0, 0), ((3, 4), (4, 5), (5,), 1.0, 1.0, 0, 0),
    ((3, 4), (4, 5), (3, 1), 0.5, -2.0, 0, 0), ((4, 3), (5, 4), (3, 5), 1.0, 1.0, 1, 1),
    ((2, 6), (6, 3), (2, 3), 2.0, 0.0, 0, 0), ((3, 1), (1, 2), (1,), 1.0, 3.0, 0, 0)])
def test_gemm(client, sa, sb, sc, alpha, beta, ta, tb):
    a, b = rand(*sa), rand(*sb)
    ins = [a, b]
    pa, pb = (t(a).T if ta else t(a)), (t(b).T if tb else t(b))
    want = alpha * (pa @ pb)
    if sc is not None:
        c = rand(*sc)
        ins.append(c)
        want = torch.addmm(t(c).expand(want.shape), pa, pb, beta=beta, alpha=alpha)
    check_op(client, "Gemm", ins, want, alpha=alpha, beta=beta, transA=ta, transB=tb, **MM)


# ---- finite differences for the backward ops --------------------------------------------
# op_harness.grad_check gives the forward op's attributes to the backward op
# too; these backward ops take the forward input's shape besides, so the
# central differences are taken here, with the same step and tolerances.


def finite_difference_check(client, forward, backward, x, others, fwd_attrs, bwd_inputs,
                            bwd_attrs, eps=1e-2, rtol=2e-2, atol=2e-3):
    dy = rand(*run_op(client, forward, [x] + others, **fwd_attrs)[0].shape).astype(np.float64)
    got = run_op(client, backward, bwd_inputs(dy.astype(np.float32)), **bwd_attrs)[0]
    numeric = np.zeros(x.size)
    for k in range(x.size):
        f = []
        for sign in (1, -1):
            v = x.copy()
            v.reshape(-1)[k] += sign * eps
            f.append(float(np.sum(run_op(client, forward, [v] + others, **fwd_attrs)[0] * dy)))
        numeric[k] = (f[0] - f[1]) / (2 * eps)
    np.testing.assert_allclose(got.reshape(-1), numeric, rtol=rtol, atol=atol)


def test_slice_grad_by_finite_differences(client):
    attrs = dict(starts=[3, 0], ends=[0, 3], steps=[-2, 2])
    finite_difference_check(client, "Slice", "SliceGrad", rand(4, 3), [], attrs,
                            lambda dy: [dy], dict(shape=[4, 3], **attrs))


def test_gather_grad_by_finite_differences(client):
    i = idx([4, 0, 4, -1])
    finite_difference_check(client, "Gather", "GatherGrad", rand(5, 2), [i], {},
                            lambda dy: [dy, i], dict(shape=[5, 2]))


def test_gather_elements_grad_by_finite_differences(client):
    i = idx([[1, 1, 0]])
    finite_difference_check(client, "GatherElements", "GatherElementsGrad", rand(2, 3), [i],
                            dict(axis=0), lambda dy: [dy, i], dict(shape=[2, 3], axis=0))


def test_tile_grad_by_finite_differences(client):
    finite_difference_check(client, "Tile", "TileGrad", rand(2, 2), [], dict(repeats=[2, 1]),
                            lambda dy: [dy], dict(shape=[2, 2]))


# ---- builder methods and gradient rules against torch autograd ----------------------------


def autograd_check(client, build, torch_fn, floats, others=(), rtol=1e-5, atol=1e-5):
    """y = build(g, *inputs) in salusd and torch_fn(*tensors) in torch: the
    values, and the gradients of sum(y * r) for the float inputs."""
    g = salus.Graph()
    arrays = list(floats) + list(others)
    ins = [g.input(f"x{k}", a.shape, dtype=a.dtype) for k, a in enumerate(arrays)]
    y = build(g, *ins)
    ys = list(y) if isinstance(y, tuple) else [y]
    tins = [t(a).requires_grad_() for a in floats] + [t(a) for a in others]
    tys = torch_fn(*tins)
    tys = list(tys) if isinstance(tys, (tuple, list)) else [tys]
    # Every output weighted, except the last of several: its gradient is None.
    used = ys[:-1] if len(ys) > 1 else ys
    rs = [rand(*o.shape) for o in used]
    loss = None
    for o, r in zip(used, rs):
        term = g.reduce_sum(o * g.constant(g._auto_name("r"), r))
        loss = term if loss is None else loss + term
    grads = g.gradients(loss, ins[:len(floats)])
    for k, o in enumerate(ys):
        g.output(o, name=f"y{k}")
    for k, d in enumerate(grads):
        g.output(d, name=f"d{k}")
    with client.session(g, name="autograd") as s:
        got = s.run({f"x{k}": a for k, a in enumerate(arrays)})
    for k, ty in enumerate(tys):
        np.testing.assert_allclose(got[f"y{k}"], ty.detach().numpy(), rtol=rtol, atol=atol)
    sum(((ty * t(r)).sum() for ty, r in zip(tys, rs))).backward()
    for k, tx in enumerate(tins[:len(floats)]):
        np.testing.assert_allclose(got[f"d{k}"], tx.grad.numpy(), rtol=rtol, atol=atol,
                                   err_msg=f"gradient of input {k}")


def test_builder_cat_and_split(client):
    a, b = rand(2, 3), rand(2, 5)
    autograd_check(client, lambda g, x, y: g.split(g.cat([x, y], axis=1) * 2.0, 3, dim=1),
                   lambda x, y: torch.split(torch.cat([x, y], 1) * 2.0, 3, dim=1), [a, b])
    autograd_check(client, lambda g, x: g.split(x, [1, 3], dim=0),
                   lambda x: torch.split(x, [1, 3], dim=0), [rand(4, 2)])


@pytest.mark.parametrize("key", [np.s_[1:3, ::2], np.s_[-1], np.s_[..., 1], np.s_[::-1, None, 1:],
                                 np.s_[0, 2], np.s_[:, -2:0:-1]])
def test_builder_indexing(client, key):
    x = rand(4, 5)

    def torch_index(v):  # torch has no negative steps: flip those axes
        if key == np.s_[::-1, None, 1:]:
            return v.flip(0)[:, None, 1:]
        if key == np.s_[:, -2:0:-1]:
            return v[:, 1:4].flip(1)
        return v[key]
    autograd_check(client, lambda g, v: v[key] * 1.0, torch_index, [x], rtol=0, atol=0)


def test_builder_indexing_out_of_range(client):
    g = salus.Graph()
    with pytest.raises(IndexError):
        g.input("x", (3, 2))[3]


def test_builder_squeeze_unsqueeze_flatten_tile(client):
    autograd_check(client, lambda g, x: g.squeeze(x, 1), lambda x: x.squeeze(1), [rand(3, 1, 2)])
    autograd_check(client, lambda g, x: g.squeeze(x), lambda x: x.squeeze(), [rand(1, 3, 1)])
    autograd_check(client, lambda g, x: g.unsqueeze(x, -1), lambda x: x.unsqueeze(-1), [rand(3, 2)])
    autograd_check(client, lambda g, x: g.flatten(x), lambda x: torch.flatten(x, 1),
                   [rand(2, 3, 4)])
    autograd_check(client, lambda g, x: g.tile(x, (2, 1, 3)), lambda x: torch.tile(x, (2, 1, 3)),
                   [rand(2, 2)])
    autograd_check(client, lambda g, x: g.tile(x, (2,)), lambda x: torch.tile(x, (2,)),
                   [rand(2, 3)])


def test_builder_slice(client):
    autograd_check(client, lambda g, x: g.slice(x, [1, 0], [3, 4], steps=[1, 2]),
                   lambda x: x[1:3, 0:4:2], [rand(4, 4)], rtol=0, atol=0)


def test_builder_gather_and_embedding(client):
    i = idx([[1, 0, 3], [3, 3, -1]])
    pos = torch.from_numpy(np.where(i < 0, i + 4, i))
    autograd_check(client, lambda g, w, ix: g.embedding(ix, w),
                   lambda w, ix: torch.nn.functional.embedding(pos, w), [rand(4, 3)], [i])
    autograd_check(client, lambda g, x, ix: g.gather(x, ix, axis=1),
                   lambda x, ix: x[:, pos], [rand(2, 4)], [i])


def test_builder_gather_elements(client):
    i = RNG.integers(0, 3, size=(2, 5)).astype(np.int64)
    autograd_check(client, lambda g, x, ix: g.gather_elements(x, 1, ix),
                   lambda x, ix: torch.gather(x, 1, ix), [rand(2, 3)], [i])


@pytest.mark.parametrize("sa,sb", [((2, 3, 4), (2, 4, 5)), ((2, 3, 4), (4, 5)), ((3, 4), (2, 4, 5)),
                                   ((2, 1, 3, 4), (3, 4, 2)), ((4,), (2, 4, 3)), ((2, 3, 4), (4,)),
                                   ((4,), (4,))])
def test_builder_batched_matmul(client, sa, sb):
    autograd_check(client, lambda g, a, b: a @ b, torch.matmul, [rand(*sa), rand(*sb)], **MM)


@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
def test_builder_batched_matmul_transposed(client, ta, tb):
    sa = (3, 4, 2) if ta else (3, 2, 4)
    sb = (5, 4) if tb else (4, 5)
    autograd_check(client, lambda g, a, b: g.matmul(a, b, transpose_a=ta, transpose_b=tb),
                   lambda a, b: torch.matmul(a.transpose(-1, -2) if ta else a,
                                             b.T if tb else b), [rand(*sa), rand(*sb)], **MM)


@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
@pytest.mark.parametrize("sc", [None, (5,), (3, 1)])
def test_builder_gemm(client, ta, tb, sc):
    a = rand(*((4, 3) if ta else (3, 4)))
    b = rand(*((5, 4) if tb else (4, 5)))
    floats = [a, b] + ([rand(*sc)] if sc else [])

    def build(g, x, y, *c):
        return g.gemm(x, y, c[0] if c else None, alpha=0.5, beta=-1.5, trans_a=ta, trans_b=tb)

    def reference(x, y, *c):
        p = 0.5 * ((x.T if ta else x) @ (y.T if tb else y))
        return p - 1.5 * c[0] if c else p
    autograd_check(client, build, reference, floats, **MM)


def test_misuse_names_the_node(client):
    g = salus.Graph()
    x = g.input("x", (2, 3))
    with pytest.raises(salus.GraphError, match=r'"cat_bad" \(Concat\): Concat input 1'):
        g.cat([x, g.input("y", (3, 3))], axis=1, name="cat_bad")
    with pytest.raises(salus.GraphError, match=r"gather: indices"):
        g.gather(x, x)
