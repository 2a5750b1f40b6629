"""The builder's methods for the conv family of ops (salusd/ops/conv.cpp)."""


class ConvOps:
    """Methods of Graph for the conv ops (a mixin over GraphCore and Ops)."""
