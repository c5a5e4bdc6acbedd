"""Replica-theory storage capacity of tree committee machines (ReLU vs sign units).

Entry point: `alpha_c(activation, K, weights, ansatz) -> Estimate(value, uncertainty, method)`.

Spherical weights, replica symmetric (RS), finite K — the q → 1 limit of Gardner's
computation (each unit's field λ_l is a standard Gaussian z_l):

    α_c(K) = 1 / E_z[ d²(z) ],   d²(z) = min ‖x‖²  s.t.  Σ_l c_l g(z_l + x_l) > 0

with E[d²] from `finite_k.mean_d2`: exact for K = 1 (α_c = 2) and ReLU K = 2 (4/3), a
one-dimensional order-statistics integral for sign units at any odd K, randomised
quasi-Monte Carlo with control variates and a stated error for ReLU at K ≥ 4 (plain
Monte Carlo with method='mc', the cross-check). 1RSB at finite K is not implemented.

K → ∞: the output field is Gaussian and the tree is a perceptron whose energetic
term sees the effective overlap (`effective_overlap`)

    C(q) = (E[g(u)g(v)] − (E g)²) / Var g,   (u, v) standard normal with correlation q
    sign: C(q) = (2/π) arcsin q
    ReLU: C(q) = [√(1−q²) + q(π − arccos q) − 1] / (π − 1)

- spherical RS:   α_c = 2 C'(1)  (ReLU: 2π/(π−1) ≈ 2.934; sign: C'(1) = ∞, diverges)
- spherical 1RSB: q₁ → 1 with m = μ(1−q₁), A = C'(1),
      S(q₀, μ) = ½[ ln(1 + μ(1−q₀))/μ + q₀/(1 + μ(1−q₀)) ]
      E(q₀, μ) = ∫Dz₀ ln ∫Dz₁ exp(−(μ/2A) y² Θ(−y)),  y = √C(q₀) z₀ + √(1−C(q₀)) z₁
      α_c = stationary value of α(q₀, μ) = −μ S / E
- binary RS: free entropy φ = G_S + α G_E,
      G_S = −q̂(1−q)/2 + ∫Dz ln 2cosh(√q̂ z),  G_E = ∫Dz ln H(−√(C/(1−C)) z)
  with C(q) = q for the perceptron; α_c is where the RS entropy at the saddle vanishes
  (perceptron: 0.833, Gardner & Derrida 1988). At finite K (sign units, any odd K) the units' overlaps
  are equal by symmetry and G_E = ∫Π_l Dz_l ln P(Σ_l τ_l > 0), the τ_l = ±1 independent with
  P(τ_l = 1) = Φ(√(q/(1−q)) z_l) (`binary_tree`: symmetric Gauss–Hermite for K ≤ 11, randomised QMC
  beyond); G_S and q̂ = −2α dG_E/dq are the perceptron's. The zero-entropy point is found along the
  saddle parametrised by q (`_binary_rs_capacity`), one G_E evaluation per root-search step.

For sign units the spherical capacity diverges with K. RS grows as (12/√(2π))√K
(`finite_k.sign_rs_asymptote`, derived and checked against the exact integral up to
K = 10⁴); the spec quotes α_c ≈ (16/π)√(ln K) (Monasson & Zecchina 1995), a
replica-symmetry-broken result evaluated by `sign_large_K_law`, not derived here.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Callable, Union

import numpy as np
from scipy import optimize, special

from ..errors import ActlabError
from .binary_tree import GAUSS_ORDERS, MAX_K, symmetric_gauss_rule, tree_energetic
from .finite_k import QMC_POINTS, QMC_SCRAMBLES, gaussian_sobol, mean_d2, mean_d2_mc
from .machine import check_architecture

ANSATZE = ("rs", "1rsb")
FINITE_K_METHODS = ("auto", "mc")


@dataclass(frozen=True)
class Estimate:
    """A theoretical value with its numerical uncertainty (Monte Carlo SE or quadrature/root error)."""

    value: float
    uncertainty: float
    method: str
    message: str = ""

    def as_dict(self) -> dict:
        return {"value": self.value, "uncertainty": self.uncertainty, "method": self.method, "message": self.message}


# ----------------------------------------------------------------------------- effective overlap

def effective_overlap(activation: str, q: np.ndarray) -> np.ndarray:
    """C(q) for sign or ReLU units, or 'linear' (the perceptron, C = q); C(0) = 0, C(1) = 1."""
    q = np.clip(np.asarray(q, dtype=float), -1.0, 1.0)
    if activation == "linear":  # the perceptron itself: C(q) = q
        return q
    if activation == "sign":
        return (2.0 / np.pi) * np.arcsin(q)
    if activation == "relu":
        return (np.sqrt(1.0 - q * q) + q * (np.pi - np.arccos(q)) - 1.0) / (np.pi - 1.0)
    raise ActlabError(f"unknown activation {activation!r}; allowed: relu, sign, linear")


def effective_overlap_slope(activation: str, q: np.ndarray) -> np.ndarray:
    """C'(q): sign (2/π)/√(1−q²); ReLU (π − arccos q)/(π − 1)."""
    q = np.asarray(q, dtype=float)
    if activation == "linear":
        return np.ones_like(q)
    if activation == "sign":
        return (2.0 / np.pi) / np.sqrt(np.maximum(1.0 - q * q, 0.0))
    if activation == "relu":
        return (np.pi - np.arccos(np.clip(q, -1, 1))) / (np.pi - 1.0)
    raise ActlabError(f"unknown activation {activation!r}; allowed: relu, sign")


