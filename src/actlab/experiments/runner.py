"""Run a spec: expand it, store the runs, execute what is left to do, record each result once.

A spec with [tune] runs the protocol instead (actlab.experiments.protocol): its
plain runs (the points that are not arms) and its trials, asked one by one, then
its finals, through the same backends and store.
"""
from __future__ import annotations

import contextlib
import itertools
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Union

from ..errors import ActlabError
from ..places import RunLock, prepare_dir
from ..progress import Progress
from . import backends
from .protocol import Protocol, check_tune_unchanged
from .spec import Spec, load_spec
from .store import FINISHED, ResultStore
from .tasks import get_task


@dataclass
class SweepSummary:
    run_dir: Path
    total: int                 # runs in the spec (tuned: arms x (trials + final seeds))
    executed: int              # runs executed by this call
    counts: dict               # status -> number of runs (of the whole store)
    wall_s: float
    failed: list = field(default_factory=list)   # [(run id, first line of the error)]
    no_finals: list = field(default_factory=list)  # tuned: [(arm id, why it has no finals yet)]

    def as_dict(self) -> dict:
        return {"run_dir": str(self.run_dir), "total": self.total, "executed": self.executed,
                "counts": self.counts, "wall_s": round(self.wall_s, 3),
                "failed": [{"id": i, "error": e} for i, e in self.failed],
                "no_finals": [{"arm": a, "why": w} for a, w in self.no_finals]}


