"""Whole-vector group activations at width n (Radial Bounding with group_size=None): the
two-input kernel and the depth scales, at leading order in 1/n (the project's derivation).

Why not the exact isotropic reduction (actlab.theory.isotropic) with g = n: it costs a nested
integral (1–2 CPU-s) per kernel entry, and at g = n the law of ‖z‖ is so concentrated that the
leading order, with the corrections below in closed form, says more (depth scales in closed form).

Parameterisation: a width-n layer z = W h + b with W ~ N(0, C_W/n), b ~ N(0, C_b) (actlab's
`gaussian(c_w, c_b)` and `critical` inits). Given the previous layer, the preactivations of two
inputs are exactly N(0, K ⊗ I_n), K_αβ = C_b + C_W h_α·h_β/n, and f(z) = z·ρ(‖z‖)/‖z‖ rescales
each input's whole vector by one positive number. ‖z‖² = K·χ²_n concentrates on nK (relative
spread √(2/n)), so at leading order f is the linear map z ↦ γ(K)·z with gain

    γ(K) = ρ(√(nK))/√(nK)   (γ(0) = ρ'(0));   RB: γ(K) = min(1, 1/√(nK)),

and the two-input kernel map is

    K'_αβ = C_b + C_W γ(K_αα) γ(K_ββ) K_αβ.

With a(q) = γ(q)²q = ρ(√(nq))²/n (the post-activation squared norm per component; RB:
min(q, 1/n)):

- q*: the fixed point of q ↦ C_b + C_W a(q). RB: q* = C_b + C_W/n when nC_b + C_W >= 1
  (outside the ball: the norm is reset to 1 each layer), else C_b/(1 − C_W) (inside: a linear
  network); C_b = 0, C_W = 1 keeps any q0 <= 1/n.
- χ_q = C_W a'(q*) (RB: 0 outside, so ξ_q = 0; C_W inside).
- the correlation map at q* is affine, c' = (C_b + C_W a(q*) c)/q*: c* = 1 and
  χ₁ = χ_c = C_W γ(q*)² = 1 − C_b/q*, so ξ_c = −1/ln(1 − C_b/q*). There is no chaotic phase:
  C_b > 0 is ordered, C_b = 0 critical (every c is fixed, ξ_c = ∞). RB outside the ball:
  χ_c = C_W/(nC_b + C_W), ξ_c = 1/ln(1 + nC_b/C_W): the signal's squared norm is ≤ 1 while
  the bias's is nC_b, so at a fixed C_b the inputs collapse onto the bias within ~1/ln(nC_b/C_W)
  layers as n grows; 6ξ_c ≥ L needs nC_b/C_W ≲ 6/L.

Corrections (what is exact): the one-input map E K'₁₁ = C_b + C_W E[ρ(√K χ_n)²]/n is computed
exactly by the one-input machinery (`kernel_map(act, K, width=n)`); it differs from the leading
order by terms ~e^{−n(…)} away from the ball's edge and by −C_W/(n√(πn)) at nK = 1 (RB, the
kink smoothed by the spread of ‖z‖). Outside the ball (or at any norm when C_b = 0) the output
cosine of a layer is exactly the uncentred sample correlation of n Gaussian pairs with
correlation c, whose mean and variance `cosine_moments` gives in closed form: mean
c(1 − (1 − c²)/(2n) + O(n⁻²)) with slope 1 + 1/(n − 2) at c = 1, variance ≈ (1 − c²)²/n. With
bias the exact mean map outside the ball is c ↦ E c'(ρ), ρ = (nC_b + C_W c)/(nC_b + C_W), so c = 1
is unstable in the mean once nC_b < C_W/(n − 2). The leading-order correlation map is the mean
map to O(1/n) per layer, and over L layers the correlation drifts by O(L/n) and
spreads by O(√(L/n)): the deterministic theory holds while L ≪ n.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from scipy.special import gammaln, hyp2f1

from ..errors import ActlabError
from .quadrature import DTYPE
from .target import Group, derivatives_at, value_and_slope


@dataclass
class WholeVector:
    """A whole-vector group activation f(z) = z·ρ(‖z‖)/‖z‖ at width n, at leading order in 1/n:
    the linear map z ↦ γ(K)z with γ(K) = ρ(√(nK))/√(nK) (see the module docstring). Offers the
    target interface of the depth scales: moments(K) rows (a, a', γ²) with a(K) = γ(K)²K."""

    rho: Callable[[torch.Tensor], torch.Tensor]
    width: int
    label: str

    def _profile(self, K) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(r, ρ(r), ρ'(r)) at r = √(nK) for an array of K >= 0."""
        K = np.asarray(K, dtype=np.float64).reshape(-1)
        if np.any(K < 0) or not np.all(np.isfinite(K)):
            raise ActlabError("the whole-vector kernel needs finite K >= 0")
        r = torch.as_tensor(np.sqrt(self.width * K), dtype=DTYPE)
        p, dp = value_and_slope(self.rho, r)
        return r.numpy(), p.numpy(), dp.numpy()

    def gain_squared(self, K) -> np.ndarray:
        """γ(K)² = (ρ(r)/r)², r = √(nK); ρ'(0)² at K = 0."""
        r, p, _ = self._profile(K)
        slope0 = derivatives_at(self.rho, 0.0, 1)[1]
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(r > 0, (p / np.where(r > 0, r, 1.0)) ** 2, slope0 ** 2)

    def moments(self, K) -> np.ndarray:
        """Rows (a, da/dK, γ²) per K: a = ρ(r)²/n, da/dK = ρ(r)ρ'(r)/r (the slope of the q map per
        unit C_W), γ² the slope of the off-diagonal kernel (the χ₁ of Poole et al. per unit C_W)."""
        r, p, dp = self._profile(K)
        g2 = self.gain_squared(K)
        with np.errstate(invalid="ignore", divide="ignore"):
            da = np.where(r > 0, p * dp / np.where(r > 0, r, 1.0), g2)
        return np.stack([p * p / self.width, da, g2], axis=1)

    def second_moment(self, K) -> np.ndarray:
        return self.moments(K)[:, 0]

    def taylor(self) -> list[float]:
        """[f₀, f₁, 0, 0] per component near K = 0, where f is the identity times ρ'(0)."""
        r0, r1 = derivatives_at(self.rho, 0.0, 1)
        return [r0, r1, 0.0, 0.0]

    def pair(self, K11, K22, K12) -> np.ndarray:
        """γ(K₁₁)γ(K₂₂)K₁₂: the per-component two-input moment at leading order."""
        g1, g2 = self.gain_squared(K11), self.gain_squared(K22)
        return np.sqrt(g1 * g2) * np.asarray(K12, dtype=np.float64).reshape(-1)


def whole_vector_target(group: Group) -> WholeVector:
    """The leading-order whole-vector target of a group activation reduced with g = width."""
    return WholeVector(rho=group.rho, width=group.group_size, label=group.label)


def cosine_moments(c, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact (mean, variance) of c' = z_α·z_β/(‖z_α‖‖z_β‖) for z_α, z_β ∈ Rⁿ with n i.i.d. pairs of
    correlation c (the uncentred sample correlation; Fisher 1915 with n degrees of freedom):

        E c'  = c·(2/n)(Γ((n+1)/2)/Γ(n/2))²·₂F₁(½, ½; n/2 + 1; c²) = c(1 − (1 − c²)/(2n) + O(n⁻²)),
        E c'² = 1 − ((n − 1)/n)(1 − c²)·₂F₁(1, 1; n/2 + 1; c²)          (1/n at c = 0).

    It is the output correlation of one whole-vector layer (f rescales each input by a positive
    number) whenever both inputs lie outside the ball, and at any norm when C_b = 0."""
    n = int(width)
    if n < 2:
        raise ActlabError(f"the cosine law needs width >= 2, got {width}")
    c = np.asarray(c, dtype=np.float64)
    if np.any(np.abs(c) > 1) or not np.all(np.isfinite(c)):
        raise ActlabError("a correlation must lie in [-1, 1]")
    c2 = c * c
    inner = c2 < 1  # at |c| = 1, c' = c (scipy's ₂F₁ returns nan or ∞ at argument 1)
    x = np.where(inner, c2, 0.0)
    mean = np.where(inner, c * (2 / n) * math.exp(2 * (gammaln((n + 1) / 2) - gammaln(n / 2)))
                    * gauss_hypergeometric(0.5, 0.5, n / 2 + 1, x), c)
    second = np.where(inner, 1 - (n - 1) / n * (1 - c2) * gauss_hypergeometric(1.0, 1.0, n / 2 + 1, x), 1.0)
    return mean, np.maximum(second - mean * mean, 0.0)


SERIES_TERMS = 4000


def gauss_hypergeometric(a: float, b: float, c: float, x: np.ndarray) -> np.ndarray:
    """₂F₁(a, b; c; x) for 0 <= x < 1: scipy's `hyp2f1`, which returns nan for large c near x = 1
    (c = 129, x >= 0.99), and there the series Σ (a)_k(b)_k/((c)_k k!) xᵏ summed to SERIES_TERMS
    terms, whose terms fall like k^{a+b−c−1}xᵏ (to below 1e-16 of the sum at c − a − b >= 8)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.asarray(hyp2f1(a, b, c, x), dtype=np.float64)
    bad = ~np.isfinite(out)
    if bad.any():
        k = np.arange(SERIES_TERMS, dtype=np.float64)[:, None]
        ratios = (a + k) * (b + k) / ((c + k) * (1 + k)) * x[bad][None, :]
        out[bad] = 1 + np.cumprod(ratios, axis=0).sum(axis=0)
    return out
