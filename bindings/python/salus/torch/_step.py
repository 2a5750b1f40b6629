"""train_step and inference: a captured module in a Salus session. The
module's parameters and float32 buffers are the session's variables
(``model.<name>``), the optimizer's state too (``optim.<name>.<key>``);
each batch shape and mode gets its own graph over them (``train:8x784,8``,
``eval:8x784``), added to the session the first time it is used, or opening
it again when the lane cannot hold it."""

import numpy as np
import torch
import torch.utils._pytree as pytree

from .. import Graph, ResourceError, connect
from .._graph import CONSTANT, INPUT
from . import _optim
from ._capture import UnsupportedError, functional, trace
from ._translate import Host, Translation, host_array, salus_dtype

MODEL = "model."


class _Captured:
    """One graph of the session: its name and what each run feeds."""

    def __init__(self, name, graph, randoms, counted, out_spec=None):
        self.name = name
        self.graph = graph
        self.randoms = randoms
        self.counted = counted
        self.out_spec = out_spec
        self.fixed = {}  # inputs fed the same value at every run

    def constants_to_inputs(self):
        """A graph added to a session brings no constants of its own: they
        become inputs, fed their values at every run."""
        g = self.graph
        for t in [t for t in g._values if t.kind == CONSTANT]:
            self.fixed[t.name] = g._values.pop(t)
            t.kind = INPUT


class _Module:
    """The module's parameters and buffers, by name, as a session holds
    them: float32 ones as variables, others (num_batches_tracked) here."""

    def __init__(self, model):
        self.model = model
        self.params = dict(model.named_parameters())
        for n, p in self.params.items():
            if p.dtype != torch.float32:
                raise UnsupportedError(f"salus.torch: parameter {n} is {p.dtype}; Salus trains "
                                       f"float32 models")
        self.buffers = dict(model.named_buffers())
        self.tensors = {**self.params, **self.buffers}
        self.names = list(self.tensors)
        self.host = {n: t.detach().clone() for n, t in self.buffers.items()
                     if t.dtype != torch.float32}
        self.name_of = {t: n for n, t in self.tensors.items()}
        # state_dict keys (a tied tensor has several) -> our name
        self.keys = {k: self.name_of[v] for k, v in model.state_dict(keep_vars=True).items()}

    def leaves(self, g):
        """The graph's variables (and Host buffers), in the order of names."""
        out = []
        for n in self.names:
            t = self.tensors[n]
            out.append(Host(n) if n in self.host else g.variable(MODEL + n, host_array(t)))
        return out

    def trace_args(self):
        """Copies of the tensors to trace with (tracing runs the model and
        would update its buffers)."""
        return [t.detach().clone().requires_grad_(t.requires_grad) for t in self.tensors.values()]


def _inputs(g, tensors, names):
    leaves = []
    for name, t in zip(names, tensors):
        dt = salus_dtype(t)
        if dt is None:
            raise UnsupportedError(f"salus.torch: {name} is {t.dtype}; Salus takes float32, "
                                   f"int32, int64 and bool")
        leaves.append(g.input(name, tuple(t.shape), dt))
    return leaves


def _as_tuple(inputs):
    return tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)


def _input_names(n):
    return [f"input{i}" for i in range(n)]


def _shape_tag(tensors):
    return ",".join("x".join(map(str, t.shape)) for t in tensors)


class _Session:
    """The session and its graphs, keyed by mode and input shapes. Every
    graph declares every variable of the session (an eval graph the
    optimizer's state too, unused), so that any of them may open it."""

    def __init__(self, module, client, session_args):
        self.module = module
        self.own_client = client is None
        self.client = connect() if client is None else client
        self.session_args = session_args
        self.session = None
        self.first = None  # the graph that opened the session
        self.graphs = {}
        self.variables = {}  # name -> initial value, of every graph so far

    def graph_for(self, mode, tensors, build):
        key = (mode, tuple(tuple(t.shape) for t in tensors))
        captured = self.graphs.get(key)
        if captured is None:
            captured = build(f"{mode}:{_shape_tag(tensors)}")
            self._declare_variables(captured.graph)
            if self.session is None:
                self.session = self.client.session(captured.graph, **self.session_args)
                self.first = captured
            else:
                try:
                    self._add(captured)
                except ResourceError:  # more ephemeral memory than the lane holds
                    self._reopen(captured)
            self.graphs[key] = captured
        return captured

    def _declare_variables(self, g):
        for t in g.variables:
            self.variables.setdefault(t.name, g.value(t))
        for name, value in self.variables.items():
            if name not in g._tensors:
                g.variable(name, value)

    def _add(self, captured):
        captured.constants_to_inputs()
        self.session.add_graph(captured.graph, captured.name)

    def _reopen(self, captured):
        """The session opened again with captured's graph (the lane then holds
        the largest graph's ephemeral memory), the others added, the values
        of the variables kept."""
        old = self.session
        values = old.read_variables()
        self.session = self.client.session(captured.graph, values=values,
                                           **self.session_args)
        self.first = captured
        for other in self.graphs.values():
            self._add(other)
        old.close()

    def run(self, captured, feeds, fetch):
        feeds.update(captured.fixed)
        for r in captured.randoms:
            feeds[r.name] = r.sample()
        graph = None if captured is self.first else captured.name
        out = self.session.run(feeds, fetch=fetch, graph=graph)
        for h in captured.counted:
            self.module.host[h.name] += 1
        return out

    def close(self):
        if self.session is not None:
            self.session.close()
        if self.own_client:
            self.client.close()