def run_sweep(spec: Union[Spec, str, Path], out: Optional[Union[str, Path]] = None, backend: str = "local",
              workers: Optional[int] = None, resume: bool = False, address: Optional[str] = None,
              gpus_per_run: float = 0.0, progress: Optional[bool] = None, tensorboard: Optional[bool] = None,
              meta: Optional[dict] = None, timeout: Optional[float] = None) -> SweepSummary:
    """Execute every run of `spec` not yet done, storing results in `out` (default runs/<spec name>).

    backend: "local" (worker processes; workers=0 runs in this process) or "ray".
    resume: continue a run directory that already holds this sweep: runs done,
        diverged, collapsed or pruned are kept, every other run (pending, failed, or left
        running by a killed sweep) runs again. Without it an existing run directory is an error.
        A tuned spec resumes its studies too (see actlab.experiments.protocol).
        The run directory is locked for the whole call (actlab.places.RunLock): a
        second sweep on it, resumed or not, is an ActlabError naming the holder's pid.
    progress: False for silence; otherwise a bar on a terminal, log lines elsewhere
        (actlab.progress).
    tensorboard: also write TensorBoard scalars per run (default: the spec's flag).
    timeout: seconds a run may take before it is killed and recorded failed (not with workers=0).
    meta: extra keys stored with the sweep (e.g. the suite that launched it).
    """
    start = time.perf_counter()
    if not isinstance(spec, Spec):
        spec = load_spec(spec)
    if backend not in backends.BACKENDS:
        raise ActlabError(f"unknown backend '{backend}'; allowed: {', '.join(backends.BACKENDS)}")
    if workers is not None and workers < 0:
        raise ActlabError(f"--workers must be >= 0; got {workers}")
    if timeout is not None and timeout <= 0:
        raise ActlabError(f"--timeout must be > 0 seconds; got {timeout}")
    if gpus_per_run < 0:
        raise ActlabError(f"--gpus-per-run must be >= 0; got {gpus_per_run}")
    use_tb = spec.tensorboard if tensorboard is None else tensorboard
    if use_tb:
        from .tblog import require_tensorboard

        require_tensorboard()
    run_dir = Path(out) if out is not None else Path("runs") / spec.name
    runs = spec.runs()
    session = backends.ray_session(address, workers) if backend == "ray" else contextlib.nullcontext()
    with session, RunLock(prepare_dir(run_dir, "run directory")), ResultStore(run_dir) as store:
        _check_resumable(store, spec, run_dir, resume)
        check_tune_unchanged(store, spec, run_dir)
        store.set_meta(name=spec.name, task=spec.task, axes=spec.axes, report=spec.report,
                       description=spec.description, tune=spec.tune.to_dict() if spec.tune else None, **(meta or {}))
        if "created" not in store.meta():
            store.set_meta(created=time.time())
        (run_dir / "spec.toml").write_text(spec.source or "")
        store.requeue_interrupted()
        execute = get_task(spec.task).execute
        configs: dict = {}          # run id -> configuration, of every job handed to the backend
        failed: list = []
        protocol = Protocol(spec, store, execute) if spec.tune is not None else None

        if protocol is None:
            store.add_runs(runs)
            total, upper = len(runs), len(store.todo(ids={r.id for r in runs}))
        else:
            total, upper = protocol.total, protocol.total
        finished = total - upper if protocol is None else min(total, sum(store.counts()[s] for s in FINISHED))
        bar = Progress(total, spec.name, "run", initial=finished, enabled=progress)

        def on_start(rid: str) -> None:
            store.mark_running(rid)

        def on_finish(rid: str, msg: dict) -> None:
            config = configs[rid]
            store.write_run_files(rid, config, msg["history"], msg["extra"])
            store.record(rid, msg["status"], msg["metrics"], msg["error"], msg["diverged_at"], msg["duration"])
            if protocol is not None:
                protocol.trial_finished(rid, msg["status"], msg["metrics"])
            if msg["status"] == "failed":
                failed.append((rid, msg["error"].splitlines()[0]))
            elif use_tb:
                from .tblog import log_run

                log_run(run_dir, rid, config, msg["history"], msg["metrics"])
            counts = store.counts()
            bar.update(1, {s: counts[s] for s in ("done", "diverged", "collapsed", "pruned", "failed")
                           if s != "pruned" or counts[s]})  # pruned exists only in tuned sweeps

        def noted(jobs):
            for job in jobs:
                configs[job.run_id] = job.config
                yield job

        cores = _usable_cores()
        n_workers = min(cores if workers is None else workers, upper)

        def dispatch(jobs) -> None:
            if backend == "ray":
                backends.run_ray(noted(jobs), on_start, on_finish, gpus_per_run=gpus_per_run, timeout=timeout)
            elif n_workers == 0:
                backends.run_inline(noted(jobs), on_start, on_finish)
            else:
                backends.run_local(noted(jobs), on_start, on_finish, workers=max(1, n_workers),
                                   threads=max(1, cores // max(1, n_workers)), timeout=timeout)

        no_finals: list = []
        try:
            if protocol is None:
                dispatch(backends.Job(r.id, execute, r.config, str(store.run_path(r.id)))
                         for r in store.todo(ids={r.id for r in runs}))
            else:
                plain = protocol.plain_runs()
                store.add_runs(plain)
                dispatch(itertools.chain((backends.Job(r.id, execute, r.config, str(store.run_path(r.id)))
                                          for r in store.todo(ids={r.id for r in plain})), protocol.trial_jobs()))
                finals, no_finals = protocol.final_runs()
                store.add_runs(finals)
                dispatch(backends.Job(r.id, execute, r.config, str(store.run_path(r.id)))
                         for r in store.todo(ids={r.id for r in finals}))
        except BaseException:
            store.requeue_interrupted()  # Ctrl-C or a backend error: unfinished runs are pending again
            raise
        finally:
            bar.close()
        return SweepSummary(run_dir, total, len(configs), store.counts(), time.perf_counter() - start, failed,
                            no_finals)


def _usable_cores() -> int:
    """CPUs this process may run on (respects taskset/cgroup affinity, unlike os.cpu_count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _check_resumable(store: ResultStore, spec: Spec, run_dir: Path, resume: bool) -> None:
    if store.count() == 0:
        return
    if not resume:
        raise ActlabError(f"{run_dir} already holds a sweep ({store.count()} runs); "
                          f"pass --resume to continue it, or choose another --out")
    stored_task = store.meta().get("task")
    if stored_task not in (None, spec.task):
        raise ActlabError(f"{run_dir} holds a sweep of task '{stored_task}', not '{spec.task}'; "
                          f"choose another --out")
