"""Simulated annealing on binary weights, plain and replicated, compiled (numba), with incremental local fields.

State kept per configuration (`fields.initial_state`): the integer raw fields h_lμ = Σ_i W_li ξ_lμi of
every unit on every pattern and the output fields o_μ = Σ_l c_l g(h_lμ). A proposal flips one weight
W_li; it changes only unit l's fields, h_lμ → h_lμ − 2 W_li ξ_lμi, so ΔE costs one pass over the P
patterns (`flip_delta`, no matmul), and an accepted flip updates h and o in place from the same pass.

Energies (both zero exactly on the solutions, ties y·o = 0 counting as errors as in `machine.py`):
- ``errors``: E = #{μ : y_μ o_μ ≤ 0};
- ``hinge``:  E = Σ_μ max(0, 1 − y_μ o_μ) on an integer output field o that says how far each pattern is
  from the right side. Perceptron (K = 1, sign): o = h, the raw field (unit kind LINEAR below: the
  output sign(h) is wrong exactly when y·h ≤ 0), so for odd N the cost of a violated pattern is twice
  the number of weight flips that would fix it, the "linear" energy of the binary perceptron in
  Baldassi et al.'s RRRMC.jl (GraphPercLinear). ReLU committees: o = Σ_l c_l max(h_l, 0). Sign
  committees: o = Σ_l sign(h_l), so the cost grows with the number of hidden units on the wrong side.

Plain annealing (`anneal_instance`): `sweeps` sweeps of N = K·n proposals, the weight drawn uniformly;
Metropolis acceptance min(1, e^{−β ΔE}), β geometric from β₀ to β₁; stops at E = 0.

Replicated annealing (`replicated_anneal_instance`): the robust ensemble of Baldassi et al. (PNAS 113,
E7655, 2016), y replicas W^a coupled to a centre that is traced out, as in RRRMC.jl's
GraphRobustEnsemble. The measure is
    P(W¹ … Wʸ) ∝ Π_a e^{−β E(W^a)} Π_{l,i} 2cosh(γ m_li),   m_li = Σ_a W^a_li,
so a flip of W^a_li (m → m − 2W^a_li) is accepted with min(1, e^{−β ΔE_a} cosh(γ(m − 2W^a_li)) / cosh(γ m)):
the coupling favours flips towards the replicas' majority and grows with γ. One sweep is y·N proposals
(replica and weight drawn uniformly); β and γ grow geometrically (β₀ → β₁, γ₀ → γ₁). The run stops
when any replica or the centre sign(m) (checked after each sweep; y odd, so no ties) has zero errors;
otherwise the centre is reported. With `centre_only` it stops only when the centre solves and reports
the centre: the point the robust ensemble is built to find (the centre of a dense region), where the
first solving replica may sit at the region's edge. Schedules are this project's choice (reconstruction).
"""
from __future__ import annotations

import math

import numba
import numpy as np

from .fields import initial_state

ENERGIES = ("errors", "hinge")
SIGN, RELU, LINEAR = 0, 1, 2        # unit kinds of the energy's output field: sign(h), max(h, 0), h (perceptron)


def unit_kind(activation: str, K: int) -> int:
    """The energy's unit kind: the perceptron's field is its raw field h, committees use their units."""
    if activation == "relu":
        return RELU
    return LINEAR if K == 1 else SIGN


@numba.njit(cache=True)
def output_fields(h: np.ndarray, c: np.ndarray, unit: int) -> np.ndarray:  # pragma: no cover - compiled
    """o_μ = Σ_l c_l g(h_lμ) for the unit kind (h: (K, P) integer fields)."""
    out = np.zeros(h.shape[1], dtype=np.int64)
    for l in range(h.shape[0]):
        for mu in range(h.shape[1]):
            v = h[l, mu]
            if unit == RELU:
                v = max(v, 0)
            elif unit == SIGN:
                v = (v > 0) - (v < 0)
            out[mu] += c[l] * v
    return out


