"""The local entropy measured around solver solutions at N ≈ 10³, to set beside the RS curves of `geometry.py`.

One cell = (machine, load, solver): `instances` random ±1 problems at α = load × the machine's RS binary
capacity at K = ∞ (`geometry.binary_capacity`: the same relative loads as the theory figure), solved by
plain annealing (`anneal`) or robust-ensemble annealing (`replicated-anneal`, dense-region seeking), and
around every solution the fraction p̂(d) of configurations at Hamming distance d that also solve
(`empirical.local_entropy`), summarised as the deficit D(d) = −(1/N) ln p̂(d), the measured counterpart of
H(d) − S_LE(d). The two solvers of one (machine, load, seed) solve the same problems, so instance b is a
seed shared by both.

Machines: the perceptron (K = 1) and tree committee machines with sign units (K odd) or ReLU units
(K even). The theory is K = ∞, the numerics finite K: the comparison is of trends, not of values.
Summary per d over the solved instances: the mean deficit with its 95 % t-interval when every instance
had a solving neighbour; otherwise a lower bound, the mean of the per-instance bounds −(1/N) ln p_hi
(p_hi the upper end of p̂'s Wilson interval; an instance with p̂ = 0 has only that bound).
"""
from __future__ import annotations

import math
import time
from typing import Optional, Sequence

import numpy as np
import torch

from ..errors import ActlabError
from .empirical import ball_entropy, local_entropy
from .geometry import binary_capacity
from .machine import CommitteeMachine, random_problem
from .solvers import solve

SOLVERS = {"plain": "anneal", "replicated": "replicated-anneal"}
#: schedules: the ones selected for the binary perceptron in docs/results/capacity_study (hinge energy)
DEFAULT_OPTIONS = {"plain": {"sweeps": 3000, "beta": (0.1, 10.0), "energy": "hinge"},
                   "replicated": {"sweeps": 1000, "beta": (0.05, 5.0), "gamma": (0.05, 5.0), "energy": "hinge",
                                  "read_out": "centre"}}


def committee(machine: str, K: int, N: int) -> CommitteeMachine:
    """perceptron (sign, K = 1), relu (K even) or sign (K odd) tree machine with N = K·n inputs."""
    if machine == "perceptron":
        return CommitteeMachine("sign", 1, N)
    if machine not in ("relu", "sign"):
        raise ActlabError(f"unknown machine {machine!r}; allowed: perceptron, relu, sign")
    return CommitteeMachine(machine, K, N)


def measure_cell(machine: str, K: int, N: int, load: float, solver: str, ds: Sequence[float], *,
                 instances: int = 4, seed: int = 0, samples: int = 200_000, successes: int = 400,
                 solver_options: Optional[dict] = None) -> dict:
    """Solve `instances` problems at load × α_c(machine) with `solver` (plain | replicated) and measure p̂(d)
    around each solution (at most `samples` draws per d, stopping at `successes` hits)."""
    if solver not in SOLVERS:
        raise ActlabError(f"unknown solver {solver!r}; allowed: {', '.join(SOLVERS)}")
    if not 0 < load < 1:
        raise ActlabError(f"load is a fraction of the capacity in (0, 1), got {load}")
    m = committee(machine, K, N)
    alpha_c = binary_capacity(machine)
    P = max(1, round(load * alpha_c * m.N))
    problem = random_problem(m, P, instances, generator=torch.Generator().manual_seed(seed))
    options = {**DEFAULT_OPTIONS[solver], **(solver_options or {})}
    res = solve(m, problem, "binary", SOLVERS[solver], seed=seed, **options)
    ok = res.solved.cpu().numpy()
    cell = {"machine": machine, "activation": m.activation, "K": m.K, "N": m.N, "load": load, "alpha_c_rs_kinf": alpha_c,
            "alpha": P / m.N, "P": P, "solver": solver, "solver_name": SOLVERS[solver],
            "options": {k: list(v) if isinstance(v, tuple) else v for k, v in options.items()},
            "seed": seed, "instances": instances, "solved": [bool(s) for s in ok],
            "proposals": res.steps.cpu().tolist(), "solve_seconds": res.seconds, "samples": samples,
            "successes": successes}
    t0 = time.process_time()
    if ok.any():
        idx = np.flatnonzero(ok)
        sub = type(problem)(problem.patterns[idx], problem.labels[idx])
        cell["entropy"] = local_entropy(m, sub, res.weights[idx], list(ds), samples=samples, successes=successes,
                                        seed=seed)
        cell["entropy"]["instances"] = idx.tolist()
    cell["measure_cpu_seconds"] = time.process_time() - t0
    return cell


def deficit_summary(cell: dict) -> list[dict]:
    """Per d: the mean deficit over the solved instances with its 95 % t-interval, or a lower bound."""
    from scipy.stats import t

    ent = cell.get("entropy")
    if not ent:
        return []
    rows = []
    for j, d in enumerate(ent["d"]):
        values = np.array(ent["deficit"][j], dtype=float)
        lows = np.array([b[0] for b in ent["deficit_ci95"][j]])
        n = len(values)
        row = {"d": d, "k": ent["k"][j], "n": n, "hits": ent["hits"][j], "draws": ent["draws"][j]}
        if np.isfinite(values).all():
            mean = float(values.mean())
            half = float(t.ppf(0.975, n - 1) * values.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
            row.update(kind="mean", deficit=mean, lo=mean - half, hi=mean + half)
        else:
            row.update(kind="lower bound", deficit=float(lows.mean()), lo=float(lows.mean()), hi=math.inf)
        rows.append(row)
    return rows


def per_instance_deficit(cell: dict, d: float, *, bounds: bool = False) -> dict:
    """instance -> deficit at distance d: NaN where p̂ = 0, or with `bounds` that instance's lower bound
    −(1/N) ln p_hi. Empty when the cell has no solution or no such d."""
    ent = cell.get("entropy") or {}
    if "d" not in ent:
        return {}
    j = int(np.argmin(np.abs(np.asarray(ent["d"]) - d)))
    if abs(ent["d"][j] - d) > 1e-12:
        return {}
    return {b: (lo if bounds and not math.isfinite(v) else v)
            for b, v, (lo, _) in zip(ent["instances"], ent["deficit"][j], ent["deficit_ci95"][j])}


def theory_deficit_curve(curve: dict) -> tuple[np.ndarray, np.ndarray]:
    """(d, H(d) − S(d)) of a theory curve of `actlab capacity geometry --json` (entropy None where the saddle
    was lost), at the points where the deficit is finite and positive."""
    d = np.asarray(curve["d"], dtype=float)
    deficit = ball_entropy(d) - np.array([np.nan if v is None else v for v in curve["entropy"]], dtype=float)
    ok = np.isfinite(deficit) & (deficit > 0)
    return d[ok], deficit[ok]


def theory_deficit(theory: Sequence[dict], machine: str, kind: str, load: float, d: float) -> float:
    """H(d) − S(d) of the theory curve of (machine, kind, load), interpolated linearly in (ln d, ln(H − S))
    between its points; NaN outside them, or when there is no such curve with two points."""
    for c in theory:
        if c["machine"] == machine and c["kind"] == kind and abs(c["load"] - load) < 1e-9:
            x, deficit = theory_deficit_curve(c)
            if len(x) < 2:
                return math.nan
            return float(np.exp(np.interp(np.log(d), np.log(x), np.log(deficit), left=np.nan, right=np.nan)))
    return math.nan
