"""Spherical RS capacity of the tree committee machine at finite K: E[d²(z)] without Monte Carlo noise.

Gardner's q → 1 limit gives (each unit's field λ_l is a standard Gaussian z_l)

    α_c(K) = 1 / E_z[ d²(z) ],   d²(z) = min ‖x‖²  s.t.  Σ_l c_l g(z_l + x_l) > 0.

Routes, from exact to estimated (`mean_d2` picks the best one available):

- exact: K = 1, E[d²] = E[z²; z < 0] = ½ (α_c = 2, Gardner); ReLU K = 2, E[d²] = ¾
  (α_c = 4/3): d² is z₁² on {z₂ ≤ 0, z₁ < 0}, (z₂ − z₁)²/2 on {z₂ > |z₁|} and z₁² + z₂² on
  {z₂ > 0, z₁ < −z₂} (0 elsewhere); each of the three regions contributes ¼.
- sign units, any odd K: the costs c_l = max(0, −z_l)² are i.i.d. with P(c ≤ t) = Φ(√t), and
  d² is the sum of the m = (K+1)/2 smallest, so (order statistics, t = u²)

      E[d²] = ∫_0^∞ 2u E[(m − B(u))⁺] du,   B(u) ~ Binomial(K, Φ(u)),

  one adaptive quadrature (`sign_mean_d2`) to ~1e-12 for K up to 10⁴ and beyond. For large K
  (derived here: ~√K/2 of the negative fields, the smallest |z|, spaced 1/(Kφ(0)), must be
  raised) E[d²] ≈ (√(2π)/12) K^(−1/2), so RS grows as α_c ≈ (12/√(2π)) √K (`sign_rs_asymptote`).
- ReLU, K ≥ 4: randomised quasi-Monte Carlo (scrambled Sobol' points, `scipy.stats.qmc`) with
  d² solved exactly per point and two control variates whose means are known exactly, with
  S = Σ_l c_l relu(z_l) and n₊ = #{l: z_l > 0} (`relu_controls`):
      V₁ = max(0, −S)²:  S is symmetric (the halves are exchangeable), E[V₁] = E[S²]/2 = K(π − 1)/(4π);
      V₂ = V₁/n₊ (0 when n₊ = 0), the linear-response cost of moving the active units: given the
           numbers n_A, n_B of active units in each half, swapping the halves gives
           E[V₁ | n_A, n_B] + E[V₁ | n_B, n_A] = E[S² | n_A, n_B] = n(1 − 2/π) + (n_A − n_B)²(2/π),
           n = n_A + n_B, so E[V₂] = E[(n(1 − 2/π) + (n_A − n_B)² 2/π)/(2n)] over two independent
           Binomial(K/2, ½), a finite sum.
  The error is the spread of independent scramblings (`relu_mean_d2_qmc`).
- plain Monte Carlo (`mean_d2_mc`), kept as the independent cross-check of the two above.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np
from scipy import integrate, special
from scipy.stats import qmc

from ..errors import ActlabError
from .machine import check_architecture

#: default QMC budget for ReLU: points per scrambling and scramblings; ≤ 1e-3 absolute on α_c up to K = 128
QMC_POINTS = 2**14
QMC_SCRAMBLES = 16


@dataclass(frozen=True)
class MeanD2:
    """E[d²] with its numerical error (1 SE for the random routes, the quadrature bound otherwise)."""

    value: float
    error: float
    method: str


# ----------------------------------------------------------------------------- d²(z) per sample

def d2_sign(z: np.ndarray) -> np.ndarray:
    """d²(z) for a majority vote of K (odd) sign units, z of shape (M, K).

    At least (K+1)/2 fields must be made positive; moving z_l to 0⁺ costs max(0, −z_l)²,
    so d² is the sum of the (K+1)/2 smallest such costs.
    """
    K = z.shape[1]
    cost = np.sort(np.maximum(-z, 0.0) ** 2, axis=1)
    return cost[:, : (K + 1) // 2].sum(axis=1)


@numba.njit(cache=True)
def _d2_relu_kernel(z: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    M, K = z.shape
    h = K // 2
    out = np.empty(M)
    Pb = np.empty(h + 1)
    Q = np.empty(h + 1)
    for m in range(M):
        a = -np.sort(-z[m, :h])
        b = -np.sort(-np.maximum(z[m, h:], 0.0))
        s_a = 0.0
        for i in range(h):
            if a[i] > 0:
                s_a += a[i]
        Pb[0] = 0.0
        for j in range(h):
            Pb[j + 1] = Pb[j] + b[j]
        Q[h] = 0.0
        for j in range(h - 1, -1, -1):
            Q[j] = Q[j + 1] + b[j] * b[j]
        best = np.inf
        cum_a = 0.0
        cum_relu = 0.0
        j = 0
        for k in range(1, h + 1):
            ak = a[k - 1]
            cum_a += ak
            if ak > 0:
                cum_relu += ak
            C = cum_a + s_a - cum_relu
            # (Pb_j − C)/(k + j) is unimodal in j (b decreasing): climb from the previous k's argmax
            while j < h and (Pb[j + 1] - C) * (k + j) >= (Pb[j] - C) * (k + j + 1):
                j += 1
            while j > 0 and (Pb[j - 1] - C) * (k + j) > (Pb[j] - C) * (k + j - 1):
                j -= 1
            eps = max((Pb[j] - C) / (k + j), -ak, 0.0)
            cnt = j                                   # number of negative-side fields above ε
            while cnt > 0 and b[cnt - 1] <= eps:
                cnt -= 1
            while cnt < h and b[cnt] > eps:
                cnt += 1
            cost = (k + cnt) * eps * eps + Q[cnt]
            if cost < best:
                best = cost
        out[m] = best
    return out


def d2_relu(z: np.ndarray) -> np.ndarray:
    """d²(z) for K (even) ReLU units with readout c = (+1)×K/2, (−1)×K/2; z of shape (M, K).

    Exact solution of min ‖x‖² s.t. Σ_{a∈A} relu(z_a+x_a) ≥ Σ_{b∈B} relu(z_b+x_b) (the closure
    of the strict constraint). By the KKT conditions every moved coordinate moves by the same
    amount ε: a set S of the k largest positive-side fields is raised by ε, and every negative-side
    field is lowered by min(ε, z_b⁺). For fixed k the constraint
        Σ_S (z_a + ε) + Σ_{A∖S} relu(z_a) ≥ Σ_B relu(z_b − ε) = max_j (Σ_{i≤j} b_i − j ε)
    (b sorted decreasing) gives ε_k = max(0, −z_(k), max_j (Σ_{i≤j} b_i − C_k)/(k + j)),
    cost_k = k ε_k² + Σ_B min(ε_k, z_b⁺)², and d² = min_k cost_k. Compiled (numba): the max over j
    is found by climbing a unimodal sequence, O(K log K) per sample.
    """
    return _d2_relu_kernel(np.ascontiguousarray(z, dtype=np.float64))


def d2(activation: str, z: np.ndarray) -> np.ndarray:
    """d²(z) for `activation` ('relu' or 'sign'), z of shape (M, K)."""
    return d2_relu(z) if activation == "relu" else d2_sign(z)


# ----------------------------------------------------------------------------- routes to E[d²]

def sign_tail(K: int, u: float) -> float:
    """E[(m − B)⁺], B ~ Binomial(K, Φ(u)), m = (K+1)/2, summed over b < m from the log-pmf.

    The direct sum keeps ~1e-12 relative accuracy at K = 10⁴, where the two-CDF form
    m F_K(m−1) − K p F_{K−1}(m−2) loses ~1e-9 (incomplete-beta error and cancellation).
    """
    m = (K + 1) // 2
    b = np.arange(m)
    log_pmf = (special.gammaln(K + 1) - special.gammaln(b + 1) - special.gammaln(K - b + 1)
               + b * special.log_ndtr(u) + (K - b) * special.log_ndtr(-u))
    return float((np.exp(log_pmf) * (m - b)).sum())


def sign_mean_d2(K: int) -> MeanD2:
    """E[d²] for the majority vote of K (odd) sign units by the order-statistics integral (module docstring).

    u = s/√K puts the integrand's width at O(1) in s for every K; adaptive quadrature on s ∈ [0, 60]
    (the integrand is below e^{−s²/π} beyond).
    """
    check_architecture("sign", K)
    root = math.sqrt(K)

    def integrand(s: float) -> float:
        u = s / root
        return 2.0 * u * sign_tail(K, u) / root

    value, err = integrate.quad(integrand, 0.0, 60.0, points=[1.0, 3.0, 10.0], epsabs=1e-15, epsrel=1e-13,
                                limit=400)
    return MeanD2(value, max(err, 1e-12 * value), "order-statistics integral (adaptive quadrature)")


def sign_rs_asymptote(K) -> np.ndarray:
    """Large-K RS law for sign committees derived here: α_c ≈ (12/√(2π)) √K (module docstring)."""
    return 12.0 / math.sqrt(2.0 * math.pi) * np.sqrt(np.asarray(K, dtype=float))


def gaussian_sobol(K: int, log2_points: int, rng: np.random.Generator) -> np.ndarray:
    """2^log2_points standard Gaussian points in K dimensions from one Owen-scrambled Sobol' set (by Φ⁻¹)."""
    u = qmc.Sobol(d=K, scramble=True, seed=rng).random_base2(log2_points)
    return special.ndtri(np.clip(u, 1e-300, 1 - 1e-16))


