"""Empirical (algorithmic) capacity, robustness of solutions and local entropy.

- `capacity_scan`: fraction of B random instances a solver satisfies at each α = P/N,
  with Wilson 95 % intervals, and `alpha_at_half`: the α where half are solved, from a
  maximum-likelihood logistic fit p(α) = 1/(1 + exp((α − α½)/w)) with a parametric
  bootstrap 95 % interval. The α½ of a heuristic solver is an ALGORITHMIC capacity,
  a lower estimate of the true one.
- `extrapolate_threshold`: α½(N) → N = ∞ by the weighted least-squares fit α½(N) = α∞ + a N^(−ν)
  (ν = ½ by default, the finite-size window of a sharp threshold; the fit form is a choice, stated
  with the result), each α½ weighted by its interval but never finer than the α grid resolves,
  95 % interval of α∞ by a parametric bootstrap of the α½ values.
- `cover_probability`: Cover (1965): P random points in general position in R^N are
  separable through the origin with probability C(P, N)/2^P, C(P, N) = 2 Σ_{k<N} binom(P−1, k).
- `weight_perturbation`: training error vs perturbation of a solution — spherical:
  W_i → W_i(1 + σ η_i), renormalised; binary: flip exactly round(dN) weights.
- `input_noise`: training error vs noise on the inputs — ±1 patterns: each input flipped
  with probability p; Gaussian patterns: ξ → ξ + p η.
- `local_entropy`: binary weights, from the fraction p̂(d) of configurations at Hamming
  distance k = dN from a solution that are solutions:
      S(d) = (1/N) ln[ binom(N, k) p̂(d) ]  ≤  (1/N) ln binom(N, k) ≈ H(d) = −d ln d − (1−d) ln(1−d),
  and the deficit below the ball D(d) = −(1/N) ln p̂(d), the measured counterpart of H − S_LE.
  Dense regions show S(d) close to the ball bound at small d. p̂ comes from uniform draws of k
  flips (compiled, incremental fields: `neighbours.py`) with a Wilson 95 % interval; the draws may
  stop at a fixed number of hits (inverse binomial sampling). This counting estimator is the
  project's choice (reconstruction): p̂ = 0 leaves S(d) unmeasured (−inf) and D bounded below only.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np
import torch
from scipy import optimize, special
from torch import Tensor

from ..errors import ActlabError
from ..progress import track
from .machine import CommitteeMachine, Problem, random_problem, spherical_normalize
from .neighbours import count_solving_neighbours
from .solvers import solve


@dataclass
class CapacityScan:
    """P(solved) over an α grid for one (activation, K, weights, N, solver)."""

    activation: str
    K: int
    weights: str
    N: int
    solver: str
    alphas: list[float]
    solved: list[int]
    instances: int
    seconds: float
    alpha_half: float = math.nan
    alpha_half_ci: tuple[float, float] = (math.nan, math.nan)
    extra: dict = field(default_factory=dict)

    @property
    def fractions(self) -> list[float]:
        return [s / self.instances for s in self.solved]

    def wilson(self, z: float = 1.96) -> list[tuple[float, float]]:
        """Wilson score interval of each fraction."""
        return [wilson_interval(s, self.instances, z) for s in self.solved]

    def as_dict(self) -> dict:
        return {"activation": self.activation, "K": self.K, "weights": self.weights, "N": self.N,
                "solver": self.solver, "alphas": self.alphas, "solved": self.solved, "instances": self.instances,
                "fractions": self.fractions, "wilson95": self.wilson(), "alpha_half": self.alpha_half,
                "alpha_half_ci95": list(self.alpha_half_ci), "seconds": self.seconds, **self.extra}


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a binomial fraction successes/n (95 % at z = 1.96)."""
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def cover_probability(P: int, N: int) -> float:
    """C(P, N)/2^P: probability that P random ±labelled points in general position in R^N are separable."""
    return float(2.0 * sum(math.comb(P - 1, k) for k in range(min(N, P))) / 2.0**P)


