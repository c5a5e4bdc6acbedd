"""CPU time of the depth scales, the two-input kernel (c-map), its slope and the order-to-chaos line
of group activations (Radial Bounding on pairs, on groups of 4 and 16, and the whole vector at width
128), this tree against a baseline source tree, in one run.

    python3 benchmarks/bench_depth_scales.py [--json bench_depth_scales.json]
                                             [--baseline-src /tmp/main/src] [--cases NAME ...]

The baseline is another checkout's src/ (e.g. `git archive main | tar -x -C /tmp/main`). Each case
runs in a fresh Python process per tree (so nothing cached by an earlier case helps it), on one
thread (torch.set_num_threads(1), OMP/BLAS limited to one thread), and is timed as CPU time
(time.process_time) of the call alone, imports excluded: the time a user waits for that answer.
The row gives both times, their ratio, and the largest relative difference between the two
results (q*, c*, χ₁, χ_c, ξ_c; the c-map's S₁₂; the critical C_W). The case `phase` (the CLI's
default `--phase` grid, 25 × 13 points, and its 41-point line) is not in the default list: on
the adaptive path it takes hours.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve()
SRC = HERE.parents[1] / "src"

RB2, RB4, RBN = "radial_bounding", "radial_bounding(group_size=4)", "radial_bounding(group_size=None)"
C_MAP_RHO = (0.0, 1e-12, -1e-12, 0.5, -0.5, 1 - 1e-9, -(1 - 1e-9))
CASES = {  # name: (what, code run in the worker with `theory`, `np` and `depth` imported; sets `result`)
    "rb2_chaotic_cb0": ("depth_scales RB pairs, C_b = 0, C_W = 1.5 (chaotic, c* = 0)",
                        f"result = scales(theory.depth_scales({RB2!r}, 0.0, 1.5))"),
    "rb2_chaotic": ("depth_scales RB pairs, C_b = 0.05, C_W = 3 (chaotic)",
                    f"result = scales(theory.depth_scales({RB2!r}, 0.05, 3.0))"),
    "rb2_near_critical": ("depth_scales RB pairs, C_b = 0.05, C_W = 1.3 (chaotic, χ₁ = 1.015)",
                          f"result = scales(theory.depth_scales({RB2!r}, 0.05, 1.3))"),
    "rb2_near_critical_127": ("depth_scales RB pairs, C_b = 0.05, C_W = 1.27 (chaotic, χ₁ = 1.0037, 1 − c* = 1e-3)",
                              f"result = scales(theory.depth_scales({RB2!r}, 0.05, 1.27))"),
    "rb2_next_to_line": ("depth_scales RB pairs, C_b = 0.05, C_W = 1.26025268817 (1e-4 above the critical line, "
                         "χ₁ = 1 + 4.7e-5, 1 − c* = 1.8e-7)",
                         f"result = scales(theory.depth_scales({RB2!r}, 0.05, 1.26025268817))"),
    "rb2_ordered": ("depth_scales RB pairs, C_b = 0.05, C_W = 0.5 (ordered)",
                    f"result = scales(theory.depth_scales({RB2!r}, 0.05, 0.5))"),
    "rb4_chaotic": ("depth_scales RB groups of 4, C_b = 0.05, C_W = 3 (chaotic)",
                    f"result = scales(theory.depth_scales({RB4!r}, 0.05, 3.0))"),
    "rbn_width128": ("depth_scales whole-vector RB at width 128, C_b = 0.001, C_W = 1.5",
                     f"result = scales(theory.depth_scales({RBN!r}, 0.001, 1.5, width=128))"),
    "rb2_cmap": (f"kernel_map_pair RB pairs, K = 1, ρ = {', '.join(f'{r:.9g}' for r in C_MAP_RHO)}",
                 f"result = [float(theory.kernel_map_pair({RB2!r}, np.array([[1.0, r], [r, 1.0]]), 0.0, 1.0)[0, 1])"
                 f" for r in {C_MAP_RHO!r}]"),
    "rb2_slope": ("pair_slope RB pairs, fixed rule, 30 kernels (SLOPE_KERNELS)",
                  f"result = slopes({RB2!r}, 2)"),
    "rb16_slope": ("pair_slope RB groups of 16, fixed rule, 30 kernels (SLOPE_KERNELS)",
                   "result = slopes('radial_bounding(group_size=16)', 16)"),
    "rb2_line": ("order_chaos_line RB pairs, 41 C_b in [0, 0.5]",
                 f"result = [float(v) for v in theory.order_chaos_line({RB2!r}, np.linspace(0, 0.5, 41))]"),
    "phase": ("the CLI's default --phase grid for RB pairs: scales_grid 25 × 13 and the 41-point line",
              "C_W = np.geomspace(0.25, 4.0, 25); C_b = np.linspace(0.0, 0.5, 13)\n"
              f"g = depth.scales_grid({RB2!r}, C_b[None, :], C_W[:, None])\n"
              f"line = depth.order_chaos_line({RB2!r}, np.linspace(0.0, 0.5, 41))\n"
              "result = [float(v) for k in ('q_star', 'c_star', 'chi_1', 'xi_c') for v in g[k].ravel()]"
              " + [float(v) for v in line]"),
}
DEFAULT_CASES = [c for c in CASES if c != "phase"]

WORKER = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
import numpy as np
import torch
torch.set_num_threads(1)
from actlab import theory
from actlab.theory import depth, isotropic

def scales(d):
    return [d.q_star, d.c_star, d.chi_1, d.chi_c, d.xi_c]

def slopes(name, g):
    # SLOPE_KERNELS (seed 0): K₁₁, K₂₂ log-uniform in [1e-3/g, 100/g], c uniform in (−1, 1) but six of
    # the 30 with 1 − |c| = 10^−2 … 10^−11
    rng = np.random.default_rng(0)
    K11, K22 = 10 ** rng.uniform(-3, 2, (2, 30)) / g
    c = rng.uniform(-1, 1, 30)
    c[:6] = np.sign(c[:6]) * (1 - 10.0 ** -np.linspace(2, 11, 6))
    return [float(v) for v in isotropic.pair_slope(isotropic.pair_target(name), K11, K22, c * np.sqrt(K11 * K22))]

code = sys.argv[2]
start = time.process_time()
exec(code)
cpu = time.process_time() - start
print(json.dumps({"cpu": cpu, "result": result}))
"""


