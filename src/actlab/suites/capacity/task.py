"""The `capacity` task kind: one run of the capacity suite (Baldassi, Malatesta & Zecchina, PRL 123, 170602, 2019).

`part` selects what the run computes, with the library actlab.capacity:

- theory: the replica capacity α_c of a tree committee machine (`replica.alpha_c`: act, K
  — an integer or "inf" —, weights, ansatz; finite-K spherical RS by the exact,
  order-statistics or quasi-Monte Carlo route with `points` × `scrambles` points).
- scan: an algorithmic capacity: `instances` random problems solved at each load of
  `alphas` (`empirical.capacity_scan`), α at 50 % solved with its bootstrap interval.
- robust: solutions of `instances` random problems at the load
  α = load × α_c(theory) (below), then their robustness: the training error and the
  fraction of perturbed weights still solving vs the perturbation level (weight flips d
  for binary weights, multiplicative noise σ for spherical ones), input noise, and for
  binary weights the local entropy S(d) around them (`empirical.local_entropy`).

The loads of `robust` are matched by the THEORETICAL capacity of each machine, not by a
solver-limited empirical α½: spherical weights, the RS α_c at the machine's K; binary
weights, the RS zero-entropy α_c at K = 1 (the perceptron) or, for K > 1, at K = ∞ —
actlab has finite-K binary values for sign units (any odd K, `capacity.binary_tree`) but
none for ReLU, so every binary committee machine is loaded relative to its K → ∞ limit,
ReLU and sign alike, to keep one rule for the two machines compared (stated in the report). The seed draws the problems and
seeds the solver: a suite runs each setting over several seeds and compares them by the
verdict rules (actlab.experiments.verdicts).
"""
from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np

from ...errors import ActlabError
from ...experiments.tasks import Field, RunResult, TaskSchema, register_task

PARTS = ("theory", "scan", "robust")
PLAIN_SOLVER = {"binary": "anneal", "spherical": "gd"}   # the plain solver of each weight kind
SOLVERS = ("anneal", "gd", "replicated", "lp")
BINARY_LEVELS = (0, 1, 2, 3, 5, 8, 12)                   # flipped weights (× 1/N) for binary robustness
SPHERICAL_LEVELS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0)
INPUT_NOISE = (0.0, 0.02, 0.05, 0.1, 0.15)


@lru_cache(maxsize=None)
def theoretical_capacity(act: str, K: int, weights: str) -> tuple:
    """(α_c, what it is) that the robust part's `load` multiplies (see the module docstring)."""
    from ...capacity.replica import alpha_c

    if weights == "spherical":
        e = alpha_c(act, K, "spherical", "rs")
        return e.value, f"RS α_c(K={K}) = {e.value:.4g} ± {e.uncertainty:.1g}"
    if K == 1:
        e = alpha_c(act, 1, "binary", "rs")
        return e.value, f"binary RS α_c (perceptron) = {e.value:.4g}"
    e = alpha_c(act, "inf", "binary", "rs")
    return e.value, f"binary RS zero-entropy α_c at K = ∞ = {e.value:.4g} (every binary committee: no finite-K binary value for ReLU)"


def robust_level(levels: list, still: list) -> float:
    """The perturbation level at which the fraction of perturbed solutions still solving crosses ½
    (linear interpolation); the largest level tried when it never does (a lower bound)."""
    for i in range(1, len(levels)):
        if still[i] < 0.5:
            f0, f1 = still[i - 1], still[i]
            return levels[i - 1] + (levels[i] - levels[i - 1]) * (f0 - 0.5) / max(f0 - f1, 1e-12)
    return float(levels[-1])


def run_theory(config: dict) -> RunResult:
    from ...capacity.replica import alpha_c

    K = config["K"]
    e = alpha_c(config["act"], K, config.get("weights", "spherical"), config.get("ansatz", "rs"),
                **{k: config[k] for k in ("points", "scrambles") if k in config})
    return RunResult(metrics={"alpha_c": e.value, "uncertainty": e.uncertainty},
                     extra={"method": e.method, "message": e.message})


def run_scan(config: dict) -> RunResult:
    from ...capacity.empirical import capacity_scan

    solver, weights = config["solver"], config.get("weights", "spherical")
    opts = ({} if solver == "lp" else {"sweeps": config.get("sweeps", 100)} if solver == "anneal"
            else {"max_steps": config.get("gd_steps", 300)})
    s = capacity_scan(config["act"], config["K"], weights, config["N"], config["alphas"],
                      instances=config.get("instances", 16), solver=solver,
                      patterns="gaussian" if solver == "lp" else "pm1", solver_options=opts, bootstrap=100,
                      seed=config.get("seed", 0))
    lo, hi = s.alpha_half_ci
    return RunResult(metrics={"alpha_half": s.alpha_half, "alpha_half_lo": lo, "alpha_half_hi": hi,
                              "solve_seconds": s.seconds},
                     extra={"scan": {"alphas": s.alphas, "solved": s.solved, "instances": s.instances,
                                     "wilson": s.wilson()}})


