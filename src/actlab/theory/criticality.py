"""Critical initialisation and universality classes (Roberts, Yaida & Hanin 2022, ch. 5).

A critical initialisation is (C_b, C_W) with a fixed point K* = C_b + C_W⟨σ²⟩_{K*}
where χ∥(K*) = χ⊥(K*) = 1. The classes, tested in this order:

- scale-invariant: σ(λz) = λσ(z) for λ > 0, i.e. a₊z / a₋z; χ∥ = χ⊥ = C_W(a₊² + a₋²)/2
  for every K: a line of fixed points at C_b = 0, C_W = 2/(a₊² + a₋²).
- none (homogeneous of degree p ≠ 1, e.g. RePU): χ∥/χ⊥ = (2p−1)/p for every K, so
  K⁽ˡ⁾ = K*(K⁽¹⁾/K*)^{p^(l−1)} explodes or vanishes double-exponentially whatever C_W.
- K*=0: σ(0) = 0, σ'(0) = σ₁ ≠ 0: C_b = 0, C_W = 1/σ₁²; with Taylor coefficients σ_n
  (derivatives at 0), ⟨σ²⟩ = σ₁²(K + a₁K² + …), χ∥ = 1 + 2a₁K + …, χ⊥ = 1 + b₁K + …,
      a₁ = σ₃/σ₁ + ¾(σ₂/σ₁)²,   b₁ = σ₃/σ₁ + (σ₂/σ₁)².
  a₁ < 0: K⁽ˡ⁾ ≈ 1/(−a₁l) (tanh: 1/(2l)); a₁ > 0: marginal, the kernel blows up
  near depth 1/(a₁K⁽¹⁾) (MRePU).
- half-stable: a K* > 0 with χ∥(K*)/χ⊥(K*) = 1 (found on a log grid of K, refined by
  brentq), C_W = 1/⟨σ'²⟩_{K*}, C_b = K* − C_W⟨σ²⟩_{K*} >= 0 (GELU, SWISH). Preferred
  over a marginal (a₁ >= 0) K*=0 point, as in the book; a stable K*=0 point wins.
- none otherwise, with the reason.

For group activations the same rules apply to the per-component radial moments
(σ₃ replaced by (g+2)ρ₃/3; see actlab.theory.target).
"""
from __future__ import annotations

import math
from functools import lru_cache
from dataclasses import asdict, dataclass
from typing import Optional

import numpy as np
import torch
from scipy.optimize import brentq

from .quadrature import DTYPE
from .target import Elementwise, Target, as_target, derivatives_at

K_GRID = np.logspace(-4, 4, 81)    # where a half-stable K* is searched
FLAT = 1e-9                        # |χ∥/χ⊥ − 1| below this is rounding, not a sign
CLASSES = ("scale-invariant", "K*=0", "half-stable", "none")


@dataclass(frozen=True)
class CriticalInit:
    """The critical initialisation of an activation and what it implies.

    C_b, C_W: bias variance and weight variance × fan-in (None when no critical point exists).
    K_star: the fixed-point kernel (None for scale-invariant: every K is a fixed point).
    cls: one of 'scale-invariant', 'K*=0', 'half-stable', 'none'.
    a1, b1: K*=0 class coefficients (None elsewhere, or when σ is not C³ at 0).
    depth_scale: layers over which the kernel departs from its fixed point: inf for a
        power-law (critical) approach; 1/a₁ for the marginal K*=0 class (the blow-up depth
        of K⁽¹⁾ = 1, in general 1/(a₁K⁽¹⁾)); 1/ln p for degree-p homogeneous functions
        (ln K/K* grows by p per layer); None when undefined.
    ratio: χ∥/χ⊥ where it is constant (scale-invariant, homogeneous), else at K*.
    verdict: one human sentence.
    """

    name: str
    cls: str
    C_b: Optional[float]
    C_W: Optional[float]
    K_star: Optional[float]
    a1: Optional[float]
    b1: Optional[float]
    depth_scale: Optional[float]
    verdict: str
    ratio: Optional[float] = None

    def as_dict(self) -> dict:
        return asdict(self)


def homogeneity_degree(target: Target) -> Optional[float]:
    """p when σ(λz) = λ^p σ(z) for all λ > 0 (checked on a grid), else None."""
    if not isinstance(target, Elementwise):
        return None
    fn = target.fn
    with torch.no_grad():
        z = torch.tensor([-2.5, -1.3, -0.4, 0.7, 1.1, 3.2], dtype=DTYPE)
        y = fn(z)
        if abs(float(fn(torch.zeros(1, dtype=DTYPE))[0])) > 0 or not bool(y.abs().max() > 0):
            return None
        ref = torch.tensor([1.0, -1.0], dtype=DTYPE)
        y1, y2 = fn(ref), fn(2 * ref)
        i = int(y1.abs().argmax())
        if y1[i] == 0 or y2[i] * y1[i] <= 0:
            return None
        p = math.log(float(y2[i] / y1[i])) / math.log(2.0)
        if not 0 < p < 50:
            return None
        scale = float(y.abs().max())
        for lam in (0.3, 1.7, 5.0):
            if bool(((fn(lam * z) - lam ** p * y).abs() > 1e-10 * lam ** p * scale).any()):
                return None
    return round(p, 12)


