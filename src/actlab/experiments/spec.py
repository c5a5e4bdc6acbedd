"""Experiment specs: a TOML file that expands into a list of runs.

    name = "depth-sweep"
    task = "train"                 # which task kind runs each point
    [base]                         # the configuration every run starts from
    dataset = "digits"
    epochs = 5
    [sweep]                        # axes: the cartesian product expands to runs
    activation = ["relu", "tanh"]
    depth = [2, 10, 30]
    seed = [0, 1, 2]
    [[include]]                    # optional extra runs: base + these overrides (with no [sweep],
                                   # the only runs: the base alone is then not a run)
    activation = "gelu"
    depth = 100
    [report]                       # optional hints for the report
    x = "depth"
    metrics = ["test_acc"]
    [tune]                         # optional: tune each point, then retrain the best with seeds
    trials = 8                     # (see actlab.experiments.tune and docs/protocol.md)
    [tune.params]
    lr = { low = 1e-5, high = 1e-2, log = true }

Every run is identified by `run_id`: a short hash of its task and resolved
configuration (base merged with the sweep point), independent of key order.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

from ..errors import ActlabError
from .tasks import get_task
from .tune import TuneSpec, parse_tune

SPEC_KEYS = ("name", "task", "description", "base", "sweep", "include", "report", "tensorboard", "tune")
REPORT_KEYS = ("x", "metrics", "group_by", "curves", "logx", "title", "metric_figures")


def run_id(task: str, config: dict) -> str:
    """First 12 hex digits of sha256 over the canonical JSON of {task, config} (sorted keys)."""
    canonical = json.dumps({"task": task, "config": config}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Run:
    id: str
    task: str
    config: dict
    position: int  # order in the spec's expansion; keeps tables and progress in spec order
    phase: Optional[str] = None  # tuned specs: "trial" or "final"
    arm: Optional[str] = None    # tuned specs: the id of the sweep point the run belongs to


@dataclass
class Spec:
    name: str
    task: str
    base: dict
    sweep: dict                     # axis -> list of values, in the order written
    include: list = field(default_factory=list)
    report: dict = field(default_factory=dict)
    description: str = ""
    tensorboard: bool = False
    source: str = ""                # the TOML text, stored with the results
    tune: Optional[TuneSpec] = None  # [tune]: each point of the sweep is an arm, tuned then retrained

    @property
    def axes(self) -> list:
        """Names that vary between runs: sweep axes, then keys only an [[include]] sets."""
        names = list(self.sweep)
        for extra in self.include:
            names += [k for k in extra if k not in names and extra[k] != self.base.get(k, _MISSING)]
        return names

    def runs(self) -> list:
        """Every run of the spec, in order; duplicates (same id) appear once."""
        configs = []
        keys = list(self.sweep)
        if keys or not self.include:  # a spec of [[include]] entries only runs exactly those
            for values in itertools.product(*(self.sweep[k] for k in keys)):
                configs.append({**self.base, **dict(zip(keys, values))})
        configs += [{**self.base, **extra} for extra in self.include]
        runs, seen = [], set()
        for config in configs:
            rid = run_id(self.task, config)
            if rid not in seen:
                seen.add(rid)
                runs.append(Run(rid, self.task, config, len(runs)))
        return runs


_MISSING = object()


def load_spec(path: Union[str, Path]) -> Spec:
    """Read and validate a spec file; every error names the file and the bad key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ActlabError(f"spec file not found: {path}") from None
    except UnicodeDecodeError as exc:
        raise ActlabError(f"{path}: not UTF-8 text (byte {exc.start}); a spec is a UTF-8 TOML file") from None
    except OSError as exc:
        raise ActlabError(f"cannot read spec file {path}: {exc.strerror or exc}") from None
    return parse_spec(text, origin=str(path), default_name=path.stem)


def parse_spec(text: str, origin: str = "spec", default_name: str = "experiment") -> Spec:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ActlabError(f"{origin}: not valid TOML: {exc}") from None
    return spec_from_dict(data, origin=origin, default_name=default_name, source=text)


