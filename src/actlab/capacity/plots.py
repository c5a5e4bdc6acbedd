"""Figures of the capacity lab (matplotlib, Agg backend)."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import numpy as np  # noqa: E402

from .empirical import CapacityScan  # noqa: E402
from .finite_k import sign_rs_asymptote  # noqa: E402
from .replica import sign_large_K_law  # noqa: E402


def plot_scans(scans: Sequence[CapacityScan], path) -> Path:
    """P(solved) vs α with Wilson 95 % bars, one line per scan; an 'exact' scan (enumeration) is drawn as the
    black dashed reference."""
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for s in scans:
        lo, hi = zip(*s.wilson())
        f = s.fractions
        style = dict(color="k", ls="--", marker="s", label=f"exact P(solvable), enumeration, N={s.N}") \
            if s.solver == "exact" else dict(marker="o", label=f"{s.activation} K={s.K} {s.weights} N={s.N} ({s.solver})")
        ax.errorbar(s.alphas, f, yerr=[[a - b for a, b in zip(f, lo)], [b - a for a, b in zip(f, hi)]], capsize=2,
                    **style)
    ax.axhline(0.5, color="grey", lw=0.6, ls=":")
    ax.set_xlabel("α = P/N")
    ax.set_ylabel("fraction solved")
    return _save(fig, ax, path)


def _save(fig, ax, path, loc: str = "best") -> Path:
    """Legend, layout, PNG at 110 dpi; closes the figure."""
    ax.legend(fontsize=7, loc=loc)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def plot_theory_table(rows: Sequence[dict], path) -> Path:
    """α_c(K), spherical RS: ReLU saturating at the K = ∞ values (left); sign growing (middle, log–log)
    with its RS √K asymptote and the quoted (16/π)√(ln K) law; binary RS zero entropy of the sign tree
    against 1/K, K = ∞ at 0 (right). Error bars are the stated errors."""
    finite = [r for r in rows if r["weights"] == "spherical" and r["ansatz"] == "rs" and r["K"] != "inf"]
    inf = {(r["activation"], r["ansatz"]): r["alpha_c"] for r in rows if r["K"] == "inf" and r["weights"] == "spherical"}
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(15, 3.9))
    relu = [r for r in finite if r["activation"] == "relu"]
    ax1.errorbar([r["K"] for r in relu], [r["alpha_c"] for r in relu], yerr=[r["uncertainty"] for r in relu],
                 marker="o", ms=3, capsize=2, label="RS, finite K (exact K=2; QMC ± 1 SE)")
    ax1.axhline(inf[("relu", "rs")], color="C1", ls="--", lw=1, label=f"RS K=∞: 2π/(π−1) = {inf[('relu', 'rs')]:.4f}")
    ax1.axhline(inf[("relu", "1rsb")], color="C2", ls=":", lw=1, label=f"1RSB K=∞: {inf[('relu', '1rsb')]:.4f}")
    ax1.set_xscale("log", base=2)
    ax1.set_xlabel("K (hidden units)")
    ax1.set_ylabel("α_c (spherical weights)")
    ax1.set_title("ReLU: finite as K → ∞")
    ax1.legend(fontsize=7)
    sign = [r for r in finite if r["activation"] == "sign"]
    Ks = np.array([r["K"] for r in sign], dtype=float)
    ax2.plot(Ks, [r["alpha_c"] for r in sign], "o-", ms=3, label="RS (order-statistics integral, exact)")
    grid = np.geomspace(max(Ks.min(), 3), Ks.max(), 200)
    ax2.plot(grid, sign_rs_asymptote(grid), color="C1", ls="--", lw=1, label="RS asymptote (12/√(2π))√K (derived)")
    ax2.plot(grid, sign_large_K_law(grid), color="C3", ls=":", lw=1.2,
             label="(16/π)√(ln K) (Monasson–Zecchina, quoted)")
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set_xlabel("K (hidden units)")
    ax2.set_title("sign: diverges")
    ax2.legend(fontsize=7)
    binary = sorted((r for r in rows if r["weights"] == "binary" and r["activation"] == "sign" and r["K"] != "inf"),
                    key=lambda r: r["K"])
    ax3.errorbar([1.0 / r["K"] for r in binary], [r["alpha_c"] for r in binary],
                 yerr=[r["uncertainty"] for r in binary], marker="o", ms=3, capsize=2,
                 label="sign tree, finite K (K=1: perceptron)")
    for r in rows:
        if r["weights"] == "binary" and r["K"] == "inf":
            ax3.axhline(r["alpha_c"], color="C1" if r["activation"] == "sign" else "C3", ls="--", lw=1,
                        label=f"{r['activation']} K=∞ (via C(q)): {r['alpha_c']:.4f}")
    ax3.set_xlabel("1/K")
    ax3.set_ylabel("α_c (binary weights, RS zero entropy)")
    ax3.set_title("binary: sign tree → K = ∞")
    ax3.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def plot_alpha_half_vs_N(groups: Sequence[dict], path, theory: float | None = None) -> Path:
    """α½ against N^(−½) with 95 % bars, one colour per solver group (each: label, N, alpha_half, ci, fit);
    the fit α∞ + a N^(−ν) drawn to N = ∞ (x = 0), with α∞ and its interval at x = 0; `theory` as a line."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for k, g in enumerate(groups):
        color = "k" if g["solver"] == "exact" else f"C{k}"
        x = np.asarray(g["N"], dtype=float) ** -0.5
        v = np.asarray(g["alpha_half"], dtype=float)
        ci = np.asarray(g["ci"], dtype=float).reshape(len(v), 2)
        ax.errorbar(x, v, yerr=[v - ci[:, 0], ci[:, 1] - v], marker="s" if color == "k" else "o", ls="none",
                    capsize=2, color=color, label=g["label"])
        fit = g.get("fit")
        if fit:
            grid = np.linspace(0, min(fit["sizes"]) ** -0.5, 50)         # over the fitted sizes and on to N = ∞
            ax.plot(grid, fit["alpha_inf"] + fit["slope"] * grid ** (2 * fit["power"]), color=color, lw=1, ls="--")
            lo, hi = fit["alpha_inf_ci95"]
            ax.errorbar([0], [fit["alpha_inf"]], yerr=[[fit["alpha_inf"] - lo], [hi - fit["alpha_inf"]]],
                        marker="*", ms=9, capsize=3, color=color)
    if theory is not None:
        ax.axhline(theory, color="grey", ls=":", lw=1, label=f"RS capacity {theory:.3f}")
    ax.set_xlabel("N^(−1/2)   (N → ∞ at 0; stars: extrapolation)")
    ax.set_ylabel("α½ (half the instances solved)")
    low, high = ax.get_ylim()
    ax.set_ylim(low, high + 0.45 * (high - low))                 # room for the legend above the data
    return _save(fig, ax, path, loc="upper left")


