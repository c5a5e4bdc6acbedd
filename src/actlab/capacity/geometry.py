"""Geometry of the space of binary-weight solutions: Franz–Parisi and large-deviation local entropy (RS).

Both quantities count the solutions W ∈ {±1}^N at Hamming distance d = (1 − p)/2 from a reference
W̃ (overlap p = W·W̃/N) and differ in how the reference is chosen. Machines: the binary perceptron
('linear', C(q) = q) and the tree committee machines with sign or ReLU hidden units at K → ∞, whose
energetic terms see each overlap through the effective overlap C(q) of `replica.effective_overlap`
(the spec's rule: replace q_ab by C(q_ab) in the energetic term; the entropic term is the
perceptron's). Every formula below is replica symmetric (RS) in its own ansatz and is this
project's derivation (reconstruction), checked against the limits listed in docs/capacity.md; the
paper's own equations for the committee machines could not be read.

Franz–Parisi entropy (typical reference: W̃ drawn uniformly among the solutions at load α):

    S_FP(p) = extr_{q, t, q̂, t̂, p̂}  −q̂(1−q)/2 − p̂ p + t̂ t + G_S + α G_E
    G_S = ∫Dz₁Dz₂ Σ_σ [(1 + σ tanh h̃)/2] ln 2cosh(√q̂ z₂ + (p̂ − t̂)σ),  h̃ = √(Q̂ − t̂²/q̂) z₁ + (t̂/√q̂) z₂
    G_E = ∫Dz E_{η | v̄ > 0}[ ∫Dζ ln H(−(A z + B η + √(C_q − A² − B²) ζ)/√(1 − C_q)) ],
          v̄ = √C_Q z + √(1 − C_Q) η,  A = C_t/√C_Q,  B = (C_p − C_t)/√(1 − C_Q)

with C_x = C(x); (Q, Q̂) is the RS equilibrium saddle of the reference (`replica._binary_rs_entropy`),
t the overlap of W with the other replicas of the reference, q the overlap of two W's.
At p = Q it returns the equilibrium entropy; at d → 0 it tends to 0 from below: typical solutions
are isolated (Huang & Kabashima, PRE 90, 052813, 2014).

Large-deviation local entropy (robust ensemble, Baldassi et al. PRL 115, 128101, 2015 and PNAS 113,
E7655, 2016): the reference W̃ is any binary vector, weighted by N(W̃, d)^y with y → ∞, so it is the
centre of the densest region. With the y replicas of W around one centre at mutual overlap
q₁ = q + δ/y, q̂₁ = q̂ + Δ̂/y (the scaling that keeps the y → ∞ limit finite; the centres of the
n → 0 groups coincide, Q = 1, and the centre's own conjugates vanish, the centre carrying no constraint):

    S_LE(p) = extr_{q, δ, q̂, Δ̂, p̂}  −p̂ p − (q̂(δ + 1 − q) + Δ̂ q)/2
              + ∫Dz max_u [ ln 2cosh(√q̂ |z| + p̂ + √Δ̂ u) − u²/2 ]
              + α ∫Dz max_u [ ln H(−(√C_q z + √(C'_q δ) u)/√(1 − C_q)) − u²/2 ]

(the centre is W̃_i = sign of the cloud's local field, hence |z|). Limits: α = 0 gives the ball
entropy H(d) = −d ln d − (1−d) ln(1−d); for d ≥ d_eq = (1 − ∫Dz |tanh(√Q̂ z)|)/2 (p̂ = 0, δ = 0) the
ball already holds the typical solutions and S_LE is the RS equilibrium entropy, which vanishes at the
binary capacity (0.833 perceptron, 0.904 ReLU, 0.947 sign at K = ∞); S_LE ≤ H(d); a region is dense
where S_LE(d) ≈ H(d) at small d.

Numerics: ∫Dz by Gauss–Hermite (`replica._gauss`), ∫Dz f(|z|) by Gauss–Legendre on [0, 10], the
conditional η integral by Gauss–Legendre in the tail probability; inner maxima by
Newton (both are unimodal: ln H(−x) is concave; ln 2cosh(a + bu) − u²/2 is unimodal on u ≥ 0 for
a ≥ 0); the saddle by a two-dimensional root in the order parameters (conjugates eliminated
exactly), continued along d from a known point (p = Q for FP, d_eq for the local entropy).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Optional, Sequence

import numpy as np
from scipy import optimize, special

from ..errors import ActlabError
from .empirical import ball_entropy
from .replica import (_binary_rs_entropy, _gauss, alpha_c, effective_overlap, effective_overlap_curvature,
                      effective_overlap_slope)

#: user-facing machine names → the effective-overlap kind of `replica.effective_overlap`
MACHINES = {"perceptron": "linear", "relu": "relu", "sign": "sign"}
KINDS = ("franz-parisi", "local-entropy")
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


@dataclass
class EntropyCurve:
    """S(d) on a grid of Hamming distances; NaN where no saddle point was found (stated in `message`)."""

    kind: str
    machine: str
    alpha: float
    d: np.ndarray
    entropy: np.ndarray
    method: str
    message: str = ""
    order_parameters: list = field(default_factory=list)
    load: Optional[float] = None  # α as a fraction of the machine's RS binary capacity, when chosen that way

    def as_dict(self) -> dict:
        return {"kind": self.kind, "machine": self.machine, "alpha": self.alpha, "load": self.load,
                "d": self.d.tolist(),
                "entropy": [None if not np.isfinite(s) else float(s) for s in self.entropy],
                "method": self.method, "message": self.message, "order_parameters": self.order_parameters}


# ----------------------------------------------------------------------------- quadratures

@lru_cache(maxsize=8)
def _half_gauss(order: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes z ∈ [0, 10] and weights of ∫Dz f(|z|) = 2∫₀^∞ φ(z) f(z) dz (Gauss–Legendre; the tail beyond 10
    weighs 1.5e-23). Not Gauss–Laguerre in z²/2: f(|z|) has odd powers of z, which converge slowly there."""
    x, w = special.roots_legendre(order)
    z = 5.0 * (x + 1.0)
    return z, 10.0 * w * np.exp(-0.5 * z * z - _LOG_SQRT_2PI)