def relu_controls(z: np.ndarray) -> np.ndarray:
    """Control variates (V₁, V₂) per sample, shape (M, 2) (module docstring)."""
    h = z.shape[1] // 2
    r = np.maximum(z, 0.0)
    v1 = np.maximum(r[:, h:].sum(1) - r[:, :h].sum(1), 0.0) ** 2
    return np.stack([v1, v1 / np.maximum((z > 0).sum(1), 1)], axis=1)


def relu_control_means(K: int) -> np.ndarray:
    """Exact (E[V₁], E[V₂]) for K ReLU units (module docstring)."""
    h = K // 2
    counts = np.arange(h + 1)
    p = special.comb(h, counts) / 2.0**h
    nA, nB = np.meshgrid(counts, counts, indexing="ij")
    n = nA + nB
    cond = n * (1 - 2 / math.pi) + (nA - nB) ** 2 * (2 / math.pi)
    ev2 = float((p[:, None] * p[None, :] * np.where(n > 0, cond / (2 * np.maximum(n, 1)), 0.0)).sum())
    return np.array([K * (math.pi - 1.0) / (4.0 * math.pi), ev2])


def relu_mean_d2_qmc(K: int, points: int = QMC_POINTS, scrambles: int = QMC_SCRAMBLES, seed: int = 0) -> MeanD2:
    """E[d²] for K (even) ReLU units: scrambled Sobol' points with control variates (module docstring).

    Each scrambling gives one estimate mean(d²) − β·(mean(V) − E[V]); β is the pooled least-squares
    coefficient of d² on V = (V₁, V₂). The value is the mean over scramblings, the error their
    standard error. `points` is rounded to a power of two (Sobol' balance).
    """
    check_architecture("relu", K)
    if points < 2 or scrambles < 2:
        raise ActlabError(f"QMC needs points >= 2 and scrambles >= 2, got {points}, {scrambles}")
    m = max(1, int(round(math.log2(points))))
    rng = np.random.default_rng(seed)
    d2s, vs = [], []
    for _ in range(scrambles):
        z = gaussian_sobol(K, m, rng)
        d2s.append(d2_relu(z))
        vs.append(relu_controls(z))
    D, V = np.array(d2s), np.array(vs)                      # (R, n), (R, n, 2)
    Vc = (V - V.mean((0, 1))).reshape(-1, 2)
    beta = np.linalg.lstsq(Vc, (D - D.mean()).ravel(), rcond=None)[0]
    est = D.mean(1) - (V.mean(1) - relu_control_means(K)) @ beta
    return MeanD2(float(est.mean()), float(est.std(ddof=1) / math.sqrt(scrambles)),
                  f"randomised QMC, {scrambles} Sobol' scramblings × 2^{m} points, 2 control variates (±1 SE)")


