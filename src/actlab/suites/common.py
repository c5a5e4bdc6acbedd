"""Helpers shared by the suite hooks: readable run labels, data names and number formatting.

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


def present(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def variant(row) -> str:
    """The network as the report names it: 'RB pairs', 'RB vector', 'relu + LayerNorm (pre-norm)',
    'relu residual MLP (pre-LN)', 'gelu', ... (the norm position only where the spec names it)."""
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
    position = row.get("norm_position")
    position = str(position).lower() if present(position) else None
    if str(row.get("model", "")) == "resmlp":  # LayerNorm by construction, pre-norm unless named
        return f"{label} residual MLP ({position or 'pre'}-LN)"
    norm = row.get("norm")
    if present(norm) and str(norm).lower() not in ("none", ""):
        label += " + LayerNorm" if str(norm).lower() == "layernorm" else " + BatchNorm"
        if position:
            label += f" ({position}-norm)"
    return label


def with_variant(df):
    """A copy of the results with a `variant` column (see `variant`) and the init each run ran
    with (a spec that leaves it unset gets the model's own)."""
    df = df.copy()
    df["variant"] = [variant(r) for r in df.to_dict("records")]
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
