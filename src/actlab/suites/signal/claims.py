"""Claims of the signal suite: does depth < k·ξ_c predict which plain MLPs train?

Schoenholz, Gilmer, Ganguli & Sohl-Dickstein (2017, "Deep information propagation") train
fully connected tanh networks at W ~ N(0, σ_w²/fan_in), b ~ N(0, σ_b²) over a (σ_w², depth)
grid and find them trainable while depth ≲ 6ξ_c, ξ_c = −1/ln χ_c the correlation depth scale
of signal propagation (actlab.theory.depth_scales; C_W = σ_w², C_b = σ_b²). The suite runs
the same kind of grid (task `train`, init "gaussian(c_w=…, c_b=…)") for tanh and for
activations no paper has tested this way, and checks the boundary per activation.

Definitions (actlab's, stated in the report):

    trainable      the run ended (not failed) with test accuracy ≥ TRAINABLE_ACC after the
                   profile's fixed budget; a diverged run is not trainable. In a tuned run
                   directory (the profiles: lr chosen per cell on validation) the finals
                   count, each at its cell's selected learning rate; a cell whose every
                   trial diverged has no lr to select and no finals: it counts as diverged
                   (untrainable) for every final seed
    predicted      depth < K·ξ_c (K = 6, Schoenholz et al.; ξ_c = ∞ on the critical line),
                   with ξ_c at (C_b, C_W) from K⁽¹⁾ = C_b + C_W·Q_IN (standardised inputs:
                   mean squared coordinate 1). Where the kernel has no finite fixed point
                   (phase 'unbounded', e.g. MRePU at large C_W) or the depth scales are not
                   implemented (group activations), a cell has no prediction and is left
                   out of the agreement (its count and trained share are reported)
    agreement      per seed, the share of predicted cells where trainable == predicted;
                   mean over seeds with its 95 % t-interval
    control        the majority label of the same cells and seed (the best constant
                   predictor, chosen in-sample); verdict by actlab.experiments.verdicts.judge
                   on "agreement > control", paired over seeds
    also shown     the best depth-only cutoff (in-sample, ignores C_W) and the k that fits
                   best in-sample; in a tuned run directory, the agreement at each learning
                   rate of the grid alone, from the trials (one seed, validation accuracy).
                   None of these is used for any verdict
"""
from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import ActlabError
from ...experiments.stats import t_interval
from ...experiments.tune import tune_from_dict
from ...experiments.verdicts import judge
from ...nn.init import parse_init
from ..common import FINISHED, NOT_MEASURED, data_name

K = 6.0                   # Schoenholz et al. 2017: trainable while depth ≲ 6ξ_c
TRAINABLE_ACC = 0.5       # test accuracy that counts as trained (chance is 10 % on both data sets)
Q_IN = 1.0                # mean squared input coordinate (inputs are standardised)
K_FITS = np.round(np.geomspace(0.5, 32, 25), 3)  # k values scanned for the in-sample best fit
PAPERS = {"tanh": "Schoenholz et al. 2017 (Fig. 5–6, MNIST/CIFAR-10): trainable while depth ≲ 6ξ_c"}
NO_PAPER = "no paper: actlab's extension of Schoenholz et al. 2017 to this activation"


# ------------------------------------------------------------------ the grid


def cells(df: pd.DataFrame) -> pd.DataFrame:
    """One row per finished run of the grid (the finals of a tuned run directory): act, C_W, C_b, depth,
    seed, lr, acc (test accuracy; diverged → 0), trainable."""
    runs = df[df["status"].isin(FINISHED)] if "status" in df.columns else df.iloc[0:0]
    if "phase" in runs.columns:
        runs = pd.concat([runs[runs["phase"] == "final"], _diverged_everywhere(df)], ignore_index=True)
    return _grid_rows(runs, "test_acc")


def trial_cells(df: pd.DataFrame) -> pd.DataFrame:
    """As `cells`, over the finished trials of a tuned run directory: every learning rate of the grid,
    at the trial seed, acc = validation accuracy (the trials never see the test set)."""
    if "phase" not in df.columns:
        return _grid_rows(df.iloc[0:0], "val_acc")
    return _grid_rows(df[(df["phase"] == "trial") & df["status"].isin(FINISHED)], "val_acc")


def _grid_rows(runs: pd.DataFrame, metric: str) -> pd.DataFrame:
    rows = []
    for r in runs.to_dict("records"):
        name, params = parse_init(r.get("init") or "default")
        if name != "gaussian":
            continue
        acc = 0.0 if r["status"] == "diverged" else float(r.get(metric) or 0.0)
        acc = 0.0 if math.isnan(acc) else acc
        rows.append({"act": str(r["act"]), "C_W": params["c_w"], "C_b": params["c_b"], "depth": int(r["depth"]),
                     "seed": int(r["seed"]), "lr": float(r.get("lr", math.nan)), "acc": acc,
                     "trainable": acc >= TRAINABLE_ACC, "diverged": r["status"] == "diverged"})
    return pd.DataFrame(rows, columns=["act", "C_W", "C_b", "depth", "seed", "lr", "acc", "trainable", "diverged"])


