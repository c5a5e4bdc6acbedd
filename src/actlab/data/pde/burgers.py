"""Viscous Burgers: u_t + u u_x = nu u_xx on x in [-1, 1], t in [0, 1] (Raissi et al. 2019).

u(x, 0) = -sin(pi x),  u(-1, t) = u(1, t) = 0,  nu = 0.01 / pi by default.

Reference (Cole-Hopf, as in Basdevant et al. 1986): with f(y) = exp(-cos(pi y) / (2 pi nu))
and the substitution eta = sqrt(4 nu t) z,

    u(x, t) = - ∫ sin(pi (x - s z)) f(x - s z) exp(-z²) dz / ∫ f(x - s z) exp(-z²) dz,
    s = sqrt(4 nu t).

f spans exp(±1/(2 pi nu)) = exp(±50), so each integrand is evaluated in log space and
shifted by its maximum over the nodes before exponentiating (the shift cancels in the
ratio). Because log f(y) - log f(0) <= 1/(pi nu), the integrand is below exp(1/(pi nu) - z²)
relative to its value at z = 0, so truncating to |z| <= Z with Z² = 1/(pi nu) + 44 loses
less than exp(-44). Composite Gauss-Legendre on [-Z, Z] (panels of 20 nodes) in float64
then resolves the narrow peaks of f (standard deviation sqrt(2 pi nu)/pi ~ 0.045 in y,
at least ~0.4 in z for t <= 1) and the shock at x = 0.
The quadrature is written in torch, so the reference is differentiable by autograd
(except exactly at t = 0, where ds/dt is infinite).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from ...errors import ActlabError
from .base import Condition, PDEProblem, box_faces, derivative


_PANEL_NODES = 20


def _composite_gauss_legendre(z_max: float, panels: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of `panels` equal Gauss-Legendre panels covering [-z_max, z_max]."""
    x, w = np.polynomial.legendre.leggauss(_PANEL_NODES)
    half = z_max / panels
    centres = -z_max + half * (2 * np.arange(panels) + 1)
    return (centres[:, None] + half * x[None, :]).ravel(), np.tile(w * half, panels)


class Burgers(PDEProblem):
    """Burgers' equation with a shock forming at x = 0 (nu = 0.01/pi gives |u_x| up to ~152)."""

    name = "burgers"
    coords = ("x", "t")
    lower = (-1.0, 0.0)
    upper = (1.0, 1.0)

    def __init__(self, nu: float = 0.01 / math.pi, nodes: int = 400, chunk: int = 4096) -> None:
        if nu <= 0:
            raise ActlabError(f"nu must be positive, got {nu}")
        if nodes < _PANEL_NODES or nodes % _PANEL_NODES:
            raise ActlabError(f"nodes must be a positive multiple of {_PANEL_NODES}, got {nodes}")
        self.nu = nu
        self.chunk = chunk
        z, w = _composite_gauss_legendre(math.sqrt(1.0 / (math.pi * nu) + 44.0), nodes // _PANEL_NODES)
        self._z = torch.tensor(z, dtype=torch.float64)
        self._log_w = torch.tensor(np.log(w), dtype=torch.float64)
        self.conditions = (
            Condition("initial", box_faces(1, [0.0]), lambda p: -torch.sin(math.pi * p[:, :1])),
            Condition("boundary", box_faces(0, [-1.0, 1.0]), lambda p: torch.zeros_like(p[:, :1])),
        )

    def residual_of(self, u: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
        u_x = derivative(u, points, 0)
        u_t = derivative(u, points, 1)
        u_xx = derivative(u_x, points, 0)
        return u_t + u * u_x - self.nu * u_xx

    def exact(self, points: torch.Tensor) -> torch.Tensor:
        return torch.cat([self._cole_hopf(p) for p in points.split(self.chunk)], dim=0)

    def _cole_hopf(self, points: torch.Tensor) -> torch.Tensor:
        x, t = points[:, :1], points[:, 1:2]
        z = self._z.to(points.device)
        s = torch.sqrt(4.0 * self.nu * t.clamp_min(0.0))
        y = x - s * z
        log_integrand = -torch.cos(math.pi * y) / (2.0 * math.pi * self.nu) - z**2 + self._log_w.to(points.device)
        # The shift is a constant of the quadrature: detach it so it cannot leak into gradients.
        weights = torch.exp(log_integrand - log_integrand.max(dim=1, keepdim=True).values.detach())
        return -(torch.sin(math.pi * y) * weights).sum(1, keepdim=True) / weights.sum(1, keepdim=True)

    def __repr__(self) -> str:
        return f"Burgers(nu={self.nu:.6g}, x∈[-1,1], t∈[0,1])"
