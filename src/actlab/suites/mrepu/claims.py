"""Claims and figures of the MRePU suite (Kim & Kang, arXiv 2408.02697), from measured runs only.

Each verdict is computed from the run table; a part with no finished run gives
"not measured". Definitions (actlab's, stated in each row):
- a layer stack is stable when neither K⁽ᴸ⁾/K⁽¹⁾ nor the backward signal Π χ⊥ leaves
  [1/100, 100] (actlab.suites.mrepu.task.behaviour); these init-time claims are single
  measurements ("reproduced" / "not reproduced");
- the training claims (poly, pinn, vision, and trainability at points of the (C_b, C_W)
  plane) compare the FINALS of tuned arms (docs/protocol.md): each activation's learning
  rate selected on validation, then retrained on every final seed and tested. A verdict is
  `actlab.experiments.verdicts.judge` on the per-seed test errors (reproduced / contradicted /
  inconclusive, seed-halves check included). MRePU's p (2 or 3) and the rival of a
  "best of" are chosen per cell on the finals' VALIDATION error (`verdicts.pick_arm`), never
  on the test set. A diverged final counts as error 1 (no better than predicting the mean /
  the zero function; accuracy 0 for vision). A claim over several cells (targets, PDEs,
  models) is reproduced when it is reproduced in every cell, contradicted when it is
  contradicted in any, inconclusive otherwise.
"""
from __future__ import annotations

import math
from typing import Optional
from pathlib import Path

import numpy as np
import pandas as pd

from ...experiments.store import read_run_file
from ...experiments.verdicts import judge, pick_arm
from ..common import FINISHED
from ..figures import save_figure
from .task import DEFAULT_K0

CLASS_NAMES = {-1: "vanish", 0: "stable", 1: "explode"}
POLY_BASELINES = ("relu", "gelu", "tanh", "repu(p=2)", "zorro")
MREPU = ("mrepu(p=2)", "mrepu(p=3)")
NAMES = {"relu": "ReLU", "gelu": "GELU"}
TRAINABLE_BELOW = 0.1   # trainability: a final whose test relative MSE is below this trained


def _part(df: pd.DataFrame, part: str) -> pd.DataFrame:
    if "part" not in df.columns:
        return df.iloc[0:0]
    return df[(df["part"] == part) & df["status"].isin(FINISHED)]


def _k0(row) -> float:
    k0 = getattr(row, "K0", math.nan)
    return DEFAULT_K0 if not isinstance(k0, float) or math.isnan(k0) else k0


def _not_measured(claim: str, paper: str, what: str = "no finished run of this part") -> dict:
    return {"claim": claim, "paper": paper, "measured": what, "verdict": "not measured"}


# ------------------------------------------------------------------ claims


def claims(df: pd.DataFrame, profile: str) -> list:
    return [_claim_repu(df), _claim_repu_training(df), _claim_criticality(df), _claim_poly(df), *_claims_pinn(df), _claim_vision(df)]


def _claim_repu(df) -> dict:
    claim = "RePU networks explode or vanish whatever the initialisation"
    paper = "no (C_b, C_W) is critical for RePU: χ∥/χ⊥ = (2p−1)/p, K⁽ˡ⁾ = K*(K⁽⁰⁾/K*)^(p^l)"
    phase = _part(df, "phase")
    phase = phase[phase["act"].str.startswith("repu")] if len(phase) else phase
    kern = _part(df, "kernel")
    kern = kern[kern["act"].str.startswith("repu")] if len(kern) else kern
    if not len(phase) and not len(kern):
        return _not_measured(claim, paper)
    parts, unstable = [], True
    if len(phase):
        n_stable_m, n_stable_p = int((phase["class_meas"] == 0).sum()), int((phase["class_pred"] == 0).sum())
        parts.append(f"(C_b, C_W) grid at depth {int(phase['depth'].max())}: {n_stable_m}/{len(phase)} points stable "
                     f"measured, {n_stable_p}/{len(phase)} predicted")
        unstable &= n_stable_m == 0 and n_stable_p == 0
    if len(kern):
        cls = [f"{r.act} ×{r.cw_scale:g}: {CLASS_NAMES[int(r.class_meas)]}" for r in kern.itertuples()]
        parts.append("kernel runs (measured, C_W = scale × fixed-point C_W): " + ", ".join(cls))
        unstable &= bool((kern["class_meas"] != 0).all())
    return {"claim": claim, "paper": paper, "measured": "; ".join(parts),
            "verdict": "reproduced" if unstable else "not reproduced"}