@lru_cache(maxsize=8)
def _unit_legendre(order: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Legendre on (0, 1)."""
    x, w = special.roots_legendre(order)
    return 0.5 * (x + 1.0), 0.5 * w


def _mills(x: np.ndarray) -> np.ndarray:
    """R(x) = φ(x)/Φ(x), stable for large negative x."""
    return np.exp(-0.5 * x * x - _LOG_SQRT_2PI - special.log_ndtr(x))


# ----------------------------------------------------------------------------- local entropy, y → ∞

def _cloud_max(a: np.ndarray, b: float) -> tuple[np.ndarray, np.ndarray]:
    """u* = argmax_u ln 2cosh(a + bu) − u²/2 for a ≥ 0 (Newton from u = b, monotone); returns (u*, tanh(a + bu*))."""
    u = np.full_like(a, b)
    for _ in range(60):
        t = np.tanh(a + b * u)
        h = b * t - u
        step = h / (b * b * (1.0 - t * t) - 1.0)
        u = u - step
        if np.max(np.abs(step)) < 1e-14:
            break
    return u, np.tanh(a + b * u)


def _entropic_le(qhat: float, dhat: float, phat: float, order: int) -> dict:
    """∫Dz max_u[ln 2cosh(√q̂|z| + p̂ + √Δ̂u) − u²/2] and its derivatives in (p̂, q̂, Δ̂) (envelope theorem)."""
    z, w = _half_gauss(order)
    b = math.sqrt(max(dhat, 0.0))
    u, t = _cloud_max(math.sqrt(qhat) * z + phat, b)
    A = math.sqrt(qhat) * z + phat + b * u
    value = float(w @ (np.logaddexp(A, -A) - 0.5 * u * u))
    return {"value": value, "d_phat": float(w @ t), "d_qhat": float(w @ (t * z)) / (2.0 * math.sqrt(qhat)),
            "d_dhat": 0.5 * float(w @ (t * t))}


def _energetic_le(kind: str, q: float, delta: float, order: int) -> dict:
    """∫Dz max_u[ln Φ(x) − u²/2], x = (√C z + √(C'δ) u)/√(1−C), and its derivatives in (q, δ)."""
    z, w = _gauss(order)
    c = float(effective_overlap(kind, q))
    c1 = float(effective_overlap_slope(kind, q))
    c2 = float(effective_overlap_curvature(kind, q))
    gamma = c1 * delta
    s = math.sqrt(1.0 - c)
    k = math.sqrt(max(gamma, 0.0)) / s
    u = np.zeros_like(z)
    for _ in range(80):  # f'(u) = k R(x) − u is convex and decreasing: Newton from u = 0 climbs to the root
        x = (math.sqrt(c) * z) / s + k * u
        R = _mills(x)
        g = k * R - u
        step = g / (-k * k * R * (x + R) - 1.0)
        u = u - step
        if np.max(np.abs(step)) < 1e-14:
            break
    x = (math.sqrt(c) * z) / s + k * u
    R = _mills(x)
    value = float(w @ (special.log_ndtr(x) - 0.5 * u * u))
    dg_dgamma = R * R / (2.0 * (1.0 - c))
    dx_dc = z / (2.0 * math.sqrt(c) * s) + x / (2.0 * (1.0 - c))
    dE_dc = float(w @ (R * dx_dc))
    dE_dgamma = float(w @ dg_dgamma)
    return {"value": value, "d_q": c1 * dE_dc + c2 * delta * dE_dgamma, "d_delta": c1 * dE_dgamma}


def _le_point(kind: str, alpha: float, p: float, q: float, delta: float, order: int) -> dict:
    """Conjugates, residuals and value of the local-entropy saddle at order parameters (q, δ)."""
    en = _energetic_le(kind, q, delta, order)
    qhat = 2.0 * alpha * en["d_delta"]
    dhat = max(qhat + 2.0 * alpha * en["d_q"], 0.0)
    phat = _increasing_root(lambda x: _entropic_le(qhat, dhat, x, order)["d_phat"] - p, lo=0.0)
    ent = _entropic_le(qhat, dhat, phat, order)
    value = -phat * p - 0.5 * (qhat * (delta + 1.0 - q) + dhat * q) + ent["value"] + alpha * en["value"]
    residual = (2.0 * ent["d_dhat"] - q, 2.0 * ent["d_qhat"] - (1.0 - q) - delta)
    return {"value": value, "residual": residual, "q": q, "delta": delta, "qhat": qhat, "dhat": dhat, "phat": phat}


# ----------------------------------------------------------------------------- Franz–Parisi

_FD_STEP = 1e-6  # central differences of smooth quadrature sums: truncation ~1e-12, rounding ~1e-10


def _fp_fields(qhat: float, that: float, Qhat: float, order: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weights and the fields h̃ (on the reference) and √q̂ z₂ (on W) on the 2-D Gauss–Hermite grid (z₁, z₂)."""
    var = Qhat - that * that / qhat
    if var < -1e-12:
        raise ArithmeticError("Q̂ − t̂²/q̂ < 0: not a Gaussian field")
    z, w = _gauss(order)
    h = math.sqrt(max(var, 0.0)) * z[:, None] + (that / math.sqrt(qhat)) * z[None, :]
    return w, h, math.sqrt(qhat) * z[None, :]


def _entropic_fp(qhat: float, that: float, phat: float, Qhat: float, order: int) -> float:
    """G_S of the Franz–Parisi potential (module docstring)."""
    w, h, a = _fp_fields(qhat, that, Qhat, order)
    r = phat - that
    lp, lm = np.logaddexp(a + r, -a - r), np.logaddexp(a - r, -a + r)
    return float(w @ (0.5 * (lp + lm) + 0.5 * np.tanh(h) * (lp - lm)) @ w)


def _entropic_fp_dphat(qhat: float, that: float, phat: float, Qhat: float, order: int) -> float:
    """∂G_S/∂p̂ = E[½(tanh a₊ − tanh a₋) + ½ tanh h̃ (tanh a₊ + tanh a₋)], a± = √q̂ z₂ ± (p̂ − t̂)."""
    w, h, a = _fp_fields(qhat, that, Qhat, order)
    tp, tm = np.tanh(a + phat - that), np.tanh(a - phat + that)
    return float(w @ (0.5 * (tp - tm) + 0.5 * np.tanh(h) * (tp + tm)) @ w)


def _energetic_fp(kind: str, Q: float, p: float, t: float, q: float, order: int) -> float:
    """G_E of the Franz–Parisi potential: E over the reference's field (conditioned positive) and W's field."""
    CQ, Cp, Ct, Cq = (float(effective_overlap(kind, x)) for x in (Q, p, t, q))
    A = Ct / math.sqrt(CQ)
    B = (Cp - Ct) / math.sqrt(1.0 - CQ)
    var = Cq - A * A - B * B
    if var < -1e-12 or Cq >= 1.0:
        raise ArithmeticError("overlaps outside the positive-definite region")
    z, wz = _gauss(order)
    v, wv = _unit_legendre(order)
    zeta, wzeta = _gauss(order // 2 + 1)
    # η > η₀(z) drawn by inverting the upper tail: η = −Φ⁻¹(v H(η₀)), exact also far in the tail
    log_tail = special.log_ndtr(math.sqrt(CQ / (1.0 - CQ)) * z)
    eta = -special.ndtri(v[None, :] * np.exp(log_tail)[:, None])
    mean = A * z[:, None, None] + B * eta[:, :, None]
    field = (mean + math.sqrt(max(var, 0.0)) * zeta[None, None, :]) / math.sqrt(1.0 - Cq)
    return float(np.einsum("i,j,k,ijk->", wz, wv, wzeta, special.log_ndtr(field)))


def _fp_point(kind: str, alpha: float, p: float, Q: float, Qhat: float, q: float, t: float, order: int) -> dict:
    """Conjugates (eliminated exactly), residuals and value of the Franz–Parisi saddle at (q, t)."""
    h = _FD_STEP

    def GE(qq: float, tt: float) -> float:
        return _energetic_fp(kind, Q, p, tt, qq, order)

    qhat = -2.0 * alpha * (GE(q + h, t) - GE(q - h, t)) / (2 * h)
    that = -alpha * (GE(q, t + h) - GE(q, t - h)) / (2 * h)
    if qhat <= 0.0:
        raise ArithmeticError("q̂ ≤ 0")
    phat = _increasing_root(lambda x: _entropic_fp_dphat(qhat, that, x, Qhat, order) - p)

    def GS(a: float, b: float) -> float:
        return _entropic_fp(a, b, phat, Qhat, order)

    dGS_dqhat = (GS(qhat + h, that) - GS(qhat - h, that)) / (2 * h)
    dGS_dthat = (GS(qhat, that + h) - GS(qhat, that - h)) / (2 * h)
    value = -0.5 * qhat * (1.0 - q) - phat * p + that * t + GS(qhat, that) + alpha * GE(q, t)
    residual = (1.0 - 2.0 * dGS_dqhat - q, -dGS_dthat - t)
    return {"value": value, "residual": residual, "q": q, "t": t, "qhat": qhat, "that": that, "phat": phat}


def _increasing_root(f: Callable[[float], float], lo: Optional[float] = None) -> float:
    """Root of an increasing function, the bracket grown geometrically; with a lower bound lo, lo itself when
    f(lo) ≥ 0 (the local-entropy plateau, where p̂ = 0 already gives the overlap)."""
    if lo is not None and f(lo) >= 0:
        return lo
    a = -1.0 if lo is None else lo
    while f(a) > 0:
        a *= 2.0
        if a < -1e4:
            raise ArithmeticError("no root")
    b = 1.0
    while f(b) < 0:
        b *= 2.0
        if b > 1e4:
            raise ArithmeticError("no root")
    return optimize.brentq(f, a, b, xtol=1e-14, rtol=1e-14)


def _inverse_overlap(kind: str, c: float) -> float:
    """q with C(q) = c (C increases on [−1, 1])."""
    if kind == "linear":
        return c
    if kind == "sign":
        return math.sin(0.5 * math.pi * c)
    return optimize.brentq(lambda q: float(effective_overlap(kind, q)) - c, -1.0, 1.0, xtol=1e-15, rtol=1e-15)


def _fp_overlaps(kind: str, Q: float, p: float, tau: float, w: float) -> tuple[float, float]:
    """(q, t) from unconstrained (τ, w): C_t inside the interval where A² + B² < 1, C_q between A² + B² and 1,
    so that every trial point of the root finder is a valid Gaussian covariance."""
    CQ, Cp = float(effective_overlap(kind, Q)), float(effective_overlap(kind, p))
    a, b, c = 1.0 / (CQ * (1.0 - CQ)), -2.0 * Cp / (1.0 - CQ), Cp * Cp / (1.0 - CQ) - 1.0
    Ct = -b / (2 * a) + math.sqrt(b * b - 4 * a * c) / (2 * a) * math.tanh(tau)
    AB = Ct * Ct / CQ + (Cp - Ct) ** 2 / (1.0 - CQ)
    Cq = AB + (1.0 - AB) * special.expit(w)
    return _inverse_overlap(kind, Cq), _inverse_overlap(kind, Ct)


# ----------------------------------------------------------------------------- continuation along d

_TOL = 1e-8  # accepted residual of the saddle-point equations


def _continue(start_d: float, start_x: np.ndarray, targets: Sequence[float], solve: Callable,
              to_ext: Callable = lambda x: x, from_ext: Callable = lambda x: x, max_step: float = 0.25) -> dict:
    """Walk the saddle from start_d through targets (monotone in d) in steps of at most max_step in ln d,
    guessing by linear extrapolation in ln d of to_ext(x) and halving a step where the root finder fails
    (up to 6 times). Returns {target: point} for the targets reached."""
    found, history = {}, [(math.log(start_d), to_ext(start_x))]
    for target in targets:
        while True:
            l_last, l_target = history[-1][0], math.log(target)
            step = max(-max_step, min(max_step, l_target - l_last))
            point = None
            for _ in range(7):
                l = l_last + step
                if len(history) >= 2:
                    (l1, e1), (l2, e2) = history[-2], history[-1]
                    guess = from_ext(e2 + (l - l2) / (l2 - l1) * (e2 - e1))
                else:
                    guess = from_ext(history[-1][1])
                point = solve(target if l == l_target else math.exp(l), guess)
                if point is not None:
                    break
                step *= 0.5
            if point is None:
                break  # the branch is lost: leave this target (and the next ones) unreached
            history.append((l, to_ext(point["x"])))
            if l == l_target:
                found[target] = point
                break
        if target not in found:
            break
    return found


def _root(residual: Callable, guess: np.ndarray) -> Optional[np.ndarray]:
    def safe(x):
        try:
            r = residual(x)
        except (ArithmeticError, ValueError):
            return np.full(len(x), 1e3)
        r = np.asarray(r, dtype=float)
        return np.where(np.isfinite(r), r, 1e3)

    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # trial points may probe q = 1
        sol = optimize.root(safe, guess, method="hybr", options={"xtol": 1e-12})
        ok = np.max(np.abs(safe(sol.x))) < _TOL
    return sol.x if ok else None


def _check(machine: str, alpha: float, ds: Sequence[float]) -> tuple[str, np.ndarray]:
    if machine not in MACHINES:
        raise ActlabError(f"unknown machine {machine!r}; allowed: {', '.join(MACHINES)}")
    if not (math.isfinite(alpha) and alpha > 0):
        raise ActlabError(f"the load alpha must be a positive number, got {alpha}")
    d = np.asarray(ds, dtype=float)
    if d.ndim != 1 or d.size == 0 or np.any(~np.isfinite(d)) or np.any(d <= 0) or np.any(d > 0.5):
        raise ActlabError("distances d must be numbers in (0, 0.5]")
    return MACHINES[machine], d


def _equilibrium(kind: str, alpha: float) -> tuple[float, float, float]:
    """RS equilibrium (entropy, Q, Q̂) of the solutions at load α (`replica._binary_rs_entropy`)."""
    return _binary_rs_entropy(kind, alpha, 201)


def local_entropy_curve(machine: str, alpha: float, ds: Sequence[float], *, order: int = 101) -> EntropyCurve:
    """Large-deviation local entropy S_LE(d) (robust ensemble, y → ∞, RS; module docstring).

    machine: 'perceptron', 'relu' or 'sign' (the last two: tree committee at K = ∞, binary weights).
    For d ≥ d_eq = (1 − E|tanh(√Q̂ z)|)/2 the ball around the best centre already holds the typical
    solutions and S_LE = the equilibrium entropy; below, the saddle is continued from d_eq.
    """
    kind, d = _check(machine, alpha, ds)
    s_eq, Q, Qhat = _equilibrium(kind, alpha)
    z, w = _half_gauss(order)
    d_eq = 0.5 * (1.0 - float(w @ np.tanh(math.sqrt(Qhat) * z)))

    def solve(dd, guess):
        x = _root(lambda v: _le_point(kind, alpha, 1 - 2 * dd, v[0], v[1], order)["residual"], guess)
        if x is None:
            return None
        point = {**_le_point(kind, alpha, 1 - 2 * dd, x[0], x[1], order), "x": x}
        # a root above the ball entropy is spurious (S_LE ≤ H(d) holds for every centre)
        return point if point["value"] <= float(ball_entropy(dd)) + 1e-7 else None

    below = sorted((x for x in set(d.tolist()) if x < d_eq), reverse=True)
    found = _continue(d_eq, np.array([Q, 1e-3]), below, solve,
                      to_ext=lambda x: np.array([x[0], math.log(max(x[1], 1e-300))]),
                      from_ext=lambda e: np.array([e[0], math.exp(e[1])]), max_step=0.15)
    S = np.array([s_eq if x >= d_eq else found[x]["value"] if x in found else np.nan for x in d])
    params = [{"d": x, **{k: found[x][k] for k in ("q", "delta", "qhat", "dhat", "phat")}} for x in sorted(found)]
    missing = int(np.isnan(S).sum())
    note = f"equilibrium plateau for d >= {d_eq:.4f}"
    if missing:
        d_low = min(found) if found else d_eq
        gap = float(ball_entropy(d_low)) - (found[d_low]["value"] if found else s_eq)
        note += (f"; no saddle at {missing} d below {d_low:.4g}, where H(d) − S = {gap:.1e}"
                 + (" (the ball is complete to that accuracy: q̂ → 0, δ → ∞ leave floating point)"
                    if gap < 1e-6 else ""))
    return EntropyCurve("local-entropy", machine, alpha, d, S,
                        f"RS, y→∞ large deviation (unconstrained centre), K=∞ via C(q); Gauss–Hermite {order}",
                        note, params)


def franz_parisi_curve(machine: str, alpha: float, ds: Sequence[float], *, order: int = 41) -> EntropyCurve:
    """Franz–Parisi entropy S_FP(d) around a typical (equilibrium) solution (RS; module docstring).

    The saddle is continued from d_typ = (1 − Q)/2, where S_FP equals the equilibrium entropy, towards
    smaller and larger d. S_FP(0) = 0 (the reference itself) is not on the grid (d > 0).
    """
    kind, d = _check(machine, alpha, ds)
    s_eq, Q, Qhat = _equilibrium(kind, alpha)
    d_typ = 0.5 * (1.0 - Q)

    def solve(dd, guess):
        p = 1 - 2 * dd

        def residual(v):
            q, t = _fp_overlaps(kind, Q, p, v[0], v[1])
            return _fp_point(kind, alpha, p, Q, Qhat, q, t, order)["residual"]

        x = _root(residual, guess)
        if x is None:
            return None
        q, t = _fp_overlaps(kind, Q, p, x[0], x[1])
        return {**_fp_point(kind, alpha, p, Q, Qhat, q, t, order), "x": x}

    start = np.array([0.0, -3.0])
    found = _continue(d_typ, start, sorted((x for x in set(d.tolist()) if x < d_typ), reverse=True), solve)
    found.update(_continue(d_typ, start, sorted(x for x in set(d.tolist()) if x > d_typ), solve))
    S = np.array([s_eq if x == d_typ else found[x]["value"] if x in found else np.nan for x in d])
    params = [{"d": x, **{k: found[x][k] for k in ("q", "t", "qhat", "that", "phat")}} for x in sorted(found)]
    missing = int(np.isnan(S).sum())
    return EntropyCurve("franz-parisi", machine, alpha, d, S,
                        f"RS Franz–Parisi, equilibrium reference, K=∞ via C(q); Gauss–Hermite {order}",
                        f"maximum {s_eq:.5f} (equilibrium entropy) at d_typ = {d_typ:.4f}"
                        + (f"; no saddle at {missing} d" if missing else ""), params)


def binary_capacity(machine: str) -> float:
    """RS binary capacity (zero equilibrium entropy) of the machine: `replica.alpha_c`, binary weights."""
    if machine not in MACHINES:
        raise ActlabError(f"unknown machine {machine!r}; allowed: {', '.join(MACHINES)}")
    K = 1 if machine == "perceptron" else "inf"
    return alpha_c("relu" if machine == "relu" else "sign", K, "binary", "rs").value


def geometry_curves(machines: Sequence[str], loads: Sequence[float], ds: Sequence[float], *,
                    kinds: Sequence[str] = KINDS, relative: bool = True, progress=None) -> list[EntropyCurve]:
    """All curves of a figure: for each machine and load (a fraction of the machine's RS binary capacity when
    relative, else α itself) the requested kinds. progress: optional callable run after each curve."""
    for k in kinds:
        if k not in KINDS:
            raise ActlabError(f"unknown kind {k!r}; allowed: {', '.join(KINDS)}")
    curves = []
    for m in machines:
        scale = binary_capacity(m) if relative else 1.0
        for load in loads:
            for k in kinds:
                fn = franz_parisi_curve if k == "franz-parisi" else local_entropy_curve
                curve = fn(m, load * scale, ds)
                curve.load = load if relative else None
                curves.append(curve)
                if progress is not None:
                    progress()
    return curves
