"""The report of a run directory: RUN_DIR/report/index.md, PNG figures, and each figure's data as CSV.

Contents, top to bottom: the claims table (when a suite gives claims), status
counts with the diverged and failed runs listed, the summary table (each metric's
mean ± std over seeds, grouped by the other sweep axes), then figures: each
metric against a numeric sweep axis (one line per group), training curves from
the per-epoch histories, and per-layer profiles (e.g. gradient norms at
initialisation and at the end) from the runs' artifacts.
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Optional, Sequence, Union

from ..errors import ActlabError
from .store import load, read_run_file

VERDICTS = ("reproduced", "not reproduced", "not measured")
CLAIM_COLUMNS = (("claim", "claim"), ("paper", "paper's figure"), ("measured", "actlab measured"),
                 ("command", "command"), ("verdict", "verdict"))
MAX_DEFAULT_METRICS = 6
MAX_DEFAULT_CURVES = 4


def build_report(run_dir: Union[str, Path], claims: Optional[Sequence[dict]] = None) -> Path:
    """Write RUN_DIR/report/index.md (+ figures and CSVs) and return its path.

    claims: rows with keys claim, paper, measured, command, verdict (one of
    reproduced / not reproduced / not measured). When None and the run
    directory was made by `actlab reproduce SUITE`, the suite's hook computes them.
    """
    import matplotlib

    matplotlib.use("Agg")
    run_dir = Path(run_dir)
    df = load(run_dir)
    meta = df.attrs["meta"]
    if claims is None and meta.get("suite"):
        from .suites_registry import suite_claims

        claims = suite_claims(meta["suite"], df, meta.get("profile", "quick"))
    out = run_dir / "report"
    out.mkdir(parents=True, exist_ok=True)
    hints = meta.get("report", {})
    view = _ReportView(df, hints)

    lines = [f"# {hints.get('title') or meta.get('name', run_dir.name)}", ""]
    if meta.get("description"):
        lines += [meta["description"], ""]
    lines += [f"Run directory `{run_dir}` (task `{meta.get('task')}`, spec in `spec.toml`); "
              f"this report: `actlab report {run_dir}`.", ""]
    if claims:
        lines += ["## Claims", "", *_claims_table(claims), ""]
    lines += ["## Runs", "", *_status_section(df, view.group_axes), ""]
    summary = view.summary()
    if summary is not None:
        summary.to_csv(out / "summary.csv", index=False)
        lines += ["## Summary", "", f"Mean ± std over {view.seed_note()}; `n` = runs done of runs in the group. "
                  "Data: [summary.csv](summary.csv).", "", _markdown_table(summary), ""]
    figures = []
    if meta.get("suite"):
        from .suites_registry import suite_figures

        figures += suite_figures(meta["suite"], df, run_dir, out)
    figures += view.metric_figures(out) + view.curve_figures(run_dir, out) + view.profile_figures(run_dir, out)
    if figures:
        lines += ["## Figures", ""]
        for title, png, csv in figures:
            lines += [f"### {title}", "", f"![{title}]({png})", "", f"Data: [{csv}]({csv})", ""]
    path = out / "index.md"
    path.write_text("\n".join(lines))
    return path


def _claims_table(claims: Sequence[dict]) -> list:
    rows = []
    for i, claim in enumerate(claims):
        missing = [k for k, _ in CLAIM_COLUMNS if k not in claim]
        if missing:
            raise ActlabError(f"claim #{i + 1} lacks {', '.join(missing)}; a claim has "
                              f"{', '.join(k for k, _ in CLAIM_COLUMNS)}")
        if claim["verdict"] not in VERDICTS:
            raise ActlabError(f"claim #{i + 1}: verdict must be one of {', '.join(VERDICTS)}; "
                              f"got {claim['verdict']!r}")
        rows.append([str(claim[k]) for k, _ in CLAIM_COLUMNS])
    return [_md_row([title for _, title in CLAIM_COLUMNS]), _md_row(["---"] * len(CLAIM_COLUMNS)),
            *[_md_row(r[:3] + [f"`{r[3]}`" if r[3] else ""] + [f"**{r[4]}**"]) for r in rows]]


def _status_section(df, axes: list) -> list:
    counts = df["status"].value_counts()
    statuses = ("done", "diverged", "failed", "pending", "running")
    lines = [_md_row(["runs", *statuses]), _md_row(["---"] * (len(statuses) + 1)),
             _md_row([str(len(df)), *(str(int(counts.get(s, 0))) for s in statuses)])]
    diverged = df[df["status"] == "diverged"]
    if len(diverged):
        lines += ["", "Diverged runs:", "", _md_row(["run", *axes, "step", "layer"]),
                  _md_row(["---"] * (len(axes) + 3))]
        for _, r in diverged.iterrows():
            lines.append(_md_row([f"`{r['id']}`", *(_fmt_value(r[a]) for a in axes),
                                  _fmt_value(r["diverged_step"]), _fmt_value(r["diverged_layer"])]))
    failed = df[df["status"] == "failed"]
    if len(failed):
        lines += ["", "Failed runs (full error in `results.sqlite`):", "", _md_row(["run", *axes, "error"]),
                  _md_row(["---"] * (len(axes) + 2))]
        for _, r in failed.iterrows():
            first = (r["error"] or "").splitlines()[0] if r["error"] else ""
            lines.append(_md_row([f"`{r['id']}`", *(_fmt_value(r[a]) for a in axes), first]))
    return lines


class _ReportView:
    """The run table seen through the report hints: which axes group, which is x, which metrics."""

    def __init__(self, df, hints: dict) -> None:
        self.df = df.copy()
        self.hints = hints
        axes = [a for a in df.attrs["axes"] if a in df.columns]
        for col in axes:  # lists and other unhashables group by their text
            if self.df[col].map(lambda v: isinstance(v, (list, dict))).any():
                self.df[col] = self.df[col].map(str)
        self.seed_axes = [a for a in axes if a == "seed" or a.endswith("_seed")]
        self.group_axes = [a for a in axes if a not in self.seed_axes]
        metrics = df.attrs["metric_keys"]
        wanted = hints.get("metrics")
        self.metrics = [m for m in wanted if m in metrics] if wanted else metrics[:MAX_DEFAULT_METRICS]
        self.done = self.df[self.df["status"] == "done"]
        self.x = hints.get("x") or next((a for a in self.group_axes if self._numeric(a)), None)
        if self.x is not None and not self._numeric(self.x):
            self.x = None
        self.line_axes = hints.get("group_by") or [a for a in self.group_axes if a != self.x]

    def _numeric(self, axis: str) -> bool:
        values = self.df[axis].dropna()
        return (len(values.unique()) > 1 and
                values.map(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)).all())

    def seed_note(self) -> str:
        return " and ".join(f"`{s}`" for s in self.seed_axes) if self.seed_axes else "repeated runs"

    # ---- summary table
    def summary(self):
        import pandas as pd

        if not self.metrics:
            return None
        keys = self.group_axes
        total = (self.df.groupby(keys, dropna=False, sort=False).size() if keys
                 else pd.Series([len(self.df)]))
        rows = []
        for group_key, n_all in total.items():
            sel = self.done
            if keys:
                group_key = group_key if isinstance(group_key, tuple) else (group_key,)
                sel = _select(self.done, keys, group_key)
            row = {k: _fmt_value(v) for k, v in zip(keys, group_key)} if keys else {}
            row["n"] = f"{len(sel)}/{n_all}"
            for m in self.metrics:
                row[m] = _mean_std(sel[m])
            rows.append(row)
        return pd.DataFrame(rows)

    # ---- figures
    def metric_figures(self, out: Path) -> list:
        figures = []
        for metric in self.metrics:
            data = self._aggregate(self.done, metric)
            if data.empty:
                continue
            title = f"{metric} vs {self.x}" if self.x else f"{metric} per group"
            name = _slug(f"metric_{metric}")
            data.to_csv(out / f"{name}.csv", index=False)
            self._plot_lines(data, out / f"{name}.png", metric, title)
            figures.append((title, f"{name}.png", f"{name}.csv"))
        return figures

    def curve_figures(self, run_dir: Path, out: Path) -> list:
        import pandas as pd

        rows = []
        finished = self.df[self.df["status"].isin(["done", "diverged"])]
        for _, run in finished.iterrows():
            for i, entry in enumerate(read_run_file(run_dir, run["id"], "history.json") or []):
                base = {a: run[a] for a in self.line_axes + ([self.x] if self.x else [])}
                base["epoch"] = entry.get("epoch", i + 1)
                rows += [{**base, "key": k, "value": v} for k, v in entry.items()
                         if k != "epoch" and _is_number(v)]
        if not rows:
            return []
        long = pd.DataFrame(rows)
        keys = self.hints.get("curves") or list(dict.fromkeys(long["key"]))[:MAX_DEFAULT_CURVES]
        by = self.line_axes + ([self.x] if self.x else [])
        figures = []
        for key in keys:
            part = long[long["key"] == key]
            if part.empty:
                continue
            data = _mean_std_frame(part, by + ["epoch"], "value")
            name = _slug(f"curve_{key}")
            data.to_csv(out / f"{name}.csv", index=False)
            self._plot_series(data, by, "epoch", out / f"{name}.png", key, f"{key} per epoch")
            figures.append((f"{key} per epoch", f"{name}.png", f"{name}.csv"))
        return figures

    def profile_figures(self, run_dir: Path, out: Path) -> list:
        import pandas as pd

        rows = []
        for _, run in self.done.iterrows():
            artifacts = read_run_file(run_dir, run["id"], "artifacts.json") or {}
            for key, values in artifacts.items():
                if isinstance(values, list) and len(values) > 1 and all(_is_number(v) for v in values):
                    base = {a: run[a] for a in self.line_axes + ([self.x] if self.x else [])}
                    rows += [{**base, "key": key, "layer": i, "value": v} for i, v in enumerate(values)]
        if not rows:
            return []
        long = pd.DataFrame(rows)
        by = self.line_axes + ([self.x] if self.x else [])
        figures = []
        for key in dict.fromkeys(long["key"]):
            data = _mean_std_frame(long[long["key"] == key], by + ["layer"], "value")
            name = _slug(f"profile_{key}")
            data.to_csv(out / f"{name}.csv", index=False)
            self._plot_series(data, by, "layer", out / f"{name}.png", key, f"{key} per layer", logy=True)
            figures.append((f"{key} per layer", f"{name}.png", f"{name}.csv"))
        return figures

    def _aggregate(self, frame, metric: str):
        keys = self.line_axes + ([self.x] if self.x else [])
        if not keys:
            import pandas as pd

            values = frame[metric].dropna()
            return pd.DataFrame([{"mean": values.mean(), "std": values.std(ddof=0), "n": len(values)}])
        return _mean_std_frame(frame, keys, metric)

    def _plot_lines(self, data, path: Path, ylabel: str, title: str) -> None:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        legend = _varying(data, self.line_axes)
        if self.x:
            for label, part in _groups(data, legend):
                part = part.sort_values(self.x)
                ax.errorbar(part[self.x], part["mean"], yerr=part["std"], marker="o", capsize=3, label=label)
            ax.set_xlabel(self.x)
            if self.hints.get("logx"):
                ax.set_xscale("log")
        else:
            labels = [lab for lab, _ in _groups(data, legend)] or ["all"]
            ax.bar(range(len(data)), data["mean"], yerr=data["std"], capsize=3)
            ax.set_xticks(range(len(data)), labels, rotation=45, ha="right", fontsize=8)
        _finish(fig, ax, path, ylabel, title, legend if self.x else [])

    def _plot_series(self, data, by: list, xcol: str, path: Path, ylabel: str, title: str,
                     logy: bool = False) -> None:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        by = _varying(data, by)
        for label, part in _groups(data, by):
            part = part.sort_values(xcol)
            line, = ax.plot(part[xcol], part["mean"], marker=".", label=label)
            ax.fill_between(part[xcol], part["mean"] - part["std"], part["mean"] + part["std"],
                            color=line.get_color(), alpha=0.15)
        ax.set_xlabel(xcol)
        positive = (data["mean"] > 0).all()
        if logy and positive and data["mean"].max() > 10 * data["mean"].min():
            ax.set_yscale("log")
        _finish(fig, ax, path, ylabel, title, by)


def _finish(fig, ax, path: Path, ylabel: str, title: str, legend_axes: list) -> None:
    import matplotlib.pyplot as plt

    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if legend_axes and ax.get_legend_handles_labels()[0]:
        ax.legend(title=" / ".join(legend_axes), fontsize=7, title_fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _varying(data, axes: list) -> list:
    """The axes that take more than one value in `data` (the others would only clutter legends)."""
    return [a for a in axes if data[a].nunique(dropna=False) > 1]


def _groups(data, by: list):
    if not by:
        yield "", data
        return
    for key, part in data.groupby(by, dropna=False, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        yield " / ".join(_fmt_value(k) for k in key), part


def _select(frame, keys: list, values: tuple):
    mask = None
    for k, v in zip(keys, values):
        m = frame[k].isna() if _isnan(v) else frame[k] == v
        mask = m if mask is None else mask & m
    return frame[mask]


def _mean_std_frame(frame, keys: list, column: str):
    grouped = frame.groupby(keys, dropna=False, sort=False)[column]
    data = grouped.agg(["mean", "count"]).rename(columns={"count": "n"})
    data["std"] = grouped.std(ddof=0)
    return data.reset_index()[[*keys, "mean", "std", "n"]]


def _mean_std(values) -> str:
    values = values.dropna()
    if values.empty:
        return "–"
    if len(values) == 1:
        return f"{values.iloc[0]:.4g}"
    return f"{values.mean():.4g} ± {values.std(ddof=0):.2g}"


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _isnan(v) -> bool:
    return isinstance(v, float) and math.isnan(v)


def _fmt_value(v) -> str:
    if v is None or _isnan(v):
        return "–"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")


def _md_row(cells: list) -> str:
    return "| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in cells) + " |"


def _markdown_table(frame) -> str:
    return "\n".join([_md_row(list(frame.columns)), _md_row(["---"] * len(frame.columns)),
                      *(_md_row(list(r)) for r in frame.itertuples(index=False))])
