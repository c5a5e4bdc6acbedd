"""1-D heat equation with a closed-form solution."""
from __future__ import annotations

import math

import torch

from ...errors import ActlabError
from .base import Condition, PDEProblem, box_faces, derivative


class Heat1D(PDEProblem):
    """u_t = kappa u_xx on x in [-1, 1], t in [0, 1], with u(±1, t) = 0 and
    u(x, 0) = sin(k pi x); solution u = exp(-kappa (k pi)² t) sin(k pi x)."""

    name = "heat"
    coords = ("x", "t")
    lower = (-1.0, 0.0)
    upper = (1.0, 1.0)

    def __init__(self, kappa: float = 0.1, k: int = 1) -> None:
        if kappa <= 0:
            raise ActlabError(f"kappa must be positive, got {kappa}")
        if int(k) != k or k < 1:
            raise ActlabError(f"k must be a positive integer, got {k}")
        self.kappa, self.k = float(kappa), int(k)
        self.conditions = (
            Condition("initial", box_faces(1, [0.0]), self.exact),
            Condition("boundary", box_faces(0, [-1.0, 1.0]), self.exact),
        )

    def residual_of(self, u: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
        u_t = derivative(u, points, 1)
        u_xx = derivative(u, points, 0, 0)
        return u_t - self.kappa * u_xx

    def exact(self, points: torch.Tensor) -> torch.Tensor:
        w = self.k * math.pi
        x, t = points[:, :1], points[:, 1:2]
        return torch.exp(-self.kappa * w**2 * t) * torch.sin(w * x)

    def __repr__(self) -> str:
        return f"Heat1D(kappa={self.kappa:g}, k={self.k}, x∈[-1,1], t∈[0,1])"
