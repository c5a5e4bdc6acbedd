"""Two-input Gaussian moments for a whole batch: the N×N matrices

    S_ij = E σ(z_i)σ(z_j),   D_ij = E σ'(z_i)σ'(z_j),   z ~ N(0, K),

which the NNGP and NTK recursions need at every layer (actlab.theory.stax).
Three methods, the first that applies:

1. closed form, where the activation declares one (`info.dual`: ReLU family,
   identity, erf, GELU; see actlab.theory.closed_forms), compiled and evaluated on the upper
   triangle of K only;
2. the Hermite (dual-activation) expansion (Daniely et al. 2016, Mehler's formula):
   with s_i = √K_ii, ρ_ij = K_ij/(s_i s_j) and the normalised Hermite polynomials h_n,

       S_ij = Σ_n a_n(s_i) a_n(s_j) ρ_ijⁿ,     a_n(s) = E_x σ(s x) h_n(x),
       D_ij = Σ_n b_n(s_i) b_n(s_j) ρ_ijⁿ,     b_n(s) = √(n+1)·a_{n+1}(s)/s   (Stein's lemma),

   truncated after M terms with the rigorous bound (Cauchy–Schwarz on the tail)

       |S_ij − S_ij^(M)| ≤ |ρ_ij|^{M+1} √(T_i T_j),   T_i = ⟨σ²⟩_{K_ii} − Σ_{n≤M} a_n(s_i)²,

   with T_i/⟨σ²⟩ floored at TAIL_FLOOR (below it the difference is rounding, not 0)

   (the same for D with ⟨σ'²⟩). Each row i of the matrix takes the fewest terms M_i that
   bring the bounds of all its pairs under tol·√(S_ii S_jj) (default TOL = 1e-9; at most
   M_MAX + 1 terms), summed by Horner in one compiled (numba) pass over the pairs. The
   coefficients come from one fixed Gauss–Legendre rule (16 nodes per panel, panels of
   width ≤ min(¼, 2/max s) on |x| ≤ 16, with edges at every breakpoint b/s_i) as one
   matrix product with the Hermite functions ψ_n = h_n√φ (three-term recurrence, stable):
   directly at a few distinct scales, else interpolated in s on fixed cells (a quarter
   octave) that the layers of one network share (`CoefficientCache`), since the diagonal
   moves little from one layer to the next.
   Smooth σ (tanh, SiLU) need a few dozen terms; a kink costs slow decay (a jump in
   σ^(k) gives a_n² ~ n^{−k−3/2}), so pairs near |ρ| = 1 fail the bound.
3. the adaptive quadrature (`quadrature.pair_expectations`, ~1e-14, the reference)
   for the pairs whose bound fails; a 1-D integral when |ρ| = 1 to rounding.

Accuracy: within 1e-8 of √(S_ii S_jj) against the adaptive reference (tests; measured
~1e-15 for tanh, GELU, Zorro, ~1e-13 for MRePU); the Hermite truncation is bounded by
`tol` of that scale, the fixed rule and the interpolation add ~1e-13. Cost per layer for
N = 256: closed forms ~1 ms; smooth σ a few milliseconds (tol = 1e-13 costs about what
1e-9 does: the series of smooth σ converge fast); kinked σ without a closed form (Zorro, MRePU) is
as fast while |ρ| stays below ~0.95, and pays ~1 s per pair beyond (their Hermite
tails decay as a power: Zorro's ⟨σ'σ'⟩ tail after 256 terms is still ~1e-5), which
a looser `tol` trades for accuracy.
"""
from __future__ import annotations

import math
from functools import lru_cache
from typing import Optional

import numba
import numpy as np
import torch
from threadpoolctl import ThreadpoolController

from . import closed_forms
from .quadrature import DTYPE, _GL_W, _GL_X, normal_expectation, pair_expectations
from .target import Elementwise, value_and_slope

TOL = 1e-9           # default bound on the Hermite truncation, relative to √(S_ii S_jj)
M_MAX = 256
COLLINEAR = 1e-12   # |ρ| > 1 − this: the pair is one Gaussian variable (a 1-D integral)
PAIR_CHUNK = 16     # pairs per call of the adaptive fallback
INTERP_TOL = 1e-13  # accepted disagreement of nested Chebyshev interpolants of the coefficients in s
CELLS = 4           # cells of the coefficients' interpolants per octave of the scale s
TAIL_FLOOR = 1e-14  # the relative tails are ⟨σ²⟩ − Σa_n² to ~1e-14: below that they are unknown, not 0
MAX_EXACT = 4096    # scales whose coefficients a cache keeps (2 × 257 floats each)
FEW_SCALES = 8      # up to this many distinct scales, the coefficients are computed directly
EDGE = 16.0         # the coefficients' integrals stop at |x| = 16: the weight √φ is e^{−64} ≈ 1.6e-28 there


