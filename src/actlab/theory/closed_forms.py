"""Closed-form two-input moments ("dual activations", Daniely et al. 2016), compiled: the
formulas the activations declare by name (actlab.activations.duals), their evaluation
elementwise and on N×N covariances, and whole networks of them (`layers`).

A dual maps the covariance of a Gaussian pair, (z₁, z₂) ~ N(0, [[q₁, c], [c, q₂]]),
to (E σ(z₁)σ(z₂), E σ'(z₁)σ'(z₂)). With cos θ = c/√(q₁q₂):

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

One scalar function per formula; `evaluate` runs it elementwise over broadcast arrays,
`gram` over the upper triangle of a symmetric N×N covariance (the kernels are symmetric),
and `layers` through a whole network of (dual, dense layer) without Python between the
layers. Everything compiled that calls something else compiled is in this file: numba's
on-disk cache of a function is invalidated by changes to its own file only, so a loop here
calling a formula from another file would keep running the old formula after an edit.
numba is imported with the theory engine (its dual.py needs it too), not with actlab.activations.
"""
from __future__ import annotations

import math
from typing import Callable, Optional, Union

import numba
import numpy as np

from ..activations.duals import ERF, GELU, ClosedFormDual

OVERFLOW = 1e250  # a kernel past this is reported as inf: the next expectation would overflow
NONE = np.empty((0, 0))  # the NTK argument of the compiled maps when it is not tracked

Dual = Union[ClosedFormDual, Callable]  # a declared closed form, or a function (q1, q2, c) ↦ (E σσ, E σ'σ')


