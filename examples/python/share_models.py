#!/usr/bin/python3
"""A small CNN and a transformer, plain PyTorch modules trained with plain
torch.optim optimizers, at the same time through one salusd: salus.torch
captures each one's whole training step once, and from then on each job
only feeds batches and reads its loss.

    PYTHONPATH=build/bindings/python examples/python/share_models.py [--socket PATH]

The CNN (convolutions with batch norm, SGD with momentum) classifies 16x16
images; the transformer (nn.TransformerEncoder with dropout, AdamW and a
StepLR schedule) classifies token sequences. The data are random but fixed,
so the losses fall as each model learns its batch's labels. At the end each
job checks its model in eval mode on the same batch.
"""

import argparse
import sys
import threading

import torch
import torch.nn as nn
import torch.nn.functional as F

import salus
import salus.torch


def small_cnn():
    def block(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                nn.ReLU()]
    return nn.Sequential(*block(3, 16), nn.MaxPool2d(2), *block(16, 32),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10))


class TextClassifier(nn.Module):
    def __init__(self, vocab=100, dim=64, heads=4, layers=2, seq=16, classes=4):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.pos = nn.Parameter(torch.randn(seq, dim) * 0.02)
        layer = nn.TransformerEncoderLayer(dim, heads, 128, dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers)
        self.head = nn.Linear(dim, classes)

    def forward(self, tokens):
        return self.head(self.encoder(self.embed(tokens) + self.pos).mean(1))


def jobs():
    g = torch.Generator().manual_seed(0)
    cnn = small_cnn()
    text = TextClassifier()
    cnn_opt = torch.optim.SGD(cnn.parameters(), lr=0.05, momentum=0.9)
    text_opt = torch.optim.AdamW(text.parameters(), lr=1e-3)
    return {
        "cnn": (cnn, cnn_opt, None, torch.randn(16, 3, 16, 16, generator=g),
                torch.randint(0, 10, (16,), generator=g)),
        "transformer": (text, text_opt, torch.optim.lr_scheduler.StepLR(text_opt, 20, 0.5),
                        torch.randint(0, 100, (8, 16), generator=g),
                        torch.randint(0, 4, (8,), generator=g)),
    }


def train(socket, name, job, steps, lines):
    model, opt, sched, x, y = job
    with salus.connect(socket, name=name) as client:
        step = salus.torch.train_step(model, F.cross_entropy, opt, example_inputs=x,
                                      example_target=y, client=client, name=name,
                                      iterations=steps)
        s = step.session
        lines.append(f"{name}: session {s.id}, P {s.persistent_bytes / 2**20:.2f} MiB, "
                     f"T {s.ephemeral_bytes / 2**20:.2f} MiB")
        for i in range(1, steps + 1):
            loss = float(step(x, y))
            if sched:
                sched.step()
            if i == 1 or i % 10 == 0:
                lines.append(f"{name}: step {i:3d} loss {loss:.4f}")
        accuracy = (step.eval(x).argmax(1) == y).float().mean().item()
        st = s.status()
        lines.append(f"{name}: {st.iterations} iterations, mean "
                     f"{st.mean_iteration_time * 1e3:.1f} ms; eval-mode accuracy on its batch "
                     f"{accuracy:.0%}")
        step.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--socket")
    ap.add_argument("--steps", type=int, default=30)
    args = ap.parse_args()
    torch.manual_seed(0)
    lines, errors = [], []

    def run(name, job):
        try:
            train(args.socket, name, job, args.steps, lines)
        except Exception as e:  # reported below; the demo exits 1
            errors.append(f"{name}: {type(e).__name__}: {e}")

    threads = [threading.Thread(target=run, args=item) for item in jobs().items()]
    for t in threads:
        t.start()
    printed = 0
    while any(t.is_alive() for t in threads) or printed < len(lines):
        for t in threads:
            t.join(0.2)
        while printed < len(lines):
            print(lines[printed], flush=True)
            printed += 1
    for e in errors:
        print(e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