def universality_class(act, width: Optional[int] = None) -> str:
    """'scale-invariant', 'K*=0', 'half-stable' or 'none' (see critical_init)."""
    return critical_init(act, width).cls


def critical_init(act, width: Optional[int] = None) -> CriticalInit:
    """Find the critical (C_b, C_W), the class, and a verdict for any activation.

    act: registry name, spec string, nn.Module or callable; width: the layer width,
    needed only for whole-vector group activations.

        >>> critical_init("relu").C_W
        2.0
    """
    if isinstance(act, str):  # specs are immutable: the nn models call this once per model
        return _critical_init_of_spec(act, width)
    return _critical_init(as_target(act, width))


@lru_cache(maxsize=256)
def _critical_init_of_spec(spec: str, width: Optional[int]) -> CriticalInit:
    return _critical_init(as_target(spec, width))


def _critical_init(target: Target) -> CriticalInit:
    name = target.label
    p = homogeneity_degree(target)
    if p is not None:
        return _homogeneous(target, name, p)
    taylor = target.taylor()
    slope = _slope_at_zero(target, taylor)
    zero_class = slope is not None and slope != 0
    a1 = b1 = None
    if zero_class and taylor is not None:
        s1, s2, s3 = taylor[1], taylor[2], taylor[3]
        a1, b1 = s3 / s1 + 0.75 * (s2 / s1) ** 2, s3 / s1 + (s2 / s1) ** 2
    trend = _small_k_trend(target, slope) if zero_class and not a1 else a1
    roots, rejected = _half_stable_roots(target)
    if zero_class and trend is not None and trend < 0:
        return _k_zero(name, slope, a1, b1, trend, target.group_size)
    if roots:
        return _half_stable(target, name, *roots[0])
    if zero_class:
        return _k_zero(name, slope, a1, b1, trend, target.group_size)
    why = "χ∥/χ⊥ ≠ 1 for every K in [1e-4, 1e4] and σ(0) ≠ 0 or σ'(0) = 0"
    if rejected:
        K, C_b = rejected[0]
        why = f"χ∥ = χ⊥ at K = {K:.4g} only with C_b = {C_b:.4g} < 0 (a negative bias variance)"
    return CriticalInit(name, "none", None, None, None, None, None, None,
                        f"no critical initialisation: {why}; signals settle or drift exponentially with depth")


def _slope_at_zero(target: Target, taylor: Optional[list[float]]) -> Optional[float]:
    """σ₁ when σ(0) = 0 and σ is C¹ at 0 (higher derivatives may kink), else None."""
    if taylor is not None:
        return taylor[1] if abs(taylor[0]) < 1e-14 else None
    if not isinstance(target, Elementwise):
        return None
    h = 1e-6
    with torch.no_grad():
        y = target.fn(torch.tensor([-h, 0.0, h], dtype=DTYPE))
    if abs(float(y[1])) > 1e-14:
        return None
    left, right = float(-y[0] / h), float(y[2] / h)
    if abs(left - right) > 1e-4 * (abs(left) + abs(right) + 1e-300):
        return None  # a kink in σ itself (ReLU-like): no single slope
    return derivatives_at(target.fn, 0.0, 1)[1]  # C¹: autograd's slope at 0 is exact from either side


def _small_k_trend(target: Target, slope: float) -> float:
    """sign-carrying χ∥ − 1 at C_W = 1/σ₁², K = 1e-2/g (0 when flat to rounding): decides the
    K*=0 stability when a₁ is 0 or undefined (σ kinks at 0 in σ''). Groups of g features
    have ‖z‖² ≈ gK, hence the 1/g."""
    m = target.moments(np.array([1e-2 / (target.group_size or 1)]))[0]
    d = m[1] / slope ** 2 - 1
    return 0.0 if abs(d) < FLAT else float(d)