def _logistic_fit(alphas: np.ndarray, solved: np.ndarray, n: np.ndarray) -> float:
    """Maximum-likelihood α½ of p(α) = expit((α½ − α)/w)."""
    span = float(alphas.max() - alphas.min()) or 1.0

    def nll(theta):
        a0, logw = theta
        z = (a0 - alphas) / math.exp(logw)
        return -float(np.sum(solved * special.log_expit(z) + (n - solved) * special.log_expit(-z)))

    frac = solved / n
    start = float(np.interp(0.5, frac[::-1], alphas[::-1])) if frac.max() >= 0.5 >= frac.min() else float(alphas.mean())
    res = optimize.minimize(nll, np.array([start, math.log(span / 10)]), method="Nelder-Mead",
                            options={"xatol": 1e-6, "fatol": 1e-9})
    return float(res.x[0])


def alpha_at_half(alphas: Sequence[float], solved: Sequence[int], instances: int | Sequence[int], *,
                  bootstrap: int = 200, seed: int = 0) -> tuple[float, tuple[float, float]]:
    """α where half the instances are solved, with a parametric-bootstrap 95 % interval.

    instances: one count for every load, or one per load. Returns nan when the grid does not bracket 50 %
    (all fractions above or all below ½).
    """
    a = np.asarray(alphas, dtype=float)
    s = np.asarray(solved, dtype=float)
    instances = np.broadcast_to(np.asarray(instances, dtype=np.int64), a.shape)
    frac = s / instances
    if not (frac.max() >= 0.5 >= frac.min()):
        return math.nan, (math.nan, math.nan)
    value = _logistic_fit(a, s, instances)
    rng = np.random.default_rng(seed)
    boots = [_logistic_fit(a, rng.binomial(instances, frac).astype(float), instances) for _ in range(bootstrap)]
    lo, hi = np.percentile(boots, [2.5, 97.5])
    return value, (float(lo), float(hi))


def capacity_scan(activation: str, K: int, weights: str, N: int, alphas: Sequence[float], *, instances: int = 32,
                  solver: str = "gd", patterns: str = "pm1", tree: bool = True, seed: int = 0, device=None,
                  progress: bool = False, solver_options: Optional[dict] = None, bootstrap: int = 200) -> CapacityScan:
    """Solve `instances` random problems at each α and count the solved ones (one batched call per α).

    The instances of load j come from a generator seeded seed·1000 + j (the solver's randomness too), so one
    seed gives every budget or schedule the same instances (paired comparisons). `extra` records, per load,
    each instance's outcome (instance_solved, 0/1) and the solver steps it used (instance_steps: sweeps,
    optimiser steps or BP iterations), and the process CPU seconds of the whole scan (cpu_seconds; `seconds`
    is wall time solving).
    """
    if not alphas:
        raise ActlabError("need at least one alpha")
    if any(a <= 0 for a in alphas):
        raise ActlabError(f"alphas must be positive, got {list(alphas)}")
    machine = CommitteeMachine(activation, K, N, tree=tree)
    solved, seconds, cpu0 = [], 0.0, time.process_time()
    per_instance: dict[str, list] = {"instance_solved": [], "instance_steps": []}
    for i, alpha in enumerate(track(alphas, f"{activation} K={K} {weights} N={N}", "alpha", enabled=progress)):
        gen = torch.Generator(device=device or "cpu").manual_seed(seed * 1000 + i)
        problem = random_problem(machine, max(1, round(alpha * N)), instances, patterns=patterns, generator=gen,
                                 device=device)
        res = solve(machine, problem, weights, solver, seed=seed * 1000 + i, **(solver_options or {}))
        solved.append(int(res.solved.sum()))
        seconds += res.seconds
        per_instance["instance_solved"].append(res.solved.int().tolist())
        per_instance["instance_steps"].append(res.steps.tolist())
    scan = CapacityScan(activation, K, weights, N, solver, [float(a) for a in alphas], solved, instances, seconds,
                        extra={**per_instance, "cpu_seconds": time.process_time() - cpu0})
    scan.alpha_half, scan.alpha_half_ci = alpha_at_half(scan.alphas, solved, instances, bootstrap=bootstrap, seed=seed)
    return scan


