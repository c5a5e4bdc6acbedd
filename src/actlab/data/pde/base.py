"""A PDE problem is data: a box domain, a residual, conditions and a reference solution.

In the DeepXDE spirit the problem knows nothing about the network that solves it:
`u_fn` is any callable mapping an (N, d) tensor of points to (N, 1) values.

    problem = get_pde("burgers")
    xt = problem.sample_collocation(2000, seed=0)          # (2000, 2) points in the box
    r = problem.residual(net, xt)                          # (2000, 1), differentiable
    for cond in problem.sample_conditions(200, seed=0):    # initial / boundary targets
        loss = loss + ((net(cond.points) - cond.values) ** 2).mean()
    problem.relative_l2(net, n_points=101)                 # ||u - u_ref|| / ||u_ref|| on a grid
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import torch

UFn = Callable[[torch.Tensor], torch.Tensor]


def derivative(u: torch.Tensor, points: torch.Tensor, *axes: int) -> torch.Tensor:
    """Partial derivative of u (N, 1) with respect to points[:, axes[0]], then axes[1], ...

    derivative(u, p, 0) = du/dx_0;  derivative(u, p, 0, 0) = d²u/dx_0².
    The graph is kept (create_graph=True) so a loss built on it can be backpropagated.
    `points` must require grad and `u` must have been computed from it.
    """
    out = u
    for axis in axes:
        (grad,) = torch.autograd.grad(out, points, torch.ones_like(out), create_graph=True)
        out = grad[:, axis : axis + 1]
    return out


@dataclass(frozen=True)
class Condition:
    """A Dirichlet-type condition u = value on one or more faces of the box.

    faces: (axis, coordinate) pairs; an initial condition is the face t = t0.
    value: maps (N, d) points on the faces to (N, 1) target values.
    """

    name: str
    faces: tuple[tuple[int, float], ...]
    value: Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class ConditionSample:
    """Points sampled on a condition's faces and the values u must take there."""

    name: str
    points: torch.Tensor
    values: torch.Tensor


