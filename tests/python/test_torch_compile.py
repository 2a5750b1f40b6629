"""torch.compile(model, backend="salus") serves inference through salusd
(torch >= 2.0; Debian's torch 1.13 has no torch.compile, so this is skipped
there and runs on a machine with torch 2)."""

import pytest
import torch

import salus.torch

pytestmark = pytest.mark.skipif(not salus.torch.HAS_COMPILE_BACKEND,
                                reason=f"torch {torch.__version__} has no torch.compile")


def test_compiled_model_matches_eager(daemon, monkeypatch):
    monkeypatch.setenv("SALUS_SOCKET", daemon.socket)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.BatchNorm2d(8),
                                torch.nn.ReLU(), torch.nn.Flatten(),
                                torch.nn.Linear(8 * 6 * 6, 4)).eval()
    x = torch.randn(2, 3, 8, 8)
    compiled = torch.compile(model, backend="salus")
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), model(x), rtol=1e-4, atol=1e-5)


def test_registered_only_with_dynamo():
    import torch._dynamo
    assert "salus" in torch._dynamo.list_backends()
