"""Where runs execute: `local` worker processes, `ray` tasks, or `inline` (this process).

Every backend calls `execute_run` for each job and reports back through two
callbacks, `on_start(run_id)` and `on_finish(run_id, message)`, always in the
parent process, which alone writes the results store. `message` is a plain dict:
{"status": "done"|"diverged"|"failed", "metrics", "history", "diverged_at",
"extra", "error", "duration"}.
"""
from __future__ import annotations

import collections
import json
import os
import signal
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

from ..errors import ActlabError
from .tasks import RunResult

BACKENDS = ("local", "ray")


@dataclass(frozen=True)
class Job:
    run_id: str
    execute: Callable  # the task's execute function, pickled by reference
    config: dict
    run_dir: str


StartFn = Callable[[str], None]
FinishFn = Callable[[str, dict], None]


def execute_run(execute: Callable, config: dict, run_dir: str) -> dict:
    """Run one job and turn whatever happens into a message; never raises (except on interrupt)."""
    start = time.perf_counter()
    try:
        result = execute(dict(config), Path(run_dir))
        if not isinstance(result, RunResult):
            raise TypeError(f"task returned {type(result).__name__}, expected RunResult")
        msg = {"status": result.status, "metrics": result.metrics, "history": result.history,
               "diverged_at": result.diverged_at, "extra": result.extra, "error": None}
        json.dumps(msg)  # fail here, as this run's error, rather than in the parent
    except Exception as exc:  # noqa: BLE001 - a run's failure is data, whatever its type
        msg = failure(f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc()}")
    msg["duration"] = time.perf_counter() - start
    return msg


def failure(error: str, duration: Optional[float] = None) -> dict:
    """The message of a failed run; duration None means "since the run was marked running"."""
    return {"status": "failed", "metrics": {}, "history": [], "diverged_at": None, "extra": {}, "error": error,
            "duration": duration}


# ---------------------------------------------------------------- inline


def run_inline(jobs: list, on_start: StartFn, on_finish: FinishFn) -> None:
    """Run jobs one after another in this process (debugging: a crash here ends the sweep)."""
    for job in jobs:
        on_start(job.run_id)
        on_finish(job.run_id, execute_run(job.execute, job.config, job.run_dir))


# ---------------------------------------------------------------- local processes


def _worker_main(conn, threads: int, parent_pid: int) -> None:
    """A worker process: receive jobs over `conn`, run them one at a time, send messages back."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    _die_with_parent(parent_pid)
    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:
        pass
    while True:
        try:
            job = conn.recv()
        except EOFError:  # parent gone
            job = None
        if job is None:
            break
        conn.send((job.run_id, execute_run(job.execute, job.config, job.run_dir)))
    # Skip interpreter teardown (seconds with torch loaded): results are already sent.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _die_with_parent(parent_pid: int) -> None:
    """On Linux, ask the kernel to SIGKILL this worker when the sweep process dies (even by SIGKILL)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return  # elsewhere a worker notices on its next recv/send
    if os.getppid() != parent_pid:
        os._exit(0)


class _Worker:
    def __init__(self, ctx, threads: int) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, threads, os.getpid()), daemon=True)
        self.proc.start()
        child.close()
        self.job: Optional[Job] = None

    def ask_to_stop(self) -> None:
        if self.job is None and self.proc.is_alive():
            try:
                self.conn.send(None)
            except OSError:
                pass

    def stop(self) -> None:
        """Let an idle worker exit (it was asked already, or is asked now); kill a busy one."""
        self.ask_to_stop()
        self.proc.join(timeout=2.0 if self.job is None else 0.0)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self.conn.close()


def _death_message(exitcode: Optional[int]) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            how = f"killed by signal {signal.Signals(-exitcode).name}"
        except ValueError:
            how = f"killed by signal {-exitcode}"
    else:
        how = f"exit code {exitcode}"
    return f"WorkerDied: the run's process ended without a result ({how})"


