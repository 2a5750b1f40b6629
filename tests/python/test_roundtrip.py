"""Arrays in and out through a live daemon: every dtype and rank the C API
has, conversions of arrays that cannot be sent as they are (or a clear
refusal), and the absence of copies where the C API allows it."""

import gc

import numpy as np
import pytest

import salus
from salus import _session

SHAPES = [(), (1,), (7,), (3, 5), (2, 1, 4), (2, 3, 1, 2, 1, 2, 1, 3)]  # the last: rank 8
DTYPES = [salus.float32, salus.float16, salus.bfloat16, salus.int32, salus.int64,
          salus.float64]


def random_array(rng, dtype, shape):
    if dtype is salus.bfloat16:
        return salus.to_bfloat16(rng.normal(size=shape) * 100)
    if dtype.numpy.kind == "f":
        return (rng.normal(size=shape) * 1000).astype(dtype.numpy)
    info = np.iinfo(dtype.numpy)
    return np.asarray(rng.integers(info.min, info.max, size=shape, dtype=dtype.numpy,
                                   endpoint=True))


@pytest.fixture(scope="module")
def echo(daemon):
    """A session passing every (dtype, shape) through Identity and Reshape."""
    g = salus.Graph()
    for dt in DTYPES:
        for k, shape in enumerate(SHAPES):
            x = g.input(f"{dt.name}_{k}", shape, dtype=dt)
            g.output(g.identity(x), name=f"{dt.name}_{k}_id")
            g.output(g.reshape(x, (-1,)), name=f"{dt.name}_{k}_flat")
    with salus.connect(daemon.socket) as client, client.session(g, name="echo") as s:
        yield s


def test_every_dtype_and_rank_round_trips(echo):
    rng = np.random.default_rng(1)
    feeds = {}
    for dt in DTYPES:
        for k, shape in enumerate(SHAPES):
            feeds[f"{dt.name}_{k}"] = random_array(rng, dt, shape)
    for _ in range(2):  # and again on the same session
        out = echo.run(feeds)
        assert len(out) == 2 * len(feeds)
        for name, sent in feeds.items():
            got = out[f"{name}_id"]
            assert got.dtype == sent.dtype and got.shape == sent.shape, name
            assert got.tobytes() == np.asarray(sent).tobytes(), name
            flat = out[f"{name}_flat"]
            assert flat.shape == (sent.size,) and np.array_equal(flat, sent.reshape(-1)), name


def test_extreme_values_survive(echo):
    feeds = {f"{dt.name}_{k}": np.zeros(shape, dt.numpy)
             for dt in DTYPES for k, shape in enumerate(SHAPES)}
    feeds["float32_2"] = np.array([np.inf, -np.inf, np.nan, -0.0, 1e-45, 3.4e38, -3.4e38],
                                  np.float32)
    feeds["int64_2"] = np.array([np.iinfo(np.int64).min, np.iinfo(np.int64).max, -1, 0, 1, 2, 3])
    feeds["float16_2"] = np.array([65504, -65504, 6e-8, np.inf, np.nan, 0, 1], np.float16)
    out = echo.run(feeds)
    for name in ("float32_2", "int64_2", "float16_2"):
        assert np.array_equal(out[name + "_id"], feeds[name], equal_nan=True), name


@pytest.fixture(scope="module")
def scale(daemon):
    """y = 2 x + b for float32 x [3, 4]; labels i32 [3] passed through."""
    g = salus.Graph()
    x = g.input("x", (3, 4))
    labels = g.input("labels", (3,), dtype="int32")
    b = g.constant("b", np.arange(4, dtype=np.float32))
    g.output(x * 2.0 + b, name="y")
    g.output(g.identity(labels), name="labels_out")
    with salus.connect(daemon.socket) as client, client.session(g) as s:
        yield s


def expected_y(x):
    return np.asarray(x, np.float32) * 2 + np.arange(4, dtype=np.float32)


LABELS = np.array([0, 2, 1], np.int32)


@pytest.mark.parametrize("make", [
    lambda x: np.asfortranarray(x),                          # column-major
    lambda x: np.repeat(x, 2, axis=1)[:, ::2],               # strided view
    lambda x: x.astype(np.float64),                          # wider float
    lambda x: x.astype(">f4"),                               # big-endian
    lambda x: x.tolist(),                                    # nested lists
    lambda x: np.round(x * 10).astype(np.int64),             # integers into a float input
])
def test_arrays_that_cannot_be_sent_as_they_are_are_converted(scale, make):
    x = np.random.default_rng(2).normal(size=(3, 4)).astype(np.float32)
    fed = make(x)
    out = scale.run({"x": fed, "labels": LABELS})
    assert np.allclose(out["y"], expected_y(np.asarray(fed, np.float64)), rtol=1e-6)


