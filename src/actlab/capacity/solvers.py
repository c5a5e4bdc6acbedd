"""Batched solvers for the storage problem: find W with zero training errors.

Every solver handles B independent instances with one tensor operation per step
(`CommitteeMachine.fields` is a single batched matmul), on CPU or CUDA.

- `gradient_descent`: projected Adam on a smooth margin loss. The network is replaced
  by a surrogate with g̃ = softplus(βλ)/β (ReLU) or tanh(βλ) (sign), β growing
  geometrically from β₀ to β₁, and the loss per pattern is the cross-entropy-type
      ℓ = softplus(γ(κ − y·Σ_l c_l g̃(λ_l)/√K)) / γ,
  γ also growing geometrically (schedules: `default_schedule`).
  Spherical weights are renormalised to Σ_i W_li² = n after each step; binary weights
  keep a continuous proxy w ∈ [−1, 1] (clipped) read out as sign(w) in the forward pass
  with a straight-through gradient (BinaryConnect-style). Solutions are always checked
  with the exact network (`CommitteeMachine.errors`).
- `replicated`: the same dynamics for R replicas per instance, each pulled towards the
  replicas' centre with an elastic force of strength γ(t) growing geometrically from
  γ₀ to γ₁ over the run (0.01 → 1), and the centre is the read-out. This is the
  robust-ensemble / local-entropy scheme of
  Baldassi et al. (PNAS 2016; PNAS 2020), which biases the search towards dense
  regions of solutions. The schedule and the surrogate are this project's choices
  (reconstruction, not taken from the papers).
- `anneal`: simulated annealing directly on ±1 weights with energy = number of errors,
  single flips, Metropolis acceptance at inverse temperature growing geometrically;
  compiled (numba) with incremental local-field updates (`annealing.py`).
- `fbp`: focusing belief propagation for binary weights and sign units (perceptron, odd-K committees):
  sequential BP with the Gaussian approximation of each unit's field, a focusing (reinforcement or
  pseudo-reinforcement) field growing over the steps, read out as the sign of the marginals
  (`focusing.py`, compiled). Baldassi et al., PNAS 113, E7655 (2016).
- `exact_solve`: exhaustive enumeration of the 2^N binary weight vectors (`enumeration.py`),
  the ground truth for binary weights at N ≲ 30.
- `lp_feasible`: exact linear-programming separability check for the spherical
  perceptron (K = 1): ∃ w with y_μ w·ξ_μ > 0 ∀μ (scale-free, so the sphere constraint
  is irrelevant), solved as the bounded max-margin LP `lp_margin` and certified either way.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import linprog
from torch import Tensor
from tqdm.auto import tqdm

from ..errors import ActlabError
from .annealing import ENERGIES, anneal_instance, replicated_anneal_instance, unit_kind
from .enumeration import count_solutions
from .focusing import FOCUS_PROTOCOLS, bp_sweep, focus_update, focusing_schedule
from .machine import CommitteeMachine, Problem, WEIGHT_KINDS, random_weights, spherical_normalize

SOLVERS = ("gd", "replicated", "anneal", "replicated-anneal", "fbp", "lp", "exact")


@dataclass
class SolveResult:
    """Per-instance outcome: weights (B, K, n), training errors (B,), steps used (B,)."""

    weights: Tensor
    errors: Tensor
    steps: Tensor
    seconds: float

    @property
    def solved(self) -> Tensor:
        return self.errors == 0


def _progress(total: int, desc: str, progress: bool):
    return tqdm(total=total, desc=desc, disable=not progress, leave=False, mininterval=0.5)


def _surrogate(machine: CommitteeMachine, lam: Tensor, beta: float) -> Tensor:
    if machine.activation == "relu":
        return F.softplus(beta * lam) / beta
    return torch.tanh(beta * lam)


def _read_out(W: Tensor, weights: str) -> Tensor:
    """Centre of the replicas (B, R, K, n) -> (B, K, n): the point the solver reports."""
    centre = W.mean(1)
    if weights == "binary":
        return torch.where(centre >= 0, 1.0, -1.0).to(W.dtype)
    return spherical_normalize(centre)


def default_schedule(machine: CommitteeMachine) -> dict:
    """Surrogate/loss schedules tuned by hand on K ≤ 4, N ≤ 200 (this project's choice, a reconstruction).

    ReLU: β 1 → 20, γ 10 → 100, κ = 0.02. Perceptron: β = 0.5 fixed (tanh nearly linear, no
    saturated wrong patterns), γ 10 → 100, κ = 0. Sign committees: β 0.5 → 5, γ 3 → 30, κ = 0.05.
    """
    if machine.activation == "relu":
        return {"beta": (1.0, 20.0), "sharpness": (10.0, 100.0), "margin": 0.02}
    if machine.K == 1:
        return {"beta": (0.5, 0.5), "sharpness": (10.0, 100.0), "margin": 0.0}
    return {"beta": (0.5, 5.0), "sharpness": (3.0, 30.0), "margin": 0.05}


def _adam_step(W: Tensor, grad: Tensor, m: Tensor, v: Tensor, t: int, lr: float, mask: Tensor,
               betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
    """In-place Adam update of the rows where `mask` is true (solved instances stay where they are).

    Written out rather than torch.optim.Adam: every instance is independent, and the
    optimizer's first step carries a large one-off import cost.
    """
    m.mul_(betas[0]).add_(grad, alpha=1 - betas[0])
    v.mul_(betas[1]).addcmul_(grad, grad, value=1 - betas[1])
    step = (m / (1 - betas[0] ** t)) / ((v / (1 - betas[1] ** t)).sqrt_().add_(eps))
    W.sub_(lr * step * mask)


def replicated(machine: CommitteeMachine, problem: Problem, weights: str, *, replicas: int = 5,
               max_steps: int = 2000, lr: float = 0.05, margin: Optional[float] = None,
               sharpness: Optional[tuple[float, float]] = None, beta: Optional[tuple[float, float]] = None,
               coupling: tuple[float, float] = (1e-2, 1.0),
               check_every: int = 10, seed: int = 0, progress: bool = False) -> SolveResult:
    """Robust-ensemble gradient descent (module docstring); replicas=1 is plain GD.

    beta: surrogate sharpness schedule (start, end); sharpness: loss sharpness γ schedule;
    margin: κ in units of the output Σ c g̃ / √K. None takes `default_schedule(machine)`.
    """
    defaults = default_schedule(machine)
    beta = defaults["beta"] if beta is None else beta
    sharpness = defaults["sharpness"] if sharpness is None else sharpness
    margin = defaults["margin"] if margin is None else margin
    if weights not in WEIGHT_KINDS:
        raise ActlabError(f"unknown weights {weights!r}; allowed: {', '.join(WEIGHT_KINDS)}")
    if replicas < 1 or max_steps < 1:
        raise ActlabError(f"need replicas >= 1 and max_steps >= 1, got {replicas}, {max_steps}")
    X, y = problem.patterns, problem.labels
    B, dev, dtype = y.shape[0], y.device, y.dtype
    gen = torch.Generator(device=dev).manual_seed(seed)
    W = random_weights(machine, B, "spherical", replicas=replicas, generator=gen, device=dev, dtype=dtype)
    if weights == "binary":
        W = W / math.sqrt(machine.n)  # proxy in [-1, 1], small so that signs can still move
    W.requires_grad_(True)
    adam_m, adam_v = torch.zeros_like(W), torch.zeros_like(W)
    c = machine.readout(dev, dtype)
    yr = y.unsqueeze(1)
    best = _read_out(W.detach(), weights)
    errors = machine.errors(X, y, best)
    steps = torch.full((B,), max_steps, device=dev)
    active = errors > 0
    t0 = time.perf_counter()
    bar = _progress(max_steps, f"{'replicated' if replicas > 1 else 'gd'} {weights}", progress)
    for t in range(max_steps):
        if not bool(active.any()):
            break
        frac = t / max(max_steps - 1, 1)
        b = beta[0] * (beta[1] / beta[0]) ** frac
        sh = sharpness[0] * (sharpness[1] / sharpness[0]) ** frac
        Weff = spherical_normalize(W) if weights == "spherical" else W + (torch.sign(W) - W).detach()
        lam = machine.fields(X, Weff) / math.sqrt(machine.n)                  # (B, R, K, P)
        out = torch.einsum("brkp,k->brp", _surrogate(machine, lam, b), c) / math.sqrt(machine.K)
        loss_bp = F.softplus(sh * (margin - yr * out)).mean(-1) / sh   # (B, R)
        if replicas > 1:
            gamma = coupling[0] * (coupling[1] / coupling[0]) ** frac
            centre = W.mean(1, keepdim=True).detach()
            loss_bp = loss_bp + 0.5 * gamma * ((W - centre) ** 2).sum((-1, -2)) / machine.n
        loss = (loss_bp.sum(1) * active).sum()
        (grad,) = torch.autograd.grad(loss, W)
        with torch.no_grad():
            _adam_step(W, grad, adam_m, adam_v, t + 1, lr, active.view(B, 1, 1, 1))
            if weights == "spherical":
                W.copy_(spherical_normalize(W))
            else:
                W.clamp_(-1.0, 1.0)
            if (t + 1) % check_every == 0 or t == max_steps - 1:
                cand = _read_out(W, weights)
                e = machine.errors(X, y, cand)
                newly = active & (e == 0)
                best = torch.where(active.view(B, 1, 1), cand, best)
                errors = torch.where(active, e, errors)
                steps = torch.where(newly, torch.full_like(steps, t + 1), steps)
                active = active & (e > 0)
        bar.update(1)
    bar.close()
    return SolveResult(best.detach(), errors, steps, time.perf_counter() - t0)


def gradient_descent(machine: CommitteeMachine, problem: Problem, weights: str, **options) -> SolveResult:
    """Plain (single-replica) version of `replicated`."""
    options.update(replicas=1)
    return replicated(machine, problem, weights, **options)


def _integer_instances(machine: CommitteeMachine, problem: Problem, weights: str, solver: str) -> tuple:
    """(XT (B|1, G, n, P), y (B, P), c (K,)) as int64 for the compiled binary-weight walks; checks the input."""
    if weights != "binary":
        raise ActlabError(f"{solver} works on binary weights only; use solver 'gd' for spherical weights")
    X = problem.patterns.detach().cpu().numpy()
    if not np.all((X == 1) | (X == -1)):
        raise ActlabError(f"{solver} needs ±1 patterns (exact integer fields); use --patterns pm1")
    XT = np.ascontiguousarray(X.astype(np.int64).transpose(0, 1, 3, 2))        # (B, G, n, P)
    y = problem.labels.detach().cpu().numpy().astype(np.int64)
    c = machine.readout(dtype=torch.float64).numpy().astype(np.int64)
    return XT, y, c


def _check_schedule(solver: str, sweeps: int, energy: str, **pairs: tuple[float, float]) -> None:
    if sweeps < 1:
        raise ActlabError(f"{solver} needs sweeps >= 1, got {sweeps}")
    if energy not in ENERGIES:
        raise ActlabError(f"unknown energy {energy!r}; allowed: {', '.join(ENERGIES)}")
    for name, pair in pairs.items():
        if len(pair) != 2 or not (pair[0] > 0 and pair[1] > 0):
            raise ActlabError(f"{solver} needs a {name} schedule of two positive numbers, got {pair}")


def _result(W: np.ndarray, errors: np.ndarray, steps: np.ndarray, problem: Problem, seconds: float) -> SolveResult:
    dev, dtype = problem.labels.device, problem.labels.dtype
    return SolveResult(torch.from_numpy(W).to(dev, dtype), torch.from_numpy(errors).to(dev),
                       torch.from_numpy(steps).to(dev), seconds)


def anneal(machine: CommitteeMachine, problem: Problem, weights: str = "binary", *, sweeps: int = 200,
           beta: tuple[float, float] = (0.5, 8.0), energy: str = "errors", seed: int = 0,
           progress: bool = False) -> SolveResult:
    """Simulated annealing on ±1 weights (`annealing.anneal_instance`, compiled, incremental local fields).

    Energy 'errors' (count) or 'hinge' (Σ max(0, 1 − y·o)); `sweeps` sweeps of K·n single-flip proposals,
    β geometric from beta[0] to beta[1]. Needs ±1 patterns (integer fields); runs on the CPU, one
    instance after another. steps: proposals made until the instance was solved (or the budget).
    """
    XT, y, c = _integer_instances(machine, problem, weights, "anneal")
    _check_schedule("anneal", sweeps, energy, beta=beta)
    gen = torch.Generator().manual_seed(seed)
    W = random_weights(machine, problem.B, "binary", generator=gen, dtype=torch.float64).numpy().astype(np.int64)
    errors = np.zeros(problem.B, dtype=np.int64)
    steps = np.zeros(problem.B, dtype=np.int64)
    t0 = time.perf_counter()
    for b in tqdm(range(problem.B), desc="anneal binary", disable=not progress, leave=False):
        errors[b], steps[b] = anneal_instance(XT[b if XT.shape[0] > 1 else 0], y[b], c, W[b],
                                              machine.tree, unit_kind(machine.activation, machine.K), energy == "hinge",
                                              sweeps, float(beta[0]), float(beta[1]), seed * 1_000_003 + b)
    return _result(W, errors, steps, problem, time.perf_counter() - t0)


def replicated_anneal(machine: CommitteeMachine, problem: Problem, weights: str = "binary", *, replicas: int = 3,
                      sweeps: int = 200, beta: tuple[float, float] = (0.05, 5.0),
                      gamma: tuple[float, float] = (0.05, 5.0), energy: str = "hinge", read_out: str = "first",
                      seed: int = 0, progress: bool = False) -> SolveResult:
    """Robust-ensemble (replicated) annealing (`annealing.replicated_anneal_instance`, compiled).

    `replicas` y (odd) coupled replicas, the centre traced out; one sweep = y·K·n proposals; β and the
    coupling γ geometric over the sweeps (defaults: the schedule selected for the binary perceptron in
    docs/results/capacity_study). read_out 'first': stop at the first solving replica or centre and report
    it; 'centre': stop only when the centre (majority of the replicas) solves and report the centre.
    steps: proposals made.
    """
    XT, y, c = _integer_instances(machine, problem, weights, "replicated-anneal")
    _check_schedule("replicated-anneal", sweeps, energy, beta=beta, gamma=gamma)
    if read_out not in ("first", "centre"):
        raise ActlabError(f"replicated-anneal read_out is 'first' or 'centre', got {read_out!r}")
    if replicas < 3 or replicas % 2 == 0:
        raise ActlabError(f"replicated-anneal needs an odd number of replicas >= 3 (the centre is their "
                          f"majority), got {replicas}")
    gen = torch.Generator().manual_seed(seed)
    W = random_weights(machine, problem.B, "binary", replicas=replicas, generator=gen,
                       dtype=torch.float64).numpy().astype(np.int64)
    best = np.empty((problem.B, machine.K, machine.n), dtype=np.int64)
    errors = np.zeros(problem.B, dtype=np.int64)
    steps = np.zeros(problem.B, dtype=np.int64)
    t0 = time.perf_counter()
    for b in tqdm(range(problem.B), desc="replicated anneal", disable=not progress, leave=False):
        errors[b], steps[b] = replicated_anneal_instance(
            XT[b if XT.shape[0] > 1 else 0], y[b], c, W[b], machine.tree, unit_kind(machine.activation, machine.K),
            energy == "hinge", sweeps, float(beta[0]), float(beta[1]), float(gamma[0]), float(gamma[1]),
            seed * 1_000_003 + b, best[b], read_out == "centre")
    return _result(best, errors, steps, problem, time.perf_counter() - t0)


def fbp(machine: CommitteeMachine, problem: Problem, weights: str = "binary", *, steps: int = 100, iters: int = 1,
        damping: float = 0.5, protocol: str = "reinforcement", init: float = 0.1, tol: float = 1e-3, seed: int = 0,
        progress: bool = False) -> SolveResult:
    """Focusing belief propagation (`focusing.py`) for binary weights and sign units.

    `steps` focusing steps of the `protocol` ('reinforcement': γ = ∞, y = 1/(1 − ρ); 'pseudo': γ = atanh √ρ,
    y = (2 − ρ)/(1 − ρ); ρ = 0, 1/steps, …), each up to `iters` BP iterations (an iteration: the focusing
    fields, then every pattern once in random order; fewer when the messages move by less than `tol`),
    messages damped by `damping` ∈ [0, 1) and started at fields atanh(init·U(−1, 1)). After each step the
    signs of the marginals are checked by the machine (`CommitteeMachine.errors`); the run stops at zero
    errors. steps in the result: BP iterations made until solved (or the budget).
    """
    if machine.activation != "sign":
        raise ActlabError("fbp: only sign units (the perceptron and odd-K sign committees); ReLU committee "
                          "machines have no fBP message equations here, use anneal or replicated-anneal")
    _integer_instances(machine, problem, weights, "fbp")
    if steps < 1 or iters < 1:
        raise ActlabError(f"fbp needs steps >= 1 and iters >= 1, got {steps}, {iters}")
    if not 0 <= damping < 1 or not 0 < init < 1 or not tol > 0:
        raise ActlabError(f"fbp needs damping in [0, 1), init in (0, 1) and tol > 0, got {damping}, {init}, {tol}")
    if protocol not in FOCUS_PROTOCOLS:
        raise ActlabError(f"unknown fbp protocol {protocol!r}; allowed: {', '.join(FOCUS_PROTOCOLS)}")
    schedule = focusing_schedule(protocol, steps)
    X = problem.patterns.detach().cpu().double()
    labels = problem.labels.detach().cpu().double()
    K, n, P = machine.K, machine.n, problem.P
    W = np.empty((problem.B, K, n))
    errors = np.zeros(problem.B, dtype=np.int64)
    used = np.zeros(problem.B, dtype=np.int64)
    t0 = time.perf_counter()
    for b in tqdm(range(problem.B), desc="fbp", disable=not progress, leave=False):
        xb, yb = X[b if X.shape[0] > 1 else 0], labels[b]
        xs, ys = np.ascontiguousarray(xb.numpy()), np.ascontiguousarray(yb.numpy())
        rng = np.random.default_rng(seed * 1_000_003 + b)
        U = np.arctanh(init * rng.uniform(-1.0, 1.0, (P, K, n)))
        E = np.zeros((K, n))
        H = U.sum(0)
        for gamma, y_rep in schedule:
            for _ in range(iters):
                used[b] += 1
                moved = focus_update(U, E, H, gamma, y_rep, damping)
                if max(moved, bp_sweep(xs, ys, U, H, rng.permutation(P), damping)) < tol:
                    break
            W[b] = np.where(H >= 0, 1.0, -1.0)
            errors[b] = int(machine.errors(xb[None], yb[None], torch.from_numpy(W[b][None]))[0])
            if errors[b] == 0:
                break
    return _result(W, errors, used, problem, time.perf_counter() - t0)


def _highs(c: np.ndarray, **constraints):
    """One HiGHS solve; the dual simplex first, the interior-point method if that does not end optimal."""
    res = None
    for method in ("highs-ds", "highs-ipm"):
        res = linprog(c, method=method, **constraints)
        if res.status == 0:
            return res
    return res


def lp_margin(patterns: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """Largest margin κ* = max κ s.t. y_μ w·ξ_μ ≥ κ ∀μ, |w_i| ≤ 1, κ ≤ 1; returns (κ*, w).

    The box on w and the cap on κ make the LP always feasible (w = 0, κ = 0) and bounded, so
    HiGHS must end at an optimum: the plain feasibility LP (y w·ξ ≥ 1, w free) has no such
    guarantee and ended with HiGHS model status 15 ("unknown") on a share of instances at the
    critical load once N ≥ 100. patterns (P, N), labels (P,).
    """
    P, N = patterns.shape
    Y = labels[:, None] * patterns
    c = np.zeros(N + 1)
    c[-1] = -1.0
    res = _highs(c, A_ub=np.hstack([-Y, np.ones((P, 1))]), b_ub=np.zeros(P),
                 bounds=[(-1.0, 1.0)] * N + [(None, 1.0)])
    if res.status != 0:
        raise ActlabError(f"LP solver ended without an optimum (scipy status {res.status}): {res.message}")
    return float(-res.fun), res.x[:N]


def _farkas_certificate(Y: np.ndarray) -> bool:
    """True when λ ≥ 0, Σλ = 1, Σ_μ λ_μ y_μ ξ_μ = 0 exists (to 1e-7): then no w has y_μ w·ξ_μ > 0 ∀μ."""
    P, N = Y.shape
    res = _highs(np.zeros(P), A_eq=np.vstack([Y.T, np.ones((1, P))]), b_eq=np.r_[np.zeros(N), 1.0],
                 bounds=[(0.0, None)] * P)
    if res.status != 0:
        return False
    scale = max(1.0, float(np.abs(Y).max()))
    return bool(np.abs(Y.T @ res.x).max() <= 1e-7 * scale)


def lp_feasible(patterns: np.ndarray, labels: np.ndarray, *, tol: float = 1e-9) -> bool:
    """Exact separability of (ξ_μ, y_μ) through the origin: ∃ w with y_μ w·ξ_μ > 0 for all μ.

    patterns (P, N), labels (P,). This is the ground truth for the spherical perceptron. Both
    answers are certified: "separable" by checking the LP's w on every pattern, "not separable"
    by a Farkas certificate (a convex combination of the y_μ ξ_μ equal to 0). An instance
    neither certifies raises ActlabError (never seen on random instances).
    """
    kappa, w = lp_margin(patterns, labels)
    Y = labels[:, None] * patterns
    if kappa > tol and bool((Y @ w > 0).all()):
        return True
    if kappa <= tol and _farkas_certificate(Y):
        return False
    raise ActlabError(f"LP separability undecided: margin {kappa:.3g} but the certificate check failed "
                      f"(P={len(labels)}, N={patterns.shape[1]})")


def lp_solve(machine: CommitteeMachine, problem: Problem, weights: str = "spherical",
             progress: bool = False) -> SolveResult:
    """Batched wrapper of `lp_feasible` for the spherical perceptron (K = 1)."""
    if machine.K != 1 or machine.activation != "sign" or weights != "spherical":
        raise ActlabError("solver 'lp' is exact only for the spherical perceptron: "
                          "--act sign --K 1 --weights spherical")
    X = problem.patterns.detach().cpu().double().numpy()
    y = problem.labels.detach().cpu().double().numpy()
    t0 = time.perf_counter()
    ok = []
    for b in tqdm(range(problem.B), desc="lp", disable=not progress, leave=False):
        ok.append(lp_feasible(X[b if X.shape[0] > 1 else 0, 0], y[b]))
    errors = torch.tensor([0 if s else 1 for s in ok], device=problem.labels.device)
    nan_w = torch.full((problem.B, 1, machine.n), float("nan"))
    return SolveResult(nan_w, errors, torch.zeros(problem.B, dtype=torch.long), time.perf_counter() - t0)


def exact_solve(machine: CommitteeMachine, problem: Problem, weights: str = "binary", *,
                progress: bool = False) -> SolveResult:
    """Exhaustive enumeration (`enumeration.count_solutions`): the ground truth for binary weights at small N.

    errors = 0 where a binary solution exists (weights: the first one found), 1 where none does.
    """
    if weights != "binary":
        raise ActlabError("solver 'exact' enumerates binary weights only; use --weights binary")
    t0 = time.perf_counter()
    counts, W = count_solutions(machine, problem, stop_at_first=True, progress=progress)
    errors = torch.from_numpy((counts == 0).astype(np.int64))
    return SolveResult(W, errors, torch.zeros(problem.B, dtype=torch.long), time.perf_counter() - t0)


def solve(machine: CommitteeMachine, problem: Problem, weights: str, solver: str = "gd", *,
          progress: bool = False, seed: int = 0, **options) -> SolveResult:
    """Dispatch by name: 'gd', 'replicated', 'anneal', 'replicated-anneal', 'fbp' (binary), 'lp' (spherical
    perceptron) or 'exact' (binary, small N: exhaustive enumeration).

    For 'lp' and 'exact' the errors are 0/1 (solvable or not); 'lp' returns no weights.
    """
    if solver == "gd":
        return gradient_descent(machine, problem, weights, progress=progress, seed=seed, **options)
    if solver == "replicated":
        return replicated(machine, problem, weights, progress=progress, seed=seed, **options)
    if solver == "anneal":
        return anneal(machine, problem, weights, progress=progress, seed=seed, **options)
    if solver == "replicated-anneal":
        return replicated_anneal(machine, problem, weights, progress=progress, seed=seed, **options)
    if solver == "fbp":
        return fbp(machine, problem, weights, progress=progress, seed=seed, **options)
    if solver == "lp":
        return lp_solve(machine, problem, weights, progress=progress)
    if solver == "exact":
        return exact_solve(machine, problem, weights, progress=progress)
    raise ActlabError(f"unknown solver {solver!r}; allowed: {', '.join(SOLVERS)}")
