"""The import table's recurrent ops (LSTM, GRU, RNN), unrolled over the
static sequence length: one input projection for all steps, then per step
the recurrent product and the gates."""

import numpy as np

from ._import import floats, lowering, op, refuse, scalar

# Activations an RNN node may name, as functions of (node, tensor).
ACTIVATIONS = {
    "Sigmoid": lambda n, x: op(n, "Sigmoid", x),
    "Tanh": lambda n, x: op(n, "Tanh", x),
    "Relu": lambda n, x: op(n, "Relu", x),
}
GATES = {"LSTM": 4, "GRU": 3, "RNN": 1}
DEFAULT_ACTIVATIONS = {"LSTM": ["Sigmoid", "Tanh", "Tanh"], "GRU": ["Sigmoid", "Tanh"],
                       "RNN": ["Tanh"]}


def _pick(n, t, d):
    """t[d] of a [dirs, ...] tensor."""
    return n.g.squeeze(n.g.slice(t, [d], [d + 1], axes=[0]), 0)


def _step_slice(n, t, i):
    """t[i] of a [seq, ...] tensor."""
    return n.g.squeeze(n.g.slice(t, [i], [i + 1], axes=[0]), 0)


class _Cell:
    """What one direction's steps need: its weights and activations."""

    def __init__(self, n, kind, d, acts, hidden):
        self.n, self.kind, self.hidden = n, kind, hidden
        self.acts = acts
        self.r_t = n.g.transpose(_pick(n, n.t(2, floats=True), d))  # [H, G·H]
        self.wb = self.rb = None
        if n.has(3):
            b = _pick(n, n.t(3, floats=True), d)
            g = GATES[kind] * hidden
            self.wb = n.g.slice(b, [0], [g], axes=[0])
            self.rb = n.g.slice(b, [g], [2 * g], axes=[0])
        self.peep = _pick(n, n.t(7, floats=True), d) if kind == "LSTM" and n.has(7) else None
        clip = n.attr("clip")
        self.clip = None if clip is None else (scalar(n, -clip, self.r_t),
                                               scalar(n, clip, self.r_t))

    def act(self, i, x):
        """Activation i of the direction on x (clipped first, as ONNX clips
        every activation's input)."""
        if self.clip is not None:
            x = op(self.n, "Clip", x, *self.clip)
        return ACTIVATIONS[self.acts[i]](self.n, x)

    def gates(self, x, parts):
        """x's last axis cut into `parts` equal parts."""
        outs = op(self.n, "Split", x, num_outputs=parts, axis=-1)
        return outs if parts > 1 else [outs]

    def step(self, xw, h, c):
        n, H = self.n, self.hidden
        if self.kind == "GRU":
            return self._gru(xw, h), None
        pre = op(n, "Add", xw, n.g.matmul(h, self.r_t))
        if self.kind == "RNN":
            return self.act(0, pre), None
        i, o, f, g = self.gates(pre, 4)
        if self.peep is not None:
            p_i, p_o, p_f = (n.g.slice(self.peep, [k * H], [(k + 1) * H]) for k in range(3))
            i = op(n, "Add", i, op(n, "Mul", p_i, c))
            f = op(n, "Add", f, op(n, "Mul", p_f, c))
        i, f, g = self.act(0, i), self.act(0, f), self.act(1, g)
        c = op(n, "Add", op(n, "Mul", f, c), op(n, "Mul", i, g))
        if self.peep is not None:
            o = op(n, "Add", o, op(n, "Mul", p_o, c))
        return op(n, "Mul", self.act(0, o), self.act(2, c)), c

    def _gru(self, xw, h):
        n = self.n
        xz, xr, xh = self.gates(xw, 3)
        rz, rr, rh = self.gates(self.r_t, 3)
        bz = br = bh = None
        if self.rb is not None:
            bz, br, bh = self.gates(self.rb, 3)
        def rec(weight, bias):  # noqa: E306
            y = n.g.matmul(h, weight)
            return y if bias is None else op(n, "Add", y, bias)
        z = self.act(0, op(n, "Add", xz, rec(rz, bz)))
        r = self.act(0, op(n, "Add", xr, rec(rr, br)))
        if self.n.attr("linear_before_reset"):
            hh = op(n, "Mul", r, rec(rh, bh))
        else:
            hh = n.g.matmul(op(n, "Mul", r, h), rh)
            if bh is not None:
                hh = op(n, "Add", hh, bh)
        hh = self.act(1, op(n, "Add", xh, hh))
        one = scalar(n, 1.0, h)
        return op(n, "Add", op(n, "Mul", op(n, "Sub", one, z), hh), op(n, "Mul", z, h))


