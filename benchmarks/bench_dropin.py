"""What a new user pays for the drop-in path: import time, and the fused CPU path after
threads made their first calls at once.

    python3 benchmarks/bench_dropin.py --json bench_dropin.json [--repeats 5] [--threads 8]

import: wall time of fresh interpreters running `import torch`, `import actlab` (the
subpackages load at first use) and `import actlab` plus every subpackage (what an eager
__init__ would cost), interleaved, median of --repeats.
threads: --threads threads call Zorro forward + backward on a fresh activation at once
(the first call compiles the kernels); then one thread times calls on the same tensor
with the fused path (auto) and with the reference formulas (never), and reports the
ratio, the fused path's run counter and any kernel that failed.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
sys.path.insert(0, str(SRC))

SUBPACKAGES = ("functional", "activations", "theory", "nn", "data", "train", "capacity", "experiments", "suites", "viz")
IMPORTS = {
    "torch": "import torch",
    "actlab": "import actlab",
    "actlab + every subpackage": "import actlab; " + "; ".join(f"actlab.{m}" for m in SUBPACKAGES),
}


def bench_import(repeats: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    times: dict[str, list[float]] = {k: [] for k in IMPORTS}
    for _ in range(repeats):
        for label, code in IMPORTS.items():
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True, env=env)
            times[label].append(time.perf_counter() - t)
    medians = {k: statistics.median(v) for k, v in times.items()}
    return {"median_s": medians, "actlab_over_torch_s": medians["actlab"] - medians["torch"],
            "every_subpackage_over_torch_s": medians["actlab + every subpackage"] - medians["torch"]}


def bench_threads(threads: int, numel: int, calls: int) -> dict:
    import torch

    import actlab
    from actlab.activations import fused

    act = actlab.get_activation("zorro")
    x = torch.randn(numel, requires_grad=True)
    barrier = threading.Barrier(threads)
    errors: list[str] = []

    def first_call() -> None:
        try:
            barrier.wait()
            act(x).sum().backward()
        except Exception as exc:  # reported, not raised: the benchmark records what happened
            errors.append(repr(exc))

    workers = [threading.Thread(target=first_call) for _ in range(threads)]
    t = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    first = time.perf_counter() - t

    def per_call(mode: str) -> float:
        with fused.fused_mode(mode):
            act(x).sum().backward()  # warm
            t = time.perf_counter()
            for _ in range(calls):
                act(x).sum().backward()
            return (time.perf_counter() - t) / calls

    runs_before = fused.runs
    fused_s = per_call("auto")
    fused_runs = fused.runs - runs_before
    reference_s = per_call("never")
    return {"threads": threads, "numel": numel, "first_calls_s": first, "errors": errors,
            "failed_kernels": {str(k): v for k, v in fused.failed.items()},
            "fused_runs_in_timed_calls": fused_runs, "fused_s_per_call": fused_s,
            "reference_s_per_call": reference_s, "reference_over_fused": reference_s / fused_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--repeats", type=int, default=5, help="fresh interpreters per import variant")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--numel", type=int, default=1 << 22)
    parser.add_argument("--calls", type=int, default=20)
    args = parser.parse_args()
    result = {"python": sys.version.split()[0], "import": bench_import(args.repeats),
              "threads": bench_threads(args.threads, args.numel, args.calls)}
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
