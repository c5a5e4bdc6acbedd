"""Claims and figures of the MRePU suite (Kim & Kang, arXiv 2408.02697), from measured runs only.

Each verdict is computed from the run table; a part with no finished run gives
"not measured". Definitions (actlab's, stated in each row):
- a layer stack is stable when neither K⁽ᴸ⁾/K⁽¹⁾ nor the backward signal Π χ⊥ leaves
  [1/100, 100] (actlab.suites.mrepu.task.behaviour);
- polynomial regression and PINN comparisons take, per activation and cell, the best
  of the input scales q0 run (poly) and MRePU's better p.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from ...experiments.store import read_run_file
from ..common import FINISHED
from .task import DEFAULT_K0

CLASS_NAMES = {-1: "vanish", 0: "stable", 1: "explode"}
POLY_BASELINES = ("relu", "gelu", "tanh", "repu(p=2)", "zorro")
MREPU = ("mrepu(p=2)", "mrepu(p=3)")
NAMES = {"relu": "ReLU", "gelu": "GELU"}


def _part(df: pd.DataFrame, part: str) -> pd.DataFrame:
    if "part" not in df.columns:
        return df.iloc[0:0]
    return df[(df["part"] == part) & df["status"].isin(FINISHED)]


def _k0(row) -> float:
    k0 = getattr(row, "K0", math.nan)
    return DEFAULT_K0 if not isinstance(k0, float) or math.isnan(k0) else k0


def _not_measured(claim: str, paper: str) -> dict:
    return {"claim": claim, "paper": paper, "measured": "no finished run of this part", "verdict": "not measured"}


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


def _claim_repu_training(df) -> dict:
    claim = "RePU networks fail to train whatever the initialisation"
    paper = "RePU networks fail to train, regardless of the initialisation (the paper's abstract)"
    phase = _part(df, "phase")
    if not len(phase) or "trainable" not in phase:
        return _not_measured(claim, paper)
    text = []
    for act, sub in phase.groupby("act", sort=False):
        good = sub[sub["trainable"] == 1]
        points = ", ".join(f"({r.C_b:g}, {r.C_W:g})" for r in good.itertuples())
        text.append(f"{act}: {len(good)}/{len(sub)} grid points trainable" + (f" at (C_b, C_W) = {points}" if points else ""))
    repu = phase[phase["act"].str.startswith("repu")]
    depth = int(phase["train_depth"].max()) if "train_depth" in phase else int(phase["depth"].max())
    measured = (f"relative train MSE < 0.1 after {int(phase['steps'].max())} Adam steps, depth {depth}, x² + y²: "
                + "; ".join(text))
    return {"claim": claim, "paper": paper, "measured": measured,
            "verdict": "reproduced" if len(repu) and (repu["trainable"] == 0).all() else "not reproduced"}


def _best_poly(df) -> pd.DataFrame:
    poly = _part(df, "poly").copy()
    if not len(poly):
        return poly
    poly["mse"] = poly["test_mse_rel"].where(poly["status"] == "done", np.inf).fillna(np.inf)
    return poly.groupby(["target", "depth", "act"], as_index=False)["mse"].min()


def _claim_poly(df) -> dict:
    claim = "MRePU beats the other activations on polynomial regression"
    paper = "MRePU networks fit polynomial targets better than RePU and the usual activations (paper's regression experiments; figures not copied here)"
    best = _best_poly(df)
    if not len(best):
        return _not_measured(claim, paper)
    table = best.pivot_table(index=["target", "depth"], columns="act", values="mse")
    if not any(m in table for m in MREPU):
        return _not_measured(claim, paper)
    mre = table[[m for m in MREPU if m in table]].min(axis=1)
    wins = {b: int((mre < table[b]).sum()) for b in POLY_BASELINES if b in table}
    n = len(table)
    best_act = table.idxmin(axis=1)
    n_best = int(best_act.isin(MREPU).sum())
    ok = all(w > n / 2 for w in wins.values())
    text = (f"best MRePU (p = 2 or 3) has the lowest test MSE in {n_best}/{n} (target, depth) cells; beats "
            + ", ".join(f"{b} in {w}/{n}" for b, w in wins.items()))
    return {"claim": claim, "paper": paper, "measured": text, "verdict": "reproduced" if ok else "not reproduced"}


def _claims_pinn(df) -> list:
    paper = "MRePU PINNs are more accurate than ReLU/GELU ones (as the suite's brief summarises the paper; its figures are not copied here)"
    pinn = _part(df, "pinn").copy()
    out = []
    for rival in ("relu", "gelu"):
        claim = f"MRePU PINNs have a lower relative L2 error than {NAMES[rival]} ones"
        if not len(pinn):
            out.append(_not_measured(claim, paper))
            continue
        pinn["err"] = pinn["rel_l2"].where(pinn["status"] == "done", np.inf).fillna(np.inf)
        table = pinn.pivot_table(index="pde", columns="act", values="err", aggfunc="min")
        if rival not in table or not any(m in table for m in MREPU):
            out.append(_not_measured(claim, paper))
            continue
        mre = table[[m for m in MREPU if m in table]].min(axis=1)
        cells = [f"{pde}: {mre[pde]:.2g} vs {table.loc[pde, rival]:.2g}" for pde in table.index]
        wins = int((mre < table[rival]).sum())
        out.append({"claim": claim, "paper": paper,
                    "measured": f"best MRePU vs {rival} (rel. L2) — " + "; ".join(cells) + f" ({wins}/{len(table)} wins)",
                    "verdict": "reproduced" if wins > len(table) / 2 else "not reproduced"})
    return out


def _claim_vision(df) -> dict:
    claim = "MRePU classifies images as well as ReLU/GELU (within 2 accuracy points)"
    paper = "spec item 5 (the paper's headline experiments are regression and PINNs)"
    vis = _part(df, "vision")
    if not len(vis) or "test_acc" not in vis:
        return _not_measured(claim, paper)
    table = vis.pivot_table(index=["model", "data"], columns="act", values="test_acc")
    rows, ok = [], True
    for key, row in table.iterrows():
        m = row.get("mrepu(p=2)", math.nan)
        rivals = max(row.get("relu", -1.0), row.get("gelu", -1.0))
        rows.append(f"{key[0]}/{key[1]}: MRePU {100 * m:.1f} %, best of ReLU/GELU {100 * rivals:.1f} %")
        ok &= bool(m >= rivals - 0.02)
    return {"claim": claim, "paper": paper, "measured": "; ".join(rows), "verdict": "reproduced" if ok else "not reproduced"}


# ------------------------------------------------------------------ figures


def figures(df: pd.DataFrame, run_dir: Path, out: Path) -> list:
    import matplotlib

    matplotlib.use("Agg")
    made = []
    for fn in (_fig_kernel, _fig_phase_plane, _fig_phase_depth, _fig_poly, _fig_pinn, _fig_vision):
        made += fn(df, run_dir, out)
    return made


def _save(fig, out: Path, name: str, data: pd.DataFrame, title: str) -> tuple:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(out / f"{name}.png", dpi=100)
    plt.close(fig)
    data.to_csv(out / f"{name}.csv", index=False)
    return (title, f"{name}.png", f"{name}.csv")


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
        made.append(_save(fig, out, f"mrepu_kernel_depth_K0_{K0:g}", part,
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
    return [_save(fig, out, "mrepu_phase_cb_cw", phase[cols], f"Phase diagram over (C_b, C_W), depth {depth}")]


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
    return [_save(fig, out, "mrepu_phase_cw_depth", data, "Phase diagram over (C_W, depth), C_b = 0")]


def _fig_poly(df, run_dir, out) -> list:
    import matplotlib.pyplot as plt

    best = _best_poly(df)
    if not len(best):
        return []
    targets = list(dict.fromkeys(best["target"]))
    fig, axes = plt.subplots(1, len(targets), figsize=(4 * len(targets), 3.6), squeeze=False)
    for ax, target in zip(axes.flat, targets):
        sub = best[best["target"] == target]
        for act, s in sub.groupby("act", sort=False):
            s = s.sort_values("depth")
            y = s["mse"].replace(np.inf, np.nan)
            ax.plot(s["depth"], y, marker="o", label=act, lw=2.5 if act.startswith("mrepu") else 1.2)
        ax.set_yscale("log")
        ax.set_title(f"target {target}")
        ax.set_xlabel("depth")
        ax.set_ylabel("test MSE / Var(y)")
        ax.grid(alpha=0.3)
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("Polynomial regression: test MSE vs depth (best input scale per activation; gaps: diverged)")
    return [_save(fig, out, "mrepu_poly", best, "Polynomial regression: test MSE vs depth")]


def _bars(ax, table: pd.DataFrame, ylabel: str, logy: bool) -> None:
    n = table.shape[1]
    w = 0.8 / n
    for k, col in enumerate(table.columns):
        ax.bar(np.arange(len(table)) + k * w, table[col].replace(np.inf, np.nan), w, label=col)
    ax.set_xticks(np.arange(len(table)) + 0.4 - w / 2, [str(i) for i in table.index], fontsize=8)
    if logy:
        ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=7)


def _fig_pinn(df, run_dir, out) -> list:
    import matplotlib.pyplot as plt

    pinn = _part(df, "pinn")
    if not len(pinn):
        return []
    data = pinn[["pde", "act", "status", "rel_l2", "pinn_loss"]]
    table = pinn.pivot_table(index="pde", columns="act", values="rel_l2", aggfunc="min")
    fig, ax = plt.subplots(figsize=(8, 4))
    _bars(ax, table, "relative L2 error", logy=True)
    ax.set_title("PINNs: relative L2 error per activation (Adam then L-BFGS)")
    return [_save(fig, out, "mrepu_pinn", data, "PINNs: relative L2 error per activation")]


def _fig_vision(df, run_dir, out) -> list:
    import matplotlib.pyplot as plt

    vis = _part(df, "vision")
    if not len(vis) or "test_acc" not in vis:
        return []
    data = vis[["model", "data", "act", "status", "test_acc"]]
    table = vis.pivot_table(index=["model", "data"], columns="act", values="test_acc")
    table.index = [f"{m}/{d}" for m, d in table.index]
    fig, ax = plt.subplots(figsize=(6, 3.6))
    _bars(ax, table, "test accuracy", logy=False)
    ax.set_title("Vision: test accuracy")
    return [_save(fig, out, "mrepu_vision", data, "Vision: test accuracy")]
