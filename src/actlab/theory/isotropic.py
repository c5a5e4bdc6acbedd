"""The two-input kernel of group (isotropic) activations by the isotropic reduction.

For f(z) = z·ρ(‖z‖)/‖z‖ on groups of g features, two inputs give per group a pair
(u, v) ∈ Rᵍ × Rᵍ, jointly Gaussian with covariance [[K₁₁, K₁₂], [K₁₂, K₂₂]] ⊗ I_g. The
per-component kernel is

    S₁₂ = E f(u)·f(v) / g.

Write v = a·u + w with a = K₁₂/K₁₁ and w ~ N(0, s²I_g), s² = K₂₂ − K₁₂²/K₁₁, independent
of u; by isotropy u = r·e₁ with r = ‖u‖ ~ √K₁₁·χ_g. Then f(u)·f(v) = ρ(r)·v₁ρ(‖v‖)/‖v‖ with
v ~ N(m·e₁, s²I_g), m = a·r. Given t = ‖v‖ (noncentral χ), the direction of v is von
Mises–Fisher with concentration κ = tm/s², so E[v₁ | t] = t·I_ν(κ)/I_{ν−1}(κ), ν = g/2, and

    Φ(m) = E v₁ρ(‖v‖)/‖v‖ = ∫₀^∞ ρ(t) (t/s²) (t/m)^{ν−1} e^{−(t−m)²/(2s²)} Iν_e(tm/s²) dt

(Iν_e(x) = e^{−x}I_ν(x), scipy's `ive`; g = 2 is the Rice case). Hence the 2-D integral

    S₁₂ = sign(K₁₂) · E_{r ~ √K₁₁χ_g}[ρ(r) Φ(|a|r)] / g,

an outer χ_g expectation over an inner one in t = m + s·x, x ~ N(0, 1) (from 12 below to 12
above the bulk of ‖v‖ at √(m² + g·s²), cut at t = 0 and at ρ's breakpoints; (t/m)^{ν−1}·Iν_e is
formed in logs, `log_ratio_bessel`, since at g = 256 each factor alone leaves float64). Φ(m)
is ρ(m) smoothed by the Gaussian over ~s, so the outer integrand ρ(r)Φ(|a|r) bends at ρ's
breakpoints r = b and within a few s/|a| of r = b/|a|: at |correlation| → 1 (s → 0) a feature
far narrower than any other scale, and both rules put panel edges there, graded at
b/|a| + (s/|a|)·(0, ±1.5, ±3, ±5, ±8, ±12) (`_smoothed_kinks`; without them the adaptive rule
missed about half of S(1) − S(c) for 1 − c ≲ 1e-7, both of its estimates of a wide panel
missing the feature alike). Two rules (`method`):

- "fixed" (default, the fast path): one pass of 16-point Gauss–Legendre per panel, nested
  (a tensor-product rule in (r/√K₁₁, x) whose inner panels move with the outer node). Outer
  panels: the χ_g grid mode + (0, ±1.5, ±3, ±5, ±8, ±12), ρ's breakpoints, its scale r = ½, 1,
  2, 4, 8, and the graded edges above; inner: the same graded offsets around the bulk, and the
  cuts. On every panel the integrand is analytic and at most ~3 of its own widths across, which
  16 nodes integrate to rounding; measured against the adaptive rule ≤ 1.1e-15 relative at
  g = 1…16 and ≤ 2e-14 at g = 256 (|c| from 1e-12 to 1 − 1e-11, K from 1e-3/g to 100/g;
  docs/theory.md, tests/test_theory_isotropic.py). About 200 × 200 integrand points, no error
  estimate, ~6 CPU-ms per S₁₂ at g = 2 and ~14 at other g (the Bessel term: scipy's `i1e` at
  ν = 1, `ive` otherwise); ~31 per D₁₂ at g = 2 and ~47 at g = 16 (two Bessel terms per node).
  It assumes what the adaptive rule finds: a ρ that is smooth between its declared breakpoints
  on scales ≳ ½.
- "adaptive" (the reference): the project's adaptive quadrature (actlab.theory.quadrature),
  nested, each level floored by the pair's scale √(E ρ(r₁)² E ρ(r₂)²) (the Cauchy–Schwarz
  bound of |g·S₁₂|): the inner values carry ~1e-14 relative noise, which a purely relative
  outer rule could bisect forever (for D₁₂ the bound √(E‖J_f(u)‖²_F E‖J_f(v)‖²_F)). About 4·10⁵
  integrand points, 0.25–0.4 CPU-s per S₁₂, ~1 per D₁₂.

Degenerate cases: K₁₂ = 0 gives 0 (f is odd); s = 0 (|correlation| = 1 to rounding) gives
sign(K₁₂)·E[ρ(r)ρ(|a|r)]/g, a 1-D integral.

The slope D₁₂ = ∂S₁₂/∂K₁₂ (the per-layer growth of a correlation perturbation; D = χ⊥/C_W at
K₁₂ = K₁₁ = K₂₂) is Price's theorem through the same reduction, exact: D₁₂ = E tr(J_f(u)ᵀJ_f(v))/g
with J_f(x) = α(‖x‖)(I − x̂x̂ᵀ) + ρ'(‖x‖)x̂x̂ᵀ, the tangential gain α(r) = ρ(r)/r and the radial gain
ρ'(r) (by autograd on the profile). With c = û·v̂,

    tr(J_f(u)ᵀJ_f(v)) = α(r)α(t)(g − 2 + c²) + [α(r)ρ'(t) + ρ'(r)α(t)](1 − c²) + ρ'(r)ρ'(t)c²,

and given t the direction law above (density ∝ e^{κc} on the sphere) has E[c² | t] =
1 − (g − 1)I_ν(κ)/(κI_{ν−1}(κ)) (→ 1/g as κ → 0, the uniform law; 1 − (g − 1)/κ + … as κ → ∞;
1 for g = 1). The density of t is (t/s²)(t/m)^{ν−1}e^{−(t−m)²/(2s²)}e^{−κ}I_{ν−1}(κ), and by
I_{ν−1} = I_{ν+1} + (g/κ)I_ν it splits into two positive weights, the tangential
w₁ ∝ (g − 1)I_ν(κ)/κ (= density·(1 − c²)) and the aligned w₂ ∝ I_{ν+1}(κ) + I_ν(κ)/κ (= density·c²),
so the inner integrals A_i = ∫α(t)w_i dt, B_i = ∫ρ'(t)w_i dt carry no cancellation and

    D₁₂ = E_{r ~ √K₁₁χ_g}[α(r)((g − 2)A₁ + (g − 1)A₂ + B₁) + ρ'(r)(A₁ + B₂)] / g,

even in K₁₂ (J_f(−x) = J_f(x)), on the same panels as S₁₂ (α and ρ' jump or kink where ρ does). The
degenerate cases: K₁₂ = 0 gives independent u, v and E J_f = λ(K)I, so D = λ(K₁₁)λ(K₂₂) with
λ(K) = E[(g − 1)α(r) + ρ'(r)]/g (λ(0) = ρ'(0)); s = 0 gives E[(g − 1)α(r)α(|a|r) + ρ'(r)ρ'(|a|r)]/g,
which at a = 1 is the one-input χ⊥/C_W.
"""
from __future__ import annotations

