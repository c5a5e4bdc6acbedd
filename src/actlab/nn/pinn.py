"""The network of a physics-informed neural network (Raissi, Perdikaris, Karniadakis 2019).

    u(x, t) = W_out σ(… σ(W_1 [x, t] + b_1) …) + b_out

An MLP over the coordinates with a smooth activation (tanh) and Xavier initialisation by
default: PDE residuals take second derivatives of u, which vanish for ReLU-like units.
"""
from __future__ import annotations

from .layers import ActSpec
from .mlp import DeepMLP


class PINNNet(DeepMLP):
    """An MLP over `in_features` coordinates with `out_features` fields (see module docstring)."""

    def __init__(self, in_features: int = 2, out_features: int = 1, depth: int = 4, width: int = 50,
                 act: ActSpec = "tanh", init: str = "xavier") -> None:
        super().__init__(in_features, out_features, depth=depth, width=width, act=act, init=init)
