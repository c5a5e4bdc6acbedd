"""Deep fully connected networks.

    h_0 = flatten(x)
    post-norm (default):  h_l = σ(N(W_l h_{l−1} + b_l))       (+ h_{l−1} when residual and the widths agree)
    pre-norm:             h_l = σ(W_l N(h_{l−1}) + b_l)       (+ h_{l−1} likewise)
    y   = W_out h_L + b_out

N is an optional LayerNorm or BatchNorm (identity by default). Post-norm normalises each
pre-activation; pre-norm normalises each layer's input instead (for l ≥ 2 the same as a
norm after σ of the layer below, so the two positions cover the usual placements).
"""
from __future__ import annotations

import torch
from torch import nn

from ..errors import ActlabError
from .init import init_weights
from .layers import NORM_POSITIONS, ActSpec, LabeledModel, make_activation, make_norm, positive_int


class DenseBlock(nn.Module):
    """Linear → optional norm → activation (post-norm), or norm → Linear → activation (pre-norm),
    with an optional identity skip."""

    def __init__(self, in_features: int, out_features: int, act: ActSpec, norm: str | None = None,
                 residual: bool = False, norm_position: str = "post") -> None:
        super().__init__()
        if norm_position not in NORM_POSITIONS:
            raise ActlabError(f"norm_position must be one of {', '.join(NORM_POSITIONS)}; got {norm_position!r}")
        self.pre = norm_position == "pre"
        self.linear = nn.Linear(in_features, out_features)
        self.norm = make_norm(norm, in_features if self.pre else out_features)
        self.act = make_activation(act)
        self.residual = bool(residual) and in_features == out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        if self.norm is not None and self.pre:
            h = self.norm(h)
        h = self.linear(h)
        if self.norm is not None and not self.pre:
            h = self.norm(h)
        h = self.act(h)
        return x + h if self.residual else h


class DeepMLP(LabeledModel):
    """An MLP with `depth` hidden layers of `width` units and a linear readout.

    Args:
        in_features, out_features: input size (inputs are flattened) and output size.
        depth: number of hidden layers (Linear → norm → activation); depth = 100 is a
            "100-layer MLP" plus its readout.
        width: units per hidden layer.
        act: activation name, spec string ("zorro(a=1.5)") or module (copied per layer);
            "identity" makes the deep linear network, the control of any activation claim.
        norm: None, "layernorm" or "batchnorm".
        residual: identity skip around every hidden layer after the first.
        init: initialisation scheme (see `actlab.nn.init_weights`).
        norm_position: "post" (default; the norm on every pre-activation) or "pre" (on every
            layer's input); see the module docstring.

    Example::

        >>> net = DeepMLP(64, 10, depth=3, width=32, act="tanh", init="xavier")
        >>> net(torch.randn(5, 64)).shape
        torch.Size([5, 10])
    """

    def __init__(self, in_features: int, out_features: int, depth: int = 4, width: int = 128,
                 act: ActSpec = "relu", norm: str | None = None, residual: bool = False,
                 init: str = "default", norm_position: str = "post") -> None:
        super().__init__()
        positive_int("depth", depth), positive_int("width", width)
        self.flatten = nn.Flatten()
        sizes = [in_features] + [width] * depth
        self.blocks = nn.ModuleList(
            DenseBlock(sizes[i], sizes[i + 1], act, norm, residual, norm_position) for i in range(depth))
        self.readout = nn.Linear(width, out_features)
        init_weights(self, init, act, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.flatten(x)
        for block in self.blocks:
            h = block(h)
        return self.readout(h)

    def named_layers(self) -> list[tuple[str, nn.Module]]:
        return [(f"layer {i + 1}", b) for i, b in enumerate(self.blocks)] + [("readout", self.readout)]
