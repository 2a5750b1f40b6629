"""The builder's methods for the elementwise family of ops (salusd/ops/elementwise.cpp)."""


class ElementwiseOps:
    """Methods of Graph for the elementwise ops (a mixin over GraphCore and Ops)."""