_BLAS = ThreadpoolController()


def one_blas_thread():
    """A context in which BLAS runs on one thread: the theory engine's matrix products are
    small (N ≤ a few hundred), and on a busy CPU threads waiting for each other cost 10–50×
    the work (256×64 times its transpose: 7.8 CPU ms on two threads, 0.6 on one)."""
    return _BLAS.limit(limits=1, user_api="blas")


@lru_cache(maxsize=8)
def _cached_hermite_functions(x: bytes, n_max: int) -> np.ndarray:
    return hermite_functions(np.frombuffer(x), n_max)


def hermite_functions(x: np.ndarray, n_max: int) -> np.ndarray:
    """ψ_n(x) = h_n(x)√φ(x) for n = 0..n_max, shape (n_max+1, len(x)); h_n = He_n/√n! are
    orthonormal under N(0, 1). Recurrence ψ_{n+1} = (xψ_n − √n ψ_{n−1})/√(n+1)."""
    out = np.empty((n_max + 1, x.size))
    out[0] = np.exp(-0.25 * x * x) / (2 * math.pi) ** 0.25
    if n_max >= 1:
        out[1] = x * out[0]
    for n in range(1, n_max):
        out[n + 1] = (x * out[n] - math.sqrt(n) * out[n - 1]) / math.sqrt(n + 1)
    return out


