"""The `[tune]` section of a spec: what is searched, with which budget, how trials are pruned.

    [tune]
    trials = 8                    # trials per arm: the same budget for every arm
    metric = "val_acc"            # selection metric: a validation metric (val_*), never a test one
    direction = "maximize"
    val_fraction = 0.2            # the validation split carved out of the training data
    seed = 0                      # the trials' run seed (and the sampler's)
    final_seeds = [0, 1, 2]       # the best configuration of each arm is retrained with these
    sampler = "qmc"               # qmc (default): scrambled Sobol points; random; grid: every combination
    arms = { part = ["poly"] }    # optional: which sweep points are arms (default: all)
    [tune.params]
    lr = { low = 1e-5, high = 1e-2, log = true }
    weight_decay = { low = 0.0, high = 1e-3 }
    norm = { choices = ["none", "layernorm"] }
    [tune.pruner]
    kind = "asha"                 # asha (default): asynchronous successive halving; none
    min_resource = 1              # epochs every trial runs before its first rung
    reduction_factor = 3          # a trial goes on past a rung when in the top 1/3 there

An *arm* is one point of the spec's sweep (activation x model x norm x init x ...);
the seed is not an axis of a tuned spec: trials run with `seed`, finals with
`final_seeds`. With `arms`, only the points whose configuration takes one of the
listed values at every listed key are arms; the others are *plain* runs, run
once with their own configuration as in an untuned spec (measurements that
compare nothing, e.g. a kernel at initialisation, beside the tuned comparisons).
Search and pruning are Optuna's (docs/protocol.md says why); this module only
parses, validates and builds the Optuna objects. Parsing needs no Optuna import.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from itertools import product
from typing import Any, Optional

from ..errors import ActlabError

TUNE_KEYS = ("trials", "metric", "direction", "val_fraction", "seed", "final_seeds", "sampler", "params", "pruner",
             "arms")
PARAM_KEYS = ("low", "high", "log", "step", "choices")
PRUNER_KEYS = ("kind", "min_resource", "reduction_factor", "min_early_stopping_rate")
PRUNERS = ("asha", "none")
SAMPLER_NAMES = {"qmc": "scrambled Sobol (Optuna QMCSampler) sampler", "random": "random sampler",
                 "grid": "grid: every combination of the choices, each once"}
SAMPLERS = tuple(SAMPLER_NAMES)
DIRECTIONS = ("maximize", "minimize")
# Keys the protocol sets in every run's configuration; a task that can be tuned accepts them.
PROTOCOL_KEYS = ("seed", "val_fraction", "eval_test")


@dataclass(frozen=True)
class Param:
    """One searched key: a range [low, high] (log-uniform when log; int when both bounds are ints) or choices."""

    name: str
    low: Optional[float] = None
    high: Optional[float] = None
    log: bool = False
    step: Optional[float] = None
    choices: Optional[list] = None

    def distribution(self):
        import optuna

        if self.choices is not None:
            return optuna.distributions.CategoricalDistribution(self.choices)
        if isinstance(self.low, int) and isinstance(self.high, int):
            return optuna.distributions.IntDistribution(self.low, self.high, log=self.log,
                                                        step=int(self.step or 1))
        return optuna.distributions.FloatDistribution(self.low, self.high, log=self.log, step=self.step)

    def describe(self) -> str:
        if self.choices is not None:
            return f"{self.name} in {{{', '.join(map(str, self.choices))}}}"
        scale = "log-uniform" if self.log else "uniform"
        return f"{self.name} {scale} in [{self.low:g}, {self.high:g}]" + (f" step {self.step:g}" if self.step else "")


@dataclass(frozen=True)
class Pruner:
    kind: str = "asha"
    min_resource: int = 1
    reduction_factor: int = 3
    min_early_stopping_rate: int = 0

    def build(self):
        """The Optuna pruner: ASHA = SuccessiveHalvingPruner, whose rung records live in the study's storage."""
        import optuna

        if self.kind == "none":
            return optuna.pruners.NopPruner()
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=self.min_resource,
                                                      reduction_factor=self.reduction_factor,
                                                      min_early_stopping_rate=self.min_early_stopping_rate)

    def describe(self) -> str:
        if self.kind == "none":
            return "no pruning"
        return (f"ASHA (Optuna's SuccessiveHalvingPruner): first rung after {self.min_resource} epoch(s), "
                f"reduction factor {self.reduction_factor}, min early-stopping rate {self.min_early_stopping_rate}")