def _finish(fig, title: str, path) -> Path:
    """A multi-panel figure: the title, layout, PNG at 110 dpi; closes the figure."""
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def plot_geometry(curves, path) -> Path:
    """Franz–Parisi entropy (left), large-deviation local entropy with the ball bound H(d) (middle) and the
    deficit H(d) − S_LE(d) on a log scale (right: lower = denser), one colour per machine, one style per load."""
    from .empirical import ball_entropy

    colours = {"relu": "C3", "sign": "C0", "perceptron": "0.4"}
    loads = sorted({(c.machine, c.alpha) for c in curves})
    style = {}
    for m in colours:
        for i, (_, a) in enumerate(x for x in loads if x[0] == m):
            style[(m, a)] = ("-", "--", ":", "-.")[i % 4]
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    grid = np.geomspace(min(float(c.d.min()) for c in curves), 0.5, 400)
    axes[1].plot(grid, ball_entropy(grid), color="k", lw=0.8, label="H(d), ball (α = 0)")
    for c in curves:
        ok = np.isfinite(c.entropy)
        label = f"{c.machine} α={c.alpha:.3g}" + (f" ({c.load:g} α_c)" if c.load is not None else "")
        kw = dict(color=colours[c.machine], ls=style[(c.machine, c.alpha)], marker=".", ms=3, label=label)
        if c.kind == "franz-parisi":
            axes[0].plot(c.d[ok], c.entropy[ok], **kw)
        else:
            axes[1].plot(c.d[ok], c.entropy[ok], **kw)
            deficit = ball_entropy(c.d[ok]) - c.entropy[ok]
            pos = deficit > 0
            axes[2].plot(c.d[ok][pos], deficit[pos], **kw)
    axes[0].axhline(0.0, color="k", lw=0.6)
    axes[0].set_title("Franz–Parisi entropy (typical reference, RS)")
    axes[0].set_ylabel("S_FP(d)")
    axes[1].set_title("local entropy, large deviation y→∞ (RS)")
    axes[1].set_ylabel("S_LE(d)")
    axes[2].set_title("H(d) − S_LE(d): lower = denser")
    axes[2].set_yscale("log")
    for ax in axes:
        ax.set_xlabel("Hamming distance d")
        ax.set_xscale("log")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=6)
    return _finish(fig, "binary weights, RS: perceptron and tree committee machines at K = ∞ (via C(q)); "
                        "α_c = RS binary capacity of each machine", path)


