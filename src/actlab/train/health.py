"""Health of a finished run: `collapsed` is a run that ended without NaN/Inf yet learned nothing usable.

A run is collapsed when either holds at the end of training:

    at chance            classification accuracy ≤ 1/classes + CHANCE_TOL (absolute; 0.02 = two
                         percentage points, about the binomial noise of a 400-image test set at
                         10 % and above what a constant prediction scores on a balanced split)
    gradient vanished    the first hidden layer's gradient norm is 0 or below GRAD_RATIO_FLOOR
                         times the last hidden layer's (probes on): the signal no longer reaches
                         the bottom of the network (in float32 it has underflowed), so the first
                         layer cannot learn whatever the learning rate

The accuracy is the test accuracy, or the validation accuracy where the run kept the test set
out (a tuning trial). "done", "diverged" and "collapsed" are the three endings of a run.
"""
from __future__ import annotations

import math
from typing import Optional

CHANCE_TOL = 0.02
GRAD_RATIO_FLOOR = 1e-8
HINTS = {
    "at chance": "try a lower learning rate, or another init (--init orthogonal or critical)",
    "gradient vanished": "try an init that keeps the gradient through depth (--init critical or orthogonal), "
                         "a norm, or a residual model (resmlp)",
}


def collapse_reason(metrics: dict, num_classes: Optional[int]) -> Optional[str]:
    """'at chance', 'gradient vanished' or None (see the module docstring); `metrics` are fit's final
    metrics, `num_classes` None for regression."""
    acc = metrics.get("test_acc", metrics.get("val_acc"))
    if num_classes and acc is not None and math.isfinite(acc) and acc <= 1.0 / num_classes + CHANCE_TOL:
        return "at chance"
    first, last = metrics.get("grad_norm_first"), metrics.get("grad_norm_last")
    if first is not None and last is not None and (first == 0 or first < GRAD_RATIO_FLOOR * last):
        return "gradient vanished"
    return None


def describe_collapse(reason: str, metrics: dict, num_classes: Optional[int]) -> str:
    """One line: what was measured, against which threshold."""
    if reason == "at chance":
        acc = metrics.get("test_acc", metrics.get("val_acc"))
        return f"accuracy {acc:.4f} is within {CHANCE_TOL:g} of chance (1/{num_classes} = {1 / num_classes:.4f})"
    return (f"first-layer gradient norm {metrics['grad_norm_first']:.3g} vs {metrics['grad_norm_last']:.3g} at the "
            f"last hidden layer (below {GRAD_RATIO_FLOOR:g} of it)")
