"""Curated figures for the suite reports: a few lines per plot, each with its data as CSV."""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Optional

from ..experiments.report import legend_entries, line_colours
from ..experiments.store import read_run_file


def run_profile(run_dir: Path, run_id: str, key: str) -> Optional[list]:
    """A per-layer list from a run's artifacts (e.g. grad_norms_init), the readout excluded."""
    artifacts = read_run_file(run_dir, run_id, "artifacts.json") or {}
    values, layers = artifacts.get(key), artifacts.get("layers")
    if not isinstance(values, list):
        return None
    if isinstance(layers, list) and len(layers) == len(values):
        values = [v for v, label in zip(values, layers) if label != "readout"]
    return values


def run_history(run_dir: Path, run_id: str, key: str) -> tuple[list, list]:
    history = read_run_file(run_dir, run_id, "history.json") or []
    rows = [(h.get("epoch", i + 1), h.get(key)) for i, h in enumerate(history) if h.get(key) is not None]
    return [r[0] for r in rows], [r[1] for r in rows]


def line_figure(out_dir: Path, name: str, panels: list, xlabel: str, ylabel: str, title: str,
                logx: bool = False, logy: bool = False) -> list:
    """Plot panels [(panel title, {label: (xs, ys)})] side by side into out_dir/name.png, their data into
    out_dir/name.csv (columns panel, label, x, y); return the report's Markdown lines for it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(t, s) for t, s in panels if s]
    if not panels:
        return []
    rows = [("panel", "label", "x", "y")]
    labels = list(dict.fromkeys(label for _, series in panels for label in series))
    colours = line_colours(labels)
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.8), squeeze=False)
    for ax, (panel, series) in zip(axes[0], panels):
        for label, (xs, ys) in series.items():
            ys = [float(y) if y is not None else math.nan for y in ys]
            rows += [(panel, label, x, y) for x, y in zip(xs, ys)]
            shown = [y if (not logy or y > 0) else math.nan for y in ys]
            ax.plot(xs, shown, marker="." if len(xs) > 12 else "o", markersize=3 if len(xs) > 12 else 5, label=label,
                    color=colours[label])
        ax.set_title(panel, fontsize=9)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        if logx:
            ax.set_xscale("log")
        if logy:
            ax.set_yscale("log")
    fig.legend(*legend_entries(axes.flat, labels), fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(out_dir / f"{name}.png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    (out_dir / f"{name}.csv").write_text(text.getvalue())
    return [f"### {title}", "", f"![{title}]({name}.png)", "", f"Data: [{name}.csv]({name}.csv)", ""]
