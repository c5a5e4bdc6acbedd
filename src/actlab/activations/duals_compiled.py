"""The closed-form duals of activations/duals.py, compiled (numba): one scalar formula per
dual, and the two loops that evaluate it, elementwise over broadcast arrays and over the
upper triangle of an N×N covariance (the theory engine's kernels, which are symmetric).

Imported on the first evaluation of a dual, not with actlab.activations: numba costs
~0.5 CPU s at import, which nothing else in the activations needs.
"""
from __future__ import annotations

import math

import numba
import numpy as np

from .duals import ERF, GELU


@numba.njit(cache=True)
def ab_relu_pair(q1: float, q2: float, c: float, even: float, cross: float) -> tuple[float, float]:
    """(E σσ, E σ'σ') of σ = a₊·max(z, 0) + a₋·min(z, 0), even = a₊² + a₋², cross = 2a₊a₋;
    with cos θ = c/√(q₁q₂) clipped to [−1, 1] (0 where q₁q₂ = 0):

        E σσ   = √(q₁q₂)/(2π)·[even·(sin θ + (π − θ)cos θ) − cross·(sin θ − θ cos θ)]
        E σ'σ' = [even·(π − θ) + cross·θ]/(2π)
    """
    norm = math.sqrt(q1 * q2)
    cos = min(max(c / norm, -1.0), 1.0) if norm > 0 else 0.0
    theta = math.acos(cos)
    sin = math.sqrt((1 - cos) * (1 + cos))  # = sin θ, without two more transcendental functions
    value = even * (sin + (math.pi - theta) * cos) - cross * (sin - theta * cos)
    slope = even * (math.pi - theta) + cross * theta
    return norm / (2 * math.pi) * value, slope / (2 * math.pi)


@numba.njit(cache=True)
def erf_pair(q1: float, q2: float, c: float) -> tuple[float, float]:
    """(E σσ, E σ'σ') of σ = erf (σ' = (2/√π)e^{−z²}):

        E σσ   = (2/π)·arcsin(2c/√((1 + 2q₁)(1 + 2q₂)))          (argument clipped to [−1, 1])
        E σ'σ' = (4/π)/√((1 + 2q₁)(1 + 2q₂) − 4c²)                (radicand floored at its minimum 1)
    """
    prod = (1 + 2 * q1) * (1 + 2 * q2)
    value = 2 / math.pi * math.asin(min(max(2 * c / math.sqrt(prod), -1.0), 1.0))
    return value, 4 / math.pi / math.sqrt(max(prod - 4 * c * c, 1.0))


@numba.njit(cache=True)
def gelu_pair(q1: float, q2: float, c: float) -> tuple[float, float]:
    """(E σσ, E σ'σ') of σ = z·Φ(z) (σ' = Φ(z) + z·φ(z)); with a = (1 + q₁)(1 + q₂),
    Δ = a − c² = 1 + q₁ + q₂ + (q₁q₂ − c²) (the last term floored at 0, so Δ ≥ 1) and
    P = atan2(√Δ, −c)/(2π) = 1/4 + arcsin(c/√a)/(2π):

        E σσ   = c·P + (q₁q₂Δ + c²)/(2π a √Δ)
        E σ'σ' = P + c·(3 + q₁ + q₂ + c²/Δ)/(2π a √Δ)

    (derivation in activations/duals.py). atan2 keeps P to full relative accuracy as c → −√(q₁q₂).
    """
    a, total = (1 + q1) * (1 + q2), q1 + q2  # every expression symmetric in (q₁, q₂), also in rounding
    delta = 1 + total + max(q1 * q2 - c * c, 0.0)
    root = math.sqrt(delta)
    p = math.atan2(root, -c) / (2 * math.pi)
    value = c * p + (q1 * q2 * delta + c * c) / (2 * math.pi * a * root)
    return value, p + c * (3 + total + c * c / delta) / (2 * math.pi * a * root)


@numba.njit(cache=True)
def _pair(kind: int, params: np.ndarray, q1: float, q2: float, c: float) -> tuple[float, float]:
    """The dual named by `kind` (duals.AB_RELU, duals.ERF, duals.GELU) at one (q₁, q₂, c)."""
    if kind == ERF:
        return erf_pair(q1, q2, c)
    if kind == GELU:
        return gelu_pair(q1, q2, c)
    return ab_relu_pair(q1, q2, c, params[0], params[1])


@numba.njit(cache=True)
def elementwise(kind: int, params: np.ndarray, q1: np.ndarray, q2: np.ndarray, c: np.ndarray,
                value: np.ndarray, slope: np.ndarray) -> None:
    """value_k, slope_k = the dual at (q1_k, q2_k, c_k), for 1-D arrays of one length."""
    for k in range(q1.size):
        value[k], slope[k] = _pair(kind, params, q1[k], q2[k], c[k])


@numba.njit(cache=True)
def symmetric(kind: int, params: np.ndarray, K: np.ndarray, S: np.ndarray, D: np.ndarray, slopes: bool) -> None:
    """S_ij, D_ij = the dual at (K_ii, K_jj, K_ij) for i ≤ j, mirrored to j < i (D when `slopes`)."""
    N = K.shape[0]
    diag = np.empty(N)
    for i in range(N):
        diag[i] = K[i, i]
    for i in range(N):
        for j in range(i, N):
            v, d = _pair(kind, params, diag[i], diag[j], K[i, j])
            S[i, j] = v
            S[j, i] = v
            if slopes:
                D[i, j] = d
                D[j, i] = d
