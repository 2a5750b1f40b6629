"""salus.onnx.backend: onnx.backend.base.Backend over salusd, so that
onnx.backend.test.BackendTest and other ONNX tooling run models on it."""

import numpy as np
from onnx import helper, mapping, shape_inference
from onnx.backend.base import Backend, BackendRep, Device, DeviceType, namedtupledict

from .._client import connect
from ._errors import UnsupportedError
from ._model import OnnxSession, check


class SalusRep(BackendRep):
    """A prepared model: ``run(inputs)`` takes a list (the model's graph
    inputs in order) or a dict of arrays and returns the outputs in order."""

    def __init__(self, session):
        self.session = session

    def run(self, inputs, **kwargs):
        """The outputs of one run, a namedtuple in the model's output order."""
        names = [i.name for i in self.session.model.graph.input]
        if isinstance(inputs, dict):
            feeds = dict(inputs)
        else:
            if isinstance(inputs, np.ndarray):
                inputs = [inputs]
            feeds = dict(zip(names, inputs))
        feeds = {k: v for k, v in feeds.items() if k in self.session.inputs}
        outs = self.session.run(feeds)
        out_names = list(self.session.outputs)
        return namedtupledict("Outputs", out_names)(*[outs[k] for k in out_names])

    def close(self):
        """Closes the model's session."""
        self.session.close()


class SalusBackend(Backend):
    """Runs ONNX models on salusd. ``prepare`` and ``run_model`` take the
    keywords of salus.onnx.load (``client``, ``name``, ``priority``,
    ``weight``, ``variables``); without ``client`` they use one shared
    connection to the default daemon ($SALUS_SOCKET)."""

    _client = None

    @classmethod
    def client(cls):
        """The backend's shared salus.Client, connected on first use."""
        if cls._client is None or cls._client.closed:
            cls._client = connect(name="salus.onnx.backend")
        return cls._client

    @classmethod
    def is_compatible(cls, model, device="CPU", **kwargs):
        """Whether salus.onnx imports the model (nothing is sent to the daemon)."""
        try:
            check(model)
        except UnsupportedError:
            return False
        return True

    @classmethod
    def supports_device(cls, device):
        """CPU always (the daemon's host runs a CPU backend); CUDA when the
        daemon serves a CUDA device."""
        kind = Device(device).type
        if kind == DeviceType.CPU:
            return True
        try:
            return "cuda" in cls.client().status().device.lower()
        except Exception:  # no daemon to ask
            return False

    @classmethod
    def prepare(cls, model, device="CPU", **kwargs):
        """A SalusRep of the model, opened on the daemon."""
        if not cls.supports_device(device):
            raise RuntimeError(f"salusd serves no {device} device")
        client = kwargs.pop("client", None) or cls.client()
        return SalusRep(OnnxSession(model, client=client, **kwargs))

    @classmethod
    def run_model(cls, model, inputs, device="CPU", **kwargs):
        """The outputs of one run of the model on inputs."""
        rep = cls.prepare(model, device, **kwargs)
        try:
            return rep.run(inputs)
        finally:
            rep.close()

    @classmethod
    def run_node(cls, node, inputs, device="CPU", outputs_info=None, **kwargs):
        """The outputs of one node on inputs (a list, or a dict by input
        name), run as a one-node model at the default opset."""
        names = [i for i in node.input if i]
        if isinstance(inputs, dict):
            arrays = [inputs[i] for i in names]
        else:
            arrays = list(inputs)
        graph_inputs = [helper.make_tensor_value_info(
            name, mapping.NP_TYPE_TO_TENSOR_TYPE[np.asarray(a).dtype], np.shape(a))
            for name, a in zip(names, arrays)]
        graph = helper.make_graph([node], "node", graph_inputs,
                                  [helper.make_empty_tensor_value_info(o)
                                   for o in node.output if o])
        model = shape_inference.infer_shapes(helper.make_model(graph))
        typed = {vi.name: vi for vi in model.graph.value_info}
        outputs = [typed.get(o.name, o) for o in model.graph.output]
        del model.graph.output[:]
        model.graph.output.extend(outputs)
        return cls.run_model(model, arrays, device, **kwargs)


__all__ = ["SalusBackend", "SalusRep"]
