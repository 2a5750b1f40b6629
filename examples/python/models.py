#!/usr/bin/python3
"""Three real models written twice: with Salus's graph builder and in plain
PyTorch, from the same initial values, so that one can be checked against the
other step by step (tests/python/test_models.py) and timed against it
(bench/bench-models.py). Run as a program against a salusd, it prints how
far each small model's losses are from PyTorch's:

    PYTHONPATH=build/bindings/python examples/python/models.py --socket PATH

- ``resnet``: a ResNet-style CNN with batch norm (ResNet-18 for CIFAR-10 at
  full size: 3x3 stem, four stages of two basic blocks, global average pool,
  fully connected head), trained with SGD, momentum and weight decay;
- ``transformer``: a transformer encoder (token and position embeddings,
  post-norm layers of multi-head attention and a GELU feed-forward, dropout,
  layer norm) predicting the next token, trained with AdamW;
- ``lstm``: an LSTM language model (embedding, one LSTM layer unrolled cell by
  cell, linear head), trained with plain SGD.

Each model is a ``Spec`` (its sizes); ``torch_model(spec)`` makes the PyTorch
module (its initial values come from torch's own initialisation under a
seed), and ``salus_graph(spec, module)`` builds the Salus graph of one
training step from that module's parameters. Both sides take the same
batches from ``batches(spec, rng)``. Dropout masks differ between the two
random generators, so the Salus graph outputs its masks and
``torch_step(..., masks=...)`` applies the same ones.
"""

import argparse
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

import salus


@dataclass
class Spec:
    kind: str                   # "resnet", "transformer" or "lstm"
    batch: int
    # resnet
    image: int = 32             # input is [batch, 3, image, image]
    widths: tuple = (64, 128, 256, 512)
    blocks: int = 2             # basic blocks per stage
    classes: int = 10
    # transformer and lstm
    vocab: int = 64
    seq: int = 16
    dim: int = 64
    heads: int = 4
    ff: int = 128
    layers: int = 2
    dropout: float = 0.1
    # training
    lr: float = 0.05


def full_resnet18(batch=32):
    return Spec("resnet", batch, lr=0.05)


def small_resnet(batch=8):
    return Spec("resnet", batch, image=8, widths=(8, 16), blocks=1)


def transformer(batch=8, seq=16, dim=64, heads=4, ff=128, layers=2, vocab=64):
    return Spec("transformer", batch, seq=seq, dim=dim, heads=heads, ff=ff, layers=layers,
                vocab=vocab, lr=1e-3)


def lstm(batch=8, seq=12, dim=32, vocab=48):
    return Spec("lstm", batch, seq=seq, dim=dim, vocab=vocab, lr=0.5, dropout=0.0)


# ---- PyTorch ------------------------------------------------------------------


class BasicBlock(torch.nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(cout)
        self.conv2 = torch.nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = torch.nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = torch.nn.Sequential(torch.nn.Conv2d(cin, cout, 1, stride, bias=False),
                                            torch.nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.down is None else self.down(x)))


class ResNet(torch.nn.Module):
    def __init__(self, spec):
        super().__init__()
        w = spec.widths
        self.stem = torch.nn.Conv2d(3, w[0], 3, 1, 1, bias=False)
        self.bn = torch.nn.BatchNorm2d(w[0])
        blocks, cin = [], w[0]
        for i, cout in enumerate(w):
            for b in range(spec.blocks):
                blocks.append(BasicBlock(cin, cout, 2 if (i > 0 and b == 0) else 1))
                cin = cout
        self.blocks = torch.nn.Sequential(*blocks)
        self.fc = torch.nn.Linear(w[-1], spec.classes)

    def forward(self, x, masks=None):
        x = F.relu(self.bn(self.stem(x)))
        x = self.blocks(x)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


