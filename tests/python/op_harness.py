"""Runs single ops in a real salusd and compares them with PyTorch.

    from op_harness import run_op, check_op

    outs = run_op(client, "LeakyRelu", [x], alpha=0.1)   # numpy in, numpy out
    check_op(client, "LeakyRelu", [x], torch.nn.functional.leaky_relu(tx, 0.1),
             rtol=1e-6, atol=1e-6, alpha=0.1)

Inputs are numpy arrays fed as graph inputs (their dtype is kept: float32,
int32, int64, bool); attributes are keywords; ``num_outputs`` as in
Graph.op. ``check_op`` takes the expected output(s) as torch tensors or numpy
arrays, compares each with the stated tolerances and names the op, output
and worst element when it fails. ``grad_check`` compares a backward op with
central finite differences of a forward op, both run in salusd.
"""

import numpy as np
import torch

import salus


def run_op(client, op_type, inputs, num_outputs=1, **attrs):
    """The outputs (a list of numpy arrays) of one node of op_type run once
    in salusd on the numpy ``inputs``."""
    g = salus.Graph()
    feeds = {}
    tensors = []
    for i, value in enumerate(inputs):
        value = np.asarray(value)
        t = g.input(f"in{i}", value.shape, dtype=value.dtype)
        feeds[t.name] = value
        tensors.append(t)
    outs = g.op(op_type, *tensors, num_outputs=num_outputs, name="node", **attrs)
    outs = (outs,) if num_outputs == 1 else outs
    for i, t in enumerate(outs):
        g.output(t, f"out{i}")
    with client.session(g, name=f"op-{op_type}") as s:
        got = s.run(feeds)
    return [got[f"out{i}"] for i in range(len(outs))]


def _numpy(value):
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def check_op(client, op_type, inputs, expected, rtol=1e-5, atol=1e-6, num_outputs=None,
             **attrs):
    """Runs op_type in salusd and asserts its outputs match ``expected`` (one
    tensor or array, or a list of them, one per output)."""
    many = isinstance(expected, (list, tuple))
    want = [_numpy(e) for e in (expected if many else [expected])]
    got = run_op(client, op_type, inputs, num_outputs=num_outputs or len(want), **attrs)
    for i, (w, o) in enumerate(zip(want, got)):
        assert o.shape == w.shape, f"{op_type} output {i}: shape {o.shape}, torch {w.shape}"
        if w.dtype == np.bool_ or np.issubdtype(w.dtype, np.integer):
            mismatch = np.flatnonzero(o.reshape(-1) != w.reshape(-1).astype(o.dtype))
            assert mismatch.size == 0, (f"{op_type} output {i}: {mismatch.size} elements differ, "
                                        f"first at {mismatch[0]}: {o.reshape(-1)[mismatch[0]]} "
                                        f"vs torch {w.reshape(-1)[mismatch[0]]}")
            continue
        err = np.abs(o.astype(np.float64) - w.astype(np.float64))
        bound = atol + rtol * np.abs(w.astype(np.float64))
        worst = int(np.argmax(err - bound)) if err.size else 0
        assert err.size == 0 or np.all(err <= bound), (
            f"{op_type} output {i} {attrs}: element {worst} is {o.reshape(-1)[worst]}, torch "
            f"{w.reshape(-1)[worst]} (error {err.reshape(-1)[worst]:.3g} > "
            f"{bound.reshape(-1)[worst]:.3g})")
    return got


def grad_check(client, forward, backward, inputs, wrt, dy, backward_inputs, eps=1e-2,
               rtol=2e-2, atol=2e-3, output=0, **attrs):
    """Checks the gradient of ``forward`` with respect to input ``wrt``
    computed by the ``backward`` op (fed ``backward_inputs(dy, inputs,
    forward_outputs)``, returning dX first or as output ``output``) against
    central differences of sum(forward(inputs) * dy), in float64 over
    float32 runs."""
    outs = run_op(client, forward, inputs, **attrs)
    got = run_op(client, backward, backward_inputs(dy, inputs, outs),
                 num_outputs=output + 1, **attrs)[output]
    x = np.array(inputs[wrt], dtype=np.float32)
    numeric = np.zeros(x.size, dtype=np.float64)
    for k in range(x.size):
        plus, minus = x.copy(), x.copy()
        plus.reshape(-1)[k] += eps
        minus.reshape(-1)[k] -= eps
        f = []
        for v in (plus, minus):
            args = list(inputs)
            args[wrt] = v
            f.append(float(np.sum(run_op(client, forward, args, **attrs)[0].astype(np.float64)
                                  * dy)))
        numeric[k] = (f[0] - f[1]) / (2 * eps)
    np.testing.assert_allclose(got.reshape(-1), numeric, rtol=rtol, atol=atol,
                               err_msg=f"{backward} against finite differences of {forward}")
