"""A Z-Plane MLP: Radial Bounding instead of ReLU and LayerNorm.

RECONSTRUCTION. The Z-Plane paper (Goo, Yun, Jung, arXiv 2606.15669) confirms the
activation RB(x) = x / max(1, ‖x‖) and the claim (a 100-layer MLP with no ReLU and no
LayerNorm trains stably); its layer design, width, initialisation and optimiser are
unknown. This model is actlab's reading:

    h_1 = RB(W_1 x + b_1)                    W_1 real (the input size may be odd)
    h_l = RB(W_l h_{l−1} + b_l)              l = 2 … depth; W_l real or complex-structured
    y   = s · W_out h_depth + b_out          s a learnable scalar logit scale

RB acts on phasor pairs (group_size = 2) or on the whole vector (group_size = None);
weights are orthogonal at initialisation; no ReLU and no normalisation layer.
The logit scale lets a readout of bounded features produce confident logits.
"""
from __future__ import annotations

import torch
from torch import nn

from ..errors import ActlabError
from .complex_linear import ComplexLinear
from .init import init_weights
from .layers import ActSpec, LabeledModel, make_activation, positive_int


class ZPlaneBlock(nn.Module):
    """(Complex) linear map → Radial Bounding, with an optional identity skip."""

    def __init__(self, linear: nn.Module, act: nn.Module, residual: bool) -> None:
        super().__init__()
        self.linear, self.act, self.residual = linear, act, residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.act(self.linear(x))
        return x + h if self.residual else h


class ZPlaneMLP(LabeledModel):
    """The Z-Plane MLP (a reconstruction, see the module docstring).

    Args:
        in_features, out_features: input size (inputs are flattened) and number of logits.
        depth: number of hidden layers; width: their size (even for phasor pairs).
        group_size: 2 (phasor pairs, default) or None (whole-vector RB); used when act is None.
        act: another activation to put in the same layer design (ablations); default RB.
        complex_weights: hidden maps of the form [[A, −B], [B, A]] (a linear map of C^{width/2}).
        residual: identity skip around every hidden layer after the first.
        init: initialisation scheme, orthogonal by default.
        logit_scale: initial value of the learnable readout scale s.
    """

    def __init__(self, in_features: int, out_features: int, depth: int = 4, width: int = 128,
                 group_size: int | None = 2, act: ActSpec | None = None, complex_weights: bool = False,
                 residual: bool = False, init: str = "orthogonal", logit_scale: float = 1.0) -> None:
        super().__init__()
        positive_int("depth", depth), positive_int("width", width)
        if act is None:
            act = f"radial_bounding(group_size={group_size})"
        if complex_weights and width % 2:
            raise ActlabError(f"complex_weights need an even width, got {width}")
        self.flatten = nn.Flatten()
        blocks = []
        for i in range(depth):
            if i > 0 and complex_weights:
                linear = ComplexLinear(width, width)
            else:
                linear = nn.Linear(in_features if i == 0 else width, width)
            blocks.append(ZPlaneBlock(linear, make_activation(act), residual and i > 0))
        self.blocks = nn.ModuleList(blocks)
        self.readout = nn.Linear(width, out_features)
        self.logit_scale = nn.Parameter(torch.tensor(float(logit_scale)))
        init_weights(self, init, act, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.flatten(x)
        for block in self.blocks:
            h = block(h)
        return self.logit_scale * self.readout(h)

    def named_layers(self) -> list[tuple[str, nn.Module]]:
        return [(f"layer {i + 1}", b) for i, b in enumerate(self.blocks)] + [("readout", self.readout)]
