"""Physics-informed training: Adam, then L-BFGS, on residual + condition losses.

    loss(θ) = mean_i r(x_i; u_θ)²  +  Σ_c mean_j (u_θ(y_cj) − g_c(y_cj))²

r is the PDE residual by autograd (`PDEProblem.residual`), x_i the collocation points
and (y_cj, g_c) the samples of each initial/boundary condition c; both point sets are
drawn once (seeded) and kept fixed, as in Raissi, Perdikaris & Karniadakis (2019).
The schedule (Adam at `lr` for `adam_steps`, then full-batch L-BFGS with strong-Wolfe
line search for `lbfgs_steps` iterations) is the one common in the PINN literature; the
MRePU paper's exact budgets are not known to us (reconstruction).

    >>> from actlab.data.pde import get_pde
    >>> res = train_pinn(get_pde("poisson1d"), PINNConfig(act="tanh", adam_steps=500, lbfgs_steps=200))
    >>> res.rel_l2 < 1e-2
    True

Residuals use second derivatives of u, hence σ'' (and σ''' for the weight gradients):
ReLU's σ'' is 0 almost everywhere, so a ReLU PINN cannot represent u_xx at all, and
C¹ units such as MRePU p = 2 have a σ'' that jumps; smooth units have the advantage.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Optional

import torch

from ..activations.fused import reset_amortisation
from ..data.pde import PDEProblem
from ..errors import ActlabError
from ..nn.pinn import PINNNet


@dataclass
class PINNConfig:
    """One PINN run: network (act, depth hidden layers of width units, init scheme),
    point budget (n_collocation interior points, n_condition points per condition),
    optimiser budget (adam_steps at lr, then lbfgs_steps L-BFGS iterations), seed and
    dtype ("float32" or "float64"); eval_points per axis for the relative L2 error (the test
    grid); val_points > 0: that many random interior points, seeded apart from the collocation
    points, on which `val_rel_l2` is measured (a validation set for tuning, disjoint in kind from the
    test grid); eval_test = False leaves the test grid out (a tuning trial)."""

    act: str = "tanh"
    depth: int = 4
    width: int = 32
    init: str = "xavier"
    n_collocation: int = 1000
    n_condition: int = 100
    adam_steps: int = 1000
    lr: float = 1e-3
    lbfgs_steps: int = 500
    seed: int = 0
    dtype: str = "float64"
    eval_points: int = 101
    val_points: int = 0
    eval_test: bool = True

    def __post_init__(self) -> None:
        for key in ("depth", "width", "n_collocation", "n_condition", "eval_points"):
            if not isinstance(getattr(self, key), int) or getattr(self, key) < 1:
                raise ActlabError(f"PINN: {key} must be an integer >= 1; got {getattr(self, key)!r}")
        for key in ("adam_steps", "lbfgs_steps", "seed", "val_points"):
            if not isinstance(getattr(self, key), int) or getattr(self, key) < 0:
                raise ActlabError(f"PINN: {key} must be an integer >= 0; got {getattr(self, key)!r}")
        if not (isinstance(self.lr, (int, float)) and self.lr > 0):
            raise ActlabError(f"PINN: lr must be > 0; got {self.lr!r}")
        if self.dtype not in ("float32", "float64"):
            raise ActlabError(f"PINN: dtype must be float32 or float64; got {self.dtype!r}")


@dataclass
class PINNResult:
    """rel_l2 = ‖u − u_ref‖/‖u_ref‖ on the evaluation grid (NaN when not evaluated), val_rel_l2
    the same on the validation points (NaN without them); loss/residual_loss/condition_loss
    at the end; status "done" or "diverged" (non-finite loss, `diverged_at` = step);
    history: one row per logged step."""

    status: str
    rel_l2: float
    loss: float
    residual_loss: float
    condition_loss: float
    steps: int
    time_s: float
    history: list = field(default_factory=list)
    diverged_at: Optional[int] = None
    val_rel_l2: float = math.nan

    def as_dict(self) -> dict:
        return asdict(self)


def pinn_loss(net: torch.nn.Module, problem: PDEProblem, collocation: torch.Tensor, conditions) -> tuple:
    """(total, residual part, condition part) of the PINN loss (see module docstring)."""
    residual = problem.residual(net, collocation).pow(2).mean()
    cond = sum(((net(c.points) - c.values) ** 2).mean() for c in conditions)
    return residual + cond, residual, cond


def train_pinn(problem: PDEProblem, cfg: PINNConfig, log_every: int = 100,
               on_log: Optional[Callable[[dict], bool]] = None) -> PINNResult:
    """Train a PINNNet on `problem` as `cfg` says; returns the PINNResult.

    on_log(row) is called with each logged row (every `log_every` Adam steps, and once after
    L-BFGS; rows carry `val_rel_l2` when cfg.val_points > 0); when it returns True training
    stops there (a pruned tuning trial), with status "done"."""
    dtype = getattr(torch, cfg.dtype)
    reset_amortisation()  # the eager/fused choice must not depend on what this process ran before
    torch.manual_seed(cfg.seed)
    net = PINNNet(problem.dim, 1, depth=cfg.depth, width=cfg.width, act=cfg.act, init=cfg.init).to(dtype)
    collocation = problem.sample_collocation(cfg.n_collocation, seed=cfg.seed, dtype=dtype).requires_grad_(True)
    conditions = problem.sample_conditions(cfg.n_condition, seed=cfg.seed + 1, dtype=dtype)
    # Seeded apart from the training points; drawing them changes nothing else in the run.
    val = problem.sample_collocation(cfg.val_points, seed=cfg.seed + 0x7A1, dtype=dtype) if cfg.val_points else None
    history: list = []
    start = time.perf_counter()
    step = 0

    def record(phase: str, parts) -> bool:
        row = {"step": step, "phase": phase, "loss": parts[0].item(),
               "residual_loss": parts[1].item(), "condition_loss": parts[2].item()}
        if val is not None:
            row["val_rel_l2"] = problem.relative_l2(net, points=val)
        history.append(row)
        return on_log is not None and bool(on_log(row))

    def diverged() -> PINNResult:
        return PINNResult("diverged", math.nan, math.nan, math.nan, math.nan, step,
                          time.perf_counter() - start, history, diverged_at=step)

    opt = torch.optim.Adam(net.parameters(), lr=cfg.lr)
    stopped = False
    for step in range(1, cfg.adam_steps + 1):
        opt.zero_grad(set_to_none=True)
        parts = pinn_loss(net, problem, collocation, conditions)
        if not torch.isfinite(parts[0]):
            return diverged()
        parts[0].backward()
        opt.step()
        if step % log_every == 0 and record("adam", parts):
            stopped = True
            break

    if cfg.lbfgs_steps and not stopped:
        lbfgs = torch.optim.LBFGS(net.parameters(), lr=1.0, max_iter=cfg.lbfgs_steps, history_size=50,
                                  tolerance_grad=1e-12, tolerance_change=1e-14, line_search_fn="strong_wolfe")

        def closure():
            lbfgs.zero_grad(set_to_none=True)
            loss = pinn_loss(net, problem, collocation, conditions)[0]
            if torch.isfinite(loss):
                loss.backward()
            return loss

        lbfgs.step(closure)
        step += lbfgs.state[next(iter(net.parameters()))].get("n_iter", 0)

    parts = pinn_loss(net, problem, collocation, conditions)
    if not torch.isfinite(parts[0]):
        return diverged()
    if not stopped:
        record("end", parts)
    rel = problem.relative_l2(net, n_points=cfg.eval_points) if cfg.eval_test else math.nan
    val_rel = problem.relative_l2(net, points=val) if val is not None else math.nan
    finite = all(math.isfinite(v) for v, used in ((rel, cfg.eval_test), (val_rel, val is not None)) if used)
    return PINNResult("done" if finite else "diverged", rel, parts[0].item(), parts[1].item(),
                      parts[2].item(), step, time.perf_counter() - start, history,
                      diverged_at=None if finite else step, val_rel_l2=val_rel)
