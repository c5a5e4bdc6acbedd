"""Figures of activations (matplotlib, Agg backend: no display needed)."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402


def function_and_derivative(act: nn.Module, info, lo: float = -4.0, hi: float = 4.0, points: int = 801):
    """(x, f(x), f'(x)) in float64; group activations are drawn through their one-feature view."""
    if info.group_size is not None:
        from .activations import get_activation

        act = get_activation("radial_bounding(group_size=1)")
    x = torch.linspace(lo, hi, points, dtype=torch.float64, requires_grad=True)
    y = act.double()(x) if hasattr(act, "double") else act(x)
    (dy,) = torch.autograd.grad(y.sum(), x)
    return x.detach().numpy(), y.detach().numpy(), dy.numpy()


def plot_activation(act: nn.Module, path: str | Path, lo: float = -4.0, hi: float = 4.0, info=None) -> Path:
    """Draw f and f' side by side, breakpoints dashed; write a PNG to `path`.
    `info` (act.info, computed when not given) is taken to avoid recomputing it."""
    info = act.info if info is None else info
    x, y, dy = function_and_derivative(act, info, lo, hi)
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2), constrained_layout=True)
    for ax, values, label in zip(axes, (y, dy), ("f(x)", "f'(x)")):
        ax.plot(x, values, color="C0", lw=2)
        ax.axhline(0, color="0.8", lw=0.8)
        ax.axvline(0, color="0.8", lw=0.8)
        if info.group_size is None:
            for b in info.breakpoints:
                ax.axvline(b, color="C3", ls="--", lw=0.8)
        ax.set_xlabel("x")
        ax.set_title(label)
        ax.grid(alpha=0.3)
    title = f"{act!r}  [{info.provenance}]"
    if info.group_size is not None:
        title += "  (one-feature view: clamp to [−1, 1])"
    fig.suptitle(title, fontsize=10)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
