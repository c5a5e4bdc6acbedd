"""Claims of the zorro suite (Roodschild, Gotay-Sardiñas, Jimenez, Will, "Zorro: A Flexible and
Differentiable Parametric Family of Activation Functions That Extends ReLU and GELU",
arXiv 2409.19239), computed from a run's results and from fits made when the report is built.

The abstract's claims, turned into checks with thresholds chosen by actlab (the paper's
tables could not be read, so no figure of theirs is compared):

    effective in X     best Zorro variant ≥ best of ReLU, GELU, Swish − MATCH_TOL, for X =
                       fully connected without normalisation, with BatchNorm, CNN, ViT
                       (accuracy: mean over depths and seeds; a diverged run counts as 0 %)
    no neuron death    every Zorro variant's mean dead-unit fraction ≤ DEAD_MAX
                       (fully connected, no normalisation; ReLU shown for contrast)
    no explosions      no Zorro run diverged or produced NaN/Inf
    approximates T     the best affine Zorro fit to T (Swish, GELU, DGELU) has
                       max |error| ≤ FIT_MAX_ERROR on [−4, 4]
"""
from __future__ import annotations

from pathlib import Path

from ..common import (FINISHED, NOT_MEASURED, NOT_REPRODUCED, REPRODUCED, data_name, mean_acc, pct,
                                               with_variant)
from . import fits

BASELINES = ("relu", "gelu", "silu")
MATCH_TOL = 0.01
DEAD_MAX = 0.01
FIT_MAX_ERROR = 0.05
PAPER = "abstract (no figure)"
ARCHITECTURES = (("fc", "fully connected nets without normalisation (depth 3–20)"),
                 ("fc_bn", "fully connected nets with BatchNorm (depth 3–20)"),
                 ("cnn", "a small CNN"), ("vit", "a small Transformer (patch ViT)"))


def architecture(row) -> str:
    model = str(row.get("model", "mlp"))
    if model == "mlp":
        norm = str(row.get("norm") or "none").lower()
        return "fc_bn" if norm == "batchnorm" else "fc" if norm in ("none", "nan") else f"fc_{norm}"
    return model


def _frame(df):
    df = with_variant(df)
    df["arch"] = [architecture(r) for r in df.to_dict("records")]
    df["zorro"] = df["act"].astype(str).str.startswith("zorro")
    return df


def claims(df, profile: str) -> list:
    """The claims table of a zorro run (see the module docstring)."""
    df = _frame(df)
    rows = [_effective(df, arch, text) for arch, text in ARCHITECTURES]
    rows += [_dead_units(df), _no_explosions(df)]
    best = {}
    for label, fit in fits.all_fits(profile):
        if label not in best or fit.max_error < best[label].max_error:
            best[label] = fit
    rows += [_approximates(label, fit) for label, fit in best.items()]
    return rows


def _by_act(rows) -> dict:
    return {act: mean_acc(part) for act, part in rows.groupby("act", sort=False)}


def _effective(df, arch: str, text: str) -> dict:
    claim = {"claim": f"Zorro is effective in {text}: best Zorro variant ≥ best of ReLU, GELU, Swish − "
                      f"{100 * MATCH_TOL:.0f} pp", "paper": PAPER}
    acc = {a: v for a, v in _by_act(df[df["arch"] == arch]).items() if v is not None}
    zorro = {a: v for a, v in acc.items() if a.startswith("zorro")}
    base = {a: v for a, v in acc.items() if a in BASELINES}
    if not zorro or not base:
        return {**claim, "measured": "no finished runs of both kinds", "verdict": NOT_MEASURED}
    z, b = max(zorro, key=zorro.get), max(base, key=base.get)
    text = f"{z} {pct(zorro[z])} vs {b} {pct(base[b])} on {data_name(df)}"
    return {**claim, "measured": text, "verdict": REPRODUCED if zorro[z] >= base[b] - MATCH_TOL else NOT_REPRODUCED}


def _dead_units(df) -> dict:
    claim = {"claim": f"No neuron death: every Zorro variant's dead-unit fraction ≤ {pct(DEAD_MAX)} "
                      f"(fully connected, no normalisation, end of training)", "paper": PAPER}
    fc = df[(df["arch"] == "fc") & df["status"].isin(["done", "collapsed"])]
    if fc.empty or "dead_fraction" not in fc.columns:
        return {**claim, "measured": "no finished fully connected run", "verdict": NOT_MEASURED}
    dead = fc.groupby("act", sort=False)["dead_fraction"].mean().dropna()
    zorro = dead[[a.startswith("zorro") for a in dead.index]]
    if zorro.empty:
        return {**claim, "measured": "no finished Zorro run", "verdict": NOT_MEASURED}
    text = ", ".join(f"{a} {pct(v)}" for a, v in zorro.items())
    if "relu" in dead.index:
        text += f"; relu {pct(dead['relu'])}"
    return {**claim, "measured": text, "verdict": REPRODUCED if zorro.max() <= DEAD_MAX else NOT_REPRODUCED}


