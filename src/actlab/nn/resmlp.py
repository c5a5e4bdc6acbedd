"""The residual MLP with LayerNorm: the standard strong baseline for deep fully connected nets.

    h_0 = W_in flatten(x) + b_in                              (embedding to `width`)
    pre-norm (default):  h_l = h_{l−1} + W_l σ(LN(h_{l−1})) + b_l,   y = W_out LN(h_L) + b_out
    post-norm:           h_l = LN(h_{l−1} + W_l σ(h_{l−1}) + b_l),   y = W_out h_L + b_out

Pre-norm is the block of pre-LN Transformers (Xiong et al. 2020) reduced to one linear
map: the residual stream is never normalised, each branch sees a normalised input, and
a final LayerNorm feeds the readout. Post-norm is the original Transformer's placement.
"""
from __future__ import annotations

import torch
from torch import nn

from ..errors import ActlabError
from .init import init_weights
from .layers import NORM_POSITIONS, ActSpec, LabeledModel, make_activation, positive_int


class ResidualBlock(nn.Module):
    """h + W σ(LN h) + b (pre-norm) or LN(h + W σ(h) + b) (post-norm)."""

    def __init__(self, width: int, act: ActSpec, norm_position: str = "pre") -> None:
        super().__init__()
        if norm_position not in NORM_POSITIONS:
            raise ActlabError(f"norm_position must be one of {', '.join(NORM_POSITIONS)}; got {norm_position!r}")
        self.pre = norm_position == "pre"
        self.norm = nn.LayerNorm(width)
        self.act = make_activation(act)
        self.linear = nn.Linear(width, width)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if self.pre:
            return h + self.linear(self.act(self.norm(h)))
        return self.norm(h + self.linear(self.act(h)))


class ResidualMLP(LabeledModel):
    """A residual MLP with LayerNorm (see the module docstring); model name "resmlp".

    Args:
        in_features, out_features: input size (inputs are flattened) and output size.
        depth: number of residual blocks; width: the residual stream's size.
        act: activation name, spec string or module (copied per block).
        init: initialisation scheme of every Linear (see `actlab.nn.init_weights`);
            LayerNorms start at weight 1, bias 0.
        norm_position: "pre" (default) or "post".

    Example::

        >>> net = ResidualMLP(64, 10, depth=3, width=32)
        >>> net(torch.randn(5, 64)).shape
        torch.Size([5, 10])
    """

    def __init__(self, in_features: int, out_features: int, depth: int = 4, width: int = 128,
                 act: ActSpec = "relu", init: str = "default", norm_position: str = "pre") -> None:
        super().__init__()
        positive_int("depth", depth), positive_int("width", width)
        self.flatten = nn.Flatten()
        self.embed = nn.Linear(in_features, width)
        self.blocks = nn.ModuleList(ResidualBlock(width, act, norm_position) for _ in range(depth))
        self.norm = nn.LayerNorm(width) if norm_position == "pre" else nn.Identity()
        self.readout = nn.Linear(width, out_features)
        init_weights(self, init, act, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.embed(self.flatten(x))
        for block in self.blocks:
            h = block(h)
        return self.readout(self.norm(h))

    def named_layers(self) -> list[tuple[str, nn.Module]]:
        return ([("embed", self.embed)] + [(f"layer {i + 1}", b) for i, b in enumerate(self.blocks)]
                + [("readout", self.readout)])
