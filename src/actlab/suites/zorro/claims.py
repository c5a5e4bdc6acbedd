"""Claims of the zorro suite (Roodschild, Gotay-Sardiñas, Jimenez, Will, "Zorro: A Flexible and
Differentiable Parametric Family of Activation Functions That Extends ReLU and GELU",
arXiv 2409.19239), from a run under the protocol and from fits made when the report is built.

Every arm (activation x architecture) got the same learning-rate candidates and trial budget,
was selected on a validation split and retrained on the final seeds (docs/protocol.md). The
abstract's claims, turned into checks (the paper's tables could not be read, so no figure of
theirs is compared):

    effective in X     for each Zorro variant V and each baseline B of ReLU, GELU, Swish:
                       V ≥ B − MARGIN on the finals' test accuracy, in architecture X (fully
                       connected without normalisation, with BatchNorm, CNN, ViT where run),
                       by the verdict rules of actlab.experiments.verdicts
    no neuron death    every Zorro variant's mean dead-unit fraction over its finals ≤ DEAD_MAX
                       (fully connected, no normalisation; ReLU shown for contrast)
    no explosions      no Zorro final diverged or produced NaN/Inf (trials at learning rates
                       the selection rejected are counted beside it)
    approximates T     the best affine Zorro fit to T (Swish, GELU, DGELU) has
                       max |error| ≤ FIT_MAX_ERROR on [−4, 4]
"""
from __future__ import annotations

import math

from ...experiments.stats import t_interval
from ...experiments.verdicts import claim_row, finals_by_arm

from ..common import NOT_MEASURED, NOT_REPRODUCED, REPRODUCED, data_name, pct
from ..figures import interval_bars
from . import fits

BASELINES = ("relu", "gelu", "silu")
BASELINE_NAMES = {"relu": "ReLU", "gelu": "GELU", "silu": "Swish"}
MARGIN = 0.01
DEAD_MAX = 0.01
FIT_MAX_ERROR = 0.05
PAPER = "abstract (no figure)"
METRIC = "test_acc"
ARCHITECTURES = (("fc", "fully connected nets without normalisation"),
                 ("fc_bn", "fully connected nets with BatchNorm"),
                 ("cnn", "a small CNN"), ("vit", "a small Transformer (patch ViT)"))
SHORT_NAMES = {"fc": "MLP", "fc_bn": "MLP + BatchNorm", "cnn": "CNN", "vit": "ViT"}


def architecture(row) -> str:
    model = str(row.get("model", "mlp"))
    if model == "mlp":
        norm = str(row.get("norm") or "none").lower()
        return "fc_bn" if norm == "batchnorm" else "fc" if norm in ("none", "nan") else f"fc_{norm}"
    return model


def _arms(df) -> dict:
    """(architecture, activation) -> arm id, over the finals."""
    finals = df[df["phase"] == "final"]
    return {(architecture(r), str(r["act"])): r["arm"] for r in finals.drop_duplicates("arm").to_dict("records")}


def claims(df, profile: str) -> list:
    """The claims table of a zorro run (see the module docstring)."""
    if "phase" not in df.columns:
        return [{"claim": "zorro claims", "paper": PAPER, "measured": "this run directory was not made under the "
                 "protocol ([tune]); rerun `actlab reproduce zorro`", "verdict": NOT_MEASURED}]
    arms, values = _arms(df), finals_by_arm(df, METRIC)
    rows = []
    for arch, text in ARCHITECTURES:
        zorros = sorted(a for (x, a) in arms if x == arch and a.startswith("zorro"))
        for variant in zorros:
            for base in BASELINES:
                if (arch, base) not in arms:
                    continue
                a, b = values.get(arms[(arch, variant)], {}), values.get(arms[(arch, base)], {})
                row = claim_row(f"{variant} is as accurate as {BASELINE_NAMES[base]} in {text}: at least its test "
                                f"accuracy − {100 * MARGIN:.0f} pp ({data_name(df)})", PAPER, a, b, ">", -MARGIN)
                row["measured"] = f"{_mean(a)} vs {_mean(b)}; {row['measured']}"
                rows.append(row)
    rows += [_dead_units(df), _no_explosions(df)]
    best = {}
    for label, fit in fits.all_fits(profile):
        if label not in best or fit.max_error < best[label].max_error:
            best[label] = fit
    rows += [_approximates(label, fit) for label, fit in best.items()]
    return rows


def _mean(seeds: dict) -> str:
    ci = t_interval(list(seeds.values()))
    return pct(ci.mean) if math.isfinite(ci.mean) else "–"


