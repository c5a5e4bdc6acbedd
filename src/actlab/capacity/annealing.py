"""Simulated annealing on binary weights, compiled (numba), with incremental local-field updates.

Energy E(W) = number of training errors (y·Σ_l c_l g(h_l) ≤ 0, ties included), exactly as in
`machine.py`. State kept per instance (`fields.initial_state`): the integer raw fields h_lμ = Σ_i W_li ξ_lμi
of every unit on every pattern, the output fields o_μ = Σ_l c_l g(h_lμ) and E. A proposal flips one weight
W_li; it changes only unit l's fields, h_lμ → h_lμ − 2 W_li ξ_lμi, so ΔE costs one pass over the
P patterns (no matmul), and an accepted flip updates h and o in place from the same pass.

Schedule: `sweeps` sweeps of N = K·n proposals each, the weight index drawn uniformly;
Metropolis acceptance min(1, e^{−β ΔE}) with β growing geometrically from β₀ to β₁ over the
sweeps; an instance stops at E = 0. The schedule and energy are this project's choices (the
plain error count, as in the literature's simplest SA baselines).
"""
from __future__ import annotations

import math

import numba
import numpy as np

from .fields import initial_state


@numba.njit(cache=True)
def anneal_instance(XT: np.ndarray, y: np.ndarray, c: np.ndarray, W: np.ndarray, tree: bool, relu: bool,
                    sweeps: int, beta0: float, beta1: float, seed: int) -> tuple:  # pragma: no cover - compiled
    """Anneal one instance in place: XT (G, n, P) (patterns transposed, so that a flip reads one
    contiguous row), y (P,), c (K,), W (K, n), all int64, ±1.

    Returns (final errors, proposals made).
    """
    np.random.seed(seed)
    K, n = W.shape
    P = y.shape[0]
    N = K * n
    h, out, energy = initial_state(XT, y, c, W, tree, relu)
    out_new = np.empty(P, dtype=np.int64)
    proposals = 0
    ratio = beta1 / beta0
    for sweep in range(sweeps):
        if energy == 0:
            break
        beta = beta0 * ratio ** (sweep / max(sweeps - 1, 1))
        for _ in range(N):
            k = np.random.randint(N)
            l = k // n
            i = k % n
            g = l if tree else 0
            two_w = 2 * W[l, i]
            cl = c[l]
            hl = h[l]
            xr = XT[g, i]
            delta = 0
            for mu in range(P):                       # branch-free: the loop the compiler vectorises
                ho = hl[mu]
                hn = ho - two_w * xr[mu]
                if relu:
                    d = max(hn, 0) - max(ho, 0)
                else:
                    d = (hn > 0) - (hn < 0) - (ho > 0) + (ho < 0)
                o = out[mu]
                dn = o + cl * d
                out_new[mu] = dn
                delta += (y[mu] * dn <= 0) - (y[mu] * o <= 0)
            proposals += 1
            if delta <= 0 or np.random.random() < math.exp(-beta * delta):
                W[l, i] = -W[l, i]
                for mu in range(P):
                    hl[mu] -= two_w * xr[mu]
                    out[mu] = out_new[mu]
                energy += delta
                if energy == 0:
                    return energy, proposals
    return energy, proposals