class PDEProblem:
    """Base class: subclasses set the box and define `residual_of`, `exact` and `conditions`.

    coords: names of the input coordinates, in column order (e.g. ("x", "t")).
    lower, upper: the box [lower_i, upper_i] for each coordinate.
    """

    name: str = ""
    coords: tuple[str, ...] = ()
    lower: tuple[float, ...] = ()
    upper: tuple[float, ...] = ()
    conditions: tuple[Condition, ...] = ()

    @property
    def dim(self) -> int:
        return len(self.coords)

    # --- to be provided by each problem -------------------------------------------------
    def residual_of(self, u: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
        """The equation's residual given u(points), with `points` requiring grad."""
        raise NotImplementedError

    def exact(self, points: torch.Tensor) -> torch.Tensor:
        """Reference solution on float64 torch points (N, d) -> (N, 1), differentiable."""
        raise NotImplementedError

    # --- shared machinery ---------------------------------------------------------------
    def residual(self, u_fn: UFn, points: torch.Tensor) -> torch.Tensor:
        """The PDE residual of u_fn at `points` (N, d) -> (N, 1), computed by autograd.

        If `points` does not require grad a differentiable copy is made; the result keeps
        its graph so that the mean squared residual can be minimised.
        """
        if not points.requires_grad:
            points = points.detach().clone().requires_grad_(True)
        return self.residual_of(u_fn(points), points)

    def reference(self, points):
        """The reference solution at `points` (N, d), numpy array or torch tensor -> (N, 1).

        Computed in float64; returns the input's type (and, for torch, its dtype and device).
        Torch inputs stay differentiable, so the reference can be fed to `residual`.
        """
        if isinstance(points, np.ndarray):
            return self.exact(torch.as_tensor(points, dtype=torch.float64)).numpy()
        if not isinstance(points, torch.Tensor):
            raise TypeError(f"points must be a numpy array or torch tensor, got {type(points).__name__}")
        return self.exact(points.to(torch.float64)).to(points.dtype)

    def sample_collocation(self, n: int, seed: int = 0, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        """n points drawn uniformly in the box, seeded: (n, d)."""
        gen = torch.Generator().manual_seed(seed)
        return self._uniform(n, gen, dtype)

    def sample_conditions(
        self, n: int, seed: int = 0, dtype: torch.dtype = torch.float32
    ) -> list[ConditionSample]:
        """n points per condition, each on a face chosen uniformly among the condition's faces."""
        gen = torch.Generator().manual_seed(seed)
        samples = []
        for cond in self.conditions:
            pts = self._uniform(n, gen, dtype)
            which = torch.randint(len(cond.faces), (n,), generator=gen)
            for k, (axis, at) in enumerate(cond.faces):
                pts[which == k, axis] = at
            with torch.no_grad():
                values = cond.value(pts.to(torch.float64)).to(dtype)
            samples.append(ConditionSample(cond.name, pts, values))
        return samples

    def grid(self, n_points: int = 101) -> torch.Tensor:
        """A tensor grid with n_points per axis over the box, float64, (n_points**d, d)."""
        axes = [torch.linspace(lo, hi, n_points, dtype=torch.float64) for lo, hi in zip(self.lower, self.upper)]
        mesh = torch.meshgrid(*axes, indexing="ij")
        return torch.stack([m.reshape(-1) for m in mesh], dim=1)

    def relative_l2(self, u_fn: UFn, n_points: int = 101, dtype: torch.dtype | None = None,
                    points: torch.Tensor | None = None) -> float:
        """||u - u_ref||_2 / ||u_ref||_2 over `grid(n_points)` (n_points per axis), or over
        the given `points` (n, d) instead (e.g. a validation set drawn with `sample_collocation`).

        u_fn is evaluated in `dtype`; by default the dtype and device of its parameters
        when it is an nn.Module, float64 otherwise.
        """
        device = None
        if dtype is None:
            param = next(iter(getattr(u_fn, "parameters", lambda: iter(()))()), None)
            dtype = param.dtype if param is not None else torch.float64
            device = param.device if param is not None else None
        if points is None:
            points, ref = self._reference_grid(n_points)
        else:
            points = points.detach().to(torch.float64)
            with torch.no_grad():
                ref = self.exact(points)
        with torch.no_grad():
            u = u_fn(points.to(dtype=dtype, device=device)).to(torch.float64).cpu()
        return float(torch.linalg.vector_norm(u.reshape(-1) - ref.reshape(-1)) / torch.linalg.vector_norm(ref))

    def _reference_grid(self, n_points: int) -> tuple[torch.Tensor, torch.Tensor]:
        # Cached: training loops call relative_l2 repeatedly and the reference may be costly.
        cache = self.__dict__.setdefault("_grid_cache", {})
        if n_points not in cache:
            points = self.grid(n_points)
            with torch.no_grad():
                cache[n_points] = (points, self.exact(points))
        return cache[n_points]

    def __repr__(self) -> str:
        box = " x ".join(f"{c}∈[{lo:g},{hi:g}]" for c, lo, hi in zip(self.coords, self.lower, self.upper))
        return f"{type(self).__name__}({box})"

    def _uniform(self, n: int, gen: torch.Generator, dtype: torch.dtype) -> torch.Tensor:
        lo = torch.tensor(self.lower, dtype=torch.float64)
        hi = torch.tensor(self.upper, dtype=torch.float64)
        return (lo + (hi - lo) * torch.rand(n, self.dim, generator=gen, dtype=torch.float64)).to(dtype)


def box_faces(axis: int, values: Sequence[float]) -> tuple[tuple[int, float], ...]:
    """Faces {x_axis = v} for v in values."""
    return tuple((axis, float(v)) for v in values)
