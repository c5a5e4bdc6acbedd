"""A small patch-based Vision Transformer (Dosovitskiy et al. 2021, reduced).

    tokens = PatchEmbed(x) + pos                      (p×p patches, linear embedding)
    t ← t + Attn(LN(t));  t ← t + W₂ σ(W₁ LN(t))     × depth   (pre-norm blocks)
    y = W_out LN(mean over tokens)

The activation sits in each block's MLP; mean pooling instead of a class token.
"""
from __future__ import annotations

import torch
from torch import nn

from ..errors import ActlabError
from .init import init_weights
from .layers import ActSpec, LabeledModel, image_shape, make_activation, positive_int


def default_patch_size(size: int) -> int:
    """4 for images of 16 pixels or more (28 → 7×7 patches, 32 → 8×8), 2 for small ones (8 → 4×4)."""
    for p in ((4, 2, 1) if size >= 16 else (2, 1)):
        if size % p == 0:
            return p
    return 1


class TransformerBlock(nn.Module):
    def __init__(self, width: int, heads: int, mlp_ratio: int, act: ActSpec) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(width)
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.norm2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, mlp_ratio * width), make_activation(act),
                                 nn.Linear(mlp_ratio * width, width))

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        u = self.norm1(t)
        t = t + self.attn(u, u, u, need_weights=False)[0]
        return t + self.mlp(self.norm2(t))


class SmallViT(LabeledModel):
    """A small ViT: patch embedding, `depth` pre-norm transformer blocks of `width` dims,
    mean pooling and a linear readout. heads must divide width (default: 4 if it does, else 1)."""

    def __init__(self, input_shape, out_features: int, depth: int = 2, width: int = 64, act: ActSpec = "gelu",
                 heads: int | None = None, patch_size: int | None = None, mlp_ratio: int = 2,
                 init: str = "default") -> None:
        super().__init__()
        positive_int("depth", depth), positive_int("width", width)
        self.input_shape = c, h, w = image_shape(input_shape)
        p = patch_size or default_patch_size(min(h, w))
        if h % p or w % p:
            raise ActlabError(f"patch_size {p} must divide the image size {h}×{w}")
        heads = heads or (4 if width % 4 == 0 else 1)
        if width % heads:
            raise ActlabError(f"heads ({heads}) must divide width ({width})")
        self.embed = nn.Conv2d(c, width, p, stride=p)
        self.pos = nn.Parameter(torch.zeros(1, (h // p) * (w // p), width))
        nn.init.normal_(self.pos, std=0.02)
        self.blocks = nn.ModuleList(TransformerBlock(width, heads, mlp_ratio, act) for _ in range(depth))
        self.norm = nn.LayerNorm(width)
        self.readout = nn.Linear(width, out_features)
        init_weights(self, init, act, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = self.embed(x.reshape(-1, *self.input_shape)).flatten(2).transpose(1, 2) + self.pos
        for block in self.blocks:
            t = block(t)
        return self.readout(self.norm(t.mean(dim=1)))

    def named_layers(self) -> list[tuple[str, nn.Module]]:
        return ([("embed", self.embed)] + [(f"layer {i + 1}", b) for i, b in enumerate(self.blocks)]
                + [("readout", self.readout)])