def _claim_criticality(df) -> dict:
    claim = "MRePU satisfies criticality: at (C_b, C_W) = (0, 1) the kernel propagates stably"
    paper = "MRePU is in the K* = 0 class, critical at (0, 1)"
    kern = _part(df, "kernel")
    kern = kern[kern["act"].isin(MREPU) & np.isclose(kern["cw_scale"], 1.0)] if len(kern) else kern
    if not len(kern):
        return _not_measured(claim, paper)
    from ...theory import critical_init, susceptibilities

    chis = {a: susceptibilities(a, 1e-8, 1.0) for a in MREPU}
    a1 = {a: critical_init(a).a1 for a in MREPU}
    chi_text = ", ".join(f"{a}: χ∥ = {c[0]:.4f}, χ⊥ = {c[1]:.4f}, a₁ = {a1[a]:g}" for a, c in chis.items())
    inside, outside = [], []
    for r in kern.itertuples():
        text = (f"{r.act}, K⁽¹⁾ = {_k0(r):g}, depth {int(r.depth)}: K⁽ᴸ⁾/K⁽¹⁾ = 10^{r.log10_K_ratio_meas:.3g} "
                f"measured vs 10^{r.log10_K_ratio_pred:.3g} predicted")
        if r.class_pred == 0:  # where the theory says the kernel stays put
            inside.append((r, text + f" (max deviation {100 * r.max_rel_dev:.1f} %)"))
        else:
            outside.append(text + f" (blow-up depth 1/(a₁K⁽¹⁾) = {1 / (a1[r.act] * _k0(r)):.1f})")
    chis_ok = all(abs(c[0] - 1) < 1e-3 and abs(c[1] - 1) < 1e-3 for c in chis.values())
    measured = (f"at K → 0, {chi_text}. Where the theory predicts a stable kernel: "
                + ("; ".join(t for _, t in inside) or "no run") + ". "
                + (f"Where it predicts a blow-up (marginal criticality): {'; '.join(outside)}. " if outside else "")
                + "Verdict: χ∥ = χ⊥ = 1 and, where stability is predicted, the measured kernel within a factor 100 and "
                  "within 20 % of the prediction. Criticality is only marginal (a₁ > 0): deep MRePU networks need "
                  "small inputs")
    if not inside:
        return {"claim": claim, "paper": paper, "measured": measured, "verdict": "not measured"}
    ok = chis_ok and all(abs(r.log10_K_ratio_meas) < 2 and r.max_rel_dev < 0.2 for r, _ in inside)
    return {"claim": claim, "paper": paper, "measured": measured, "verdict": "reproduced" if ok else "not reproduced"}


def _finals(df: pd.DataFrame, part: str) -> pd.DataFrame:
    """The finished finals of one training part (tuned arms)."""
    if "phase" not in df.columns or "part" not in df.columns:
        return df.iloc[0:0]
    return df[(df["phase"] == "final") & (df["part"] == part) & df["status"].isin(FINISHED)]


def _per_seed(finals: pd.DataFrame, arm: str, metric: str, diverged: float) -> dict:
    """seed -> `metric` of one arm's finals, a diverged final counting as `diverged`."""
    rows = finals[finals["arm"] == arm]
    values = rows[metric].where(rows["status"] != "diverged", diverged) if metric in rows else []
    return {int(seed): float(v) for seed, v in zip(rows["seed"], values) if v == v}


def _arm_of(finals: pd.DataFrame, **where) -> Optional[str]:
    """The arm id of the finals matching `where` (a column missing or NaN matches None), None if none."""
    rows = finals
    for key, value in where.items():
        column = rows[key] if key in rows else pd.Series(np.nan, index=rows.index)
        rows = rows[column.isna()] if value is None else rows[column == value]
    return rows["arm"].iloc[0] if len(rows) else None


