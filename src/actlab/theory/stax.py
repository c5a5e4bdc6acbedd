"""Infinite-width NNGP and NTK of a deep MLP for a batch of inputs, as composed layer maps.

Each layer is a map of a `Kernels` state (nngp, ntk), composed by `serial` the way
neural-tangents' stax.serial composes kernel functions. With the spec's network
z⁽¹⁾ = b + Wx, z⁽ˡ⁺¹⁾ = b + Wσ(z⁽ˡ⁾), W ~ N(0, C_W/fan_in), b ~ N(0, C_b):

    dense:        K ↦ C_b + C_W·K,            Θ ↦ λ_b + λ_W·K + C_W·Θ
    nonlinearity: K ↦ E σ(z)σ(z)ᵀ,            Θ ↦ E σ'(z)σ'(z)ᵀ ⊙ Θ       (z ~ N(0, K))

starting from K = XXᵀ/n₀, Θ = 0, so that K⁽¹⁾ = C_b + C_W XXᵀ/n₀ and

    K⁽ˡ⁺¹⁾ = C_b + C_W E σσᵀ,   Θ⁽ˡ⁺¹⁾ = λ_b + λ_W E σσᵀ + C_W (E σ'σ'ᵀ) ⊙ Θ⁽ˡ⁾

(Jacot et al. 2018; Lee et al. 2019; Roberts, Yaida & Hanin 2022, ch. 8–9, whose
learning-rate tensors are λ_b, λ_W). `parameterization="ntk"` (W = √(C_W/n)·ω with ω
trained): λ_b = C_b, λ_W = C_W. `"standard"` (W itself trained, each layer's learning
rate scaled by 1/fan_in so the limit exists; Sohl-Dickstein et al. 2020): λ_b = λ_W = 1.
The two-input moments come from actlab.theory.dual (closed form, Hermite expansion
with an error bound, or adaptive quadrature). `nngp`/`ntk` of an activation with a declared
closed form run every layer, the input layer included, in one compiled call
(closed_forms.layers): the same maps without Python between the layers.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
import torch

from ..activations.duals import ClosedFormDual
from ..errors import ActlabError
from . import closed_forms
from .closed_forms import OVERFLOW
from .dual import TOL, CoefficientCache, one_blas_thread, pair_moments
from .kernels import check_depth, check_weights
from .target import Elementwise, as_target

PARAMETERIZATIONS = ("ntk", "standard")
# Up to this many inputs XXᵀ runs on one BLAS thread anyway (measured: 64 × 64 inputs, 12 µs with and
# without the limit; 256, 2.3× the CPU time without it), and setting the limit costs ~30 µs.
SMALL_GRAM = 64


@dataclass(frozen=True)
class Kernels:
    """The state between layers: the NNGP kernel and the NTK (None when not tracked), N×N."""

    nngp: np.ndarray
    ntk: Optional[np.ndarray] = None


LayerMap = Callable[[Kernels], Kernels]


def learning_rates(C_b: float, C_W: float, parameterization: str) -> tuple[float, float]:
    """(λ_b, λ_W): (C_b, C_W) in the NTK parameterisation, (1, 1) in the standard one."""
    if parameterization not in PARAMETERIZATIONS:
        raise ActlabError(f"parameterization must be one of {PARAMETERIZATIONS}, got {parameterization!r}")
    return (C_b, C_W) if parameterization == "ntk" else (1.0, 1.0)


def _diverged() -> ActlabError:
    return ActlabError("the kernel has diverged (past 1e250): the network's signal explodes at this init")


def dense(C_b: float, C_W: float, parameterization: str = "ntk") -> LayerMap:
    """K ↦ C_b + C_W·K and Θ ↦ λ_b + λ_W·K + C_W·Θ (see the module docstring)."""
    C_b, C_W = check_weights(C_b, C_W)
    lam_b, lam_W = learning_rates(C_b, C_W, parameterization)

    def apply(k: Kernels) -> Kernels:
        # new arrays: the incoming state may be kept (layers=True)
        track = k.ntk is not None
        theta = k.ntk if track else closed_forms.NONE
        nngp, ntk = np.empty_like(k.nngp), np.empty_like(theta)
        closed_forms.dense_into(k.nngp, theta, C_b, C_W, lam_b, lam_W, nngp, ntk, track)
        return Kernels(nngp, ntk if track else None)

    return apply


def check_tol(tol: float) -> None:
    if not 0 < tol < 1:
        raise ActlabError(f"tol must be in (0, 1), got {tol!r}")


def nonlinearity(act, tol: float = TOL) -> LayerMap:
    """K ↦ E σσᵀ and Θ ↦ E σ'σ'ᵀ ⊙ Θ, for any elementwise activation (`tol`: see dual.pair_moments)."""
    target = as_target(act)
    check_tol(tol)
    if not isinstance(target, Elementwise):
        raise ActlabError(f"{target.label} acts on groups of features: N×N kernels are for elementwise activations")
    cache = CoefficientCache()  # the Hermite coefficients, shared by the layers this map is applied at

    def apply(k: Kernels) -> Kernels:
        if not closed_forms.bounded(k.nngp):
            raise _diverged()
        S, D = pair_moments(target, k.nngp, slopes=k.ntk is not None, tol=tol, cache=cache)
        return Kernels(S, None if k.ntk is None else D * k.ntk)

    return apply


def serial(*layers: LayerMap) -> LayerMap:
    """The composition: the layers' maps applied in order."""
    def apply(k: Kernels) -> Kernels:
        for layer in layers:
            k = layer(k)
        return k

    return apply


