"""Initialisation schemes by name, applied to every Linear / Conv layer of a model.

    default     torch's own initialisation (left untouched)
    kaiming     W ~ N(0, 2/fan_in), b = 0            (He et al. 2015, ReLU gain)
    xavier      W ~ N(0, 2/(fan_in + fan_out)), b = 0 (Glorot & Bengio 2010)
    orthogonal  W = a random (semi-)orthogonal matrix, b = 0 (Saxe et al. 2014)
    critical    W ~ N(0, C_W/fan_in), b ~ N(0, C_b)  with (C_b, C_W) the critical point of
                the activation from `actlab.theory.critical_init` (Roberts, Yaida, Hanin 2022)

Layers that define `reset_parameters_by(scheme, **kw)` (the complex-structured
linear map of the Z-Plane model) initialise themselves.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import ActlabError

INIT_SCHEMES = ("default", "kaiming", "xavier", "orthogonal", "critical")


def check_init(scheme: str) -> str:
    scheme = str(scheme).lower()
    if scheme not in INIT_SCHEMES:
        raise ActlabError(f"unknown init scheme {scheme!r}; allowed: {', '.join(INIT_SCHEMES)}")
    return scheme


def critical_point(act, width: int | None = None) -> tuple[float, float]:
    """(C_b, C_W) at criticality for `act` (name, spec string or module), from the theory
    engine; `width` is needed only by whole-vector group activations."""
    try:
        from ..theory import critical_init
    except ImportError as exc:  # the theory layer is optional at this point of the build
        raise ActlabError(f"init 'critical' needs actlab.theory.critical_init, which is not available ({exc})") from None
    try:
        point = critical_init(act, width)
    except ActlabError as exc:
        raise ActlabError(f"init 'critical' is not available for activation {act!r}: {exc}") from None
    if point is None or getattr(point, "C_W", None) is None:
        why = getattr(point, "verdict", "")
        raise ActlabError(f"init 'critical': activation {act!r} has no critical point ({why}); "
                          "use default, kaiming, xavier or orthogonal")
    c_b, c_w = float(point.C_b), float(point.C_W)
    if not (math.isfinite(c_b) and math.isfinite(c_w) and c_w > 0 and c_b >= 0):
        raise ActlabError(f"init 'critical': activation {act!r} has no finite critical point (C_b={c_b}, C_W={c_w})")
    return c_b, c_w


def _weighted(model: nn.Module):
    for m in model.modules():
        if hasattr(m, "reset_parameters_by"):
            yield m
        elif isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d)):
            yield m


@torch.no_grad()
def init_weights(model: nn.Module, scheme: str = "default", act=None, width: int | None = None) -> nn.Module:
    """Initialise every Linear/Conv layer of `model` by `scheme` (see module docstring).

    `act` (name, spec or module) is needed only by "critical", and `width` only for a
    critical init of a whole-vector group activation. Returns the model.
    """
    scheme = check_init(scheme)
    if scheme == "default":
        return model
    kw = {}
    if scheme == "critical":
        if act is None:
            raise ActlabError("init 'critical' needs the activation (act=...)")
        kw = dict(zip(("c_b", "c_w"), critical_point(act, width)))
    for m in _weighted(model):
        if hasattr(m, "reset_parameters_by"):
            m.reset_parameters_by(scheme, **kw)
        else:
            init_tensor(m.weight, m.bias, scheme, **kw)
    return model


def init_tensor(weight: torch.Tensor, bias: torch.Tensor | None, scheme: str,
                c_b: float = 0.0, c_w: float = 1.0) -> None:
    """Initialise one weight (out, in, ...) and its bias in place by `scheme`."""
    fan_in = weight[0].numel()
    if scheme == "kaiming":
        nn.init.kaiming_normal_(weight, nonlinearity="relu")
    elif scheme == "xavier":
        nn.init.xavier_normal_(weight)
    elif scheme == "orthogonal":
        nn.init.orthogonal_(weight)
    elif scheme == "critical":
        nn.init.normal_(weight, 0.0, math.sqrt(c_w / fan_in))
    if bias is not None:
        if scheme == "critical":
            nn.init.normal_(bias, 0.0, math.sqrt(c_b))
        else:
            nn.init.zeros_(bias)
