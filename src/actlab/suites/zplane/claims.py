"""Claims of the zplane suite (Goo, Yun, Jung, "Z-Plane Neural Networks: Bounded Geometric
Activation Replaces ReLU and LayerNorm", arXiv 2606.15669), from a run under the protocol.

The suite's specs are tuned (docs/protocol.md): every arm (a network x an initialisation) got
the same learning-rate candidates and trial budget, was selected on a validation split, and
its selection was retrained on the final seeds. A *family* is a network with every init
(RB pairs, the deep linear control, ReLU + LayerNorm post- and pre-norm, the pre-LN residual
MLP, ...). The claims compare families on the finals' test accuracy with the verdict rules of
actlab.experiments.verdicts, each family represented by its initialisation with the best mean
validation accuracy over its finals (never the test set):

    beats the control   RB pairs > deep linear network (the floor any activation claim must beat)
    replaces X          RB pairs ≥ X − MARGIN, for every other family X (the title's "replaces
                        ReLU and LayerNorm" read as non-inferiority; "contradicted" = X is better
                        by more than MARGIN with 95 % confidence: a claim RB loses)

A section repeats both comparisons at each initialisation (RB and X at the same init). The
paper's one figure, 98.34 % on MNIST at depth 100, is judged only on MNIST runs; elsewhere
that row is "not measured". "RB pairs" is Radial Bounding on phasor pairs (group size 2,
actlab's reading of the paper).
"""
from __future__ import annotations

import math

from ...experiments.stats import t_interval
from ...experiments.verdicts import claim_row, finals_by_arm, judge, pick_arm

from ..common import NOT_MEASURED, data_is, data_name, pct, with_variant
from ..figures import interval_bars

PAPER_MNIST_ACC = 0.9834
MARGIN = 0.01
RB = "RB pairs"
CONTROL = "deep linear (identity)"
METRIC = "test_acc"
PAPER = "title claim (no figure)"
INIT_ORDER = {"default": 0, "orthogonal": 1, "critical": 2}


def family(row) -> str:
    """A final's family: its variant (common.variant) without the initialisation."""
    return CONTROL if row["variant"] == "identity" else row["variant"]


def _family_arms(df) -> dict:
    """family -> {init: arm id} over the finals, families in spec order."""
    finals = with_variant(df[df["phase"] == "final"])
    out: dict = {}
    for r in finals.drop_duplicates("arm").to_dict("records"):
        out.setdefault(family(r), {})[r["init"]] = r["arm"]
    return out


def _chosen(df, arms: dict) -> dict:
    """family -> (arm id, init) of the init with the best mean validation accuracy of its finals."""
    out = {}
    for name, by_init in arms.items():
        arm = pick_arm(df, list(by_init.values()))
        if arm is not None:
            out[name] = (arm, next(i for i, a in by_init.items() if a == arm))
    return out


def _claim(name: str) -> tuple:
    """(claim text, margin) of "RB > family + margin": the control must be beaten outright, the others
    matched within MARGIN."""
    if name == CONTROL:
        return f"{RB} beats the deep linear control (identity activation, same depth, inits and tuning)", 0.0
    return f"{RB} replaces {name}: its test accuracy is at least {name}'s − {100 * MARGIN:.0f} pp", -MARGIN


def claims(df, profile: str) -> list:
    """The claims table of a zplane run (see the module docstring)."""
    if "phase" not in df.columns:
        return [{"claim": "zplane claims", "paper": "–", "measured": "this run directory was not made under the "
                 "protocol ([tune]); rerun `actlab reproduce zplane`", "verdict": NOT_MEASURED}]
    chosen = _chosen(df, _family_arms(df))
    values = finals_by_arm(df, METRIC)
    rows = [_mnist(df, chosen, values)]
    if RB not in chosen:
        return rows + [{"claim": f"{RB} against the controls and baselines", "paper": PAPER,
                        "measured": f"no finished {RB} finals", "verdict": NOT_MEASURED}]
    rb_arm, rb_init = chosen[RB]
    depth = int(df["depth"].dropna().max())
    for name, (arm, init) in chosen.items():
        if name.startswith("RB"):  # RB itself and other RB forms (in the sections' tables)
            continue
        what, margin = _claim(name)
        row = claim_row(f"{what}; depth {depth}, {data_name(df)}, each at its initialisation chosen on validation",
                        PAPER, values.get(rb_arm, {}), values.get(arm, {}), ">", margin)
        row["measured"] = (f"{RB} ({rb_init}) {_mean(values.get(rb_arm))} vs {name} ({init}) "
                           f"{_mean(values.get(arm))}; {row['measured']}")
        rows.append(row)
    return rows


