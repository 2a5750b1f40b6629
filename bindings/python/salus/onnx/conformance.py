"""ONNX's backend conformance data (Debian's libonnx-testdata) run against a
live salusd through salus.onnx.backend.

    python3 -m salus.onnx.conformance [--socket S] [--suite node] [-v]

prints passed / skipped / failed per suite and what blocks the most skipped
tests. A test is skipped when salus.onnx refuses its model at import (the
reason names the op); every other test must pass, but for the
KNOWN_DIFFERENCES below. A test refused only because it feeds a node's shape
inputs as data is also run with them made constants ("frozen"), and must
pass so. Comparisons are ONNX's own: the same dtype, then allclose with rtol
1e-3, atol 1e-7 (or the test's data.json). Exits 1 when a test fails."""

import argparse
import collections
import glob
import json
import os
import sys
import time

import numpy as np
import onnx
import onnx.backend.test
from onnx import numpy_helper

from ._backend import SalusBackend
from ._context import Importer
from ._errors import DataDependentError, UnsupportedError
from ._import import TABLE

#: Where onnx looks for its backend test data (Debian links it to libonnx-testdata).
DATA_DIR = os.path.join(os.path.dirname(onnx.backend.test.__file__), "data")
SUITES = ("node", "pytorch-converted", "pytorch-operator", "simple")

Case = collections.namedtuple("Case", "suite name path")

# Tests whose ops Salus claims but whose data it cannot reproduce, and why.
# (They are expected to fail; one that starts to pass should leave this list.)
KNOWN_DIFFERENCES = {}


def cases(suites=SUITES, data_dir=DATA_DIR):
    """Every test of the suites, in name order."""
    found = []
    for suite in suites:
        for model in sorted(glob.glob(os.path.join(data_dir, suite, "*", "model.onnx"))):
            path = os.path.dirname(model)
            found.append(Case(suite, os.path.basename(path), path))
    return found


def refusal(case):
    """The UnsupportedError salus.onnx refuses the case's model with, or None."""
    try:
        Importer(onnx.load(os.path.join(case.path, "model.onnx")), TABLE)
    except UnsupportedError as e:
        return e
    return None


def _read(path, type_proto):
    if not type_proto.HasField("tensor_type"):
        raise UnsupportedError("a non-tensor value")
    tensor = onnx.TensorProto()
    with open(path, "rb") as f:
        tensor.ParseFromString(f.read())
    return numpy_helper.to_array(tensor)


def _tolerances(case):
    data = os.path.join(case.path, "data.json")
    if os.path.exists(data):
        with open(data) as f:
            spec = json.load(f)
        return spec.get("rtol", 1e-3), spec.get("atol", 1e-7)
    return 1e-3, 1e-7


def _data_sets(case):
    return sorted(glob.glob(os.path.join(case.path, "test_data_set_*")))


def _load_data(model, data_set):
    """The data set's inputs and reference outputs, as arrays."""
    def read(kind, protos):
        count = len(glob.glob(os.path.join(data_set, f"{kind}_*.pb")))
        return [_read(os.path.join(data_set, f"{kind}_{i}.pb"), protos[i].type)
                for i in range(count)]
    return read("input", model.graph.input), read("output", model.graph.output)


def _run(case, model, data_set, client):
    rtol, atol = _tolerances(case)
    inputs, refs = _load_data(model, data_set)
    rep = SalusBackend.prepare(model, client=client, name=case.name)
    try:
        outs = rep.run(inputs)
    finally:
        rep.close()
    assert len(outs) == len(refs), f"{len(outs)} outputs, {len(refs)} expected"
    for name, out, ref in zip(model.graph.output, outs, refs):
        assert out.dtype == ref.dtype, f"{name.name}: {out.dtype}, expected {ref.dtype}"
        np.testing.assert_allclose(out, ref, rtol=rtol, atol=atol,
                                   err_msg=f"output {name.name!r} of {data_set}")


def check(case, client):
    """Runs every data set of the case on the daemon; AssertionError when an
    output differs from the reference."""
    model = onnx.load(os.path.join(case.path, "model.onnx"))
    for data_set in _data_sets(case):
        _run(case, model, data_set, client)