def _no_explosions(df) -> dict:
    claim = {"claim": "No gradient explosions: no Zorro run diverges or produces NaN/Inf", "paper": PAPER}
    zorro = df[df["zorro"] & df["status"].isin(FINISHED)]
    if zorro.empty:
        return {**claim, "measured": "no finished Zorro run", "verdict": NOT_MEASURED}
    diverged = int((zorro["status"] == "diverged").sum())
    nonfinite = int(zorro["nonfinite_count"].fillna(0).sum()) if "nonfinite_count" in zorro else 0
    largest = zorro["grad_norm_first"].max() if "grad_norm_first" in zorro else float("nan")
    text = (f"{len(zorro)} Zorro runs: {diverged} diverged, {nonfinite} NaN/Inf; "
            f"largest first-layer grad norm {largest:.3g}")
    return {**claim, "measured": text, "verdict": REPRODUCED if diverged == 0 and nonfinite == 0 else NOT_REPRODUCED}


def _approximates(label: str, fit) -> dict:
    lo, hi = fit.interval
    return {"claim": f"Zorro approximates {label}: best affine fit α·Z(β·x + γ) + δ has max |error| ≤ "
                     f"{FIT_MAX_ERROR:g} on [{lo:g}, {hi:g}]",
            "paper": PAPER,
            "measured": f"{fit.variant}: rmse {fit.rmse:.2e}, max error {fit.max_error:.2e}",
            "verdict": REPRODUCED if fit.max_error <= FIT_MAX_ERROR else NOT_REPRODUCED}


def sections(df, profile: str) -> list:
    """The fit table (every variant fitted to each target), accuracy per architecture, and figures:
    accuracy and dead-unit fraction vs depth (fully connected), gradient-norm profiles at the deepest."""
    lines = ["## Zorro fitted to Swish, GELU and DGELU", "",
             "Least squares on [−4, 4] with affine maps, target(x) ≈ α·Z(β·x + γ) + δ "
             "(`actlab.activations.fit_zorro`); computed when this report was built"
             + (" on a coarser grid than `actlab fit` (401 points, 100 L-BFGS steps)." if profile == "quick"
                else "."), "",
             "| target | variant and parameters; affine maps | rmse | max error | command |",
             "| --- | --- | --- | --- | --- |"]
    for label, fit in fits.all_fits(profile):
        lines.append(f"| {label} | {fits.describe(fit)} | {fit.rmse:.2e} | {fit.max_error:.2e} "
                     f"| `{fits.fit_command(fit)}` |")
    df = _frame(df)
    table = {}
    for (act, arch), part in df.groupby(["act", "arch"], sort=False):
        table.setdefault(act, {})[arch] = mean_acc(part)
    archs = [a for a, _ in ARCHITECTURES if any(a in v for v in table.values())]
    if archs:
        lines += ["", "## Accuracy per architecture", "",
                  "Test accuracy, mean over depths and seeds (a diverged run counts as 0 %).", "",
                  "| activation | " + " | ".join(archs) + " |", "| --- " * (len(archs) + 1) + "|"]
        for act, accs in table.items():
            lines.append(f"| {act} | " + " | ".join(pct(accs.get(a)) for a in archs) + " |")
    return lines + _figures(df, Path(df.attrs["run_dir"]))


def _figures(df, run_dir: Path) -> list:
    from ..figures import line_figure, run_profile

    out = Path(df.attrs.get("report_dir", run_dir / "report"))  # suite_report sets it (report --out)
    fc = df[df["arch"].isin(["fc", "fc_bn"]) & df["status"].isin(FINISHED)]
    titles = {"fc": "no normalisation", "fc_bn": "BatchNorm"}
    acc_panels, dead_panels = [], []
    for arch in ("fc", "fc_bn"):
        part = fc[fc["arch"] == arch]
        acc, dead = {}, {}
        for act, runs in part.groupby("act", sort=False):
            depths = sorted({int(d) for d in runs["depth"]})
            acc[act] = (depths, [mean_acc(runs[runs["depth"] == d]) for d in depths])
            dead[act] = (depths, [runs[runs["depth"] == d]["dead_fraction"].mean() for d in depths])
        acc_panels.append((titles[arch], acc))
        dead_panels.append((titles[arch], dead))
    lines = line_figure(out, "zorro_fc_accuracy", acc_panels, "depth", "test accuracy",
                        "Fully connected: test accuracy vs depth (a diverged run counts as 0)")
    lines += line_figure(out, "zorro_fc_dead_units", dead_panels, "depth", "dead-unit fraction",
                         "Fully connected: dead-unit fraction at the end of training")
    deepest = fc[fc["depth"] == fc["depth"].max()] if not fc.empty else fc
    panels = []
    for arch in ("fc", "fc_bn"):
        runs = deepest[deepest["arch"] == arch].drop_duplicates("act").to_dict("records")
        series = {r["act"]: run_profile(run_dir, r["id"], "grad_norms_final") for r in runs}
        panels.append((f"{titles[arch]}, end of training",
                       {a: (list(range(1, len(v) + 1)), v) for a, v in series.items() if v}))
    if not deepest.empty:
        lines += line_figure(out, "zorro_fc_grad_profile", panels, "layer", "gradient norm",
                             f"Per-layer gradient norms, fully connected depth {int(deepest['depth'].max())}",
                             logy=True)
    return ["## Figures of the claims", "", *lines] if lines else []