def _diverged_everywhere(df: pd.DataFrame) -> pd.DataFrame:
    """Stand-in finals (status diverged, no lr) for every final seed of each arm whose trials all
    diverged: the protocol selects nothing there, so the arm has no finals, but its outcome is known."""
    tune = df.attrs.get("meta", {}).get("tune")
    trials = df[df["phase"] == "trial"]
    if tune is None or trials.empty:
        return df.iloc[0:0]
    with_finals = set(df.loc[df["phase"] == "final", "arm"])
    out = []
    for arm, part in trials.groupby("arm", sort=False):
        if arm not in with_finals and len(part) == tune["trials"] and (part["status"] == "diverged").all():
            out += [{**part.iloc[0].to_dict(), "seed": seed, "lr": math.nan} for seed in tune["final_seeds"]]
    return pd.DataFrame(out, columns=df.columns)


@lru_cache(maxsize=64)
def xi_c(act: str, C_b: float, C_W: tuple) -> tuple:
    """(ξ_c, phase) per C_W (a tuple) at C_b, from K⁽¹⁾ = C_b + C_W·Q_IN; (None, reason) when the
    activation has no two-input kernel (group activations)."""
    from ...theory.depth import scales_grid

    cw = np.asarray(C_W, float)
    try:
        g = scales_grid(act, C_b, cw, q0=C_b + cw * Q_IN)
    except ActlabError as exc:
        return None, str(exc)
    return tuple(float(x) for x in g["xi_c"]), tuple(str(p) for p in g["phase"])


def predicted(grid: pd.DataFrame) -> pd.DataFrame:
    """`grid` (from `cells`) with columns xi_c, phase and predicted (True/False, None: no prediction)."""
    out = []
    for (act, C_b), part in grid.groupby(["act", "C_b"], sort=False):
        cws = tuple(sorted(part["C_W"].unique()))
        xi, phase = xi_c(act, float(C_b), cws)
        part = part.copy()
        if xi is None:
            part["xi_c"], part["phase"], part["predicted"] = math.nan, "n/a", None
        else:
            lookup = dict(zip(cws, zip(xi, phase)))
            part["xi_c"] = [lookup[c][0] for c in part["C_W"]]
            part["phase"] = [lookup[c][1] for c in part["C_W"]]
            part["predicted"] = [None if math.isnan(x) else bool(d < K * x) for d, x in zip(part["depth"], part["xi_c"])]
        out.append(part)
    return pd.concat(out, ignore_index=True) if out else grid.assign(xi_c=[], phase=[], predicted=[])


# ------------------------------------------------------------------ scores


def _agreement(part: pd.DataFrame, k: float = K) -> dict:
    """seed -> share of cells where depth < k·ξ_c matches trainable (predicted cells only)."""
    out = {}
    for seed, rows in part.groupby("seed"):
        pred = rows["depth"] < k * rows["xi_c"]
        out[int(seed)] = float((pred == rows["trainable"]).mean())
    return out


def _majority(part: pd.DataFrame) -> dict:
    return {int(s): float(max(r["trainable"].mean(), 1 - r["trainable"].mean())) for s, r in part.groupby("seed")}


def _depth_only(part: pd.DataFrame) -> dict:
    """seed -> agreement of the best single depth cutoff (trainable iff depth ≤ D, any D), in-sample."""
    out = {}
    cutoffs = [0, *sorted(part["depth"].unique())]
    for seed, rows in part.groupby("seed"):
        out[int(seed)] = max(float(((rows["depth"] <= d) == rows["trainable"]).mean()) for d in cutoffs)
    return out


def _best_k(part: pd.DataFrame) -> tuple:
    means = [np.mean(list(_agreement(part, k).values())) for k in K_FITS]
    best = int(np.argmax(means))
    return float(K_FITS[best]), float(means[best])


def _fmt(values: dict) -> str:
    return t_interval(list(values.values())).fmt(3)


# ------------------------------------------------------------------ claims


def claims(df: pd.DataFrame, profile: str) -> list:
    grid = cells(df)
    if grid.empty:
        return [{"claim": f"depth < {K:g}ξ_c predicts trainability", "paper": PAPERS["tanh"],
                 "measured": "no finished run of the grid", "verdict": NOT_MEASURED}]
    grid = predicted(grid)
    return [_claim(act, part, data_name(df)) for act, part in grid.groupby("act", sort=False)]


