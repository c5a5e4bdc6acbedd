"""Gaussian expectations in float64 by adaptive piecewise Gauss–Legendre quadrature.

    ⟨f⟩_K = E_{z~N(0,K)} f(z) = ∫ f(√K·x) φ(x) dx,      φ(x) = e^{−x²/2}/√(2π)

Kinks make plain Gauss–Hermite converge slowly, so every integral is cut into
panels whose edges include

- a grid in x (the Gaussian's own scale): spacing 2 on |x| ≤ 8, coarser to |x| = 37,
- a grid in z (the activation's scale, |z| ≤ 8) mapped to x = z/√K, so a steep
  transition (tanh at K = 10⁴) is resolved,
- the declared breakpoints b mapped to x = b/√K, so each panel is smooth.

Each panel gets 16-point Gauss–Legendre; a panel is accepted when its 16-point
value and the sum over its two halves agree to 1e-14 of the integral's scale,
otherwise it is bisected (all panels of all problems in one vectorised pass per
level). The scale is the L1 size Σ|panel values| of the integral, floored by an
absolute scale the caller may pass (`floor`): an integral that is pure rounding
noise (the inner integrals of an odd σ at input correlation ρ ≈ 0 are ~1e-17, so
the outer integrand is noise) would otherwise never meet a relative rule and be
bisected everywhere; and by 1e-280 (TINY) for all, since values near the subnormal range
carry too much rounding for any relative rule. The work is capped: more than MAX_PANELS live panels raise
ActlabError instead of exhausting memory. Known breakpoints give machine precision on the first pass; an unknown
kink (a user's callable without metadata) is found by the bisection, which still
reaches ~1e-13 (it costs ~20 more levels near each kink). An integral that has not
converged after 60 levels gets a RuntimeWarning with its error estimate.

`fixed_rule` is the same 16-point rule in one pass on the panels a caller gives, with no
error estimate and no bisection: for integrands whose bends the caller knows (the fast path
of the isotropic reduction, actlab.theory.isotropic).

The domain |x| ≤ 37 drops mass e^{−684}: nothing representable for any integrand
that grows slower than e^{x²/2 − 700}. A non-finite integrand where the weight is
nonzero raises ActlabError (the expectation does not exist in float64).
"""
from __future__ import annotations

import math
import warnings
from typing import Callable, Iterable, Optional, Sequence

import numpy as np
import torch

from ..errors import ActlabError

DTYPE = torch.float64
NODES = 16
_GL_X, _GL_W = (torch.tensor(v, dtype=DTYPE) for v in np.polynomial.legendre.leggauss(NODES))

NORMAL_EDGE = 37.0
X_GRID = tuple(float(v) for v in range(-8, 9, 2)) + (-37.0, -28.0, -20.0, -14.0, -10.0, 10.0, 14.0, 20.0, 28.0, 37.0)
Z_GRID = (0.0, -0.5, 0.5, -1.0, 1.0, -2.0, 2.0, -4.0, 4.0, -8.0, 8.0)
REL_TOL = 1e-14
# Integrals below this are 0 for every use: near the subnormal range (< 2.2e-308) values carry
# relative rounding up to ~1e-4, so a relative rule alone is never met there (whole-vector RB at
# width 128, K ≈ 1e3: E[rρρ'] ~ 1e-312) and every panel would be bisected to the cap
TINY = 1e-280
MAX_LEVEL = 60
MAX_PANELS = 1 << 18  # live panels per pass (~0.5 GB of nodes): past this the bisection is not converging
CHUNK = 1 << 21  # nodes per integrand call: bounds memory in the nested 2-D case

# F(x, pid) -> values: x flat float64 nodes, pid the problem index of each node; the
# values have shape (N,) or (N, m) for m integrands computed together.
Integrand = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
LogWeight = Callable[[torch.Tensor], torch.Tensor]
Bound = float | torch.Tensor  # an integration limit: one for all problems, or one per problem


