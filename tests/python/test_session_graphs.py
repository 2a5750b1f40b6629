"""Several graphs over one session's variables, and variables read and
written between iterations, through the Python binding."""

import numpy as np
import pytest

import salus


def train_graph(batch):
    g = salus.Graph()
    x = g.input("x", (batch, 3))
    y = g.input("y", (batch,), dtype="int32")
    w = g.variable("w", np.full((3, 2), 0.1, "f4"))
    loss = g.softmax_cross_entropy(g.matmul(x, w), y, name="loss")
    g.sgd(loss, [w], lr=0.5, momentum=0.9)
    return g


def eval_graph(batch, name="w"):
    g = salus.Graph()
    x = g.input("x", (batch, 3))
    g.output(g.matmul(x, g.variable(name, np.zeros((3, 2), "f4"))), "logits")
    return g


def data(batch, seed):
    rng = np.random.default_rng(seed)
    return rng.random((batch, 3), dtype=np.float32), rng.integers(0, 2, batch).astype("i4")


def test_eval_and_short_batch_share_the_variables(client):
    s = client.session(train_graph(8), name="graphs")
    s.add_graph(eval_graph(8), "eval")
    s.add_graph(train_graph(3), "train:3")
    assert s.graphs == ("eval", "train:3")
    assert set(s.variables) == {"w", "w/sgd_buf", "w/sgd_step"}
    x, y = data(8, 0)
    s.run({"x": x, "y": y})
    s.run({"x": x[:3], "y": y[:3]}, graph="train:3")  # the short last batch
    w = s.read_variables(["w"])["w"]
    assert s.read_variables(["w/sgd_step"])["w/sgd_step"] == 2
    np.testing.assert_allclose(s.run({"x": x}, fetch="logits", graph="eval"), x @ w, rtol=1e-6)
    with pytest.raises(salus.InvalidArgumentError, match="no graph 'nope'"):
        s.run({"x": x}, graph="nope")


def test_checkpoint_resume_replays_the_losses(client):
    batches = [data(8, i) for i in range(6)]
    s = client.session(train_graph(8))
    losses = [float(s.run({"x": x, "y": y}, fetch="loss")) for x, y in batches[:3]]
    saved = s.read_variables()
    losses += [float(s.run({"x": x, "y": y}, fetch="loss")) for x, y in batches[3:]]
    s.close()
    # A new session from the saved values, and the same session rewound.
    resumed = client.session(train_graph(8), values=saved)
    again = [float(resumed.run({"x": x, "y": y}, fetch="loss")) for x, y in batches[3:]]
    assert again == losses[3:]
    resumed.write_variables(saved)
    assert [float(resumed.run({"x": x, "y": y}, fetch="loss")) for x, y in batches[3:]] == again


def test_refusals_change_nothing(client):
    s = client.session(train_graph(4))
    before = s.read_variables()
    with pytest.raises(salus.GraphError, match='"v".*cannot bring new ones'):
        s.add_graph(eval_graph(4, name="v"), "eval")
    with pytest.raises(salus.ShapeError):
        s.write_variables({"w": np.zeros((2, 2))})
    with pytest.raises(salus.InvalidArgumentError, match="'nope' is not a variable"):
        s.read_variables(["nope"])
    with pytest.raises(salus.ResourceError, match="largest graph first"):
        s.add_graph(train_graph(1 << 16), "huge")
    with pytest.raises(salus.InvalidArgumentError, match="not a variable of the graph: q"):
        client.session(train_graph(4), values={"q": 1})
    after = s.read_variables()
    assert all(np.array_equal(before[k], after[k]) for k in before)
    assert s.graphs == ()


def test_weights_over_the_frame_limit_open_in_several_writes():
    """A daemon whose frames hold 72 MiB takes a model of 80 MiB of
    variables: the session opens without their values (zeros), which follow
    in writes of at most 64 MiB, before the first iteration."""
    from conftest import Daemon

    d = Daemon("--max-frame-bytes", "72M", "--pool-bytes", "512M")
    try:
        rng = np.random.default_rng(0)
        big = [rng.random(10 << 20, dtype=np.float32) for _ in range(2)]  # 40 MiB each
        g = salus.Graph()
        x = g.input("x", (10 << 20,))
        a, b = (g.variable(n, v) for n, v in zip("ab", big))
        g.output(g.reduce_sum(x * a + b), "s")
        with salus.connect(d.socket) as c:
            with pytest.raises(salus.TooBigError):  # as one message it could not go
                _session_in_one_message(c, g)
            s = c.session(g)
            got = s.read_variables(["a"])["a"]
            np.testing.assert_array_equal(got, big[0])
            ones = np.ones(10 << 20, "f4")
            np.testing.assert_allclose(s.run({"x": ones}, fetch="s"),
                                       big[0].sum(dtype=np.float64) + big[1].sum(dtype=np.float64),
                                       rtol=1e-4)
            s.close()
    finally:
        assert d.stop() == 0


def _session_in_one_message(client, graph):
    """The graph with its values inline, as sessions of small graphs open."""
    from salus import _capi
    from salus._lower import lower

    c_graph, _, _, _, _ = lower(graph)
    try:
        with client._use() as handle:
            _capi.session_open(handle, c_graph, None, 0, 0, 1.0, 0)
    finally:
        _capi.salus_graph_free(c_graph)


def test_a_checkpoint_outlives_the_daemon():
    """Variables saved from one salusd start a session on the next, which
    trains on exactly as the first would have; the client of the first
    daemon gets a clear error once it is gone, never a hang."""
    from conftest import Daemon

    batches = [data(8, i) for i in range(6)]
    first = Daemon()
    try:
        with salus.connect(first.socket, name="before") as c:
            s = c.session(train_graph(8))
            for x, y in batches[:3]:
                s.run({"x": x, "y": y})
            saved = s.read_variables()
            want = [float(s.run({"x": x, "y": y}, fetch="loss")) for x, y in batches[3:]]
            assert first.stop() == 0
            with pytest.raises((salus.ConnectError, salus.ShutdownError)):
                s.run({"x": batches[0][0], "y": batches[0][1]})
    finally:
        first.kill()
    second = Daemon()
    try:
        with salus.connect(second.socket, name="after") as c:
            s = c.session(train_graph(8), values=saved)
            got = [float(s.run({"x": x, "y": y}, fetch="loss")) for x, y in batches[3:]]
        assert got == want
    finally:
        assert second.stop() == 0
