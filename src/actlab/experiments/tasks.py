"""Task kinds: what one run of a sweep does.

A task kind is a name, an `execute(config, run_dir) -> RunResult` function and a
schema saying which configuration keys it accepts. The runner knows nothing else
about a run, so any computation can be swept once it is registered::

    register_task("toy", execute_toy, TaskSchema({"seed": Field(int), ...}))

`execute` must be a module-level function (it is pickled by reference into the
worker processes / Ray tasks). A run that raises is recorded as `failed` with the
error text; a run that returns `status="diverged"` is a result, not a failure.
A task that can be tuned (a spec's `[tune]`) accepts the keys seed, val_fraction
and eval_test, records val_* metrics per epoch and passes each epoch's row to
`actlab.experiments.report_epoch`, stopping when it returns True (pruned).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence, Union

from ..errors import ActlabError

RUN_STATUSES = ("done", "diverged", "collapsed")


@dataclass
class RunResult:
    """What a finished run reports back.

    status: "done", "diverged" (a NaN/Inf guard fired; `diverged_at` says where) or "collapsed"
        (finished, but at chance or with a vanished gradient: actlab.train.health).
    metrics: final scalar metrics (e.g. test_acc, loss) - what the summary tables average.
    history: one dict of scalars per epoch (loss/accuracy curves).
    diverged_at: {"step": int, "layer": str} when status is "diverged", else None.
    extra: JSON-able artifacts, e.g. {"grad_norms_init": [per-layer floats]}.
    """

    status: str = "done"
    metrics: dict = field(default_factory=dict)
    history: list = field(default_factory=list)
    diverged_at: Optional[dict] = None
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in RUN_STATUSES:
            raise ValueError(f"RunResult.status must be one of {', '.join(RUN_STATUSES)}; got {self.status!r}")
        self.metrics = {str(k): _as_float(v) for k, v in dict(self.metrics).items()}
        self.history = [_plain(row) for row in self.history]
        self.extra = _plain(dict(self.extra))
        self.diverged_at = _plain(self.diverged_at)


def _plain(obj: Any) -> Any:
    """numpy / torch scalars and arrays inside dicts and lists -> Python numbers and lists."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if hasattr(obj, "tolist") and callable(obj.tolist):  # arrays, tensors, numpy scalars
        return _plain(obj.tolist())
    return obj


def _as_float(value: Any) -> float:
    if hasattr(value, "item") and callable(value.item):  # numpy / torch scalars
        value = value.item()
    return float(value) if value is not None else math.nan


@dataclass(frozen=True)
class Field:
    """One configuration key: its type(s) and, optionally, the allowed values.

    An int is accepted where float is expected (and converted, so `lr = 1` and
    `lr = 1.0` are the same run); a bool is never accepted as a number.
    """

    types: Union[type, tuple]
    choices: Optional[Sequence[Any]] = None
    help: str = ""

    def check(self, key: str, value: Any, where: str) -> Any:
        types = self.types if isinstance(self.types, tuple) else (self.types,)
        if float in types and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
        if not ok:
            names = " or ".join(t.__name__ for t in types)
            raise ActlabError(f"{where}: '{key}' must be {names}; got {value!r}")
        if self.choices is not None and value not in self.choices:
            allowed = ", ".join(repr(c) for c in self.choices)
            raise ActlabError(f"{where}: '{key}' must be one of {allowed}; got {value!r}")
        return value


@dataclass(frozen=True)
class TaskSchema:
    """Which configuration keys a task accepts.

    fields: per-key type/choices checks (keys not listed are rejected), or None
        when only `keys` are known.
    keys: allowed key names when `fields` is None (types then checked by `check`).
    check: optional whole-configuration check (cross-key rules, or a library's
        own parser); it raises ActlabError on a bad configuration.
    """

    fields: Optional[Mapping[str, Field]] = None
    keys: Optional[Sequence[str]] = None
    check: Optional[Callable[[dict], Any]] = None

    def allowed(self) -> list:
        return sorted(self.fields) if self.fields is not None else sorted(self.keys or ())

    def check_key(self, key: str, value: Any, where: str) -> Any:
        allowed = self.allowed()
        if key not in allowed:
            raise ActlabError(f"{where}: unknown key '{key}'; allowed keys: {', '.join(allowed)}")
        if self.fields is not None:
            return self.fields[key].check(key, value, where)
        return value


@dataclass(frozen=True)
class Task:
    name: str
    execute: Callable[[dict, Path], RunResult]
    _schema: Union[TaskSchema, Callable[[], TaskSchema]]
    description: str = ""

    @property
    def schema(self) -> TaskSchema:
        """The schema, built on first use when registered lazily (e.g. from an optional library)."""
        return self._schema() if callable(self._schema) else self._schema


_TASKS: dict = {}


def register_task(name: str, execute: Callable[[dict, Path], RunResult],
                  schema: Union[TaskSchema, Callable[[], TaskSchema]], description: str = "") -> None:
    """Register a task kind. `schema` may be a zero-argument callable, called at validation time."""
    _TASKS[name] = Task(name, execute, schema, description)


def get_task(name: str) -> Task:
    if name not in _TASKS:
        raise ActlabError(f"unknown task '{name}'; allowed tasks: {', '.join(sorted(_TASKS))} (a suite's own "
                          "task kinds, such as mrepu, register on `import actlab.suites`)")
    return _TASKS[name]


def list_tasks() -> list:
    return sorted(_TASKS)
