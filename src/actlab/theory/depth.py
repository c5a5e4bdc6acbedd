"""Depth scales of signal propagation: how many layers a network keeps inputs apart
(Poole et al. 2016, "Exponential expressivity in deep neural networks through transient
chaos"; Schoenholz et al. 2017, "Deep information propagation").

With K⁽ˡ⁺¹⁾ = C_b + C_W⟨σ²⟩_{K⁽ˡ⁾} (their q map, C_W = σ_w², C_b = σ_b²):

- q*: the stable fixed point that the kernel reaches from K⁽¹⁾ = q0 (default 1); inf
  when the kernel grows without bound, 0 when it decays to 0 (C_b = 0, σ(0) = 0);
- c*: the stable fixed point of the correlation map at q*,
      c ↦ (C_b + C_W E σ(u₁)σ(u₂))/q*,  (u₁, u₂) ~ N(0, q*[[1, c], [c, 1]]);
  c = 1 is always fixed, and stable when χ₁ < 1;
- χ₁ = C_W⟨σ'²⟩_{q*} (= χ⊥(q*)): the slope of the correlation map at c = 1, and the
  per-layer growth of squared gradients;
- χ_q = C_W d⟨σ²⟩/dq at q* (= χ∥(q*)): the slope of the q map;
- ξ_q = −1/ln χ_q and ξ_c = −1/ln χ_c with χ_c = C_W E σ'(u₁)σ'(u₂) at c* (= χ₁ when
  c* = 1): |K⁽ˡ⁾ − q*| and |c⁽ˡ⁾ − c*| decay as e^{−l/ξ}.
- phase: 'ordered' (χ₁ < 1: all inputs end up correlated, c* = 1), 'chaotic' (χ₁ > 1:
  nearby inputs decorrelate, c* < 1), 'critical' (|χ₁ − 1| ≤ 1e-9: ξ_c = ∞, power
  laws), 'unbounded' (q* = inf). Schoenholz et al. find that networks train only when
  depth ≲ 6ξ_c.

At q* = 0 the quantities are the limits q → 0 (χ₁ = χ_c = C_W σ'(0)², as in Poole et
al.). A fixed point with χ_q > 1 is unstable (kept only when the start sits on it, as for
RePU at its K0-fixing init); then ξ_q = 1/ln χ_q is the depth over which it is lost.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Optional

import numpy as np
import torch

from ..errors import ActlabError
from . import closed_forms
from .dual import coefficients, pair_moments
from .isotropic import pair_moment, pair_slope, pair_target
from .kernels import check_weights
from .quadrature import DTYPE
from .target import Elementwise, Group, Target, value_and_slope
from .vector import WholeVector

Q_GRID = np.logspace(-10, 10, 201)   # where the q map is scanned for a bracket of q*
C_GRID = 1 - 2 * np.logspace(-9, 0, 181)  # correlations scanned (descending from 1) for a bracket of c*
SECANT_STEPS = 100                   # cap of the secant steps of a group activation's c* (6–18 needed)
H_TOL = 1e-15                        # |h(c)| at which that search stops: rounding of its O(1) terms
NEAR_ONE = 0.02                      # a group c* this close to 1 gets the Newton step of _near_one_newton
_GL = np.polynomial.legendre.leggauss(8)
_GL_Y, _GL_W = 0.5 * (_GL[0] + 1), 0.5 * _GL[1]    # 8-point Gauss–Legendre on [0, 1] (for _near_one_newton)
ROOT_RTOL = 4e-16                    # relative bracket at which the regula falsi of q* and c* stops
CRITICAL = 1e-9                      # |χ₁ − 1| below this is the critical line
PHASES = ("ordered", "chaotic", "critical", "unbounded")
TRAINABLE = 6.0                      # Schoenholz et al. 2017: trainable while depth ≲ 6ξ_c


@dataclass(frozen=True)
class DepthScales:
    """Signal-propagation depth scales at one initialisation (see the module docstring)."""

    name: str
    C_b: float
    C_W: float
    q_star: float
    c_star: float
    chi_1: float
    chi_q: float
    chi_c: float
    xi_q: float
    xi_c: float
    phase: str
    q_stable: bool = True
    width: Optional[int] = None  # whole-vector group activations: the layer width n (leading order in 1/n)

    def as_dict(self) -> dict:
        return {k: (None if isinstance(v, float) and math.isnan(v) else
                    ("inf" if v == math.inf else v)) for k, v in asdict(self).items()}


def fixed_points(target: Target, C_b: np.ndarray, C_W: np.ndarray, q0=1.0) -> np.ndarray:
    """q* for each (C_b, C_W): the stable fixed point of q ↦ C_b + C_W⟨σ²⟩_q reached from q0
    (a number, or an array broadcast with C_b and C_W: one start per point).
    The q map is scanned on Q_GRID for the first sign change of f(q) = C_b + C_W⟨σ²⟩_q − q
    in the direction the iteration moves, then refined by vectorised Illinois regula falsi."""
    C_b, C_W, q0 = np.broadcast_arrays(np.asarray(C_b, float), np.asarray(C_W, float), np.asarray(q0, float))
    C_b, C_W, q0 = C_b.reshape(-1), C_W.reshape(-1), q0.reshape(-1)
    if np.any(q0 <= 0) or not np.all(np.isfinite(q0)):
        raise ActlabError("q0 (the first layer's kernel K⁽¹⁾) must be > 0 and finite")
    m_grid = target.second_moment(Q_GRID)
    m0 = target.second_moment(q0)
    f_grid = C_b[:, None] + C_W[:, None] * m_grid[None, :] - Q_GRID[None, :]
    f0 = C_b + C_W * m0 - q0
    P = len(C_b)
    lo, hi = np.zeros(P), np.zeros(P)
    out = np.full(P, np.nan)
    on = np.abs(f0) <= 1e-12 * q0
    out[on] = q0[on]  # the start is a fixed point (stable or not)
    zero_value = float(target.second_moment(np.array([0.0]))[0])
    for p in range(P):
        if not np.isnan(out[p]):
            continue
        start = q0[p]
        if f0[p] > 0:
            above = np.nonzero((Q_GRID > start) & (f_grid[p] <= 0))[0]
            if len(above) == 0:
                out[p] = math.inf
                continue
            k = above[0]
            lo[p], hi[p] = max(start, Q_GRID[k - 1]) if k > 0 else start, Q_GRID[k]
        elif f0[p] < 0:
            below = np.nonzero((Q_GRID < start) & (f_grid[p] >= 0))[0]
            if len(below):
                k = below[-1]
                lo[p], hi[p] = Q_GRID[k], min(start, Q_GRID[k + 1])
            elif C_b[p] + C_W[p] * zero_value > 0:
                lo[p], hi[p] = 0.0, min(start, Q_GRID[0])
            else:
                out[p] = 0.0
    todo = np.isnan(out)
    if todo.any():
        out[todo] = _illinois(lambda q, i: C_b[todo][i] + C_W[todo][i] * target.second_moment(q) - q,
                              lo[todo], hi[todo])
    return out


def _illinois(f, lo: np.ndarray, hi: np.ndarray, iterations: int = 60) -> np.ndarray:
    """Roots of f(x, idx) (vectorised) in brackets [lo, hi] with a sign change; Illinois
    regula falsi, stopped when the bracket is below ROOT_RTOL·|x| (rounding level)."""
    idx = np.arange(len(lo))
    flo, fhi = f(lo, idx), f(hi, idx)
    x = lo.copy()
    side = np.zeros(len(lo))
    for _ in range(iterations):
        x = np.where(fhi != flo, (lo * fhi - hi * flo) / (fhi - flo), 0.5 * (lo + hi))
        x = np.clip(x, np.minimum(lo, hi), np.maximum(lo, hi))
        fx = f(x, idx)
        left = np.sign(fx) == np.sign(flo)
        lo, flo = np.where(left, x, lo), np.where(left, fx, flo)
        hi, fhi = np.where(left, hi, x), np.where(left, fhi, fx)
        fhi = np.where(left & (side == 1), 0.5 * fhi, fhi)
        flo = np.where(~left & (side == -1), 0.5 * flo, flo)
        side = np.where(left, 1, -1)
        if np.all((np.abs(hi - lo) <= ROOT_RTOL * np.abs(x) + 1e-300) | (fx == 0)):
            break
    return x


def _slopes_at(target: Target, q: np.ndarray) -> np.ndarray:
    """Rows (d⟨σ²⟩/dq, ⟨σ'²⟩) at each q >= 0 (q = 0: the limit, from σ'(0))."""
    out = np.empty((len(q), 2))
    pos = q > 0
    if pos.any():
        m = target.moments(q[pos])
        out[pos] = m[:, 1:3]
    if (~pos).any() and isinstance(target, (Group, WholeVector)):  # f is odd: f(0) = 0; per component f'(0)² = ρ'(0)²
        t = target.taylor()
        out[~pos] = (t[1] ** 2, t[1] ** 2) if t is not None else target.moments(np.array([1e-12]))[0][1:3]
    elif (~pos).any():
        y, d = value_and_slope(target.fn, torch.zeros(1, dtype=DTYPE))
        if abs(float(y[0])) > 0:  # σ(0) ≠ 0 and q* = 0 cannot happen: C_b + C_W σ(0)² > 0
            raise ActlabError("q* = 0 needs σ(0) = 0")
        t = target.taylor()
        if t is not None:  # χ∥(0)/C_W = σ₁² + σ₀σ₂, χ⊥(0)/C_W = σ₁²
            out[~pos] = (t[1] ** 2 + t[0] * t[2], t[1] ** 2)
        else:  # a kink at 0: the limit from q → 0⁺
            out[~pos] = target.moments(np.array([1e-12]))[0][1:3]
    return out


def _series(target: Target, q: np.ndarray, c: np.ndarray, which: int) -> np.ndarray:
    """E σσ (which = 0) or E σ'σ' (1) at variance q_p and correlation c_pk, for all p, k
    (closed form if declared, else the Hermite series at √q_p; for a group activation the
    isotropic reduction, per component)."""
    if isinstance(target, Group):
        qq = q[:, None] * np.ones_like(c)
        return (pair_moment, pair_slope)[which](target, qq, qq, qq * c).reshape(qq.shape)
    if target.dual is not None:
        qq = q[:, None] * np.ones_like(c)
        return closed_forms.evaluate(target.dual, qq, qq, qq * c)[which]
    a, b, _, _ = coefficients(target, np.sqrt(q), slopes=which == 1)
    coef = (a, b)[which]
    out = np.zeros_like(c)
    for n in range(coef.shape[1] - 1, -1, -1):
        out = out * c + (coef[:, n] ** 2)[:, None]
    return out


def _correlation_fixed_points(target: Target, C_b: np.ndarray, C_W: np.ndarray, q: np.ndarray) -> np.ndarray:
    """c* < 1 of the correlation map at q* for chaotic points (q* > 0 finite)."""
    if isinstance(target, Group):
        return _group_correlation_fixed_points(target, C_b, C_W, q)
    grid = np.broadcast_to(C_GRID, (len(q), len(C_GRID)))
    h = (C_b[:, None] + C_W[:, None] * _series(target, q, grid, 0)) / q[:, None] - grid
    lo, hi = np.empty(len(q)), np.empty(len(q))
    for p in range(len(q)):
        k = np.nonzero(h[p] >= 0)[0]
        k = k[0] if len(k) else len(C_GRID) - 1
        lo[p], hi[p] = C_GRID[k], C_GRID[k - 1] if k > 0 else 1.0
    return _illinois(lambda c, i: (C_b[i] + C_W[i] * _series(target, q[i], c[:, None], 0)[:, 0]) / q[i] - c, lo, hi)


def _group_correlation_fixed_points(target: Group, C_b: np.ndarray, C_W: np.ndarray, q: np.ndarray) -> np.ndarray:
    """c* of a group activation at chaotic points, by the secant method from c = 0 (vectorised).

    At equal variances S(c) = Σ_k w_k c^{2k+1} with w_k >= 0 (the Wiener-chaos expansion of the odd
    f, on which the Ornstein–Uhlenbeck semigroup acts as c^{degree}), so h(c) = (C_b + C_W S(c))/q − c is
    convex on [0, 1] with h(1) = 0 and h'(1) = χ₁ − 1 > 0: C_b = 0 gives c* = 0 (S(0) = 0), C_b > 0
    one root in (0, 1) with h > 0 to its left. On a convex function the tangent and every secant through
    two points left of the root cross zero left of it, so Newton's step from 0 (slope C_W D(0) − 1) and
    then secant steps increase monotonically to c*, superlinearly, one S per step (a step that rounding
    puts past the root is brought back by the next secant, now an interpolation); they stop at rounding:
    |h| <= H_TOL (its terms are O(1)) or a step below 1e-15."""
    c = np.zeros(len(q))
    live = C_b > 0
    if not live.any():
        return c
    Cb, Cw, qq = C_b[live], C_W[live], q[live]
    h_of = lambda x, i: (Cb[i] + Cw[i] * _series(target, qq[i], x[:, None], 0)[:, 0]) / qq[i] - x  # noqa: E731
    x0, h0 = np.zeros(len(qq)), Cb / qq
    x1 = np.clip(h0 / (1 - Cw * _series(target, qq, np.zeros((len(qq), 1)), 1)[:, 0]), 0.0, 1.0)
    h1 = h_of(x1, np.arange(len(qq)))
    todo = np.abs(h1) > H_TOL
    for _ in range(SECANT_STEPS):
        if not todo.any():
            break
        i = np.nonzero(todo)[0]
        drop = h0[i] - h1[i]
        step = np.where(drop != 0, h1[i] * (x1[i] - x0[i]) / np.where(drop != 0, drop, 1.0), 0.0)
        x0[i], h0[i] = x1[i], h1[i]
        x1[i] = np.clip(x1[i] + step, 0.0, 1.0)
        h1[i] = h_of(x1[i], i)
        todo[i] = (np.abs(h1[i]) > H_TOL) & (np.abs(step) > 1e-15)
    near = 1 - x1 < NEAR_ONE
    if near.any():
        x1[near] = _near_one_newton(target, Cw[near], qq[near], x1[near])
    c[live] = x1
    return c


def _near_one_newton(target: Group, C_W: np.ndarray, q: np.ndarray, c: np.ndarray) -> np.ndarray:
    """One Newton step towards c* on h(c) = h(c) − h(1) = ∫_c^1 (1 − C_W D(x)) dx (c = 1 is fixed at q*,
    and dS/dc = q·D), a sum of O(1 − c) terms: the plain h sums O(1) ones to ~1e-16, which next to the
    critical line (χ₁ = 1 + 4.7e-5, 1 − c* = 1.8e-7, 1 − χ_c = 2.3e-5) left c* uncertain by 2e-4 of
    1 − c* and ξ_c by 3e-4. In ε = 1 − c the integral is ε − C_W∫₀^ε D(1 − e)de, taken in e = εy² by
    8-point Gauss–Legendre in y: D(1 − e) is a series in √e (the kink at ‖u‖ = 1 gives its odd powers)
    whose nearest singularity is c = −1, √e = √2, so the rule's error is ~(√(ε/2))^16 ≤ 1e-16 for
    ε ≤ NEAR_ONE (8, 16 and 24 points agreed to rounding). The step is h/(1 − C_W D(c)); its quadratic
    error ~(δ/ε)² is ~5e-8 of ε there (measured against two steps on the adaptive rule)."""
    eps = 1 - c
    P, n = len(c), len(_GL_Y)
    qq = np.repeat(q, n + 1)
    x = np.concatenate([1 - eps[:, None] * _GL_Y ** 2, c[:, None]], 1).reshape(-1)
    D = pair_slope(target, qq, qq, qq * x).reshape(P, n + 1)
    h = eps - 2 * eps * C_W * (D[:, :n] @ (_GL_W * _GL_Y))
    return np.minimum(c + h / (1 - C_W * D[:, n]), 1.0)


def scales_grid(act, C_b, C_W, q0=1.0, width: Optional[int] = None) -> dict:
    """Depth scales for arrays of (C_b, C_W) (broadcast together, and with q0 when it is an
    array, e.g. K⁽¹⁾ = C_b + C_W·q_in per point), vectorised: a dict of arrays q_star, c_star,
    chi_1, chi_q, chi_c, xi_q, xi_c and phase (strings). `width` only for whole-vector group
    activations (leading order in 1/n, actlab.theory.vector)."""
    target = pair_target(act, width)
    C_b, C_W, q0 = np.broadcast_arrays(np.asarray(C_b, float), np.asarray(C_W, float), np.asarray(q0, float))
    shape = C_b.shape
    C_b, C_W, q0 = C_b.reshape(-1), C_W.reshape(-1), q0.reshape(-1)
    if np.any(C_b < 0) or np.any(C_W <= 0) or not np.all(np.isfinite(C_b) & np.isfinite(C_W)):
        raise ActlabError("C_b must be >= 0 and C_W > 0, both finite")
    if isinstance(target, WholeVector):  # start from K⁽²⁾: RB outside the ball (or on its edge) is fixed there
        q0 = C_b + C_W * target.second_moment(np.broadcast_to(q0, C_b.shape))
    q = fixed_points(target, C_b, C_W, q0)
    P = len(q)
    chi_q, chi_1, chi_c, c_star = (np.full(P, np.nan) for _ in range(4))
    finite = np.isfinite(q)
    if finite.any():
        s = _slopes_at(target, q[finite])
        chi_q[finite], chi_1[finite] = C_W[finite] * s[:, 0], C_W[finite] * s[:, 1]
    phase = np.full(P, "unbounded", dtype=object)
    critical = finite & (np.abs(chi_1 - 1) <= CRITICAL)
    ordered = finite & ~critical & (chi_1 < 1)
    chaotic = finite & ~critical & (chi_1 > 1) & (q > 0)
    phase[critical], phase[ordered] = "critical", "ordered"
    phase[finite & ~critical & (chi_1 > 1)] = "chaotic"
    c_star[critical | ordered | (finite & (q == 0))] = 1.0
    chi_c[critical] = 1.0
    chi_c[ordered] = chi_1[ordered]
    chi_c[finite & (q == 0) & ~critical] = chi_1[finite & (q == 0) & ~critical]
    if chaotic.any():
        c_star[chaotic] = _correlation_fixed_points(target, C_b[chaotic], C_W[chaotic], q[chaotic])
        chi_c[chaotic] = C_W[chaotic] * _series(target, q[chaotic], c_star[chaotic][:, None], 1)[:, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        xi_q = np.where(chi_q == 1, math.inf, 1 / np.abs(np.log(chi_q)))
        xi_c = np.where(chi_c >= 1, math.inf, -1 / np.log(chi_c))
    return dict(q_star=q.reshape(shape), c_star=c_star.reshape(shape), chi_1=chi_1.reshape(shape),
                chi_q=chi_q.reshape(shape), chi_c=chi_c.reshape(shape), xi_q=xi_q.reshape(shape),
                xi_c=xi_c.reshape(shape), phase=phase.reshape(shape), q_stable=(chi_q <= 1).reshape(shape))


def depth_scales(act, C_b: float, C_W: float, q0: float = 1.0, width: Optional[int] = None) -> DepthScales:
    """q*, c*, χ₁, χ_q, χ_c, ξ_q, ξ_c and the phase at one initialisation; c* and χ_c are
    polished with the full two-input kernel (closed form, Hermite with bound, quadrature).
    A whole-vector group activation needs the layer `width` (leading order in 1/n: c* = 1,
    χ_c = 1 − C_b/q*, see actlab.theory.vector).

        >>> d = depth_scales("tanh", 0.05, 2.0)
        >>> d.phase, round(d.q_star, 6), round(d.xi_c, 3)
        ('chaotic', 0.721762, 25.213)
    """
    C_b, C_W = check_weights(C_b, C_W)
    target = pair_target(act, width)
    g = scales_grid(target, C_b, C_W, q0)
    v = {k: (g[k].item() if hasattr(g[k], "item") else g[k]) for k in g}
    if v["phase"] == "chaotic" and isinstance(target, Elementwise):
        q = v["q_star"]

        def pair(c: float) -> tuple[float, float]:
            S, D = pair_moments(target, q * np.array([[1.0, c], [c, 1.0]]))
            return S[0, 1], D[0, 1]

        c = v["c_star"]
        for _ in range(3):  # Newton on h(c) = (C_b + C_W S(c))/q − c, h' = C_W D(c) − 1 (Price's theorem)
            S, D = pair(c)
            c = c - ((C_b + C_W * S) / q - c) / (C_W * D - 1)
        v["c_star"], v["chi_c"] = c, C_W * pair(c)[1]
        v["xi_c"] = math.inf if v["chi_c"] >= 1 else -1 / math.log(v["chi_c"])
    return DepthScales(name=target.label, C_b=C_b, C_W=C_W, q_star=v["q_star"], c_star=v["c_star"],
                       chi_1=v["chi_1"], chi_q=v["chi_q"], chi_c=v["chi_c"], xi_q=v["xi_q"], xi_c=v["xi_c"],
                       phase=v["phase"], q_stable=bool(v["q_stable"]),
                       width=target.width if isinstance(target, WholeVector) else None)


def order_chaos_line(act, C_b, width: Optional[int] = None) -> np.ndarray:
    """The critical C_W (χ₁ = 1 at q*) for each C_b, nan where the transition does not exist.

    Parametrised by q* (Poole et al. 2016): on the line C_W = 1/⟨σ'²⟩_q and
    C_b = q − C_W⟨σ²⟩_q; for each requested C_b the q with C_b(q) = C_b (the smallest,
    scanned on Q_GRID) is refined by regula falsi. C_b = 0 with σ(0) = 0 is met at the
    smallest q of the grid (1e-10): C_W = 1/⟨σ'²⟩ there, σ'(0)⁻² to 1e-10. A whole-vector group
    activation (`width` given) has χ₁ = 1 − C_b/q*: the line is C_b = 0 alone, from
    C_W = 1/ρ'(0)² (RB: 1) up."""
    target = pair_target(act, width)
    C_b = np.asarray(C_b, float)
    flat = C_b.reshape(-1)
    if np.any(flat < 0) or not np.all(np.isfinite(flat)):
        raise ActlabError("C_b must be finite and >= 0")
    if isinstance(target, WholeVector):
        return np.where(C_b == 0, 1 / target.gain_squared(Q_GRID).max(), np.nan)
    m = target.moments(Q_GRID)
    cb_line = Q_GRID - m[:, 0] / m[:, 2]

    def cb_of(q: np.ndarray, i: np.ndarray) -> np.ndarray:
        mm = target.moments(q)
        return q - mm[:, 0] / mm[:, 2] - flat[i]

    out = np.full(len(flat), np.nan)
    lo, hi, todo = np.zeros(len(flat)), np.zeros(len(flat)), np.zeros(len(flat), bool)
    for p, cb in enumerate(flat):
        on = np.nonzero(np.abs(cb_line - cb) <= 1e-12 * Q_GRID)[0]
        above = np.nonzero(cb_line >= cb)[0]
        if len(on) and (not len(above) or on[0] <= above[0]):  # on the line at a grid point (e.g. C_b = 0, q → 0)
            out[p] = 1 / m[on[0], 2]
        elif len(above) and above[0] > 0:
            k = above[0]
            lo[p], hi[p], todo[p] = Q_GRID[k - 1], Q_GRID[k], True
    if todo.any():
        idx = np.nonzero(todo)[0]
        q = _illinois(lambda x, i: cb_of(x, idx[i]), lo[todo], hi[todo])
        out[todo] = 1 / target.moments(q)[:, 2]
    return out.reshape(C_b.shape)


