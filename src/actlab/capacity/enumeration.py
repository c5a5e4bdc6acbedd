"""Ground truth for binary weights: exhaustive enumeration of all 2^N weight vectors.

`count_solutions` returns, per instance, the exact number of W ∈ {±1}^N with zero training
errors (the machine's own definition: y·Σ_l c_l g(h_l) ≤ 0 is an error, ties included), so
P(solvable) at small N is known exactly rather than estimated by a solver. It is the reference
the heuristic solvers are judged against (`solvers.exact_solve`, solver "exact").

The walk visits the 2^N configurations in Gray-code order: step t flips the weight whose index
is the number of trailing zeros of t, which changes the raw field of one unit on every pattern
by −2 w_old ξ, so one step costs O(P) integer operations (fields, outputs and the error count
are updated, never recomputed). Compiled with numba: about 2^N · P · 5 ns on the shared test
machine (N = 21, P = 17: 0.2 CPU s per instance; N = 25, P = 20: 3.7 CPU s). `stop_at_first` ends an instance at its first
solution (enough for P(solvable)); the full count also gives the entropy ln(#solutions)/N.
"""
from __future__ import annotations

import numba
import numpy as np
import torch

from ..errors import ActlabError
from .fields import initial_state, unit_output
from .machine import CommitteeMachine, Problem

#: largest N enumerated (2^N configurations per instance)
MAX_N = 34


@numba.njit(cache=True)
def _enumerate(XT: np.ndarray, y: np.ndarray, c: np.ndarray, K: int, n: int, tree: bool, relu: bool,
               stop_at_first: bool) -> tuple:  # pragma: no cover - compiled
    """(number of solutions, first solution found as a ±1 array of K·n, or zeros) for one instance;
    XT (G, n, P) transposed patterns (`fields`)."""
    P = y.shape[0]
    N = K * n
    W = np.ones((K, n), dtype=np.int64)
    w = W.reshape(N)                                  # a view: flips of w are flips of W
    h, out, errors = initial_state(XT, y, c, W, tree, relu)
    count = 0
    first = np.zeros(N, dtype=np.int64)
    if errors == 0:
        count = 1
        first[:] = w
        if stop_at_first:
            return count, first
    total = np.int64(1) << N
    for t in range(1, total):
        bit = 0
        tt = t
        while (tt & 1) == 0:
            tt >>= 1
            bit += 1
        l = bit // n
        g = l if tree else 0
        two_w = 2 * w[bit]
        w[bit] = -w[bit]
        cl = c[l]
        hl = h[l]
        xr = XT[g, bit % n]
        for mu in range(P):
            ho = hl[mu]
            hn = ho - two_w * xr[mu]
            hl[mu] = hn
            d = unit_output(hn, relu) - unit_output(ho, relu)
            if d != 0:
                o_old = out[mu]
                o_new = o_old + cl * d
                out[mu] = o_new
                errors += (y[mu] * o_new <= 0) - (y[mu] * o_old <= 0)
        if errors == 0:
            if count == 0:
                first[:] = w
            count += 1
            if stop_at_first:
                return count, first
    return count, first


def _as_int(t: torch.Tensor, what: str) -> np.ndarray:
    a = t.detach().cpu().numpy()
    if not np.all((a == 1) | (a == -1)):
        raise ActlabError(f"enumeration needs ±1 {what} (exact integer fields); use --patterns pm1")
    return a.astype(np.int64)


def count_solutions(machine: CommitteeMachine, problem: Problem, *, stop_at_first: bool = False,
                    progress: bool = False) -> tuple[np.ndarray, torch.Tensor]:
    """Exact number of binary solutions per instance, and one solution per solvable instance.

    Returns (counts (B,) int64 — with stop_at_first only 0 or 1 —, weights (B, K, n) with a solution
    where one exists and zeros elsewhere). Needs ±1 patterns and K·n ≤ MAX_N weights (K·n = N for a
    tree, K·N fully connected).
    """
    weights = machine.K * machine.n
    if weights > MAX_N:
        raise ActlabError(f"exhaustive enumeration is limited to {MAX_N} weights (2^{MAX_N} configurations), "
                          f"got K·n = {weights}")
    from tqdm.auto import tqdm

    XT = np.ascontiguousarray(_as_int(problem.patterns, "patterns").transpose(0, 1, 3, 2))   # (B, G, n, P)
    y = _as_int(problem.labels, "labels")
    c = machine.readout(dtype=torch.float64).numpy().astype(np.int64)
    counts = np.zeros(problem.B, dtype=np.int64)
    W = np.zeros((problem.B, machine.K * machine.n), dtype=np.int64)
    for b in tqdm(range(problem.B), desc=f"enumerate 2^{weights}", disable=not progress, leave=False):
        counts[b], W[b] = _enumerate(XT[b if XT.shape[0] > 1 else 0], np.ascontiguousarray(y[b]), c, machine.K,
                                     machine.n, machine.tree, machine.activation == "relu", stop_at_first)
    return counts, torch.from_numpy(W.reshape(problem.B, machine.K, machine.n)).to(problem.labels.dtype)