def normal_log_weight(x: torch.Tensor) -> torch.Tensor:
    """ln φ(x)."""
    return -0.5 * x * x - 0.5 * math.log(2 * math.pi)


def chi_log_weight(g: int) -> LogWeight:
    """ln of the χ_g density s^{g−1} e^{−s²/2} / (2^{g/2−1} Γ(g/2)) (the norm of g i.i.d. N(0,1))."""
    const = (g / 2 - 1) * math.log(2.0) + math.lgamma(g / 2)

    def logw(s: torch.Tensor) -> torch.Tensor:
        return (g - 1) * torch.log(s) - 0.5 * s * s - const

    return logw


def integrate(F: Integrand, log_weight: LogWeight, edges: torch.Tensor, lo: float, hi: float,
              floor: Optional[torch.Tensor] = None) -> torch.Tensor:
    """∫_lo^hi F(x, i) w(x) dx for problems i = 0..P−1, by adaptive panels.

    edges: (P, M) candidate panel edges (clipped to [lo, hi]; duplicates are harmless).
    floor: (P,) absolute scale of each integrand (e.g. E|f|): a panel whose error is
    below 1e-14 of it is accepted even when the integral itself is ~0.
    Returns (P,) or (P, m) float64.
    """
    P = edges.shape[0]
    a, b, pid = _cut(edges, lo, hi)
    coarse = None
    floor = torch.zeros(P, dtype=DTYPE) if floor is None else floor.to(DTYPE).reshape(P)
    for level in range(MAX_LEVEL + 1):
        mid = 0.5 * (a + b)
        m = a.numel()
        if m > MAX_PANELS:
            raise ActlabError(
                f"Gaussian quadrature did not converge: {m} panels still unresolved after {level} bisections "
                f"(cap {MAX_PANELS}); the integrand may be discontinuous without declared breakpoints, wildly "
                "oscillating, or rounding noise around 0")
        if coarse is None:  # first pass: the panels and their halves in one call
            vals = _panels(F, log_weight, torch.cat([a, a, mid]), torch.cat([b, mid, b]), pid.repeat(3))
            coarse, left, right = vals[:m], vals[m:2 * m], vals[2 * m:]
            shape = (P,) + tuple(coarse.shape[1:])
            total, l1, err = (torch.zeros(shape, dtype=DTYPE) for _ in range(3))
        else:
            vals = _panels(F, log_weight, torch.cat([a, mid]), torch.cat([mid, b]), pid.repeat(2))
            left, right = vals[:m], vals[m:]
        fine = left + right
        diff = (fine - coarse).abs()
        size = l1.index_add(0, pid, fine.abs())  # L1 size of each integral so far
        size = torch.maximum(size, floor.reshape((P,) + (1,) * (size.dim() - 1))).clamp_min(TINY)
        ok = diff <= REL_TOL * size[pid]
        if ok.dim() > 1:
            ok = ok.all(dim=1)
        if level == MAX_LEVEL:
            ok = torch.ones_like(ok)
        total.index_add_(0, pid[ok], fine[ok])
        l1.index_add_(0, pid[ok], fine[ok].abs())
        err.index_add_(0, pid[ok], diff[ok])
        ok_not = ~ok
        if not ok_not.any():
            break
        a, mid, b, pid = a[ok_not], mid[ok_not], b[ok_not], pid[ok_not]
        coarse = torch.cat([left[ok_not], right[ok_not]])
        a, b, pid = torch.cat([a, mid]), torch.cat([mid, b]), torch.cat([pid, pid])
    scale = torch.maximum(l1, floor.reshape((P,) + (1,) * (l1.dim() - 1))).clamp_min(TINY)
    if bool((err > 1e-9 * scale).any()):
        worst = float((err / scale).max())
        warnings.warn(f"Gaussian quadrature did not converge (relative error estimate {worst:.1e}); "
                      "the integrand may be discontinuous or wildly oscillating", RuntimeWarning, stacklevel=3)
    return total