def _claim(act: str, part: pd.DataFrame, data: str) -> dict:
    claim = {"claim": f"{act}: depth < {K:g}ξ_c predicts which networks train (test accuracy ≥ "
                      f"{100 * TRAINABLE_ACC:.0f} % after the budget) better than the majority label",
             "paper": PAPERS.get(act, NO_PAPER)}
    known = part[part["predicted"].notna()]
    unknown = part[part["predicted"].isna()]
    n_cells = part.groupby(["C_W", "depth"]).ngroups
    gap = ""
    if len(unknown):
        why = ("depth scales not implemented for this activation" if (unknown["phase"] == "n/a").all()
               else "no finite q* (phase unbounded)")
        gap = (f"; {unknown.groupby(['C_W', 'depth']).ngroups} of {n_cells} cells have no prediction ({why}): "
               f"{100 * unknown['trainable'].mean():.0f} % of their runs trained, "
               f"{100 * unknown['diverged'].mean():.0f} % diverged")
    if known.empty:
        return {**claim, "measured": f"no cell with a prediction on {data}{gap}", "verdict": NOT_MEASURED}
    agree, majority = _agreement(known), _majority(known)
    verdict = judge(agree, majority, ">")
    k_best, k_agree = _best_k(known)
    measured = (f"{data}, {known.groupby(['C_W', 'depth']).ngroups} cells with a prediction × {known['seed'].nunique()} "
                f"seeds: agreement {_fmt(agree)} vs majority label {_fmt(majority)} ({verdict.cell()}; {verdict.why}); "
                f"best depth-only cutoff {_fmt(_depth_only(known))} (in-sample); best k in-sample {k_best:g} "
                f"(agreement {k_agree:.3f}){gap}")
    return {**claim, "measured": measured, "verdict": verdict.verdict}


# ------------------------------------------------------------------ report sections and figures


def sections(df: pd.DataFrame, profile: str) -> list:
    """Per activation: the grid as a table (mean test accuracy over seeds; ✓/✗ the prediction)."""
    grid = cells(df)
    if grid.empty:
        return []
    grid = predicted(grid)
    lines = ["## The grid", "",
             f"Mean test accuracy over seeds per (C_W, depth); ✓ predicted trainable (depth < {K:g}ξ_c), "
             "✗ predicted untrainable, – no prediction; **bold** where the mean run trained "
             f"(accuracy ≥ {100 * TRAINABLE_ACC:.0f} %). C_b = "
             + ", ".join(f"{c:g}" for c in sorted(grid["C_b"].unique()))
             + f"; ξ_c from K⁽¹⁾ = C_b + C_W (standardised inputs). Learning rate: {_lr_rule(df)}.", ""]
    depths = sorted(grid["depth"].unique())
    tuned = "tune" in df.attrs.get("meta", {})
    for act, part in grid.groupby("act", sort=False):
        lines += [f"### {act}", "", "| C_W | phase | ξ_c | " + " | ".join(f"depth {d}" for d in depths) + " |",
                  "| --- " * (len(depths) + 3) + "|"]
        for cw, rows in part.groupby("C_W"):
            first = rows.iloc[0]
            xi = "–" if math.isnan(first["xi_c"]) else f"{first['xi_c']:.3g}"
            row = [f"{cw:g}", str(first["phase"]), xi]
            for d in depths:
                at = rows[rows["depth"] == d]
                if at.empty:
                    row.append("")
                    continue
                acc = at["acc"].mean()
                mark = {True: "✓", False: "✗"}.get(at["predicted"].iloc[0], "–")
                text = f"{100 * acc:.0f} % {mark}" + _lr_of(at, tuned)
                row.append(f"**{text}**" if acc >= TRAINABLE_ACC else text)
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
    return lines + _each_lr(df, grid)


def _each_lr(df: pd.DataFrame, grid: pd.DataFrame) -> list:
    """How the prediction fares at each learning rate of the grid alone (the trials: seed `[tune] seed`,
    validation accuracy) beside the per-cell selection (the finals): does the verdict hinge on one rate?"""
    trials = trial_cells(df)
    if trials.empty:
        return []
    trials = predicted(trials)
    trials, grid = trials[trials["predicted"].notna()], grid[grid["predicted"].notna()]
    lrs = sorted(trials["lr"].unique(), reverse=True)
    lines = ["## Each learning rate alone", "",
             f"Agreement of depth < {K:g}ξ_c with who trained, per activation, if every cell had run at one "
             "learning rate of the grid (the trials: one seed, trainable = validation accuracy ≥ "
             f"{100 * TRAINABLE_ACC:.0f} %), beside the per-cell selection the claims use (the finals: test "
             "accuracy, mean over seeds). In brackets the majority label of the same runs and the share that "
             "trained. Descriptive, in-sample: no verdict rests on it.", "",
             "| activation | " + " | ".join(f"lr {lr:g}" for lr in lrs) + " | selected per cell |",
             "| --- " * (len(lrs) + 2) + "|"]
    for act, part in trials.groupby("act", sort=False):
        row = [act, *(_score(part[part["lr"] == lr]) for lr in lrs), _score(grid[grid["act"] == act])]
        lines.append("| " + " | ".join(row) + " |")
    return lines + [""]


