"""What the theory needs from an activation, for elementwise and group (isotropic) ones.

`as_target(act)` accepts a registry name, a spec string, an nn.Module or a plain
callable and returns an object with

    moments(K) -> (⟨σ²⟩_K, ⟨z σ'(z) σ(z)⟩_K / K, ⟨σ'²⟩_K)        (arrays over K > 0)
    taylor()   -> (σ₀, σ₁, σ₂, σ₃)  derivatives at 0, or None where σ kinks at 0

so that χ∥ = C_W·moments[1] and χ⊥ = C_W·moments[2] for every kind of activation.

Group activations f(z) = z·ρ(‖z‖)/‖z‖ on g features with i.i.d. N(0, K) entries use
r = ‖z‖ = √K·s, s ~ χ_g, and per component (spec, theory.md):
    ⟨f²⟩ = E[ρ(r)²]/g,   ⟨z f'(z) f(z)⟩/K = E[r ρ(r) ρ'(r)]/(gK) (= d⟨f²⟩/dK),
    χ⊥/C_W = E[ρ'(r)² + (g−1)(ρ(r)/r)²]/g.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Optional

import numpy as np
import torch

from ..activations import get_activation, registry_revision
from ..errors import ActlabError
from .quadrature import DTYPE, as_float64_function, chi_expectation, normal_expectation

Tensor = torch.Tensor


def value_and_slope(fn: Callable[[Tensor], Tensor], z: Tensor) -> tuple[Tensor, Tensor]:
    """σ(z) and σ'(z) by autograd (elementwise functions)."""
    with torch.enable_grad():
        zz = z.detach().clone().requires_grad_(True)
        y = fn(zz)
        if not y.requires_grad:
            if _is_constant(fn):
                return y.detach(), torch.zeros_like(z)
            raise ActlabError("the theory needs σ'(z): the function must be built from differentiable torch operations")
        (d,) = torch.autograd.grad(y.sum(), zz, allow_unused=True)
    return y.detach(), (torch.zeros_like(z) if d is None else d.detach())


def _is_constant(fn: Callable[[Tensor], Tensor]) -> bool:
    z = torch.linspace(-3, 3, 7, dtype=DTYPE)
    y = fn(z)
    return bool((y == y[0]).all())


def derivatives_at(fn: Callable[[Tensor], Tensor], z0: float = 0.0, order: int = 3) -> list[float]:
    """[σ(z0), σ'(z0), …, σ^(order)(z0)] by repeated autograd."""
    with torch.enable_grad():
        z = torch.tensor([z0], dtype=DTYPE, requires_grad=True)
        y = fn(z)
        if not y.requires_grad and not _is_constant(fn):
            raise ActlabError("the theory needs σ'(z): the function must be built from differentiable torch operations")
        out = [float(y.detach()[0])]
        for _ in range(order):  # a derivative that no longer depends on z is a constant: the rest are 0
            if not y.requires_grad:
                out.append(0.0)
                y = torch.zeros_like(y)
                continue
            (y,) = torch.autograd.grad(y.sum(), z, create_graph=True, allow_unused=True)
            if y is None:
                y = torch.zeros_like(z)
            out.append(float(y.detach()[0]))
    return out


def has_kink_at(fn: Callable[[Tensor], Tensor], z0: float, order: int = 3, h: float = 1e-5) -> bool:
    """Whether σ or one of its first `order` derivatives jumps at z0 (for callables without
    metadata): autograd derivatives at z0 ± h must agree to O(h)."""
    left, right = derivatives_at(fn, z0 - h, order), derivatives_at(fn, z0 + h, order)
    scale = 1.0 + max(abs(v) for v in left + right)
    return any(abs(a - b) > 1e-3 * scale for a, b in zip(left, right))


@dataclass(frozen=True)  # cached by as_target and shared: never changed after construction
class Elementwise:
    """An elementwise activation σ with its breakpoints (None when undeclared) and, where
    the activation declares one, its closed-form two-input moments (`dual`)."""

    fn: Callable[[Tensor], Tensor]
    breakpoints: Optional[tuple[float, ...]]
    label: str
    smoothness: float = math.inf
    dual: Optional[object] = None  # a ClosedFormDual or a function (see closed_forms.evaluate)

    group_size = None

    @property
    def kinks(self) -> tuple[float, ...]:
        return self.breakpoints or ()

    def moments(self, K: np.ndarray) -> np.ndarray:
        """Rows (⟨σ²⟩, ⟨zσ'σ⟩/K, ⟨σ'²⟩) for each K > 0: shape (len(K), 3)."""
        Kt = torch.as_tensor(np.asarray(K, dtype=np.float64).reshape(-1), dtype=DTYPE)
        scale = Kt.sqrt()

        def F(z: Tensor, pid: Tensor) -> Tensor:
            y, d = value_and_slope(self.fn, z)
            return torch.stack([y * y, z * d * y / Kt[pid], d * d], dim=1)

        return normal_expectation(F, torch.zeros_like(scale), scale, self.kinks).numpy()

    def second_moment(self, K: np.ndarray) -> np.ndarray:
        """⟨σ²⟩_K (K >= 0)."""
        Kt = torch.as_tensor(np.asarray(K, dtype=np.float64).reshape(-1), dtype=DTYPE)
        out = torch.empty_like(Kt)
        zero = Kt == 0
        with torch.no_grad():
            out[zero] = self.fn(torch.zeros(int(zero.sum()), dtype=DTYPE)) ** 2
            if bool((~zero).any()):
                s = Kt[~zero].sqrt()
                out[~zero] = normal_expectation(lambda z, pid: self.fn(z) ** 2, torch.zeros_like(s), s, self.kinks)
        return out.numpy()

    def smooth_at_zero(self) -> bool:
        if self.breakpoints is None:
            return not has_kink_at(self.fn, 0.0)
        return 0.0 not in self.breakpoints or self.smoothness >= 3

    def taylor(self) -> Optional[list[float]]:
        """[σ₀, σ₁, σ₂, σ₃] (derivatives at 0), None if σ is not C³ at 0."""
        return derivatives_at(self.fn, 0.0, 3) if self.smooth_at_zero() else None