import math
from typing import Callable, Optional

import numpy as np
import torch
from scipy.special import i1e, ive

from ..activations import get_activation
from ..errors import ActlabError
from .quadrature import DTYPE, chi_expectation, chi_log_weight, fixed_rule, integrate
from .target import Group, Target, as_target, value_and_slope
from .vector import WholeVector, whole_vector_target

BESSEL_TINY = 1e-280  # below it e^{−κ}I_ν(κ) is summed as a series in logs (it nears float64's underflow)
METHODS = ("fixed", "adaptive")
CHUNK = 4096       # outer nodes per batch of inner integrals
# The inner integral in x = (t − m)/s: from −12 to 12 past the bulk of ‖v‖ (the mass beyond is ≈ 1e-32),
# panel edges around 0 and around that bulk, sparser than the general rule's (the inner integrand is smooth
# between its cuts at t = 0 and the radii)
INNER_EDGE = 12.0
INNER_EDGES = torch.tensor([-8.0, -5.0, -3.0, -1.5, 0.0, 1.5, 3.0, 5.0, 8.0], dtype=DTYPE)
FIXED_EDGES = torch.tensor([-12.0, -8.0, -5.0, -3.0, -1.5, 0.0, 1.5, 3.0, 5.0, 8.0, 12.0], dtype=DTYPE)
OUTER_R = (0.5, 1.0, 2.0, 4.0, 8.0)  # the activation's own scale in r (as chi_expectation's)


