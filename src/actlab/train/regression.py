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
from typing import Optional

import torch
from torch import nn

from ..nn.init import init_tensor


def init_gaussian(model: nn.Module, C_b: float, C_W: float) -> nn.Module:
    """W ~ N(0, C_W/fan_in), b ~ N(0, C_b) on every Linear of `model` (readout included)."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Linear):
                init_tensor(m.weight, m.bias, "critical", c_b=C_b, c_w=C_W)
    return model


def train_regression(model: nn.Module, x_train: torch.Tensor, y_train: torch.Tensor, x_test: torch.Tensor,
                     y_test: torch.Tensor, steps: int = 500, lr: float = 1e-3, log_every: int = 50,
                     grad_clip: Optional[float] = None) -> dict:
    """Train `model` on (x_train, y_train); returns status, train_mse, test_mse,
    train_mse_init, steps, time_s, diverged_at and the history (every `log_every` steps).

    MSEs are also reported relative to the test targets' variance (`*_rel`), so 1 means
    "no better than predicting the mean".
    """
    start = time.perf_counter()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    var = float(y_test.var()) or 1.0
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
            history.append({"epoch": step, "train_mse": loss.item()})
    with torch.no_grad():
        train_mse = float(((model(x_train) - y_train) ** 2).mean())
        test_mse = float(((model(x_test) - y_test) ** 2).mean())
    if status == "done" and not (math.isfinite(train_mse) and math.isfinite(test_mse)):
        status, diverged_at = "diverged", steps
    if status == "diverged":
        train_mse = test_mse = math.nan
    return {"status": status, "train_mse": train_mse, "test_mse": test_mse, "train_mse_rel": train_mse / var,
            "test_mse_rel": test_mse / var, "train_mse_init": init_mse, "steps": step,
            "time_s": time.perf_counter() - start, "diverged_at": diverged_at, "history": history}
