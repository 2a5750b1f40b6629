"""ONNX's backend test data (Debian's libonnx-testdata: node, pytorch-converted,
pytorch-operator and simple suites) against a live salusd through
salus.onnx.backend. A test whose model salus.onnx refuses at import is
skipped with the refusal (naming the op that blocks it), after a check that
one refused only for shape inputs fed as data passes with them made
constants; every other one must pass, but for the KNOWN_DIFFERENCES of
salus.onnx.conformance, each with its reason, which must fail (strict
xfail)."""

import os

import pytest

onnx = pytest.importorskip("onnx", reason="python3-onnx is not installed")

import salus  # noqa: E402
import salus.onnx  # noqa: E402
from salus.onnx import conformance  # noqa: E402

CASES = conformance.cases()
if not CASES:
    pytest.skip(f"no ONNX test data under {conformance.DATA_DIR} (libonnx-testdata)",
                allow_module_level=True)


def _param(case):
    key = f"{case.suite}/{case.name}"
    known = conformance.KNOWN_DIFFERENCES.get(key)
    marks = [pytest.mark.xfail(strict=True, reason=known)] if known else []
    return pytest.param(case, id=key, marks=marks)


@pytest.fixture(scope="module")
def onnx_client(daemon):
    with salus.connect(daemon.socket, name="onnx-conformance") as c:
        yield c


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_conformance(case, onnx_client):
    why = conformance.refusal(case)
    if isinstance(why, salus.onnx.DataDependentError) and \
            conformance.check_frozen(case, onnx_client):
        pytest.skip(f"{why} (passes with its shape inputs made constants)")
    if why is not None:
        pytest.skip(str(why))
    conformance.check(case, onnx_client)


def test_the_pytorch_suites_pass():
    """Every pytorch-converted and pytorch-operator model is imported (issue
    12's target: all 117 pass, test_conformance runs them), none of them a
    known difference."""
    refused = {c.name: str(conformance.refusal(c)) for c in CASES
               if c.suite.startswith("pytorch") and conformance.refusal(c) is not None}
    assert not refused, refused
    assert not [k for k in conformance.KNOWN_DIFFERENCES if k.startswith("pytorch")]


def test_the_command_reports_per_suite(daemon, capsys):
    rc = conformance.main(["--socket", daemon.socket, "--suite", "simple", "--top", "3"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "simple" in out and "What blocks the most skipped tests" in out
    assert os.path.isdir(conformance.DATA_DIR)
