"""The built-in task kinds: `train` (actlab.train.fit) and `toy` (a cheap stand-in).

`toy` exists so that the runner, the store and the reports can be tried and
tested in milliseconds: a deterministic forward pass of a random deep network
(numpy, no torch) plus a made-up loss curve, with switches to raise, to diverge,
to collapse and to kill its own process.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from ..errors import ActlabError
from .tasks import Field, RunResult, TaskSchema, register_task
from .trial import report_epoch

# ---------------------------------------------------------------- train


def execute_train(config: dict, run_dir: Path) -> RunResult:
    """One training run: `actlab.train.fit(TrainConfig.from_dict(config))`; each epoch goes to
    `report_epoch`, which stops a tuning trial its pruner prunes."""
    from ..train import TrainConfig, fit  # lazy: the runner works without the training stack

    result = fit(TrainConfig.from_dict(config), out_dir=run_dir, progress=False, on_epoch=report_epoch)
    extra = _per_layer_lists(dict(result.probes or {}))
    if result.collapsed:
        extra["collapsed"] = result.collapsed
    return RunResult(status=result.status, metrics=dict(result.metrics), history=list(result.history),
                     diverged_at=result.diverged, extra=extra)


def _per_layer_lists(probes: dict) -> dict:
    """fit's probes hold per-layer stats as {layer label: value}; the report reads per-layer
    profiles as lists in layer order (labels kept under "layers"), so convert those."""
    layers = probes.get("layers")
    if not isinstance(layers, list):
        return probes
    return {k: [v.get(label) for label in layers] if isinstance(v, dict) and set(v) <= set(layers) and v else v
            for k, v in probes.items()}


def train_schema() -> TaskSchema:
    """Keys come from TrainConfig itself; each run's config gets the checks `actlab train` makes
    before loading data (TrainConfig.from_dict, then check_buildable)."""
    try:
        from ..train import TrainConfig
    except ImportError as exc:
        raise ActlabError(f"the 'train' task needs actlab.train, which failed to import: {exc}") from None

    return TaskSchema(keys=list(TrainConfig.allowed_keys()), check=lambda d: TrainConfig.from_dict(d).check_buildable())


# ---------------------------------------------------------------- toy

_TOY_ACTIVATIONS = {
    "relu": lambda x: np.maximum(x, 0.0),
    "tanh": np.tanh,
    "identity": lambda x: x,
}

TOY_SCHEMA = TaskSchema(fields={
    "seed": Field(int, help="random seed"),
    "depth": Field(int, help="number of layers"),
    "width": Field(int, help="units per layer"),
    "activation": Field(str, choices=tuple(_TOY_ACTIVATIONS), help="nonlinearity"),
    "gain": Field(float, help="weight variance is gain / width"),
    "lr": Field(float, help="decay rate of the made-up loss curve"),
    "epochs": Field(int, help="length of the history"),
    "sleep": Field(float, help="seconds to sleep per epoch (to make runs slow on purpose)"),
    "fail": Field(bool, help="raise RuntimeError in the first epoch"),
    "crash": Field(bool, help="kill the worker process with os._exit(3)"),
    "diverge_at": Field(int, help="epoch at which the loss becomes NaN (0: never)"),
    "collapse": Field(bool, help="finish with status collapsed (as a run at chance would)"),
    "val_fraction": Field(float, help="when set: also val_loss/val_acc per epoch (test_* too unless eval_test=false)"),
    "eval_test": Field(bool, help="with val_fraction: report test_loss/test_acc"),
})


def execute_toy(config: dict, run_dir: Path) -> RunResult:
    """Forward a random batch through `depth` layers, then a made-up loss curve
    loss(epoch) = (1 + |log rms_L|) / (1 + lr·epoch) + 0.01·noise, rms_L the last layer's RMS,
    and acc = 1 / (1 + loss). With val_fraction, each epoch also has
    val_loss = loss + 0.1·(log10 lr + 2)² + 0.01·noise (best near lr = 1e-2) and val_acc =
    1 / (1 + val_loss), and test_loss / test_acc alike unless eval_test is false; each
    epoch goes to `report_epoch` (a pruned tuning trial stops there).

    Per-layer RMS activations are returned as `grad_norms_init` (a stand-in
    profile), the fraction of exact zeros in the last layer as `dead_fraction`.
    """
    rng = np.random.default_rng(config.get("seed", 0))
    depth, width = config.get("depth", 3), config.get("width", 16)
    act = _TOY_ACTIVATIONS[config.get("activation", "relu")]
    gain = config.get("gain", 2.0)
    x = rng.normal(size=(32, width))
    profile = []
    for _ in range(depth):
        x = act(x @ rng.normal(scale=np.sqrt(gain / width), size=(width, width)))
        profile.append(float(np.sqrt(np.mean(x**2))))

    history = []
    for epoch in range(1, config.get("epochs", 3) + 1):
        if config.get("fail", False):
            raise RuntimeError("toy run failed on purpose (fail = true)")
        if config.get("crash", False):
            os._exit(3)  # no exception, no cleanup: what a segfault looks like to the runner
        time.sleep(config.get("sleep", 0.0))
        if epoch == config.get("diverge_at", 0):
            return RunResult(status="diverged", metrics={"loss": float("nan")}, history=history,
                             diverged_at={"step": epoch, "layer": f"layer{depth - 1}"},
                             extra={"grad_norms_init": profile})
        scale = 1.0 + abs(np.log(max(profile[-1], 1e-12)))
        lr = config.get("lr", 0.5)
        loss = scale / (1.0 + lr * epoch) + 0.01 * rng.normal()
        row = {"epoch": epoch, "loss": loss, "acc": 1.0 / (1.0 + loss)}
        if config.get("val_fraction") is not None:
            for split in ("val", "test") if config.get("eval_test", True) else ("val",):
                split_loss = loss + 0.1 * (np.log10(lr) + 2) ** 2 + 0.01 * rng.normal()
                row.update({f"{split}_loss": split_loss, f"{split}_acc": 1.0 / (1.0 + split_loss)})
        history.append(row)
        if report_epoch(row):
            break

    (run_dir / "toy.txt").write_text(f"last-layer rms {profile[-1]:.6g}\n")
    collapsed = {"collapsed": {"reason": "at chance", "detail": "toy run collapsed on purpose (collapse = true)",
                               "hint": ""}} if config.get("collapse", False) else {}
    return RunResult(
        status="collapsed" if collapsed else "done",
        metrics={"loss": history[-1]["loss"] if history else float("nan"),
                 "acc": history[-1]["acc"] if history else float("nan"),
                 **{k: v for k, v in (history[-1] if history else {}).items() if k.startswith(("val_", "test_"))},
                 "dead_fraction": float(np.mean(x == 0.0)), "rms_last": profile[-1]},
        history=history,
        extra={"grad_norms_init": profile, "grad_norms_final": [p * 0.5 for p in profile], **collapsed},
    )


register_task("train", execute_train, train_schema, "train a model with actlab.train.fit")
register_task("toy", execute_toy, TOY_SCHEMA, "cheap deterministic stand-in for tests and examples")