def spec_from_dict(data: dict, origin: str = "spec", default_name: str = "experiment", source: str = "") -> Spec:
    unknown = [k for k in data if k not in SPEC_KEYS]
    if unknown:
        raise ActlabError(f"{origin}: unknown top-level key '{unknown[0]}'; allowed: {', '.join(SPEC_KEYS)}")
    if "task" not in data:
        raise ActlabError(f"{origin}: missing 'task' (e.g. task = \"train\")")
    try:
        task = get_task(_typed(data, "task", str, origin))
    except ActlabError as exc:
        raise ActlabError(f"{origin}: {exc}") from None
    name = _typed(data, "name", str, origin, default_name)
    if not name or any(c in name for c in "/\\") or name.startswith("."):
        raise ActlabError(f"{origin}: 'name' must be a plain file name (no '/' and not starting with '.'); got {name!r}")
    base = _typed(data, "base", dict, origin, {})
    sweep = _typed(data, "sweep", dict, origin, {})
    include = _typed(data, "include", list, origin, [])
    report = _typed(data, "report", dict, origin, {})

    schema = task.schema
    base = {k: schema.check_key(k, v, f"{origin} [base]") for k, v in base.items()}
    checked_sweep = {}
    for axis, values in sweep.items():
        where = f"{origin} [sweep]"
        if not isinstance(values, list) or not values:
            raise ActlabError(f"{where}: axis '{axis}' must be a non-empty list of values, e.g. {axis} = [1, 2]; "
                              f"got {values!r}")
        checked_sweep[axis] = [schema.check_key(axis, v, f"{where} {axis}[{i}]") for i, v in enumerate(values)]
        if len(set(map(_canonical, checked_sweep[axis]))) != len(values):
            raise ActlabError(f"{where}: axis '{axis}' lists a value twice: {values!r}")
    checked_include = []
    for i, extra in enumerate(include):
        if not isinstance(extra, dict):
            raise ActlabError(f"{origin}: [[include]] entries must be tables of key = value; entry {i} is {extra!r}")
        checked_include.append({k: schema.check_key(k, v, f"{origin} [[include]] #{i + 1}") for k, v in extra.items()})

    tune = None
    if "tune" in data:
        varied = [*checked_sweep, *(k for extra in checked_include for k in extra)]
        tune = parse_tune(data["tune"], origin, schema, list(base), varied)
    spec = Spec(name=name, task=task.name, base=base, sweep=checked_sweep, include=checked_include,
                report=report, description=_typed(data, "description", str, origin, ""),
                tensorboard=_typed(data, "tensorboard", bool, origin, False), source=source, tune=tune)
    _check_report(spec, origin)
    runs = spec.runs()
    if not runs:
        raise ActlabError(f"{origin}: the spec expands to no runs")
    if tune is not None and not any(tune.is_arm(r.config) for r in runs):
        raise ActlabError(f"{origin} [tune]: 'arms' selects no point of the sweep; nothing would be tuned")
    if schema.check is not None:
        for run in runs:
            for config in _configs_to_check(run.config, tune):
                try:
                    schema.check(dict(config))
                except ActlabError as exc:
                    point = ", ".join(f"{a}={run.config[a]!r}" for a in spec.axes if a in run.config)
                    raise ActlabError(f"{origin}: run ({point or 'base'}): {exc}") from None
    return spec


def _configs_to_check(config: dict, tune: Optional[TuneSpec]) -> list:
    """A plain run's configuration; for a tuned arm, its trial configurations at each end of every range."""
    if tune is None or not tune.is_arm(config):
        return [config]
    first = {name: (p.choices[0] if p.choices is not None else p.low) for name, p in tune.params.items()}
    configs = [tune.trial_config(config, first)]
    for name, p in tune.params.items():
        for value in (p.choices if p.choices is not None else [p.high]):
            configs.append(tune.trial_config(config, {**first, name: value}))
    return configs


def _check_report(spec: Spec, origin: str) -> None:
    where = f"{origin} [report]"
    for key, value in spec.report.items():
        if key not in REPORT_KEYS:
            raise ActlabError(f"{where}: unknown key '{key}'; allowed: {', '.join(REPORT_KEYS)}")
    if "x" in spec.report and spec.report["x"] not in spec.axes:
        raise ActlabError(f"{where}: 'x' must be a sweep axis ({', '.join(spec.axes) or 'none'}); "
                          f"got {spec.report['x']!r}")
    for key in ("metrics", "curves", "group_by"):
        value = spec.report.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ActlabError(f"{where}: '{key}' must be a list of names; got {value!r}")
    bad = [g for g in spec.report.get("group_by", []) if g not in spec.axes]
    if bad:
        raise ActlabError(f"{where}: 'group_by' must name sweep axes ({', '.join(spec.axes)}); got {bad[0]!r}")
    for key in ("logx", "metric_figures"):
        if not isinstance(spec.report.get(key, False), bool):
            raise ActlabError(f"{where}: '{key}' must be true or false")


def _typed(data: dict, key: str, kind: type, origin: str, default: Any = _MISSING) -> Any:
    if key not in data:
        return default
    value = data[key]
    if not isinstance(value, kind):
        shape = {dict: "a table", list: "an array of tables", str: "a string", bool: "true or false"}[kind]
        raise ActlabError(f"{origin}: '{key}' must be {shape}; got {value!r}")
    return value


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)

