"""salus.onnx: PyTorch models exported to ONNX and served by salusd agree
with PyTorch; refusals happen at load, before anything reaches the daemon;
several ONNX sessions run at once; doc/onnx.md matches the import table."""

import io
import os
import threading

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="python3-onnx is not installed")
torch = pytest.importorskip("torch", reason="python3-torch is not installed")

import salus  # noqa: E402
import salus.onnx  # noqa: E402
from onnx import TensorProto, helper  # noqa: E402

from salus.onnx import _doc  # noqa: E402

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "doc", "onnx.md")


class SmallCNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.body = torch.nn.Sequential(
            torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
            torch.nn.MaxPool2d(2), torch.nn.Conv2d(8, 16, 3, stride=2), torch.nn.BatchNorm2d(16),
            torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
            torch.nn.Linear(16, 10))

    def forward(self, x):
        return self.body(x)


class LSTMHead(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(8, 16, num_layers=2, batch_first=True)
        self.out = torch.nn.Linear(16, 4)

    def forward(self, x):
        y, _ = self.lstm(x)
        return self.out(y[:, -1])


def _trained_batch_norm(model):
    # Running statistics away from 0 and 1, so that the import must use them.
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    return model


def _models():
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True)
    return {
        "cnn": (_trained_batch_norm(SmallCNN()), (4, 3, 16, 16)),
        "transformer": (torch.nn.TransformerEncoder(layer, 2), (2, 5, 32)),
        "lstm": (LSTMHead(), (3, 7, 8)),
    }


def export(model, shape, opset=17):
    """The model's ONNX export, batch dimension symbolic, batch norm kept as
    its own node (PRESERVE: not folded into the convolutions)."""
    model.eval()
    f = io.BytesIO()
    torch.onnx.export(model, (torch.randn(*shape),), f, input_names=["x"], output_names=["y"],
                      opset_version=opset, dynamic_axes={"x": {0: "batch"}},
                      training=torch.onnx.TrainingMode.PRESERVE)
    return onnx.load_from_string(f.getvalue())


@pytest.fixture(scope="module")
def exported():
    return {k: (m, export(m, shape), shape) for k, (m, shape) in _models().items()}


@pytest.mark.parametrize("kind", ["cnn", "transformer", "lstm"])
def test_served_models_agree_with_pytorch(kind, exported, client):
    model, proto, shape = exported[kind]
    with salus.onnx.load(proto, client=client, name=kind) as sess:
        for batch in (shape[0], shape[0] + 3, shape[0]):  # a second batch size, then the first
            x = torch.randn(batch, *shape[1:])
            with torch.no_grad():
                want = model(x).numpy()
            got = sess.run({"x": x.numpy()})["y"]
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
        # Both batch sizes share one session: the weights are resident once.
        assert len(sess.session.graphs) == 1
        assert not sess._extra


def test_an_older_opset_agrees_too(client):
    """Opset 11: LayerNormalization decomposed by torch (Pow, Sqrt, ...),
    Squeeze and Unsqueeze with attributes, Softmax flattening to 2-D."""
    model, shape = _models()["transformer"]
    x = torch.randn(*shape)
    with salus.onnx.load(export(model, shape, opset=11), client=client) as sess:
        with torch.no_grad():
            want = model(x).numpy()
        np.testing.assert_allclose(sess.run({"x": x.numpy()})["y"], want, rtol=1e-4, atol=1e-5)


def test_batch_sizes_open_at_load_largest_first(exported, client):
    model, proto, shape = exported["cnn"]
    with salus.onnx.load(proto, client=client, batch_sizes=(1, 16, 4)) as sess:
        first = sess.session
        assert len(first.graphs) == 2  # 16 opened it, 4 and 1 added
        for batch in (4, 1, 16):
            x = torch.randn(batch, *shape[1:])
            with torch.no_grad():
                want = model(x).numpy()
            np.testing.assert_allclose(sess.run({"x": x.numpy()})["y"], want, rtol=1e-4,
                                       atol=1e-5)
        assert sess.session is first and not sess._extra  # no reopening


def test_batch_norm_is_imported_as_such(exported):
    ops = {n.op_type for n in exported["cnn"][1].graph.node}
    assert "BatchNormalization" in ops and "LSTM" in {
        n.op_type for n in exported["lstm"][1].graph.node}


def test_variables_can_be_swapped(client):
    w = np.arange(6, dtype=np.float32).reshape(2, 3)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])],
        [onnx.numpy_helper.from_array(w, "w")])
    with salus.onnx.load(helper.make_model(graph), client=client, variables=True) as sess:
        x = np.ones((1, 2), np.float32)
        np.testing.assert_allclose(sess.run({"x": x})["y"], x @ w)
        sess.session.write_variables({"w": -w})
        np.testing.assert_allclose(sess.run({"x": x})["y"], -(x @ w))


