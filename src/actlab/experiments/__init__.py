"""The laboratory: experiment specs (TOML), sweeps over local processes or Ray,
a results store (SQLite) and reports (Markdown + PNG); generic: the reproduction suites
(actlab.suites) are built on it, and nothing here imports them.

    from actlab.experiments import run_sweep, load
    summary = run_sweep("sweep.toml", out="runs/sweep")
    df = load("runs/sweep")            # one row per run: config, metrics, status
"""
from . import builtin_tasks  # noqa: F401  (register the built-in task kinds)
from .runner import SweepSummary, run_sweep
from .spec import Run, Spec, load_spec, parse_spec, run_id
from .store import ResultStore, load, read_run_file
from .tasks import Field, RunResult, TaskSchema, get_task, list_tasks, register_task
from .trial import report_epoch
from .tune import TuneSpec

__all__ = ["Field", "ResultStore", "Run", "RunResult", "Spec", "SweepSummary", "TaskSchema", "TuneSpec", "get_task",
           "list_tasks", "load", "load_spec", "parse_spec", "read_run_file", "register_task", "report_epoch",
           "run_id", "run_sweep"]