def fixed_rule(F: Integrand, log_weight: LogWeight, edges: torch.Tensor, lo: Bound, hi: Bound) -> torch.Tensor:
    """∫_lo^hi F(x, i) w(x) dx for problems i = 0..P−1 by one pass of 16-point Gauss–Legendre on the
    panels that `edges` (P, M) cut [lo_i, hi_i] into: no error control, so the caller's edges must
    resolve the integrand (smooth on each panel, a panel no wider than its features).
    lo, hi: numbers or (P,) tensors. Returns (P,) or (P, m) float64."""
    a, b, pid = _cut(edges, lo, hi)
    vals = _panels(F, log_weight, a, b, pid)
    return torch.zeros((edges.shape[0],) + tuple(vals.shape[1:]), dtype=DTYPE).index_add_(0, pid, vals)


def _cut(edges: torch.Tensor, lo: Bound, hi: Bound) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The nonempty panels [a, b] and their problem ids that the sorted edges, clipped to [lo, hi], cut."""
    P = edges.shape[0]
    lo, hi = (torch.as_tensor(v, dtype=DTYPE).expand(P).reshape(P, 1) for v in (lo, hi))
    e = torch.cat([lo, torch.minimum(torch.maximum(edges.to(DTYPE), lo), hi), hi], dim=1).sort(dim=1).values
    a, b = e[:, :-1].reshape(-1), e[:, 1:].reshape(-1)
    pid = torch.arange(P).repeat_interleave(e.shape[1] - 1)
    keep = b > a
    return a[keep], b[keep], pid[keep]


def _panels(F: Integrand, log_weight: LogWeight, a: torch.Tensor, b: torch.Tensor, pid: torch.Tensor) -> torch.Tensor:
    """16-point Gauss–Legendre value of ∫_a^b F w on each panel."""
    half = 0.5 * (b - a)
    x = (0.5 * (a + b)).unsqueeze(1) + half.unsqueeze(1) * _GL_X
    xf, pf = x.reshape(-1), pid.repeat_interleave(NODES)
    w = torch.exp(log_weight(xf))
    parts = []
    for s in range(0, max(xf.numel(), 1), CHUNK):
        v = F(xf[s:s + CHUNK], pf[s:s + CHUNK])
        parts.append(v if isinstance(v, torch.Tensor) else torch.as_tensor(v))
    vals = torch.cat(parts).to(DTYPE)
    wb = w.reshape((-1,) + (1,) * (vals.dim() - 1))
    bad = ~torch.isfinite(vals) & (wb > 0)
    if bool(bad.any()):
        raise ActlabError("the integrand is not finite (inf or nan) where the Gaussian weight is nonzero: "
                          "the expectation does not exist in float64 (kernel too large or the function overflows)")
    contrib = torch.where(wb > 0, vals * wb, torch.zeros((), dtype=DTYPE))
    contrib = contrib.reshape((a.numel(), NODES) + tuple(vals.shape[1:]))
    weights = (_GL_W.unsqueeze(0) * half.unsqueeze(1)).reshape((a.numel(), NODES) + (1,) * (vals.dim() - 1))
    return (contrib * weights).sum(dim=1)


def normal_expectation(F: Integrand, mean: torch.Tensor, scale: torch.Tensor,
                       breakpoints: Sequence[float] = (), floor: Optional[torch.Tensor] = None,
                       x_edges: Optional[torch.Tensor] = None) -> torch.Tensor:
    """E_{x~N(0,1)} F(mean_i + scale_i·x, i) for each problem i (scale_i > 0).

    F receives z = mean + scale·x (flat) and the problem index of each z. floor: see
    `integrate`; x_edges: (P, k) extra panel edges in x, per problem.
    """
    mean, scale = mean.to(DTYPE), scale.to(DTYPE)
    zpts = torch.tensor(tuple(Z_GRID) + tuple(breakpoints), dtype=DTYPE)
    edges = torch.cat([torch.tensor(X_GRID, dtype=DTYPE).expand(mean.numel(), -1),
                       (zpts.unsqueeze(0) - mean.unsqueeze(1)) / scale.unsqueeze(1)], dim=1)
    if x_edges is not None:
        edges = torch.cat([edges, x_edges.to(DTYPE)], dim=1)
    return integrate(lambda x, pid: F(mean[pid] + scale[pid] * x, pid), normal_log_weight,
                     edges, -NORMAL_EDGE, NORMAL_EDGE, floor)


def chi_expectation(F: Integrand, g: int, scale: torch.Tensor, radii: Sequence[float] = (),
                    r_edges: Optional[torch.Tensor] = None, floor: Optional[torch.Tensor] = None) -> torch.Tensor:
    """E_{s~χ_g} F(scale_i·s, i): r = scale·s is the norm of a g-vector with i.i.d. N(0, scale²) entries.

    radii: panel edges in r for every problem; r_edges: (P, k) more edges in r, per problem;
    floor: see `integrate`."""
    scale = scale.to(DTYPE)
    mode = math.sqrt(max(g - 1, 0))
    top = mode + NORMAL_EDGE
    sgrid = torch.tensor([mode + d for d in X_GRID if mode + d > 0], dtype=DTYPE)
    rpts = torch.tensor(tuple(abs(z) for z in Z_GRID if z > 0) + tuple(radii), dtype=DTYPE)
    edges = torch.cat([sgrid.expand(scale.numel(), -1), rpts.unsqueeze(0) / scale.unsqueeze(1)], dim=1)
    if r_edges is not None:
        edges = torch.cat([edges, r_edges.to(DTYPE) / scale.unsqueeze(1)], dim=1)
    return integrate(lambda s, pid: F(scale[pid] * s, pid), chi_log_weight(g), edges, 0.0, top, floor)


# --- public API ------------------------------------------------------------------------
def as_float64_function(f: Callable) -> Callable[[torch.Tensor], torch.Tensor]:
    """Wrap a user callable so that it maps a float64 tensor to a float64 tensor of the same shape."""
    if not callable(f):
        raise ActlabError(f"expected a callable (a function of a torch tensor), got {type(f).__name__}")

    def g(z: torch.Tensor, *more: torch.Tensor) -> torch.Tensor:
        y = f(z, *more)
        if not isinstance(y, torch.Tensor):
            y = torch.as_tensor(np.asarray(y, dtype=np.float64))
        if y.shape != z.shape:
            try:
                y = y.expand(z.shape)
            except RuntimeError:
                raise ActlabError(f"the function must act elementwise: input shape {tuple(z.shape)}, "
                                  f"output shape {tuple(y.shape)}") from None
        return y.to(DTYPE)

    return g


def declared_breakpoints(f: Callable) -> Optional[tuple[float, ...]]:
    """The breakpoints an actlab activation declares, None for a callable without metadata."""
    info = getattr(f, "info", None)
    bps = getattr(info, "breakpoints", None)
    if bps is None:
        return None
    if getattr(info, "group_size", None) is not None:
        raise ActlabError(f"{getattr(info, 'name', 'this activation')} acts on groups of features, not elementwise: "
                          "use actlab.theory.kernel_map / susceptibilities, which apply the radial reduction")
    return tuple(float(v) for v in bps)


def check_kernels(K, name: str = "K") -> np.ndarray:
    """K as a float64 array of finite values >= 0, or ActlabError."""
    try:
        arr = np.asarray(K, dtype=np.float64)
    except (TypeError, ValueError):
        raise ActlabError(f"{name} must be a number or an array of numbers, got {K!r}") from None
    if arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ActlabError(f"{name} must be finite and >= 0 (a variance), got {K!r}")
    return arr


def gaussian_expectation(f: Callable, K, breakpoints: Optional[Iterable[float]] = None):
    """E_{z~N(0,K)} f(z) in float64, for a scalar K or an array of K (one pass for all).

    f: a callable on float64 tensors (an actlab activation, any torch function, a
    user's function). Breakpoints (points where f or a derivative kinks) come from
    the activation's metadata, or the `breakpoints` argument; without them the
    adaptive bisection finds the kinks (slower, still ~1e-13 relative).
    K = 0 gives f(0). Returns a float for a scalar K, else an ndarray of K's shape.

        >>> round(gaussian_expectation(lambda z: torch.relu(z) ** 2, 3.0, breakpoints=[0.0]), 12)  # ⟨ReLU²⟩ = K/2
        1.5
    """
    fn = as_float64_function(f)
    bps = tuple(breakpoints) if breakpoints is not None else (declared_breakpoints(f) or ())
    arr = check_kernels(K)
    flat = torch.as_tensor(arr.reshape(-1), dtype=DTYPE)
    out = torch.empty_like(flat)
    pos = flat > 0
    if bool((~pos).any()):
        out[~pos] = fn(torch.zeros(int((~pos).sum()), dtype=DTYPE))
    if bool(pos.any()):
        scale = flat[pos].sqrt()
        with torch.no_grad():
            out[pos] = normal_expectation(lambda z, pid: fn(z), torch.zeros_like(scale), scale, bps)
    res = out.numpy().reshape(arr.shape)
    return float(res) if res.ndim == 0 else res


def bivariate_gaussian_expectation(f: Callable, K, breakpoints: Optional[Iterable[float]] = None) -> float:
    """E f(z₁, z₂) for (z₁, z₂) ~ N(0, K), K a symmetric positive semidefinite 2×2 matrix.

    Nested quadrature: z₁ = √K₁₁·x, z₂ = √K₂₂(ρx + √(1−ρ²)·y); the inner integral
    over y is split at f's breakpoints in z₂ (shifted by the conditional mean), the
    outer one at the breakpoints in z₁ and where the inner kinks would sit as ρ → ±1.
    `breakpoints` apply to both arguments (default: f's metadata if it has any).
    """
    if not callable(f):
        raise ActlabError(f"expected a callable f(z1, z2), got {type(f).__name__}")
    M = np.asarray(K, dtype=np.float64) if not isinstance(K, torch.Tensor) else K.detach().double().numpy()
    if M.shape != (2, 2) or not np.all(np.isfinite(M)):
        raise ActlabError(f"the two-input kernel must be a finite 2×2 matrix, got {K!r}")
    k11, k22, k12 = float(M[0, 0]), float(M[1, 1]), 0.5 * float(M[0, 1] + M[1, 0])
    if abs(M[0, 1] - M[1, 0]) > 1e-12 * max(abs(k12), 1.0) or k11 < 0 or k22 < 0 or k12 * k12 > k11 * k22 * (1 + 1e-12):
        raise ActlabError(f"the two-input kernel must be symmetric positive semidefinite, got {M.tolist()}")
    bps = tuple(breakpoints) if breakpoints is not None else (getattr(getattr(f, "info", None), "breakpoints", None) or ())

    def pair(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
        y = f(z1, z2)
        return (y if isinstance(y, torch.Tensor) else torch.as_tensor(y)).to(DTYPE).expand(z1.shape)

    with torch.no_grad():
        if k11 == 0 or k22 == 0:  # one input is the constant 0
            if k11 == 0 and k22 == 0:
                return float(pair(torch.zeros(1, dtype=DTYPE), torch.zeros(1, dtype=DTYPE))[0])
            if k11 == 0:
                return gaussian_expectation(lambda z: pair(torch.zeros_like(z), z), k22, bps)
            return gaussian_expectation(lambda z: pair(z, torch.zeros_like(z)), k11, bps)
        s1, s2 = math.sqrt(k11), math.sqrt(k22)
        rho = max(-1.0, min(1.0, k12 / (s1 * s2)))
        c = math.sqrt(max(0.0, 1.0 - rho * rho))
        if c < 1e-12:  # z₂ = ±(s2/s1)·z₁
            t = math.copysign(s2 / s1, rho)
            return gaussian_expectation(lambda z: pair(z, t * z), k11, bps + tuple(b / t for b in bps))
        one = lambda v: torch.tensor([v], dtype=DTYPE)  # noqa: E731
        return float(pair_expectations(lambda z1, z2, _p: pair(z1, z2), one(s1), one(s2), one(rho), bps)[0])


OUTER_CHUNK = 4096  # outer nodes per batch of inner integrals: keeps the nested pass under MAX_PANELS
_GH_X, _GH_W = (torch.tensor(v, dtype=DTYPE) for v in np.polynomial.hermite_e.hermegauss(32))


def pair_expectations(f: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor], s1: torch.Tensor,
                      s2: torch.Tensor, rho: torch.Tensor, breakpoints: Sequence[float] = ()) -> torch.Tensor:
    """E f(z₁, z₂, p) for pairs p = 0..P−1 with z₁ = s1_p·x, z₂ = s2_p(ρ_p x + √(1−ρ_p²)·y), x, y ~ N(0, 1).

    Needs s1, s2 > 0 and |ρ| < 1 (the caller handles the degenerate cases). Nested
    adaptive quadrature: the inner integral over y is split at the breakpoints in z₂,
    the outer one at the breakpoints in z₁ and at x = b/(s2ρ), where the inner kinks
    sit as ρ → ±1. Both stopping rules are floored by the pair's scale E|f| (a 32×32
    Gauss–Hermite estimate): for an odd σ at ρ ≈ 0 the inner integrals are rounding
    noise (~1e-17), and so is σ' = 1 − tanh² in the far tails, which a purely relative
    rule would bisect forever. An inner error below 1e-14·E|f| at every x keeps the
    outer integral within 1e-14·E|f|.
    """
    s1, s2, rho = (t.to(DTYPE).reshape(-1) for t in (s1, s2, rho))
    c = (1 - rho * rho).clamp_min(0).sqrt()
    gx, gy = _GH_X.view(-1, 1, 1), _GH_X.view(1, -1, 1)
    ww = (_GH_W.view(-1, 1) * _GH_W.view(1, -1)).unsqueeze(-1) / (2 * math.pi)
    P = s1.numel()
    pid = torch.arange(P).expand(32, 32, P)
    with torch.no_grad():
        scale = (ww * f((s1 * gx).expand(32, 32, P).reshape(-1), (s2 * (rho * gx + c * gy)).reshape(-1),
                        pid.reshape(-1)).reshape(32, 32, P).abs()).sum(dim=(0, 1))
        safe = torch.where(rho == 0, torch.ones_like(rho), rho)
        x_edges = torch.stack([torch.where(rho == 0, torch.full_like(rho, NORMAL_EDGE), b / (s2 * safe))
                               for b in breakpoints], dim=1) if breakpoints else None

        def outer(z1: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
            parts = []
            for s in range(0, z1.numel(), OUTER_CHUNK):
                zc, pc = z1[s:s + OUTER_CHUNK], p[s:s + OUTER_CHUNK]
                mean = (s2[pc] * rho[pc] / s1[pc]) * zc
                parts.append(normal_expectation(lambda z2, j: f(zc[j], z2, pc[j]), mean, s2[pc] * c[pc], breakpoints,
                                                floor=scale[pc]))
            return torch.cat(parts)

        return normal_expectation(outer, torch.zeros_like(s1), s1, breakpoints, floor=scale, x_edges=x_edges)
