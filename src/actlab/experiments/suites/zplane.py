"""Claims of the zplane suite (Goo, Yun, Jung, "Z-Plane Neural Networks: Bounded Geometric
Activation Replaces ReLU and LayerNorm", arXiv 2606.15669), computed from a run's results.

The paper's figure is one number, 98.34 % on MNIST for a 100-layer MLP with Radial Bounding
and no ReLU or LayerNorm. It is judged only on MNIST runs; on other data the row says what
was measured instead and stays "not measured". The other rows turn the title's words into
checks on the data at hand, with thresholds chosen by actlab and stated in each row:

    stable       every depth-100 RB run finished without divergence and without NaN/Inf,
                 and reached STABLE_ACC test accuracy (chance is 10 %)
    replaces X   depth-100 RB accuracy ≥ the accuracy of X − MATCH_TOL (best initialisation
                 of each; a diverged run counts as 0 %)

"RB" is Radial Bounding on phasor pairs (group size 2, actlab's default reading); the
whole-vector form is reported beside it.
"""
from __future__ import annotations

from actlab.experiments.suites.common import (NOT_MEASURED, NOT_REPRODUCED, REPRODUCED, best_over_init,
                                               data_is, data_name, mean_acc, pct, runs_note, with_variant)

PAPER_DEPTH = 100
PAPER_MNIST_ACC = 0.9834
MNIST_TOL = 0.005       # reproduced within half a percentage point
STABLE_ACC = 0.5
MATCH_TOL = 0.01
RB = "RB pairs"


def claims(df, profile: str) -> list:
    """The claims table of a zplane run (see the module docstring)."""
    df = with_variant(df)
    plain = df[~df["residual"] & ~df["complex_weights"]]
    deep = plain[plain["depth"] == PAPER_DEPTH]
    return [_mnist(deep), _stable(deep), _replaces(deep, "relu + LayerNorm", "LayerNorm"),
            _replaces(deep, "relu", "ReLU (without LayerNorm)")]


def _scale(df) -> str:
    widths = sorted({int(w) for w in df["width"].dropna()}) if "width" in df.columns else []
    epochs = sorted({int(e) for e in df["epochs"].dropna()}) if "epochs" in df.columns else []
    parts = [data_name(df)]
    if widths:
        parts.append("width " + "/".join(map(str, widths)))
    if epochs:
        parts.append("/".join(map(str, epochs)) + " epochs")
    return ", ".join(parts)


def _mnist(deep) -> dict:
    claim = {"claim": f"A {PAPER_DEPTH}-layer MLP with Radial Bounding, no ReLU, no LayerNorm, reaches the "
                      f"paper's MNIST test accuracy (reproduced: within {100 * MNIST_TOL:.1f} pp)",
             "paper": pct(PAPER_MNIST_ACC)}
    mnist = deep[(deep["variant"] == RB) & data_is(deep, "mnist")]
    acc = mean_acc(mnist)
    if acc is None:
        other = deep[deep["variant"] == RB]
        seen = mean_acc(other)
        elsewhere = (f"; on {_scale(other)} the same network reached {pct(seen)} (not comparable)"
                     if seen is not None else "")
        return {**claim, "measured": f"no MNIST run in these results{elsewhere}", "verdict": NOT_MEASURED}
    verdict = REPRODUCED if acc >= PAPER_MNIST_ACC - MNIST_TOL else NOT_REPRODUCED
    return {**claim, "measured": f"{pct(acc)} on {_scale(mnist)} ({runs_note(mnist)})", "verdict": verdict}


def _stable(deep) -> dict:
    claim = {"claim": f"A {PAPER_DEPTH}-layer Radial Bounding MLP (no ReLU, no LayerNorm) trains stably: no "
                      f"divergence, no NaN/Inf, test accuracy ≥ {100 * STABLE_ACC:.0f} %",
             "paper": "trains stably at 100 layers"}
    rb = deep[deep["variant"] == RB]
    finished = rb[rb["status"].isin(["done", "diverged"])]
    if finished.empty:
        return {**claim, "measured": f"no finished depth-{PAPER_DEPTH} RB run", "verdict": NOT_MEASURED}
    diverged = int((finished["status"] == "diverged").sum())
    nonfinite = int(finished["nonfinite_count"].fillna(0).sum()) if "nonfinite_count" in finished else 0
    acc = mean_acc(finished)
    text = (f"{RB}: {pct(acc)}, {diverged} diverged, {nonfinite} NaN/Inf ({runs_note(finished)}, "
            f"{_scale(finished)})")
    vector = mean_acc(deep[deep["variant"] == "RB vector"])
    if vector is not None:
        text += f"; RB vector: {pct(vector)}"
    ok = diverged == 0 and nonfinite == 0 and acc >= STABLE_ACC
    return {**claim, "measured": text, "verdict": REPRODUCED if ok else NOT_REPRODUCED}