def effective_overlap_curvature(activation: str, q: np.ndarray) -> np.ndarray:
    """C''(q): sign (2/π) q/(1−q²)^{3/2}; ReLU 1/((π − 1)√(1−q²)); linear 0."""
    q = np.asarray(q, dtype=float)
    one_minus = np.maximum(1.0 - q * q, 0.0)
    if activation == "linear":
        return np.zeros_like(q)
    if activation == "sign":
        return (2.0 / np.pi) * q / one_minus**1.5
    if activation == "relu":
        return 1.0 / ((np.pi - 1.0) * np.sqrt(one_minus))
    raise ActlabError(f"unknown activation {activation!r}; allowed: relu, sign")


def sign_large_K_law(K: Union[int, np.ndarray]) -> np.ndarray:
    """Quoted large-K growth of the sign-unit committee capacity: (16/π)√(ln K)."""
    return (16.0 / np.pi) * np.sqrt(np.log(np.asarray(K, dtype=float)))


# ----------------------------------------------------------------------------- Gaussian quadrature

@lru_cache(maxsize=8)
def _gauss(order: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of ∫Dz f(z) (probabilists' Gauss–Hermite)."""
    x, w = special.roots_hermitenorm(order)
    return x, w / math.sqrt(2.0 * math.pi)


def _log_H(x: np.ndarray) -> np.ndarray:
    """ln H(x), H(x) = ∫_x^∞ Dt."""
    return special.log_ndtr(-x)


# ----------------------------------------------------------------------------- spherical 1RSB, K = ∞

def _one_rsb_alpha(activation: str, q0: float, mu: float, order: int) -> float:
    """α(q₀, μ) = −μ S/E of the spherical 1RSB q₁ → 1 limit (module docstring)."""
    A = float(effective_overlap_slope(activation, 1.0))
    C = float(effective_overlap(activation, q0))
    S = 0.5 * (math.log1p(mu * (1 - q0)) / mu + q0 / (1 + mu * (1 - q0)))
    z0, w = _gauss(order)
    a = math.sqrt(C) * z0
    b2 = 1.0 - C
    s = mu / A
    r = 1.0 + s * b2
    # ∫Dz₁ [Θ(y) + Θ(−y) e^{−s y²/2}],  y = a + √b2 z₁
    log_pos = special.log_ndtr(a / math.sqrt(b2))
    log_neg = -s * a * a / (2 * r) + special.log_ndtr(-a / math.sqrt(b2 * r)) - 0.5 * math.log(r)
    E = float(w @ np.logaddexp(log_pos, log_neg))
    return -mu * S / E


def one_rsb_surface(activation: str, q0: np.ndarray, mu: np.ndarray, order: int = 201) -> np.ndarray:
    """α(q₀, μ) on a grid (rows q₀, columns μ), for inspection and plots."""
    return np.array([[_one_rsb_alpha(activation, float(q), float(m), order) for m in mu] for q in q0])


def _one_rsb_capacity(activation: str, order: int) -> tuple[float, float, float]:
    """Stationary point of α(q₀, μ); returns (α, q₀, μ).

    The stationary point is a minimum of α over (q₀, μ): for the perceptron (C = q) the
    surface is ≥ 2 everywhere and reaches 2 only on the RS boundary (μ → 0 or q₀ → 1),
    so the minimum reproduces Gardner's α = 2; for ReLU it is an interior point.
    """
    def alpha(p: np.ndarray) -> float:
        return _one_rsb_alpha(activation, float(special.expit(p[0])), math.exp(p[1]), order)

    grid = [(a, b) for a in np.linspace(-4, 4, 17) for b in np.linspace(-3, 6, 19)]
    start = min(grid, key=lambda p: alpha(np.array(p)))
    res = optimize.minimize(alpha, np.array(start), method="Nelder-Mead",
                            options={"xatol": 1e-9, "fatol": 1e-13, "maxiter": 4000})
    return float(res.fun), float(special.expit(res.x[0])), math.exp(res.x[1])


# ----------------------------------------------------------------------------- binary RS

def _binary_rs_terms(kind: str, q: float, order: int) -> tuple[float, float]:
    """G_E(q) and dG_E/dq for the binary perceptron (kind='linear') or the K = ∞ committee (kind = its activation)."""
    z, w = _gauss(order)
    C, dC = float(effective_overlap(kind, q)), float(effective_overlap_slope(kind, q))
    x = math.sqrt(C / (1.0 - C))
    GE = float(w @ special.log_ndtr(x * z))
    # d/dx ln Φ(xz) = z φ(xz)/Φ(xz)
    ratio = np.exp(-0.5 * (x * z) ** 2 - 0.5 * math.log(2 * math.pi) - special.log_ndtr(x * z))
    dGE_dx = float(w @ (z * ratio))
    dx_dC = 1.0 / (2.0 * x * (1.0 - C) ** 2)
    return GE, dGE_dx * dx_dC * dC


def _binary_rs_phi(q: float, qhat: float, alpha: float, GE: float, order: int) -> float:
    """φ = G_S + α G_E with G_S = −q̂(1−q)/2 + ∫Dz ln 2cosh(√q̂ z)."""
    z, w = _gauss(order)
    u = math.sqrt(qhat) * z
    return -qhat * (1 - q) / 2 + float(w @ np.logaddexp(u, -u)) + alpha * GE


def _binary_rs_entropy(kind: str, alpha: float, order: int) -> tuple[float, float, float]:
    """RS entropy at the saddle point for load α (kind as in `_binary_rs_terms`); returns (φ, q, q̂)."""
    z, w = _gauss(order)
    q = 0.5
    for _ in range(2000):
        qhat = -2.0 * alpha * _binary_rs_terms(kind, q, order)[1]
        q_new = float(w @ np.tanh(math.sqrt(qhat) * z) ** 2)
        q_new = min(max(q_new, 1e-12), 1 - 1e-12)
        if abs(q_new - q) < 1e-13:
            q = q_new
            break
        q = 0.5 * q + 0.5 * q_new
    GE, dGE = _binary_rs_terms(kind, q, order)
    qhat = -2.0 * alpha * dGE
    return _binary_rs_phi(q, qhat, alpha, GE, order), q, qhat


def _binary_rs_capacity(terms: Callable[[float], tuple[float, float]], order: int = 401) -> float:
    """Zero-entropy α_c for the energetic term `terms(q) -> (G_E, dG_E/dq)`, the saddle parametrised by q:
    q̂(q) solves q = ∫Dz tanh²(√q̂ z), α(q) = −q̂/(2 dG_E/dq), and α_c = α(q*) where φ(q*) = 0.
    One G_E evaluation per step of the root search (the fixed-load iteration of `_binary_rs_entropy` needs one
    per damped step, for each trial α)."""
    z, w = _gauss(order)

    def qhat_of(q: float) -> float:
        log_qhat = optimize.brentq(lambda s: float(w @ np.tanh(math.exp(0.5 * s) * z) ** 2) - q, -40.0, 30.0,
                                   xtol=1e-14)
        return math.exp(log_qhat)

    def saddle(q: float) -> tuple[float, float]:
        qhat = qhat_of(q)
        GE, dGE = terms(q)
        alpha = -qhat / (2.0 * dGE)
        return _binary_rs_phi(q, qhat, alpha, GE, order), alpha

    # q* = 0.56 for the perceptron, 0.31 for sign K = ∞; with `order` = 201 nodes q̂(q) has no root beyond q ≈ 0.94
    q_star = optimize.brentq(lambda q: saddle(q)[0], 0.05, 0.9, xtol=1e-13)
    return saddle(q_star)[1]


def _binary_tree_capacity(K: int, points: int, scrambles: int, seed: int) -> Estimate:
    """Binary RS zero-entropy α_c of the tree of K ≥ 3 (odd) sign units (`binary_tree`): the symmetric
    Gauss–Hermite rule at two orders where affordable (the difference is the uncertainty), else one root per
    scrambled Sobol' set (the standard error over sets is the uncertainty)."""
    if K > MAX_K:
        raise ActlabError(f"binary sign tree: K up to {MAX_K} (the cost grows as K²), got K={K}")
    if K in GAUSS_ORDERS:
        v1, v2 = (_binary_rs_capacity(partial(tree_energetic, z=z, w=w))
                  for z, w in (symmetric_gauss_rule(K, n) for n in GAUSS_ORDERS[K]))
        n1, n2 = GAUSS_ORDERS[K]
        return Estimate(v2, max(abs(v2 - v1), 1e-10),
                        f"RS zero entropy, tree K={K} (symmetric Gauss–Hermite {n2}^K vs {n1}^K)")
    if points < 2 or scrambles < 2:
        raise ActlabError(f"QMC needs points >= 2 and scrambles >= 2, got {points}, {scrambles}")
    m = max(1, int(round(math.log2(points))))
    rng = np.random.default_rng(seed)
    w = np.full(2**m, 2.0**-m)
    values = np.array([_binary_rs_capacity(partial(tree_energetic, z=gaussian_sobol(K, m, rng), w=w))
                       for _ in range(scrambles)])
    return Estimate(float(values.mean()), float(values.std(ddof=1) / math.sqrt(scrambles)),
                    f"RS zero entropy, tree K={K} (randomised QMC, {scrambles} Sobol' scramblings × 2^{m} points, "
                    "±1 SE)")


# ----------------------------------------------------------------------------- public entry point

def _parse_K(K: Union[int, float, str]) -> Union[int, float]:
    if isinstance(K, str):
        if K.strip().lower() in ("inf", "infinity", "∞"):
            return math.inf
        try:
            K = int(K)
        except ValueError:
            raise ActlabError(f"K must be a positive integer or 'inf', got {K!r}") from None
    if isinstance(K, float) and math.isinf(K):
        return math.inf
    if isinstance(K, float) and K.is_integer():
        K = int(K)
    if not isinstance(K, int) or K < 1:
        raise ActlabError(f"K must be a positive integer or 'inf', got {K!r}")
    return K


def alpha_c(activation: str, K: Union[int, float, str], weights: str = "spherical", ansatz: str = "rs", *,
            method: str = "auto", points: int = QMC_POINTS, scrambles: int = QMC_SCRAMBLES,
            samples: int = 200_000, seed: int = 0) -> Estimate:
    """Critical capacity α_c = P/N of the tree committee machine (see module docstring).

    activation: 'relu' (K even) or 'sign' (K odd; K = 1 is the perceptron); K an int or 'inf';
    weights: 'spherical' or 'binary'; ansatz: 'rs' or '1rsb'.
    Available: spherical RS for every K (finite K: method='auto' takes the exact, order-statistics
    or QMC route of `finite_k.mean_d2` with `points` × `scrambles` QMC points; method='mc' plain
    Monte Carlo over `samples`; closed form at K = ∞);
    spherical 1RSB at K = ∞; binary RS for the perceptron, the sign tree at any odd K (`points` ×
    `scrambles` QMC points at K ≥ 13) and K = ∞.
    Divergent cases return value = inf with the reason in `message`.
    """
    if activation not in ("relu", "sign"):
        raise ActlabError(f"unknown activation {activation!r}; allowed: relu, sign")
    if weights not in ("spherical", "binary"):
        raise ActlabError(f"unknown weights {weights!r}; allowed: spherical, binary")
    if ansatz not in ANSATZE:
        raise ActlabError(f"unknown ansatz {ansatz!r}; allowed: {', '.join(ANSATZE)}")
    K = _parse_K(K)
    finite = not math.isinf(K)
    if finite:
        check_architecture(activation, int(K))

    if weights == "spherical" and ansatz == "rs" and finite:
        if method not in FINITE_K_METHODS:
            raise ActlabError(f"unknown method {method!r}; allowed: {', '.join(FINITE_K_METHODS)}")
        r = (mean_d2(activation, int(K), points=points, scrambles=scrambles, seed=seed) if method == "auto"
             else mean_d2_mc(activation, int(K), samples=samples, seed=seed))
        return Estimate(1.0 / r.value, r.error / r.value**2, f"RS q→1, α=1/E[d²], {r.method}")
    if weights == "spherical" and not finite and activation == "sign":
        return Estimate(math.inf, 0.0, f"{ansatz.upper()} K=∞ via C(q)",
                        "diverges: C'(1)=∞ for sign units; quoted large-K law α_c ≈ (16/π)√(ln K) "
                        "(Monasson & Zecchina 1995)")
    if weights == "spherical" and ansatz == "rs":
        A = float(effective_overlap_slope(activation, 1.0))
        return Estimate(2.0 * A, 1e-12, "RS K=∞, α=2C'(1) closed form")
    if weights == "spherical" and ansatz == "1rsb" and not finite:
        v1, q0, mu = _one_rsb_capacity(activation, 101)
        v2, _, _ = _one_rsb_capacity(activation, 201)
        return Estimate(v2, max(abs(v2 - v1), 1e-8),
                        f"1RSB K=∞ via C(q), q₁→1, saddle at q₀={q0:.4f}, μ={mu:.4g} (Gauss–Hermite 201)")
    if weights == "binary" and ansatz == "rs" and (K == 1 or not finite):
        kind = "linear" if K == 1 else activation
        v1, v2 = (_binary_rs_capacity(partial(_binary_rs_terms, kind, order=n), n) for n in (201, 401))
        where = "perceptron" if K == 1 else "K=∞ via C(q)"
        return Estimate(v2, max(abs(v2 - v1), 1e-10), f"RS zero entropy, {where} (Gauss–Hermite 401)")
    if weights == "binary" and ansatz == "rs" and activation == "sign":
        return _binary_tree_capacity(int(K), points, scrambles, seed)
    raise ActlabError(
        f"alpha_c not available for weights={weights}, K={K}, ansatz={ansatz}; available: spherical rs (any K), "
        "spherical 1rsb (K=inf), binary rs (K=1, sign at odd K, K=inf)")


#: K values of the default α_c(K) table (`theory_table`)
TABLE_RELU_K = (2, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128)
TABLE_SIGN_K = (1, 3, 5, 7, 9, 15, 25, 33, 49, 65, 97, 129, 257, 513, 1025, 2049, 4097, 10001)
TABLE_BINARY_K = (3, 5, 7, 9, 11, 15, 25, 49)


def theory_table(relu_K=TABLE_RELU_K, sign_K=TABLE_SIGN_K, binary_K=TABLE_BINARY_K, *, points: int = QMC_POINTS,
                 scrambles: int = QMC_SCRAMBLES, seed: int = 0, progress=None) -> list[dict]:
    """Rows (activation, weights, ansatz, K, alpha_c, uncertainty, method): spherical RS at the given K,
    the K = ∞ values (spherical RS and 1RSB, binary RS), the binary perceptron and binary RS of the sign
    tree at `binary_K`.

    progress: optional callable run after each row (a progress bar's update).
    """
    rows = []

    def add(act, K, weights="spherical", ansatz="rs"):
        e = alpha_c(act, K, weights, ansatz, points=points, scrambles=scrambles, seed=seed)
        rows.append({"activation": act, "weights": weights, "ansatz": ansatz, "K": K, "alpha_c": e.value,
                     "uncertainty": e.uncertainty, "method": e.method})
        if progress is not None:
            progress()

    for act, Ks in (("relu", relu_K), ("sign", sign_K)):
        for K in Ks:
            add(act, K)
    for act in ("relu", "sign"):
        for weights, ansatz in (("spherical", "rs"), ("spherical", "1rsb"), ("binary", "rs")):
            add(act, "inf", weights, ansatz)
    for K in (1, *binary_K):
        add("sign", K, "binary", "rs")
    return rows
