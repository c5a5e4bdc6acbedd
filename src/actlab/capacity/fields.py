"""Integer field state of a committee machine on ±1 data, shared by the compiled binary-weight walks.

For ±1 weights and patterns the raw fields h_lμ = Σ_i W_li ξ_lμi are integers, so the state
(h, output fields o_μ = Σ_l c_l g(h_lμ), error count #{μ: y_μ o_μ ≤ 0}) is exact and a single
flip W_li → −W_li changes it by h_lμ → h_lμ − 2 W_li ξ_lμi on unit l only. Patterns are passed
transposed, XT of shape (G, n, P), so that a flip reads one contiguous row XT[g, i].
"""
from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def unit_output(v: int, relu: bool) -> int:  # pragma: no cover - compiled
    """g(v) on an integer field: max(v, 0) (ReLU) or sign(v) with sign(0) = 0."""
    if relu:
        return v if v > 0 else 0
    return (v > 0) - (v < 0)


@numba.njit(cache=True)
def initial_state(XT: np.ndarray, y: np.ndarray, c: np.ndarray, W: np.ndarray, tree: bool,
                  relu: bool) -> tuple:  # pragma: no cover - compiled
    """(h (K, P), o (P,), errors) for weights W (K, n)."""
    K, n = W.shape
    P = y.shape[0]
    h = np.zeros((K, P), dtype=np.int64)
    for l in range(K):
        g = l if tree else 0
        for i in range(n):
            w = W[l, i]
            for mu in range(P):
                h[l, mu] += w * XT[g, i, mu]
    out = np.zeros(P, dtype=np.int64)
    errors = 0
    for mu in range(P):
        for l in range(K):
            out[mu] += c[l] * unit_output(h[l, mu], relu)
        errors += y[mu] * out[mu] <= 0
    return h, out, errors