def test_swapped_weights_survive_a_bigger_batch(client):
    """A batch needing more ephemeral memory reopens the session: the
    variables written before are kept."""
    w = np.ones((4, 8), np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 8])],
        [onnx.numpy_helper.from_array(w, "w")])
    with salus.onnx.load(helper.make_model(graph), client=client, variables=True) as sess:
        sess.run({"x": np.ones((1, 4), np.float32)})
        sess.session.write_variables({"w": 2 * w})
        first = sess.session
        x = np.ones((64, 4), np.float32)
        np.testing.assert_allclose(sess.run({"x": x})["y"], x @ (2 * w))
        assert sess.session is not first and first.closed
        np.testing.assert_allclose(sess.run({"x": x[:1]})["y"], x[:1] @ (2 * w))


def test_a_constant_that_depends_on_the_batch_gets_its_own_session(client):
    """y = x + arange(batch)[:, None]: each batch size folds another constant,
    which a graph added to a session may not bring: it opens its own."""
    k = lambda name, v: helper.make_node(  # noqa: E731
        "Constant", [], [name], value=onnx.numpy_helper.from_array(np.array(v)))
    nodes = [helper.make_node("Shape", ["x"], ["s"]), k("z", [0]), k("one_i", [1]),
             k("zero", np.float32(0)), k("one", np.float32(1)),
             helper.make_node("Gather", ["s", "z"], ["b"]),
             helper.make_node("Cast", ["b"], ["bf"], to=TensorProto.FLOAT),
             helper.make_node("Squeeze", ["bf"], ["bs"]),
             helper.make_node("Range", ["zero", "bs", "one"], ["r"]),
             helper.make_node("Unsqueeze", ["r", "one_i"], ["r2"]),
             helper.make_node("Add", ["x", "r2"], ["y"])]
    graph = helper.make_graph(nodes, "g", [_f("x", ["batch", 3])], [_f("y", None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    with salus.onnx.load(model, client=client) as sess:
        for batch in (4, 2):
            y = sess.run({"x": np.zeros((batch, 3), np.float32)})["y"]
            np.testing.assert_array_equal(y, np.repeat(np.arange(batch)[:, None], 3, 1))
        assert len(sess._extra) == 1


def _one_node_model(node, inputs, outputs, opset=17):
    graph = helper.make_graph([node], "g", inputs, outputs)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _f(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def _refused(model, client):
    before = len(client.sessions())
    with pytest.raises(salus.onnx.UnsupportedError) as info:
        salus.onnx.load(model, client=client)
    assert len(client.sessions()) == before  # nothing reached the daemon
    return info.value


def test_an_unsupported_op_is_refused_naming_it(client):
    node = helper.make_node("Det", ["x"], ["y"], name="determinant")
    e = _refused(_one_node_model(node, [_f("x", [3, 3])], [_f("y", [])]), client)
    assert (e.op, e.domain, e.opset, e.node) == ("Det", "", 17, "determinant")
    assert "Det (domain ai.onnx, opset 17) at node 'determinant'" in str(e)
    assert isinstance(e, salus.Error)


def test_a_data_dependent_shape_is_refused(client):
    node = helper.make_node("Reshape", ["x", "shape"], ["y"], name="reshape by data")
    model = _one_node_model(node, [_f("x", [2, 3]), helper.make_tensor_value_info(
        "shape", TensorProto.INT64, [2])], [_f("y", None)])
    e = _refused(model, client)
    assert isinstance(e, salus.onnx.DataDependentError)
    assert "computed from the data" in str(e) and "reshape by data" in str(e)


def test_unsupported_dtypes_and_versions_are_refused(client):
    node = helper.make_node("Relu", ["x"], ["y"])
    u8 = [helper.make_tensor_value_info(n, TensorProto.UINT8, [2]) for n in "xy"]
    assert "dtype uint8" in str(_refused(_one_node_model(node, u8[:1], u8[1:]), client))
    newer = _one_node_model(node, [_f("x", [2])], [_f("y", [2])], opset=onnx.defs
                            .onnx_opset_version() + 1)
    assert "newer than" in str(_refused(newer, client))


def test_refusal_needs_no_daemon(monkeypatch):
    monkeypatch.setenv("SALUS_SOCKET", "/nonexistent/salusd.sock")
    node = helper.make_node("Unique", ["x"], ["y"])
    with pytest.raises(salus.onnx.UnsupportedError):
        salus.onnx.load(_one_node_model(node, [_f("x", [4])], [_f("y", None)]))


def test_several_onnx_sessions_at_once(exported, client):
    sessions = {k: salus.onnx.load(p, client=client, name=f"concurrent-{k}")
                for k, (_, p, _) in exported.items()}
    errors = []

    def serve(kind):
        model, _, shape = exported[kind]
        try:
            for _ in range(5):
                x = torch.randn(*shape)
                with torch.no_grad():
                    want = model(x).numpy()
                np.testing.assert_allclose(sessions[kind].run({"x": x.numpy()})["y"], want,
                                           rtol=1e-4, atol=1e-5)
        except Exception as e:  # noqa: BLE001 (reported by the main thread)
            errors.append(e)

    threads = [threading.Thread(target=serve, args=(k,)) for k in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    names = {s.name for s in client.sessions() if s.name}
    for s in sessions.values():
        s.close()
    assert not errors, errors
    assert {f"concurrent-{k}" for k in sessions} <= names


def test_the_backend_runs_nodes_and_models(client, monkeypatch):
    monkeypatch.setattr(salus.onnx.backend, "_client", client)
    assert salus.onnx.backend.supports_device("CPU")
    x = np.random.randn(3, 4).astype(np.float32)
    node = helper.make_node("Softmax", ["x"], ["y"], axis=0)
    (y,) = salus.onnx.backend.run_node(node, [x])
    e = np.exp(x - x.max(0))
    np.testing.assert_allclose(y, e / e.sum(0), rtol=1e-5)
    x64 = x.astype(np.float64)
    (y,) = salus.onnx.backend.run_node(helper.make_node("Relu", ["x"], ["y"]), [x64])
    assert y.dtype == np.float64  # double is fed and fetched as such
    np.testing.assert_allclose(y, np.maximum(x64, 0), rtol=1e-6)


def test_integer_and_double_arithmetic_keep_their_dtype(client, monkeypatch):
    monkeypatch.setattr(salus.onnx.backend, "_client", client)
    a, b = np.array([7, -7, 9], np.int64), np.array([2, 2, -4], np.int64)
    (q,) = salus.onnx.backend.run_node(helper.make_node("Div", ["a", "b"], ["q"]), [a, b])
    assert q.dtype == np.int64 and q.tolist() == [3, -3, -2]  # truncated, as ONNX
    x, y = np.array([1e198, 1.0]), np.array([[2e197], [1e-12]])
    (s,) = salus.onnx.backend.run_node(helper.make_node("Add", ["x", "y"], ["s"]), [x, y])
    assert s.dtype == np.float64 and np.array_equal(s, x + y)  # beyond float32


def test_onnx_backend_test_runs_on_salus(client, monkeypatch):
    """onnx.backend.test.BackendTest over salus.onnx.backend. (Debian's onnx
    1.12 compares with np.object, gone from numpy 1.24: put it back.)"""
    import unittest

    import onnx.backend.test

    monkeypatch.setattr(np, "object", object, raising=False)
    monkeypatch.setattr(salus.onnx.backend, "_client", client)
    bt = onnx.backend.test.BackendTest(salus.onnx.backend, __name__)
    bt.include(r"^test_(relu|softmax_axis_0|operator_flatten|lstm_defaults)_cpu$")
    suite = unittest.TestSuite()
    for case in bt.test_cases.values():
        suite.addTests(unittest.defaultTestLoader.loadTestsFromTestCase(case))
    result = unittest.TestResult()
    suite.run(result)
    assert not result.errors and not result.failures, result.errors + result.failures
    assert result.testsRun - len(result.skipped) == 4


def test_doc_lists_the_import_table():
    with open(DOC) as f:
        text = f.read()
    assert text == _doc.render(text), "doc/onnx.md is stale: python3 -m salus.onnx._doc " \
                                      "--write doc/onnx.md"
    for _, name, _ in salus.onnx.supported_ops():
        assert f"| `{name}` |" in text


def test_the_example_serves_and_agrees(daemon):
    import subprocess
    import sys

    pytest.importorskip("torchvision", reason="the example serves a torchvision ResNet")
    example = os.path.join(os.environ.get("SALUS_EXAMPLES", "../../examples/python"),
                           "onnx_serve.py")
    out = subprocess.run([sys.executable, example, "--socket", daemon.socket,
                          "--requests", "3"], capture_output=True, text=True, timeout=100)
    assert out.returncode == 0, out.stderr
    diffs = [float(line.rsplit(" ", 1)[1]) for line in out.stdout.splitlines()
             if line.startswith("request")]
    assert len(diffs) == 3 and max(diffs) < 1e-4, out.stdout
    assert "3 batch sizes in session" in out.stdout


@pytest.mark.parametrize("mode", ["nearest", "bilinear", "bicubic"])
def test_resize_agrees_with_pytorch(mode, client):
    class Up(torch.nn.Module):
        def forward(self, x):
            kw = {} if mode == "nearest" else {"align_corners": False}
            return torch.nn.functional.interpolate(x, scale_factor=2.5 if mode != "nearest"
                                                   else 2, mode=mode, **kw)

    x = torch.randn(2, 3, 5, 4)
    with salus.onnx.load(export(Up(), x.shape), client=client) as sess:
        got = sess.run({"x": x.numpy()})["y"]
    np.testing.assert_allclose(got, Up()(x).numpy(), rtol=1e-4, atol=1e-5)


def test_batch_sizes_from_several_threads(exported, client):
    """New batch sizes arriving at once, some reopening the session for more
    ephemeral memory while others run: every answer is PyTorch's."""
    model, proto, shape = exported["cnn"]
    errors = []
    with salus.onnx.load(proto, client=client, name="many-batches") as sess:
        def serve(sizes):
            try:
                for b in sizes:
                    x = torch.randn(b, *shape[1:])
                    with torch.no_grad():
                        want = model(x).numpy()
                    np.testing.assert_allclose(sess.run({"x": x.numpy()})["y"], want,
                                               rtol=1e-4, atol=1e-5)
            except Exception as e:  # noqa: BLE001 (reported by the main thread)
                errors.append(e)

        threads = [threading.Thread(target=serve, args=(sizes,))
                   for sizes in ([1, 2, 3, 9], [9, 3, 1, 6], [2, 6, 12, 1], [12, 1, 2, 3])]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        assert len(sess.session.graphs) == 5  # six sizes, one session


def test_shape_computations_fold(client):
    """Reshape to [Floor(d0 / 2), -1] computed from Shape: folded at import,
    while Floor on data is refused."""
    c = lambda name, v: helper.make_node(  # noqa: E731
        "Constant", [], [name], value=onnx.numpy_helper.from_array(np.array(v)))
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        c("zero", [0]), c("two", np.float32(2)), c("rest", [-1]),
        helper.make_node("Gather", ["s", "zero"], ["d0"]),
        helper.make_node("Cast", ["d0"], ["d0f"], to=TensorProto.FLOAT),
        helper.make_node("Div", ["d0f", "two"], ["half"]),
        helper.make_node("Floor", ["half"], ["halff"]),
        helper.make_node("Cast", ["halff"], ["h"], to=TensorProto.INT64),
        helper.make_node("Concat", ["h", "rest"], ["shape"], axis=0),
        helper.make_node("Reshape", ["x", "shape"], ["y"]),
    ]
    graph = helper.make_graph(nodes, "g", [_f("x", ["batch", 3])], [_f("y", None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    with salus.onnx.load(model, client=client) as sess:
        x = np.arange(30, dtype=np.float32).reshape(10, 3)
        np.testing.assert_array_equal(sess.run({"x": x})["y"], x.reshape(5, 6))
    floor = _one_node_model(helper.make_node("Floor", ["x"], ["y"], name="floor"),
                            [_f("x", [2])], [_f("y", [2])])
    assert "computed at run time" in str(_refused(floor, client))


def test_every_public_name_has_a_docstring():
    import inspect

    missing = []
    for name in salus.onnx.__all__:
        obj = getattr(salus.onnx, name)
        if not inspect.getdoc(obj):
            missing.append(name)
        for member, value in inspect.getmembers(obj):
            if not member.startswith("_") and (inspect.isfunction(value) or
                                               inspect.ismethod(value)):
                if not inspect.getdoc(value):
                    missing.append(f"{name}.{member}")
    assert not missing, missing


def test_check_imports_without_a_daemon(exported, monkeypatch):
    monkeypatch.setenv("SALUS_SOCKET", "/nonexistent/salusd.sock")
    salus.onnx.check(exported["lstm"][1])
    assert salus.onnx.backend.is_compatible(exported["cnn"][1])
    det = _one_node_model(helper.make_node("Det", ["x"], ["y"]), [_f("x", [3, 3])],
                          [_f("y", [])])
    with pytest.raises(salus.onnx.UnsupportedError):
        salus.onnx.check(det)
    assert not salus.onnx.backend.is_compatible(det)


@pytest.mark.parametrize("kw", [dict(stride=2, padding=1, output_padding=1),
                                dict(stride=(3, 1, 2), padding=(0, 1, 1), dilation=(2, 1, 1),
                                     groups=2)])
def test_3d_transposed_convolutions_agree_with_pytorch(kw, client):
    torch.manual_seed(0)
    model = torch.nn.ConvTranspose3d(4, 6, (3, 2, 3), **kw)
    x = torch.randn(2, 4, 3, 5, 4)
    with salus.onnx.load(export(model, x.shape), client=client) as sess:
        got = sess.run({"x": x.numpy()})["y"]
    with torch.no_grad():
        np.testing.assert_allclose(got, model(x).numpy(), rtol=1e-4, atol=1e-5)