def test_wrong_kind_or_shape_is_refused_clearly(scale):
    x = np.zeros((3, 4), np.float32)
    with pytest.raises(salus.ShapeError, match="input 'labels' is int32 but was fed float64"):
        scale.run({"x": x, "labels": np.zeros(3)})
    with pytest.raises(salus.ShapeError, match=r"input 'x' has shape \(3, 4\) but was fed an "
                                                r"array of shape \(4, 3\)"):
        scale.run({"x": np.zeros((4, 3)), "labels": LABELS})
    with pytest.raises(salus.ShapeError, match="is float32 but was fed <U"):
        scale.run({"x": [["a"] * 4] * 3, "labels": LABELS})
    with pytest.raises(salus.ShapeError, match="input 0 has rank 9, over the maximum of 8"):
        scale.run({"x": np.zeros((1,) * 9, np.float32), "labels": LABELS})
    # An array of the right dtype and the wrong shape goes straight to the
    # daemon, which refuses it; the session goes on.
    with pytest.raises(salus.ShapeError, match=r'"x" has shape \[3, 4\] but was fed \[12\]'):
        scale.run({"x": np.zeros(12, np.float32), "labels": LABELS})
    assert np.array_equal(scale.run({"x": x, "labels": LABELS})["labels_out"], LABELS)


def test_feeds_and_fetches(scale):
    x = np.ones((3, 4), np.float32)
    g_inputs = {"x": x, "labels": LABELS}
    assert set(scale.run(g_inputs)) == {"y", "labels_out"}
    assert scale.run(g_inputs, fetch="y").shape == (3, 4)
    assert list(scale.run(g_inputs, fetch=["labels_out"])) == ["labels_out"]
    assert scale.inputs == ("x", "labels") and scale.outputs == ("y", "labels_out")
    with pytest.raises(salus.InvalidArgumentError, match="'z' is not an output of this session; "
                                                         "its outputs are y, labels_out"):
        scale.run(g_inputs, fetch="z")
    with pytest.raises(salus.InvalidArgumentError, match="missing inputs: labels"):
        scale.run({"x": x})
    with pytest.raises(salus.InvalidArgumentError, match="'w' is not an input of this session"):
        scale.run({"x": x, "labels": LABELS, "w": x})
    with pytest.raises(salus.InvalidArgumentError, match="feeds must be a dict"):
        scale.run([x, LABELS])


def test_tensors_as_feed_and_fetch_keys(daemon):
    g = salus.Graph()
    x = g.input("x", (2,))
    y = g.output(g.relu(x), name="positive")
    with salus.connect(daemon.socket) as c, c.session(g) as s:
        assert s.name is None and s.status().name == ""
        got = s.run({x: np.array([-1.0, 3.0], np.float32)}, fetch=y)
        assert np.array_equal(got, [0.0, 3.0])
        # A tensor fetched in a list is keyed by its output name.
        assert list(s.run({x: np.zeros(2, np.float32)}, fetch=[y])) == ["positive"]


def test_a_graph_without_inputs(client):
    g = salus.Graph()
    g.output(g.constant("c", np.arange(4, dtype=np.float32)) * 2.0, name="y")
    with client.session(g, name="no inputs") as s:
        assert s.name == "no inputs" and s.inputs == ()
        assert np.array_equal(s.run({})["y"], [0, 2, 4, 6])
        assert np.array_equal(s.submit({}).result(fetch="y"), [0, 2, 4, 6])


def test_a_ready_array_is_sent_without_conversion(scale, monkeypatch):
    def no_conversion(spec, value):
        raise AssertionError(f"input {spec.name} was converted")

    monkeypatch.setattr(_session, "_as_input", no_conversion)
    x = np.random.default_rng(3).normal(size=(3, 4)).astype(np.float32)
    assert np.array_equal(scale.run({"x": x, "labels": LABELS})["y"], expected_y(x))
    assert np.array_equal(scale.submit({"x": x, "labels": LABELS}).result()["y"], expected_y(x))
    with pytest.raises(AssertionError, match="input x was converted"):
        scale.run({"x": np.asfortranarray(x), "labels": LABELS})


def test_outputs_are_views_of_the_received_tensors(scale):
    out = scale.run({"x": np.ones((3, 4), np.float32), "labels": LABELS})["y"]
    # The array does not own its memory: a capsule holding the libsalus
    # tensor does, so nothing was copied into numpy's own buffer.
    assert not out.flags.owndata
    assert type(out.base).__name__ == "PyCapsule"
    assert out.flags.c_contiguous and out.flags.writeable
    out[0, 0] = 42  # ours to change


def test_outputs_outlive_their_session_and_client(daemon):
    g = salus.Graph()
    g.output(g.identity(g.input("x", (1000,))), name="y")
    c = salus.connect(daemon.socket)
    s = c.session(g)
    x = np.arange(1000, dtype=np.float32)
    kept = s.run({"x": x})["y"]
    c.close()
    assert s.closed
    del s, c
    gc.collect()
    assert np.array_equal(kept, x)


def test_submitted_arrays_may_change_after_submit(scale):
    x = np.ones((3, 4), np.float32)
    future = scale.submit({"x": x, "labels": LABELS})
    x[:] = 100
    assert np.array_equal(future.result()["y"], expected_y(np.ones((3, 4))))
