"""Infinite-width kernel recursion and susceptibilities (Roberts, Yaida & Hanin 2022, ch. 4–5).

    K⁽ˡ⁺¹⁾ = C_b + C_W ⟨σ(z)²⟩_{K⁽ˡ⁾}                           (one input)
    K⁽ˡ⁺¹⁾_αβ = C_b + C_W ⟨σ(z_α) σ(z_β)⟩_{K⁽ˡ⁾}                 (two inputs, 2×2 kernel)
    χ∥(K) = C_W d⟨σ²⟩_K/dK = (C_W/K) ⟨z σ'(z) σ(z)⟩_K,   χ⊥(K) = C_W ⟨σ'(z)²⟩_K

`act` is anything `as_target` takes (name, spec string, module, callable);
`width` is needed only for whole-vector group activations (g = width).
"""
from __future__ import annotations

import math
from typing import Optional

import numpy as np

from ..errors import ActlabError
from .closed_forms import OVERFLOW  # a kernel past this is reported as inf (compiled in there)
from .isotropic import pair_moment, pair_target
from .quadrature import bivariate_gaussian_expectation, check_kernels
from .target import Elementwise, as_target
from .vector import WholeVector


def check_weights(C_b: float, C_W: float) -> tuple[float, float]:
    """Validate (C_b, C_W): C_b >= 0 and C_W > 0, both finite."""
    try:
        C_b, C_W = float(C_b), float(C_W)
    except (TypeError, ValueError):
        raise ActlabError(f"C_b and C_W must be numbers, got {C_b!r}, {C_W!r}") from None
    if not math.isfinite(C_W) or C_W <= 0:
        raise ActlabError(f"C_W (the weight variance times fan-in) must be finite and > 0, got {C_W:g}")
    if not math.isfinite(C_b) or C_b < 0:
        raise ActlabError(f"C_b (the bias variance) must be finite and >= 0, got {C_b:g}")
    return C_b, C_W


def _shape_like(K, values: np.ndarray):
    values = values.reshape(np.shape(K))
    return float(values) if values.ndim == 0 else values


def second_moment(act, K, width: Optional[int] = None):
    """⟨σ(z)²⟩_K, z ~ N(0, K) (per component for group activations)."""
    arr = check_kernels(K)
    return _shape_like(K, as_target(act, width).second_moment(arr.reshape(-1)))


def kernel_map(act, K, C_b: float = 0.0, C_W: float = 1.0, width: Optional[int] = None):
    """K ↦ C_b + C_W ⟨σ²⟩_K for a scalar or an array of K."""
    C_b, C_W = check_weights(C_b, C_W)
    return C_b + C_W * second_moment(act, K, width)


def susceptibilities(act, K, C_W: float = 1.0, width: Optional[int] = None):
    """(χ∥, χ⊥) at kernel K (scalar → floats, array → arrays).

    χ∥ = (C_W/K)⟨zσ'σ⟩_K, χ⊥ = C_W⟨σ'²⟩_K; for group activations the radial forms
    (see actlab.theory.target). K = 0 uses the limits χ∥ = C_W(σ₁² + σ₀σ₂), χ⊥ = C_W σ₁²,
    which need σ smooth at 0.
    """
    _, C_W = check_weights(0.0, C_W)
    target = as_target(act, width)
    arr = check_kernels(K).reshape(-1)
    par, perp = np.empty_like(arr), np.empty_like(arr)
    pos = arr > 0
    if pos.any():
        m = target.moments(arr[pos])
        par[pos], perp[pos] = m[:, 1], m[:, 2]
    if (~pos).any():
        t = target.taylor()
        if t is None:
            raise ActlabError(f"{target.label} is not smooth at 0, so χ at K = 0 is undefined: use K > 0")
        par[~pos], perp[~pos] = t[1] ** 2 + t[0] * t[2], t[1] ** 2
    return _shape_like(K, C_W * par), _shape_like(K, C_W * perp)