def _arrays(*xs) -> tuple:
    arrays = np.broadcast_arrays(*(np.asarray(x, dtype=np.float64) for x in xs))
    return tuple(a.reshape(-1).copy() for a in arrays)


def pair_moment(target: Group, K11, K22, K12, method: str = "fixed") -> np.ndarray:
    """S₁₂ = E f(u)·f(v)/g per problem (arrays broadcast together); see the module docstring.
    method: "fixed" (the fixed tensor-product rule) or "adaptive" (the reference)."""
    return _pair(target, K11, K22, K12, method, slope=False)


def pair_slope(target: Group, K11, K22, K12, method: str = "fixed") -> np.ndarray:
    """D₁₂ = ∂S₁₂/∂K₁₂ = E tr(J_f(u)ᵀJ_f(v))/g per problem (Price's theorem, exact; see the module
    docstring), by the same rules as `pair_moment`."""
    return _pair(target, K11, K22, K12, method, slope=True)


def _pair(target: Group, K11, K22, K12, method: str, slope: bool) -> np.ndarray:
    """S₁₂ (slope=False) or D₁₂ (slope=True): the checks, the degenerate cases, then the nested rule."""
    if method not in METHODS:
        raise ActlabError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    K11, K22, K12 = _arrays(K11, K22, K12)
    if np.any(K11 < 0) or np.any(K22 < 0) or not np.all(np.isfinite(K11 + K22 + K12)):
        raise ActlabError("the two-input kernel needs finite K₁₁, K₂₂ >= 0")
    bound = np.sqrt(K11 * K22)
    if np.any(np.abs(K12) > bound * (1 + 1e-12)):
        raise ActlabError("the two-input kernel is not positive semidefinite: |K₁₂| > √(K₁₁K₂₂)")
    K12 = np.clip(K12, -bound, bound)
    g = target.group_size
    out = np.zeros(len(K11))
    if slope and (K12 == 0).any():  # independent inputs: D = λ(K₁₁)λ(K₂₂); S = 0 (f is odd)
        zero = K12 == 0
        out[zero] = _mean_gain(target, K11[zero]) * _mean_gain(target, K22[zero])
    live = (K12 != 0) & (K11 > 0) & (K22 > 0)
    if not live.any():
        return out
    a = np.where(live, K12 / np.where(K11 > 0, K11, 1.0), 0.0)
    s2 = np.where(live, K22 - K12 * a, 0.0)
    line = live & (s2 <= 1e-13 * K22)  # |correlation| = 1 to rounding: v = a·u
    full = live & ~line
    sign = np.ones(len(K11)) if slope else np.sign(K12)  # S is odd in K₁₂, D even
    if line.any():
        out[line] = sign[line] * _line(target, K11[line], np.abs(a[line]), slope) / g
    if full.any():
        at, st = np.abs(a[full]), np.sqrt(s2[full])
        value = (_general_fixed(target, K11[full], at, st, slope) if method == "fixed" else
                 _general(target, K11[full], K22[full], at, st, slope))
        out[full] = sign[full] * value / g
    return out