def _score(rows: pd.DataFrame) -> str:
    if rows.empty:
        return "–"
    agree, majority = np.mean(list(_agreement(rows).values())), np.mean(list(_majority(rows).values()))
    return f"{agree:.3f} ({majority:.3f}; {100 * rows['trainable'].mean():.0f} % trained)"


def _lr_rule(df: pd.DataFrame) -> str:
    meta = df.attrs.get("meta", {})
    if "tune" not in meta:
        return "one fixed value for every cell and activation (the spec's `lr`), not tuned"
    searched = "; ".join(p.describe() for p in tune_from_dict(meta["tune"]).params.values())
    return (f"selected per cell ({searched}) on the validation split (the protocol below); the cell shows "
            "the selected value after the accuracy, – where every trial diverged (counted as diverged finals)")


def _lr_of(at: pd.DataFrame, tuned: bool) -> str:
    """' · 0.001': the selected learning rate (the finals of one cell share their selected lr)."""
    if not tuned or at.empty:
        return ""
    lr = at["lr"].iloc[0]
    return " · –" if math.isnan(lr) else f" · {lr:g}"


def figures(df: pd.DataFrame, run_dir: Path, out: Path) -> list:
    """Heatmap of mean test accuracy over (C_W, depth) per activation, with the predicted
    boundary depth = 6ξ_c(C_W) (and the critical C_W) overlaid; data as CSV."""
    grid = cells(df)
    if grid.empty:
        return []
    grid = predicted(grid)
    grid.groupby(["act", "C_b", "C_W", "depth"], as_index=False).agg(
        acc=("acc", "mean"), trained=("trainable", "mean"), seeds=("seed", "nunique"), xi_c=("xi_c", "first"),
        phase=("phase", "first"), predicted=("predicted", "first"), lr=("lr", "first")).to_csv(out / "signal_grid.csv", index=False)
    heatmap(grid, out / "signal_heatmap.png")
    return [("Trainability over (C_W, depth) and the predicted boundary depth = 6ξ_c",
             "signal_heatmap.png", "signal_grid.csv")]


def heatmap(grid: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ...theory.depth import order_chaos_line

    acts = list(dict.fromkeys(grid["act"]))
    fig, axes = plt.subplots(1, len(acts), figsize=(4.4 * len(acts), 3.9), squeeze=False, constrained_layout=True)
    for ax, act in zip(axes[0], acts):
        part = grid[grid["act"] == act]
        C_b = float(part["C_b"].iloc[0])
        mean = part.groupby(["depth", "C_W"])["acc"].mean().unstack()
        cws, depths = mean.columns.to_numpy(float), mean.index.to_numpy(float)
        mesh = ax.pcolormesh(_edges(cws), _edges(depths), mean.to_numpy(), vmin=0, vmax=1, cmap="viridis")
        fine = tuple(np.geomspace(cws.min() / 1.3, cws.max() * 1.3, 48))
        xi, _ = xi_c(act, C_b, fine)
        if xi is not None:
            ax.plot(fine, K * np.asarray(xi), color="white", lw=2, label=f"{K:g}ξ_c")
            try:
                critical = float(order_chaos_line(act, [C_b])[0])
            except ActlabError:
                critical = math.nan
            if math.isfinite(critical):
                ax.axvline(critical, color="white", ls=":", lw=1, label="critical C_W")
            ax.legend(fontsize=7, loc="lower right", framealpha=0.6)
        else:
            ax.text(0.5, 0.5, "no ξ_c", transform=ax.transAxes, ha="center", color="white")
        ax.set_xscale("log")
        ax.set_yscale("log", base=2)
        ax.set_xlim(_edges(cws)[0], _edges(cws)[-1])
        ax.set_ylim(_edges(depths)[0], _edges(depths)[-1])
        ax.set_xlabel("C_W = σ_w²")
        ax.set_ylabel("depth (hidden layers)")
        ax.set_title(f"{act}, C_b = {C_b:g}", fontsize=9)
    fig.colorbar(mesh, ax=axes[0].tolist(), label="test accuracy (mean over seeds)")
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _edges(values: np.ndarray) -> np.ndarray:
    """Cell edges on a log axis: geometric midpoints, the ends mirrored."""
    v = np.sort(np.asarray(values, float))
    if len(v) == 1:
        return np.array([v[0] / 1.5, v[0] * 1.5])
    mid = np.sqrt(v[1:] * v[:-1])
    return np.concatenate([[v[0] ** 2 / mid[0]], mid, [v[-1] ** 2 / mid[-1]]])
