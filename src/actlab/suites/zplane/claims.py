"""Claims of the zplane suite (Goo, Yun, Jung, "Z-Plane Neural Networks: Bounded Geometric
Activation Replaces ReLU and LayerNorm", arXiv 2606.15669), computed from a run's results.

The paper's figure is one number, 98.34 % on MNIST for a 100-layer MLP with Radial Bounding
and no ReLU or LayerNorm. It is judged only on MNIST runs; on other data the row says what
was measured instead and stays "not measured". The other rows turn the title's words into
checks on the data at hand, with thresholds chosen by actlab and stated in each row:

    stable       in its best setting (initialisation, learning rate) every depth-100 RB run
                 finished without divergence and without NaN/Inf, and the mean test accuracy
                 reached STABLE_ACC (chance is 10 %); the other settings are listed beside it
    replaces X   depth-100 RB reaches STABLE_ACC and its accuracy ≥ the accuracy of X − MATCH_TOL
                 (best initialisation and learning rate of each; a diverged run counts as 0 %);
                 both failing to train is not a reproduction

"RB" is Radial Bounding on phasor pairs (group size 2, actlab's default reading); the
whole-vector form is reported beside it.
"""
from __future__ import annotations

from pathlib import Path

from ...experiments.report import run_cell, status_marks
from ..common import (FINISHED, NOT_MEASURED, NOT_REPRODUCED, REPRODUCED, best_over_init, by_setting, data_is,
                      data_name, mean_acc, own_init, pct, runs_note, with_variant)

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
                      f"paper's MNIST test accuracy (reproduced: within {100 * MNIST_TOL:.1f} pp; best setting)",
             "paper": pct(PAPER_MNIST_ACC)}
    mnist = deep[(deep["variant"] == RB) & data_is(deep, "mnist")]
    acc, setting = best_over_init(mnist)
    if acc is None:
        failed = mnist[mnist["status"] == "failed"]
        why = (f"the MNIST runs failed: {str(failed['error'].iloc[0]).splitlines()[0]}"
               if not failed.empty and "error" in failed.columns else "no MNIST run in these results")
        other = deep[(deep["variant"] == RB) & ~data_is(deep, "mnist")]
        seen, seen_setting = best_over_init(other)
        elsewhere = (f"; on {_scale(other)} the same network reached {pct(seen)} ({seen_setting}; not comparable)"
                     if seen is not None else "")
        return {**claim, "measured": why + elsewhere, "verdict": NOT_MEASURED}
    verdict = REPRODUCED if acc >= PAPER_MNIST_ACC - MNIST_TOL else NOT_REPRODUCED
    return {**claim, "measured": f"{pct(acc)} ({setting}) on {_scale(mnist)}", "verdict": verdict}


def _stable(deep) -> dict:
    claim = {"claim": f"A {PAPER_DEPTH}-layer Radial Bounding MLP (no ReLU, no LayerNorm) trains stably: no "
                      f"divergence, no NaN/Inf, test accuracy ≥ {100 * STABLE_ACC:.0f} % (best setting)",
             "paper": "trains stably at 100 layers"}
    settings = by_setting(deep[deep["variant"] == RB])
    if not settings:
        return {**claim, "measured": f"no finished depth-{PAPER_DEPTH} RB run", "verdict": NOT_MEASURED}
    parts = []
    for label, runs, acc in settings:
        diverged = int((runs["status"] == "diverged").sum())
        nonfinite = int(runs["nonfinite_count"].fillna(0).sum()) if "nonfinite_count" in runs else 0
        parts.append((label, acc, diverged, nonfinite, runs_note(runs)))
    label, acc, diverged, nonfinite, note = parts[0]
    text = f"{RB} ({label}): {pct(acc)}, {diverged} diverged, {nonfinite} NaN/Inf ({note}, {_scale(deep)})"
    text += "".join(f"; {lab}: {pct(a)}, {d} diverged, {n} NaN/Inf" for lab, a, d, n, _ in parts[1:])
    vector, vector_setting = best_over_init(deep[deep["variant"] == "RB vector"])
    if vector is not None:
        text += f"; RB vector ({vector_setting}): {pct(vector)}"
    ok = diverged == 0 and nonfinite == 0 and acc >= STABLE_ACC
    return {**claim, "measured": text, "verdict": REPRODUCED if ok else NOT_REPRODUCED}


