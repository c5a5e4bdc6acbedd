"""The report's protocol part, for a tuned run directory: what was tuned, validation metric
against learning rate per arm (one figure, every arm in the legend), and the finals table
(mean ± std over the final seeds, the 95 % t-interval, n)."""
from __future__ import annotations

import math
from pathlib import Path

from .markdown import fmt_value, md_row as _row
from .protocol import select_best
from .stats import t_interval
from .tune import tune_from_dict

TRIAL_STATUSES = ("done", "collapsed", "pruned", "diverged", "failed", "pending", "running")


def arm_labels(df) -> dict:
    """arm id -> 'axis=value, ...' over the axes that vary between arms, in arm order."""
    axes = [a for a in df.attrs["axes"] if a in df.columns]
    firsts = df[df["arm"].notna()].drop_duplicates("arm")  # plain runs ([tune] arms) belong to no arm
    varying = [a for a in axes if firsts[a].astype(str).nunique(dropna=False) > 1] or axes
    return {r["arm"]: ", ".join(f"{a}={_fmt(r[a])}" for a in varying if fmt_value(r[a]) != "–") or "all"
            for _, r in firsts.iterrows()}


def protocol_part(df, out: Path) -> tuple:
    """(Markdown lines, [(title, png, csv)]) of a tuned run directory's protocol."""
    tune = tune_from_dict(df.attrs["meta"]["tune"])
    labels = arm_labels(df)
    trials, finals = df[df["phase"] == "trial"], df[df["phase"] == "final"]
    lines = ["## Protocol", "", *tune.describe(), "",
             "Each arm is one point of the sweep. Figure \"validation vs learning rate\" shows every trial; "
             "the finals table only the selected configurations, retrained on the final seeds.", ""]
    lines += ["### Tuning", "", "Trials per arm by outcome, and the selected trial. \"(edge)\": the selected value is "
              "the smallest or largest candidate tried, so the arm's optimum may lie outside the range.", "",
              *_tuning_table(trials, labels, tune), ""]
    lines += ["### Finals", "", f"`{tune.test_metric}` on the test set: mean ± std (sample std) over the final "
              f"seeds, and the 95 % Student-t interval of the mean; `n` = finals finished of finals planned. "
              f"Data: [finals.csv](finals.csv).", "", *_finals_table(finals, labels, tune, out), ""]
    figures = [_lr_figure(trials, labels, tune, out)] if len(trials) and _x_param(tune) else []
    return lines, figures


def _tuning_table(trials, labels: dict, tune) -> list:
    head = ["arm", *TRIAL_STATUSES[:5], *(f"best {p}" for p in tune.params), f"best {tune.metric}"]
    rows = [_row(head), _row(["---"] * len(head))]
    for arm, label in labels.items():
        part = trials[trials["arm"] == arm]
        counts = part["status"].value_counts()
        best = select_best([_as_row(r) for _, r in part.iterrows()], tune.metric, tune.direction)
        chosen = [_fmt(best["config"][p]) + _edge(part, p, best["config"][p], tune) if best else "–"
                  for p in tune.params]
        rows.append(_row([label, *(str(int(counts.get(s, 0))) for s in TRIAL_STATUSES[:5]), *chosen,
                          f"{best['metrics'][tune.metric]:.4g}" if best else "–"]))
    return rows


def _edge(part, name: str, value, tune) -> str:
    """' (edge)' when the selected value of a numeric range is the smallest or largest candidate tried."""
    if tune.params[name].choices is not None:
        return ""
    tried = part[name].dropna()
    return " (edge)" if len(tried) > 2 and value in (tried.min(), tried.max()) else ""


def _as_row(r) -> dict:
    """A load() row in the shape select_best reads (store rows)."""
    return {"status": r["status"], "position": r.name, "config": r.to_dict(), "metrics": r.to_dict()}


def _finals_table(finals, labels: dict, tune, out: Path) -> list:
    import pandas as pd

    metric = tune.test_metric
    records = []
    for arm, label in labels.items():
        part = finals[finals["arm"] == arm]
        if part.empty:
            records.append({"arm": label, "n": f"0/{len(tune.final_seeds)}", "mean ± std": "no finals", "95 % CI": "–"})
            continue
        finished = part[~part["status"].isin(["pending", "running", "failed"])]
        values = finished[metric] if metric in finished.columns else []
        ci = t_interval(list(values))
        rec = {"arm": label, **{p: _fmt(part.iloc[0][p]) for p in tune.params},
               "n": f"{ci.n}/{len(tune.final_seeds)}",
               "mean ± std": f"{ci.mean:.4g} ± {ci.std:.2g}" if math.isfinite(ci.std) else _fmt(ci.mean),
               "95 % CI": f"[{ci.lo:.4g}, {ci.hi:.4g}]" if math.isfinite(ci.lo) else "–"}
        diverged = int((part["status"] == "diverged").sum())
        if diverged:
            rec["mean ± std"] += f" ({diverged} diverged)"
        records.append(rec)
    table = pd.DataFrame(records).fillna("")
    table.to_csv(out / "finals.csv", index=False)
    return [_row(list(table.columns)), _row(["---"] * len(table.columns)),
            *(_row(list(r)) for r in table.itertuples(index=False))]


def _x_param(tune):
    """The numeric searched parameter to plot against: lr when searched, else the first numeric one."""
    numeric = [n for n, p in tune.params.items() if p.choices is None]
    return "lr" if "lr" in numeric else (numeric[0] if numeric else None)


def _lr_figure(trials, labels: dict, tune, out: Path) -> tuple:
    import matplotlib.pyplot as plt

    x = _x_param(tune)
    data = trials[trials["status"].isin(["done", "pruned"])][["arm", x, tune.metric, "status"]].copy()
    data.insert(1, "label", data["arm"].map(labels))
    data.to_csv(out / "tuning_validation.csv", index=False)
    fig, ax = plt.subplots(figsize=(8.5, 4.5))
    cmap = plt.get_cmap("tab10" if len(labels) <= 10 else "tab20")
    for i, (arm, label) in enumerate(labels.items()):
        part = data[data["arm"] == arm].sort_values(x)
        colour, style = cmap(i % 20), ("-", "--", ":")[(i // 20) % 3]
        done = part[part["status"] == "done"]
        ax.plot(done[x], done[tune.metric], style, marker="o", color=colour, label=label)
        pruned = part[part["status"] == "pruned"]
        ax.scatter(pruned[x], pruned[tune.metric], facecolors="none", edgecolors=[colour], s=30)
        best = select_best([_as_row(r) for _, r in trials[trials["arm"] == arm].iterrows()], tune.metric,
                           tune.direction)
        if best is not None:
            ax.scatter([best["config"][x]], [best["metrics"][tune.metric]], marker="*", s=160, color=colour,
                       edgecolors="black", zorder=3)
    if tune.params[x].log:
        ax.set_xscale("log")
    ax.set_xlabel(x)
    ax.set_ylabel(f"{tune.metric} (validation)")
    ax.set_title(f"validation vs {x}: every trial (filled: ran to the end; hollow: pruned, value when pruned; "
                 f"star: selected)", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(title="arm", loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=7, title_fontsize=8,
              ncol=1 if len(labels) <= 20 else 2)
    fig.tight_layout()
    fig.savefig(out / "tuning_validation.png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return f"validation {tune.metric} vs {x}, per arm", "tuning_validation.png", "tuning_validation.csv"


def _fmt(v) -> str:
    """A searched value: 4 significant digits for floats."""
    return f"{v:.4g}" if isinstance(v, float) and math.isfinite(v) and not v.is_integer() else fmt_value(v)
