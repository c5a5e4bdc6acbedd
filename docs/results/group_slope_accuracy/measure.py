"""Accuracy of χ_c and ξ_c of Radial Bounding pairs (C_b = 0.05) from the chaotic side up to the
critical line, now that the group slope D₁₂ is exact (Price's theorem through the isotropic
reduction, actlab.theory.isotropic.pair_slope).

    python docs/results/group_slope_accuracy/measure.py [--json OUT]

For each C_W: depth_scales on the fast path (fixed rule), its CPU time (time.process_time, one
thread), and an independent reference on the adaptive rule: c* by two Newton steps on
h(c) = ∫_c^1 (1 − C_W D(x)) dx with 16-point Gauss–Legendre in e = (1 − c)y² (the library's step
uses 8 points and the fixed rule) where 1 − c* < 0.02, else the library's c* (the secant on the
plain h, to ~1e-16/(1 − χ_c)); then χ_c = C_W·D(c*) by the adaptive rule. Also the kink expansion's
coefficient k in (1 − χ_c)/((χ₁ − 1)/2) = 1 + k√(1 − c*) + …. Then the slope's two rules against
each other on 30 kernels for each of g = 1, 2, 3, 5, 16 (the kernels of the benchmark's slope cases:
K₁₁, K₂₂ log-uniform in [1e-3/g, 100/g], c uniform in (−1, 1) but six with 1 − |c| = 10^−2 … 10^−11,
seed 0). About five CPU-minutes.
"""
from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np
import torch

from actlab.theory import depth_scales, order_chaos_line
from actlab.theory.isotropic import pair_slope, pair_target

RB, C_B = "radial_bounding", 0.05


def reference(q: float, C_W: float, c: float) -> tuple[float, float]:
    """(c*, χ_c) on the adaptive rule (see the module docstring)."""
    target = pair_target(RB)
    if 1 - c < 0.02:
        y, w = np.polynomial.legendre.leggauss(16)
        y, w = 0.5 * (y + 1), 0.5 * w
        for _ in range(2):
            eps = 1 - c
            x = np.r_[1 - eps * y ** 2, c]
            D = pair_slope(target, np.full(len(x), q), np.full(len(x), q), q * x, method="adaptive")
            h = eps - 2 * eps * C_W * (D[:-1] @ (w * y))
            c = c + h / (1 - C_W * D[-1])
    return c, C_W * float(pair_slope(target, q, q, q * c, method="adaptive")[0])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--json", default=None, help="write the rows to this file")
    args = p.parse_args()
    torch.set_num_threads(1)
    line = float(order_chaos_line(RB, [C_B])[0])
    rows = []
    for label, C_W in [("3", 3.0), ("1.3", 1.3), ("1.27", 1.27), ("line·(1 + 1e-3)", line * (1 + 1e-3)),
                       ("line·(1 + 1e-4)", line * (1 + 1e-4))]:
        start = time.process_time()
        d = depth_scales(RB, C_B, C_W)
        cpu = time.process_time() - start
        c_ref, chi_ref = reference(d.q_star, C_W, d.c_star)
        xi_ref = -1 / math.log(chi_ref)
        row = dict(C_W=C_W, label=label, chi_1=d.chi_1, c_star=d.c_star, chi_c=d.chi_c, xi_c=d.xi_c, cpu_s=cpu,
                   c_ref=c_ref, chi_c_ref=chi_ref, xi_c_ref=xi_ref,
                   gap_error=(d.c_star - c_ref) / (1 - c_ref), chi_c_error=d.chi_c / chi_ref - 1,
                   xi_c_error=d.xi_c / xi_ref - 1,
                   kink_k=((1 - d.chi_c) / ((d.chi_1 - 1) / 2) - 1) / math.sqrt(1 - d.c_star))
        rows.append(row)
        print(f"C_W = {label:16s} χ₁ − 1 = {d.chi_1 - 1:.3e}  1 − c* = {1 - d.c_star:.3e}  ξ_c = {d.xi_c:.10g}"
              f"  ({cpu:.2f} CPU-s)  vs reference: 1 − c* {row['gap_error']:.1e}, χ_c {row['chi_c_error']:.1e},"
              f" ξ_c {row['xi_c_error']:.1e}  kink k = {row['kink_k']:.3f}", flush=True)
    rules = {}
    for g in (1, 2, 3, 5, 16):
        rng = np.random.default_rng(0)
        K11, K22 = 10 ** rng.uniform(-3, 2, (2, 30)) / g
        c = rng.uniform(-1, 1, 30)
        c[:6] = np.sign(c[:6]) * (1 - 10.0 ** -np.linspace(2, 11, 6))
        kernels = (pair_target(f"radial_bounding(group_size={g})"), K11, K22, c * np.sqrt(K11 * K22))
        start = time.process_time()
        fixed = pair_slope(*kernels)
        cpu_fixed = time.process_time() - start
        adaptive = pair_slope(*kernels, method="adaptive")
        cpu_adaptive = time.process_time() - start - cpu_fixed
        rules[g] = dict(max_rel_diff=float(np.max(np.abs(fixed / adaptive - 1))), fixed_ms_per_slope=cpu_fixed / 30 * 1e3,
                        adaptive_s_per_slope=cpu_adaptive / 30)
        print(f"g = {g:2d}: fixed vs adaptive slope, max rel diff {rules[g]['max_rel_diff']:.1e}; "
              f"{rules[g]['fixed_ms_per_slope']:.0f} CPU-ms (fixed), {rules[g]['adaptive_s_per_slope']:.2f} CPU-s "
              "(adaptive) per slope", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"C_b": C_B, "critical_C_W": line, "rows": rows, "rules": rules}, f, indent=1)


if __name__ == "__main__":
    main()