def extrapolate_threshold(Ns: Sequence[int], values: Sequence[float], cis: Sequence[tuple[float, float]], *,
                          power: float = 0.5, floors: Optional[Sequence[float]] = None, bootstrap: int = 2000,
                          seed: int = 0) -> dict:
    """Fit α½(N) = α∞ + a N^(−power) by weighted least squares, σ_i = max(95 % interval width / 3.92, floor_i).

    floors: the α grid's resolution per point (spacing/√12): a logistic fit whose transition falls between
    two loads of a coarse grid can report an interval far narrower than the grid resolves.

    Returns α∞, its 95 % interval (parametric bootstrap of the α½ values), a, χ² and the degrees of
    freedom. Needs three sizes or more with finite values and intervals.
    """
    N = np.asarray(Ns, dtype=float)
    v = np.asarray(values, dtype=float)
    ci = np.asarray(cis, dtype=float).reshape(len(v), 2)
    floor = np.zeros(len(v)) if floors is None else np.asarray(floors, dtype=float)
    ok = np.isfinite(v) & np.isfinite(ci).all(1)
    if int(ok.sum()) < 3:
        raise ActlabError(f"extrapolation needs α½ at three sizes or more, got {int(ok.sum())}")
    N, v, ci, floor = N[ok], v[ok], ci[ok], floor[ok]
    sigma = np.maximum.reduce([(ci[:, 1] - ci[:, 0]) / 3.92, floor, np.full(len(v), 1e-6)])
    A = np.stack([np.ones_like(N), N ** -power], 1) / sigma[:, None]

    def fit(vals: np.ndarray) -> np.ndarray:
        return np.linalg.lstsq(A, vals / sigma, rcond=None)[0]

    coef = fit(v)
    chi2 = float((((A @ coef) - v / sigma) ** 2).sum())
    rng = np.random.default_rng(seed)
    boots = np.array([fit(v + sigma * rng.standard_normal(len(v)))[0] for _ in range(bootstrap)])
    lo, hi = np.percentile(boots, [2.5, 97.5])
    return {"alpha_inf": float(coef[0]), "alpha_inf_ci95": [float(lo), float(hi)], "slope": float(coef[1]),
            "power": power, "chi2": chi2, "dof": int(len(v) - 2), "sizes": [int(n) for n in N],
            "sigma": [float(x) for x in sigma]}


# ----------------------------------------------------------------------------- robustness

def perturb_weights(W: Tensor, weights: str, level: float, trials: int, generator: torch.Generator) -> Tensor:
    """(B, K, n) -> (B, trials, K, n) perturbed copies (see module docstring)."""
    Wt = W.unsqueeze(1).expand(W.shape[0], trials, *W.shape[1:])
    if weights == "spherical":
        eta = torch.randn(Wt.shape, generator=generator, device=W.device, dtype=W.dtype)
        return spherical_normalize(Wt * (1 + level * eta))
    B, K, n = W.shape
    k = int(round(level * K * n))
    order = torch.rand((B, trials, K * n), generator=generator, device=W.device).argsort(-1)
    flip = torch.zeros((B, trials, K * n), dtype=torch.bool, device=W.device)
    flip.scatter_(-1, order[..., :k], True)
    return torch.where(flip.view(B, trials, K, n), -Wt, Wt)


def weight_perturbation(machine: CommitteeMachine, problem: Problem, W: Tensor, weights: str,
                        levels: Sequence[float], *, trials: int = 64, seed: int = 0) -> dict:
    """Mean training-error fraction and fraction still solving, vs σ (spherical) or d (binary)."""
    gen = torch.Generator(device=W.device).manual_seed(seed)
    err, still = [], []
    for level in levels:
        e = machine.errors(problem.patterns, problem.labels, perturb_weights(W, weights, level, trials, gen))
        err.append(float(e.float().mean()) / problem.P)
        still.append(float((e == 0).float().mean()))
    return {"levels": list(levels), "train_error": err, "still_solution": still}


def input_noise(machine: CommitteeMachine, problem: Problem, W: Tensor, levels: Sequence[float], *,
                trials: int = 16, seed: int = 0) -> dict:
    """Mean training-error fraction when the inputs are corrupted (flip prob. p, or additive p·η)."""
    gen = torch.Generator(device=W.device).manual_seed(seed)
    X, y = problem.patterns, problem.labels
    binary_inputs = bool(((X == 1) | (X == -1)).all())
    err = []
    for p in levels:
        total = 0.0
        for _ in range(trials):
            if binary_inputs:
                flip = torch.rand(X.shape, generator=gen, device=X.device) < p
                Xn = torch.where(flip, -X, X)
            else:
                Xn = X + p * torch.randn(X.shape, generator=gen, device=X.device, dtype=X.dtype)
            total += float(machine.errors(Xn, y, W).float().mean()) / problem.P
        err.append(total / trials)
    return {"levels": list(levels), "train_error": err}


