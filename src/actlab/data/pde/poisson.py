"""Poisson problems with closed-form solutions (Dirichlet boundary conditions)."""
from __future__ import annotations

import math

import torch

from ...errors import ActlabError
from .base import Condition, PDEProblem, box_faces, derivative


class Poisson1D(PDEProblem):
    """-u'' = f on x in [-1, 1], u(±1) = 0, with u = sin(k pi x), f = (k pi)² sin(k pi x).

    k must be an integer so that the boundary values vanish.
    """

    name = "poisson1d"
    coords = ("x",)
    lower = (-1.0,)
    upper = (1.0,)

    def __init__(self, k: int = 1) -> None:
        if int(k) != k or k < 1:
            raise ActlabError(f"k must be a positive integer, got {k}")
        self.k = int(k)
        self.conditions = (Condition("boundary", box_faces(0, [-1.0, 1.0]), self.exact),)

    def source(self, points: torch.Tensor) -> torch.Tensor:
        w = self.k * math.pi
        return w**2 * torch.sin(w * points[:, :1])

    def residual_of(self, u: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
        return -derivative(u, points, 0, 0) - self.source(points)

    def exact(self, points: torch.Tensor) -> torch.Tensor:
        return torch.sin(self.k * math.pi * points[:, :1])

    def __repr__(self) -> str:
        return f"Poisson1D(k={self.k}, x∈[-1,1])"


class Poisson2D(PDEProblem):
    """-(u_xx + u_yy) = f on the unit square, u = 0 on its boundary, with
    u = sin(k pi x) sin(k pi y), f = 2 (k pi)² sin(k pi x) sin(k pi y)."""

    name = "poisson2d"
    coords = ("x", "y")
    lower = (0.0, 0.0)
    upper = (1.0, 1.0)

    def __init__(self, k: int = 1) -> None:
        if int(k) != k or k < 1:
            raise ActlabError(f"k must be a positive integer, got {k}")
        self.k = int(k)
        self.conditions = (Condition("boundary", box_faces(0, [0.0, 1.0]) + box_faces(1, [0.0, 1.0]), self.exact),)

    def source(self, points: torch.Tensor) -> torch.Tensor:
        return 2 * (self.k * math.pi) ** 2 * self.exact(points)

    def residual_of(self, u: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
        u_x = derivative(u, points, 0)
        u_y = derivative(u, points, 1)
        laplacian = derivative(u_x, points, 0) + derivative(u_y, points, 1)
        return -laplacian - self.source(points)

    def exact(self, points: torch.Tensor) -> torch.Tensor:
        w = self.k * math.pi
        return torch.sin(w * points[:, :1]) * torch.sin(w * points[:, 1:2])

    def __repr__(self) -> str:
        return f"Poisson2D(k={self.k}, (x,y)∈[0,1]²)"
