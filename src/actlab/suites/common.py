"""Helpers shared by the suite hooks: readable run labels, selections and figure formatting.

A claim is computed only from the stored results (`actlab.experiments.load`); where the
runs it needs are absent or did not finish, its verdict is "not measured".
"""
from __future__ import annotations

import math
from typing import Optional

NOT_MEASURED = "not measured"
REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
FINISHED = ("done", "diverged", "collapsed")  # runs that ended with a result (a collapsed one keeps its accuracy)

DATA_NAMES = {"digits": "digits (8×8)", "fashion_mnist": "Fashion-MNIST", "mnist": "MNIST", "cifar10": "CIFAR-10"}


def is_set(value) -> bool:
    """A configuration flag that is true (absent keys load as NaN/None)."""
    return value is True or value == 1


def present(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def variant(row) -> str:
    """The activation as the report names it: 'RB pairs', 'RB vector', 'relu + LayerNorm', 'gelu', ..."""
    act = str(row.get("act", ""))
    if act.startswith("radial_bounding"):
        group = row.get("group_size")
        if isinstance(group, float) and group.is_integer():  # a column with gaps loads as float
            group = int(group)
        if not present(group) or str(group) == "2":
            label = "RB pairs"
        elif str(group).lower() in ("vector", "all", "none"):
            label = "RB vector"
        else:
            label = f"RB groups of {group}"
    else:
        label = act
    norm = row.get("norm")
    if present(norm) and str(norm).lower() not in ("none", ""):
        label += " + LayerNorm" if str(norm).lower() == "layernorm" else " + BatchNorm"
    return label


def with_variant(df):
    """A copy of the results with a `variant` column (see `variant`), boolean ablation flags and the
    init each run ran with (a spec that leaves it unset gets the model's own)."""
    df = df.copy()
    df["variant"] = [variant(r) for r in df.to_dict("records")]
    for flag in ("residual", "complex_weights"):
        df[flag] = [is_set(v) for v in df[flag]] if flag in df.columns else False
    models = df["model"] if "model" in df.columns else ["mlp"] * len(df)
    inits = df["init"] if "init" in df.columns else [None] * len(df)
    df["init"] = [i if present(i) else own_init(m) for i, m in zip(inits, models)]  # unset: the model's own
    return df


def own_init(model) -> str:
    """The init a model runs with when a spec leaves it unset (actlab.nn.MODEL_DEFAULTS)."""
    from ..nn import MODEL_DEFAULTS

    return MODEL_DEFAULTS.get(str(model) if present(model) else "mlp", MODEL_DEFAULTS["mlp"])["init"]


def data_name(df) -> str:
    names = sorted({str(d) for d in df["data"].dropna()}) if "data" in df.columns else []
    return ", ".join(DATA_NAMES.get(n, n) for n in names) or "no data"


def data_is(df, name: str):
    """Boolean mask of the runs on dataset `name` (a spec string "name(...)" counts as its name)."""
    if "data" not in df.columns:
        return df["status"] != df["status"]
    return df["data"].astype(str).str.split("(").str[0].str.strip().str.lower() == name


def pct(x: Optional[float]) -> str:
    return "–" if x is None or not math.isfinite(x) else f"{100 * x:.2f} %"


def mean_acc(rows) -> Optional[float]:
    """Mean test accuracy of the finished runs among `rows`, None when none finished.
    A diverged run counts as 0: it did not train stably, whatever its weights scored before the NaN;
    a collapsed run counts with the accuracy it ended at (about chance)."""
    finished = rows[rows["status"].isin(FINISHED)]
    if finished.empty:
        return None
    acc = finished["test_acc"].where(finished["status"] != "diverged", 0.0).fillna(0.0)
    return float(acc.mean())


def by_setting(rows) -> list:
    """[(setting, runs, mean accuracy)] per initialisation (and learning rate, where several were
    run), best first; setting reads e.g. 'init orthogonal, lr 0.0001'. Settings with no finished run
    are left out."""
    keys = [k for k in ("init", "lr") if k in rows.columns and rows[k].nunique(dropna=False) > 1] or ["init"]
    out = []
    for values, part in rows.groupby(keys, sort=False, dropna=False):
        values = values if isinstance(values, tuple) else (values,)
        acc = mean_acc(part)
        if acc is not None:
            label = ", ".join(f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in zip(keys, values))
            out.append((label, part, acc))
    return sorted(out, key=lambda item: -item[2])


def best_over_init(rows) -> tuple[Optional[float], Optional[str]]:
    """(accuracy, setting) of the best setting of `by_setting`, (None, None) when none finished."""
    found = by_setting(rows)
    return (found[0][2], found[0][0]) if found else (None, None)


def runs_note(rows) -> str:
    """'n runs' (finished runs among `rows`), for the measured column."""
    n = len(rows[rows["status"].isin(FINISHED)])
    return f"{n} run{'s' if n != 1 else ''}"
