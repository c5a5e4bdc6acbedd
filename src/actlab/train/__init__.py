"""Training: one loop for every model, with a NaN/Inf guard, resumable checkpoints,
per-epoch metrics and diagnostics probes.

    >>> from actlab.train import TrainConfig, fit
    >>> result = fit(TrainConfig(model="zplane", depth=100, width=256, data="digits", epochs=5), out_dir="runs/zp")
    >>> result.status, result.metrics["test_acc"]
"""
from .config import OPTIMIZERS, SCHEDULES, TrainConfig
from .loop import evaluate, fit, pick_device
from .probes import run_probes, summarize
from .result import TrainResult

__all__ = ["TrainConfig", "TrainResult", "fit", "evaluate", "pick_device", "run_probes", "summarize",
           "OPTIMIZERS", "SCHEDULES"]