def _nodes(scales: np.ndarray, kinks: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Legendre nodes and weights on |x| ≤ EDGE, panel edges at b/s for every kink b and scale s."""
    width = min(0.25, 2.0 / float(scales.max()))
    grid = np.linspace(-EDGE, EDGE, int(math.ceil(2 * EDGE / width)) + 1)
    extra = [b / scales for b in kinks]
    edges = np.unique(np.clip(np.concatenate([grid, *extra]), -EDGE, EDGE))
    half = 0.5 * np.diff(edges)
    x = (0.5 * (edges[:-1] + edges[1:]))[:, None] + half[:, None] * _GL_X.numpy()
    return x.reshape(-1), (half[:, None] * _GL_W.numpy()).reshape(-1)


Coefficients = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # a (U, M+1), b (U, M+1), ⟨σ²⟩, ⟨σ'²⟩


def _direct(target: Elementwise, scales: np.ndarray, slopes: bool) -> Coefficients:
    """a_n(s), b_n(s) (n ≤ M_MAX), ⟨σ²⟩ and ⟨σ'²⟩ (zeros when slopes=False) at each scale s > 0."""
    x, w = _nodes(scales, target.kinks)
    psi = _cached_hermite_functions(x.tobytes(), M_MAX + 1)
    root = psi[0]  # √φ
    s = scales[:, None]
    z = torch.as_tensor(s * x, dtype=DTYPE)
    if slopes:
        y, d = (v.numpy() for v in value_and_slope(target.fn, z))
    else:
        with torch.no_grad():
            y, d = target.fn(z).numpy(), np.zeros(z.shape)
    a = (psi @ (y * (w * root)).T).T                                # (U, M_MAX+2); this order is BLAS-fast
    b = a[:, 1:] * np.sqrt(np.arange(1, M_MAX + 2)) / s
    return a[:, :-1], b, (y * y) @ (w * root * root), (d * d) @ (w * root * root)


class CoefficientCache:
    """The coefficients' interpolants on cells [2^(k/CELLS), 2^((k+1)/CELLS)] of the scale s,
    and direct values at exact scales, kept across the layers of one network: the diagonal
    moves slowly from layer to layer, so most layers reuse what earlier ones computed."""

    def __init__(self) -> None:
        self.cells: dict = {}
        self.exact: dict = {}


def coefficients(target: Elementwise, scales: np.ndarray, slopes: bool = True,
                 cache: Optional[CoefficientCache] = None) -> Coefficients:
    """`_direct` at each of a few scales (≤ FEW_SCALES distinct), else per cell of log₂ s a
    barycentric interpolant on m Chebyshev–Lobatto points (the coefficients are analytic in
    s > 0): m = 9, 17, 33, 65, accepted when the interpolant on the previous (nested) points
    predicts the new ones to INTERP_TOL of √max(⟨σ²⟩, ⟨σ'²⟩); a cell that does not converge
    is computed directly. `cache` keeps both across calls (one network's layers)."""
    cache = CoefficientCache() if cache is None else cache
    U = len(scales)
    out = (np.empty((U, M_MAX + 1)), np.empty((U, M_MAX + 1)), np.empty(U), np.empty(U))
    cell = np.floor(np.log2(scales) * CELLS).astype(np.int64)
    direct = np.zeros(U, dtype=bool)
    if U > FEW_SCALES:
        for k in np.unique(cell):
            sel = cell == k
            key = (int(k), slopes)
            if key not in cache.cells:
                cache.cells[key] = _cell_interpolant(target, 2.0 ** (k / CELLS), 2.0 ** ((k + 1) / CELLS), slopes)
            if cache.cells[key] is None:
                direct |= sel
                continue
            nodes, values = cache.cells[key]
            weights = _barycentric(nodes, scales[sel])
            for o, v in zip(out, values):
                o[sel] = weights @ v
    else:
        direct[:] = True
    todo = [u for u in np.nonzero(direct)[0] if (float(scales[u]), slopes) not in cache.exact]
    if len(cache.exact) + len(todo) > MAX_EXACT:  # a map applied to many unrelated kernels: bound the memory
        cache.exact.clear()
    if todo:
        for u, *row in zip(todo, *_direct(target, scales[todo], slopes)):
            cache.exact[(float(scales[u]), slopes)] = row
    for u in np.nonzero(direct)[0]:
        for o, v in zip(out, cache.exact[(float(scales[u]), slopes)]):
            o[u] = v
    return out


def _cell_interpolant(target: Elementwise, lo: float, hi: float, slopes: bool):
    """(nodes, values) of the accepted interpolant on [lo, hi] (see coefficients), or None."""
    m = 9
    nodes = _lobatto(lo, hi, m)
    values = _direct(target, nodes, slopes)
    while m < 65:
        m = 2 * m - 1
        finer = _lobatto(lo, hi, m)
        new = _direct(target, finer[1::2], slopes)
        predicted = _barycentric(nodes, finer[1::2])
        scale = math.sqrt(max(np.concatenate([values[2], values[3], new[2], new[3]]).max(), 0.0))
        close = all(np.abs(predicted @ v - w).max() <= INTERP_TOL * scale for v, w in zip(values, new))
        merged = []
        for old, add in zip(values, new):  # the previous points are the even ones of these (nested)
            both = np.empty((m,) + old.shape[1:])
            both[::2], both[1::2] = old, add
            merged.append(both)
        nodes, values = finer, tuple(merged)
        if close:
            return nodes, values
    return None


def _lobatto(lo: float, hi: float, m: int) -> np.ndarray:
    return 0.5 * (lo + hi) - 0.5 * (hi - lo) * np.cos(np.pi * np.arange(m) / (m - 1))


def _barycentric(nodes: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The (len(at), len(nodes)) matrix of barycentric interpolation on Chebyshev–Lobatto nodes."""
    w = (-1.0) ** np.arange(len(nodes))
    w[0] *= 0.5
    w[-1] *= 0.5
    diff = at[:, None] - nodes[None, :]
    exact = diff == 0
    with np.errstate(divide="ignore", invalid="ignore"):
        L = w / diff
    L = np.where(exact.any(axis=1, keepdims=True), exact.astype(float), L)
    return L / L.sum(axis=1, keepdims=True)


def _tails(coef: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Relative tails t_u(n) = (total_u − Σ_{m≤n} coef_um²)/total_u, shape (U, M_MAX+1), >= 0."""
    with np.errstate(invalid="ignore", divide="ignore"):
        t = (total[:, None] - np.cumsum(coef * coef, axis=1)) / total[:, None]
    return np.where(total[:, None] > 0, np.clip(t, 0.0, None), 0.0)


@numba.njit(cache=True)
def _hermite_sums(coef: np.ndarray, root_tails: np.ndarray, rho: np.ndarray, tol: float,
                  out: np.ndarray, bad: np.ndarray) -> None:
    """out_ij = Σ_{n<M_i} c_n(i)c_n(j)ρ_ijⁿ (Horner) for j > i, mirrored; coef (N, M_MAX+1) per input,
    root_tails the √ of its relative tails. Row i takes the fewest terms M_i whose bound
    |ρ_ij|^{M_i}·√(t_i(M_i−1) t_j(M_i−1)) ≤ tol holds for every j > i (with t_j bounded by
    the largest tail among the later rows), so pairs far from |ρ| = 1 cost few terms; where
    M_MAX+1 terms do not suffice, the pairs still over the bound are marked in `bad`."""
    N, terms_max = coef.shape
    later = np.zeros(terms_max)  # max over j > i of √t_j(n)
    CT = np.ascontiguousarray(coef.T)
    for i in range(N - 2, -1, -1):
        for n in range(terms_max):
            later[n] = max(later[n], root_tails[i + 1, n])
        r = 0.0
        for j in range(i + 1, N):
            r = max(r, abs(rho[i, j]))
        terms, power = terms_max, 1.0
        for n in range(terms_max):
            power *= r
            if power * root_tails[i, n] * later[n] <= tol:
                terms = n + 1
                break
        r_row = np.ascontiguousarray(rho[i, i + 1:])  # local copies: numba vectorises the loop only without aliasing
        acc = np.zeros(N - i - 1)
        for n in range(terms - 1, -1, -1):
            c, c_row = coef[i, n], CT[n, i + 1:]
            for k in range(N - i - 1):
                acc[k] = acc[k] * r_row[k] + c * c_row[k]
        out[i, i + 1:] = acc
        out[i + 1:, i] = acc
        if terms == terms_max:
            for k in range(N - i - 1):
                j = i + 1 + k
                if abs(r_row[k]) ** terms * root_tails[i, terms - 1] * root_tails[j, terms - 1] > tol:
                    bad[i, j] = True


def pair_moments(target: Elementwise, K: np.ndarray, slopes: bool = True, tol: float = TOL,
                 cache: Optional[CoefficientCache] = None) -> tuple[np.ndarray, Optional[np.ndarray]]:
    """(S, D) for an N×N covariance K (D is None when slopes=False); `tol` bounds the Hermite
    truncation relative to √(S_ii S_jj) (pairs that cannot meet it use the adaptive quadrature)."""
    if target.dual is not None:
        return closed_forms.gram(target.dual, K, slopes)
    with one_blas_thread():
        return _pair_moments(target, K, slopes, tol, cache)


def _pair_moments(target: Elementwise, K: np.ndarray, slopes: bool, tol: float,
                  cache: Optional[CoefficientCache]) -> tuple[np.ndarray, Optional[np.ndarray]]:
    diag = np.diag(K).copy()
    N = K.shape[0]
    scales, idx = np.unique(np.sqrt(np.clip(diag, 0.0, None)), return_inverse=True)
    zero = scales == 0
    pos = ~zero
    U = len(scales)
    a = np.zeros((U, M_MAX + 1))
    b = np.zeros((U, M_MAX + 1))
    square, slope_square = np.zeros(U), np.zeros(U)
    if pos.any():
        a[pos], b[pos], square[pos], slope_square[pos] = coefficients(target, scales[pos], slopes, cache)
    if zero.any():  # a constant input: σ(0) and σ'(0) are the whole expansion
        y, d = value_and_slope(target.fn, torch.zeros(1, dtype=DTYPE))
        a[zero, 0], b[zero, 0] = float(y[0]), float(d[0])
        square[zero], slope_square[zero] = float(y[0]) ** 2, float(d[0]) ** 2
    s = scales[idx]
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = np.where(np.outer(s, s) > 0, K / np.outer(s, s), 0.0)
    rho = np.clip(rho, -1.0, 1.0)
    np.fill_diagonal(rho, 1.0)
    results = []
    for coef, total, derivative in ((a, square, False), (b, slope_square, True)):
        if derivative and not slopes:
            results.append(None)
            continue
        out, bad = np.empty((N, N)), np.zeros((N, N), dtype=bool)
        _hermite_sums(coef[idx], np.sqrt(_tails(coef, total) + TAIL_FLOOR)[idx], rho, tol, out, bad)
        out[np.diag_indices(N)] = total[idx]
        if bad.any():
            i, j = np.nonzero(bad)
            vals = _fallback(target, s[i], s[j], rho[i, j], derivative=derivative)
            out[i, j] = vals
            out[j, i] = vals
        results.append(out)
    return results[0], results[1]


def _fallback(target: Elementwise, s1: np.ndarray, s2: np.ndarray, rho: np.ndarray, derivative: bool) -> np.ndarray:
    """E g(z₁)g(z₂) (g = σ or σ') by the adaptive quadrature, pair by pair in chunks."""
    g = (lambda z: value_and_slope(target.fn, z)[1]) if derivative else target.fn
    out = np.empty(len(rho))
    line = np.abs(rho) > 1 - COLLINEAR
    bps = target.kinks
    for sel, collinear in ((np.nonzero(line)[0], True), (np.nonzero(~line)[0], False)):
        for start in range(0, len(sel), PAIR_CHUNK):
            k = sel[start:start + PAIR_CHUNK]
            t1, t2, tr = (torch.as_tensor(v[k], dtype=DTYPE) for v in (s1, s2, rho))
            if collinear:  # z₂ = sign(ρ)·(s₂/s₁)·z₁
                ratio = torch.sign(tr) * t2 / t1
                edges = torch.stack([b / t1 for b in bps] + [b / (ratio * t1) for b in bps], 1) if bps else None
                vals = normal_expectation(lambda z, p: g(z) * g(ratio[p] * z), torch.zeros_like(t1), t1,
                                          x_edges=edges)
            else:
                vals = pair_expectations(lambda z1, z2, _p: g(z1) * g(z2), t1, t2, tr, bps)
            out[k] = vals.numpy()
    return out
