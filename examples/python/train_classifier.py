#!/usr/bin/python3
"""Trains a small classifier through salusd on data it makes up, printing the
loss as it falls.

    PYTHONPATH=build/bindings/python examples/python/train_classifier.py [--socket PATH]

The data are Gaussian blobs, one per class, in 20 dimensions; the model is
a two-layer perceptron (20-64-4, ReLU) trained with Adam on batches of 64.
The graph is built once, with its gradients and updates; the daemon keeps
the weights, and every iteration only sends a batch and gets the loss back.
"""

import argparse

import numpy as np

import salus

FEATURES, HIDDEN, CLASSES, BATCH = 20, 64, 4, 64


def make_data(rng, n, centres):
    """n points around the class centres, and their labels."""
    labels = rng.integers(0, CLASSES, size=n).astype(np.int32)
    points = centres[labels] + rng.normal(size=(n, FEATURES))
    return points.astype(np.float32), labels


def build_graph(rng):
    g = salus.Graph()
    x = g.input("x", (BATCH, FEATURES))
    y = g.input("y", (BATCH,), dtype="int32")
    w1 = g.variable("w1", rng.normal(size=(FEATURES, HIDDEN)) * np.sqrt(2 / FEATURES))
    b1 = g.variable("b1", np.zeros(HIDDEN))
    w2 = g.variable("w2", rng.normal(size=(HIDDEN, CLASSES)) * np.sqrt(2 / HIDDEN))
    b2 = g.variable("b2", np.zeros(CLASSES))
    logits = g.relu(x @ w1 + b1) @ w2 + b2
    g.output(g.softmax(logits), name="probabilities")
    loss = g.softmax_cross_entropy(logits, y, name="loss")
    g.adam(loss, lr=0.002)  # every variable; the loss becomes an output
    return g


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", help="salusd's socket (default: $SALUS_SOCKET or the "
                                         "default path)")
    parser.add_argument("--iterations", type=int, default=300)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(CLASSES, FEATURES)) * 0.6  # classes overlap a little
    x_train, y_train = make_data(rng, 4096, centres)
    x_test, y_test = make_data(rng, BATCH, centres)

    with salus.connect(args.socket) as client:
        with client.session(build_graph(rng), name="classifier",
                            iterations=args.iterations) as session:
            print(f"session {session.id}: P {session.persistent_bytes} bytes, "
                  f"T {session.ephemeral_bytes} bytes")
            window = []
            for step in range(1, args.iterations + 1):
                at = (step * BATCH) % len(x_train)
                feeds = {"x": x_train[at:at + BATCH], "y": y_train[at:at + BATCH]}
                window.append(float(session.run(feeds, fetch="loss")))
                if step % 25 == 0:
                    print(f"iterations {step - 24:4d}-{step:4d}  mean loss {np.mean(window):.4f}")
                    window.clear()
            # Every run of this graph trains, this one too; its probabilities
            # come from the weights before its own update, never fitted on it.
            probs = session.run({"x": x_test, "y": y_test}, fetch="probabilities")
            accuracy = float(np.mean(probs.argmax(axis=1) == y_test))
            print(f"accuracy on {BATCH} new points: {accuracy:.2f}")
            status = session.status()
            print(f"{status.iterations} iterations, mean {status.mean_iteration_time * 1e6:.0f} us")


if __name__ == "__main__":
    main()