def ball_entropy(d: np.ndarray) -> np.ndarray:
    """H(d) = −d ln d − (1−d) ln(1−d): the entropy of the Hamming ball, upper bound of S(d)."""
    d = np.asarray(d, dtype=float)
    return -special.xlogy(d, d) - special.xlogy(1 - d, 1 - d)


def local_entropy(machine: CommitteeMachine, problem: Problem, W: Tensor, ds: Sequence[float], *,
                  samples: int = 512, successes: Optional[int] = None, seed: int = 0) -> dict:
    """S(d) = (1/N) ln[binom(N, k) p̂(d)], k = round(dN), around each given solution (binary weights, ±1 patterns).

    p̂ = hits/draws: `samples` uniform draws of k flips (`neighbours.count_solving_neighbours`, compiled,
    incremental fields), or fewer when `successes` is given: then the draws stop at that many hits
    (inverse binomial sampling, which spends draws only where p̂ is small). Per solution and d: hits,
    draws, the Wilson 95 % interval of p̂, S and the deficit D = −(1/N) ln p̂ = (1/N) ln binom(N, k) − S
    with its interval [−(1/N) ln p_hi, −(1/N) ln p_lo] (p̂ = 0: S = −inf, D = nan, and only the lower
    bound −(1/N) ln p_hi is known). Across the solutions: the mean S (−inf if any p̂ = 0) and mean p̂.
    """
    if samples < 1 or (successes is not None and successes < 1):
        raise ActlabError(f"samples and successes must be positive, got {samples}, {successes}")
    N = machine.K * machine.n
    ks = [int(round(d * N)) for d in ds]
    if not ds or any(not 0 <= k <= N for k in ks):
        raise ActlabError(f"distances d must lie in [0, 1], got {list(ds)}")
    X = problem.patterns.detach().cpu().double().numpy()
    y = problem.labels.detach().cpu().double().numpy()
    Wn = W.detach().cpu().double().numpy()
    if Wn.ndim != 3 or not (np.abs(Wn) == 1).all() or not (np.abs(X) == 1).all():
        raise ActlabError("local_entropy needs binary ±1 weights (B, K, n) and ±1 patterns")
    c = machine.readout(dtype=torch.float64).numpy()
    relu = machine.activation == "relu"
    stop = successes if successes is not None else samples + 1
    out: dict = {"d": list(ds), "k": ks, "local_entropy": [], "ball_bound": [], "H": ball_entropy(np.asarray(ds)).tolist(),
                 "p_hat": [], "hits": [], "draws": [], "p_wilson95": [], "S": [], "deficit": [], "deficit_ci95": []}
    for j, k in enumerate(ks):
        log_binom = float(special.gammaln(N + 1) - special.gammaln(k + 1) - special.gammaln(N - k + 1))
        rows = [count_solving_neighbours(X[b if X.shape[0] > 1 else 0], y[b], c, np.ascontiguousarray(Wn[b]), k,
                                         machine.tree, relu, samples, stop, seed * 1_000_003 + 1009 * j + b)
                for b in range(Wn.shape[0])]
        hits, draws = [int(h) for h, _ in rows], [int(n) for _, n in rows]
        p = np.array(hits, dtype=float) / np.array(draws)
        ci = [wilson_interval(h, n) for h, n in zip(hits, draws)]
        with np.errstate(divide="ignore"):
            S = (log_binom + np.log(p)) / N
            bounds = [[float(-np.log(hi) / N), float(-np.log(lo) / N)] for lo, hi in ci]
        out["hits"].append(hits)
        out["draws"].append(draws)
        out["p_wilson95"].append([list(b) for b in ci])
        out["S"].append(S.tolist())
        out["deficit"].append([float(-np.log(q) / N) if q > 0 else math.nan for q in p])
        out["deficit_ci95"].append(bounds)
        out["local_entropy"].append(float(np.mean(S)))
        out["ball_bound"].append(log_binom / N)
        out["p_hat"].append(float(p.mean()))
    return out