def _half_stable_roots(target: Target) -> tuple[list[tuple[float, float, float]], list[tuple[float, float]]]:
    """[(K*, C_b, C_W)] with χ∥/χ⊥ = 1 and C_b >= 0, and [(K, C_b)] rejected for C_b < 0."""
    m = target.moments(K_GRID)
    with np.errstate(divide="ignore", invalid="ignore"):  # σ' = 0 everywhere: no root, nan here
        excess = m[:, 1] / m[:, 2] - 1
    roots, rejected = [], []
    for i in range(len(K_GRID) - 1):
        lo, hi = excess[i], excess[i + 1]
        if not (np.isfinite(lo) and np.isfinite(hi)) or abs(lo) < FLAT or abs(hi) < FLAT or lo * hi > 0:
            continue

        def f(K: float) -> float:
            mm = target.moments(np.array([K]))[0]
            return mm[1] / mm[2] - 1

        K = brentq(f, K_GRID[i], K_GRID[i + 1], xtol=1e-15, rtol=1e-15, maxiter=200)
        mm = target.moments(np.array([K]))[0]
        C_W = 1.0 / mm[2]
        C_b = K - C_W * mm[0]
        if C_b >= -1e-12 * K:
            roots.append((float(K), float(max(C_b, 0.0)), float(C_W)))
        else:
            rejected.append((float(K), float(C_b)))
    return roots, rejected


def _homogeneous(target: Target, name: str, p: float) -> CriticalInit:
    ratio = (2 * p - 1) / p
    if p == 1:
        y = target.fn(torch.tensor([1.0, -1.0], dtype=DTYPE))
        a_pos, a_neg = float(y[0]), float(-y[1])
        C_W = 2.0 / (a_pos ** 2 + a_neg ** 2)
        return CriticalInit(
            name, "scale-invariant", 0.0, C_W, None, None, None, math.inf,
            f"critical on a line of fixed points: at C_b = 0, C_W = 2/(a₊² + a₋²) = {C_W:.6g} every "
            "kernel is preserved at every depth (χ∥ = χ⊥ = 1 for all K)", ratio=1.0)
    return CriticalInit(
        name, "none", None, None, None, None, None, 1 / math.log(p),
        f"no criticality: σ is homogeneous of degree p = {p:g}, so χ∥/χ⊥ = (2p−1)/p = {ratio:.6g} for every K "
        f"and K⁽ˡ⁾ = K*(K⁽¹⁾/K*)^(p^(l−1)) explodes or vanishes double-exponentially whatever C_W", ratio=ratio)


def _k_zero(name: str, slope: float, a1: Optional[float], b1: Optional[float], trend: Optional[float],
            group_size: Optional[int]) -> CriticalInit:
    C_W = 1.0 / slope ** 2
    small = f"g·K ≪ 1 with g = {group_size}" if group_size and group_size > 1 else "K ≪ 1"
    why = "σ is not C³ at 0 (no Taylor a₁)" if a1 is None else "a₁ = 0"
    if a1 is not None and a1 < 0:
        depth_scale, verdict = math.inf, (f"stable: K⁽ˡ⁾ ≈ 1/(−a₁·l) = 1/({-a1:.4g}·l) at large depth "
                                          f"(power law, a₁ = {a1:.4g})")
    elif a1 is not None and a1 > 0:
        depth_scale = 1 / a1
        verdict = (f"marginal: keep K⁽¹⁾ ≲ 1/(a₁·depth) with a₁ = {a1:.4g} "
                   "(1/K⁽ˡ⁾ ≈ 1/K⁽¹⁾ − a₁l: the kernel blows up near depth 1/(a₁K⁽¹⁾))")
    elif trend is not None and trend < 0:
        depth_scale, verdict = math.inf, (f"stable: {why}, but χ∥ < 1 at small K, so the kernel decays "
                                          "slowly (power law) toward 0")
    elif trend is not None and trend > 0:
        depth_scale, verdict = None, (f"marginal: {why}, but χ∥ > 1 at small K, so keep the kernel small; "
                                      "it grows with depth")
    else:
        depth_scale, verdict = math.inf, ("critical with a₁ = b₁ = 0: σ is linear near 0 to all orders, so the "
                                          f"kernel is preserved while {small} (only non-perturbative corrections)")
    return CriticalInit(name, "K*=0", 0.0, C_W, 0.0, a1, b1, depth_scale, verdict)


def _half_stable(target: Target, name: str, K: float, C_b: float, C_W: float) -> CriticalInit:
    # ΔK' ≈ ΔK + ½(dχ∥/dK)ΔK² at χ∥ = 1: the side with ΔK·dχ∥/dK < 0 flows back to K*.
    h = 1e-3 * K
    m = target.moments(np.array([K - h, K + h]))
    slope = C_W * (m[1, 1] - m[0, 1]) / (2 * h)
    side = "below" if slope > 0 else "above"
    other = "above" if slope > 0 else "below"
    verdict = (f"half-stable at K* = {K:.6g}: kernels starting {side} K* approach it as a power law, "
               f"those {other} drift away; start at or {side} K*")
    return CriticalInit(name, "half-stable", C_b, C_W, K, None, None, math.inf, verdict, ratio=1.0)
