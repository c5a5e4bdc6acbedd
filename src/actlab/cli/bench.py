"""`actlab bench activations` and `actlab bench models`: the performance benchmarks."""
from __future__ import annotations

import json
import sys

from ..bench import ACTIVATIONS, bench_activations, bench_models, format_activations, format_models
from ..places import prepare_file
from .output import _jsonable, emit


def _progress(args):
    if not sys.stderr.isatty():
        return lambda name: None
    return lambda name: print(f"  {name} ...", file=sys.stderr, flush=True)


def _finish(args, result: dict, text: str) -> None:
    if isinstance(args.json, str):  # --json FILE: write the file, print the table
        with open(args.json, "w") as fh:
            json.dump(_jsonable(result), fh, indent=2)
        print(text)
    else:
        emit(args, result, text)


def _check_json_file(args) -> None:
    if isinstance(args.json, str):
        prepare_file(args.json, "--json file")


def _activations(args) -> None:
    _check_json_file(args)
    result = bench_activations(args.device, args.dtype, args.size, args.repeats, args.warmup, args.threads,
                               args.only or ACTIVATIONS, args.rounds, progress=_progress(args))
    _finish(args, result, format_activations(result))


def _models(args) -> None:
    _check_json_file(args)
    batch = args.batch or (64 if args.device == "cpu" else 256)
    result = bench_models(args.device, args.dtype, args.depth, args.width, batch, args.repeats, args.warmup, args.threads,
                          args.only or ("relu", "gelu", *ACTIVATIONS), args.rounds, progress=_progress(args))
    _finish(args, result, format_models(result))


def _common(p) -> None:
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    p.add_argument("--dtype", default="float32", help="float32, bfloat16 or float16 (default float32)")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads before timing")
    p.add_argument("--only", nargs="+", metavar="SPEC", help="activation specs to time (default: all of actlab's)")
    p.add_argument("--rounds", type=int, default=1,
                   help="repeat the whole sweep; report per-round medians (robust on a shared machine; default 1)")
    p.add_argument("--json", nargs="?", const=True, default=False, metavar="FILE",
                   help="JSON on stdout, or into FILE (then the table on stdout)")


def add_commands(sub) -> None:
    bench = sub.add_parser("bench", help="performance benchmarks of the activations")
    bsub = bench.add_subparsers(dest="bench_command", metavar="WHAT", parser_class=type(bench))
    bench.set_defaults(func=lambda args: bench.print_help() or 2)

    p = bsub.add_parser("activations", help="forward and forward+backward time per activation, vs GELU and a copy")
    _common(p)
    p.add_argument("--size", type=int, default=1 << 22, help="elements of the input (multiple of 1024; default 4M)")
    p.add_argument("--repeats", type=int, default=20, help="timed calls; the median is reported (default 20)")
    p.add_argument("--warmup", type=int, default=3, help="untimed calls first, compilation included (default 3)")
    p.set_defaults(func=_activations)

    p = bsub.add_parser("models", help="one training step of a deep MLP per activation, vs ReLU")
    _common(p)
    p.add_argument("--depth", type=int, default=100, help="hidden layers (default 100)")
    p.add_argument("--width", type=int, default=1024, help="features per layer (default 1024)")
    p.add_argument("--batch", type=int, default=None, help="batch size (default 64 on cpu, 256 on cuda)")
    p.add_argument("--repeats", type=int, default=5, help="timed steps; the median is reported (default 5)")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps first (default 2)")
    p.set_defaults(func=_models)
