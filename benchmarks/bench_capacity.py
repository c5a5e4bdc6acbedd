"""Throughput of the batched capacity solvers: instances × patterns × weights processed per second.

    python3 benchmarks/bench_capacity.py --json bench_capacity.json [--device cpu|cuda]

Gradient descent: one step touches every (instance, pattern, weight) triple (forward +
backward), throughput = B × R × P × N × steps / seconds (N = K·n weights per network,
R replicas). Annealing: one step flips one weight per instance and re-evaluates all P
patterns for it, throughput = B × P × flips / seconds.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from actlab.capacity.machine import CommitteeMachine, random_problem  # noqa: E402
from actlab.capacity.solvers import anneal, gradient_descent, replicated  # noqa: E402


def _time(fn, device: str) -> float:
    if device == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    fn()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t


def bench(device: str, B: int, N: int, alpha: float, steps: int) -> list[dict]:
    rows = []
    for act, K in (("relu", 4), ("sign", 3)):
        n_in = N - N % K
        m = CommitteeMachine(act, K, n_in)
        P = int(alpha * n_in)
        prob = random_problem(m, P, B, generator=torch.Generator(device=device).manual_seed(0), device=device)
        # margin so high that no instance is solved: every step is a full step
        runs = {
            "gd spherical": lambda: gradient_descent(m, prob, "spherical", max_steps=steps, margin=50.0,
                                                     check_every=steps),
            "gd binary": lambda: gradient_descent(m, prob, "binary", max_steps=steps, margin=50.0, check_every=steps),
            "replicated(R=5) binary": lambda: replicated(m, prob, "binary", replicas=5, max_steps=steps, margin=50.0,
                                                         check_every=steps),
        }
        for name, fn in runs.items():
            _time(fn, device)  # warm-up
            sec = _time(fn, device)
            mult = 5 if "R=5" in name else 1
            rows.append({"solver": name, "activation": act, "K": K, "N": n_in, "P": P, "instances": B, "steps": steps,
                         "seconds": sec, "throughput": B * mult * P * n_in * steps / sec})
        sweeps = max(1, steps // n_in)
        prob_hard = random_problem(m, int(1.5 * n_in), B, generator=torch.Generator(device=device).manual_seed(1),
                                   device=device)
        sec = _time(lambda: anneal(m, prob_hard, sweeps=sweeps, beta=(1e-3, 1e-3)), device)
        flips = sweeps * n_in
        rows.append({"solver": "anneal binary", "activation": act, "K": K, "N": n_in, "P": prob_hard.P, "instances": B,
                     "steps": flips, "seconds": sec, "throughput": B * prob_hard.P * flips / sec})
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", metavar="FILE", help="write the results as JSON")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--instances", type=int, default=256)
    ap.add_argument("--N", type=int, default=120)
    ap.add_argument("--alpha", type=float, default=1.0)
    ap.add_argument("--steps", type=int, default=50)
    args = ap.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        print("no CUDA device available", file=sys.stderr)
        return 2
    rows = bench(args.device, args.instances, args.N, args.alpha, args.steps)
    for r in rows:
        print(f"{r['solver']:<24} {r['activation']:<4} K={r['K']} N={r['N']} P={r['P']} B={r['instances']}: "
              f"{r['throughput']:.3e} instance·pattern·weight/s ({r['seconds']:.2f} s)")
    meta = {"device": args.device, "torch": torch.__version__, "threads": torch.get_num_threads(),
            "machine": platform.machine(), "command": " ".join(sys.argv),
            "cuda_name": torch.cuda.get_device_name() if args.device == "cuda" else None}
    if args.json:
        Path(args.json).write_text(json.dumps({"meta": meta, "results": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