@dataclass(frozen=True)
class TuneSpec:
    params: dict                       # name -> Param, in the order written
    trials: int
    metric: str
    direction: str = "maximize"
    val_fraction: float = 0.2
    seed: int = 0
    final_seeds: list = field(default_factory=lambda: [0, 1, 2])
    sampler: str = "qmc"
    pruner: Pruner = Pruner()
    arms: dict = field(default_factory=dict)  # key -> allowed values; empty: every sweep point is an arm

    def is_arm(self, config: dict) -> bool:
        """Whether a sweep point is tuned (an arm) rather than run once as a plain run."""
        return all(config.get(key) in values for key, values in self.arms.items())

    @property
    def test_metric(self) -> str:
        """The finals' test metric matching the selection metric: val_acc -> test_acc."""
        return "test_" + self.metric[len("val_"):]

    def distributions(self) -> dict:
        return {name: p.distribution() for name, p in self.params.items()}

    def candidates(self) -> list:
        """The `trials` parameter sets offered to every arm, in order: a function of the seed alone.

        Drawn once, by Optuna's sampler in a throw-away in-memory study, all trials
        asked in a row: qmc = QMCSampler (scrambled Sobol; its first point comes from
        its seeded RandomSampler), random = RandomSampler; grid = every combination of
        the `choices` in the order written (the last parameter varies fastest), each
        once. Each arm's study then gets candidate k as its trial k (enqueued), so no
        arm's results, divergences or timing can change what the other arms, or a
        resumed sweep, are offered.
        """
        import warnings

        import optuna

        if self.sampler == "grid":  # a random order would only make ties depend on the seed
            return [dict(zip(self.params, values)) for values in product(*(p.choices for p in self.params.values()))]

        with warnings.catch_warnings():  # QMCSampler is "experimental" since Optuna 3.0; what we use is tested
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = (optuna.samplers.RandomSampler(seed=self.seed) if self.sampler == "random" else
                       optuna.samplers.QMCSampler(qmc_type="sobol", scramble=True, seed=self.seed,
                                                  independent_sampler=optuna.samplers.RandomSampler(seed=self.seed),
                                                  warn_independent_sampling=False,
                                                  warn_asynchronous_seeding=False))
        study = optuna.create_study(sampler=sampler)
        distributions = self.distributions()
        return [study.ask(distributions).params for _ in range(self.trials)]

    def trial_config(self, arm_config: dict, params: dict) -> dict:
        """A trial's run configuration: the arm's, the trial's parameters, the trial seed; no test set."""
        return {**arm_config, **params, "seed": self.seed, "val_fraction": self.val_fraction, "eval_test": False}

    def final_config(self, arm_config: dict, params: dict, seed: int) -> dict:
        """A final run: the arm's best parameters, one of the final seeds, evaluated on the test set."""
        return {**arm_config, **params, "seed": seed, "val_fraction": self.val_fraction, "eval_test": True}

    def to_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> list:
        """Markdown lines stating the protocol as run (for reports)."""
        arms = "; ".join(f"{k} in {{{', '.join(map(str, v))}}}" for k, v in self.arms.items())
        return [f"- searched: {'; '.join(p.describe() for p in self.params.values())}",
                *([f"- arms: the sweep points with {arms}; the other points are plain runs (run once, not tuned)"]
                  if arms else []),
                f"- budget: {self.trials} trials per arm, the same for every arm ({SAMPLER_NAMES[self.sampler]}, "
                f"seed {self.seed}: every arm is offered the same candidates)",
                f"- pruning: {self.pruner.describe()}",
                f"- selection: the trial with the best final `{self.metric}` ({self.direction}) on a validation "
                f"split of {self.val_fraction:g} of the training data; trials never evaluate the test set",
                f"- finals: the selected configuration of each arm retrained with seeds "
                f"{', '.join(map(str, self.final_seeds))} and evaluated on the test set (`{self.test_metric}`)"]