def _line(target: Group, K11: np.ndarray, a: np.ndarray, slope: bool) -> np.ndarray:
    """v = ±a·u: E_r[ρ(r)ρ(ar)], or E_r[(g − 1)α(r)α(ar) + ρ'(r)ρ'(ar)] for the slope (a 1-D integral)."""
    g, rho, radii = target.group_size, target.rho, target.radii
    at = torch.as_tensor(a, dtype=DTYPE)

    def F(r: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        if not slope:
            return rho(r) * rho(at[p] * r)
        (alpha, radial), (alpha_v, radial_v) = _gains(rho, r), _gains(rho, at[p] * r)
        return (g - 1) * alpha * alpha_v + radial * radial_v

    return chi_expectation(F, g, torch.as_tensor(np.sqrt(K11), dtype=DTYPE), radii,
                           r_edges=torch.stack([b / at for b in radii], 1) if radii else None).numpy()


def _mean_gain(target: Group, K: np.ndarray) -> np.ndarray:
    """λ(K) = E tr J_f(u)/g = E[(g − 1)α(r) + ρ'(r)]/g for u ~ N(0, K·I_g) (E J_f(u) = λ(K)·I by
    isotropy); λ(0) = ρ'(0)."""
    g, rho = target.group_size, target.rho
    out = np.full(len(K), float(value_and_slope(rho, torch.zeros(1, dtype=DTYPE))[1][0]))
    pos = K > 0
    if pos.any():
        def F(r: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
            alpha, radial = _gains(rho, r)
            return ((g - 1) * alpha + radial) / g

        out[pos] = chi_expectation(F, g, torch.as_tensor(np.sqrt(K[pos]), dtype=DTYPE), target.radii).numpy()
    return out


def _gains(rho: Callable[[torch.Tensor], torch.Tensor], r: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The tangential gain α(r) = ρ(r)/r and the radial gain ρ'(r) of f (its Jacobian's eigenvalues)."""
    value, radial = value_and_slope(rho, r)
    return value / r, radial


def _general(target: Group, K11: np.ndarray, K22: np.ndarray, a: np.ndarray, s: np.ndarray,
             slope: bool) -> np.ndarray:
    """g·S₁₂ or g·D₁₂ for a > 0, s > 0 by the adaptive nested rule (see the module docstring)."""
    g, radii = target.group_size, target.radii
    at, st = torch.as_tensor(a, dtype=DTYPE), torch.as_tensor(s, dtype=DTYPE)
    # the Cauchy–Schwarz scale of each input: E ρ(r)² for S, E‖J_f‖²_F for D
    both = np.concatenate([K11, K22])
    second = (target.moments(both)[:, 2] if slope else target.second_moment(both)) * g
    scale = torch.as_tensor(np.sqrt(second[:len(K11)] * second[len(K11):]), dtype=DTYPE).clamp_min(1e-300)
    inner_scale = torch.as_tensor(np.sqrt(second[len(K11):]), dtype=DTYPE).clamp_min(1e-300)
    cuts = (0.0, *radii)

    def outer(r: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        parts = []
        for lo in range(0, r.numel(), CHUNK):
            rc, pc = r[lo:lo + CHUNK], p[lo:lo + CHUNK]
            m, sd = at[pc] * rc, st[pc]
            kinks = torch.stack([(torch.full_like(m, c) - m) / sd for c in cuts], 1)
            bulk = _bulk(m, sd, g)
            edges = torch.cat([INNER_EDGES.expand(len(m), -1), bulk[:, None] + INNER_EDGES, kinks], 1)
            inner = integrate(_inner(target, m, sd, slope), _unit_log_weight, edges, -INNER_EDGE,
                              float(bulk.max()) + INNER_EDGE, inner_scale[pc])
            parts.append(_outer(target, rc, inner, slope))
        return torch.cat(parts)

    with torch.no_grad():
        return chi_expectation(outer, g, torch.as_tensor(np.sqrt(K11), dtype=DTYPE), radii,
                               r_edges=_smoothed_kinks(radii, at, st), floor=scale).numpy()


def _general_fixed(target: Group, K11: np.ndarray, a: np.ndarray, s: np.ndarray, slope: bool) -> np.ndarray:
    """g·S₁₂ or g·D₁₂ for a > 0, s > 0 by the fixed tensor-product rule (see the module docstring)."""
    g, radii = target.group_size, target.radii
    at, st = torch.as_tensor(a, dtype=DTYPE), torch.as_tensor(s, dtype=DTYPE)
    root = torch.as_tensor(np.sqrt(K11), dtype=DTYPE)
    mode = math.sqrt(max(g - 1, 0))
    cuts = torch.tensor((0.0, *radii), dtype=DTYPE)

    def outer(u: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
        parts = []
        for lo in range(0, u.numel(), CHUNK):
            rc, pc = root[p[lo:lo + CHUNK]] * u[lo:lo + CHUNK], p[lo:lo + CHUNK]
            m, sd = at[pc] * rc, st[pc]
            bulk = _bulk(m, sd, g)
            edges = torch.cat([bulk[:, None] + FIXED_EDGES, (cuts - m[:, None]) / sd[:, None]], 1)
            inner = fixed_rule(_inner(target, m, sd, slope), _unit_log_weight, edges,
                               torch.maximum(bulk - INNER_EDGE, -m / sd), bulk + INNER_EDGE)
            parts.append(_outer(target, rc, inner, slope))
        return torch.cat(parts)

    # in u = r/√K₁₁ (χ_g): the χ grid around the mode, the kinks of ρ, the activation's own scale, and
    # the kinks b/a of Φ(a·r) with graded edges around them at the width s/a of the smoothed kink
    P = len(K11)
    r_edges = torch.tensor(OUTER_R + radii, dtype=DTYPE).expand(P, -1)
    if radii:
        r_edges = torch.cat([r_edges, _smoothed_kinks(radii, at, st)], 1)
    edges = torch.cat([(mode + FIXED_EDGES).expand(P, -1), r_edges / root[:, None]], 1)
    with torch.no_grad():
        return fixed_rule(outer, chi_log_weight(g), edges, 0.0, mode + INNER_EDGE).numpy()


def _smoothed_kinks(radii: tuple[float, ...], a: torch.Tensor, s: torch.Tensor) -> Optional[torch.Tensor]:
    """(P, k) edges in r around each kink r = b/a of Φ(a·r), graded at the width s/a over which the
    Gaussian smooths it: at |correlation| → 1 (s → 0) Φ turns from ρ's inside to its outside branch
    within a few s/a, a feature that an adaptive panel of width ~1 can miss on both of its estimates."""
    if not radii:
        return None
    return torch.cat([(b + s[:, None] * FIXED_EDGES) / a[:, None] for b in radii], 1)


def _bulk(m: torch.Tensor, sd: torch.Tensor, g: int) -> torch.Tensor:
    """Where ‖v‖ concentrates, √(m² + g·s²), in standard units (t − m)/s above m: past 12 at g ≳ 150."""
    return (torch.sqrt(m * m + g * sd * sd) - m) / sd


def _inner(target: Group, m: torch.Tensor, sd: torch.Tensor, slope: bool):
    """The integrand of the inner integral at m_j, s_j in x = (t − m_j)/s_j (see the module docstring):
    for S, ρ(t)·E[v₁/t | t]·density; for D the four columns α(t)w₁, α(t)w₂, ρ'(t)w₁, ρ'(t)w₂."""
    g, rho = target.group_size, target.rho
    nu = 0.5 * g

    def inner(x: torch.Tensor, j: torch.Tensor) -> torch.Tensor:
        # the Gaussian weight e^{−x²/2} joins the exponent: at large g the Bessel term alone overflows
        mj, sj = m[j], sd[j]
        t = mj + sj * x
        tp = t.clamp_min(0)
        tn, mn, s2, half = tp.numpy(), mj.numpy(), (sj * sj).numpy(), 0.5 * (x * x).numpy()
        log_nu = log_ratio_bessel(nu, tn, mn, s2) - half
        if not slope:
            value = rho(tp) * torch.as_tensor(np.exp(log_nu), dtype=DTYPE)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                over_kappa = log_nu - (np.log(tn) + np.log(mn) - np.log(s2))   # I_ν/κ
                aligned = np.logaddexp(log_ratio_bessel(nu, tn, mn, s2, order=nu + 1) - half, over_kappa)
            w1 = (g - 1) * torch.as_tensor(np.exp(over_kappa), dtype=DTYPE)
            w2 = torch.as_tensor(np.exp(aligned), dtype=DTYPE)
            alpha, radial = _gains(rho, tp)
            value = torch.stack([alpha * w1, alpha * w2, radial * w1, radial * w2], 1)
        value = value * (t / sj).reshape((-1,) + (1,) * (value.dim() - 1))
        return torch.where((t > 0).reshape((-1,) + (1,) * (value.dim() - 1)), value, torch.zeros((), dtype=DTYPE))

    return inner


def _outer(target: Group, r: torch.Tensor, inner: torch.Tensor, slope: bool) -> torch.Tensor:
    """The outer integrand at radius r from the inner integral(s): ρ(r)Φ for S; for D
    α(r)((g − 2)A₁ + (g − 1)A₂ + B₁) + ρ'(r)(A₁ + B₂) (see the module docstring)."""
    if not slope:
        return target.rho(r) * inner
    g = target.group_size
    alpha, radial = _gains(target.rho, r)
    A1, A2, B1, B2 = inner.unbind(1)
    return alpha * ((g - 2) * A1 + (g - 1) * A2 + B1) + radial * (A1 + B2)


def _unit_log_weight(x: torch.Tensor) -> torch.Tensor:
    return torch.zeros_like(x)


def scaled_bessel(nu: float, x: np.ndarray) -> np.ndarray:
    """e^{−x}I_ν(x) for x >= 0: scipy's `ive` (for ν = 1, g = 2, its Cephes `i1e`: the same to
    ~1e-16 at a tenth of the cost), which returns nan past x ≈ 1e9, and beyond x = 1e8 the
    asymptotic series (2πx)^{−1/2}(1 − μ₁/(8x) + μ₁μ₃/(2(8x)²)), μ_k = 4ν² − k², whose next
    term is < 1e-24 there."""
    x = np.asarray(x, dtype=np.float64)
    big = x > 1e8
    out = i1e(np.where(big, 1.0, x)) if nu == 1 else ive(nu, np.where(big, 1.0, x))
    if big.any():
        xb, mu = x[big], 4 * nu * nu
        out[big] = (1 - (mu - 1) / (8 * xb) + (mu - 1) * (mu - 9) / (2 * (8 * xb) ** 2)) / np.sqrt(2 * np.pi * xb)
    return out


def log_ratio_bessel(nu: float, t: np.ndarray, m: np.ndarray, s2: np.ndarray,
                     order: Optional[float] = None) -> np.ndarray:
    """log[(t/m)^{ν−1} e^{−κ} I_μ(κ)], κ = tm/s², μ = order (default ν), for t, m >= 0, in float64 at
    any group size.

    Where e^{−κ}I_μ(κ) is a normal float (> 1e-280) it is `scaled_bessel`; below, the power
    series I_μ(κ) = (κ/2)^μ Σ_k (κ²/4)^k / (k! Γ(μ+k+1)) is summed in logs, with the powers of
    t and m combined before they are formed:
        (ν−1+μ) ln t + (μ−ν+1) ln m − μ ln(2s²) − κ + ln Σ_k (κ²/4)^k / (k! Γ(μ+k+1)).
    At g = 256 (ν = 128) the two factors alone overflow and underflow float64; their product
    does not. m = 0 or t = 0 gives −inf (the term is 0 for μ >= ν)."""
    mu = nu if order is None else order
    t, m, s2 = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (t, m, s2)))
    kappa = t * m / s2
    out = np.full(t.shape, -np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        direct = scaled_bessel(mu, kappa)
        normal = (direct > BESSEL_TINY) & (t > 0) & (m > 0)
        out[normal] = (nu - 1) * (np.log(t[normal]) - np.log(m[normal])) + np.log(direct[normal])
        tiny = ~normal & (t > 0) & (m > 0)
        if tiny.any():
            k, tk, mk, sk = kappa[tiny], t[tiny], m[tiny], s2[tiny]
            out[tiny] = ((nu - 1 + mu) * np.log(tk) + (mu - nu + 1) * np.log(mk) - mu * np.log(2 * sk) - k
                         + _log_bessel_series(mu, k))
    return out


def _log_bessel_series(nu: float, kappa: np.ndarray) -> np.ndarray:
    """ln Σ_k (κ²/4)^k / (k! Γ(ν+k+1)), summed in logs until the terms fall below 1e-17 of the sum."""
    log_q = 2 * np.log(kappa) - math.log(4.0)
    term = np.full(kappa.shape, -math.lgamma(nu + 1))   # k = 0
    total = term.copy()
    k = 0
    while True:
        k += 1
        term = term + log_q - math.log(k) - math.log(nu + k)
        total = np.logaddexp(total, term)
        if np.all((term - total < -40) & (log_q - math.log(k + 1) - math.log(nu + k + 1) < 0)):
            return total


def pair_target(act, width: Optional[int] = None) -> Target | WholeVector:
    """The activation as a target of the two-input theory: elementwise, a group activation on
    groups of a fixed size g (the isotropic reduction above), or a whole-vector group activation
    at layer width `width` (leading order in 1/n, actlab.theory.vector; without a width an
    ActlabError says so)."""
    if isinstance(act, WholeVector):
        return act
    module = get_activation(act) if isinstance(act, str) else act
    if getattr(getattr(module, "info", None), "group_size", None) == 0:
        return whole_vector_target(as_target(module, width))
    return as_target(act)
