"""Gradient rules of the shape family for _autograd: op name -> rule(graph,
node, dy, wanted), returning one gradient (or None) per input of the node. The helpers
(_dense, _unbroadcast, _fresh, ...) are _autograd's: `from . import _autograd`."""

RULES = {}
