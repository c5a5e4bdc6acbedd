"""Build a model by kind from the sizes a training configuration names."""
from __future__ import annotations

from typing import Sequence

from torch import nn

from ..errors import ActlabError
from .conv import SmallCNN, SmallResNet
from .layers import ActSpec, check_norm
from .mlp import DeepMLP
from .vit import SmallViT
from .zplane import ZPlaneMLP

MODELS = ("mlp", "zplane", "cnn", "resnet", "vit")


def build_model(kind: str, input_shape: Sequence[int], out_features: int, *, depth: int, width: int,
                act: ActSpec | None = None, norm: str | None = None, residual: bool = False, init: str = "default",
                group_size: int | None = 2, complex_weights: bool = False) -> nn.Module:
    """One of MODELS for inputs of `input_shape` (per example) and `out_features` outputs.

    depth/width mean: mlp, zplane — hidden layers/units; cnn — conv blocks/base channels;
    resnet — basic blocks/base channels; vit — transformer blocks/embedding size.
    act None is the model's own default: radial_bounding (with `group_size`) for zplane,
    gelu for vit, relu otherwise. For zplane, init "default" means its own default
    (orthogonal) and act "radial_bounding" takes `group_size`; norm must be none.
    """
    if act is None:
        act = {"zplane": "radial_bounding", "vit": "gelu"}.get(kind, "relu")
    in_features = 1
    for s in input_shape:
        in_features *= int(s)
    norm = check_norm(norm)
    if kind == "mlp":
        return DeepMLP(in_features, out_features, depth, width, act, norm, residual, init)
    if kind == "zplane":
        if norm is not None:
            raise ActlabError("the zplane model has no normalisation layer; use norm none (or model mlp)")
        rb = isinstance(act, str) and act.strip().lower() == "radial_bounding"
        return ZPlaneMLP(in_features, out_features, depth, width, group_size=group_size, act=None if rb else act,
                         complex_weights=complex_weights, residual=residual,
                         init="orthogonal" if init == "default" else init)
    if kind in ("cnn", "resnet", "vit"):
        if len(input_shape) not in (2, 3):
            raise ActlabError(f"model {kind!r} needs image data (C, H, W); this data set has input shape {tuple(input_shape)}")
        if kind == "cnn":
            return SmallCNN(input_shape, out_features, depth, width, act, norm, init)
        if kind == "resnet":
            return SmallResNet(input_shape, out_features, depth, width, act, norm or "batchnorm", init)
        if norm is not None:
            raise ActlabError("the vit model always uses LayerNorm; leave norm unset")
        return SmallViT(input_shape, out_features, depth, width, act, init=init)
    raise ActlabError(f"unknown model {kind!r}; allowed: {', '.join(MODELS)}")