def _forward_graph(module, inputs, name, training):
    """The graph of the module's forward pass on inputs (outputs output0...)."""
    model = module.model
    was_training = model.training
    model.train(training)
    spec = []
    call = functional(model, module.names)

    def forward(tensors, xs):
        out, tree = pytree.tree_flatten(call(tensors, xs))
        spec.append(tree)
        return out

    try:
        gm = trace(model, forward, (module.trace_args(), list(inputs)))
    finally:
        model.train(was_training)
    g = Graph()
    leaves = module.leaves(g) + _inputs(g, inputs, _input_names(len(inputs)))
    tr = Translation(gm, g, leaves)
    for i, t in enumerate(tr.run()):
        g.output(t, f"output{i}")
    return _Captured(name, g, tr.randoms, tr.counted, spec[-1])


def _forward_run(session, captured, inputs):
    feeds = {n: host_array(x) for n, x in zip(_input_names(len(inputs)), inputs)}
    names = [f"output{i}" for i in range(captured.out_spec.num_leaves)]
    out = session.run(captured, feeds, names)
    return pytree.tree_unflatten([torch.from_numpy(np.array(out[n])) for n in names],
                                 captured.out_spec)


class _OnSalus:
    """What TrainStep and Inference share: the session, the eval graphs."""

    @property
    def session(self):
        """The salus.Session running this (its status, its variables)."""
        return self._session.session

    def _eval_graph(self, inputs):
        return self._session.graph_for(
            "eval", inputs, lambda name: _forward_graph(self._module, inputs, name, False))

    def _forward(self, inputs):
        return _forward_run(self._session, self._eval_graph(inputs), inputs)

    def close(self):
        """Closes the session (and the client, if this made it)."""
        self._session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class TrainStep(_OnSalus):
    """One training iteration of a module, loss function and optimizer, run
    by salusd: ``step(*inputs, target)`` does forward, backward and the
    optimizer's update and returns the loss (a 0-d tensor). Made by
    ``salus.torch.train_step``; a context manager closing its session."""

    def __init__(self, model, loss_fn, opt, example_inputs, example_target, client=None,
                 name=None, iterations=0, priority=0, weight=1.0):
        self._module = _Module(model)
        self._loss_fn = loss_fn
        self._opt = opt
        self._hyper = [_optim.hyperparameters(opt, g) for g in opt.param_groups]
        self._session = _Session(self._module, client, dict(
            name=name, iterations=iterations, priority=priority, weight=weight))
        self._train_graph(_as_tuple(example_inputs), example_target)

    # ---- the train graph -----------------------------------------------------------

    def _trained(self):
        """(group index, group, param) of each parameter the optimizer updates."""
        out = []
        for i, group in enumerate(self._opt.param_groups):
            for p in group["params"]:
                if p not in self._module.name_of:
                    raise UnsupportedError("salus.torch: the optimizer updates a tensor that is "
                                           "not a parameter of the model")
                out.append((i, group, p))
        return out

    def _train_graph(self, inputs, target):
        return self._session.graph_for(
            "train", inputs + (target,), lambda name: self._build_train(name, inputs, target))

    def _build_train(self, name, inputs, target):
        module, model = self._module, self._module.model
        trained = self._trained()
        index = [module.names.index(module.name_of[p]) for _, _, p in trained]
        call = functional(model, module.names)
        loss_fn = self._loss_fn

        def step(tensors, xs, y):
            loss = loss_fn(call(tensors, xs), y)
            # A frozen parameter (requires_grad False) gets no gradient, so no update.
            wanted = [i for i in index if tensors[i].requires_grad]
            grads = torch.autograd.grad(loss, [tensors[i] for i in wanted], allow_unused=True)
            grads = dict(zip(wanted, grads))
            return [loss, *(grads.get(i) for i in index)]

        was_training = model.training
        model.train()
        try:
            gm = trace(model, step, (module.trace_args(), list(inputs), target))
        finally:
            model.train(was_training)
        g = Graph()
        leaves = (module.leaves(g) + _inputs(g, inputs, _input_names(len(inputs))) +
                  _inputs(g, [target], ["target"]))
        tr = Translation(gm, g, leaves)
        loss, *grads = tr.run()
        if loss is None or loss.shape != ():
            raise UnsupportedError("salus.torch: the loss function must return a scalar")
        g.output(loss, "loss")
        lrs = [g.input(_optim.lr_name(self._opt, i), ()) for i in range(len(self._hyper))]
        for (i, group, p), grad in zip(trained, grads):
            pname = module.name_of[p]
            state = {k: g.variable(_optim.state_name(pname, k), v)
                     for k, v in _optim.initial_state(self._opt, p, group).items()}
            if grad is not None:  # torch.optim skips a parameter without a gradient
                _optim.update(g, self._opt, group, g[MODEL + pname], grad, state, lrs[i])
        return _Captured(name, g, tr.randoms, tr.counted)

    # ---- running ------------------------------------------------------------------

    def __call__(self, *args):
        """One training step on inputs and target (the last argument);
        returns the loss as a 0-d tensor."""
        *inputs, target = args
        captured = self._train_graph(tuple(inputs), target)
        feeds = {n: host_array(x) for n, x in zip(_input_names(len(inputs)), inputs)}
        feeds["target"] = host_array(target)
        for i, group in enumerate(self._opt.param_groups):
            if _optim.hyperparameters(self._opt, group) != self._hyper[i]:
                raise UnsupportedError(
                    f"salus.torch: param group {i}'s hyperparameters changed since the step "
                    f"was captured; only lr may change")
            feeds[_optim.lr_name(self._opt, i)] = np.float32(group["lr"])
        loss = self._session.run(captured, feeds, "loss")
        # The optimizer did step (in salusd): LR schedulers count on that.
        self._opt._step_count = getattr(self._opt, "_step_count", 0) + 1
        return torch.from_numpy(np.array(loss, dtype=np.float32))

    def eval(self, *inputs):
        """The model's output on inputs in eval mode (dropout off, batch
        norm's running statistics), with the session's current weights."""
        return self._forward(inputs)

    # ---- state ---------------------------------------------------------------------

    def state_dict(self):
        """{"model": the module's state_dict, "optimizer": torch.optim's
        state_dict}, as salusd holds them now."""
        values = self._session.session.read_variables()
        module = self._module
        model = {}
        for key, name in module.keys.items():
            value = module.host.get(name)
            model[key] = value.clone() if value is not None else \
                torch.from_numpy(np.array(values[MODEL + name]))
        names = {p: module.name_of[p] for _, _, p in self._trained()}
        return {"model": model, "optimizer": _optim.to_torch(self._opt, values, names)}

    def load_state_dict(self, sd):
        """Loads a state_dict of the layout state_dict() returns."""
        module = self._module
        values = {}
        for key, value in sd["model"].items():
            name = module.keys[key]
            if name in module.host:
                module.host[name] = value.detach().clone()
            else:
                values[MODEL + name] = host_array(value).astype(np.float32)
        names = {p: module.name_of[p] for _, _, p in self._trained()}
        # Loaded hyperparameters other than lr are checked at the next step.
        values.update(_optim.from_torch(self._opt, sd["optimizer"], names))
        self._session.session.write_variables(values)

    def copy_to(self, model):
        """Copies the trained parameters and buffers into model (the module
        trained, or another of its architecture)."""
        sd = self.state_dict()["model"]
        model.load_state_dict(sd)


class Inference(_OnSalus):
    """A module's forward pass in eval mode, run by salusd: ``infer(*inputs)``
    returns what ``model.eval()(*inputs)`` would. Made by
    ``salus.torch.inference``."""

    def __init__(self, model, example_inputs, client=None, name=None, iterations=0, priority=0,
                 weight=1.0):
        self._module = _Module(model)
        self._session = _Session(self._module, client, dict(
            name=name, iterations=iterations, priority=priority, weight=weight))
        self._eval_graph(_as_tuple(example_inputs))  # opens the session

    def __call__(self, *inputs):
        """model.eval()(*inputs), computed by salusd."""
        return self._forward(inputs)
