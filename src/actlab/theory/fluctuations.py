"""The 1/n theory of one input's kernel at finite width: four-point vertex, kernel shift, fluctuations.

Network as in `kernels` (all hidden layers of width n, Gaussian W and b). Given layer l,
the pre-activations of layer l+1 are i.i.d. N(0, Ĝ⁽ˡ⁺¹⁾) across units with the
*stochastic metric*

    Ĝ⁽ˡ⁺¹⁾ = C_b + (C_W/n) Σ_j σ(z_j⁽ˡ⁾)²,     Ĝ⁽¹⁾ = C_b + C_W|x|²/n₀ = K⁽¹⁾ (not random),

so for one input Ĝ⁽ˡ⁾ is an exact Markov chain: given Ĝ⁽ˡ⁾ the z_j⁽ˡ⁾ are i.i.d. N(0, Ĝ⁽ˡ⁾),

    E[Ĝ⁽ˡ⁺¹⁾ | Ĝ⁽ˡ⁾] = f(Ĝ⁽ˡ⁾),   Var[Ĝ⁽ˡ⁺¹⁾ | Ĝ⁽ˡ⁾] = C_W² v(Ĝ⁽ˡ⁾)/n,
    f(K) = C_b + C_W⟨σ²⟩_K (the kernel map),   v(K) = ⟨σ⁴⟩_K − ⟨σ²⟩_K².

Writing E Ĝ⁽ˡ⁾ = K⁽ˡ⁾ + K⁽ˡ⁾₍₁₎/n and Var Ĝ⁽ˡ⁾ = V⁽ˡ⁾/n and expanding f and v around
K⁽ˡ⁾ to first order in 1/n gives the recursions (the single-input case of the book's
four-point vertex and 1/n kernel correction, Roberts, Yaida & Hanin 2022, ch. 4; the
derivation here is the project's own):

    K⁽ˡ⁺¹⁾   = f(K⁽ˡ⁾)                                        (infinite width)
    V⁽ˡ⁺¹⁾   = χ∥(K⁽ˡ⁾)² V⁽ˡ⁾ + C_W² v(K⁽ˡ⁾),                  V⁽¹⁾ = 0
    K₍₁₎⁽ˡ⁺¹⁾ = χ∥(K⁽ˡ⁾) K₍₁₎⁽ˡ⁾ + ½ f''(K⁽ˡ⁾) V⁽ˡ⁾,           K₍₁₎⁽¹⁾ = 0

with χ∥ = f' and, by differentiating the Gaussian weight (x = z/√K; needs no σ', so
kinks are fine),

    f''(K) = (C_W/4K²) ⟨σ(z)² (x⁴ − 6x² + 3)⟩_K.

The measured empirical kernel K̂⁽ˡ⁾ = (1/n)Σ_i (z_i⁽ˡ⁾)² is Ĝ⁽ˡ⁾ times an independent
χ²_n/n, hence to leading order

    E K̂⁽ˡ⁾ = K⁽ˡ⁾ + K₍₁₎⁽ˡ⁾/n,    Var K̂⁽ˡ⁾ = (V⁽ˡ⁾ + 2K⁽ˡ⁾²)/n,
    excess kurtosis of z⁽ˡ⁾ = E z⁴/(E z²)² − 3 = 3V⁽ˡ⁾/(nK⁽ˡ⁾²).

Group activations f(z) = zρ(‖z‖)/‖z‖ (Radial Bounding) reduce the same way: the n/g
groups of layer l are independent, so Σ_j f_j² is a sum of n/g i.i.d. ρ(r)², r = ‖z_group‖,
and per component ⟨σ²⟩ → E[ρ²]/g, v → (E[ρ⁴] − E[ρ²]²)/g, and with r = √K·s, s ~ χ_g,
f''(K) = (C_W/4gK²) E[ρ(r)²((s² − g)² − 4s² + 2g)] (g = 1 is the elementwise formula).

Scale-invariant σ (a₊z, a₋z) at C_b = 0 is exactly solvable at any width: Ĝ⁽ˡ⁺¹⁾ = Ĝ⁽ˡ⁾·ξ
with ξ = (C_W/n)Σσ(u_j)², u ~ N(0, 1), independent of Ĝ⁽ˡ⁾, so with A₂ = (a₊² + a₋²)/2,
A₄ = (a₊⁴ + a₋⁴)/2: E ξ = C_W A₂, E ξ² = (C_W A₂)² + C_W²(3A₄ − A₂²)/n, and
E K̂⁽ᴸ⁾ = K⁽¹⁾(E ξ)^{L−1}, E (K̂⁽ᴸ⁾)² = K⁽¹⁾² (E ξ²)^{L−1} (1 + 2/n)  (`scale_invariant_exact`).
At criticality (C_W = 1/A₂) the 1/n recursion gives V⁽ˡ⁾ = (l − 1)(3A₄/A₂² − 1)K², ReLU: 5(l − 1)K².
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Optional

import numpy as np
import torch

from ..errors import ActlabError
from .kernels import check_depth, check_weights, kernel_trajectory
from .quadrature import DTYPE, chi_expectation, normal_expectation
from .target import Elementwise, Target, as_target


def fluctuation_moments(act, K, width: Optional[int] = None) -> np.ndarray:
    """Rows (⟨σ²⟩, v = ⟨σ⁴⟩ − ⟨σ²⟩², d²⟨σ²⟩/dK²) at each K > 0, shape (len(K), 3), per
    component for group activations (see the module docstring). One quadrature pass."""
    target = as_target(act, width)
    Kt = torch.as_tensor(np.asarray(K, dtype=np.float64).reshape(-1), dtype=DTYPE)
    if bool((Kt <= 0).any()) or not bool(torch.isfinite(Kt).all()):
        raise ActlabError("the 1/n theory needs finite kernels K > 0")
    raw = _raw_moments(target, Kt)
    g = target.group_size or 1
    m2, m4, d2 = raw[:, 0] / g, raw[:, 1], raw[:, 2] / g
    return np.stack([m2, (m4 - raw[:, 0] ** 2) / g, d2], axis=1)


def _raw_moments(target: Target, Kt: torch.Tensor) -> np.ndarray:
    """(E s², E s⁴, E s²·h) with s = σ(z) (elementwise) or ρ(r) (group), h the second-derivative weight."""
    scale = Kt.sqrt()
    with torch.no_grad():
        if isinstance(target, Elementwise):
            def F(z: torch.Tensor, pid: torch.Tensor) -> torch.Tensor:
                s2 = target.fn(z) ** 2
                x2 = z * z / Kt[pid]
                return torch.stack([s2, s2 * s2, s2 * (x2 * x2 - 6 * x2 + 3) / (4 * Kt[pid] ** 2)], dim=1)

            return normal_expectation(F, torch.zeros_like(scale), scale, target.kinks).numpy()
        g = target.group_size

        def G(r: torch.Tensor, pid: torch.Tensor) -> torch.Tensor:
            p2 = target.rho(r) ** 2
            s2 = r * r / Kt[pid]
            return torch.stack([p2, p2 * p2, p2 * ((s2 - g) ** 2 - 4 * s2 + 2 * g) / (4 * Kt[pid] ** 2)], dim=1)

        return chi_expectation(G, g, scale, target.radii).numpy()


@dataclass
class FiniteWidthPrediction:
    """The 1/n prediction for one input, layers 1..depth (arrays of length depth).

    kernel: K⁽ˡ⁾ (infinite width); vertex: V⁽ˡ⁾; kernel_shift: K₍₁₎⁽ˡ⁾ (so E Ĝ = K + K₍₁₎/n);
    chi_parallel: χ∥(K⁽ˡ⁾); mean: E K̂⁽ˡ⁾; variance: Var K̂⁽ˡ⁾; metric_variance: Var Ĝ⁽ˡ⁾ = V/n;
    kurtosis: the excess kurtosis 3V/(nK²) of z⁽ˡ⁾; relative_fluctuation: √Var K̂ / K.
    Entries are nan from where the kernel or ⟨σ⁴⟩ overflows (no critical point) on.
    """

    name: str
    C_b: float
    C_W: float
    width: int
    depth: int
    layers: np.ndarray
    kernel: np.ndarray
    vertex: np.ndarray
    kernel_shift: np.ndarray
    chi_parallel: np.ndarray

    @property
    def depth_to_width(self) -> float:
        return self.depth / self.width

    @property
    def mean(self) -> np.ndarray:
        return self.kernel + self.kernel_shift / self.width

    @property
    def metric_variance(self) -> np.ndarray:
        return self.vertex / self.width

    @property
    def variance(self) -> np.ndarray:
        return (self.vertex + 2 * self.kernel ** 2) / self.width

    @property
    def kurtosis(self) -> np.ndarray:
        return 3 * self.vertex / (self.width * self.kernel ** 2)

    @property
    def relative_fluctuation(self) -> np.ndarray:
        return np.sqrt(self.variance) / self.kernel

    @property
    def relative_shift(self) -> np.ndarray:
        return self.kernel_shift / (self.width * self.kernel)

    def width_for(self, accuracy: float = 0.1, layer: Optional[int] = None) -> dict:
        """The smallest widths at which, to leading order in 1/n, the relative fluctuation
        √Var K̂/K and the relative mean shift |K₍₁₎|/(nK) at `layer` (default the last) stay
        under `accuracy`: n ≥ (V/K² + 2)/accuracy² and n ≥ |K₍₁₎|/(K·accuracy)."""
        if not 0 < accuracy < 1:
            raise ActlabError(f"accuracy must be in (0, 1), got {accuracy!r}")
        i = (self.depth if layer is None else int(layer)) - 1
        if not 0 <= i < self.depth:
            raise ActlabError(f"layer must be in 1..{self.depth}, got {layer!r}")
        K, V, S = self.kernel[i], self.vertex[i], self.kernel_shift[i]
        if not (np.isfinite(K) and np.isfinite(V) and np.isfinite(S)):
            return {"fluctuation": None, "shift": None}
        return {"fluctuation": int(math.ceil((V / K ** 2 + 2) / accuracy ** 2)),
                "shift": int(math.ceil(abs(S) / (K * accuracy))) if S != 0 else 1}

    def as_dict(self) -> dict:
        out = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in asdict(self).items()}
        for k in ("mean", "variance", "metric_variance", "kurtosis", "relative_fluctuation", "relative_shift"):
            out[k] = getattr(self, k).tolist()
        out["depth_to_width"] = self.depth_to_width
        return out


def finite_width_prediction(act, C_b: float, C_W: float, K1: float, depth: int, width: int) -> FiniteWidthPrediction:
    """The 1/n theory of one input through `depth` layers of width `width` (see module docstring).

    K1 = C_b + C_W|x|²/n₀ is the first layer's kernel (> 0). The coefficients V⁽ˡ⁾ and
    K₍₁₎⁽ˡ⁾ do not depend on the width; `width` only scales them into the predicted
    mean and variance of K̂ (and sets g = width for whole-vector group activations).

        >>> p = finite_width_prediction("relu", 0.0, 2.0, 1.0, depth=11, width=100)
        >>> round(float(p.vertex[-1]), 9), round(float(p.variance[-1]), 9)   # V = 5(l−1)K², (V + 2K²)/n
        (50.0, 0.52)
    """
    C_b, C_W = check_weights(C_b, C_W)
    depth = check_depth(depth)
    if depth < 1:
        raise ActlabError("depth must be >= 1 (layer 1 is the first hidden layer)")
    if isinstance(width, bool) or not float(width).is_integer() or width < 1:
        raise ActlabError(f"width must be an integer >= 1, got {width!r}")
    width = int(width)
    if not (math.isfinite(K1) and K1 > 0):
        raise ActlabError(f"K1 (the first layer's kernel) must be finite and > 0, got {K1!r}")
    target = as_target(act, width)
    kernel = kernel_trajectory(target, C_b, C_W, K1, depth - 1)
    ok = np.isfinite(kernel) & (kernel > 0)
    chi = np.full(depth, np.nan)
    v = np.full(depth, np.nan)
    d2 = np.full(depth, np.nan)
    if ok.any():
        idx = np.flatnonzero(ok)
        try:
            m = fluctuation_moments(target, kernel[idx])
        except ActlabError:  # ⟨σ⁴⟩ overflows before ⟨σ²⟩ does: keep the layers where it exists
            rows = []
            for i in idx:
                try:
                    rows.append(fluctuation_moments(target, kernel[i:i + 1])[0])
                except ActlabError:
                    break
            idx = idx[:len(rows)]
            m = np.array(rows).reshape(-1, 3)
        if len(idx):
            chi[idx] = C_W * target.moments(kernel[idx])[:, 1]
            v[idx], d2[idx] = m[:, 1], m[:, 2]
    vertex, shift = np.zeros(depth), np.zeros(depth)
    for l in range(1, depth):
        vertex[l] = chi[l - 1] ** 2 * vertex[l - 1] + C_W ** 2 * v[l - 1]
        shift[l] = chi[l - 1] * shift[l - 1] + 0.5 * C_W * d2[l - 1] * vertex[l - 1]
    bad = ~ok
    kernel = np.where(bad, np.nan, kernel)
    return FiniteWidthPrediction(target.label, C_b, C_W, width, depth, np.arange(1, depth + 1), kernel,
                                 np.where(np.isnan(kernel), np.nan, vertex), np.where(np.isnan(kernel), np.nan, shift),
                                 chi)


def scale_invariant_exact(a_pos: float, a_neg: float, C_W: float, K1: float, depth: int, width: int) -> dict:
    """Exact mean and variance of K̂⁽ˡ⁾, l = 1..depth, for σ = a₊z (z ≥ 0), a₋z (z < 0) at C_b = 0
    and any width (see module docstring): {'mean': ..., 'variance': ...} arrays."""
    depth = check_depth(depth)
    A2, A4 = (a_pos ** 2 + a_neg ** 2) / 2, (a_pos ** 4 + a_neg ** 4) / 2
    e1 = C_W * A2
    e2 = e1 ** 2 + C_W ** 2 * (3 * A4 - A2 ** 2) / width
    k = np.arange(depth)
    mean = K1 * e1 ** k
    second = K1 ** 2 * e2 ** k * (1 + 2 / width)
    return {"mean": mean, "variance": second - mean ** 2}