def mean_d2_mc(activation: str, K: int, samples: int = 200_000, seed: int = 0) -> MeanD2:
    """Plain Monte Carlo E[d²(z)], z ~ N(0, I_K), with its standard error (the cross-check route)."""
    check_architecture(activation, K)
    rng = np.random.default_rng(seed)
    chunk = max(1, min(samples, 4_000_000 // K))
    total = total_sq = 0.0
    done = 0
    while done < samples:
        n = min(chunk, samples - done)
        v = d2(activation, rng.standard_normal((n, K)))
        total += v.sum()
        total_sq += (v * v).sum()
        done += n
    mean = total / samples
    var = max(total_sq / samples - mean * mean, 0.0)
    return MeanD2(mean, math.sqrt(var / samples), f"Monte Carlo over {samples} samples (±1 SE)")


def mean_d2(activation: str, K: int, *, points: int = QMC_POINTS, scrambles: int = QMC_SCRAMBLES,
            seed: int = 0) -> MeanD2:
    """E[d²] by the best route: exact (K = 1, ReLU K = 2), order statistics (sign), QMC (ReLU K ≥ 4)."""
    check_architecture(activation, K)
    if K == 1:
        return MeanD2(0.5, 0.0, "exact: E[z²; z<0] = 1/2")
    if activation == "relu" and K == 2:
        return MeanD2(0.75, 0.0, "exact: three regions of ¼ each")
    if activation == "sign":
        return sign_mean_d2(K)
    return relu_mean_d2_qmc(K, points, scrambles, seed)
