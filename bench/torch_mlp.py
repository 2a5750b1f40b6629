"""The PyTorch twin of bench-mlp and bench-gpu-mlp: the same MLP
(784-1024-1024-10), batch, dtype (f32, no TF32) and thread count, one SGD
training step per iteration, fed from host memory and reading the loss back
every step, as a salusd client does. Prints `steps_per_s N`, or
`unavailable REASON` when it cannot run on the device asked for."""
import argparse
import time

try:
    import torch
    from torch_threads import limit_threads
except ImportError as e:
    print(f"unavailable {e} (python3-torch, and torch_threads.py beside this script)")
    raise SystemExit(0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    args = ap.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        print(f"unavailable torch {torch.__version__} has no CUDA "
              f"(built for CUDA: {torch.version.cuda}); no PyTorch column")
        return
    limit_threads(args.threads)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.manual_seed(0)
    dev = torch.device(args.device)
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 1024), torch.nn.ReLU(),
        torch.nn.Linear(1024, 1024), torch.nn.ReLU(),
        torch.nn.Linear(1024, 10)).to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    pin = args.device == "cuda"
    x_host = torch.randn(64, 784).pin_memory() if pin else torch.randn(64, 784)
    y_host = torch.randint(0, 10, (64,))
    y_host = y_host.pin_memory() if pin else y_host
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        x = x_host.to(dev, non_blocking=True)
        y = y_host.to(dev, non_blocking=True)
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()  # waits for the step, as a client reading its loss does

    for _ in range(3):
        step()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        step()
    print(f"steps_per_s {args.steps / (time.perf_counter() - t0):.3f}")


if __name__ == "__main__":
    main()
