"""torch.optim's SGD, Adam and AdamW as the daemon's update ops (whose
formulas are torch.optim's), one node per parameter. Their state lives in
variables named after the parameter, ``optim.<param>.<torch's state key>``
(momentum_buffer, exp_avg, exp_avg_sq, step), and converts to and from
torch.optim's state_dict layout. The learning rate of each param group is
a graph input read from the optimizer at every step, so that schedulers
work; every other hyperparameter is fixed when the step is captured."""

import numpy as np
import torch

from ._capture import UnsupportedError

PREFIX = "optim."

# Per optimizer class: the hyperparameters baked into the graph, and the
# state kept per parameter (torch's keys; SGD's step only tells whether the
# momentum buffer exists yet: torch has no such key).
_SGD_KEYS = ("momentum", "dampening", "weight_decay", "nesterov")
_ADAM_KEYS = ("betas", "eps", "weight_decay")


def _kind(opt):
    for cls, kind in ((torch.optim.AdamW, "adamw"), (torch.optim.Adam, "adam"),
                      (torch.optim.SGD, "sgd")):
        if type(opt) is cls:
            return kind
    raise UnsupportedError(f"salus.torch: optimizer {type(opt).__name__} (SGD, Adam and AdamW "
                           f"are supported)")


def hyperparameters(opt, group):
    keys = _SGD_KEYS if _kind(opt) == "sgd" else _ADAM_KEYS
    return {k: group[k] for k in keys}


def _check(opt):
    for group in opt.param_groups:
        for key in ("maximize", "amsgrad", "differentiable", "capturable"):
            if group.get(key):
                raise UnsupportedError(f"salus.torch: {type(opt).__name__} with {key}=True")


def lr_name(opt, index):
    return "lr" if len(opt.param_groups) == 1 else f"lr.{index}"


def state_keys(opt, group):
    if _kind(opt) != "sgd":
        return ("exp_avg", "exp_avg_sq", "step")
    return ("momentum_buffer", "step") if group["momentum"] else ()


def state_name(param_name, key):
    return f"{PREFIX}{param_name}.{key}"


def initial_state(opt, param, group):
    """The state variables' initial values: the optimizer's own state for
    param if it has one (a resumed optimizer), else zeros."""
    state = opt.state.get(param, {})
    values = {}
    for key in state_keys(opt, group):
        if key == "step":
            # SGD's buffer exists only after a first step.
            had = state.get("step", 1.0 if state.get("momentum_buffer") is not None else 0.0)
            values[key] = np.float32(float(had))
        elif state.get(key) is not None:
            values[key] = state[key].detach().cpu().numpy().astype(np.float32)
        else:
            values[key] = np.zeros(tuple(param.shape), np.float32)
    return values


def update(g, opt, group, var, grad, state, lr):
    """The update node of one parameter: var and grad salus tensors, state
    the salus variables of state_keys, lr the group's lr input."""
    _check(opt)
    kind = _kind(opt)
    if kind == "sgd":
        if not group["momentum"]:
            return g.sgd_update(var, grad, lr, weight_decay=group["weight_decay"])
        return g.sgd_momentum_update(var, grad, state["momentum_buffer"], state["step"], lr,
                                     group["momentum"], group["dampening"], group["nesterov"],
                                     group["weight_decay"])
    beta1, beta2 = group["betas"]
    method = g.adam_update if kind == "adam" else g.adamw_update
    return method(var, grad, state["exp_avg"], state["exp_avg_sq"], state["step"], lr,
                  beta1=beta1, beta2=beta2, eps=group["eps"], weight_decay=group["weight_decay"])


def to_torch(opt, values, names):
    """torch.optim's state_dict from the state variables' values: names maps
    each of the optimizer's parameters to its name."""
    sd = opt.state_dict()
    state = {}
    index = 0
    for group in opt.param_groups:
        for p in group["params"]:
            entry = {}
            keys = state_keys(opt, group)
            step = values.get(state_name(names[p], "step")) if keys else None
            if keys and float(step) > 0:
                for key in keys:
                    value = values[state_name(names[p], key)]
                    if _kind(opt) == "sgd" and key == "step":
                        continue
                    entry[key] = torch.tensor(value) if key == "step" else torch.from_numpy(
                        np.array(value))
            if entry:
                state[index] = entry
            index += 1
    sd["state"] = state
    return sd


def from_torch(opt, sd, names):
    """The state variables' values from torch.optim's state_dict sd (loaded
    into opt first, which checks it and sets the hyperparameters)."""
    opt.load_state_dict(sd)
    values = {}
    for group in opt.param_groups:
        for p in group["params"]:
            for key, value in initial_state(opt, p, group).items():
                values[state_name(names[p], key)] = value
    opt.state.clear()  # salusd holds it
    return values