@lowering("LSTM", "GRU", "RNN", since=7)
def _recurrent(n):
    """Unrolled over the sequence: MatMul, Add, Split, Sigmoid, Tanh, Relu, Mul, Concat
    (whole sequences; peepholes and clip too)."""
    kind = n.proto.op_type
    x, = floats(n, 0)
    layout = n.attr("layout", 0)
    if layout:
        x = n.g.transpose(x, [1, 0, 2])
    seq, batch = x.shape[0], x.shape[1]
    if n.has(4):
        lens = np.asarray(n.const(4, "sequence_lens"))
        if not np.all(lens == seq):
            refuse("sequences shorter than the input: Salus unrolls whole sequences")
    if kind == "LSTM" and n.attr("input_forget"):
        refuse("input_forget")
    hidden = n.attr("hidden_size") or n.shape(2)[-1]
    direction = n.attr("direction")
    dirs = 2 if direction == "bidirectional" else 1
    per_dir = len(DEFAULT_ACTIVATIONS[kind])
    acts = list(n.attr("activations") or DEFAULT_ACTIVATIONS[kind] * dirs)
    for a in acts:
        if a not in ACTIVATIONS:
            refuse(f"activation {a}: Salus unrolls RNNs with {', '.join(ACTIVATIONS)}")
    if n.attr("activation_alpha") or n.attr("activation_beta"):
        refuse("activation_alpha or activation_beta")
    w = n.t(1, floats=True)
    ys, hs, cs = [], [], []
    for d in range(dirs):
        cell = _Cell(n, kind, d, acts[d * per_dir:(d + 1) * per_dir], hidden)
        xw = n.g.matmul(x, n.g.transpose(_pick(n, w, d)))  # [seq, batch, G·H]
        if cell.wb is not None:
            bias = cell.wb if kind == "GRU" else op(n, "Add", cell.wb, cell.rb)
            xw = op(n, "Add", xw, bias)
        zeros = np.zeros((batch, hidden), np.float32)
        h = _pick(n, n.t(5, floats=True), d) if n.has(5) else n.constant(zeros)
        c = None
        if kind == "LSTM":
            c = _pick(n, n.t(6, floats=True), d) if n.has(6) else n.constant(zeros)
        reverse = direction == "reverse" or d == 1
        steps = [None] * seq
        for i in (reversed(range(seq)) if reverse else range(seq)):
            h, c = cell.step(_step_slice(n, xw, i), h, c)
            steps[i] = n.g.unsqueeze(h, 0)
        ys.append(n.g.unsqueeze(op(n, "Concat", *steps, axis=0) if seq > 1 else steps[0], 1))
        hs.append(n.g.unsqueeze(h, 0))
        if c is not None:
            cs.append(n.g.unsqueeze(c, 0))
    cat = lambda ts, axis: ts[0] if len(ts) == 1 else op(n, "Concat", *ts, axis=axis)  # noqa
    y, y_h = cat(ys, 1), cat(hs, 0)  # [seq, dirs, batch, H], [dirs, batch, H]
    y_c = cat(cs, 0) if cs else None
    if layout:
        y = n.g.transpose(y, [2, 0, 1, 3])
        y_h = n.g.transpose(y_h, [1, 0, 2])
        y_c = None if y_c is None else n.g.transpose(y_c, [1, 0, 2])
    return [y, y_h, y_c]