def _best_arm(df: pd.DataFrame, finals: pd.DataFrame, acts, **where) -> tuple:
    """(arm, act) among `acts` with the lowest mean VALIDATION error of its finals (pick_arm), or (None, None)."""
    arms = {a: _arm_of(finals, act=a, **where) for a in acts}
    arms = {a: arm for a, arm in arms.items() if arm is not None}
    best = pick_arm(df, list(arms.values()), metric="val_error", direction="minimize") if arms else None
    return (best, next(a for a, arm in arms.items() if arm == best)) if best else (None, None)


def _combine(verdicts: list) -> str:
    """Over cells: reproduced when every cell is, contradicted when any cell is, else inconclusive."""
    if verdicts and all(v == "reproduced" for v in verdicts):
        return "reproduced"
    return "contradicted" if "contradicted" in verdicts else "inconclusive"


def _comparison(df, finals, cells: list, rival_acts, metric: str, sense: str, margin: float, diverged: float,
                scale: float = 1.0) -> tuple:
    """(verdict, measured text) of "best MRePU `sense` best of `rival_acts` (+ margin)" over `cells`
    (dicts of configuration keys), each side chosen per cell on validation."""
    texts, verdicts = [], []
    for cell in cells:
        m_arm, m_act = _best_arm(df, finals, MREPU, **cell)
        r_arm, r_act = _best_arm(df, finals, rival_acts, **cell)
        name = ", ".join(f"{v}" for v in cell.values())
        if m_arm is None or r_arm is None:
            texts.append(f"{name}: not measured")
            verdicts.append("inconclusive")
            continue
        a, b = _per_seed(finals, m_arm, metric, diverged), _per_seed(finals, r_arm, metric, diverged)
        v = judge({k: scale * x for k, x in a.items()}, {k: scale * x for k, x in b.items()}, sense, margin)
        texts.append(f"{name}: {m_act} {_mean(a, scale)} vs {r_act} {_mean(b, scale)}, {v.cell()} → {v.verdict}"
                     + ("" if v.verdict != "inconclusive" else f" ({v.why})"))
        verdicts.append(v.verdict)
    return _combine(verdicts), "; ".join(texts)


def _mean(values: dict, scale: float) -> str:
    return f"{scale * sum(values.values()) / len(values):.3g}" if values else "–"


def _cells(finals: pd.DataFrame, keys: tuple) -> list:
    present = [k for k in keys if k in finals]
    return [dict(zip(present, v if isinstance(v, tuple) else (v,)))
            for v in finals.groupby(present, sort=False).size().index] if len(finals) and present else []


def _claim_repu_training(df) -> dict:
    claim = ("RePU networks fail to train whatever the initialisation: at every (C_b, C_W) run, the tuned "
             f"test relative MSE stays above {TRAINABLE_BELOW}")
    paper = "RePU networks fail to train, regardless of the initialisation (the paper's abstract)"
    finals = _finals(df, "poly")
    finals = finals[finals["C_W"].notna()] if "C_W" in finals else finals.iloc[0:0]
    if not len(finals):
        return _not_measured(claim, paper)
    texts, verdicts = [], []
    for (act, C_b, C_W), rows in finals.groupby(["act", "C_b", "C_W"], sort=False):
        values = _per_seed(finals, rows["arm"].iloc[0], "test_error", 1.0)
        v = judge(values, {k: TRAINABLE_BELOW for k in values}, ">")
        texts.append(f"{act} at ({C_b:g}, {C_W:g}): {_mean(values, 1.0)}, {v.cell()} → {v.verdict}")
        if act.startswith("repu"):
            verdicts.append(v.verdict)
    depth, steps = int(finals["depth"].max()), int(finals["steps"].max())
    measured = (f"test MSE / Var(y) − {TRAINABLE_BELOW} after {steps} Adam steps (lr tuned per point), depth "
                f"{depth}, target {', '.join(sorted(set(finals['target'])))}: " + "; ".join(texts))
    return {"claim": claim, "paper": paper, "measured": measured,
            "verdict": _combine(verdicts) if verdicts else "not measured"}


