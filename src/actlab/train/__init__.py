"""Training: one loop for every model, with a NaN/Inf guard, resumable checkpoints,
per-epoch metrics and diagnostics probes.

    >>> from actlab.train import TrainConfig, fit
    >>> cfg = TrainConfig(model="zplane", depth=100, width=256, data="digits", epochs=5, lr=1e-4)
    >>> result = fit(cfg, out_dir="runs/zp")             # minutes  # doctest: +SKIP
    >>> result.status, result.metrics["test_acc"]        # doctest: +SKIP
    ('done', 0.96...)

At the default lr 1e-3 this network ends `collapsed` (at chance): the status says so.
"""
from .config import OPTIMIZERS, SCHEDULES, TrainConfig
from .loop import evaluate, fit, pick_device
from .probes import run_probes, summarize
from .result import TrainResult

__all__ = ["TrainConfig", "TrainResult", "fit", "evaluate", "pick_device", "run_probes", "summarize",
           "OPTIMIZERS", "SCHEDULES"]