@numba.njit(cache=True)
def ab_relu_pair(q1: float, q2: float, c: float, even: float, cross: float) -> tuple[float, float]:
    """(E σσ, E σ'σ') of σ = a₊·max(z, 0) + a₋·min(z, 0), even = a₊² + a₋², cross = 2a₊a₋;
    with cos θ = c/√(q₁q₂) clipped to [−1, 1] (0 where q₁q₂ = 0):

        E σσ   = √(q₁q₂)/(2π)·[even·(sin θ + (π − θ)cos θ) − cross·(sin θ − θ cos θ)]
        E σ'σ' = [even·(π − θ) + cross·θ]/(2π)
    """
    norm = math.sqrt(q1 * q2)  # exact on the diagonal (√(q²) = q), so θ = 0 there, not ~1e-8
    if norm == math.inf:  # q₁q₂ overflowed (q ≳ 1e154)
        norm = math.sqrt(q1) * math.sqrt(q2)
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

    (derivation in the module docstring). atan2 keeps P to full relative accuracy as c → −√(q₁q₂).
    """
    a, total = (1 + q1) * (1 + q2), q1 + q2  # every expression symmetric in (q₁, q₂), also in rounding
    delta = 1 + total + max(q1 * q2 - c * c, 0.0)
    root = math.sqrt(delta)
    p = math.atan2(root, -c) / (2 * math.pi)
    value = c * p + (q1 * q2 * delta + c * c) / (2 * math.pi * a * root)
    return value, p + c * (3 + total + c * c / delta) / (2 * math.pi * a * root)


@numba.njit(cache=True)
def _pair(kind: int, a: float, b: float, q1: float, q2: float, c: float) -> tuple[float, float]:
    """The dual named by `kind` (activations.duals.AB_RELU, ERF, GELU) at one (q₁, q₂, c); (a, b) its
    ClosedFormDual.params (scalars, not an array: each array argument costs ~0.3 µs to pass in)."""
    if kind == ERF:
        return erf_pair(q1, q2, c)
    if kind == GELU:
        return gelu_pair(q1, q2, c)
    return ab_relu_pair(q1, q2, c, a, b)


@numba.njit(cache=True)
def _elementwise(kind: int, a: float, b: float, q1: np.ndarray, q2: np.ndarray, c: np.ndarray,
                 value: np.ndarray, slope: np.ndarray) -> None:
    """value_k, slope_k = the dual at (q1_k, q2_k, c_k), for 1-D arrays of one length."""
    for k in range(q1.size):
        value[k], slope[k] = _pair(kind, a, b, q1[k], q2[k], c[k])


@numba.njit(cache=True)
def _symmetric(kind: int, a: float, b: float, K: np.ndarray, S: np.ndarray, D: np.ndarray, slopes: bool) -> None:
    """S_ij, D_ij = the dual at (K_ii, K_jj, K_ij) for i ≤ j, mirrored to j < i (D when `slopes`)."""
    N = K.shape[0]
    for i in range(N):
        for j in range(i, N):
            v, d = _pair(kind, a, b, K[i, i], K[j, j], K[i, j])
            S[i, j] = v
            S[j, i] = v
            if slopes:
                D[i, j] = d
                D[j, i] = d


@numba.njit(cache=True)
def dense_entry(s: float, theta: float, C_b: float, C_W: float, lam_b: float, lam_W: float) -> tuple[float, float]:
    """(C_b + C_W·s, λ_b + λ_W·s + C_W·θ): one entry of the dense layer of actlab.theory.stax,
    K ↦ C_b + C_W·K, Θ ↦ λ_b + λ_W·K + C_W·Θ (the one copy of its formula)."""
    return C_b + C_W * s, lam_b + lam_W * s + C_W * theta


@numba.njit(cache=True)
def dense_into(S: np.ndarray, T: np.ndarray, C_b: float, C_W: float, lam_b: float, lam_W: float,
               K_out: np.ndarray, T_out: np.ndarray, track: bool) -> None:
    """K_out, T_out = dense_entry of (S, T) entrywise (T_out only when `track`); the layer map
    `dense` of actlab.theory.stax calls this too."""
    N, M = S.shape
    for i in range(N):
        for j in range(M):
            k, t = dense_entry(S[i, j], T[i, j] if track else 0.0, C_b, C_W, lam_b, lam_W)
            K_out[i, j] = k
            if track:
                T_out[i, j] = t


@numba.njit(cache=True)
def _within(k: float) -> bool:
    """k within ±OVERFLOW (NaN is not)."""
    return -OVERFLOW <= k <= OVERFLOW


@numba.njit(cache=True)
def bounded(K: np.ndarray) -> bool:
    """Every entry of the 2-D K `_within` ±OVERFLOW."""
    for i in range(K.shape[0]):  # not K.ravel(): that copies, ~20 ns a call, once per layer
        for j in range(K.shape[1]):
            if not _within(K[i, j]):
                return False
    return True


@numba.njit(cache=True)
def _pair_layers(kind: int, a: float, b: float, K: np.ndarray, T: np.ndarray, steps: int, input_scale: float,
                 C_b: float, C_W: float, lam_b: float, lam_W: float, track: bool, out_K: np.ndarray,
                 out_T: np.ndarray) -> int:
    """`_layers` for N = 2, the state (k₁₁, k₂₂, k₁₂, θ₁₁, θ₂₂, θ₁₂) held in registers between the
    layers: through memory, each layer's loads wait on the last layer's stores (50 erf layers:
    6.4 µs through arrays, 2.4 µs here)."""
    k11, k22, k12 = K[0, 0], K[1, 1], K[0, 1]
    t11, t22, t12 = (T[0, 0], T[1, 1], T[0, 1]) if track else (0.0, 0.0, 0.0)
    m = out_K.shape[0]
    for step in range(steps):
        if not (_within(k11) and _within(k22) and _within(k12)):
            return step
        if step == 0 and input_scale > 0:  # T is zero here
            k11, t11 = dense_entry(k11, 0.0, C_b, C_W * input_scale, lam_b, lam_W * input_scale)
            k22, t22 = dense_entry(k22, 0.0, C_b, C_W * input_scale, lam_b, lam_W * input_scale)
            k12, t12 = dense_entry(k12, 0.0, C_b, C_W * input_scale, lam_b, lam_W * input_scale)
        else:
            s11, d11 = _pair(kind, a, b, k11, k11, k11)
            s22, d22 = _pair(kind, a, b, k22, k22, k22)
            s12, d12 = _pair(kind, a, b, k11, k22, k12)
            k11, t11 = dense_entry(s11, d11 * t11, C_b, C_W, lam_b, lam_W)
            k22, t22 = dense_entry(s22, d22 * t22, C_b, C_W, lam_b, lam_W)
            k12, t12 = dense_entry(s12, d12 * t12, C_b, C_W, lam_b, lam_W)
        out = out_K[step % m]
        out[0, 0], out[1, 1], out[0, 1], out[1, 0] = k11, k22, k12, k12
        if track:
            out = out_T[step % m]
            out[0, 0], out[1, 1], out[0, 1], out[1, 0] = t11, t22, t12, t12
    return steps


@numba.njit(cache=True)
def _layers(kind: int, a: float, b: float, K: np.ndarray, T: np.ndarray, steps: int, input_scale: float,
            C_b: float, C_W: float, lam_b: float, lam_W: float, track: bool, out_K: np.ndarray,
            out_T: np.ndarray) -> int:
    """`steps` layers from the state (K, T): with input_scale s > 0 the first is the input layer
    alone, K ↦ C_b + C_W·s·K, Θ ↦ λ_b + λ_W·s·K (K the inputs' XXᵀ, s = 1/n₀, T zero), the
    others (dual, dense). The state after step l goes to out_K[l % m] (out_T likewise when
    `track`), m = len(out_K). Returns the steps done: fewer when the kernel entering a step is
    past ±OVERFLOW (0: the inputs' XXᵀ itself)."""
    N, m = K.shape[0], out_K.shape[0]
    if N == 2:
        return _pair_layers(kind, a, b, K, T, steps, input_scale, C_b, C_W, lam_b, lam_W, track, out_K, out_T)
    S = np.empty((N, N))
    D = np.empty((N, N) if track else (0, 0))
    for step in range(steps):
        if not bounded(K):
            return step
        if step == 0 and input_scale > 0:
            dense_into(K, T, C_b, C_W * input_scale, lam_b, lam_W * input_scale, out_K[0], out_T[0], track)
        else:
            _symmetric(kind, a, b, K, S, D, track)
            if track:
                D *= T  # E σ'σ'ᵀ ⊙ Θ
            dense_into(S, D, C_b, C_W, lam_b, lam_W, out_K[step % m], out_T[step % m], track)
        K = out_K[step % m]
        if track:
            T = out_T[step % m]
    return steps


def evaluate(dual: Dual, q1, q2, c) -> tuple[np.ndarray, np.ndarray]:
    """(E σσ, E σ'σ') elementwise over the broadcast arrays q1, q2, c."""
    q1, q2, c = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (q1, q2, c)))
    if not isinstance(dual, ClosedFormDual):
        return dual(q1, q2, c)
    value, slope = np.empty(q1.shape), np.empty(q1.shape)
    _elementwise(dual.kind, *dual.params, q1.ravel(), q2.ravel(), c.ravel(), value.reshape(-1), slope.reshape(-1))
    return value, slope


