"""Benchmark the activations: `python benchmarks/bench_activations.py [activations|models] [flags]`.

A thin wrapper over `actlab bench` (see actlab.bench); with no subcommand it runs
`activations`. Example: python benchmarks/bench_activations.py --threads 2 --json results.json
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

from actlab.cli import main  # noqa: E402

if __name__ == "__main__":
    argv = sys.argv[1:]
    if not argv or argv[0] not in ("activations", "models", "-h", "--help"):
        argv = ["activations", *argv]
    sys.exit(main(["bench", *argv]))
