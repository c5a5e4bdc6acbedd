"""Figures of one run: loss and accuracy curves, the per-layer gradient-norm profile."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

from .result import TrainResult


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_curves(history: Sequence[dict], path: str | Path, title: str = "") -> Path:
    """Train/validation/test loss and validation and test accuracy (or MSE) per epoch."""
    plt = _pyplot()
    fig, (ax_loss, ax_metric) = plt.subplots(1, 2, figsize=(9, 3.5))
    epochs = [row["epoch"] for row in history]
    first = history[0] if history else {}
    for key in ("train_loss", "val_loss", "test_loss"):
        if key in first:
            ax_loss.plot(epochs, [_num(row.get(key)) for row in history], marker="o", label=key.replace("_", " "))
    ax_loss.set_xlabel("epoch"), ax_loss.set_ylabel("loss"), ax_loss.legend()
    kind = "acc" if any(k.endswith("_acc") for k in first) else "mse"
    for i, split in enumerate(("val", "test")):
        if f"{split}_{kind}" in first:
            ax_metric.plot(epochs, [_num(row.get(f"{split}_{kind}")) for row in history], marker="o",
                           color=f"C{2 + i}", label=split)
    ax_metric.set_xlabel("epoch"), ax_metric.set_ylabel(kind), ax_metric.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def plot_grad_profile(profiles: dict[str, dict[str, float]], path: str | Path, title: str = "") -> Path:
    """Per-layer gradient norms (log scale) for each named profile, e.g. {"init": …, "end": …};
    layers in forward order, zero or missing values left out."""
    plt = _pyplot()
    many = len(profiles) > 3  # a legend beside the axes, and 20 distinct colours
    fig, ax = plt.subplots(figsize=(9.5 if many else 7, 3.5))
    for k, (name, grads) in enumerate(profiles.items()):
        pts = [(i + 1, v) for i, v in enumerate(grads.values()) if v is not None and v > 0 and math.isfinite(v)]
        if pts:
            ax.plot(*zip(*pts), marker=".", label=name, color=plt.cm.tab20(k % 20) if many else None)
    ax.set_yscale("log")
    ax.set_xlabel("layer (forward order; last = readout)"), ax.set_ylabel("‖∂loss/∂θ_layer‖")
    ax.legend(**({"fontsize": 7, "loc": "center left", "bbox_to_anchor": (1.01, 0.5)} if many else {}))
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def plot_run(result: TrainResult, out_dir: str | Path) -> list[Path]:
    """curves.png and grad_profile.png of a finished run, in out_dir."""
    out_dir = Path(out_dir)
    cfg = result.config
    title = f"{cfg.get('model')} {cfg.get('act') or 'default'} depth {cfg.get('depth')} ({result.status})"
    paths = []
    if result.history:
        paths.append(plot_curves(result.history, out_dir / "curves.png", title))
    if result.probes.get("grad_norms_final"):
        paths.append(plot_grad_profile({"init": result.probes.get("grad_norms_init", {}),
                                        "end": result.probes["grad_norms_final"]}, out_dir / "grad_profile.png", title))
    return paths


def _num(v) -> float:
    return math.nan if v is None else float(v)
