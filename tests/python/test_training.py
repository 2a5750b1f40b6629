"""Training through the daemon: SGD and Adam converge, Adam matches
torch.optim.Adam step by step, explicit backward ops train like the builder's
gradients, and the example prints a falling loss."""

import os
import subprocess
import sys

import numpy as np
import pytest

import salus

EXAMPLE = os.path.join(os.environ.get("SALUS_EXAMPLES", ""), "train_classifier.py")


def blobs(rng, n, classes=3, dims=8, spread=1.0):
    centres = rng.normal(size=(classes, dims)) * 3
    labels = rng.integers(0, classes, size=n).astype(np.int32)
    return (centres[labels] + rng.normal(size=(n, dims)) * spread).astype(np.float32), labels


def classifier(rng, batch, dims=8, hidden=16, classes=3):
    g = salus.Graph()
    x = g.input("x", (batch, dims))
    y = g.input("y", (batch,), dtype="int32")
    w1 = g.variable("w1", rng.normal(size=(dims, hidden)) * 0.3)
    b1 = g.variable("b1", np.zeros(hidden))
    w2 = g.variable("w2", rng.normal(size=(hidden, classes)) * 0.3)
    b2 = g.variable("b2", np.zeros(classes))
    logits = g.relu(x @ w1 + b1) @ w2 + b2
    g.output(g.softmax(logits), name="p")
    return g, g.softmax_cross_entropy(logits, y, name="loss")


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_training_converges(client, optimizer):
    rng = np.random.default_rng(4)
    x, y = blobs(rng, 32 * 40)
    g, loss = classifier(rng, 32)
    if optimizer == "sgd":
        g.sgd(loss, lr=0.1)
    else:
        g.adam(loss, lr=0.02)
    losses = []
    with client.session(g, name=optimizer, iterations=120) as s:
        for step in range(120):
            at = (step % 40) * 32
            losses.append(float(s.run({"x": x[at:at + 32], "y": y[at:at + 32]}, fetch="loss")))
        p = s.run({"x": x[:32], "y": y[:32]}, fetch="p")
    assert losses[0] > 0.5  # three classes: about ln 3 at first
    assert np.mean(losses[-10:]) < 0.2 * losses[0], losses
    assert np.mean(p.argmax(axis=1) == y[:32]) > 0.9


def test_adam_matches_torch(client):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    x, y = blobs(rng, 16 * 20, classes=4, dims=6, spread=2.0)
    w0 = (rng.normal(size=(6, 4)) * 0.5).astype(np.float32)
    b0 = np.zeros(4, np.float32)
    lr, betas, eps = 0.05, (0.8, 0.99), 1e-6

    g = salus.Graph()
    xi, yi = g.input("x", (16, 6)), g.input("y", (16,), dtype="int32")
    w, b = g.variable("w", w0), g.variable("b", b0)
    g.adam(g.softmax_cross_entropy(xi @ w + b, yi, name="loss"), [w, b], lr=lr,
           beta1=betas[0], beta2=betas[1], eps=eps)
    # A variable as an output is its value after the iteration's update.
    g.output(w)
    g.output(b)

    tw = torch.tensor(w0, requires_grad=True)
    tb = torch.tensor(b0, requires_grad=True)
    opt = torch.optim.Adam([tw, tb], lr=lr, betas=betas, eps=eps)
    with client.session(g, name="adam-vs-torch") as s:
        for step in range(20):
            xb, yb = x[step * 16:(step + 1) * 16], y[step * 16:(step + 1) * 16]
            out = s.run({"x": xb, "y": yb})
            opt.zero_grad()
            tloss = torch.nn.functional.cross_entropy(torch.from_numpy(xb) @ tw + tb,
                                                      torch.from_numpy(yb).long())
            tloss.backward()
            opt.step()
            # The loss is computed before the update, in both.
            assert np.isclose(out["loss"], tloss.item(), rtol=1e-5, atol=1e-6), step
            # float32 sums in another order: a few ulps per step, carried on.
            assert np.allclose(out["w"], tw.detach().numpy(), rtol=1e-4, atol=1e-5), step
            assert np.allclose(out["b"], tb.detach().numpy(), rtol=1e-4, atol=1e-5), step


def test_explicit_backward_ops_train_like_gradients(client):
    rng = np.random.default_rng(3)
    x, y = blobs(rng, 16)
    w1_0 = (rng.normal(size=(8, 5)) * 0.3).astype(np.float32)
    w2_0 = (rng.normal(size=(5, 3)) * 0.3).astype(np.float32)

    def build(explicit):
        g = salus.Graph()
        xi, yi = g.input("x", (16, 8)), g.input("y", (16,), dtype="int32")
        w1, w2 = g.variable("w1", w1_0), g.variable("w2", w2_0)
        h = g.matmul(xi, w1)
        r = g.relu(h)
        logits = r @ w2
        loss = g.softmax_cross_entropy(logits, yi, name="loss")
        if explicit:  # the backward pass written out with the daemon's ops
            hot = g.one_hot(yi, 3)
            dlogits = g.softmax_cross_entropy_grad(logits, hot)
            dw2 = g.matmul(r, dlogits, transpose_a=True)
            dr = g.matmul(dlogits, w2, transpose_b=True)
            dw1 = g.matmul(xi, g.relu_grad(dr, h), transpose_a=True)
            g.sgd_update(w1, dw1, 0.5)
            g.sgd_update(w2, dw2, 0.5)
            g.output(loss)
        else:
            g.sgd(loss, [w1, w2], lr=0.5)
        g.output(w1)
        return g

    results = []
    for explicit in (True, False):
        with client.session(build(explicit)) as s:
            for _ in range(5):
                out = s.run({"x": x, "y": y})
            results.append(out)
    assert np.allclose(results[0]["w1"], results[1]["w1"], rtol=1e-6, atol=1e-7)
    assert np.allclose(results[0]["loss"], results[1]["loss"], rtol=1e-6)
    assert not np.allclose(results[0]["w1"], w1_0)


def test_the_example_prints_a_falling_loss(daemon):
    run = subprocess.run([sys.executable, EXAMPLE, "--socket", daemon.socket,
                          "--iterations", "150"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    means = [float(line.split()[-1]) for line in run.stdout.splitlines()
             if "mean loss" in line]
    assert len(means) == 6
    assert means[-1] < 0.6 * means[0], run.stdout
    accuracy = [line for line in run.stdout.splitlines() if line.startswith("accuracy")]
    assert accuracy and float(accuracy[0].split()[-1]) > 0.7, run.stdout