def run(src: Path, case: str) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    res = subprocess.run([sys.executable, "-c", WORKER, str(src), CASES[case][1]], capture_output=True,
                         text=True, env=env, timeout=6 * 3600)
    if res.returncode != 0:
        raise RuntimeError(f"{case} with {src}: " + (res.stderr.strip().splitlines() or ["failed"])[-1])
    return json.loads(res.stdout.strip().splitlines()[-1])


def max_rel_diff(a: list, b: list) -> float:
    """Largest |a − b|/|b| over finite pairs (|a − b| where b = 0; equal infinities count 0)."""
    worst = 0.0
    for x, y in zip(a, b):
        if x == y or (x is None and y is None):
            continue
        if x is None or y is None or not (math.isfinite(x) and math.isfinite(y)):
            return math.inf
        worst = max(worst, abs(x - y) / (abs(y) if y != 0 else 1.0))
    return worst


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--json", default=None, help="write the rows to this file")
    p.add_argument("--baseline-src", default=None, help="src/ of the tree to compare against (e.g. main's)")
    p.add_argument("--cases", nargs="+", default=DEFAULT_CASES, choices=list(CASES),
                   help="cases to run (default: all but phase)")
    args = p.parse_args(argv)
    base = Path(args.baseline_src).resolve() if args.baseline_src else None
    if base is not None and not (base / "actlab").is_dir():
        p.error(f"--baseline-src {base} has no actlab package")
    rows = []
    for case in args.cases:
        now = run(SRC, case)
        row = {"case": case, "what": CASES[case][0], "cpu": now["cpu"], "result": now["result"]}
        line = f"{case:18s} cpu {now['cpu']:8.3f} s"
        if base is not None:
            before = run(base, case)
            row.update(baseline_cpu=before["cpu"], baseline_result=before["result"],
                       speedup=before["cpu"] / now["cpu"],
                       max_rel_diff=max_rel_diff(now["result"], before["result"]))
            line += (f"   baseline {before['cpu']:8.3f} s   speed-up {row['speedup']:7.1f}×"
                     f"   max rel diff {row['max_rel_diff']:.1e}")
        rows.append(row)
        print(line + f"   ({CASES[case][0]})", flush=True)
    meta = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
            "threads": 1, "src": str(SRC), "baseline_src": str(base) if base else None,
            "load_average_end": os.getloadavg(), "command": " ".join(sys.argv)}
    if args.json:
        Path(args.json).write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
