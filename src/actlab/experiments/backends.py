"""Where runs execute: `local` worker processes, `ray` tasks, or `inline` (this process).

Every backend calls `execute_run` for each job and reports back through two
callbacks, `on_start(run_id)` and `on_finish(run_id, message)`, always in the
parent process, which alone writes the results store. `message` is a plain dict:
{"status": "done"|"diverged"|"pruned"|"failed", "metrics", "history", "diverged_at",
"extra", "error", "duration"}. `jobs` may be any iterable, even a lazy one: a
backend takes the next job only when it has a free slot for it (the tuner asks
its next trial then).
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional

from ..errors import ActlabError
from .tasks import RunResult
from .trial import TrialLink, linked

BACKENDS = ("local", "ray")


@dataclass(frozen=True)
class Job:
    run_id: str
    execute: Callable  # the task's execute function, pickled by reference
    config: dict
    run_dir: str
    trial: Optional[TrialLink] = None  # a tuning trial: where the run reports its epochs


class _Queue:
    """Jobs taken one at a time from any iterable; truthy while one is left (it looks one ahead)."""

    def __init__(self, jobs) -> None:
        self._it = iter(jobs)
        self._next: Optional[Job] = None

    def __bool__(self) -> bool:
        if self._next is None:
            self._next = next(self._it, None)
        return self._next is not None

    def popleft(self) -> Job:
        if not self:
            raise IndexError("no job left")
        job, self._next = self._next, None
        return job


StartFn = Callable[[str], None]
FinishFn = Callable[[str, dict], None]


def execute_run(execute: Callable, config: dict, run_dir: str, trial: Optional[TrialLink] = None) -> dict:
    """Run one job and turn whatever happens into a message; never raises (except on interrupt).

    With `trial`, the run reports its epochs to that tuning trial; a run its pruner
    stopped is recorded "pruned" (a result, like "diverged").
    """
    start = time.perf_counter()
    try:
        Path(run_dir).mkdir(parents=True, exist_ok=True)  # absent on a remote Ray node
        with linked(trial) as reporter:
            result = execute(dict(config), Path(run_dir))
        if not isinstance(result, RunResult):
            raise TypeError(f"task returned {type(result).__name__}, expected RunResult")
        status = "pruned" if reporter is not None and reporter.pruned and result.status != "diverged" else result.status
        msg = {"status": status, "metrics": result.metrics, "history": result.history,
               "diverged_at": result.diverged_at, "extra": result.extra, "error": None}
        json.dumps(msg)  # fail here, as this run's error, rather than in the parent
    except Exception as exc:  # noqa: BLE001 - a run's failure is data, whatever its type
        msg = failure(f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc()}")
    msg["duration"] = time.perf_counter() - start
    return msg


def failure(error: str) -> dict:
    """The message of a run that failed outside `execute_run`; its duration is taken from the store's clock."""
    return {"status": "failed", "metrics": {}, "history": [], "diverged_at": None, "extra": {}, "error": error,
            "duration": None}


# ---------------------------------------------------------------- inline


def run_inline(jobs: list, on_start: StartFn, on_finish: FinishFn) -> None:
    """Run jobs one after another in this process (debugging: a crash here ends the sweep)."""
    for job in jobs:
        on_start(job.run_id)
        on_finish(job.run_id, execute_run(job.execute, job.config, job.run_dir, job.trial))


# ---------------------------------------------------------------- local processes


