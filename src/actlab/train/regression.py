"""A small full-batch regression trainer for networks initialised at an explicit (C_b, C_W).

`fit` (actlab.train.loop) builds its model from a named init scheme; the signal-propagation
experiments need W ~ N(0, C_W/fan_in), b ~ N(0, C_b) at arbitrary points of the
(C_b, C_W) plane and inputs rescaled to a chosen first-layer kernel, so this loop takes a
ready model instead:

    loss = mean (f(x) − y)²,  Adam at `lr` for `steps` full-batch steps.

A non-finite loss stops the run with status "diverged" (the step is reported).
"""
from __future__ import annotations

import math
import time
from typing import Callable, Optional

import torch
from torch import nn

from ..activations.fused import reset_amortisation
from ..nn.init import init_tensor


def init_gaussian(model: nn.Module, C_b: float, C_W: float) -> nn.Module:
    """W ~ N(0, C_W/fan_in), b ~ N(0, C_b) on every Linear of `model` (readout included)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Linear):
                init_tensor(m.weight, m.bias, "critical", c_b=C_b, c_w=C_W)
    return model


def train_regression(model: nn.Module, x_train: torch.Tensor, y_train: torch.Tensor, x_test: Optional[torch.Tensor],
                     y_test: Optional[torch.Tensor], steps: int = 500, lr: float = 1e-3, log_every: int = 50,
                     grad_clip: Optional[float] = None, x_val: Optional[torch.Tensor] = None,
                     y_val: Optional[torch.Tensor] = None,
                     on_log: Optional[Callable[[dict], bool]] = None) -> dict:
    """Train `model` on (x_train, y_train); returns status, train_mse, test_mse,
    train_mse_init, steps, time_s, diverged_at and the history (every `log_every` steps).

    MSEs are also reported relative to the targets' variance of their split (`*_rel`), so
    1 means "no better than predicting the mean". With (x_val, y_val) each logged row and
    the result also carry `val_mse` and `val_mse_rel`; with x_test = None the test split is
    not evaluated at all (a tuning trial). on_log(row) is called with each logged row; when
    it returns True training stops there (a pruned trial), with status "done".
    """
    start = time.perf_counter()
    reset_amortisation()  # the eager/fused choice must not depend on what this process ran before
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    history: list = []
    with torch.no_grad():
        init_mse = float(((model(x_train) - y_train) ** 2).mean())
    status, diverged_at, step = "done", None, 0
    for step in range(1, steps + 1):
        opt.zero_grad(set_to_none=True)
        loss = ((model(x_train) - y_train) ** 2).mean()
        if not torch.isfinite(loss):
            status, diverged_at = "diverged", step
            break
        loss.backward()
        if grad_clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        opt.step()
        if step % log_every == 0 or step == steps:
            row = {"epoch": step, "train_mse": loss.item(), **_split_mse(model, "val", x_val, y_val)}
            history.append(row)
            if on_log is not None and on_log(row):
                break
    with torch.no_grad():
        train_mse = float(((model(x_train) - y_train) ** 2).mean())
    final = {**_split_mse(model, "val", x_val, y_val), **_split_mse(model, "test", x_test, y_test)}
    if status == "done" and not all(math.isfinite(v) for v in (train_mse, *final.values())):
        status, diverged_at = "diverged", step
    if status == "diverged":
        train_mse, final = math.nan, {k: math.nan for k in final}
    var = float(y_train.var()) or 1.0
    return {"status": status, "train_mse": train_mse, "train_mse_rel": train_mse / var, **final,
            "train_mse_init": init_mse, "steps": step, "time_s": time.perf_counter() - start,
            "diverged_at": diverged_at, "history": history}


def _split_mse(model: nn.Module, split: str, x: Optional[torch.Tensor], y: Optional[torch.Tensor]) -> dict:
    """{split_mse, split_mse_rel} of `model` on (x, y): the MSE, and over Var(y); {} without a split."""
    if x is None or y is None:
        return {}
    with torch.no_grad():
        mse = float(((model(x) - y) ** 2).mean())
    return {f"{split}_mse": mse, f"{split}_mse_rel": mse / (float(y.var()) or 1.0)}