def run_robust(config: dict) -> RunResult:
    import torch

    from ...capacity.empirical import input_noise, local_entropy, weight_perturbation
    from ...capacity.machine import CommitteeMachine, random_problem
    from ...capacity.solvers import solve

    act, K, N, weights, solver = config["act"], config["K"], config["N"], config["weights"], config["solver"]
    seed, instances, trials = config.get("seed", 0), config.get("instances", 8), config.get("trials", 64)
    alpha_th, what = theoretical_capacity(act, K, weights)
    alpha = config["load"] * alpha_th
    m = CommitteeMachine(act, K, N)
    prob = random_problem(m, max(1, round(alpha * N)), instances, generator=torch.Generator().manual_seed(seed))
    opts = {"sweeps": config.get("sweeps", 100)} if solver == "anneal" else {"max_steps": config.get("gd_steps", 300)}
    res = solve(m, prob, weights, solver, seed=seed, **opts)
    ok = res.solved
    metrics = {"alpha": prob.P / N, "alpha_theory": alpha_th, "solved": float(ok.float().mean())}
    extra: dict = {"theory": what}
    if not bool(ok.any()):  # nothing to perturb: the metrics below are missing, not zero
        return RunResult(metrics={**metrics, "robust_level": math.nan}, extra=extra)
    sub, W = type(prob)(prob.patterns[ok], prob.labels[ok]), res.weights[ok]
    n_weights = m.K * m.n
    levels = [k / n_weights for k in BINARY_LEVELS] if weights == "binary" else list(SPHERICAL_LEVELS)
    extra["weights"] = weight_perturbation(m, sub, W, weights, levels, trials=trials, seed=seed)
    extra["inputs"] = input_noise(m, sub, W, list(INPUT_NOISE), trials=4, seed=seed)
    metrics["robust_level"] = robust_level(levels, extra["weights"]["still_solution"])
    if weights == "binary":
        extra["entropy"] = local_entropy(m, sub, W, levels[1:], samples=4 * trials, seed=seed)
        s1 = extra["entropy"]["local_entropy"][0]
        metrics["entropy_1"] = s1 if np.isfinite(s1) else math.nan  # S(d = 1/N); −inf when no neighbour solves
    return RunResult(metrics=metrics, extra=extra)


def execute_capacity(config: dict, run_dir: Path) -> RunResult:
    """One run of the capacity suite; `part` says which (see the module docstring)."""
    return {"theory": run_theory, "scan": run_scan, "robust": run_robust}[config["part"]](config)


def _check(config: dict) -> None:
    part = config.get("part")
    if part not in PARTS:
        raise ActlabError(f"the capacity task needs part = one of {', '.join(PARTS)}; got {part!r}")
    need = {"theory": ("act", "K"), "scan": ("act", "K", "N", "solver", "alphas"),
            "robust": ("act", "K", "N", "weights", "solver", "load")}[part]
    missing = [k for k in need if k not in config]
    if missing:
        raise ActlabError(f"the capacity task's part {part} needs {', '.join(missing)}")
    if isinstance(config["K"], str) and config["K"].strip().lower() not in ("inf", "infinity", "∞"):
        raise ActlabError(f"K must be a positive integer or \"inf\"; got {config['K']!r}")
    if part == "scan" and (not config["alphas"] or not all(isinstance(a, (int, float)) and a > 0
                                                            for a in config["alphas"])):
        raise ActlabError(f"alphas must be a non-empty list of positive loads; got {config['alphas']!r}")
    if part == "robust" and not 0 < config["load"]:
        raise ActlabError(f"load (a fraction of the theoretical capacity) must be > 0; got {config['load']!r}")
    if part == "robust" and config["weights"] == "binary" and config["solver"] == "gd":
        raise ActlabError("robust: binary weights are solved by anneal or replicated, not gd")


CAPACITY_SCHEMA = TaskSchema(fields={
    "part": Field(str, choices=PARTS, help="which computation"),
    "act": Field(str, choices=("relu", "sign"), help="hidden-unit activation"),
    "K": Field((int, str), help="hidden units (tree committee machine); theory also \"inf\""),
    "weights": Field(str, choices=("spherical", "binary")),
    "ansatz": Field(str, choices=("rs", "1rsb"), help="theory: replica ansatz"),
    "points": Field(int, help="theory: quasi-Monte Carlo points per scrambling (finite-K ReLU)"),
    "scrambles": Field(int, help="theory: QMC scramblings (the error estimate's sample)"),
    "N": Field(int, help="scan/robust: inputs per hidden unit × K (a multiple of K)"),
    "solver": Field(str, choices=SOLVERS),
    "alphas": Field(list, help="scan: loads α = P/N to solve at"),
    "instances": Field(int, help="scan/robust: random problems per load"),
    "sweeps": Field(int, help="anneal: Monte Carlo sweeps"),
    "gd_steps": Field(int, help="gd/replicated: steps"),
    "load": Field(float, help="robust: α as a fraction of the theoretical capacity"),
    "trials": Field(int, help="robust: perturbations per solution and level"),
    "seed": Field(int, help="draws the problems, seeds the solver"),
}, check=_check)

register_task("capacity", execute_capacity, CAPACITY_SCHEMA,
              "one run of the capacity suite (replica theory, capacity scan, robustness)")
