"""TrainResult: what `fit` returns and writes to result.json."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Optional


@dataclass
class TrainResult:
    """status: "done", "diverged" or "collapsed" (finished without NaN/Inf but at chance or with
    a vanished first-layer gradient; actlab.train.health). metrics: final scalars (train_loss,
    test_loss, test_acc or test_mse, epochs, steps, time_s, params, probe summaries). history:
    one dict per epoch. diverged: None or {"step", "epoch", "layer", "module", "where"} (1-based
    step and epoch; where ∈ forward, loss, gradient). collapsed: None or {"reason", "detail",
    "hint"}. probes: the diagnostics (JSON-able)."""

    status: str
    metrics: dict[str, float]
    history: list[dict[str, Any]] = field(default_factory=list)
    diverged: Optional[dict[str, Any]] = None
    collapsed: Optional[dict[str, Any]] = None
    probes: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    out_dir: Optional[str] = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainResult":
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})
