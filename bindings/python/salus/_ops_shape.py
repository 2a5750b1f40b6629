"""The builder's methods for the shape family of ops (salusd/ops/shape.cpp)."""


class ShapeOps:
    """Methods of Graph for the shape ops (a mixin over GraphCore and Ops)."""