class Transformer(torch.nn.Module):
    """Post-norm encoder layers as torch.nn.TransformerEncoderLayer
    (activation="gelu"), written out so that dropout masks can be given."""

    def __init__(self, spec):
        super().__init__()
        self.spec = spec
        d = spec.dim
        self.tok = torch.nn.Embedding(spec.vocab, d)
        self.pos = torch.nn.Parameter(torch.randn(spec.seq, d) * 0.02)
        self.layers = torch.nn.ModuleList()
        for _ in range(spec.layers):
            layer = torch.nn.Module()
            layer.q, layer.k, layer.v, layer.o = (torch.nn.Linear(d, d) for _ in range(4))
            layer.ff1, layer.ff2 = torch.nn.Linear(d, spec.ff), torch.nn.Linear(spec.ff, d)
            layer.ln1, layer.ln2 = torch.nn.LayerNorm(d), torch.nn.LayerNorm(d)
            self.layers.append(layer)
        self.head = torch.nn.Linear(d, spec.vocab)

    def forward(self, tokens, masks=None):
        s = self.spec
        masks = list(masks) if masks is not None else None

        def drop(t):
            if masks is None:
                return F.dropout(t, s.dropout, self.training)
            return t * torch.from_numpy(masks.pop(0)).to(t) / (1 - s.dropout)

        b, n, d, h = tokens.shape[0], s.seq, s.dim, s.heads
        x = self.tok(tokens) + self.pos
        for layer in self.layers:
            def heads(t):
                return t.reshape(b, n, h, d // h).transpose(1, 2)

            q, k, v = heads(layer.q(x)), heads(layer.k(x)), heads(layer.v(x))
            att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // h), dim=-1)
            ctx = (drop(att) @ v).transpose(1, 2).reshape(b, n, d)
            x = layer.ln1(x + drop(layer.o(ctx)))
            x = layer.ln2(x + drop(layer.ff2(F.gelu(layer.ff1(x)))))
        return self.head(x).reshape(b * n, s.vocab)


class LSTM(torch.nn.Module):
    def __init__(self, spec):
        super().__init__()
        self.emb = torch.nn.Embedding(spec.vocab, spec.dim)
        self.lstm = torch.nn.LSTM(spec.dim, spec.dim, batch_first=True)
        self.head = torch.nn.Linear(spec.dim, spec.vocab)

    def forward(self, tokens, masks=None):
        out, _ = self.lstm(self.emb(tokens))  # [B, S, H]
        return self.head(out.reshape(-1, out.shape[-1]))


def torch_model(spec, seed=0):
    torch.manual_seed(seed)
    return {"resnet": ResNet, "transformer": Transformer, "lstm": LSTM}[spec.kind](spec)


def torch_optimizer(spec, module):
    if spec.kind == "resnet":
        return torch.optim.SGD(module.parameters(), lr=spec.lr, momentum=0.9, weight_decay=5e-4)
    if spec.kind == "transformer":
        return torch.optim.AdamW(module.parameters(), lr=spec.lr)
    return torch.optim.SGD(module.parameters(), lr=spec.lr)


def torch_step(spec, module, opt, x, y, masks=None):
    """One training step in PyTorch, on the module's device; returns the
    loss (reading it waits for the step, as a Salus client's does)."""
    module.train()
    opt.zero_grad()
    dev = next(module.parameters()).device
    inp = torch.from_numpy(x) if spec.kind == "resnet" else torch.from_numpy(x).long()
    target = torch.from_numpy(y).long().reshape(-1)
    loss = F.cross_entropy(module(inp.to(dev), masks), target.to(dev))
    loss.backward()
    opt.step()
    return float(loss)


def batches(spec, rng):
    """Endless (x, y) batches: images and classes, or token sequences and
    the next token of each."""
    while True:
        if spec.kind == "resnet":
            x = rng.standard_normal((spec.batch, 3, spec.image, spec.image)).astype(np.float32)
            y = rng.integers(0, spec.classes, spec.batch).astype(np.int32)
        else:
            seq = rng.integers(0, spec.vocab, (spec.batch, spec.seq + 1)).astype(np.int32)
            x, y = seq[:, :-1].copy(), seq[:, 1:].copy()
        yield x, y


# ---- Salus --------------------------------------------------------------------


class _Params:
    """The module's parameters and buffers as Salus variables, by name."""

    def __init__(self, g, module):
        self.g = g
        self.state = {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}
        self.vars = {}
        self.trainable = []
        names = {k for k, _ in module.named_parameters()}
        for k, v in self.state.items():
            if v.dtype != np.float32:
                continue  # BatchNorm's num_batches_tracked
            self.vars[k] = g.variable(k, v)
            if k in names:
                self.trainable.append(self.vars[k])

    def __getitem__(self, name):
        return self.vars[name]

    def get(self, name):
        return self.vars.get(name)


def _linear(g, p, prefix, x):
    y = g.matmul(x, p[prefix + ".weight"], transpose_b=True)
    bias = p.get(prefix + ".bias")
    return y if bias is None else y + bias


def _bn(g, p, prefix, x):
    return g.batch_norm(x, p[prefix + ".running_mean"], p[prefix + ".running_var"],
                        p[prefix + ".weight"], p[prefix + ".bias"], training=True)


def _resnet(g, spec, p, x):
    x = g.relu(_bn(g, p, "bn", g.conv2d(x, p["stem.weight"], padding=1)))
    i = 0
    for s, _ in enumerate(spec.widths):
        for b in range(spec.blocks):
            stride = 2 if (s > 0 and b == 0) else 1
            pre = f"blocks.{i}."
            y = g.relu(_bn(g, p, pre + "bn1",
                           g.conv2d(x, p[pre + "conv1.weight"], stride=stride, padding=1)))
            y = _bn(g, p, pre + "bn2", g.conv2d(y, p[pre + "conv2.weight"], padding=1))
            if p.get(pre + "down.0.weight") is not None:
                x = _bn(g, p, pre + "down.1", g.conv2d(x, p[pre + "down.0.weight"], stride=stride))
            x = g.relu(y + x)
            i += 1
    x = g.flatten(g.adaptive_avg_pool2d(x, 1), 1)
    return _linear(g, p, "fc", x), []


def _transformer(g, spec, p, tokens):
    b, n, d, h = spec.batch, spec.seq, spec.dim, spec.heads
    masks = []

    def drop(t):
        y, mask = g.dropout(t, spec.dropout, training=True, return_mask=True)
        masks.append(mask)
        return y

    def heads(t):
        return g.transpose(g.reshape(t, (b, n, h, d // h)), (0, 2, 1, 3))

    x = g.embedding(tokens, p["tok.weight"]) + p["pos"]
    for i in range(spec.layers):
        pre = f"layers.{i}."
        q, k, v = (heads(_linear(g, p, pre + w, x)) for w in "qkv")
        att = g.softmax(g.matmul(q, k, transpose_b=True) * (1.0 / math.sqrt(d // h)), axis=-1)
        ctx = g.reshape(g.transpose(g.matmul(drop(att), v), (0, 2, 1, 3)), (b, n, d))
        x = g.layer_norm(x + drop(_linear(g, p, pre + "o", ctx)), (d,), p[pre + "ln1.weight"],
                         p[pre + "ln1.bias"])
        ff = _linear(g, p, pre + "ff2", g.gelu(_linear(g, p, pre + "ff1", x)))
        x = g.layer_norm(x + drop(ff), (d,), p[pre + "ln2.weight"], p[pre + "ln2.bias"])
    return g.reshape(_linear(g, p, "head", x), (b * n, spec.vocab)), masks


def _lstm(g, spec, p, tokens):
    b, n, d = spec.batch, spec.seq, spec.dim
    x = g.embedding(tokens, p["emb.weight"])                 # [B, S, E]
    h = g.constant("h0", np.zeros((b, d), np.float32))
    c = g.constant("c0", np.zeros((b, d), np.float32))
    w_ih, w_hh = p["lstm.weight_ih_l0"], p["lstm.weight_hh_l0"]
    bias = p["lstm.bias_ih_l0"] + p["lstm.bias_hh_l0"]
    outs = []
    for t in range(n):
        xt = g.reshape(g.slice(x, [t], [t + 1], axes=[1]), (b, d))
        gates = (g.matmul(xt, w_ih, transpose_b=True) + g.matmul(h, w_hh, transpose_b=True)
                 + bias)
        i, f, gg, o = g.split(gates, d, 1)               # torch's gate order
        c = g.sigmoid(f) * c + g.sigmoid(i) * g.tanh(gg)
        h = g.sigmoid(o) * g.tanh(c)
        outs.append(g.unsqueeze(h, 1))
    out = g.reshape(g.concat(outs, 1), (b * n, d))           # [B, S, H], batch-major rows
    return _linear(g, p, "head", out), []


def salus_graph(spec, module):
    """The Salus graph of one training step of ``module`` (same initial
    values, same optimizer), with outputs "loss" and "mask0", "mask1", ...
    (the dropout masks, in the order the PyTorch module uses them), fed
    "x" and "y". Returns (graph, number of masks)."""
    g = salus.Graph()
    p = _Params(g, module)
    if spec.kind == "resnet":
        x = g.input("x", (spec.batch, 3, spec.image, spec.image))
        y = g.input("y", (spec.batch,), dtype="int32")
        logits, masks = _resnet(g, spec, p, x)
        labels = y
    else:
        x = g.input("x", (spec.batch, spec.seq), dtype="int32")
        y = g.input("y", (spec.batch, spec.seq), dtype="int32")
        build = _transformer if spec.kind == "transformer" else _lstm
        logits, masks = build(g, spec, p, x)
        labels = g.reshape(y, (spec.batch * spec.seq,))  # the logits' rows
    loss = g.cross_entropy(logits, labels, name="loss")
    for i, m in enumerate(masks):
        g.output(m, f"mask{i}")
    if spec.kind == "resnet":
        g.sgd(loss, p.trainable, lr=spec.lr, momentum=0.9, weight_decay=5e-4)
    elif spec.kind == "transformer":
        g.adamw(loss, p.trainable, lr=spec.lr)
    else:
        g.sgd(loss, p.trainable, lr=spec.lr)
    return g, len(masks)


def feeds(x, y):
    return {"x": x, "y": y}


# ---- Salus against PyTorch ----------------------------------------------------

# Small sizes of each model, quick enough for a test.
SMALL = {
    "resnet": small_resnet(),
    "transformer": transformer(batch=4, seq=8, dim=32, heads=4, ff=64),
    "lstm": lstm(batch=4, seq=8, dim=16, vocab=24),
}


def compare(client, spec, steps=20, seed=1):
    """Trains the model `steps` steps through salusd and in PyTorch from the
    same initial values, on the same batches and dropout masks; returns both
    loss sequences (numpy arrays)."""
    module = torch_model(spec)
    graph, num_masks = salus_graph(spec, module)
    opt = torch_optimizer(spec, module)
    data = batches(spec, np.random.default_rng(seed))
    fetch = ["loss"] + [f"mask{i}" for i in range(num_masks)]
    ours, theirs = [], []
    with client.session(graph, name=f"compare-{spec.kind}") as s:
        for _ in range(steps):
            x, y = next(data)
            got = s.run(feeds(x, y), fetch=fetch)
            masks = [got[f"mask{i}"] for i in range(num_masks)]
            ours.append(float(got["loss"]))
            theirs.append(torch_step(spec, module, opt, x, y, masks or None))
    return np.array(ours), np.array(theirs)


def main():
    ap = argparse.ArgumentParser(description="Each small model trained through salusd and in "
                                 "PyTorch: the largest relative loss difference")
    ap.add_argument("--socket")
    ap.add_argument("--steps", type=int, default=20)
    args = ap.parse_args()
    with salus.connect(args.socket, name="models") as client:
        for kind, spec in SMALL.items():
            ours, theirs = compare(client, spec, args.steps)
            diff = float(np.max(np.abs(ours - theirs) / np.abs(theirs)))
            print(f"{kind}: {args.steps} steps, loss {ours[0]:.4f} -> {ours[-1]:.4f}, "
                  f"largest relative difference from PyTorch {diff:.1e}")


if __name__ == "__main__":
    main()
