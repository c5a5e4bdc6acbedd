"""What one training step of each network of a training suite costs on the CPU, and what a profile
costs: `python benchmarks/bench_suite_arms.py [--suite zplane|zorro|signal] [--profile cpu|full|quick]
[--depth D] [--steps S] [--threads T] [--json FILE]`.

Builds every network family of the suite's spec (at its first initialisation; the init does not
change the cost) with the spec's depth, width and batch size, and times S Adam steps (zero_grad,
forward, cross-entropy, backward, step) after a warm-up long enough for the fused kernels'
rent-or-buy switch (docs/performance.md) to have happened (for every activation), on T threads. Reports wall and CPU
milliseconds per step and the CPU seconds of one epoch on the spec's training split (n_train or
60,000, minus the validation split), plus one epoch of every arm: the unit the docs/reproduce.md
cost estimate of a profile multiplies. `--depth D` times every network at depth D instead of its
spec's (the signal suite's grid spans depths 4 to 128 per activation: what it costs per layer is
the figure to scale; its "every arm" line then means every arm at depth D).
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

import torch  # noqa: E402

from actlab.activations import fused  # noqa: E402
from actlab.data.registry import dataset_input_shape  # noqa: E402
from actlab.experiments import load_spec  # noqa: E402
from actlab.nn.factory import build_model  # noqa: E402
from actlab.suites import suite_spec_path  # noqa: E402

FAMILY_KEYS = ("model", "act", "group_size", "norm", "norm_position")
FULL_TRAIN = {"fashion_mnist": 60_000, "digits": 1_437}


def families(spec) -> dict:
    """Family label -> (model kind, build_model keywords) for every network of the spec."""
    out: dict = {}
    for run in spec.runs():
        c = run.config
        label = " ".join(str(c[k]) for k in FAMILY_KEYS if c.get(k) is not None)
        if label not in out:
            kw = {k: c[k] for k in ("act", "norm", "norm_position", "init") if c.get(k) is not None}
            if c.get("group_size") is not None:
                kw["group_size"] = c["group_size"]
            out[label] = (c["model"], kw, c)
    return out


def time_steps(model: torch.nn.Module, batch: int, input_shape: tuple, steps: int) -> tuple:
    """(wall, CPU) seconds per step, timed after the warm-up: steps until every activation's small
    tensors have passed the fused kernels' rent-or-buy switch (or never count, being large enough)."""
    x, y = torch.randn(batch, *input_shape), torch.randint(0, 10, (batch,))
    opt = torch.optim.Adam(model.parameters(), 1e-4)

    def step() -> None:
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()

    for _ in range(5):
        step()
    while True:
        before = dict(fused._eager_numel)
        step()
        pending = [n for n, seen in fused._eager_numel.items()
                   if seen != before.get(n) and seen < fused.AMORTISED_NUMEL]
        if not pending:
            break
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        step()
    return (time.perf_counter() - wall) / steps, (time.process_time() - cpu) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--suite", default="zplane", choices=("zplane", "zorro", "signal"))
    parser.add_argument("--profile", default="cpu", choices=("quick", "full", "cpu"))
    parser.add_argument("--depth", type=int, default=None, help="time every network at this depth (default: the spec's)")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args()
    if args.depth is not None and args.depth < 1:
        parser.error("--depth must be >= 1")
    torch.set_num_threads(args.threads)
    spec = load_spec(suite_spec_path(args.suite, args.profile))
    rows = []
    for label, (kind, kw, c) in families(spec).items():
        batch = int(c.get("batch_size", 128))
        shape = dataset_input_shape(c["data"])
        depth = args.depth or int(c["depth"])
        model = build_model(kind, shape, 10, depth=depth, width=int(c["width"]), **kw)
        wall, cpu = time_steps(model, batch, shape, args.steps)
        n = int(c.get("n_train") or FULL_TRAIN[c["data"]])
        steps_per_epoch = -(-round(n * (1 - (spec.tune.val_fraction if spec.tune else 0.0))) // batch)
        rows.append({"network": label, "depth": depth, "ms_per_step_wall": 1e3 * wall, "ms_per_step_cpu": 1e3 * cpu,
                     "cpu_s_per_epoch": cpu * steps_per_epoch, "steps_per_epoch": steps_per_epoch})
        print(f"{label:40s} {1e3 * wall:7.1f} ms wall {1e3 * cpu:7.1f} ms CPU per step, "
              f"{cpu * steps_per_epoch:6.1f} CPU-s per epoch ({steps_per_epoch} steps)", flush=True)
    arms_per_family = len(spec.runs()) / len(rows)
    every_arm = arms_per_family * sum(r["cpu_s_per_epoch"] for r in rows)
    print(f"one epoch of every arm ({len(spec.runs())} arms): {every_arm:.0f} CPU-s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"suite": args.suite, "profile": args.profile, "depth": args.depth, "threads": args.threads, "steps": args.steps, "networks": rows,
                       "cpu_s_one_epoch_every_arm": every_arm, "load_average": os.getloadavg()}, f, indent=1)


if __name__ == "__main__":
    main()
