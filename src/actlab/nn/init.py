"""Initialisation schemes by name, applied to every Linear / Conv layer of a model.

    default     torch's own initialisation (left untouched)
    kaiming     W ~ N(0, 2/fan_in), b = 0            (He et al. 2015, ReLU gain)
    xavier      W ~ N(0, 2/(fan_in + fan_out)), b = 0 (Glorot & Bengio 2010)
    orthogonal  W = a random (semi-)orthogonal matrix, b = 0 (Saxe et al. 2014)
    critical    W ~ N(0, C_W/fan_in), b ~ N(0, C_b)  with (C_b, C_W) the critical point of
                the activation from `actlab.theory.critical_init` (Roberts, Yaida, Hanin 2022)
    gaussian(c_w=C_W, c_b=C_b)
                W ~ N(0, C_W/fan_in), b ~ N(0, C_b) at a point of the caller's choice (the
                signal-propagation experiments scan the (C_W, C_b) plane); c_b defaults to 0

Layers that define `reset_parameters_by(scheme, **kw)` (the complex-structured
linear map of the Z-Plane model) initialise themselves.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import ActlabError

INIT_SCHEMES = ("default", "kaiming", "xavier", "orthogonal", "critical", "gaussian")
GAUSSIAN = ("critical", "gaussian")  # the schemes that draw W ~ N(0, c_w/fan_in), b ~ N(0, c_b)


def parse_init(scheme: str) -> tuple[str, dict]:
    """("name", {param: value}) of an init scheme: a name, or "gaussian(c_w=2.0, c_b=0.05)".

    Names and keys are case-insensitive; only `gaussian` takes parameters: c_w > 0 (required)
    and c_b >= 0 (default 0)."""
    from ..activations.registry import parse_spec

    try:
        name, params = parse_spec(str(scheme).lower())
    except ActlabError:
        raise ActlabError(f"malformed init scheme {scheme!r}: expected NAME or gaussian(c_w=..., c_b=...)") from None
    if name not in INIT_SCHEMES:
        raise ActlabError(f"unknown init scheme {scheme!r}: init must be one of {', '.join(INIT_SCHEMES[:-1])}, "
                          "gaussian(c_w=..., c_b=...)")
    if name != "gaussian":
        if params:
            raise ActlabError(f"init scheme {name!r} takes no parameters; got {scheme!r}")
        return name, {}
    unknown = sorted(set(params) - {"c_w", "c_b"})
    if unknown or "c_w" not in params:
        raise ActlabError(f"init 'gaussian' takes c_w (> 0, required) and c_b (>= 0, default 0); got {scheme!r}")
    c_w, c_b = params["c_w"], params.get("c_b", 0.0)
    if any(isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) for v in (c_w, c_b)) \
            or c_w <= 0 or c_b < 0:
        raise ActlabError(f"init 'gaussian' needs c_w > 0 and c_b >= 0, finite numbers; got {scheme!r}")
    return name, {"c_w": float(c_w), "c_b": float(c_b)}


def check_init(scheme: str) -> str:
    """The scheme in canonical form: its name, or gaussian(c_w=…, c_b=…) with floats."""
    name, params = parse_init(scheme)
    return f"gaussian(c_w={params['c_w']!r}, c_b={params['c_b']!r})" if params else name


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
    scheme, kw = parse_init(scheme)
    if scheme == "default":
        return model
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
    elif scheme in GAUSSIAN:
        nn.init.normal_(weight, 0.0, math.sqrt(c_w / fan_in))
    if bias is not None:
        if scheme in GAUSSIAN:
            nn.init.normal_(bias, 0.0, math.sqrt(c_b))
        else:
            nn.init.zeros_(bias)
