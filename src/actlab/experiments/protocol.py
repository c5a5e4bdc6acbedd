"""The fair-comparison protocol of a tuned spec: tune every arm alike, then retrain the best with seeds.

Phase 1, trials. Each arm (a point of the sweep) has an Optuna study, named by
the arm's id, in RUN_DIR/tune.sqlite, and is offered the same candidates in the
same order (TuneSpec.candidates, enqueued one at a time). The runner asks the
arm's study for its next trial when a worker is free, turns its parameters into an ordinary run (configuration = arm
+ parameters + trial seed + validation split, no test set; id = hash of task and
configuration), sends it through the backend, and tells the study the result:
the final validation metric (COMPLETE), PRUNED, or FAIL for a diverged run. A
failed run is told nothing: its trial stays open and is run again, with the
same parameters, when the sweep resumes.

Phase 2, finals. For every arm whose trials are all finished, the best trial
that ran to the end (not pruned or diverged; ties: the earliest) is retrained
with each final seed and evaluated on the test set.

Resume (after Ctrl-C or kill -9). The study and the results store together say
where things stand: a trial still open in the study is re-run unless its run is
already finished in the store, in which case the result is told now; trials
missing from the budget are asked; finals not finished run. Nothing is asked
twice, so a resumed sweep ends with the same trials and runs as an uninterrupted
one.
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional

from ..errors import ActlabError
from .backends import Job
from .spec import Run, Spec, run_id
from .store import FINISHED, ResultStore
from .trial import TrialLink, open_storage

STUDY_FILE = "tune.sqlite"
# Finished trials whose metric may be selected: everything finished but a pruned or diverged run.
SELECTABLE = tuple(s for s in FINISHED if s not in ("pruned", "diverged"))


@dataclass(frozen=True)
class Arm:
    id: str
    config: dict
    index: int


def arms_of(spec: Spec) -> list:
    """The arms of a tuned spec: its sweep points ([tune] arms selects which), each named by the id of its
    configuration."""
    return [Arm(r.id, r.config, i) for i, r in enumerate(r for r in spec.runs() if spec.tune.is_arm(r.config))]


ABORTED = "actlab_aborted"  # user attribute of a trial left without parameters by a kill (Protocol._abort_unasked)


def select_best(rows: list, metric: str, direction: str) -> Optional[dict]:
    """The selected trial among store rows of one arm: finished, selectable, finite metric, best; ties: earliest."""
    sign = 1.0 if direction == "maximize" else -1.0
    eligible = [r for r in rows if r["status"] in SELECTABLE and _finite(r["metrics"].get(metric))]
    if not eligible:
        return None
    return max(eligible, key=lambda r: (sign * r["metrics"][metric], -r["position"]))


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


@contextmanager
def _quiet_optuna():
    import optuna

    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(level)


class Protocol:
    """Trials then finals of one tuned spec in one run directory (see the module docstring)."""

    def __init__(self, spec: Spec, store: ResultStore, execute: Callable) -> None:
        if spec.tune is None:
            raise ValueError("Protocol needs a spec with [tune]")
        self.spec, self.tune, self.store, self.execute = spec, spec.tune, store, execute
        self.arms = arms_of(spec)
        self.url = f"sqlite:///{(Path(store.run_dir) / STUDY_FILE).resolve()}"
        self._studies: dict = {}
        self._waiting: dict = {}   # run id -> [(arm, trial number)] told when the run finishes
        self._distributions = None

    @property
    def total(self) -> int:
        return len(self.arms) * (self.tune.trials + len(self.tune.final_seeds)) + len(self.plain_runs())

    def plain_runs(self) -> list:
        """The sweep points that are not arms ([tune] arms): run once with their own configuration,
        placed after every trial and final."""
        start = len(self.arms) * (self.tune.trials + len(self.tune.final_seeds))
        plain = [r for r in self.spec.runs() if not self.tune.is_arm(r.config)]
        return [Run(r.id, r.task, r.config, start + i) for i, r in enumerate(plain)]

    def study(self, arm: Arm):
        if arm.id not in self._studies:
            import optuna

            direction = self.tune.direction
            # Every trial is enqueued from the candidates, so the study's own sampler never draws.
            self._studies[arm.id] = optuna.create_study(
                storage=open_storage(self.url), study_name=arm.id, direction=direction,
                sampler=optuna.samplers.RandomSampler(seed=self.tune.seed), pruner=self.tune.pruner.build(),
                load_if_exists=True)
        return self._studies[arm.id]

    # ---- phase 1
    def trial_jobs(self) -> Iterator[Job]:
        """Jobs of the trials still to run, asked lazily: open trials first, then new ones round-robin over arms."""
        from optuna.trial import TrialState

        with _quiet_optuna():
            self._distributions = self.tune.distributions()
            candidates = self.tune.candidates()
            asked = {}
            for arm in self.arms:
                self._abort_unasked(arm)
                trials = self.trials(arm)
                asked[arm.id] = sum(t.state != TrialState.WAITING for t in trials)
                for t in trials:
                    if t.state == TrialState.RUNNING:
                        job = self._job(arm, t.number, t._trial_id, t.params)
                        if job is not None:
                            yield job
            while any(asked[a.id] < self.tune.trials for a in self.arms):
                for arm in self.arms:
                    if asked[arm.id] < self.tune.trials:
                        study = self.study(arm)
                        # a candidate enqueued by a sweep killed before it asked is still waiting: take it
                        if not study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
                            study.enqueue_trial(candidates[asked[arm.id]])
                        trial = study.ask(self._distributions)
                        asked[arm.id] += 1
                        job = self._job(arm, trial.number, trial._trial_id, trial.params)
                        if job is not None:
                            yield job

    def trials(self, arm: Arm) -> list:
        """The arm's trials that count: every one but those `_abort_unasked` set aside."""
        return [t for t in self.study(arm).get_trials(deepcopy=False) if not t.user_attrs.get(ABORTED)]

    def _abort_unasked(self, arm: Arm) -> None:
        """Set aside a trial that a kill left inside `ask`: optuna marks the trial running before it
        stores the parameters, so such a trial has none. It is failed and flagged ABORTED, so it does
        not count: the same candidate is asked again (running it without them would train with the
        arm's defaults, and its run would lack the tuned values the finals are built from)."""
        import optuna

        study = self.study(arm)
        for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
            if not set(self._distributions) <= set(t.params):
                optuna.Trial(study, t._trial_id).set_user_attr(ABORTED, True)
                study.tell(t.number, state=optuna.trial.TrialState.FAIL)

    def _job(self, arm: Arm, number: int, trial_id: int, params: dict) -> Optional[Job]:
        """The run of a trial: stored (if new) and returned as a job, or None when its run needs no execution."""
        config = self.tune.trial_config(arm.config, params)
        rid = run_id(self.spec.task, config)
        position = arm.index * self.tune.trials + number
        self.store.add_runs([Run(rid, self.spec.task, config, position, phase="trial", arm=arm.id)])
        in_flight = rid in self._waiting
        self._waiting.setdefault(rid, []).append((arm, number))
        status, metrics = self.store.result(rid)
        if status in FINISHED:  # e.g. killed after recording the run, before telling the study
            self.trial_finished(rid, status, metrics)
            return None
        if in_flight:  # two trials drew the same configuration: one run answers both
            return None
        link = TrialLink(self.url, arm.id, trial_id, self.tune.metric, asdict(self.tune.pruner))
        return Job(rid, self.execute, config, str(self.store.run_path(rid)), trial=link)

    def trial_finished(self, rid: str, status: str, metrics: dict) -> None:
        """Tell the trials waiting for run `rid` its result; a failed run leaves them open (re-run on resume)."""
        import optuna

        if status not in FINISHED:
            self._waiting.pop(rid, None)
            return
        value = metrics.get(self.tune.metric)
        with _quiet_optuna():
            for arm, number in self._waiting.pop(rid, []):
                study = self.study(arm)
                if status == "pruned":
                    study.tell(number, state=optuna.trial.TrialState.PRUNED, skip_if_finished=True)
                elif status == "diverged" or not _finite(value):
                    study.tell(number, state=optuna.trial.TrialState.FAIL, skip_if_finished=True)
                else:
                    study.tell(number, float(value), skip_if_finished=True)

    # ---- phase 2
    def final_runs(self) -> tuple:
        """(runs of the finals of every arm whose tuning is complete, [(arm id, why no finals)])."""
        import optuna

        rows = [r for r in self.store.rows() if r["phase"] == "trial"]
        runs, missing = [], []
        with _quiet_optuna():
            for arm in self.arms:
                trials = self.trials(arm)
                open_ = sum(t.state in (optuna.trial.TrialState.RUNNING, optuna.trial.TrialState.WAITING)
                            for t in trials)
                if len(trials) < self.tune.trials or open_:
                    missing.append((arm.id, f"tuning incomplete ({open_} trial(s) failed or unfinished); resume"))
                    continue
                best = select_best([r for r in rows if r["arm"] == arm.id], self.tune.metric, self.tune.direction)
                if best is None:
                    missing.append((arm.id, "no trial ran to the end with a finite metric"))
                    continue
                params = {name: best["config"][name] for name in self.tune.params}
                for k, seed in enumerate(self.tune.final_seeds):
                    config = self.tune.final_config(arm.config, params, seed)
                    position = len(self.arms) * self.tune.trials + arm.index * len(self.tune.final_seeds) + k
                    runs.append(Run(run_id(self.spec.task, config), self.spec.task, config, position,
                                    phase="final", arm=arm.id))
        return runs, missing


def check_tune_unchanged(store: ResultStore, spec: Spec, run_dir: Path) -> None:
    """A resumed tuned sweep must keep its [tune] section: the studies were made under it."""
    stored = store.meta().get("tune")
    current = spec.tune.to_dict() if spec.tune is not None else None
    if store.count() and stored != current:
        what = "adds [tune]" if stored is None else "drops [tune]" if current is None else "changes [tune]"
        raise ActlabError(f"{run_dir}: the spec {what} since this run directory was made; the trials so far were "
                          f"run under the old protocol. Choose another --out")