def _claim_poly(df) -> dict:
    claim = "MRePU fits polynomial targets better (lower test relative MSE) than every other activation run"
    paper = "MRePU networks fit polynomial targets better than RePU and the usual activations (paper's regression experiments; figures not copied here)"
    finals = _finals(df, "poly")
    finals = finals[finals["C_W"].isna()] if "C_W" in finals else finals
    rivals = [a for a in dict.fromkeys(finals["act"]) if a not in MREPU] if len(finals) else []
    if not len(finals) or not rivals or not finals["act"].isin(MREPU).any():
        return _not_measured(claim, paper)
    texts, verdicts = [], []
    for rival in rivals:
        verdict, text = _comparison(df, finals, _cells(finals, ("target", "depth", "q0")), [rival], "test_error",
                                    "<", 0.0, 1.0)
        texts.append(f"vs {rival} — {text}")
        verdicts.append(verdict)
    return {"claim": claim, "paper": paper, "measured": "test MSE / Var(y), best MRePU p (on validation) per "
            "(target, depth, q0): " + " | ".join(texts), "verdict": _combine(verdicts)}


def _claims_pinn(df) -> list:
    paper = "MRePU PINNs are more accurate than ReLU/GELU ones (as the suite's brief summarises the paper; its figures are not copied here)"
    finals = _finals(df, "pinn")
    out = []
    for rival in ("relu", "gelu"):
        claim = f"MRePU PINNs have a lower relative L2 error than {NAMES[rival]} ones"
        if not len(finals) or rival not in set(finals["act"]) or not finals["act"].isin(MREPU).any():
            out.append(_not_measured(claim, paper, f"no finished PINN finals of both MRePU and {rival}"))
            continue
        verdict, text = _comparison(df, finals, _cells(finals, ("pde",)), [rival], "test_error", "<", 0.0, 1.0)
        out.append({"claim": claim, "paper": paper, "measured": "relative L2 error on the test grid, best MRePU p "
                    "(on validation) per PDE — " + text, "verdict": verdict})
    return out


def _claim_vision(df) -> dict:
    claim = "MRePU classifies images as well as ReLU/GELU (test accuracy not more than 2 points below)"
    paper = "spec item 5 (the paper's headline experiments are regression and PINNs)"
    finals = _finals(df, "vision")
    if not len(finals) or "mrepu(p=2)" not in set(finals["act"]):
        return _not_measured(claim, paper)
    verdict, text = _comparison(df, finals, _cells(finals, ("model", "data")), ("relu", "gelu"), "test_acc", ">",
                                -2.0, 0.0, scale=100.0)
    return {"claim": claim, "paper": paper, "measured": "test accuracy in points, MRePU − the better of ReLU/GELU "
            "(chosen on validation), margin −2 — " + text, "verdict": verdict}


# ------------------------------------------------------------------ figures


def figures(df: pd.DataFrame, run_dir: Path, out: Path) -> list:
    import matplotlib

    matplotlib.use("Agg")
    made = []
    for fn in (_fig_kernel, _fig_phase_plane, _fig_phase_depth, _fig_poly, _fig_trainability, _fig_pinn,
               _fig_vision):
        made += fn(df, run_dir, out)
    return made