@dataclass(frozen=True)
class Group:
    """An isotropic group activation f(z) = z·ρ(‖z‖)/‖z‖ on g features."""

    rho: Callable[[Tensor], Tensor]
    group_size: int
    radii: tuple[float, ...]
    label: str

    @property
    def kinks(self) -> tuple[float, ...]:
        return self.radii

    def _radial(self, K: np.ndarray, which: str) -> np.ndarray:
        g = self.group_size
        Kt = torch.as_tensor(np.asarray(K, dtype=np.float64).reshape(-1), dtype=DTYPE)

        def F(r: Tensor, pid: Tensor) -> Tensor:
            p, dp = value_and_slope(self.rho, r)
            if which == "second":
                return p * p / g
            return torch.stack([p * p / g, r * p * dp / (g * Kt[pid]),
                                (dp * dp + (g - 1) * (p / r) ** 2) / g], dim=1)

        return chi_expectation(F, g, Kt.sqrt(), self.radii).numpy()

    def moments(self, K: np.ndarray) -> np.ndarray:
        return self._radial(K, "all")

    def second_moment(self, K: np.ndarray) -> np.ndarray:
        K = np.asarray(K, dtype=np.float64).reshape(-1)
        out = np.zeros_like(K)
        pos = K > 0
        if pos.any():
            out[pos] = self._radial(K[pos], "second")
        return out

    def taylor(self) -> Optional[list[float]]:
        """Per-component [σ₀, σ₁, σ₂, σ₃] of the equivalent expansion: for ρ(r) = ρ₁r + ρ₃r³/6 + …
        (ρ₂ = 0, else f is not smooth at 0), ⟨f²⟩ = ρ₁²(K + a₁K²) with a₁ = (g+2)ρ₃/(3ρ₁): the
        elementwise formulas hold with σ₃ = (g+2)ρ₃/3 (and b₁ = a₁)."""
        r0, r1, r2, r3 = derivatives_at(self.rho, 0.0, 3)
        if abs(r0) > 1e-14 or abs(r2) > 1e-12 * max(1.0, abs(r1)):
            return None
        return [0.0, r1, 0.0, (self.group_size + 2) * r3 / 3]


Target = Elementwise | Group


def as_target(act, width: Optional[int] = None) -> Target:
    """Normalise a registry name, spec string, nn.Module or callable for the theory.
    Targets built from names and spec strings are cached: building one computes the
    activation's metadata (bounds on a 200k-point grid for some, 7–25 ms), which would
    otherwise dominate a kernel call on a few inputs."""
    if isinstance(act, (Elementwise, Group)):
        return act
    if isinstance(act, str):
        return _target_of_spec(act, width, registry_revision())
    return _target_of_module(act, width)


@lru_cache(maxsize=64)
def _target_of_spec(spec: str, width: Optional[int], revision: int) -> Target:
    return _target_of_module(get_activation(spec), width)


def _target_of_module(act, width: Optional[int]) -> Target:
    if not callable(act):
        raise ActlabError(f"an activation is a registry name, a spec string, an nn.Module or a callable, got {type(act).__name__}")
    info = getattr(act, "info", None)
    label = getattr(info, "name", None) or getattr(act, "__name__", None) or type(act).__name__
    if info is not None and getattr(info, "group_size", None) is not None:
        g = info.group_size
        if g == 0:
            if width is None:
                raise ActlabError(f"{label} acts on the whole feature vector: give the layer width (width=...) "
                                  "so that the radial reduction uses g = width")
            g = int(width)
        if g < 1:
            raise ActlabError(f"group size must be >= 1, got {g}")
        if info.radial is None:
            raise ActlabError(f"{label} is a group activation without a radial profile ρ(r): cannot reduce it")
        return Group(rho=_float64(info.radial), group_size=g, radii=tuple(info.breakpoints), label=label)
    fn = as_float64_function(act)
    if info is not None:
        return Elementwise(fn=fn, breakpoints=tuple(float(b) for b in info.breakpoints), label=label,
                           smoothness=float(info.smoothness), dual=getattr(info, "dual", None))
    return Elementwise(fn=fn, breakpoints=None, label=label)


def _float64(f: Callable[[Tensor], Tensor]) -> Callable[[Tensor], Tensor]:
    return lambda r: f(r.to(DTYPE)).to(DTYPE)
