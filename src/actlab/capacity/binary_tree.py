"""RS energetic term of the binary-weight tree committee machine of K (odd) sign units, at any finite K.

With the replicas' common part √q z_l of unit l's field, the unit outputs τ_l = ±1 are independent with
p_l = P(τ_l = +1) = Φ(x z_l), x = √(q/(1−q)), and the machine answers +1 when the majority does:

    G_E(q) = E_z[ ln P(S ≥ m) ],   S = #{l: τ_l = +1} (Poisson-binomial),   m = (K+1)/2,   z ~ N(0, I_K)
    dG_E/dq = dx/dq · E_z[ Σ_l z_l φ(x z_l) P(S₋ₗ = m−1) / P(S ≥ m) ],   dx/dq = 1/(2x(1−q)²)

(∂P(S ≥ m)/∂p_l = P(S₋ₗ = m−1), the others' count exactly at the threshold). Per point, `log_majority`
runs the count recursion forward and backward over the units in log space (no underflow as q → 1, where
p_l reaches e^{−10³}), capped at m (the state "≥ m" absorbs): O(K·m) per point, compiled (numba).

No exact low-dimensional reduction of the K-dimensional integral was found (the logarithm of the
Poisson-binomial tail couples all units; the spherical machine's order-statistics reduction has no
counterpart here), so two quadratures share that integrand (`tree_energetic`):

- symmetric Gauss–Hermite (`symmetric_gauss_rule`): the order-n product rule in K dimensions, evaluated on
  multisets of nodes. The integrand is symmetric in the units, so the n^K grid points collapse to the
  C(n+K−1, K) multisets, each weighted by its multinomial count × Π w — the same sum as the product rule
  (K = 3, n = 31: 5,456 points instead of 29,791), converging fast in n (the integrand is smooth, of
  quadratic growth). Used while C(n+K−1, K) stays below ~10⁶ at orders that converge:
  K ≤ 11 (`GAUSS_ORDERS`), the error read off two orders (α_c: ≤ 1e-8 for K ≤ 7, 2e-7 at K = 9,
  1.3e-6 at K = 11).
- randomised quasi-Monte Carlo (`finite_k.gaussian_sobol`, independent Owen-scrambled Sobol' sets) for
  K ≥ 13, one zero-entropy root per set (common points for every q, so G_E(q) is smooth), the error the
  standard error over sets. It converges slowly on this integrand (at fixed q = 0.6 the SE of G_E fell
  only as about N^−0.6 to N^−0.9 for K = 1–9, presumably because the integrand grows quadratically in the
  corners where m fields are very negative and its effective dimension grows with K), which is why the
  deterministic rule is used wherever it is affordable; at K = 9 the two routes agree to 1.2e-5 (1.8 SE
  of the QMC value).
"""
from __future__ import annotations

import itertools
import math

import numba
import numpy as np
from scipy import special

from ..errors import ActlabError

#: largest K computed: the cost grows as K² per point (K = 49 takes ~3 min of CPU at the default QMC budget,
#: K = 201 about an hour) and the point arrays as K
MAX_K = 201
#: symmetric Gauss–Hermite orders (low, high) for the K that take that rule (≤ ~10⁶ multisets at the high order)
GAUSS_ORDERS = {3: (21, 31), 5: (21, 31), 7: (15, 21), 9: (11, 15), 11: (9, 11)}


@numba.njit(cache=True, inline="always")
def _logaddexp(a: float, b: float) -> float:  # pragma: no cover - compiled
    if a < b:
        a, b = b, a
    if b == -np.inf:
        return a
    return a + math.log1p(math.exp(b - a))


@numba.njit(cache=True)
def _majority_kernel(lp: np.ndarray, lq: np.ndarray) -> tuple:  # pragma: no cover - compiled
    n, K = lp.shape
    m = (K + 1) // 2
    log_tail = np.empty(n)
    log_loo = np.empty((n, K))
    F = np.empty((K + 1, m + 1))      # F[j, k]: log P(count of units < j = k), k = m meaning ≥ m
    B = np.empty((K + 1, m))          # B[j, k]: log P(count of units ≥ j = k), k < m
    for i in range(n):
        F[0, :] = -np.inf
        F[0, 0] = 0.0
        for j in range(K):
            a, b = lp[i, j], lq[i, j]
            F[j + 1, m] = _logaddexp(F[j, m], F[j, m - 1] + a)
            for k in range(m - 1, 0, -1):
                F[j + 1, k] = _logaddexp(F[j, k] + b, F[j, k - 1] + a)
            F[j + 1, 0] = F[j, 0] + b
        B[K, :] = -np.inf
        B[K, 0] = 0.0
        for j in range(K - 1, -1, -1):
            a, b = lp[i, j], lq[i, j]
            for k in range(m - 1, 0, -1):
                B[j, k] = _logaddexp(B[j + 1, k] + b, B[j + 1, k - 1] + a)
            B[j, 0] = B[j + 1, 0] + b
        log_tail[i] = F[K, m]
        for l in range(K):
            s = -np.inf
            for k in range(m):
                s = _logaddexp(s, F[l, k] + B[l + 1, m - 1 - k])
            log_loo[i, l] = s
    return log_tail, log_loo


def log_majority(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ln P(S ≥ m) and its gradient in t for p_l = Φ(t_l), t of shape (M, K), K odd (module docstring).

    Returns (ln P of shape (M,), ∂ ln P/∂t_l = φ(t_l) P(S₋ₗ = m−1)/P of shape (M, K)).
    """
    t = np.ascontiguousarray(t, dtype=np.float64)
    if t.ndim != 2 or t.shape[1] % 2 == 0:
        raise ActlabError(f"log_majority needs t of shape (M, K) with K odd, got {t.shape}")
    log_tail, log_loo = _majority_kernel(special.log_ndtr(t), special.log_ndtr(-t))
    log_phi = -0.5 * t * t - 0.5 * math.log(2.0 * math.pi)
    return log_tail, np.exp(log_loo + log_phi - log_tail[:, None])


def tree_energetic(q: float, z: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """(G_E(q), dG_E/dq) by the rule of nodes z (M, K) and weights w (M,) (module docstring)."""
    x = math.sqrt(q / (1.0 - q))
    log_tail, grad = log_majority(x * z)
    dx_dq = 1.0 / (2.0 * x * (1.0 - q) ** 2)
    return float(w @ log_tail), float(w @ (grad * z).sum(1)) * dx_dq


def symmetric_gauss_rule(K: int, order: int) -> tuple[np.ndarray, np.ndarray]:
    """The order-`order` Gauss–Hermite product rule for ∫Π_l Dz_l f(z) with f symmetric in its K arguments:
    one node per multiset of 1-D nodes (C(order+K−1, K) of them), weight = multinomial count × Π w."""
    x, w = special.roots_hermitenorm(order)
    w = w / math.sqrt(2.0 * math.pi)
    idx = np.array(list(itertools.combinations_with_replacement(range(order), K)), dtype=np.intp).reshape(-1, K)
    counts = np.zeros((len(idx), order))
    np.add.at(counts, (np.arange(len(idx))[:, None], idx), 1.0)
    log_count = special.gammaln(K + 1) - special.gammaln(counts + 1).sum(1)
    return x[idx], np.exp(log_count) * w[idx].prod(1)