def _fig_kernel(df, run_dir, out) -> list:
    import matplotlib.pyplot as plt

    kern = _part(df, "kernel")
    rows = []
    for r in kern.itertuples():
        art = (read_run_file(run_dir, r.id, "artifacts.json") or {}).get("kernel")
        if not art:
            continue
        for i, layer in enumerate(art["layers"]):
            rows.append({"act": r.act, "K0": _k0(r), "cw_scale": r.cw_scale, "layer": layer,
                         "predicted": art["predicted"][i], "measured_median": art["measured"][i],
                         "measured_mean": art["measured_mean"][i]})
    if not rows:
        return []
    data = pd.DataFrame(rows)
    acts = list(dict.fromkeys(data["act"]))
    made = []
    for K0, part in data.groupby("K0"):
        fig, axes = plt.subplots(2, math.ceil(len(acts) / 2), figsize=(12, 7), squeeze=False)
        for ax, act in zip(axes.flat, acts):
            sub = part[part["act"] == act]
            for j, (scale, s) in enumerate(sub.groupby("cw_scale")):
                color = f"C{j}"
                ratio_p = s["predicted"].astype(float) / K0
                ratio_m = s["measured_median"].astype(float) / K0
                ax.plot(s["layer"], ratio_p, "-", color=color, label=f"C_W × {scale:g} theory")
                ax.plot(s["layer"], ratio_m, "o", ms=3, color=color, label=f"C_W × {scale:g} measured (median)")
            ax.set_yscale("log")
            ax.set_ylim(1e-12, 1e12)
            ax.set_title(act)
            ax.set_xlabel("layer l")
            ax.set_ylabel("K⁽ˡ⁾ / K⁽¹⁾")
            ax.grid(alpha=0.3)
        axes.flat[0].legend(fontsize=6)
        fig.suptitle(f"Kernel vs depth at initialisation, K⁽¹⁾ = {K0:g} (lines: theory, dots: finite width)")
        made.append(save_figure(fig, out, f"mrepu_kernel_depth_K0_{K0:g}", part,
                          f"Kernel vs depth at initialisation (K⁽¹⁾ = {K0:g})"))
    return made


def _heatmap(ax, table: pd.DataFrame, title: str, cmap: str, vmin: float, vmax: float, fmt=None):
    im = ax.imshow(table.values, origin="lower", aspect="auto", cmap=cmap, vmin=vmin, vmax=vmax)
    ax.set_xticks(range(table.shape[1]), [f"{c:g}" for c in table.columns], fontsize=7, rotation=45)
    ax.set_yticks(range(table.shape[0]), [f"{c:g}" for c in table.index], fontsize=7)
    ax.set_title(title, fontsize=9)
    if fmt is not None:
        for (i, j), v in np.ndenumerate(table.values):
            ax.text(j, i, fmt(v), ha="center", va="center", fontsize=6)
    return im


def _fig_phase_plane(df, run_dir, out) -> list:
    import matplotlib.pyplot as plt

    phase = _part(df, "phase")
    if not len(phase):
        return []
    acts = list(dict.fromkeys(phase["act"]))
    has_train = "final_loss_rel" in phase
    nrow = 3 if has_train else 2
    fig, axes = plt.subplots(nrow, len(acts), figsize=(4.2 * len(acts), 3.3 * nrow), squeeze=False)
    for j, act in enumerate(acts):
        sub = phase[phase["act"] == act]
        for i, (col, label) in enumerate((("class_pred", "predicted"), ("class_meas", "measured"))):
            t = sub.pivot_table(index="C_b", columns="C_W", values=col)
            _heatmap(axes[i, j], t, f"{act}: {label} class", "bwr", -1, 1,
                     lambda v: CLASS_NAMES.get(int(v), "?")[0] if np.isfinite(v) else "")
        if has_train:
            t = sub.pivot_table(index="C_b", columns="C_W", values="final_loss_rel").clip(upper=10)
            _heatmap(axes[2, j], np.log10(t.replace(0, 1e-12)), f"{act}: log10 rel. train MSE (1 = diverged)", "viridis", -3, 1,
                     lambda v: f"{v:.1f}" if np.isfinite(v) else "")
        for i in range(nrow):
            axes[i, j].set_xlabel("C_W")
            axes[i, j].set_ylabel("C_b")
    depth = int(phase["depth"].max())
    fig.suptitle(f"(C_b, C_W) at depth {depth}, input mean square {phase['q0'].iloc[0]:g}: "
                 "blue v(anish), white s(table), red e(xplode); trainability below")
    cols = ["act", "C_b", "C_W", "depth", "class_pred", "class_meas"] + (["final_loss_rel", "trainable"] if has_train else [])
    return [save_figure(fig, out, "mrepu_phase_cb_cw", phase[cols],
                        f"Phase diagram over (C_b, C_W), depth {depth}")]


