"""The builder's methods for the norm family of ops (salusd/ops/norm.cpp)."""


class NormOps:
    """Methods of Graph for the norm ops (a mixin over GraphCore and Ops)."""
