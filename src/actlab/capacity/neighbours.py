"""Compiled sampling of the Hamming sphere around a binary configuration: how many neighbours solve.

For a configuration W (K, n) of ±1 weights and k ≤ N = K·n, a draw flips k distinct weights chosen
uniformly (a partial Fisher–Yates shuffle of a kept permutation: O(k) per draw, each draw an
independent uniform k-subset) and asks whether the flipped configuration still solves every pattern.

Incremental fields: with the raw fields h_lμ = W_l·ξ_lμ of W computed once, a draw's fields are
    h'_lμ = h_lμ − 2 Σ_{i flipped in unit l} W_li ξ_lμi,
so a pattern costs O(k + K) instead of O(N), and the draw stops at its first violated pattern
(y_μ Σ_l c_l g(h'_lμ) ≤ 0, ties are errors as in `machine.py`). Patterns are visited in the order of
W's own output margin y_μ o_μ (smallest first): the fragile patterns fail first, so a failing draw
usually ends after a few patterns. The order changes the cost, never the answer.

Patterns are float64 in the layout (G, P, n) (a pattern's inputs contiguous); with ±1 entries every
field is an exact integer. numba because a draw is a short sequential loop with an early exit,
which a vectorised formulation would have to run to the end for every draw.
"""
from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, inline="always")
def _unit(v: float, relu: bool) -> float:  # pragma: no cover - compiled
    """g(v): max(v, 0) (ReLU) or sign(v) with sign(0) = 0."""
    if relu:
        return v if v > 0.0 else 0.0
    return float((v > 0.0) - (v < 0.0))


@numba.njit(cache=True)
def base_fields(X: np.ndarray, W: np.ndarray, tree: bool) -> np.ndarray:  # pragma: no cover - compiled
    """h (K, P) = W_l · ξ_lμ for X (G, P, n), W (K, n)."""
    K, n = W.shape
    P = X.shape[1]
    h = np.zeros((K, P))
    for l in range(K):
        g = l if tree else 0
        for mu in range(P):
            s = 0.0
            for i in range(n):
                s += W[l, i] * X[g, mu, i]
            h[l, mu] = s
    return h


@numba.njit(cache=True)
def solves_after_flips(X: np.ndarray, y: np.ndarray, c: np.ndarray, W: np.ndarray, h: np.ndarray,
                       order: np.ndarray, flips: np.ndarray, k: int, tree: bool, relu: bool,
                       shift: np.ndarray) -> bool:  # pragma: no cover - compiled
    """True when W with the weights flips[:k] (flat indices l·n + i) flipped solves every pattern.

    h: W's fields (K, P); order: the patterns in the order to test them; shift: scratch of size K.
    """
    K, n = W.shape
    for mu in order:
        shift[:] = 0.0
        for j in range(k):
            l = flips[j] // n
            i = flips[j] % n
            shift[l] -= 2.0 * W[l, i] * X[l if tree else 0, mu, i]
        out = 0.0
        for l in range(K):
            out += c[l] * _unit(h[l, mu] + shift[l], relu)
        if y[mu] * out <= 0.0:
            return False
    return True


@numba.njit(cache=True)
def count_solving_neighbours(X: np.ndarray, y: np.ndarray, c: np.ndarray, W: np.ndarray, k: int, tree: bool,
                             relu: bool, max_draws: int, stop_hits: int, seed: int) -> tuple:  # pragma: no cover
    """(hits, draws): draws of k flips around W until `stop_hits` solving neighbours or `max_draws` draws."""
    np.random.seed(seed)
    K, n = W.shape
    N = K * n
    h = base_fields(X, W, tree)
    margin = np.zeros(y.shape[0])
    for mu in range(y.shape[0]):
        o = 0.0
        for l in range(K):
            o += c[l] * _unit(h[l, mu], relu)
        margin[mu] = y[mu] * o
    order = np.argsort(margin, kind="mergesort")
    perm = np.arange(N)
    shift = np.zeros(K)
    hits = 0
    draws = 0
    while draws < max_draws and hits < stop_hits:
        for j in range(k):                         # partial Fisher–Yates: perm[:k] is a uniform k-subset
            r = j + np.random.randint(N - j)
            perm[j], perm[r] = perm[r], perm[j]
        hits += solves_after_flips(X, y, c, W, h, order, perm, k, tree, relu, shift)
        draws += 1
    return hits, draws
