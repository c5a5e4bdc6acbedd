"""Progress of long commands: a tqdm bar on a terminal, plain log lines everywhere else.

Off a terminal (CI, `make demo > log`, a cluster job's log file) a bar is noise or
nothing, so each finished item prints one line on stderr instead, at most one line
every ACTLAB_PROGRESS_SECONDS seconds (default 10; 0: a line per item), and always
the last one::

    actlab: zplane-quick 12/40 runs (10 done, 1 diverged, 1 collapsed, 0 failed), 0:45 elapsed, ~2:30 left

    with Progress(total=40, desc="zplane-quick", unit="run") as bar:
        for ...:
            bar.update(counts={"done": 11, "diverged": 1, "failed": 0})

    for alpha in track(alphas, desc="relu K=2 spherical N=48", unit="alpha"):
        ...
"""
from __future__ import annotations

import os
import sys
import time
from typing import Iterable, Iterator, Optional, TextIO, TypeVar

T = TypeVar("T")
ENV_INTERVAL = "ACTLAB_PROGRESS_SECONDS"


def _interval() -> float:
    try:
        return max(0.0, float(os.environ.get(ENV_INTERVAL, "10")))
    except ValueError:
        return 10.0


def _clock(seconds: float) -> str:
    minutes, s = divmod(int(round(seconds)), 60)
    hours, m = divmod(minutes, 60)
    return f"{hours}:{m:02d}:{s:02d}" if hours else f"{m}:{s:02d}"


class Progress:
    """Counts finished items out of `total` (`initial` of them finished before this call).

    enabled: False prints nothing; None or True show a bar on a terminal and log lines otherwise.
    """

    def __init__(self, total: int, desc: str, unit: str = "run", initial: int = 0,
                 enabled: Optional[bool] = None, stream: Optional[TextIO] = None) -> None:
        self.total, self.desc, self.unit, self.n = total, desc, unit, initial
        self.initial = initial
        self.stream = stream or sys.stderr
        self.enabled = enabled is not False
        self.interval = _interval()
        self.started = self.last_line = time.monotonic()
        self.counts: dict = {}
        self.bar = None
        if self.enabled and self.stream.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, initial=initial, desc=desc, unit=unit, file=self.stream)

    def update(self, n: int = 1, counts: Optional[dict] = None) -> None:
        self.n += n
        if counts is not None:
            self.counts = dict(counts)
        if self.bar is not None:
            self.bar.update(n)
            if counts:
                self.bar.set_postfix(counts, refresh=False)
        elif self.enabled:
            now = time.monotonic()
            if now - self.last_line >= self.interval or self.n >= self.total:
                self.last_line = now
                print(self.line(now), file=self.stream, flush=True)

    def line(self, now: Optional[float] = None) -> str:
        elapsed = (now or time.monotonic()) - self.started
        text = f"actlab: {self.desc} {self.n}/{self.total} {self.unit}s"
        if self.counts:
            text += " (" + ", ".join(f"{v} {k}" for k, v in self.counts.items()) + ")"
        text += f", {_clock(elapsed)} elapsed"
        done_here = self.n - self.initial
        if 0 < done_here and self.n < self.total:
            text += f", ~{_clock(elapsed / done_here * (self.total - self.n))} left"
        return text

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def track(items: Iterable[T], desc: str, unit: str = "item", enabled: Optional[bool] = None) -> Iterator[T]:
    """Iterate over `items`, reporting each finished one through a Progress."""
    items = list(items)
    with Progress(len(items), desc, unit, enabled=enabled) as bar:
        for item in items:
            yield item
            bar.update()
