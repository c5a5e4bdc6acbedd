"""Claims of the zplane suite (Goo, Yun, Jung, "Z-Plane Neural Networks: Bounded Geometric
Activation Replaces ReLU and LayerNorm", arXiv 2606.15669), from a run under the protocol.

The suite's specs are tuned (docs/protocol.md): every arm (a model x an initialisation) got
the same learning-rate candidates and trial budget, was selected on a validation split, and
its selection was retrained on the final seeds. Here each *family* (RB pairs, the deep linear
control, ReLU + LayerNorm, ...) is represented by its initialisation with the best mean
validation accuracy over its finals (never the test set), and the claims compare families on
the finals' test accuracy with the verdict rules of actlab.experiments.verdicts:

    beats the control   RB pairs > deep linear network (the floor any activation claim must beat)
    replaces X          RB pairs ≥ X − MARGIN, for every other family X: ReLU + LayerNorm, ReLU,
                        tanh, and any control or baseline the spec adds, RB's own whole-vector
                        form aside (it is in the sections' table) (the title's "replaces
                        ReLU and LayerNorm" read as non-inferiority; "contradicted" = X is better
                        by more than MARGIN with 95 % confidence: a claim RB loses)

The paper's one figure, 98.34 % on MNIST at depth 100, is judged only on MNIST runs;
elsewhere that row is "not measured". "RB pairs" is Radial Bounding on phasor pairs (group
size 2, actlab's reading); the whole-vector form is reported as a family of its own.
"""
from __future__ import annotations

import math

from actlab.experiments.stats import t_interval
from actlab.experiments.verdicts import claim_row, finals_by_arm, pick_arm

from ..common import NOT_MEASURED, data_is, data_name, pct, with_variant

PAPER_MNIST_ACC = 0.9834
MARGIN = 0.01
RB = "RB pairs"
CONTROL = "identity"
METRIC = "test_acc"


def family(row) -> str:
    """A final's family: its variant (common.variant) without the initialisation."""
    return "deep linear (identity)" if row["variant"] == CONTROL else row["variant"]


def _families(df) -> dict:
    """family -> (chosen arm id, its initialisation) over the finals, chosen on validation accuracy."""
    finals = with_variant(df[df["phase"] == "final"])
    finals["family"] = [family(r) for r in finals.to_dict("records")]
    out = {}
    for name, part in finals.groupby("family", sort=False):
        arm = pick_arm(df, list(part["arm"].unique()))
        if arm is not None:
            out[name] = (arm, part.loc[part["arm"] == arm, "init"].iloc[0])
    return out


def claims(df, profile: str) -> list:
    """The claims table of a zplane run (see the module docstring)."""
    if "phase" not in df.columns:
        return [{"claim": "zplane claims", "paper": "–", "measured": "this run directory was not made under the "
                 "protocol ([tune]); rerun `actlab reproduce zplane`", "verdict": NOT_MEASURED}]
    families = _families(df)
    values = finals_by_arm(df, METRIC)
    rows = [_mnist(df, families, values)]
    if RB not in families:
        return rows + [{"claim": f"{RB} against the controls and baselines", "paper": "title claim",
                        "measured": f"no finished {RB} finals", "verdict": NOT_MEASURED}]
    rb_arm, rb_init = families[RB]
    depth = int(df["depth"].dropna().max())
    for name, (arm, init) in families.items():
        if name.startswith("RB"):  # RB itself and its whole-vector form (in the sections' table)
            continue
        control = name.startswith("deep linear")
        what = (f"{RB} beats the deep linear control (identity activation, same depth, inits and tuning)"
                if control else f"{RB} replaces {name}: its test accuracy is at least {name}'s − "
                                f"{100 * MARGIN:.0f} pp")
        row = claim_row(f"{what}; depth {depth}, {data_name(df)}, each at its initialisation chosen on validation",
                        "title claim (no figure)", values.get(rb_arm, {}), values.get(arm, {}), ">",
                        0.0 if control else -MARGIN)
        row["measured"] = (f"{RB} ({rb_init}) {_mean(values.get(rb_arm))} vs {name} ({init}) "
                           f"{_mean(values.get(arm))}; {row['measured']}")
        rows.append(row)
    return rows


def _mean(seeds) -> str:
    ci = t_interval(list((seeds or {}).values()))
    return pct(ci.mean) if math.isfinite(ci.mean) else "–"


def _mnist(df, families: dict, values: dict) -> dict:
    claim = {"claim": "A 100-layer MLP with Radial Bounding, no ReLU, no LayerNorm, reaches the paper's MNIST test "
                      "accuracy (within 0.5 pp)", "paper": pct(PAPER_MNIST_ACC)}
    finals = df[df["phase"] == "final"]
    if not data_is(finals, "mnist").any() or RB not in families:
        seen = _mean(values.get(families[RB][0])) if RB in families else "–"
        return {**claim, "measured": f"no MNIST runs here (MNIST is read only from user-given files); on "
                                     f"{data_name(df)} at depth {int(df['depth'].dropna().max())} {RB} reached "
                                     f"{seen} (not comparable)", "verdict": NOT_MEASURED}
    ci = t_interval(list(values.get(families[RB][0], {}).values()))
    verdict = "inconclusive" if not math.isfinite(ci.lo) else (
        "reproduced" if ci.lo <= PAPER_MNIST_ACC + 0.005 and ci.hi >= PAPER_MNIST_ACC - 0.005 else
        "contradicted")
    return {**claim, "measured": f"{ci.fmt()} (95 % CI, n = {ci.n} seeds)", "verdict": verdict}


def sections(df, profile: str) -> list:
    """Which initialisation represents each family, with its validation and test accuracy."""
    if "phase" not in df.columns:
        return []
    families = _families(df)
    val, test = finals_by_arm(df, "val_acc"), finals_by_arm(df, METRIC)
    lines = ["## Families and their initialisation", "",
             "Each family is represented in the claims by the initialisation whose finals have the best mean "
             "validation accuracy (chosen without the test set). Test accuracy: mean ± std, 95 % t-interval, "
             "n seeds.", "", "| family | initialisation | validation acc | test acc | 95 % CI | n |",
             "| --- | --- | --- | --- | --- | --- |"]
    for name, (arm, init) in families.items():
        v, t = t_interval(list(val.get(arm, {}).values())), t_interval(list(test.get(arm, {}).values()))
        spread = f" ± {100 * t.std:.2f}" if math.isfinite(t.std) else ""
        ci = f"[{pct(t.lo)}, {pct(t.hi)}]" if math.isfinite(t.lo) else "–"
        lines.append(f"| {name} | {init} | {pct(v.mean)} | {pct(t.mean)}{spread} | {ci} | {t.n} |")
    return lines
