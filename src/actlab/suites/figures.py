"""Curated figures for the suite reports, each with its data as CSV."""
from __future__ import annotations

import csv
import math
from pathlib import Path

from ..experiments.report import line_colours


def interval_bars(out_dir: Path, name: str, groups: dict, title: str, ylabel: str, logy: bool = False) -> tuple:
    """Grouped bars with 95 % intervals: groups = {group: {bar label: actlab.experiments.stats.Interval}}.

    One cluster per group, one colour per bar label (the same label, the same colour, in every
    cluster); writes out_dir/name.png and out_dir/name.csv (group, label, mean, lo, hi, n) and
    returns the report's (title, PNG name, CSV name). logy: a log-scale y axis (errors spanning decades).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(dict.fromkeys(label for bars in groups.values() for label in bars))
    colours = line_colours(labels)
    width = 0.8 / max(1, len(labels))
    fig, ax = plt.subplots(figsize=(max(6.0, 0.35 * len(groups) * len(labels) + 2), 4.2))
    rows = [("group", "label", "mean", "lo", "hi", "n")]
    for k, label in enumerate(labels):
        xs, means, errs = [], [], [[], []]
        for g, bars in enumerate(groups.values()):
            ci = bars.get(label)
            if ci is None or not math.isfinite(ci.mean):
                continue
            lo, hi = (ci.lo, ci.hi) if math.isfinite(ci.lo) else (ci.mean, ci.mean)
            xs.append(g - 0.4 + width * (k + 0.5))
            means.append(ci.mean)
            errs[0].append(ci.mean - lo)
            errs[1].append(hi - ci.mean)
        ax.bar(xs, means, width, yerr=errs, capsize=2, label=label, color=colours[label])
    for group, bars in groups.items():
        rows += [(group, label, ci.mean, ci.lo, ci.hi, ci.n) for label, ci in bars.items()]
    ax.set_xticks(range(len(groups)), list(groups), rotation=20, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(out_dir / f"{name}.png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    with open(out_dir / f"{name}.csv", "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    return title, f"{name}.png", f"{name}.csv"


def save_figure(fig, out: Path, name: str, data, title: str, dpi: int = 100) -> tuple:
    """Save a hook's figure as out/name.png and its data (a DataFrame) as out/name.csv; return the
    (title, PNG, CSV) entry a hook's `figures` returns."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(out / f"{name}.png", dpi=dpi)
    plt.close(fig)
    data.to_csv(out / f"{name}.csv", index=False)
    return (title, f"{name}.png", f"{name}.csv")