def _inputs(X) -> np.ndarray:
    """X as a float64 (N, n₀) array; its finiteness is checked by the callers."""
    x = X.detach().double().cpu().numpy() if isinstance(X, torch.Tensor) else np.asarray(X, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise ActlabError(f"X must be a finite (N, n₀) array of inputs, got shape {x.shape}")
    return x


def _not_finite(x: np.ndarray) -> ActlabError:
    return ActlabError(f"X must be a finite (N, n₀) array of inputs with XXᵀ within ±{OVERFLOW:g}, "
                       f"got one of shape {x.shape} that is not")


def _gram(x: np.ndarray) -> np.ndarray:
    """XXᵀ (not yet divided by n₀)."""
    if x.shape[0] <= SMALL_GRAM:
        return np.dot(x, x.T)  # np.dot: 0.4 µs less than @ on a pair
    with one_blas_thread():
        return np.dot(x, x.T)


def input_kernels(X=None, K1=None, C_b: float = 0.0, C_W: float = 1.0, parameterization: str = "ntk",
                  ntk: bool = True) -> tuple[Kernels, bool]:
    """The state entering the first dense layer: from inputs X (N × n₀), K = XXᵀ/n₀, Θ = 0;
    from a given first-layer kernel K1 (N×N, PSD), the state after the first layer
    (returned with True: skip it), Θ⁽¹⁾ = λ_b + λ_W (K1 − C_b)/C_W."""
    if (X is None) == (K1 is None):
        raise ActlabError("give the inputs X (N × n₀) or the first layer's kernel K1 (N × N), not both")
    if X is not None:
        x = _inputs(X)
        gram = _gram(x)
        if not closed_forms.bounded(gram):
            raise _not_finite(x)
        gram /= x.shape[1]
        return Kernels(gram, np.zeros(gram.shape) if ntk else None), False
    K = K1.detach().double().cpu().numpy() if isinstance(K1, torch.Tensor) else np.asarray(K1, dtype=np.float64)
    if K.ndim != 2 or K.shape[0] != K.shape[1] or not np.isfinite(K).all():
        raise ActlabError(f"K1 must be a finite N×N matrix, got shape {K.shape}")
    if not np.allclose(K, K.T, rtol=1e-12, atol=0) or np.any(np.diag(K) < 0) or \
            np.any(K * K > np.outer(np.diag(K), np.diag(K)) * (1 + 1e-12)):
        raise ActlabError("K1 must be symmetric with |K_ij| <= √(K_ii K_jj) (a covariance)")
    K = 0.5 * (K + K.T)
    C_b, C_W = check_weights(C_b, C_W)
    lam_b, lam_W = learning_rates(C_b, C_W, parameterization)
    return Kernels(K, lam_b + lam_W * (K - C_b) / C_W if ntk else None), True


def _run(act, X, K1, C_b, C_W, depth, parameterization, ntk: bool, layers: bool,
         tol: float) -> tuple[np.ndarray, Optional[np.ndarray]]:
    """(NNGP, NTK) after `depth` layers, (N, N) each, or every layer's, (depth, N, N) with `layers`;
    NTK None when not `ntk`."""
    depth = check_depth(depth)
    if depth < 1:
        raise ActlabError("depth must be >= 1 (the first layer's kernel is K⁽¹⁾)")
    C_b, C_W = check_weights(C_b, C_W)
    lam_b, lam_W = learning_rates(C_b, C_W, parameterization)
    check_tol(tol)
    target = as_target(act)
    if isinstance(target, Elementwise) and isinstance(target.dual, ClosedFormDual):
        return _closed_form_run(target.dual, X, K1, depth, C_b, C_W, lam_b, lam_W, parameterization, ntk, layers)
    state, skip_first = input_kernels(X, K1, C_b, C_W, parameterization, ntk)
    last = dense(C_b, C_W, parameterization)
    step = serial(nonlinearity(target, tol), last)
    state = state if skip_first else last(state)
    out = [state]
    for _ in range(depth - 1):
        state = step(state)
        if layers:
            out.append(state)
    if not layers:
        return state.nngp, state.ntk
    return np.stack([k.nngp for k in out]), (np.stack([k.ntk for k in out]) if ntk else None)


def _closed_form_run(dual: ClosedFormDual, X, K1, depth: int, C_b: float, C_W: float, lam_b: float, lam_W: float,
                     parameterization: str, ntk: bool, layers: bool) -> tuple[np.ndarray, Optional[np.ndarray]]:
    """`_run`'s layers in one compiled call (closed_forms.layers), the input layer included: from
    inputs, the compiled call also divides XXᵀ by n₀ and checks it (for a pair of inputs the numpy
    calls that would do it here are a third of the whole call)."""
    if K1 is None and X is not None:
        x = _inputs(X)
        K = _gram(x)
        done, Ks, Ts = closed_forms.layers(dual, K, np.zeros(K.shape) if ntk else None, depth, C_b, C_W, lam_b,
                                           lam_W, keep=layers, input_scale=1.0 / x.shape[1])
        if done < depth:
            raise _not_finite(x) if done == 0 else _diverged()
        return Ks, Ts
    first = input_kernels(X, K1, C_b, C_W, parameterization, ntk)[0]
    if depth == 1:
        return (first.nngp[None], None if first.ntk is None else first.ntk[None]) if layers else (first.nngp, first.ntk)
    done, Ks, Ts = closed_forms.layers(dual, first.nngp, first.ntk, depth - 1, C_b, C_W, lam_b, lam_W, keep=layers)
    if done < depth - 1:
        raise _diverged()
    if not layers:
        return Ks, Ts
    return np.concatenate([first.nngp[None], Ks]), (None if Ts is None else np.concatenate([first.ntk[None], Ts]))


def nngp(act, X=None, C_b: float = 0.0, C_W: float = 1.0, depth: int = 1, *, K1=None,
         layers: bool = False, tol: float = TOL) -> np.ndarray:
    """The NNGP kernel K⁽ᵈᵉᵖᵗʰ⁾ (N×N) of an MLP with `depth` layers on the inputs X (N × n₀),
    or from the first layer's kernel K1; layers=True gives all of K⁽¹⁾…K⁽ᵈᵉᵖᵗʰ⁾, (depth, N, N).
    tol: the Hermite truncation bound relative to √(K_ii K_jj) (see actlab.theory.dual).

        >>> import numpy as np
        >>> K = nngp("relu", np.eye(2), C_b=0.0, C_W=2.0, depth=3)   # orthogonal unit inputs, n₀ = 2
        >>> np.round(K, 6).tolist()
        [[1.0, 0.493731], [0.493731, 1.0]]
    """
    return _run(act, X, K1, C_b, C_W, depth, "ntk", False, layers, tol)[0]


def ntk(act, X=None, C_b: float = 0.0, C_W: float = 1.0, depth: int = 1, *, K1=None,
        parameterization: str = "ntk", layers: bool = False, tol: float = TOL) -> np.ndarray:
    """The NTK Θ⁽ᵈᵉᵖᵗʰ⁾ (N×N) of an MLP with `depth` layers (see the module docstring);
    layers=True gives Θ⁽¹⁾…Θ⁽ᵈᵉᵖᵗʰ⁾, (depth, N, N)."""
    return _run(act, X, K1, C_b, C_W, depth, parameterization, True, layers, tol)[1]