def gram(dual: Dual, K: np.ndarray, slopes: bool = True) -> tuple[np.ndarray, Optional[np.ndarray]]:
    """(S, D) with S_ij, D_ij the moments at (K_ii, K_jj, K_ij), for a symmetric N×N K: a declared
    closed form evaluates each pair once, from the upper triangle (D is None when slopes=False)."""
    if not isinstance(dual, ClosedFormDual):
        diag = np.diag(K)
        S, D = dual(diag[:, None], diag[None, :], K)
        return S, (D if slopes else None)
    K = np.ascontiguousarray(K, dtype=np.float64)
    S = np.empty(K.shape)
    D = np.empty(K.shape if slopes else (0, 0))
    _symmetric(dual.kind, *dual.params, K, S, D, slopes)
    return S, (D if slopes else None)


def layers(dual: ClosedFormDual, K: np.ndarray, T: Optional[np.ndarray], steps: int, C_b: float, C_W: float,
           lam_b: float, lam_W: float, keep: bool, input_scale: float = 0.0
           ) -> tuple[int, np.ndarray, Optional[np.ndarray]]:
    """`steps` layers of K ↦ C_b + C_W·S(K), Θ ↦ λ_b + λ_W·S(K) + C_W·D(K)⊙Θ (T = None: NNGP only)
    in one compiled call; with input_scale s > 0 the first is the input layer K ↦ C_b + C_W·s·K,
    Θ ↦ λ_b + λ_W·s·K (K = XXᵀ, s = 1/n₀, T zero). Returns (done, K, Θ): the steps done (fewer
    when the kernel passed ±OVERFLOW on the way; 0 when K itself did) and the states, (steps, N, N)
    when `keep`, else the last layer's (N, N) (Θ None when T is None)."""
    track, N = T is not None, K.shape[0]
    m = steps if keep else min(steps, 2)
    out_K = np.empty((m, N, N))
    out_T = np.empty((m, N, N) if track else (m, 0, 0))
    done = _layers(dual.kind, *dual.params, np.ascontiguousarray(K, dtype=np.float64),
                   np.ascontiguousarray(T, dtype=np.float64) if track else NONE, steps, input_scale,
                   C_b, C_W, lam_b, lam_W, track, out_K, out_T)
    if not keep:
        out_K, out_T = out_K[(steps - 1) % m], out_T[(steps - 1) % m]
    return done, out_K, (out_T if track else None)