def kernel_trajectory(act, C_b: float, C_W: float, K1: float, depth: int, width: Optional[int] = None) -> np.ndarray:
    """[K⁽¹⁾, K⁽²⁾, …, K⁽ᵈᵉᵖᵗʰ⁺¹⁾] with K⁽ˡ⁺¹⁾ = C_b + C_W⟨σ²⟩_{K⁽ˡ⁾}.

    K1 is the first layer's pre-activation kernel K⁽¹⁾ = C_b + C_W|x|²/n₀ (the book's
    numbering, and the CLI's --k0); `depth` counts the layers after it, so entry l is the
    kernel of layer l+1 and a network of L layers is kernel_trajectory(…, K1, L − 1).
    A kernel that passes 1e250 (double-exponential blow-up) is reported as inf from
    there on.
    """
    C_b, C_W = check_weights(C_b, C_W)
    depth = check_depth(depth)
    target = as_target(act, width)
    K = float(check_kernels(K1, "K1"))
    out = [K]
    for _ in range(depth):
        if not math.isfinite(K) or K > OVERFLOW:
            K = math.inf
        else:
            try:
                K = C_b + C_W * float(target.second_moment(np.array([K]))[0])
            except ActlabError:  # the expectation overflowed: the kernel has diverged
                K = math.inf
        out.append(K)
    return np.array(out)


def kernel_map_pair(act, K, C_b: float = 0.0, C_W: float = 1.0, width: Optional[int] = None) -> np.ndarray:
    """Two-input map K_αβ ↦ C_b + C_W⟨σ(z_α)σ(z_β)⟩_K for a 2×2 kernel: elementwise σ, a
    group activation on groups of fixed size (per component, by the isotropic reduction,
    actlab.theory.isotropic), or a whole-vector group activation at layer `width`
    (C_b + C_W γ(K_αα)γ(K_ββ)K_αβ, leading order in 1/n, actlab.theory.vector)."""
    C_b, C_W = check_weights(C_b, C_W)
    target = pair_target(act, width)
    M = np.asarray(K, dtype=np.float64)
    if M.shape != (2, 2):
        raise ActlabError(f"the two-input kernel must be a 2×2 matrix, got shape {M.shape}")
    diag = target.second_moment(np.array([M[0, 0], M[1, 1]]))
    if isinstance(target, WholeVector):
        check_kernels(np.array([M[0, 0], M[1, 1]]))
        if abs(M[0, 1]) > math.sqrt(M[0, 0] * M[1, 1]) * (1 + 1e-12):
            raise ActlabError("the two-input kernel is not positive semidefinite: |K₁₂| > √(K₁₁K₂₂)")
        off = float(target.pair(M[0, 0], M[1, 1], M[0, 1])[0])
    elif isinstance(target, Elementwise):
        fn = target.fn
        off = bivariate_gaussian_expectation(lambda a, b: fn(a) * fn(b), M, target.kinks)
    else:
        check_kernels(np.array([M[0, 0], M[1, 1]]))
        off = float(pair_moment(target, M[0, 0], M[1, 1], M[0, 1])[0])
    return C_b + C_W * np.array([[diag[0], off], [off, diag[1]]])


def pair_trajectory(act, C_b: float, C_W: float, K1, depth: int, width: Optional[int] = None) -> np.ndarray:
    """The 2×2 kernel of two inputs from the first layer's K1 = K⁽¹⁾ through `depth` more
    layers: shape (depth+1, 2, 2), entry l the kernel of layer l+1 (as kernel_trajectory).

    The correlation ρ⁽ˡ⁾ = K₁₂/√(K₁₁K₂₂) tells whether inputs stay distinguishable.
    """
    depth = check_depth(depth)
    out = [np.asarray(K1, dtype=np.float64)]
    for _ in range(depth):
        out.append(kernel_map_pair(act, out[-1], C_b, C_W, width))
    return np.stack(out)


def check_depth(depth) -> int:
    if isinstance(depth, bool) or not float(depth).is_integer() or depth < 0:
        raise ActlabError(f"depth must be an integer >= 0, got {depth!r}")
    return int(depth)