@numba.njit(cache=True, inline="always")
def pattern_cost(yo: int, hinge: bool) -> int:  # pragma: no cover - compiled
    """Energy of one pattern from y·o: max(0, 1 − y·o) (hinge) or [y·o ≤ 0] (errors)."""
    return max(1 - yo, 0) if hinge else int(yo <= 0)


@numba.njit(cache=True)
def total_cost(out: np.ndarray, y: np.ndarray, hinge: bool) -> int:  # pragma: no cover - compiled
    """E = Σ_μ pattern_cost(y_μ o_μ)."""
    e = 0
    for mu in range(y.shape[0]):
        e += pattern_cost(y[mu] * out[mu], hinge)
    return e


@numba.njit(cache=True, inline="always")
def flip_delta(hl: np.ndarray, xr: np.ndarray, out: np.ndarray, out_new: np.ndarray, y: np.ndarray, cl: int,
               two_w: int, unit: int, hinge: bool) -> int:  # pragma: no cover - compiled
    """ΔE of flipping a weight of unit l (fields hl, its pattern row xr, 2·W_li); fills out_new."""
    delta = 0
    for mu in range(y.shape[0]):                   # branch-free: the loop the compiler vectorises
        ho = hl[mu]
        hn = ho - two_w * xr[mu]
        # all three unit kinds, then a select on the loop-invariant kind: stays branch-free
        d_relu = max(hn, 0) - max(ho, 0)
        d_sign = (hn > 0) - (hn < 0) - (ho > 0) + (ho < 0)
        d = d_relu if unit == RELU else (d_sign if unit == SIGN else hn - ho)
        o = out[mu]
        dn = o + cl * d
        out_new[mu] = dn
        delta += pattern_cost(y[mu] * dn, hinge) - pattern_cost(y[mu] * o, hinge)
    return delta


@numba.njit(cache=True, inline="always")
def apply_flip(hl: np.ndarray, xr: np.ndarray, out: np.ndarray, out_new: np.ndarray,
               two_w: int) -> None:  # pragma: no cover - compiled
    """Commit the flip whose ΔE `flip_delta` just computed (reusing its output fields)."""
    for mu in range(out.shape[0]):
        hl[mu] -= two_w * xr[mu]
        out[mu] = out_new[mu]


@numba.njit(cache=True)
def anneal_instance(XT: np.ndarray, y: np.ndarray, c: np.ndarray, W: np.ndarray, tree: bool, unit: int,
                    hinge: bool, sweeps: int, beta0: float, beta1: float, seed: int) -> tuple:  # pragma: no cover
    """Anneal one instance in place: XT (G, n, P) (patterns transposed, so that a flip reads one
    contiguous row), y (P,), c (K,), W (K, n), all int64, ±1; unit: `unit_kind`.

    Returns (final errors, proposals made).
    """
    np.random.seed(seed)
    K, n = W.shape
    N = K * n
    h = initial_state(XT, y, c, W, tree, unit == RELU)[0]
    out = output_fields(h, c, unit)
    energy = total_cost(out, y, hinge)
    out_new = np.empty(y.shape[0], dtype=np.int64)
    proposals = 0
    ratio = beta1 / beta0
    for sweep in range(sweeps):
        if energy == 0:
            break
        beta = beta0 * ratio ** (sweep / max(sweeps - 1, 1))
        for _ in range(N):
            k = np.random.randint(N)
            l = k // n
            i = k % n
            two_w = 2 * W[l, i]
            xr = XT[l if tree else 0, i]
            delta = flip_delta(h[l], xr, out, out_new, y, c[l], two_w, unit, hinge)
            proposals += 1
            if delta <= 0 or np.random.random() < math.exp(-beta * delta):
                W[l, i] = -W[l, i]
                apply_flip(h[l], xr, out, out_new, two_w)
                energy += delta
                if energy == 0:
                    return 0, proposals
    return total_cost(out, y, False), proposals


