"""The figure of `actlab theory --plot`: criticality of one activation at a glance.

(a) χ∥(K) and χ⊥(K) at the chosen C_W, with K* marked: criticality is where both are 1.
(b) the kernel K⁽ˡ⁾ vs depth at the chosen (C_b, C_W) and at C_W × 0.9 and × 1.1 (same
    C_b), with the finite-width measurement (mean ± standard error over networks)
    overlaid when given, with the 1/n theory's mean at that width (dotted).
(c) the backward signal Π_{k≥l} χ⊥(K⁽ᵏ⁾) (the squared gradient at layer l relative to
    the last layer) at the same inits, with the measured gradients when given.
"""
from __future__ import annotations

import math
import textwrap
from typing import Optional

import numpy as np

from .finite_width import Comparison
from .kernels import kernel_trajectory, susceptibilities


def theory_figure(act, C_b: float, C_W: float, K0: float, depth: int, title: str,
                  K_star: Optional[float] = None, measured: Optional[Comparison] = None,
                  width: Optional[int] = None, nearby: tuple[float, ...] = (0.9, 1.1), label: str = "critical"):
    """Build the three-panel matplotlib figure (Agg backend) and return it; `label` names
    the (C_b, C_W) shown ("critical", or e.g. "chosen init")."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13.5, 4.0), constrained_layout=True)
    ax_chi, ax_k, ax_g = axes

    Ks = np.logspace(-3, 3, 61)
    par, perp = susceptibilities(act, Ks, C_W, width=width)
    ax_chi.plot(Ks, par, color="C0", lw=2, label=r"$\chi_\parallel(K)$")
    ax_chi.plot(Ks, perp, color="C3", lw=2, ls="--", label=r"$\chi_\perp(K)$")
    ax_chi.axhline(1.0, color="0.5", lw=0.8)
    if K_star:
        ax_chi.axvline(K_star, color="0.3", lw=0.8, ls=":", label=rf"$K^\ast = {K_star:.4g}$")
    ax_chi.set_xscale("log")
    span = np.concatenate([par, perp])
    if span.min() > 0 and span.max() / span.min() > 20:  # power-law growth (RePU): log scale reads better
        ax_chi.set_yscale("log")
    ax_chi.set_xlabel(r"kernel $K$")
    ax_chi.set_ylabel("susceptibility")
    ax_chi.set_title(rf"(a) susceptibilities at $C_W = {C_W:.4g}$")
    ax_chi.legend(frameon=False)

    layers = np.arange(1, depth + 1)
    styles = [(1.0, "C0", "-", label)] + [(f, f"C{i + 1}", "--", rf"$C_W\times{f:g}$") for i, f in enumerate(nearby)]
    for factor, color, ls, label in styles:
        traj = kernel_trajectory(act, C_b, C_W * factor, K0, depth - 1, width=width)
        shown = np.where(np.isfinite(traj) & (traj > 0), traj, np.nan)
        if factor == 1.0:
            window = (np.nanmin(shown) / 100, np.nanmax(shown) * 100)  # runaway curves leave the window
        ax_k.plot(layers, shown, color=color, ls=ls, lw=2 if factor == 1.0 else 1.2,
                  label=rf"{label}: $C_b={C_b:.3g}$, $C_W={C_W * factor:.4g}$")
        if np.all(np.isfinite(traj)) and np.all(traj > 0):
            chi = np.asarray(susceptibilities(act, traj, C_W * factor, width=width)[1]).reshape(-1)
            signal = np.array([np.prod(chi[l:depth - 1]) for l in range(depth)])
            ax_g.plot(layers, signal, color=color, ls=ls, lw=2 if factor == 1.0 else 1.2, label=label)
    if measured is not None:
        every = np.zeros(depth, dtype=bool)
        every[::max(1, depth // 25)] = True  # at most ~25 markers per curve
        keep = every & (measured.kernel_diverged == 0)  # overflowed networks leave no meaningful mean
        ax_k.plot(measured.layers, measured.kernel_predicted_finite, color="k", lw=1, ls=":",
                  label=f"1/n theory, width {measured.width}")
        ax_k.errorbar(measured.layers[keep], measured.kernel_measured[keep], yerr=measured.kernel_error[keep],
                      fmt="o", ms=3.5, color="k", capsize=2, label=f"measured, width {measured.width}")
        if np.all(np.isfinite(measured.grad_measured)):
            ax_g.errorbar(measured.layers[every], measured.grad_measured[every],
                          yerr=np.nan_to_num(measured.grad_error[every]), fmt="o", ms=3.5, color="k", capsize=2,
                          label=f"measured, width {measured.width}")
    ax_k.set_yscale("log")
    ax_k.set_ylim(*window)
    ax_k.set_xlabel(r"layer $\ell$")
    ax_k.set_ylabel(r"kernel $K^{(\ell)}$")
    ax_k.set_title(rf"(b) kernel vs depth from $K^{{(1)}} = {K0:.3g}$")
    ax_k.legend(frameon=False, fontsize=8)
    ax_g.set_yscale("log")
    ax_g.set_xlabel(r"layer $\ell$")
    ax_g.set_ylabel(r"$\prod_{k\geq\ell}\chi_\perp(K^{(k)})$")
    ax_g.set_title("(c) backward signal (squared gradient)")
    ax_g.legend(frameon=False, fontsize=8)
    fig.suptitle(textwrap.fill(title, 150))
    return fig


def default_k0(cls: str, K_star: Optional[float], a1: Optional[float], depth: int) -> float:
    """Where the plotted trajectory starts: K* (half-stable); 1/(2a₁·depth) for the marginal
    K*=0 class (1/K⁽ˡ⁾ ≈ 1/K⁽¹⁾ − a₁l, so the kernel doubles over the depth instead of
    blowing up at its end as from 1/(a₁·depth)); else 1."""
    if cls == "half-stable" and K_star:
        return float(K_star)
    if cls == "K*=0" and a1 and a1 > 0:
        return 1.0 / (2 * a1 * depth)
    return 1.0 if not (K_star and math.isfinite(K_star) and K_star > 0) else float(K_star)


def phase_figure(act_label: str, C_W: np.ndarray, C_b: np.ndarray, grid: dict, line_C_b: np.ndarray,
                 line_C_W: np.ndarray, depth: Optional[int] = None):
    """The (C_W, C_b) phase diagram: log₁₀ ξ_c as colour with contours, the order-to-chaos
    line (χ₁ = 1), the unbounded region (q* = ∞) blank; with `depth`, the contour ξ_c = depth/6
    (Schoenholz et al. 2017: trainable while depth ≲ 6ξ_c)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.8, 4.8), constrained_layout=True)
    xi = np.asarray(grid["xi_c"], dtype=float)
    shown = np.log10(np.clip(np.where(np.isfinite(xi), xi, 1e4), 1e-1, 1e4))
    shown[np.asarray(grid["phase"]) == "unbounded"] = np.nan
    W, B = np.meshgrid(C_W, C_b, indexing="ij")
    mesh = ax.pcolormesh(W, B, shown, shading="auto", cmap="viridis", vmin=-0.5, vmax=3)
    fig.colorbar(mesh, ax=ax, label=r"$\log_{10}\xi_c$ (layers)")
    levels = [1, 2, 5, 10, 20, 50, 100]
    cs = ax.contour(W, B, np.where(np.isfinite(xi), xi, 1e4), levels=levels, colors="w", linewidths=0.7)
    ax.clabel(cs, fmt="%g", fontsize=7)
    if depth:
        ax.contour(W, B, np.where(np.isfinite(xi), xi, 1e4), levels=[depth / 6], colors="r", linewidths=1.2)
        ax.plot([], [], color="r", label=rf"$\xi_c = L/6$, L = {depth}")
    ok = np.isfinite(line_C_W)
    ax.plot(line_C_W[ok], line_C_b[ok], color="k", lw=2, label=r"order–chaos line ($\chi_1 = 1$)")
    ax.set_xscale("log")
    ax.set_xlim(C_W.min(), C_W.max())
    ax.set_ylim(C_b.min(), C_b.max())
    ax.set_xlabel(r"$C_W$ (weight variance × fan-in)")
    ax.set_ylabel(r"$C_b$ (bias variance)")
    sides = ("ordered (left) / chaotic (right)" if (grid["phase"] == "chaotic").any() else
             "no chaotic point: ordered, or critical on the line")
    ax.set_title(f"{act_label}: {sides}, blank = kernel unbounded", fontsize=10 if len(act_label) < 12 else 8)
    ax.legend(frameon=True, fontsize=8, loc="upper left")
    return fig