def _mean(seeds) -> str:
    ci = t_interval(list((seeds or {}).values()))
    return pct(ci.mean) if math.isfinite(ci.mean) else "–"


def _mnist(df, chosen: dict, values: dict) -> dict:
    claim = {"claim": "A 100-layer MLP with Radial Bounding, no ReLU, no LayerNorm, reaches the paper's MNIST test "
                      "accuracy (within 0.5 pp)", "paper": pct(PAPER_MNIST_ACC)}
    finals = df[df["phase"] == "final"]
    if not data_is(finals, "mnist").any() or RB not in chosen:
        seen = _mean(values.get(chosen[RB][0])) if RB in chosen else "–"
        return {**claim, "measured": f"no MNIST runs here (MNIST is read only from user-given files); on "
                                     f"{data_name(df)} at depth {int(df['depth'].dropna().max())} {RB} reached "
                                     f"{seen} (not comparable)", "verdict": NOT_MEASURED}
    ci = t_interval(list(values.get(chosen[RB][0], {}).values()))
    verdict = "inconclusive" if not math.isfinite(ci.lo) else (
        "reproduced" if ci.lo <= PAPER_MNIST_ACC + 0.005 and ci.hi >= PAPER_MNIST_ACC - 0.005 else
        "contradicted")
    return {**claim, "measured": f"{ci.fmt()} (95 % CI, n = {ci.n} seeds)", "verdict": verdict}


def sections(df, profile: str) -> list:
    """Which initialisation represents each family, and RB against each family at the same init."""
    if "phase" not in df.columns:
        return []
    arms = _family_arms(df)
    chosen = _chosen(df, arms)
    val, test = finals_by_arm(df, "val_acc"), finals_by_arm(df, METRIC)
    lines = ["## Families and their initialisation", "",
             "Each family is represented in the claims by the initialisation whose finals have the best mean "
             "validation accuracy (chosen without the test set). Test accuracy: mean ± std, 95 % t-interval, "
             "n seeds.", "", "| family | initialisation | validation acc | test acc | 95 % CI | n |",
             "| --- | --- | --- | --- | --- | --- |"]
    for name, (arm, init) in chosen.items():
        v, t = t_interval(list(val.get(arm, {}).values())), t_interval(list(test.get(arm, {}).values()))
        spread = f" ± {100 * t.std:.2f}" if math.isfinite(t.std) else ""
        ci = f"[{pct(t.lo)}, {pct(t.hi)}]" if math.isfinite(t.lo) else "–"
        lines.append(f"| {name} | {init} | {pct(v.mean)} | {pct(t.mean)}{spread} | {ci} | {t.n} |")
    if RB not in arms:
        return lines
    collapsed = _collapsed_arms(df)
    inits = sorted({i for by_init in arms.values() for i in by_init}, key=lambda i: (INIT_ORDER.get(i, len(INIT_ORDER)), i))
    lines += ["", f"## {RB} against each family at the same initialisation", "",
              f"The claims of the table above, with {RB} and the other family at the same init (each at its "
              f"own selected learning rate): the verdict, the difference of test accuracy {RB} − family, its "
              "95 % interval and the seeds; \"not measured\" where every final of both collapsed.", "",
              f"| family | {RB} … | " + " | ".join(inits) + " |", "| --- " * (len(inits) + 2) + "|"]
    for name, by_init in arms.items():
        if name.startswith("RB"):
            continue
        cells = []
        for init in inits:
            a, b = test.get(arms[RB].get(init), {}), test.get(by_init.get(init), {})
            if not (a and b):
                cells.append("–")
                continue
            if {arms[RB][init], by_init[init]} <= collapsed:  # two chance-level networks compare nothing
                cells.append("**not measured**: both collapsed (every final of each)")
                continue
            v = judge(a, b, ">", _claim(name)[1])
            cells.append(f"**{v.verdict}**: {v.cell()}")
        lines.append(f"| {name} | {'beats' if name == CONTROL else 'replaces'} | " + " | ".join(cells) + " |")
    return lines


def _collapsed_arms(df) -> set:
    """The arms whose every final collapsed (ended at chance level: actlab.train.health)."""
    finals = df[df["phase"] == "final"]
    return {arm for arm, status in finals.groupby("arm")["status"] if (status == "collapsed").all()}


def figures(df, run_dir, out) -> list:
    """Test accuracy of every family at every initialisation (finals, 95 % intervals)."""
    if "phase" not in df.columns:
        return []
    test = finals_by_arm(df, METRIC)
    groups = {name: {init: t_interval(list(test.get(arm, {}).values())) for init, arm in by_init.items()}
              for name, by_init in _family_arms(df).items()}
    return [interval_bars(out, "zplane_families", groups, "test accuracy per family and initialisation "
                          "(finals: mean, 95 % t-interval)", "test accuracy")]
