"""Closed-form two-input moments ("dual activations", Daniely et al. 2016) that an
activation may declare next to its breakpoints, for the theory engine's N×N kernels.

A dual maps the covariance of a Gaussian pair, (z₁, z₂) ~ N(0, [[q₁, c], [c, q₂]]),
to (E σ(z₁)σ(z₂), E σ'(z₁)σ'(z₂)); arrays broadcast. With cos θ = c/√(q₁q₂):

- a₊·max(z, 0) + a₋·min(z, 0) (ReLU, leaky ReLU, identity; the arc-cosine kernel of
  Cho & Saul 2009, in neural-tangents' ABRelu form):
      E σσ   = √(q₁q₂)/(2π)·[(a₊² + a₋²)(sin θ + (π − θ)cos θ) − 2a₊a₋(sin θ − θ cos θ)]
      E σ'σ' = [(a₊² + a₋²)(π − θ) + 2a₊a₋θ]/(2π)
- erf(z) (Williams 1997):
      E σσ   = (2/π)·arcsin(2c/√((1 + 2q₁)(1 + 2q₂)))
      E σ'σ' = (4/π)/√((1 + 2q₁)(1 + 2q₂) − 4c²)       (σ' = (2/√π)e^{−z²})
- z·Φ(z) (GELU, exact erf form; the kernel of Tsuchida et al. 2021, derived here): with
  a = (1 + q₁)(1 + q₂), Δ = a − c² and P = 1/4 + arcsin(c/√a)/(2π),
      E σσ   = c·P + (q₁q₂Δ + c²)/(2π a √Δ)
      E σ'σ' = P + c·(3 + q₁ + q₂ + c²/Δ)/(2π a √Δ)     (σ' = Φ(z) + z·φ(z))
  Derivation: Φ(z) = Pr(ξ ≤ z) for an independent ξ ~ N(0, I), so E σσ = E z₁z₂·1{v ≥ 0}
  with v = z − ξ ~ N(0, Σ), Σ = K + I. Regressing z on v, z = Av + w with A = KΣ⁻¹ =
  I − Σ⁻¹ and Cov w = K − KΣ⁻¹K = A as well, so E σσ = (A M Aᵀ)₁₂ + A₁₂·P with the
  orthant moments of v: P = Pr(v ≥ 0) and M = E vvᵀ·1{v ≥ 0} (M₁₂ is the arc-cosine kernel
  above, M₁₁ = Σ₁₁(P + r√(1 − r²)/(2π)), r = c/√a, by Stein's lemma); the terms in P
  collect to c·P and the rest to the second term. E σ'σ' = ∂(E σσ)/∂c (Price's theorem).
  Δ ≥ 1 + q₁ + q₂: unlike ReLU's, this dual has no singularity at |ρ| = 1.

The formulas are compiled (numba) in duals_compiled.py, one scalar function each; a
`ClosedFormDual` evaluates one elementwise (`dual(q1, q2, c)`) or, for a whole
covariance, on its upper triangle only (`dual.gram(K)`). Each is checked against the
theory engine's adaptive quadrature by a test.
"""
from __future__ import annotations

from typing import Optional

import numpy as np

AB_RELU, ERF, GELU = 0, 1, 2  # the kinds of closed form (duals_compiled's formulas)


class ClosedFormDual:
    """A dual (q₁, q₂, c) ↦ (E σ(z₁)σ(z₂), E σ'(z₁)σ'(z₂)) given by a compiled formula:
    `kind` names it (AB_RELU: params (a₊² + a₋², 2a₊a₋); ERF, GELU: none)."""

    def __init__(self, kind: int, params: tuple[float, float] = (0.0, 0.0)) -> None:
        self.kind, self.params = kind, np.array(params, dtype=np.float64)

    def __call__(self, q1, q2, c) -> tuple[np.ndarray, np.ndarray]:
        """The moments elementwise over the broadcast arrays q1, q2, c."""
        from . import duals_compiled  # numba: loaded on first use, not with actlab

        q1, q2, c = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (q1, q2, c)))
        value, slope = np.empty(q1.shape), np.empty(q1.shape)
        duals_compiled.elementwise(self.kind, self.params, q1.ravel(), q2.ravel(), c.ravel(),
                                   value.reshape(-1), slope.reshape(-1))
        return value, slope

    def gram(self, K: np.ndarray, slopes: bool = True) -> tuple[np.ndarray, Optional[np.ndarray]]:
        """(S, D) with S_ij, D_ij the moments at (K_ii, K_jj, K_ij), for a symmetric N×N K:
        each pair is evaluated once, from the upper triangle of K (D is None when slopes=False)."""
        from . import duals_compiled  # numba: loaded on first use, not with actlab

        K = np.ascontiguousarray(K, dtype=np.float64)
        S = np.empty(K.shape)
        D = np.empty(K.shape if slopes else (0, 0))
        duals_compiled.symmetric(self.kind, self.params, K, S, D, slopes)
        return S, (D if slopes else None)


def ab_relu_dual(a_neg: float, a_pos: float) -> ClosedFormDual:
    """The dual of a₊·max(z, 0) + a₋·min(z, 0)."""
    return ClosedFormDual(AB_RELU, (a_pos ** 2 + a_neg ** 2, 2 * a_pos * a_neg))


erf_dual = ClosedFormDual(ERF)  # the dual of erf(z)
gelu_dual = ClosedFormDual(GELU)  # the dual of z·Φ(z)