def _finals(df):
    finals = df[(df["phase"] == "final") & df["status"].isin(["done", "diverged", "collapsed"])].copy()
    finals["arch"] = [architecture(r) for r in finals.to_dict("records")]
    return finals


def _dead_units(df) -> dict:
    claim = {"claim": f"No neuron death: every Zorro variant's dead-unit fraction ≤ {pct(DEAD_MAX)} "
                      f"(fully connected, no normalisation, end of training; mean over final seeds)", "paper": PAPER}
    fc = _finals(df)
    fc = fc[fc["arch"] == "fc"]
    if fc.empty or "dead_fraction" not in fc.columns:
        return {**claim, "measured": "no finished fully connected final", "verdict": NOT_MEASURED}
    dead = fc.groupby("act", sort=False)["dead_fraction"].mean().dropna()
    zorro = dead[[a.startswith("zorro") for a in dead.index]]
    if zorro.empty:
        return {**claim, "measured": "no finished Zorro final", "verdict": NOT_MEASURED}
    text = ", ".join(f"{a} {pct(v)}" for a, v in zorro.items())
    if "relu" in dead.index:
        text += f"; relu {pct(dead['relu'])}"
    return {**claim, "measured": text, "verdict": REPRODUCED if zorro.max() <= DEAD_MAX else NOT_REPRODUCED}


def _no_explosions(df) -> dict:
    claim = {"claim": "No gradient explosions: no Zorro final (at its selected learning rate) diverges or produces "
                      "NaN/Inf", "paper": PAPER}
    finals = _finals(df)
    zorro = finals[finals["act"].astype(str).str.startswith("zorro")]
    if zorro.empty:
        return {**claim, "measured": "no finished Zorro final", "verdict": NOT_MEASURED}
    diverged = int((zorro["status"] == "diverged").sum())
    nonfinite = int(zorro["nonfinite_count"].fillna(0).sum()) if "nonfinite_count" in zorro else 0
    trials = df[(df["phase"] == "trial") & df["act"].astype(str).str.startswith("zorro")]
    trial_div = int((trials["status"] == "diverged").sum())
    text = (f"{len(zorro)} Zorro finals: {diverged} diverged, {nonfinite} NaN/Inf; trials: {trial_div} of "
            f"{len(trials)} diverged (learning rates the selection did not keep)")
    return {**claim, "measured": text, "verdict": REPRODUCED if diverged == 0 and nonfinite == 0 else NOT_REPRODUCED}


def _approximates(label: str, fit) -> dict:
    lo, hi = fit.interval
    return {"claim": f"Zorro approximates {label}: best affine fit α·Z(β·x + γ) + δ has max |error| ≤ "
                     f"{FIT_MAX_ERROR:g} on [{lo:g}, {hi:g}]",
            "paper": PAPER,
            "measured": f"{fit.variant}: rmse {fit.rmse:.2e}, max error {fit.max_error:.2e}",
            "verdict": REPRODUCED if fit.max_error <= FIT_MAX_ERROR else NOT_REPRODUCED}


def sections(df, profile: str) -> list:
    """The fit table (every variant fitted to each target) and test accuracy per activation and architecture."""
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
    if "phase" not in df.columns:
        return lines
    arms, values = _arms(df), finals_by_arm(df, METRIC)
    archs = [a for a, _ in ARCHITECTURES if any(x == a for x, _ in arms)]
    acts = list(dict.fromkeys(act for _, act in arms))
    lines += ["", "## Test accuracy per architecture", "",
              "Finals at each arm's selected learning rate: mean over the final seeds, 95 % t-interval.", "",
              "| activation | " + " | ".join(archs) + " |", "| --- " * (len(archs) + 1) + "|"]
    for act in acts:
        cells = []
        for arch in archs:
            ci = t_interval(list(values.get(arms.get((arch, act)), {}).values()))
            cells.append(ci.fmt(3) if ci.n else "–")
        lines.append(f"| {act} | " + " | ".join(cells) + " |")
    return lines


def figures(df, run_dir, out) -> list:
    """Test accuracy of every activation in every architecture (finals, 95 % intervals)."""
    if "phase" not in df.columns:
        return []
    arms, values = _arms(df), finals_by_arm(df, METRIC)
    groups: dict = {}
    for (arch, act), arm in arms.items():
        groups.setdefault(SHORT_NAMES.get(arch, arch), {})[act] = t_interval(list(values.get(arm, {}).values()))
    return [interval_bars(out, "zorro_accuracy", groups, "test accuracy per architecture and activation "
                          "(finals: mean, 95 % t-interval)", "test accuracy")]
