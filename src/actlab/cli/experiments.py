"""`actlab run`, `actlab report`, `actlab reproduce`: sweeps, their reports, the built-in suites."""
from __future__ import annotations

from .output import emit


def add_commands(sub) -> None:
    p = sub.add_parser("run", help="run an experiment spec (TOML sweep) and store its results",
                       description="Expand SPEC.toml into runs and execute those not yet done. "
                                   "Exit 0 when no run failed (diverged and collapsed runs are results), 1 otherwise.")
    p.add_argument("spec", metavar="SPEC.toml", help="experiment spec (see docs/experiments.md)")
    p.add_argument("--out", metavar="DIR", help="run directory (default: runs/<spec name>)")
    p.add_argument("--resume", action="store_true",
                   help="continue an existing run directory: re-run what is not done, diverged or collapsed")
    _add_backend_args(p)
    p.add_argument("--tensorboard", action="store_true", default=None,
                   help="also write TensorBoard scalars per run under RUN_DIR/tensorboard/")
    p.add_argument("--json", action="store_true", help="machine-readable summary")
    p.set_defaults(func=_run)

    p = sub.add_parser("report", help="write the Markdown report (tables, PNG figures, CSV) of a run directory",
                       description="Write RUN_DIR/report/index.md with its figures and their data as CSV "
                                   "(or into --out: the run directory is only read, so this works while a sweep "
                                   "runs and on read-only media).")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--out", metavar="DIR", help="report folder (default: RUN_DIR/report)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_report)

    p = sub.add_parser("reproduce", help="run a built-in reproduction suite and report its claims",
                       description="Run a suite's spec (or resume it) and write its report, claims table first.")
    p.add_argument("suite", metavar="SUITE", help="suite name, or 'all'")
    p.add_argument("--profile", choices=("quick", "full", "cpu"), default="quick",  # suites.PROFILES (not imported: startup)
                   help="quick: minutes on a 2-core CPU; full: the paper's scale; cpu (zplane, zorro, signal): the full design "
                        "reduced to a few hours of a 2-core CPU: 1.5-2.5 measured (default: quick)")
    p.add_argument("--out", metavar="DIR",
                   help="run directory (default: runs/reproduce/<suite>-<profile>; with 'all': DIR/<suite>-<profile>)")
    p.add_argument("--resume", action="store_true", help="continue an existing run directory")
    _add_backend_args(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_reproduce)


def _add_backend_args(p) -> None:
    p.add_argument("--backend", choices=("local", "ray"), default="local",
                   help="local: worker processes on this machine (default); ray: Ray tasks")
    p.add_argument("--workers", type=int, metavar="N",
                   help="local: worker processes (default: the usable CPUs; 0 runs in this process, for debugging); "
                        "ray: CPUs of the local Ray instance")
    p.add_argument("--address", metavar="A", help="ray: cluster address, e.g. 'auto' (default: start a local instance)")
    p.add_argument("--timeout", type=float, metavar="S",
                   help="kill a run after S seconds and record it failed (default: no limit)")
    p.add_argument("--gpus-per-run", type=float, default=0.0, metavar="G",
                   help="ray: GPUs per run, fractions allowed (e.g. 0.25 puts four runs on a GPU)")


def _sweep_kwargs(args) -> dict:
    return dict(backend=args.backend, workers=args.workers, resume=args.resume, address=args.address,
                gpus_per_run=args.gpus_per_run, timeout=args.timeout)


def _summary_text(summary) -> str:
    c = summary.counts
    pruned = f"{c['pruned']} pruned, " if c.get("pruned") else ""
    text = (f"{summary.run_dir}: {summary.total} runs - {c['done']} done, {c['diverged']} diverged, "
            f"{c['collapsed']} collapsed, {pruned}"
            f"{c['failed']} failed ({summary.executed} executed in {summary.wall_s:.1f} s)")
    for rid, error in summary.failed:
        text += f"\n  failed {rid}: {error}"
    for arm, why in summary.no_finals:
        text += f"\n  no finals for arm {arm}: {why}"
    return text


def _run(args) -> int:
    from .. import suites  # noqa: F401  (a spec may use a suite's task kind, e.g. mrepu)
    from ..experiments import run_sweep

    summary = run_sweep(args.spec, out=args.out, tensorboard=args.tensorboard, **_sweep_kwargs(args))
    emit(args, summary.as_dict(), _summary_text(summary) + f"\nreport: actlab report {summary.run_dir}")
    return 1 if summary.counts["failed"] else 0


def _report(args) -> int:
    from ..suites import suite_report

    path = suite_report(args.run_dir, out=args.out)
    emit(args, {"report": str(path)}, f"wrote {path}")
    return 0


def _reproduce(args) -> int:
    from pathlib import Path

    from ..errors import ActlabError
    from ..suites import available_suites, reproduce

    if args.suite == "all":
        suites = [s for s, profiles in available_suites().items() if args.profile in profiles]
        if not suites:
            raise ActlabError(f"no suite has a '{args.profile}' profile")
    else:
        suites = [args.suite]
    results, texts, failed = [], [], 0
    for suite in suites:
        out = args.out
        if args.suite == "all" and out is not None:
            out = Path(out) / f"{suite}-{args.profile}"
        summary, report = reproduce(suite, args.profile, out=out, **_sweep_kwargs(args))
        failed += summary.counts["failed"]
        results.append({"suite": suite, **summary.as_dict(), "report": str(report)})
        texts.append(f"{suite}: {_summary_text(summary)}\nreport: {report}")
    emit(args, results if args.suite == "all" else results[0], "\n".join(texts))
    return 1 if failed else 0