def depth_verdict(scales: DepthScales, depth: int) -> str:
    """One plain sentence: is `depth` inside the trainable range ≈ 6ξ_c (Schoenholz et al. 2017)?
    For a whole-vector group activation it adds how far the leading order in 1/n reaches."""
    return _verdict(scales, depth) + ("" if scales.width is None else _finite_width_note(scales.width, depth))


def _finite_width_note(width: int, depth: int) -> str:
    return (f"; leading order in 1/n at width {width}: the correlation also drifts by O(L/n) and spreads by "
            f"O(√(L/n)) over L layers (actlab.theory.vector.cosine_moments), here L/n = {depth / width:.3g}, "
            f"{'small' if depth <= 0.1 * width else 'not small: expect the finite-width random walk to matter'}")


def _verdict(scales: DepthScales, depth: int) -> str:
    if scales.phase == "unbounded":
        return f"the kernel grows without bound at this init: depth {depth} will overflow or saturate"
    if not scales.q_stable:
        return (f"the kernel sits on an unstable fixed point and leaves it within ~{scales.xi_q:.3g} layers: "
                f"depth {depth} is {'inside' if depth <= scales.xi_q else 'beyond'} that")
    if math.isinf(scales.xi_c):
        return (f"ξ_c = ∞ ({scales.phase}: correlations move as a power law): depth {depth} is inside the "
                "depth scale")
    limit = TRAINABLE * scales.xi_c
    where = "inside" if depth <= limit else "beyond"
    return (f"ξ_c = {scales.xi_c:.3g} layers ({scales.phase}): depth {depth} is {where} the trainable "
            f"range ≈ 6ξ_c = {limit:.3g} layers")
