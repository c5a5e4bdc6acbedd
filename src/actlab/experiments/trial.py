"""The worker's side of a tuning trial: report each epoch to the study, stop when pruned.

A task supports pruning by calling `report_epoch(row)` after every epoch and
stopping when it returns True::

    for epoch in range(epochs):
        ...
        if report_epoch({"epoch": epoch, "val_acc": acc}):
            break                       # pruned: the run ends here, as a result

Outside a tuning trial (an ordinary run, a final) `report_epoch` does nothing and
returns False. Inside one, the backend has linked the run to its Optuna trial
(`linked`): the row's tuning metric is reported as the trial's intermediate value
at step = the epoch's number (1, 2, ...), and the pruner, rebuilt here from the
spec, answers `should_prune` from the rung records in the study's storage (the
SQLite file in the run directory), so this works in any worker process or Ray
task that can open that file. A re-run of an interrupted trial replays the steps
its first attempt already reported without reporting or asking again: it had
been allowed past them.
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, Optional

from ..errors import ActlabError


@dataclass(frozen=True)
class TrialLink:
    """What a worker needs to reach its trial: storage URL, study name, trial id, metric, pruner settings."""

    storage: str
    study: str
    trial_id: int
    metric: str
    pruner: dict  # tune.Pruner as a dict


class _Reporter:
    def __init__(self, link: TrialLink) -> None:
        import optuna

        from .tune import Pruner

        self.link = link
        self.steps = 0
        self.pruned = False
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.load_study(study_name=link.study, storage=open_storage(link.storage),
                                  pruner=Pruner(**link.pruner).build())
        self.trial = optuna.trial.Trial(study, link.trial_id)
        reported = study._storage.get_trial(link.trial_id).intermediate_values
        self.replay_until = max(reported, default=0)

    def report(self, row: dict) -> bool:
        self.steps += 1
        if self.link.metric not in row:
            raise ActlabError(f"the tuning metric '{self.link.metric}' is not among this task's per-epoch values "
                              f"({', '.join(sorted(row)) or 'none'}); set [tune] metric to one of the val_* keys")
        value = row[self.link.metric]
        if self.steps <= self.replay_until or not isinstance(value, (int, float)) or not math.isfinite(value):
            return False  # replayed, or not a number (the task's own guard will stop a diverged run)
        self.trial.report(float(value), self.steps)
        self.pruned = self.trial.should_prune()
        return self.pruned


_current: Optional[_Reporter] = None
_storages: dict = {}


def open_storage(url: str):
    """Optuna's RDB storage for `url`, one per process; SQLite waits up to a minute for a lock."""
    if url not in _storages:
        import optuna

        _storages[url] = optuna.storages.RDBStorage(url, engine_kwargs={"connect_args": {"timeout": 60}})
    return _storages[url]


@contextmanager
def linked(link: Optional[TrialLink]) -> Iterator[Optional[_Reporter]]:
    """Within this block `report_epoch` reports to `link`'s trial (nothing to do when link is None)."""
    global _current
    if link is None:
        yield None
        return
    _current = _Reporter(link)
    try:
        yield _current
    finally:
        _current = None


def report_epoch(row: dict) -> bool:
    """Report one epoch's values to the running trial; True when the trial is pruned and the task should stop."""
    return _current.report(row) if _current is not None else False
