"""Build a model by kind from the sizes a training configuration names, and each kind's own defaults.

Nothing is substituted behind the caller's back: init "default" is torch's own initialisation
for every model, and a setting a model cannot honour is an error. What a model picks when a
setting is left unset is written in MODEL_DEFAULTS, and actlab.train resolves it into the
run's config, so that the recorded config is what ran.
"""
from __future__ import annotations

from typing import Optional, Sequence

from torch import nn

from ..errors import ActlabError
from .conv import SmallCNN, SmallResNet
from .layers import NORM_POSITIONS, ActSpec, check_norm
from .mlp import DeepMLP
from .resmlp import ResidualMLP
from .vit import SmallViT
from .zplane import ZPlaneMLP

MODELS = ("mlp", "zplane", "resmlp", "cnn", "resnet", "vit")

# kind -> its defaults for the settings left unset (None), and the norms / norm positions it can build.
MODEL_DEFAULTS = {
    "mlp": {"act": "relu", "init": "default", "norm": None, "norm_position": "post"},
    "zplane": {"act": "radial_bounding", "init": "orthogonal", "norm": None, "norm_position": None},
    "resmlp": {"act": "relu", "init": "default", "norm": "layernorm", "norm_position": "pre"},
    "cnn": {"act": "relu", "init": "default", "norm": None, "norm_position": "post"},
    "resnet": {"act": "relu", "init": "default", "norm": "batchnorm", "norm_position": "post"},
    "vit": {"act": "gelu", "init": "default", "norm": "layernorm", "norm_position": "pre"},
}
_NORMS = {"zplane": (None,), "resmlp": ("layernorm",), "resnet": ("batchnorm", "layernorm"), "vit": ("layernorm",)}
_POSITIONS = {"mlp": NORM_POSITIONS, "resmlp": NORM_POSITIONS}
_RESIDUAL_OPTION = ("mlp", "zplane")     # the others are residual by construction (resmlp, resnet, vit) or never (cnn)


def resolve_model_settings(kind: str, act: ActSpec | None = None, init: Optional[str] = None,
                           norm: Optional[str] = None, norm_position: Optional[str] = None,
                           residual: bool = False, complex_weights: bool = False) -> dict:
    """The settings `kind` will run with: each None replaced by the model's default
    (MODEL_DEFAULTS), each value checked against what the model can build.

    Returns {"act", "init", "norm", "norm_position"}; norm_position is None where the model
    has no norm. Raises ActlabError for a setting the model would otherwise ignore or change.
    """
    if kind not in MODEL_DEFAULTS:
        raise ActlabError(f"unknown model {kind!r}; allowed: {', '.join(MODELS)}")
    defaults = MODEL_DEFAULTS[kind]
    norm = defaults["norm"] if norm is None else check_norm(norm)
    allowed = _NORMS.get(kind)
    if allowed is not None and norm not in allowed:
        names = ", ".join(n or "none" for n in allowed)
        raise ActlabError(f"the {kind} model takes norm {names}; got {norm or 'none'}")
    if norm is None:
        if norm_position is not None:
            raise ActlabError(f"norm_position {norm_position!r} needs a norm; the {kind} model has none here")
    else:
        norm_position = defaults["norm_position"] if norm_position is None else str(norm_position).lower()
        positions = _POSITIONS.get(kind, (defaults["norm_position"],))
        if norm_position not in positions:
            raise ActlabError(f"the {kind} model takes norm_position {', '.join(positions)}; got {norm_position!r}")
    if residual and kind not in _RESIDUAL_OPTION:
        raise ActlabError(f"residual applies to the models {', '.join(_RESIDUAL_OPTION)}; the {kind} model "
                          + ("has no skip connections" if kind == "cnn" else "is residual by construction"))
    if complex_weights and kind != "zplane":
        raise ActlabError(f"complex_weights applies to the zplane model only, not {kind}")
    return {"act": defaults["act"] if act is None else act, "init": defaults["init"] if init is None else init,
            "norm": norm, "norm_position": norm_position}


def build_model(kind: str, input_shape: Sequence[int], out_features: int, *, depth: int, width: int,
                act: ActSpec | None = None, norm: str | None = None, residual: bool = False,
                init: str | None = None, group_size: int | None = 2, complex_weights: bool = False,
                norm_position: str | None = None) -> nn.Module:
    """One of MODELS for inputs of `input_shape` (per example) and `out_features` outputs.

    depth/width mean: mlp, zplane, resmlp — hidden layers (blocks)/units; cnn — conv blocks/base
    channels; resnet — basic blocks/base channels; vit — transformer blocks/embedding size.
    act, init, norm, norm_position None are the model's own defaults (MODEL_DEFAULTS; e.g. the
    zplane model's init is orthogonal); init "default" is torch's initialisation for every
    model. For zplane, act "radial_bounding" takes `group_size`.
    """
    settings = resolve_model_settings(kind, act, init, norm, norm_position, residual, complex_weights)
    act, init, norm, position = settings["act"], settings["init"], settings["norm"], settings["norm_position"]
    in_features = 1
    for s in input_shape:
        in_features *= int(s)
    if kind == "mlp":
        return DeepMLP(in_features, out_features, depth, width, act, norm, residual, init,
                       norm_position=position or "post")  # no norm: the position is moot
    if kind == "resmlp":
        return ResidualMLP(in_features, out_features, depth, width, act, init, norm_position=position)
    if kind == "zplane":
        rb = isinstance(act, str) and act.strip().lower() == "radial_bounding"
        return ZPlaneMLP(in_features, out_features, depth, width, group_size=group_size, act=None if rb else act,
                         complex_weights=complex_weights, residual=residual, init=init)
    if len(input_shape) not in (2, 3):
        raise ActlabError(f"model {kind!r} needs image data (C, H, W); this data set has input shape {tuple(input_shape)}")
    if kind == "cnn":
        return SmallCNN(input_shape, out_features, depth, width, act, norm, init)
    if kind == "resnet":
        return SmallResNet(input_shape, out_features, depth, width, act, norm, init)
    return SmallViT(input_shape, out_features, depth, width, act, init=init)