def _worker_main(conn, threads: int, parent_pid: int) -> None:
    """A worker process: receive jobs over `conn`, run them one at a time, send messages back."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    _die_with_parent(parent_pid)
    # tqdm's default lock is a multiprocessing semaphore; a worker ends with os._exit, which
    # would leave it to the resource tracker ("leaked semaphore objects"). A thread lock suffices.
    from tqdm import tqdm

    tqdm.set_lock(threading.RLock())
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
        conn.send(("start", job.run_id, None))
        conn.send(("finish", job.run_id, execute_run(job.execute, job.config, job.run_dir, job.trial)))
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
        self.started: Optional[float] = None  # when the worker began its job (monotonic clock)

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


def run_local(jobs: list, on_start: StartFn, on_finish: FinishFn, workers: int, threads: int,
              timeout: Optional[float] = None) -> None:
    """Run jobs on `workers` spawned processes, one run per process at a time.

    A worker that dies (os._exit, segfault, out-of-memory kill) fails only the run
    it held, and a run longer than `timeout` seconds is killed and failed; a fresh
    worker takes its place for the remaining jobs.
    """
    import multiprocessing as mp
    from multiprocessing.connection import wait

    ctx = mp.get_context("spawn")
    queue = _Queue(jobs)
    pool = [_Worker(ctx, threads) for _ in range(workers)] if queue else []

    def retire(i: int, error: str) -> None:
        w = pool[i]
        rid = w.job.run_id
        if w.started is None:  # died before it could report the start: still an attempt
            on_start(rid)
        w.stop()  # still marked busy, so it is killed at once
        w.job, w.started = None, None
        on_finish(rid, failure(error))
        pool[i] = _Worker(ctx, threads) if queue else w

    try:
        while any(w.job for w in pool) or queue:  # busy first: look ahead only with a slot free
            for w in pool:
                if w.job is None and queue:
                    w.job = queue.popleft()
                    try:
                        w.conn.send(w.job)
                    except OSError:  # died while idle; noticed below through its sentinel
                        pass
            busy = [w for w in pool if w.job]
            wait([w.conn for w in busy] + [w.proc.sentinel for w in busy], timeout=_next_deadline(busy, timeout))
            for i, w in enumerate(pool):
                while w.job is not None and w.conn.poll():
                    try:
                        kind, rid, msg = w.conn.recv()
                    except (EOFError, OSError):
                        break
                    if kind == "start":
                        w.started = time.monotonic()
                        on_start(rid)
                    else:
                        w.job, w.started = None, None
                        on_finish(rid, msg)
                if w.job is None:
                    continue
                if not w.proc.is_alive():
                    w.proc.join()
                    retire(i, _death_message(w.proc.exitcode))
                elif timeout is not None and w.started is not None and time.monotonic() - w.started > timeout:
                    retire(i, f"TimeoutError: the run passed the time limit of {timeout:g} s and its process was killed")
    finally:
        for w in pool:  # all at once: their interpreters shut down in parallel
            w.ask_to_stop()
        for w in pool:
            w.stop()


def _next_deadline(busy: list, timeout: Optional[float]) -> Optional[float]:
    """Seconds until the first running job passes `timeout` (None: wait for a message)."""
    started = [w.started for w in busy if w.started is not None]
    if timeout is None or not started:
        return None if timeout is None else 0.5  # a job not started yet: look again soon
    return max(0.0, min(started) + timeout - time.monotonic())


# ---------------------------------------------------------------- ray


@contextlib.contextmanager
def ray_session(address: Optional[str] = None, workers: Optional[int] = None) -> Iterator[None]:
    """Ray for the length of a sweep: the instance already initialised in this process if any;
    else the cluster at `address` (e.g. "auto"); else a local instance limited to `workers`
    CPUs, shut down again at the end. A cluster that cannot be reached is an ActlabError,
    raised before the sweep writes anything."""
    try:
        import ray
    except ImportError:
        raise ActlabError("the ray backend needs Ray: pip install 'actlab[ray]'") from None
    started_here = not ray.is_initialized()
    if started_here:
        try:
            if address:
                ray.init(address=address, log_to_driver=False, logging_level="error")
            else:
                ray.init(num_cpus=workers or os.cpu_count(), include_dashboard=False, log_to_driver=False,
                         logging_level="error")
        except (ConnectionError, RuntimeError, ValueError) as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            where = f"at --address {address}" if address else "locally"
            raise ActlabError(f"cannot start or reach a Ray cluster {where}: {first}"
                              + (" (start one with `ray start --head`, or leave out --address)" if address else "")
                              ) from None
    try:
        yield
    finally:
        if started_here:
            ray.shutdown()


def run_ray(jobs: list, on_start: StartFn, on_finish: FinishFn, gpus_per_run: float = 0.0,
            timeout: Optional[float] = None) -> None:
    """Run jobs as Ray tasks (1 CPU and `gpus_per_run` GPUs each, no retries); call it inside
    a `ray_session`, which the runner holds for the whole sweep (trials and finals).

    At most as many runs are in flight as the cluster can start at once, so
    `running` in the store means running; a run longer than `timeout` seconds is
    killed and failed.
    """
    import ray

    resources = ray.cluster_resources()
    capacity = int(resources.get("CPU", 1))
    if gpus_per_run > 0:
        if resources.get("GPU", 0) < gpus_per_run:
            raise ActlabError(f"--gpus-per-run {gpus_per_run:g} but the Ray cluster has "
                              f"{resources.get('GPU', 0):g} GPUs")
        capacity = min(capacity, int(resources["GPU"] / gpus_per_run))
    remote = ray.remote(num_cpus=1, num_gpus=gpus_per_run, max_retries=0)(_execute_with_limit).options(
        runtime_env={"env_vars": {"PYTHONPATH": _pythonpath_with_actlab()}})
    queue = _Queue(jobs)
    in_flight = {}  # object ref -> (run id, submission time)
    while in_flight or queue:
        while queue and len(in_flight) < max(1, capacity):
            job = queue.popleft()
            ref = remote.remote(job.execute, job.config, job.run_dir, timeout, job.trial)
            in_flight[ref] = (job.run_id, time.monotonic())
            on_start(job.run_id)
        ready, _ = ray.wait(list(in_flight), num_returns=1)
        for ref in ready:
            rid, submitted = in_flight.pop(ref)
            try:
                msg = ray.get(ref)
            except ray.exceptions.RayError as exc:  # the worker process died, or Ray lost the task
                if timeout is not None and time.monotonic() - submitted >= timeout:
                    msg = failure(f"TimeoutError: the run passed the time limit of {timeout:g} s and its Ray "
                                  f"worker was killed (or crashed)\n\n{exc}")
                else:
                    text = str(exc)
                    msg = failure(f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}\n\n{text}")
            on_finish(rid, msg)


def _execute_with_limit(execute: Callable, config: dict, run_dir: str, timeout: Optional[float],
                        trial: Optional[TrialLink] = None) -> dict:
    """Ray task body: `execute_run`, with this worker process killed once the run passes `timeout` seconds.

    The limit is kept inside the task because only the task knows when it really
    started (a Ray worker may spend seconds importing torch first).
    """
    timer = None
    if timeout is not None:
        timer = threading.Timer(timeout, os.kill, (os.getpid(), signal.SIGKILL))
        timer.daemon = True
        timer.start()
    try:
        return execute_run(execute, config, run_dir, trial)
    finally:
        if timer is not None:
            timer.cancel()


def _pythonpath_with_actlab() -> str:
    """PYTHONPATH for Ray workers: where this actlab is, so a source checkout works too."""
    here = str(Path(__file__).resolve().parents[2])
    rest = os.environ.get("PYTHONPATH", "")
    return here + (os.pathsep + rest if rest else "")
