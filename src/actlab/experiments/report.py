"""The report of a run directory: RUN_DIR/report/index.md, PNG figures, and each figure's data as CSV.

Contents, top to bottom: the claims table and extra sections (when the caller gives
them: the suites layer, actlab.suites, passes a suite's own), for a tuned sweep the
protocol (what was tuned, per-arm tuning results, the finals table with 95 %
intervals; report_protocol.py) with the summary and figures below over the finals only, status
counts with the diverged, collapsed and failed runs listed, the summary table (each metric's
mean ± std over seeds, grouped by the other sweep axes), then figures: each
metric against a numeric sweep axis (one line per group; the caller's figures lead), training curves from
the per-epoch histories, and per-layer profiles (e.g. gradient norms at
initialisation and at the end) from the runs' artifacts.
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Optional, Sequence, Union

from ..errors import ActlabError
from .markdown import fmt_value as _fmt_value
from .markdown import md_row as _md_row
from ..places import prepare_dir
from .store import load, read_run_file

# reproduced / contradicted / inconclusive: actlab.experiments.verdicts' rules on finals with seeds;
# "not reproduced": a claim checked without that protocol (a single measurement).
VERDICTS = ("reproduced", "contradicted", "inconclusive", "not reproduced", "not measured")
CLAIM_COLUMNS = (("claim", "claim"), ("paper", "paper's figure"), ("measured", "actlab measured"),
                 ("command", "command"), ("verdict", "verdict"))
MAX_DEFAULT_METRICS = 6
MAX_DEFAULT_CURVES = 4
MAX_LISTED_RUNS = 30
# One display of runs that did not finish cleanly, in every table (generic and suites'):
# a diverged run's metrics are never shown as results; a collapsed run's are, marked.
STATUS_MARKS = {"diverged": "†", "collapsed": "‡"}
STATUS_NOTE = ("† marks diverged runs (listed under Runs; their metrics are not results and are never "
               "averaged in), ‡ collapsed runs (trained to the end at chance: their metrics are final and "
               "averaged in)")


def build_report(run_dir: Union[str, Path], claims: Optional[Sequence[dict]] = None,
                 sections: Sequence[str] = (), figures: Sequence[tuple] = (),
                 out: Optional[Union[str, Path]] = None) -> Path:
    """Write RUN_DIR/report/index.md (+ figures and CSVs), or OUT/index.md, and return its path.

    claims: rows with keys claim, paper, measured, command, verdict (one of
    VERDICTS; reproduced / contradicted / inconclusive by the rules of
    actlab.experiments.verdicts). sections: Markdown lines placed
    right after the claims table. figures: (title, PNG, CSV) already drawn into
    the report folder, placed before the generic figures. A suite's report passes its
    own (actlab.suites.suite_report).
    out: the report folder (default RUN_DIR/report, see `report_dir`); the run
    directory itself is only read, so a report of a running sweep or of read-only
    media goes there.
    """
    import matplotlib

    matplotlib.use("Agg")
    run_dir = Path(run_dir)
    df = load(run_dir)
    out = report_dir(run_dir, out)
    meta = df.attrs["meta"]
    hints = meta.get("report", {})
    protocol_lines, protocol_figures = [], []
    if meta.get("tune"):
        from .report_protocol import protocol_part

        protocol_lines, protocol_figures = protocol_part(df, out)
    view = _ReportView(_finals_only(df) if meta.get("tune") else df, hints)

    lines = [f"# {hints.get('title') or meta.get('name', run_dir.name)}", ""]
    if meta.get("description"):
        lines += [meta["description"], ""]
    lines += [f"Run directory `{run_dir}` (task `{meta.get('task')}`, spec in `spec.toml`); "
              f"this report: `actlab report {run_dir}`.", ""]
    if claims:
        lines += ["## Claims", "", *_claims_table(claims), ""]
    if sections:
        lines += [*sections, ""]
    lines += protocol_lines
    lines += ["## Runs", "", *_status_section(df, [a for a in view.group_axes + view.seed_axes if a in df.columns]), ""]
    missing = [m for m in hints.get("metrics", []) if m not in df.attrs["metric_keys"]]
    if missing:
        lines += [f"Note: no run recorded the metric(s) {', '.join(missing)} named in the spec's [report] "
                  f"metrics; recorded: {', '.join(df.attrs['metric_keys']) or 'none'}.", ""]
    summary = view.summary()
    if summary is not None:
        summary.to_csv(out / "summary.csv", index=False)
        lines += ["## Summary", "", f"Mean ± std over {view.seed_note()}; `n` = runs done or collapsed of runs in "
                  f"the group; {STATUS_NOTE}. Data: [summary.csv](summary.csv).", "", _markdown_table(summary), ""]
    figures = protocol_figures + [tuple(f) for f in figures]
    if hints.get("metric_figures", True):  # a suite with its own figures may turn the generic grid off
        figures += view.metric_figures(out)
    figures += view.curve_figures(run_dir, out) + view.profile_figures(run_dir, out)
    if figures:
        lines += ["## Figures", ""]
        for title, png, csv in figures:
            lines += [f"### {title}", "", f"![{title}]({png})", "", f"Data: [{csv}]({csv})", ""]
    path = out / "index.md"
    path.write_text("\n".join(lines))
    return path


def _finals_only(df):
    """A tuned sweep's finals, seen as a sweep over the arms' axes and the seed."""
    finals = df[df["phase"] == "final"].copy()
    finals.attrs.update(df.attrs)
    finals.attrs["axes"] = [*df.attrs["axes"], "seed"]
    return finals


def report_dir(run_dir: Union[str, Path], out: Optional[Union[str, Path]] = None) -> Path:
    """The report folder, created and checked writable: `out`, or RUN_DIR/report."""
    try:
        return prepare_dir(out if out is not None else Path(run_dir) / "report", "report directory")
    except ActlabError as exc:
        raise ActlabError(f"{exc}; write the report elsewhere with --out DIR") from None


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
    statuses = tuple(s for s in ("done", "diverged", "collapsed", "pruned", "failed", "pending", "running")
                     if s != "pruned" or counts.get(s, 0))
    lines = [_md_row(["runs", *statuses]), _md_row(["---"] * (len(statuses) + 1)),
             _md_row([str(len(df)), *(str(int(counts.get(s, 0))) for s in statuses)])]
    durations = df["duration"].dropna()
    if len(durations):
        lines += ["", f"Run time: {durations.sum():.1f} s in all, median {durations.median():.2g} s, "
                      f"longest {durations.max():.2g} s (time inside the runs, from `results.sqlite`)."]
    diverged = df[df["status"] == "diverged"]
    if len(diverged):
        lines += ["", "Diverged runs:", "", _md_row(["run", *axes, "step", "layer"]),
                  _md_row(["---"] * (len(axes) + 3))]
        for _, r in diverged.head(MAX_LISTED_RUNS).iterrows():
            lines.append(_md_row([f"`{r['id']}`", *(_fmt_value(r[a]) for a in axes),
                                  _fmt_value(r["diverged_step"]), _fmt_value(r["diverged_layer"])]))
        lines += _more(len(diverged))
    collapsed = df[df["status"] == "collapsed"]
    if len(collapsed):
        lines += ["", "Collapsed runs (finished without NaN/Inf, but at chance or with a vanished first-layer "
                      "gradient; see docs/training.md):", "", _md_row(["run", *axes, "why"]),
                  _md_row(["---"] * (len(axes) + 2))]
        for _, r in collapsed.head(MAX_LISTED_RUNS).iterrows():
            why = (read_run_file(df.attrs["run_dir"], r["id"], "artifacts.json") or {}).get("collapsed", {})
            lines.append(_md_row([f"`{r['id']}`", *(_fmt_value(r[a]) for a in axes), why.get("detail", "")]))
        lines += _more(len(collapsed))
    failed = df[df["status"] == "failed"]
    if len(failed):
        lines += ["", "Failed runs (full error in `results.sqlite`):", "", _md_row(["run", *axes, "error"]),
                  _md_row(["---"] * (len(axes) + 2))]
        for _, r in failed.head(MAX_LISTED_RUNS).iterrows():
            first = (r["error"] or "").splitlines()[0] if r["error"] else ""
            lines.append(_md_row([f"`{r['id']}`", *(_fmt_value(r[a]) for a in axes), first]))
        lines += _more(len(failed))
    return lines


def _more(n: int) -> list:
    extra = n - MAX_LISTED_RUNS
    return ["", f"... and {extra} more (`actlab.experiments.load(RUN_DIR)` lists them all)."] if extra > 0 else []


class _ReportView:
    """The run table seen through the report hints.

    Roles of the sweep axes: seed axes are averaged over; `x` is the horizontal
    axis of the metric figures; `line_axes` (hint `group_by`, default every other
    axis) make the lines; axes left over (when `group_by` names only some) make
    panels, so that runs of different settings are never averaged together.
    Curves and per-layer profiles get one panel per value of `x` as well.
    """

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
        self.done = self.df[self.df["status"].isin(["done", "collapsed"])]  # the runs whose metrics are final
        self.x = hints.get("x") or next((a for a in self.group_axes if self._numeric(a)), None)
        if self.x is not None and not self._numeric(self.x):
            self.x = None
        others = [a for a in self.group_axes if a != self.x]
        self.line_axes = [a for a in hints.get("group_by", others) if a != self.x]
        self.panel_axes = [a for a in others if a not in self.line_axes]
        self.xs = [self.x] if self.x else []

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
            group = _select(self.df, keys, group_key) if keys else self.df
            row["n"] = f"{len(sel)}/{n_all}{status_marks(group['status'])}"
            for m in self.metrics:
                row[m] = _mean_std(sel[m])
            rows.append(row)
        return pd.DataFrame(rows)

    # ---- figures
    def metric_figures(self, out: Path) -> list:
        import pandas as pd

        figures = []
        keys = self.panel_axes + self.line_axes + self.xs
        for metric in self.metrics:
            if self.done[metric].dropna().empty:
                continue
            if keys:
                data = _mean_std_frame(self.done, keys, metric)
            else:
                values = self.done[metric].dropna()
                data = pd.DataFrame([{"mean": values.mean(), "std": values.std(ddof=0), "n": len(values)}])
            lines = " / ".join(_varying(data, self.line_axes))
            title = f"{metric} vs {self.x}" if self.x else f"{metric} per {lines or 'run'}"
            figures.append(self._figure(data, f"metric_{metric}", title, metric, self.panel_axes, self.x, out,
                                        errorbars=True, logx=bool(self.hints.get("logx"))))
        finished = self.df[self.df["status"].isin(["done", "diverged", "collapsed"])].copy()
        if (finished["status"] == "diverged").any() and keys:
            finished["diverged"] = (finished["status"] == "diverged").astype(float)
            data = _mean_std_frame(finished, keys, "diverged")  # mean = fraction of runs that diverged
            data["std"] = 0.0  # no error bars on a fraction of runs
            title = f"diverged fraction vs {self.x}" if self.x else "diverged fraction"
            figures.append(self._figure(data, "diverged_fraction", title,
                                        "fraction of runs diverged", self.panel_axes, self.x, out, errorbars=True,
                                        logx=bool(self.hints.get("logx"))))
        return figures

    def curve_figures(self, run_dir: Path, out: Path) -> list:
        rows = []
        for _, run in self.df[self.df["status"].isin(["done", "diverged", "collapsed"])].iterrows():
            for i, entry in enumerate(read_run_file(run_dir, run["id"], "history.json") or []):
                point = {a: run[a] for a in self.panel_axes + self.xs + self.line_axes}
                point["epoch"] = entry.get("epoch", i + 1)
                rows += [{**point, "key": k, "value": v} for k, v in entry.items() if k != "epoch" and _is_number(v)]
        wanted = self.hints.get("curves")
        return self._series_figures(rows, "curve", "epoch", "per epoch", wanted, MAX_DEFAULT_CURVES, out)

    def profile_figures(self, run_dir: Path, out: Path) -> list:
        rows = []
        for _, run in self.done.iterrows():
            for key, values in (read_run_file(run_dir, run["id"], "artifacts.json") or {}).items():
                if isinstance(values, list) and len(values) > 1 and all(_is_number(v) for v in values):
                    point = {a: run[a] for a in self.panel_axes + self.xs + self.line_axes}
                    rows += [{**point, "key": key, "layer": i, "value": v} for i, v in enumerate(values)]
        return self._series_figures(rows, "profile", "layer", "per layer", None, None, out, logy=True)

    def _series_figures(self, rows: list, prefix: str, xcol: str, what: str, wanted, limit, out: Path,
                        logy: bool = False) -> list:
        import pandas as pd

        if not rows:
            return []
        long = pd.DataFrame(rows)
        keys = wanted or list(dict.fromkeys(long["key"]))[:limit]
        figures = []
        for key in keys:
            part = long[long["key"] == key]
            if part.empty:
                continue
            data = _mean_std_frame(part, self.panel_axes + self.xs + self.line_axes + [xcol], "value")
            figures.append(self._figure(data, f"{prefix}_{key}", f"{key} {what}", key, self.panel_axes + self.xs,
                                        xcol, out, logy=logy))
        return figures

    def _figure(self, data, name: str, title: str, ylabel: str, panel_axes: list, xcol: Optional[str], out: Path,
                errorbars: bool = False, logx: bool = False, logy: bool = False) -> tuple:
        """One PNG (a panel per value of `panel_axes`, a line per group) and its data as CSV."""
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator

        name = _slug(name)
        data.to_csv(out / f"{name}.csv", index=False)
        panel_axes, line_axes = _varying(data, panel_axes), _varying(data, self.line_axes)
        panels = list(_groups(data, panel_axes, named=True))
        ncols = min(len(panels), 4)
        nrows = math.ceil(len(panels) / ncols)
        fig, axes = plt.subplots(nrows, ncols, figsize=(1.5 + 4.2 * ncols, 0.8 + 3.2 * nrows), squeeze=False,
                                 sharey=True)
        labels = [label for label, _ in _groups(data, line_axes)]
        colours = line_colours(labels)
        for ax, (panel, part) in zip(axes.flat, panels):
            if xcol is None:
                groups = list(_groups(part, line_axes))
                ax.bar(range(len(groups)), [g["mean"].iloc[0] for _, g in groups],
                       yerr=[g["std"].iloc[0] for _, g in groups], capsize=3,
                       color=[colours[label] for label, _ in groups])
                ax.set_xticks(range(len(groups)), [label or "all" for label, _ in groups], rotation=45,
                              ha="right", fontsize=8)
            for label, line in _groups(part, line_axes) if xcol else ():
                line = line.sort_values(xcol)
                if errorbars:
                    ax.errorbar(line[xcol], line["mean"], yerr=line["std"], marker="o", capsize=3,
                                color=colours[label], label=label)
                else:
                    ax.plot(line[xcol], line["mean"], marker=".", color=colours[label], label=label)
                    ax.fill_between(line[xcol], line["mean"] - line["std"], line["mean"] + line["std"],
                                    color=colours[label], alpha=0.15)
            if xcol:
                ax.set_xlabel(xcol)
                if part[xcol].map(lambda v: float(v).is_integer()).all():
                    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
                if logx:
                    ax.set_xscale("log")
            means = data["mean"].dropna()
            if logy and (means > 0).all() and means.max() > 10 * means.min():
                ax.set_yscale("log")
            ax.set_title(panel, fontsize=9)
            ax.grid(alpha=0.3)
        for ax in axes.flat[len(panels):]:
            ax.set_visible(False)
        for ax in axes[:, 0]:
            ax.set_ylabel(ylabel)
        fig.suptitle(title)
        handles, names = legend_entries(axes.flat, labels)
        if xcol and line_axes and handles:
            fig.legend(handles, names, title=" / ".join(line_axes), loc="center left", bbox_to_anchor=(1.0, 0.5),
                       fontsize=8, title_fontsize=8)
        fig.tight_layout()
        fig.savefig(out / f"{name}.png", dpi=100, bbox_inches="tight")
        plt.close(fig)
        return title, f"{name}.png", f"{name}.csv"


def status_marks(statuses) -> str:
    """" †" / " ‡" / " † ‡" when any of `statuses` is diverged / collapsed, else ""."""
    present = set(statuses)
    return "".join(f" {mark}" for status, mark in STATUS_MARKS.items() if status in present)


def run_cell(text: str, status: str) -> str:
    """A single run's metric cell: "diverged †" in place of a diverged run's value (not a
    result), the value marked ‡ for a collapsed run (final, at chance), else the value."""
    if status == "diverged":
        return f"diverged {STATUS_MARKS['diverged']}"
    return f"{text} {STATUS_MARKS['collapsed']}" if status == "collapsed" else text


def line_colours(labels: Sequence[str]) -> dict:
    """One colour per line label, the same in every panel of a figure."""
    import matplotlib.pyplot as plt

    cmap = plt.get_cmap("tab10" if len(labels) <= 10 else "tab20")
    return {label: cmap(i % 20) for i, label in enumerate(labels)}


def legend_entries(axes, order: Sequence[str]) -> tuple:
    """(handles, labels) for one figure legend: each line label of every panel once (a panel may
    lack some groups; a legend of the first panel alone would leave them unlabelled), in `order`."""
    found: dict = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            found.setdefault(label, handle)
    names = [label for label in order if label in found]
    return [found[n] for n in names], names


def _varying(data, axes: list) -> list:
    """The axes that take more than one value in `data` (the others would only clutter legends)."""
    return [a for a in axes if data[a].nunique(dropna=False) > 1]


def _groups(data, by: list, named: bool = False):
    """(label, rows) per combination of `by`, in order of appearance; labels 'a / b' or 'x=a, y=b'."""
    if not by:
        yield "", data
        return
    for key, part in data.groupby(by, dropna=False, sort=False):
        key = key if isinstance(key, tuple) else (key,)
        if named:
            yield ", ".join(f"{a}={_fmt_value(k)}" for a, k in zip(by, key)), part
        else:
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


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")


def _markdown_table(frame) -> str:
    return "\n".join([_md_row(list(frame.columns)), _md_row(["---"] * len(frame.columns)),
                      *(_md_row(list(r)) for r in frame.itertuples(index=False))])