def plot_dense_regions(cells: Sequence[dict], theory: Sequence[dict], path) -> Path:
    """One panel per load: the deficit below the ball vs d, log-log. Theory (K = ∞, RS): H − S_LE (solid, the
    densest centre) and H − S_FP (dashed, around a typical solution). Numerics (finite K, N ≈ 10³): the mean
    measured deficit −(1/N) ln p̂ over the solved instances with its 95 % t-interval, filled markers for
    replicated annealing and open ones for plain annealing; a lower bound (some p̂ = 0) is drawn as a caret."""
    from .dense_regions import theory_deficit_curve

    colours = {"relu": "C3", "sign": "C0", "perceptron": "0.4"}
    loads = sorted({c["load"] for c in cells})
    fig, axes = plt.subplots(1, len(loads), figsize=(6.2 * len(loads), 6.4), squeeze=False)
    for ax, load in zip(axes[0], loads):
        for t in theory:
            if abs(t["load"] - load) > 1e-9 or t["machine"] not in colours:
                continue
            le = t["kind"] == "local-entropy"
            ax.plot(*theory_deficit_curve(t), color=colours[t["machine"]], ls="-" if le else "--", lw=1.2 if le else 0.8,
                    label=f"{t['machine']} K=∞ theory: " + ("H − S_LE (dense)" if le else "H − S_FP (typical)"))
        for c in cells:
            if c["load"] != load or not c["deficit"]:
                continue
            rows = c["deficit"]
            col = colours[c["machine"]]
            shift = 1.04 if c["solver"] == "replicated" else 0.96          # side by side at the same d
            face = col if c["solver"] == "replicated" else "white"
            mean = [r for r in rows if r["kind"] == "mean"]
            n = sum(c["solved"])
            if mean:
                d = np.array([r["d"] for r in mean]) * shift
                y = np.array([r["deficit"] for r in mean])
                lo = np.clip(np.array([r["lo"] for r in mean]), 1e-9, None)
                hi = np.array([r["hi"] for r in mean])
                ax.errorbar(d, np.clip(y, 1e-9, None), yerr=[np.clip(y, 1e-9, None) - lo, hi - np.clip(y, 1e-9, None)],
                            fmt="o", ms=5, color=col, mfc=face, capsize=2, lw=0.8,
                            label=f"{c['machine']} K={c['K']} N={c['N']}, {c['solver']} annealing ({n} solved)")
            bounds = [r for r in rows if r["kind"] != "mean"]
            if bounds:
                ax.plot([r["d"] * shift for r in bounds], [r["deficit"] for r in bounds], "^", color=col, mfc=face,
                        ms=6, ls="none")
        here = [c for c in cells if c["load"] == load]
        floor = min(np.log(c["samples"]) / c["N"] for c in here)  # −(1/N) ln p̂ at one hit in `samples` draws
        ax.axhline(floor, color="k", ls=":", lw=0.7, label=f"resolution: one hit in {here[0]['samples']:.0e} draws")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_ylim(bottom=1e-6)
        ax.set_xlabel("Hamming distance d")
        ax.set_ylabel("deficit below the ball  H(d) − S(d)  (lower = denser)")
        ax.set_title(f"load {load:g} × α_c (RS binary, K = ∞, per machine)", fontsize=9)
        ax.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2)
    return _finish(fig, "dense regions: theory (K = ∞, RS) and the measured −(1/N) ln p̂(d) around solutions "
                        "(finite K, ▲ = lower bound where some p̂ = 0)", path)
