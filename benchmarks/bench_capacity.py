"""Throughput of the batched capacity solvers: instances × patterns × weights processed per second.

    python3 benchmarks/bench_capacity.py --json bench_capacity.json [--device cpu|cuda] [--anneal-only]

Gradient descent: one step touches every (instance, pattern, weight) triple (forward +
backward), throughput = B × R × P × N × steps / seconds (N = K·n weights per network,
R replicas). Annealing: one proposal flips one weight and re-evaluates the P patterns for it,
throughput = B × P × proposals / seconds.

Annealing against a plain compiled loop, in the same run: `plain_anneal` below is the
bare loop one would write for the sign perceptron (numba, fields kept, one pass over the
patterns per proposal, nothing else), on the same instances and schedule as the library's
`anneal` (which adds committee machines, ties, schedules, batching and the Python wrapper);
the ratio of their throughputs is reported (target: library within 3× of the plain loop).

Replicated (robust-ensemble) annealing against plain annealing, in the same run, on the same unsolvable
instances with the same energy: seconds per sweep (plain: K·n proposals; replicated: R·K·n) and per
proposal; the per-proposal ratio is the coupling's overhead, the per-sweep ratio the price of R replicas.

Focusing BP (`--fbp-only` for just this row): CPU time (time.process_time, one thread) per BP iteration on the
binary perceptron (default N = 1001, α = 0.6), a fixed number of iterations early in the focusing (no instance
is solved that soon), and per pattern·weight message update.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import math

import numba
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from actlab.capacity.machine import CommitteeMachine, random_problem  # noqa: E402
from actlab.capacity.solvers import anneal, fbp, gradient_descent, replicated, replicated_anneal  # noqa: E402


def _time(fn, device: str) -> float:
    if device == "cuda":
        torch.cuda.synchronize()
    t = time.perf_counter()
    fn()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t


@numba.njit(cache=True)
def plain_anneal(XT: np.ndarray, y: np.ndarray, w: np.ndarray, proposals: int, beta: float, seed: int) -> int:
    """The bare SA loop for the sign perceptron: XT (N, P), y (P,), w (N,), int64; returns the final errors."""
    np.random.seed(seed)
    N, P = XT.shape
    h = np.zeros(P, dtype=np.int64)
    for i in range(N):
        for mu in range(P):
            h[mu] += w[i] * XT[i, mu]
    energy = 0
    for mu in range(P):
        energy += y[mu] * h[mu] <= 0
    for _ in range(proposals):
        i = np.random.randint(N)
        two_w = 2 * w[i]
        delta = 0
        for mu in range(P):
            delta += (y[mu] * (h[mu] - two_w * XT[i, mu]) <= 0) - (y[mu] * h[mu] <= 0)
        if delta <= 0 or np.random.random() < math.exp(-beta * delta):
            w[i] = -w[i]
            for mu in range(P):
                h[mu] -= two_w * XT[i, mu]
            energy += delta
    return energy


def bench_anneal_vs_plain(B: int, N: int, sweeps: int, alpha: float = 1.5, beta: float = 1.0) -> dict:
    """Library `anneal` vs `plain_anneal` on the same unsolvable instances (every sweep runs), same β."""
    m = CommitteeMachine("sign", 1, N)
    prob = random_problem(m, int(alpha * N), B, generator=torch.Generator().manual_seed(2))
    XT = np.ascontiguousarray(prob.patterns[:, 0].numpy().astype(np.int64).transpose(0, 2, 1))
    y = prob.labels.numpy().astype(np.int64)
    anneal(m, random_problem(m, 3, 1), sweeps=1)                      # compile both before timing
    plain_anneal(XT[0], y[0], np.ones(N, dtype=np.int64), 10, beta, 0)
    t = time.perf_counter()
    res = anneal(m, prob, sweeps=sweeps, beta=(beta, beta))
    lib = time.perf_counter() - t
    proposals = int(res.steps.sum())
    t = time.perf_counter()
    for b in range(B):
        plain_anneal(XT[b], y[b], np.where(np.arange(N) % 2 == 0, 1, -1).astype(np.int64), sweeps * N, beta, b)
    plain = time.perf_counter() - t
    P = prob.P
    return {"solver": "anneal vs plain compiled loop", "activation": "sign", "K": 1, "N": N, "P": P, "instances": B,
            "steps": sweeps * N, "seconds": lib, "plain_seconds": plain, "throughput": proposals * P / lib,
            "plain_throughput": B * sweeps * N * P / plain, "ratio_plain_over_library": (B * sweeps * N / plain) /
            (proposals / lib)}


def bench_replicated_vs_plain(B: int, N: int, sweeps: int, replicas: int, alpha: float = 1.5) -> list[dict]:
    """`replicated_anneal` vs `anneal` (hinge energy, fixed β and γ) on the same unsolvable instances."""
    rows = []
    for act, K in (("sign", 1), ("relu", 4)):
        n_in = N - N % K
        m = CommitteeMachine(act, K, n_in)
        prob = random_problem(m, int(alpha * n_in), B, generator=torch.Generator().manual_seed(3))
        small = random_problem(m, 3, 1)
        anneal(m, small, sweeps=1, energy="hinge")                       # compile before timing
        replicated_anneal(m, small, sweeps=1, replicas=replicas)
        t = time.perf_counter()
        plain = anneal(m, prob, sweeps=sweeps, beta=(1.0, 1.0), energy="hinge")
        plain_s = time.perf_counter() - t
        t = time.perf_counter()
        rep = replicated_anneal(m, prob, sweeps=sweeps, beta=(1.0, 1.0), gamma=(0.5, 0.5), replicas=replicas,
                                energy="hinge")
        rep_s = time.perf_counter() - t
        per_prop = (rep_s / int(rep.steps.sum())) / (plain_s / int(plain.steps.sum()))
        rows.append({"solver": f"replicated-anneal(R={replicas}) vs anneal", "activation": act, "K": K, "N": n_in,
                     "P": prob.P, "instances": B, "steps": sweeps, "seconds": rep_s, "plain_seconds": plain_s,
                     "throughput": int(rep.steps.sum()) * prob.P / rep_s,
                     "plain_throughput": int(plain.steps.sum()) * prob.P / plain_s,
                     "seconds_per_sweep": rep_s / (B * sweeps), "plain_seconds_per_sweep": plain_s / (B * sweeps),
                     "ratio_per_sweep": rep_s / plain_s, "ratio_per_proposal": per_prop})
    return rows


def bench_fbp(B: int, N: int, alpha: float, iterations: int) -> dict:
    """CPU seconds per fBP iteration (every pattern once, P·N message updates) on B perceptron instances."""
    m = CommitteeMachine("sign", 1, N)
    prob = random_problem(m, round(alpha * N), B, generator=torch.Generator().manual_seed(4))
    fbp(m, random_problem(m, 3, 1), steps=1)                          # compile before timing
    t = time.process_time()
    res = fbp(m, prob, steps=iterations)
    cpu = time.process_time() - t
    done = int(res.steps.sum())
    return {"solver": "fbp", "activation": "sign", "K": 1, "N": N, "P": prob.P, "instances": B, "steps": iterations,
            "cpu_seconds": cpu, "seconds": res.seconds, "throughput": done * prob.P * N / cpu,
            "cpu_seconds_per_iteration": cpu / done, "cpu_ns_per_message": cpu / (done * prob.P * N) * 1e9,
            "solved_early": int(res.solved.sum())}


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
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", metavar="FILE", help="write the results as JSON")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--instances", type=int, default=256)
    ap.add_argument("--N", type=int, default=120)
    ap.add_argument("--alpha", type=float, default=1.0)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--anneal-N", type=int, default=1001, help="perceptron size for annealing vs the plain loop")
    ap.add_argument("--anneal-instances", type=int, default=4)
    ap.add_argument("--sweeps", type=int, default=20, help="annealing sweeps (of N proposals)")
    ap.add_argument("--replicas", type=int, default=3, help="replicas of the replicated annealing")
    ap.add_argument("--anneal-only", action="store_true", help="skip the gradient-descent rows")
    ap.add_argument("--fbp-only", action="store_true", help="only the focusing-BP row")
    ap.add_argument("--fbp-N", type=int, default=1001, help="perceptron size for focusing BP (default 1001)")
    ap.add_argument("--fbp-alpha", type=float, default=0.6, help="load for focusing BP (default 0.6)")
    ap.add_argument("--fbp-iterations", type=int, default=20, help="fBP iterations timed per instance (default 20)")
    args = ap.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        print("no CUDA device available", file=sys.stderr)
        return 2
    meta = {"device": args.device, "torch": torch.__version__, "threads": torch.get_num_threads(),
            "machine": platform.machine(), "command": " ".join(sys.argv),
            "cuda_name": torch.cuda.get_device_name() if args.device == "cuda" else None}
    fbp_row = bench_fbp(args.anneal_instances, args.fbp_N, args.fbp_alpha, args.fbp_iterations)
    print(f"fbp sign K=1 N={fbp_row['N']} P={fbp_row['P']} B={fbp_row['instances']}: "
          f"{fbp_row['cpu_seconds_per_iteration'] * 1e3:.1f} ms CPU per BP iteration, "
          f"{fbp_row['cpu_ns_per_message']:.0f} ns per pattern·weight message")
    if args.fbp_only:
        if args.json:
            Path(args.json).write_text(json.dumps({"meta": meta, "results": [fbp_row]}, indent=1))
        return 0
    rows = [] if args.anneal_only else bench(args.device, args.instances, args.N, args.alpha, args.steps)
    rows.append(bench_anneal_vs_plain(args.anneal_instances, args.anneal_N, args.sweeps))
    sa = rows[-1]
    replicated_rows = bench_replicated_vs_plain(args.anneal_instances, args.anneal_N, args.sweeps, args.replicas)
    rows.extend(replicated_rows)
    for r in rows:
        print(f"{r['solver']:<24} {r['activation']:<4} K={r['K']} N={r['N']} P={r['P']} B={r['instances']}: "
              f"{r['throughput']:.3e} instance·pattern·weight/s ({r['seconds']:.2f} s)")
    print(f"plain compiled SA loop: {sa['plain_throughput']:.3e} pattern·proposal/s ({sa['plain_seconds']:.2f} s); "
          f"plain/library = {sa['ratio_plain_over_library']:.2f}")
    for r in replicated_rows:
        print(f"replicated/plain annealing, {r['activation']} K={r['K']} N={r['N']}: "
              f"{r['seconds_per_sweep'] * 1e3:.2f} vs {r['plain_seconds_per_sweep'] * 1e3:.2f} ms per sweep "
              f"(ratio {r['ratio_per_sweep']:.2f}), per proposal ratio {r['ratio_per_proposal']:.2f}")
    rows.append(fbp_row)
    if args.json:
        Path(args.json).write_text(json.dumps({"meta": meta, "results": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
