"""Build an ActivationInfo, computing what is not known in closed form on a grid."""
from __future__ import annotations

import math
from typing import Callable, Optional

import torch

from .base import ActivationInfo

# Where bounds and Lipschitz constants without a closed form are estimated (float64).
GRID = (-40.0, 40.0, 200_001)


def _value_and_slope(fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    with torch.enable_grad():
        x = x.clone().requires_grad_(True)
        y = fn(x)
        (dy,) = torch.autograd.grad(y.sum(), x)
    return y.detach(), dy.detach()


def describe(
    fn: Callable[[torch.Tensor], torch.Tensor],
    name: str,
    formula: str,
    *,
    breakpoints: tuple[float, ...] = (),
    smoothness: float = math.inf,
    bounds: tuple[Optional[float], Optional[float]] = (None, None),
    lipschitz: Optional[float] = None,
    provenance: str = "baseline",
    source: str = "",
    group_size: Optional[int] = None,
    radial: Optional[Callable[[torch.Tensor], torch.Tensor]] = None,
    dual: Optional[Callable] = None,
) -> ActivationInfo:
    """Metadata for elementwise `fn`. A bound or Lipschitz constant given as None is
    estimated on the float64 grid GRID (exact for functions whose extremes lie inside)."""
    zero = torch.zeros(1, dtype=torch.float64)
    y0, d0 = _value_and_slope(fn, zero)
    kink_at_0 = 0.0 in breakpoints and smoothness < 1
    if None in bounds or lipschitz is None:
        y, dy = _value_and_slope(fn, torch.linspace(*GRID, dtype=torch.float64))
        lo, hi = bounds
        bounds = (float(y.min()) if lo is None else lo, float(y.max()) if hi is None else hi)
        if lipschitz is None:
            lipschitz = float(dy.abs().max())
    return ActivationInfo(
        name=name, formula=formula, breakpoints=tuple(float(b) for b in breakpoints),
        smoothness=smoothness, bounds=(float(bounds[0]), float(bounds[1])), lipschitz=lipschitz,
        value_at_0=float(y0), slope_at_0=None if kink_at_0 else float(d0),
        provenance=provenance, source=source, group_size=group_size, radial=radial, dual=dual,
    )