def parse_tune(data: Any, origin: str, schema, base_keys: list, varied_keys: list) -> TuneSpec:
    """Validate a `[tune]` table against the task's schema.

    base_keys: the keys of [base]; a searched parameter found there is overridden by
    each trial's value ([base] then only serves untuned runs of the same spec).
    varied_keys: sweep axes and [[include]] keys; a searched parameter may not be one
    of them, nor a protocol key (seed, val_fraction, eval_test), which none of the
    spec's tables may set. Every message names the file, `[tune]` and the key.
    """
    fixed_keys = [*base_keys, *varied_keys]
    where = f"{origin} [tune]"
    if not isinstance(data, dict):
        raise ActlabError(f"{where}: must be a table")
    _known(data, TUNE_KEYS, where)
    allowed = schema.allowed()
    missing = [k for k in PROTOCOL_KEYS if k not in allowed]
    if missing:
        raise ActlabError(f"{where}: this task cannot be tuned: it does not accept {', '.join(missing)} "
                          f"(a tuned task takes seed, val_fraction and eval_test)")
    clash = [k for k in PROTOCOL_KEYS if k in fixed_keys]
    if clash:
        raise ActlabError(f"{where}: '{clash[0]}' is set by the protocol in a tuned spec (trials use [tune] seed, "
                          f"finals [tune] final_seeds); remove it from [base], [sweep] and [[include]]")
    trials = _int(data.get("trials"), "trials", where, lower=1, required=True)
    metric = data.get("metric", "val_acc")
    if not isinstance(metric, str) or not metric.startswith("val_") or metric == "val_":
        raise ActlabError(f"{where}: 'metric' must name a validation metric (val_acc, val_loss, ...), since "
                          f"selection never looks at the test set; got {metric!r}")
    direction = data.get("direction", "maximize")
    if direction not in DIRECTIONS:
        raise ActlabError(f"{where}: 'direction' must be one of {', '.join(DIRECTIONS)}; got {direction!r}")
    val_fraction = data.get("val_fraction", 0.2)
    if isinstance(val_fraction, bool) or not isinstance(val_fraction, (int, float)) or not 0 < val_fraction < 1:
        raise ActlabError(f"{where}: 'val_fraction' must be a number in (0, 1), the share of the training data "
                          f"held out for validation; got {val_fraction!r}")
    seed = _int(data.get("seed", 0), "seed", where, lower=0)
    seeds = data.get("final_seeds", [0, 1, 2])
    if not isinstance(seeds, list) or not seeds:
        raise ActlabError(f"{where}: 'final_seeds' must be a non-empty list of integers; got {seeds!r}")
    seeds = [_int(s, f"final_seeds[{i}]", where, lower=0) for i, s in enumerate(seeds)]
    if len(set(seeds)) != len(seeds):
        raise ActlabError(f"{where}: 'final_seeds' lists a seed twice: {seeds!r}")
    sampler = data.get("sampler", "qmc")
    if sampler not in SAMPLERS:
        raise ActlabError(f"{where}: 'sampler' must be one of {', '.join(SAMPLERS)}; got {sampler!r}")
    raw_params = data.get("params")
    if not isinstance(raw_params, dict) or not raw_params:
        raise ActlabError(f"{where}: 'params' must be a table of searched keys, e.g. "
                          f"[tune.params] lr = {{ low = 1e-5, high = 1e-2, log = true }}; got {raw_params!r}")
    params = {}
    for name, spec in raw_params.items():
        if name not in allowed:
            raise ActlabError(f"{where}.params: unknown parameter '{name}'; allowed: {', '.join(allowed)}")
        if name in PROTOCOL_KEYS or name in varied_keys:
            raise ActlabError(f"{where}.params: '{name}' is set by "
                              f"{'the protocol' if name in PROTOCOL_KEYS else 'the spec'}; it cannot also be searched")
        params[name] = _param(name, spec, f"{where}.params.{name}")
        for value in _edges(params[name]):  # the task's own check of each end of the range
            schema.check_key(name, value, f"{where}.params.{name}")
    if sampler == "grid":
        _grid(params, trials, where)
    return TuneSpec(params=params, trials=trials, metric=metric, direction=direction,
                    val_fraction=float(val_fraction), seed=seed, final_seeds=seeds, sampler=sampler,
                    pruner=_pruner(data.get("pruner", {}), f"{where}.pruner"),
                    arms=_arms(data.get("arms", {}), schema, fixed_keys, f"{where}.arms"))


def _grid(params: dict, trials: int, where: str) -> None:
    """A grid searches `choices` only, and its budget is the number of combinations, stated."""
    ranged = [n for n, p in params.items() if p.choices is None]
    if ranged:
        raise ActlabError(f"{where}: sampler 'grid' needs every searched parameter as {{ choices = [..] }}; "
                          f"'{ranged[0]}' is a range")
    size = math.prod(len(p.choices) for p in params.values())
    if trials != size:
        raise ActlabError(f"{where}: sampler 'grid' runs every combination once: 'trials' must be {size} "
                          f"(the grid's size); got {trials}")