def _replaces(deep, rival: str, what: str) -> dict:
    claim = {"claim": f"Radial Bounding replaces {what}: at depth {PAPER_DEPTH}, RB (no normalisation) trains "
                      f"(≥ {100 * STABLE_ACC:.0f} %) and is at least as accurate as {rival} "
                      f"− {100 * MATCH_TOL:.0f} pp "
                      f"(best initialisation and learning rate of each)",
             "paper": "title claim (no figure)"}
    rb_acc, rb_setting = best_over_init(deep[deep["variant"] == RB])
    rival_acc, rival_init = best_over_init(deep[deep["variant"] == rival])
    if rb_acc is None or rival_acc is None:
        missing = RB if rb_acc is None else rival
        return {**claim, "measured": f"no finished depth-{PAPER_DEPTH} {missing} run", "verdict": NOT_MEASURED}
    text = f"{RB} {pct(rb_acc)} ({rb_setting}) vs {rival} {pct(rival_acc)} ({rival_init}) on {_scale(deep)}"
    verdict = REPRODUCED if rb_acc >= STABLE_ACC and rb_acc >= rival_acc - MATCH_TOL else NOT_REPRODUCED
    return {**claim, "measured": text, "verdict": verdict}


DETAIL = (("test_acc", "test acc", pct), ("grad_norm_first", "grad norm, layer 1", "{:.3g}".format),
          ("grad_norm_last", "grad norm, last layer", "{:.3g}".format),
          ("max_activation", "largest activation", "{:.3g}".format),
          ("nonfinite_count", "NaN/Inf", "{:.0f}".format), ("dead_fraction", "dead units", pct),
          ("orthogonality", "mean abs cos", "{:.3f}".format), ("effective_rank", "effective rank", "{:.1f}".format))


def sections(df, profile: str) -> list:
    """Accuracy per variant and depth, every depth-100 run's diagnostics at the end of training,
    then curated figures: accuracy vs depth, gradient-norm profiles and loss curves at depth 100."""
    df = with_variant(df)
    df["setting"] = [_setting(r) for r in df.to_dict("records")]
    return _tables(df) + _figures(df, Path(df.attrs["run_dir"]))


def _tables(df) -> list:
    depths = sorted({int(d) for d in df["depth"].dropna()})
    keys = ["init"] + (["lr"] if "lr" in df.columns and df["lr"].nunique() > 1 else [])
    lines = ["## Accuracy per activation and depth", "",
             "Test accuracy (mean over seeds; a diverged run counts as 0 %, marked †; a collapsed run — "
             "finished at chance or with a vanished first-layer gradient — counts with its accuracy, marked ‡). "
             "Data: "
             f"{_scale(df)}.", "",
             "| activation | " + " | ".join(keys) + " | " + " | ".join(f"depth {d}" for d in depths) + " |",
             "| --- |" + " --- |" * (len(keys) + len(depths))]
    for (setting, *values), part in df.groupby(["setting", *keys], sort=False):
        cells = []
        for d in depths:
            at = part[part["depth"] == d]
            acc = mean_acc(at)
            cells.append("" if acc is None else pct(acc) + status_marks(at["status"]))
        if any(cells):
            lines.append(f"| {setting} | " + " | ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)
                         + " | " + " | ".join(cells) + " |")
    deep = df[(df["depth"] == PAPER_DEPTH) & df["status"].isin(FINISHED)]
    if not deep.empty:
        cols = [c for c in DETAIL if c[0] in deep.columns]
        if "seed" in deep.columns:  # per-seed rows would otherwise look like one run listed twice
            keys = [*keys, "seed"]
        lines += ["", f"## Depth {PAPER_DEPTH}: diagnostics at the end of training", "",
                  "Per run, from the probes on one training batch: gradient norms of the first and last hidden "
                  "layer, the largest |activation|, NaN/Inf entries, the mean dead-unit fraction, the mean "
                  "|cos| between units (orthogonality) and the mean effective rank over layers. Per-layer "
                  "profiles at initialisation and at the end are in the figures below. A diverged run's "
                  "test accuracy is not a result: its cell says so (†).", "",
                  "| activation | " + " | ".join(keys) + " | status | " + " | ".join(t for _, t, _ in cols) + " |",
                  "| --- |" + " --- |" * (len(keys) + 1 + len(cols))]
        for r in deep.to_dict("records"):
            cells = [fmt(r[key]) if r.get(key) is not None and r[key] == r[key] else "–" for key, _, fmt in cols]
            cells = [run_cell(c, r["status"]) if key == "test_acc" else c for c, (key, _, _) in zip(cells, cols)]
            lines.append(f"| {r['setting']} | " + " | ".join(f"{r[k]:g}" if isinstance(r[k], float) else str(r[k])
                                                            for k in keys)
                         + f" | {r['status']} | " + " | ".join(cells) + " |")
    return lines


