#!/usr/bin/python3
"""A torchvision ResNet-18 exported with torch.onnx and served by salusd
through salus.onnx, against the same model in PyTorch on the CPU with the
same thread count: latency and throughput at batch 1 and 32, side by side
in alternating rounds of one run.

    PYTHONPATH=build/bindings/python bench/bench-onnx.py --socket PATH [--threads N]

salusd must run its kernels with the same number of threads (bench/run.sh
starts it with --blas-threads 1 and OMP_NUM_THREADS=1).
"""

import argparse
import io
import sys

import torch
import torchvision

import salus
import salus.onnx
from side_by_side import compare_inference
from torch_threads import limit_threads


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--socket")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--calls", type=int, default=3, help="calls per round at batch 32 (x8 at 1)")
    ap.add_argument("--image", type=int, default=224)
    args = ap.parse_args()
    limit_threads(args.threads)
    torch.manual_seed(0)
    model = torchvision.models.resnet18().eval()
    buf = io.BytesIO()
    x = torch.randn(1, 3, args.image, args.image)
    torch.onnx.export(model, x, buf, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    print(f"PyTorch {torch.__version__} on the CPU, {args.threads} thread(s) on both sides; "
          f"ResNet-18 at {args.image}x{args.image}, {len(buf.getvalue()) / 2**20:.1f} MiB of ONNX")
    with salus.connect(args.socket, name="bench-onnx") as client:
        sess = salus.onnx.load(buf.getvalue(), client=client, name="bench-onnx",
                               batch_sizes=[32, 1])

        def serve(batch):
            return torch.from_numpy(sess.run({"input": batch.numpy()})["logits"])

        for batch in (1, 32):
            xb = torch.randn(batch, 3, args.image, args.image)
            compare_inference("resnet18 exported to ONNX", serve, model, xb, args.rounds,
                              args.calls * (8 if batch == 1 else 1))
        sess.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
