"""What the fair-comparison protocol costs: a tuned spec against one untuned run per arm, in one run.

    python3 benchmarks/bench_protocol.py [--spec SPEC.toml] [--workers N] [--json out.json]

After an untimed one-epoch warm-up (compiled kernels, caches), runs the spec
twice into a temporary directory, on the same machine, one after the other: (1) without its [tune] section — one run per arm, at the spec's own
settings; (2) under the protocol — `trials` trials per arm (pruned ones stop
early) plus one final per seed. Reports both wall times and their ratio, the
number of runs, how many trials were pruned, and the load average (the machine
may be shared). Default spec: a small built-in one on digits (3 arms, 6 trials
each, 3 final seeds); pass a suite's spec with --spec.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from actlab.experiments import load, load_spec, parse_spec, run_sweep  # noqa: E402

SMALL = """
name = "bench-protocol"
task = "train"
[base]
data = "digits"
depth = 6
width = 32
epochs = 3
batch_size = 64
lr = 1e-3
probes = false
checkpoint_every = 0
[sweep]
act = ["relu", "tanh", "gelu"]
[tune]
trials = 6
final_seeds = [0, 1, 2]
[tune.params]
lr = { low = 1e-5, high = 1e-2, log = true }
"""


def bench(spec, workers) -> dict:
    if spec.tune is None:
        raise SystemExit(f"{spec.name}: the spec has no [tune] section; nothing to compare")
    untuned = dataclasses.replace(spec, tune=None, name=spec.name + "-untuned")
    with tempfile.TemporaryDirectory() as tmp:
        # warm-up, not timed: the fused kernels compile on first use and cache on disk
        run_sweep(dataclasses.replace(untuned, base={**spec.base, "epochs": 1}), out=Path(tmp) / "warm-up",
                  workers=workers, progress=False)
        load_before = os.getloadavg()[0]
        t = time.perf_counter()
        plain = run_sweep(untuned, out=Path(tmp) / "untuned", workers=workers, progress=False)
        untuned_s = time.perf_counter() - t
        t = time.perf_counter()
        tuned = run_sweep(spec, out=Path(tmp) / "tuned", workers=workers, progress=False)
        tuned_s = time.perf_counter() - t
        df = load(Path(tmp) / "tuned")
    trials = df[df["phase"] == "trial"]
    return {"spec": spec.name, "arms": plain.total, "trials_per_arm": spec.tune.trials,
            "final_seeds": len(spec.tune.final_seeds), "workers": workers,
            "untuned_runs": plain.executed, "untuned_wall_s": round(untuned_s, 2),
            "protocol_runs": tuned.executed, "protocol_wall_s": round(tuned_s, 2),
            "trials_pruned": int((trials["status"] == "pruned").sum()), "trials": len(trials),
            "ratio": round(tuned_s / untuned_s, 2),
            "loadavg_1min_before": round(load_before, 2), "loadavg_1min_after": round(os.getloadavg()[0], 2),
            "cpus": os.cpu_count(), "python": platform.python_version()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", help="a tuned spec (default: a small built-in one on digits)")
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: the usable CPUs)")
    parser.add_argument("--json", metavar="FILE", help="also write the result as JSON")
    args = parser.parse_args()
    spec = load_spec(args.spec) if args.spec else parse_spec(SMALL)
    result = bench(spec, args.workers)
    print(f"{result['spec']}: {result['arms']} arms; untuned {result['untuned_runs']} runs in "
          f"{result['untuned_wall_s']} s; protocol {result['protocol_runs']} runs ({result['trials_pruned']} of "
          f"{result['trials']} trials pruned) in {result['protocol_wall_s']} s: ratio {result['ratio']}x "
          f"(load average {result['loadavg_1min_before']} -> {result['loadavg_1min_after']})")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
