"""Least-squares fits of a Zorro variant to a target activation.

Which Zorro parameters approximate Swish, GELU and DGELU is not in any source that
could be read: actlab computes them by minimising the mean squared error on a
uniform grid of an interval (L-BFGS in float64 over the softplus-constrained
parameters, several starts), and publishes the parameters with their residuals.

Every Zorro is the identity on [0, 1] while GELU and Swish have slope ½ at 0, so a
bare fit cannot be close. With `affine=True` (the default) the fit also has an
input and an output affine map, target(x) ≈ α·Z(β·x + γ) + δ, the form in which
Zorro "approximates" those functions (a layer's weights and bias absorb β, γ, α, δ).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional, Sequence, Union

import torch

from ..errors import ActlabError
from .registry import get_activation

Target = Union[str, Callable[[torch.Tensor], torch.Tensor]]

# Starting points (a, b) for the restarts; the remaining parameters start at defaults.
_STARTS: Sequence[tuple[float, float]] = ((1.2, 1.0), (4.0, 2.0), (0.7, 1.5), (2.0, 0.5))


@dataclass(frozen=True)
class ZorroFit:
    """Fitted parameters and residuals: rmse over the grid and the max absolute error."""

    variant: str
    target: str
    interval: tuple[float, float]
    params: dict[str, float]
    affine: Optional[dict[str, float]]
    rmse: float
    max_error: float


def fit_zorro(target: Target, variant: str = "zorro_sloped", interval: tuple[float, float] = (-4.0, 4.0),
              affine: bool = True, points: int = 2001, steps: int = 300) -> ZorroFit:
    """Fit `variant` (a zorro* registry name) to `target` (a registry name/spec or a callable)
    by least squares on `points` grid points of `interval`; with `affine`, fit
    α·Z(β·x + γ) + δ (α, β, γ, δ reported in `ZorroFit.affine`)."""
    if not variant.startswith("zorro"):
        raise ActlabError(f"fit_zorro fits a Zorro variant (zorro, zorro_sloped, ...), got {variant!r}")
    lo, hi = interval
    if not hi > lo:
        raise ActlabError(f"fit_zorro: interval must be (low, high) with low < high, got {interval}")
    fn = get_activation(target) if isinstance(target, str) else target
    if not callable(fn):
        raise ActlabError("fit_zorro: target must be an activation name or a callable")
    x = torch.linspace(lo, hi, points, dtype=torch.float64)
    with torch.no_grad():
        y = fn(x).to(torch.float64)
    best = None
    for a0, b0 in _STARTS:
        model = get_activation(variant, learnable=True, **_start_params(variant, a0, b0)).double()
        alpha_beta_gamma_delta = torch.tensor([1.0, 1.0, 0.0, 0.0], dtype=torch.float64, requires_grad=affine)

        def approx():
            al, be, ga, de = alpha_beta_gamma_delta
            return al * model(be * x + ga) + de

        trained = list(model.parameters()) + ([alpha_beta_gamma_delta] if affine else [])
        opt = torch.optim.LBFGS(trained, max_iter=steps, line_search_fn="strong_wolfe",
                                tolerance_grad=1e-12, tolerance_change=1e-15)

        def closure():
            opt.zero_grad()
            loss = torch.mean((approx() - y) ** 2)
            loss.backward()
            return loss

        opt.step(closure)
        with torch.no_grad():
            err = approx() - y
        mse = float(torch.mean(err ** 2))
        if math.isfinite(mse) and (best is None or mse < best[0]):
            maps = dict(zip(("alpha", "beta", "gamma", "delta"), alpha_beta_gamma_delta.tolist())) if affine else None
            best = (mse, float(err.abs().max()), {n: model.param_value(n) for n in model._lower}, maps)
    name = target if isinstance(target, str) else getattr(target, "__name__", "callable")
    return ZorroFit(variant, name, (float(lo), float(hi)), best[2], best[3], math.sqrt(best[0]), best[1])


def _start_params(variant: str, a0: float, b0: float) -> dict[str, float]:
    if variant == "zorro_asymmetric":
        return {"a_n": a0, "b_n": b0, "a_p": a0, "b_p": b0}
    return {"a": a0, "b": b0}