def _replaces(deep, rival: str, what: str) -> dict:
    claim = {"claim": f"Radial Bounding replaces {what}: at depth {PAPER_DEPTH}, RB (no normalisation) is at "
                      f"least as accurate as {rival} − {100 * MATCH_TOL:.0f} pp (best initialisation of each)",
             "paper": "title claim (no figure)"}
    rb_acc, _ = best_over_init(deep[deep["variant"] == RB])
    rival_acc, rival_init = best_over_init(deep[deep["variant"] == rival])
    if rb_acc is None or rival_acc is None:
        missing = RB if rb_acc is None else rival
        return {**claim, "measured": f"no finished depth-{PAPER_DEPTH} {missing} run", "verdict": NOT_MEASURED}
    text = f"{RB} {pct(rb_acc)} vs {rival} {pct(rival_acc)} (init {rival_init}) on {_scale(deep)}"
    verdict = REPRODUCED if rb_acc >= rival_acc - MATCH_TOL else NOT_REPRODUCED
    return {**claim, "measured": text, "verdict": verdict}


DETAIL = (("test_acc", "test acc", pct), ("grad_norm_first", "grad norm, layer 1", "{:.3g}".format),
          ("grad_norm_last", "grad norm, last layer", "{:.3g}".format),
          ("max_activation", "largest activation", "{:.3g}".format),
          ("nonfinite_count", "NaN/Inf", "{:.0f}".format), ("dead_fraction", "dead units", pct),
          ("orthogonality", "mean abs cos", "{:.3f}".format), ("effective_rank", "effective rank", "{:.1f}".format))


def sections(df, profile: str) -> list:
    """Accuracy per variant and depth, then every depth-100 run's diagnostics at the end of training."""
    df = with_variant(df)
    df["setting"] = [_setting(r) for r in df.to_dict("records")]
    depths = sorted({int(d) for d in df["depth"].dropna()})
    lines = ["## Accuracy per activation and depth", "",
             "Test accuracy (mean over seeds; a diverged run counts as 0 %, marked †). Data: "
             f"{_scale(df)}.", "",
             "| activation | init | " + " | ".join(f"depth {d}" for d in depths) + " |",
             "| --- | --- |" + " --- |" * len(depths)]
    for (setting, init), part in df.groupby(["setting", "init"], sort=False):
        cells = []
        for d in depths:
            at = part[part["depth"] == d]
            acc = mean_acc(at)
            cells.append("" if acc is None else pct(acc) + (" †" if (at["status"] == "diverged").any() else ""))
        if any(cells):
            lines.append(f"| {setting} | {init} | " + " | ".join(cells) + " |")
    deep = df[(df["depth"] == PAPER_DEPTH) & df["status"].isin(["done", "diverged"])]
    if not deep.empty:
        cols = [c for c in DETAIL if c[0] in deep.columns]
        lines += ["", f"## Depth {PAPER_DEPTH}: diagnostics at the end of training", "",
                  "Per run, from the probes on one training batch: gradient norms of the first and last hidden "
                  "layer, the largest |activation|, NaN/Inf entries, the mean dead-unit fraction, the mean "
                  "|cos| between units (orthogonality) and the mean effective rank over layers. Per-layer "
                  "profiles at initialisation and at the end are in the figures below.", "",
                  "| activation | init | status | " + " | ".join(title for _, title, _ in cols) + " |",
                  "| --- | --- | --- |" + " --- |" * len(cols)]
        for r in deep.to_dict("records"):
            cells = [fmt(r[key]) if r.get(key) is not None and r[key] == r[key] else "–" for key, _, fmt in cols]
            lines.append(f"| {r['setting']} | {r['init']} | {r['status']} | " + " | ".join(cells) + " |")
    return lines


def _setting(row) -> str:
    """The variant plus its ablation flags, e.g. 'RB pairs, complex weights, residual'."""
    flags = [name for key, name in (("complex_weights", "complex weights"), ("residual", "residual")) if row[key]]
    data = str(row.get("data", ""))
    if data == "mnist":
        flags.append("MNIST")
    return ", ".join([row["variant"], *flags])