def _fig_phase_depth(df, run_dir, out) -> list:
    import matplotlib.pyplot as plt

    phase = _part(df, "phase")
    if not len(phase):
        return []
    phase = phase[phase["C_b"] == 0]
    rows = []
    for r in phase.itertuples():
        art = (read_run_file(run_dir, r.id, "artifacts.json") or {}).get("phase")
        if art:
            rows += [{"act": r.act, "C_W": r.C_W, "depth": l + 1, "class_pred": p, "class_meas": m}
                     for l, (p, m) in enumerate(zip(art["class_pred"], art["class_meas"]))]
    if not rows:
        return []
    data = pd.DataFrame(rows)
    acts = list(dict.fromkeys(data["act"]))
    fig, axes = plt.subplots(2, len(acts), figsize=(4.2 * len(acts), 6.6), squeeze=False)
    for j, act in enumerate(acts):
        sub = data[data["act"] == act]
        for i, col in enumerate(("class_pred", "class_meas")):
            t = sub.pivot_table(index="depth", columns="C_W", values=col)
            _heatmap(axes[i, j], t, f"{act}: {'predicted' if i == 0 else 'measured'}", "bwr", -1, 1)
            axes[i, j].set_xlabel("C_W")
            axes[i, j].set_ylabel("depth")
    fig.suptitle("Phase diagram over (C_W, depth) at C_b = 0 (blue vanish, white stable, red explode)")
    return [save_figure(fig, out, "mrepu_phase_cw_depth", data, "Phase diagram over (C_W, depth), C_b = 0")]


def _fig_part(df, out: Path, part: str, cell_keys: tuple, metric: str, diverged: float, ylabel: str, logy: bool,
              title: str, name: str, where=None) -> list:
    """Bars per cell and activation: the finals' mean `metric` with its 95 % t-interval (diverged finals
    counted as `diverged`)."""
    from ...experiments.stats import t_interval
    from ..figures import interval_bars

    finals = _finals(df, part)
    if where is not None and len(finals):
        finals = finals[where(finals)]
    if not len(finals) or metric not in finals:
        return []
    keys = [k for k in cell_keys if k in finals]
    groups: dict = {}
    for arm, rows in finals.groupby("arm", sort=False):
        first = rows.iloc[0]
        cell = ", ".join(f"{k}={first[k]:g}" if isinstance(first[k], float) else f"{k}={first[k]}" for k in keys)
        groups.setdefault(cell, {})[first["act"]] = t_interval(list(_per_seed(finals, arm, metric, diverged).values()))
    n = max(ci.n for bars in groups.values() for ci in bars.values())
    return [interval_bars(out, name, groups, f"{title}: finals, mean and 95 % interval over {n} seeds "
                          "(learning rate tuned per bar)", ylabel, logy=logy)]


def _has_cw(finals):
    return finals["C_W"].notna() if "C_W" in finals else pd.Series(False, index=finals.index)


def _fig_poly(df, run_dir, out) -> list:
    return _fig_part(df, out, "poly", ("target", "depth", "q0"), "test_error", 1.0, "test MSE / Var(y)", True,
                     "Polynomial regression", "mrepu_poly", where=lambda f: ~_has_cw(f))


def _fig_trainability(df, run_dir, out) -> list:
    return _fig_part(df, out, "poly", ("C_b", "C_W"), "test_error", 1.0, "test MSE / Var(y)", True,
                     "Trainability at (C_b, C_W)", "mrepu_trainability", where=_has_cw)


def _fig_pinn(df, run_dir, out) -> list:
    return _fig_part(df, out, "pinn", ("pde",), "test_error", 1.0, "relative L2 error", True,
                     "PINNs (Adam then L-BFGS)", "mrepu_pinn")


def _fig_vision(df, run_dir, out) -> list:
    return _fig_part(df, out, "vision", ("model", "data"), "test_acc", 0.0, "test accuracy", False,
                     "Vision", "mrepu_vision")