def frozen(case, data_set):
    """The case's model with the graph inputs it needs known at import (the
    shape inputs a node test feeds as data) made initializers of
    data_set's values; None when it is refused for another reason."""
    model = onnx.load(os.path.join(case.path, "model.onnx"))
    position = {vi.name: i for i, vi in enumerate(model.graph.input)}
    inputs, _ = _load_data(model, data_set)
    while True:
        try:
            Importer(model, TABLE)
            return model
        except DataDependentError as e:
            i = position.get(e.value)
            if i is None or i >= len(inputs) or not inputs[i].size:
                return None
            model.graph.initializer.append(numpy_helper.from_array(inputs[i], e.value))
        except UnsupportedError:
            return None


def check_frozen(case, client):
    """check() of the frozen() model of each data set; False when there is
    none (the case is not refused for its shape inputs alone)."""
    models = [(frozen(case, d), d) for d in _data_sets(case)]
    if not models or any(m is None for m, _ in models):
        return False
    for model, data_set in models:
        _run(case, model, data_set, client)
    return True


def outcome(case, client):
    """(status, detail) of one case: ("passed", None), ("skipped", the
    UnsupportedError), ("frozen", the DataDependentError of a case skipped
    that passes once its shape inputs are made constants), ("known", the
    reason in KNOWN_DIFFERENCES) or ("failed", what went wrong)."""
    known = KNOWN_DIFFERENCES.get(f"{case.suite}/{case.name}")
    try:
        why = refusal(case)
    except Exception as e:  # noqa: BLE001 (an import that crashes is a failure)
        return "failed", f"at import: {type(e).__name__}: {e}"
    if isinstance(why, DataDependentError):
        try:
            if check_frozen(case, client):
                return "frozen", why
        except Exception as e:  # noqa: BLE001 (a claimed op that fails)
            lines = str(e).strip().splitlines()
            return "failed", f"with its shape inputs made constants: {type(e).__name__}: " \
                             f"{lines[0] if lines else ''}"
    if why is not None:
        return "skipped", why
    try:
        check(case, client)
    except Exception as e:  # noqa: BLE001 (every failure is reported)
        if known:
            return "known", known
        lines = str(e).strip().splitlines()
        return "failed", f"{type(e).__name__}: {lines[0] if lines else ''}"
    if known:
        return "failed", "passes, yet is listed in KNOWN_DIFFERENCES"
    return "passed", None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--socket", help="salusd's socket (default: $SALUS_SOCKET or the "
                        "default path)")
    parser.add_argument("--suite", action="append", choices=SUITES,
                        help="a suite to run (default: all); may repeat")
    parser.add_argument("--data", default=DATA_DIR, help="the test data directory")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print each test's result")
    parser.add_argument("--top", type=int, default=15, help="blocking ops to list")
    args = parser.parse_args(argv)
    from .._client import connect

    tally = collections.defaultdict(collections.Counter)
    blockers = collections.Counter()
    failures = []
    start = time.monotonic()
    with connect(args.socket, name="salus.onnx.conformance") as client:
        for case in cases(args.suite or SUITES, args.data):
            status, detail = outcome(case, client)
            tally[case.suite][status] += 1
            result = status if status == "passed" else f"{status}: {detail}"
            if status == "skipped":
                blockers[detail.op or detail.reason.split(" (")[0].split(":")[0]] += 1
            elif status == "failed":
                failures.append(f"{case.suite}/{case.name}: {detail}")
            if args.verbose:
                print(f"{case.suite}/{case.name}: {result}")
    print(f"{'suite':<20} {'passed':>7} {'skipped':>8} {'frozen':>7} {'failed':>7} "
          f"{'known':>6} {'total':>6}")
    for suite, c in tally.items():
        print(f"{suite:<20} {c['passed']:>7} {c['skipped'] + c['frozen']:>8} {c['frozen']:>7} "
              f"{c['failed']:>7} {c['known']:>6} {sum(c.values()):>6}")
    print("(frozen: of the skipped, those refused for shape inputs fed as data that pass with "
          "them made constants;\n known: listed in KNOWN_DIFFERENCES, with the reason each "
          "differs)")
    print(f"\n{time.monotonic() - start:.0f} s. What blocks the most skipped tests (frozen "
          f"ones aside):")
    for what, count in blockers.most_common(args.top):
        print(f"  {count:4}  {what}")
    if failures:
        print("\nfailed:")
        print("\n".join(f"  {f}" for f in failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