def _setting(row) -> str:
    """The variant plus its ablation flags, e.g. 'RB pairs, complex weights, residual'."""
    flags = [name for key, name in (("complex_weights", "complex weights"), ("residual", "residual")) if row[key]]
    data = str(row.get("data", ""))
    if data == "mnist":
        flags.append("MNIST")
    return ", ".join([row["variant"], *flags])


def _baseline(df):
    """The runs of the main grid: no ablation flag, each model's own init (orthogonal for the zplane
    model, torch's default otherwise), the most common learning rate."""
    models = df["model"] if "model" in df.columns else [None] * len(df)
    sel = df[(df["setting"] == df["variant"]) & (df["init"] == [own_init(m) for m in models])]
    if "lr" in sel.columns and not sel.empty:
        sel = sel[sel["lr"] == sel["lr"].mode().iloc[0]]
    return sel[sel["status"].isin(FINISHED)]


def _figures(df, run_dir: Path) -> list:
    from ..figures import line_figure, run_history, run_profile

    out = Path(df.attrs.get("report_dir", run_dir / "report"))  # suite_report sets it (report --out)
    main = _baseline(df)
    lines = []
    acc = {}
    for name, part in main.groupby("variant", sort=False):
        depths = sorted({int(d) for d in part["depth"]})
        acc[name] = (depths, [mean_acc(part[part["depth"] == d]) for d in depths])
    lines += line_figure(out, "zplane_accuracy_vs_depth", [("each model's own init, no ablation", acc)], "depth",
                         "test accuracy", "Test accuracy vs depth (a diverged run counts as 0)", logx=True)
    deep = _best_runs(df[(df["depth"] == PAPER_DEPTH) & (df["setting"] == df["variant"])])
    profiles = []
    for when, key in (("at initialisation", "grad_norms_init"), ("at the end of training", "grad_norms_final")):
        found = {r["variant"]: run_profile(run_dir, r["id"], key) for r in deep.to_dict("records")}
        profiles.append((when, {name: _layers(values) for name, values in found.items() if values}))
    lines += line_figure(out, "zplane_grad_profile_depth100", profiles, "layer", "gradient norm",
                         f"Per-layer gradient norms at depth {PAPER_DEPTH}, best setting of each "
                         "(zero norms not drawn)", logy=True)
    curves = {r["variant"]: run_history(run_dir, r["id"], "train_loss") for r in deep.to_dict("records")}
    lines += line_figure(out, "zplane_loss_depth100", [("training loss", {k: v for k, v in curves.items() if v[0]})],
                         "epoch", "training loss",
                         f"Training loss per epoch at depth {PAPER_DEPTH}, best setting of each")
    if lines:
        lines = ["## Figures of the claim", "", *lines]
    return lines


def _best_runs(deep):
    """One finished run per variant, from its best setting (by_setting), labelled with that setting
    where the variant was run in several."""
    rows = []
    for name, part in deep.groupby("variant", sort=False):
        settings = by_setting(part)
        if settings:
            label, runs, _ = settings[0]
            row = runs[runs["status"].isin(FINISHED)].iloc[0].copy()
            row["variant"] = f"{name} ({label})" if len(settings) > 1 else name
            rows.append(row)
    return deep.iloc[0:0] if not rows else type(deep)(rows)


def _layers(values: list) -> tuple:
    return list(range(1, len(values) + 1)), values
