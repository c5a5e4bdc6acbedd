"""Figures of the capacity lab (matplotlib, Agg backend)."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from .empirical import CapacityScan  # noqa: E402


def plot_scans(scans: Sequence[CapacityScan], path) -> Path:
    """P(solved) vs α with Wilson 95 % bars, one line per scan."""
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for s in scans:
        lo, hi = zip(*s.wilson())
        f = s.fractions
        ax.errorbar(s.alphas, f, yerr=[[a - b for a, b in zip(f, lo)], [b - a for a, b in zip(f, hi)]], marker="o",
                    capsize=2, label=f"{s.activation} K={s.K} {s.weights} N={s.N} ({s.solver})")
    ax.axhline(0.5, color="grey", lw=0.6, ls=":")
    ax.set_xlabel("α = P/N")
    ax.set_ylabel("fraction solved")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)