def _arms(data: Any, schema, keys: list, where: str) -> dict:
    """`arms`: a table key -> non-empty list of values, each key a key the spec sets."""
    if not isinstance(data, dict):
        raise ActlabError(f"{where}: must be a table of key = [values], e.g. arms = {{ part = [\"poly\"] }}; "
                          f"got {data!r}")
    arms = {}
    for key, values in data.items():
        if key not in keys:
            raise ActlabError(f"{where}: '{key}' is not a key of this spec's [base], [sweep] or [[include]]")
        if not isinstance(values, list) or not values:
            raise ActlabError(f"{where}: '{key}' must be a non-empty list of values; got {values!r}")
        arms[key] = [schema.check_key(key, v, f"{where}.{key}") for v in values]
    return arms


def _param(name: str, spec: Any, where: str) -> Param:
    if not isinstance(spec, dict):
        raise ActlabError(f"{where}: must be a table: {{ low = .., high = .., log = true }} or "
                          f"{{ choices = [..] }}; got {spec!r}")
    _known(spec, PARAM_KEYS, where)
    if "choices" in spec:
        extra = [k for k in spec if k != "choices"]
        if extra:
            raise ActlabError(f"{where}: 'choices' cannot be combined with '{extra[0]}'")
        choices = spec["choices"]
        if not isinstance(choices, list) or not choices:
            raise ActlabError(f"{where}: 'choices' must be a non-empty list; got {choices!r}")
        if any(not isinstance(c, (str, int, float, bool)) for c in choices) or len(set(map(repr, choices))) != len(choices):
            raise ActlabError(f"{where}: 'choices' must be distinct strings, numbers or booleans; got {choices!r}")
        return Param(name, choices=list(choices))
    for key in ("low", "high"):
        value = spec.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ActlabError(f"{where}: '{key}' must be a finite number; got {value!r}")
    low, high = spec["low"], spec["high"]
    if not low < high:
        raise ActlabError(f"{where}: empty or inverted range: low ({low!r}) must be < high ({high!r})")
    log = spec.get("log", False)
    if not isinstance(log, bool):
        raise ActlabError(f"{where}: 'log' must be true or false; got {log!r}")
    if log and low <= 0:
        raise ActlabError(f"{where}: a log scale needs positive bounds; got low = {low!r}")
    step = spec.get("step")
    if step is not None:
        if isinstance(step, bool) or not isinstance(step, (int, float)) or step <= 0:
            raise ActlabError(f"{where}: 'step' must be a number > 0; got {step!r}")
        if log:
            raise ActlabError(f"{where}: 'step' cannot be combined with a log scale")
    if isinstance(low, int) != isinstance(high, int):  # 1 and 1e-2: a float range
        low, high = float(low), float(high)
    return Param(name, low=low, high=high, log=log, step=step)


def _edges(param: Param) -> list:
    return list(param.choices) if param.choices is not None else [param.low, param.high]


def _pruner(data: Any, where: str) -> Pruner:
    if not isinstance(data, dict):
        raise ActlabError(f"{where}: must be a table; got {data!r}")
    _known(data, PRUNER_KEYS, where)
    kind = data.get("kind", "asha")
    if kind not in PRUNERS:
        raise ActlabError(f"{where}: 'kind' must be one of {', '.join(PRUNERS)}; got {kind!r}")
    return Pruner(kind=kind, min_resource=_int(data.get("min_resource", 1), "min_resource", where, lower=1),
                  reduction_factor=_int(data.get("reduction_factor", 3), "reduction_factor", where, lower=2),
                  min_early_stopping_rate=_int(data.get("min_early_stopping_rate", 0), "min_early_stopping_rate",
                                               where, lower=0))


def _known(data: dict, keys: tuple, where: str) -> None:
    unknown = [k for k in data if k not in keys]
    if unknown:
        raise ActlabError(f"{where}: unknown key '{unknown[0]}'; allowed: {', '.join(keys)}")


def _int(value: Any, key: str, where: str, lower: int, required: bool = False) -> int:
    if value is None and required:
        raise ActlabError(f"{where}: '{key}' is required (an integer >= {lower})")
    if isinstance(value, bool) or not isinstance(value, int) or value < lower:
        raise ActlabError(f"{where}: '{key}' must be an integer >= {lower}; got {value!r}")
    return value


def tune_from_dict(data: dict) -> TuneSpec:
    """The inverse of TuneSpec.to_dict (as stored in a run directory's meta)."""
    return TuneSpec(**{**data, "params": {n: Param(**p) for n, p in data["params"].items()},
                       "pruner": Pruner(**data["pruner"])})
