"""Small convolutional networks for 8×8 to 32×32 images.

SmallCNN:    [conv3×3 → norm → σ → maxpool2] × depth → global average pool → linear
SmallResNet: conv3×3 stem → depth basic blocks  σ(x + N(conv(σ(N(conv x)))))
             (three stages, channels doubling, stride 2 at a stage's first block)
             → global average pool → linear           (He et al. 2016, reduced)
Inputs may come flat (N, C·H·W); they are viewed as (N, C, H, W).
"""
from __future__ import annotations

import torch
from torch import nn

from .init import init_weights
from .layers import (ActSpec, LabeledModel, image_shape, make_channel_activation, make_norm2d,
                     positive_int)


class ConvBlock(nn.Module):
    """conv3×3 → optional norm → activation → optional 2×2 max-pool."""

    def __init__(self, c_in: int, c_out: int, act: ActSpec, norm: str | None, pool: bool) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.norm = make_norm2d(norm, c_out)
        self.act = make_channel_activation(act, 1)
        self.pool = nn.MaxPool2d(2) if pool else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv(x)
        if self.norm is not None:
            h = self.norm(h)
        return self.pool(self.act(h))


class SmallCNN(LabeledModel):
    """A small CNN: `depth` conv blocks with width·2^min(i, 2) channels (pooling while the
    image is at least 4 pixels wide), global average pooling and a linear readout."""

    def __init__(self, input_shape, out_features: int, depth: int = 2, width: int = 32, act: ActSpec = "relu",
                 norm: str | None = None, init: str = "default") -> None:
        super().__init__()
        positive_int("depth", depth), positive_int("width", width)
        self.input_shape = image_shape(input_shape)
        c, size = self.input_shape[0], self.input_shape[1]
        blocks = []
        for i in range(depth):
            c_out = width * 2 ** min(i, 2)
            pool = size >= 4
            blocks.append(ConvBlock(c, c_out, act, norm, pool))
            c, size = c_out, size // 2 if pool else size
        self.blocks = nn.ModuleList(blocks)
        self.readout = nn.Linear(c, out_features)
        init_weights(self, init, act, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.reshape(-1, *self.input_shape)
        for block in self.blocks:
            h = block(h)
        return self.readout(h.mean(dim=(2, 3)))

    def named_layers(self) -> list[tuple[str, nn.Module]]:
        return [(f"layer {i + 1}", b) for i, b in enumerate(self.blocks)] + [("readout", self.readout)]


class BasicBlock(nn.Module):
    """σ(shortcut(x) + N(conv(σ(N(conv x))))); the shortcut is a strided 1×1 conv when the shape changes."""

    def __init__(self, c_in: int, c_out: int, stride: int, act: ActSpec, norm: str | None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=norm is None)
        self.norm1 = make_norm2d(norm, c_out) or nn.Identity()
        self.act1 = make_channel_activation(act, 1)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=norm is None)
        self.norm2 = make_norm2d(norm, c_out) or nn.Identity()
        self.shortcut = (nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False)
                         if stride != 1 or c_in != c_out else nn.Identity())
        self.act2 = make_channel_activation(act, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.act1(self.norm1(self.conv1(x)))
        return self.act2(self.shortcut(x) + self.norm2(self.conv2(h)))


class SmallResNet(LabeledModel):
    """A reduced ResNet: stem, `depth` basic blocks in up to three stages, linear readout.

    norm defaults to BatchNorm as in He et al.; norm=None gives the unnormalised variant.
    """

    def __init__(self, input_shape, out_features: int, depth: int = 3, width: int = 16, act: ActSpec = "relu",
                 norm: str | None = "batchnorm", init: str = "default") -> None:
        super().__init__()
        positive_int("depth", depth), positive_int("width", width)
        self.input_shape = image_shape(input_shape)
        c_in, size = self.input_shape[0], self.input_shape[1]
        self.stem = nn.Sequential(nn.Conv2d(c_in, width, 3, padding=1), *(m for m in [make_norm2d(norm, width)] if m),
                                  make_channel_activation(act, 1))
        blocks, c = [], width
        for i in range(depth):
            stage, first = min(i * 3 // depth, 2), i > 0 and min((i - 1) * 3 // depth, 2) != min(i * 3 // depth, 2)
            stride = 2 if first and size >= 4 else 1
            c_out = width * 2 ** stage
            blocks.append(BasicBlock(c, c_out, stride, act, norm))
            c, size = c_out, (size + 1) // 2 if stride == 2 else size
        self.blocks = nn.ModuleList(blocks)
        self.readout = nn.Linear(c, out_features)
        init_weights(self, init, act, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.stem(x.reshape(-1, *self.input_shape))
        for block in self.blocks:
            h = block(h)
        return self.readout(h.mean(dim=(2, 3)))

    def named_layers(self) -> list[tuple[str, nn.Module]]:
        return ([("stem", self.stem)] + [(f"layer {i + 1}", b) for i, b in enumerate(self.blocks)]
                + [("readout", self.readout)])
