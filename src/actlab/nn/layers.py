"""Building blocks shared by the models: activation construction, labelled layers."""
from __future__ import annotations

import copy
from typing import Union

from torch import nn

from ..activations import get_activation
from ..activations.equivalents import is_activation
from ..errors import ActlabError

ActSpec = Union[str, nn.Module]


def make_activation(act: ActSpec) -> nn.Module:
    """A fresh activation module for one layer: from a registry name or spec string,
    or a deep copy of a module (so that learnable parameters are not shared by accident)."""
    if isinstance(act, nn.Module):
        return copy.deepcopy(act)
    return get_activation(act)


NORMS = ("layernorm", "batchnorm")
NORM_POSITIONS = ("post", "pre")  # the norm after the linear map (on the pre-activation), or on the layer's input


def check_norm(norm: str | None) -> str | None:
    """None/'none' → None; otherwise one of NORMS."""
    if norm is None or str(norm).lower() == "none":
        return None
    norm = str(norm).lower()
    if norm not in NORMS:
        raise ActlabError(f"unknown norm {norm!r}; allowed: none, {', '.join(NORMS)}")
    return norm


def make_norm(norm: str | None, width: int) -> nn.Module | None:
    """The normalisation layer for `width` features (1-D features or channels of an image)."""
    norm = check_norm(norm)
    if norm == "layernorm":
        return nn.LayerNorm(width)
    if norm == "batchnorm":
        return nn.BatchNorm1d(width)
    return None


def positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ActlabError(f"{name} must be a positive integer, got {value!r}")
    return value


class LabeledModel(nn.Module):
    """A model whose hidden layers carry human labels ("layer 37") for diagnostics.

    `named_layers()` returns (label, module) pairs in forward order; each module's
    output is the hidden representation the probes measure, and its parameters are
    the ones whose gradient norm is reported under that label.
    """

    def named_layers(self) -> list[tuple[str, nn.Module]]:  # pragma: no cover - each model overrides
        raise NotImplementedError


def named_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """(label, module) pairs in forward order for any torch model.

    actlab models label their blocks ("layer 1", …, "readout"); any other model is
    described by its leaf modules that hold parameters or are activations, labelled
    by their qualified names.
    """
    if isinstance(model, LabeledModel):
        return model.named_layers()
    out = []
    for name, module in model.named_modules():
        if name and not any(True for _ in module.children()):
            if any(True for _ in module.parameters(recurse=False)) or is_activation(module):
                out.append((name, module))
    return out


def find_activation(module: nn.Module) -> nn.Module | None:
    """The first activation module inside `module` (itself included), or None."""
    for m in module.modules():
        if is_activation(m):
            return m
    return None


def make_channel_activation(act: ActSpec, channel_dim: int) -> nn.Module:
    """An activation for feature maps: group activations (Radial Bounding) group the
    channels at `channel_dim`, not the last (spatial) axis; elementwise ones are unchanged."""
    module = make_activation(act)
    if getattr(module, "group_size", None) is not None or type(module).__name__ == "RadialBounding":
        module.dim = channel_dim
    return module


def make_norm2d(norm: str | None, channels: int) -> nn.Module | None:
    """BatchNorm2d, or for "layernorm" GroupNorm with one group (LayerNorm over C, H, W)."""
    norm = check_norm(norm)
    if norm == "batchnorm":
        return nn.BatchNorm2d(channels)
    if norm == "layernorm":
        return nn.GroupNorm(1, channels)
    return None


def image_shape(input_shape) -> tuple[int, int, int]:
    """(C, H, W) from (C, H, W) or (H, W)."""
    shape = tuple(int(s) for s in input_shape)
    if len(shape) == 2:
        return (1, *shape)
    if len(shape) != 3:
        raise ActlabError(f"image models need an input shape (C, H, W) or (H, W), got {shape}")
    return shape
