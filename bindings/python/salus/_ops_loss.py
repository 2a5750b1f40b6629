"""The builder's methods for the loss family of ops (salusd/ops/loss.cpp)."""


class LossOps:
    """Methods of Graph for the loss ops (a mixin over GraphCore and Ops)."""
