#!/usr/bin/python3
"""An ONNX model served by salusd: a torchvision ResNet-18 exported with
torch.onnx (batch dimension symbolic), loaded with salus.onnx.load and
served at several batch sizes, which share the one resident copy of the
weights. Prints each request's latency and its distance from PyTorch's own
answer.

    PYTHONPATH=build/bindings/python examples/python/onnx_serve.py --socket PATH
"""

import argparse
import io
import time

import torch
import torchvision

import salus
import salus.onnx


def export(model, example):
    f = io.BytesIO()
    torch.onnx.export(model, (example,), f, input_names=["input"], output_names=["logits"],
                      opset_version=17, dynamic_axes={"input": {0: "batch"}})
    return f.getvalue()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--socket", help="salusd's socket (default: $SALUS_SOCKET or the default)")
    ap.add_argument("--requests", type=int, default=6)
    args = ap.parse_args()
    torch.manual_seed(0)
    model = torchvision.models.resnet18(num_classes=10).eval()
    onnx_bytes = export(model, torch.randn(8, 3, 32, 32))
    with salus.connect(args.socket, name="onnx-serve") as client:
        with salus.onnx.load(onnx_bytes, client=client, name="resnet-serving") as sess:
            for i in range(args.requests):
                x = torch.randn((8, 1, 3)[i % 3], 3, 32, 32)
                start = time.perf_counter()
                y = sess.run({"input": x.numpy()})["logits"]
                ms = (time.perf_counter() - start) * 1e3
                with torch.no_grad():
                    diff = abs(y - model(x).numpy()).max()
                print(f"request {i + 1}: batch {x.shape[0]}, {ms:.1f} ms, classes "
                      f"{y.argmax(1).tolist()}, max |difference from PyTorch| {diff:.1e}")
            print(f"{len(sess.session.graphs) + 1} batch sizes in session "
                  f"{sess.session.id}, weights resident once")


if __name__ == "__main__":
    main()