def run_local(jobs: list, on_start: StartFn, on_finish: FinishFn, workers: int, threads: int) -> None:
    """Run jobs on `workers` spawned processes, one run per process at a time.

    A worker that dies (os._exit, segfault, out-of-memory kill) fails only the run
    it held; a fresh worker takes its place for the remaining jobs.
    """
    import multiprocessing as mp
    from multiprocessing.connection import wait

    ctx = mp.get_context("spawn")
    queue = collections.deque(jobs)
    pool = [_Worker(ctx, threads) for _ in range(min(workers, len(jobs)))]
    try:
        while queue or any(w.job for w in pool):
            for i, w in enumerate(pool):
                if w.job is None and queue:
                    job = queue.popleft()
                    try:
                        w.conn.send(job)
                    except OSError:  # died while idle: replace it and retry the job
                        queue.appendleft(job)
                        w.stop()
                        pool[i] = _Worker(ctx, threads)
                        continue
                    w.job = job
                    on_start(job.run_id)
            busy = [w for w in pool if w.job]
            wait([w.conn for w in busy] + [w.proc.sentinel for w in busy])
            for i, w in enumerate(pool):
                if w.job is None:
                    continue
                if w.conn.poll():
                    try:
                        rid, msg = w.conn.recv()
                    except (EOFError, OSError):
                        pass
                    else:
                        w.job = None
                        on_finish(rid, msg)
                        continue
                if not w.proc.is_alive():
                    w.proc.join()
                    rid = w.job.run_id
                    w.job = None
                    on_finish(rid, failure(_death_message(w.proc.exitcode)))
                    w.stop()
                    pool[i] = _Worker(ctx, threads) if queue else w
    finally:
        for w in pool:  # all at once: their interpreters shut down in parallel
            w.ask_to_stop()
        for w in pool:
            w.stop()


# ---------------------------------------------------------------- ray


def run_ray(jobs: list, on_start: StartFn, on_finish: FinishFn, address: Optional[str] = None,
            workers: Optional[int] = None, gpus_per_run: float = 0.0) -> None:
    """Run jobs as Ray tasks (1 CPU and `gpus_per_run` GPUs each, no retries).

    Uses the Ray instance already initialised in this process if any; else
    connects to `address` (e.g. "auto"), else starts a local instance limited to
    `workers` CPUs, shut down again at the end. At most as many runs are in
    flight as the cluster can start at once, so `running` in the store means running.
    """
    try:
        import ray
    except ImportError:
        raise ActlabError("the ray backend needs Ray: pip install 'actlab[ray]'") from None
    started_here = not ray.is_initialized()
    if started_here:
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(num_cpus=workers or os.cpu_count(), include_dashboard=False, log_to_driver=False)
    try:
        resources = ray.cluster_resources()
        capacity = int(resources.get("CPU", 1))
        if gpus_per_run > 0:
            if resources.get("GPU", 0) < gpus_per_run:
                raise ActlabError(f"--gpus-per-run {gpus_per_run} but the Ray cluster has "
                                  f"{resources.get('GPU', 0)} GPUs")
            capacity = min(capacity, int(resources["GPU"] / gpus_per_run))
        remote = ray.remote(num_cpus=1, num_gpus=gpus_per_run, max_retries=0)(execute_run).options(
            runtime_env={"env_vars": {"PYTHONPATH": _pythonpath_with_actlab()}})
        queue = collections.deque(jobs)
        in_flight = {}
        while queue or in_flight:
            while queue and len(in_flight) < max(1, capacity):
                job = queue.popleft()
                in_flight[remote.remote(job.execute, job.config, job.run_dir)] = job.run_id
                on_start(job.run_id)
            ready, _ = ray.wait(list(in_flight), num_returns=1)
            for ref in ready:
                rid = in_flight.pop(ref)
                try:
                    msg = ray.get(ref)
                except ray.exceptions.RayError as exc:  # the worker process died, or Ray lost the task
                    msg = failure(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}\n\n{exc}")
                on_finish(rid, msg)
    finally:
        if started_here:
            ray.shutdown()


def _pythonpath_with_actlab() -> str:
    """PYTHONPATH for Ray workers: where this actlab is, so a source checkout works too."""
    here = str(Path(__file__).resolve().parents[2])
    rest = os.environ.get("PYTHONPATH", "")
    return here + (os.pathsep + rest if rest else "")