@numba.njit(cache=True)
def _log_cosh(x: float) -> float:  # pragma: no cover - compiled
    """ln cosh x without overflow."""
    a = abs(x)
    return a + math.log1p(math.exp(-2.0 * a)) - math.log(2.0)


@numba.njit(cache=True)
def _read_out(XT: np.ndarray, y: np.ndarray, c: np.ndarray, W: np.ndarray, m: np.ndarray, energy: np.ndarray,
              tree: bool, unit: int, best: np.ndarray, centre_only: bool) -> int:  # pragma: no cover - compiled
    """Fill `best` with a solving replica if there is one (unless centre_only), else the centre sign(m)
    (R odd: no ties); return its number of errors."""
    for a in range(W.shape[0]):
        if energy[a] == 0 and not centre_only:
            best[:] = W[a]
            return 0
    for l in range(m.shape[0]):
        for i in range(m.shape[1]):
            best[l, i] = 1 if m[l, i] > 0 else -1
    return initial_state(XT, y, c, best, tree, unit == RELU)[2]


@numba.njit(cache=True)
def replicated_anneal_instance(XT: np.ndarray, y: np.ndarray, c: np.ndarray, W: np.ndarray, tree: bool,
                               unit: int, hinge: bool, sweeps: int, beta0: float, beta1: float, gamma0: float,
                               gamma1: float, seed: int, best: np.ndarray, centre_only: bool) -> tuple:  # pragma: no cover
    """Robust-ensemble annealing of one instance (module docstring): W (R, K, n) replicas, R odd, updated in
    place; `best` (K, n) receives the reported configuration (a solving replica, else the centre; with
    centre_only, the centre alone: the run goes on until the centre solves or the budget ends).

    Returns (errors of `best`, proposals made).
    """
    np.random.seed(seed)
    R, K, n = W.shape
    N = K * n
    P = y.shape[0]
    h = np.empty((R, K, P), dtype=np.int64)
    out = np.empty((R, P), dtype=np.int64)
    energy = np.empty(R, dtype=np.int64)
    m = np.zeros((K, n), dtype=np.int64)
    for a in range(R):
        ha = initial_state(XT, y, c, W[a], tree, unit == RELU)[0]
        h[a] = ha
        out[a] = output_fields(ha, c, unit)
        energy[a] = total_cost(out[a], y, hinge)
        m += W[a]
    out_new = np.empty(P, dtype=np.int64)
    log_cosh = np.empty(2 * R + 1)                  # ln cosh(γ m) for m = −R … R, refreshed when γ changes
    proposals = 0
    for sweep in range(sweeps):
        if _read_out(XT, y, c, W, m, energy, tree, unit, best, centre_only) == 0:
            return 0, proposals
        frac = sweep / max(sweeps - 1, 1)
        beta = beta0 * (beta1 / beta0) ** frac
        gamma = gamma0 * (gamma1 / gamma0) ** frac
        for j in range(2 * R + 1):
            log_cosh[j] = _log_cosh(gamma * (j - R))
        for _ in range(R * N):
            a = np.random.randint(R)
            k = np.random.randint(N)
            l = k // n
            i = k % n
            two_w = 2 * W[a, l, i]
            xr = XT[l if tree else 0, i]
            delta = flip_delta(h[a, l], xr, out[a], out_new, y, c[l], two_w, unit, hinge)
            mi = m[l, i]
            log_ratio = -beta * delta + log_cosh[mi - two_w + R] - log_cosh[mi + R]
            proposals += 1
            if log_ratio >= 0 or np.random.random() < math.exp(log_ratio):
                W[a, l, i] = -W[a, l, i]
                m[l, i] = mi - two_w
                apply_flip(h[a, l], xr, out[a], out_new, two_w)
                energy[a] += delta
                if energy[a] == 0 and not centre_only:
                    best[:] = W[a]
                    return 0, proposals
    return _read_out(XT, y, c, W, m, energy, tree, unit, best, centre_only), proposals
