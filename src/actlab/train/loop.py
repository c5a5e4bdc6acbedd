"""fit: one training loop for every model, with a NaN/Inf guard, checkpoints and probes.

A run is a pure function of its TrainConfig on CPU: the model is built right after
torch.manual_seed(seed), epoch e visits the training set in the order
randperm(n, seed·2²⁰ + e), and nothing else draws random numbers. A checkpoint holds
the model, optimiser, scheduler, RNG states and the run's history, so a resumed run
takes exactly the steps the uninterrupted run would have taken.
"""
from __future__ import annotations

import math
import sys
import time
from typing import Any, Callable, Optional

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from ..activations.fused import reset_amortisation
from ..errors import ActlabError
from ..nn.factory import build_model
from ..nn.layers import named_layers
from .config import TrainConfig
from .guard import first_nonfinite_forward, first_nonfinite_gradient
from .health import HINTS, collapse_reason, describe_collapse
from .interrupts import deferred_signals
from .probes import STATS, run_probes, summarize
from .result import TrainResult
from .store import RunStore, jsonable


def pick_device(device: str) -> torch.device:
    """"auto": CUDA when available, else CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ActlabError("device cuda was asked for but torch sees no CUDA device; use auto or cpu")
    return torch.device(device)


def load_data(cfg: TrainConfig, dataset=None):
    """The run's dataset: `dataset` when given (first n_train/n_test examples), else
    actlab.data.load_dataset(cfg.data) with a seeded random subset. With cfg.val_fraction
    the validation split is carved from the training examples (a given dataset keeps its
    normalisation, which then saw the validation examples too)."""
    if dataset is not None:
        from dataclasses import replace

        from ..data.dataset import validation_split

        data = replace(dataset, x_train=dataset.x_train[:cfg.n_train], y_train=dataset.y_train[:cfg.n_train],
                       x_test=dataset.x_test[:cfg.n_test], y_test=dataset.y_test[:cfg.n_test])
        if cfg.val_fraction is None:
            return data
        keep, held = (torch.from_numpy(i) for i in validation_split(data.n_train, cfg.val_fraction, cfg.seed))
        return replace(data, x_train=data.x_train[keep], y_train=data.y_train[keep], x_val=data.x_train[held],
                       y_val=data.y_train[held])
    from ..data import load_dataset

    subset = (cfg.n_train, cfg.n_test) if (cfg.n_train or cfg.n_test) else None
    return load_dataset(cfg.data, root=cfg.data_root, seed=cfg.seed, subset=subset, val_fraction=cfg.val_fraction)


def make_optimizer(cfg: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    params = model.parameters()
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)


def make_schedule(cfg: TrainConfig, opt: torch.optim.Optimizer, total_steps: int):
    """Per-step factor on the learning rate: 1 (constant) or ½(1 + cos(π s / S)) (cosine)."""
    if cfg.schedule == "cosine":
        return torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, total_steps) / max(1, total_steps))))
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, task: str, batch_size: int = 1024,
             prefix: str = "test") -> dict[str, float]:
    """Mean loss over a split, plus accuracy (classification) or MSE (regression), as
    {prefix}_loss and {prefix}_acc / {prefix}_mse."""
    was_training = model.training
    model.eval()
    loss_sum, correct = 0.0, 0
    for i in range(0, len(x), batch_size):
        out = model(x[i:i + batch_size])
        yb = y[i:i + batch_size]
        if task == "classification":
            loss_sum += float(F.cross_entropy(out, yb, reduction="sum"))
            correct += int((out.argmax(1) == yb).sum())
        else:
            loss_sum += float(F.mse_loss(out, yb, reduction="sum")) / yb[0].numel()
    model.train(was_training)
    n = max(1, len(x))
    if task == "classification":
        return {f"{prefix}_loss": loss_sum / n, f"{prefix}_acc": correct / n}
    return {f"{prefix}_loss": loss_sum / n, f"{prefix}_mse": loss_sum / n}


def evaluate_splits(cfg: TrainConfig, model: nn.Module, data, task: str) -> dict[str, float]:
    """The validation split's metrics (when there is one), then the test split's (when cfg.eval_test)."""
    out = {}
    if data.x_val is not None:
        out.update(evaluate(model, data.x_val, data.y_val, task, prefix="val"))
    if cfg.eval_test:
        out.update(evaluate(model, data.x_test, data.y_test, task))
    return out


def _permutation(seed: int, epoch: int, n: int) -> torch.Tensor:
    return torch.randperm(n, generator=torch.Generator().manual_seed((seed << 20) + epoch))


def fit(cfg: TrainConfig | dict, out_dir: Optional[str] = None, progress: bool = True, *,
        dataset=None, resume: bool = True, callback: Optional[Callable[[dict], Any]] = None,
        on_epoch: Optional[Callable[[dict], bool]] = None) -> TrainResult:
    """Train one model as `cfg` says and return its TrainResult.

    out_dir: where config, metrics (JSON/CSV), checkpoints and result.json go; a later
        call on the same out_dir resumes from the last checkpoint (or returns the finished
        result). resume=False refuses a directory that already holds a run. Nothing is
        written there before the data and the model are built, and the directory is
        locked while training (a second process on it gets an ActlabError).
    dataset: an actlab.data.Dataset to use instead of loading cfg.data.
    callback: called after every step with {"step", "epoch", "loss", "total_steps"}.
    on_epoch: called with each new history row (train_loss, val_*, test_*, ...); when it
        returns True training stops there (early stopping, e.g. a pruned tuning trial) and
        the run finishes as usual with the epochs it has.
    Ctrl-C or SIGTERM stops at the next step boundary after writing a checkpoint.
    A non-finite loss or gradient stops the run: status "diverged", with the step and
    the first layer whose output (or gradient) went non-finite. A run that ends at chance
    or with a vanished first-layer gradient has status "collapsed" (actlab.train.health).
    """
    cfg = cfg if isinstance(cfg, TrainConfig) else TrainConfig.from_dict(cfg)
    device = pick_device(cfg.device)
    store = RunStore(out_dir) if out_dir is not None else None
    if store is not None:  # reads only: out_dir is not touched before the data and model are built
        store.check(cfg.to_dict(), resume)
        finished = store.load_result()
        if finished is not None:
            return TrainResult.from_dict(finished)

    data = load_data(cfg, dataset).to(device)
    reset_amortisation()  # the eager/fused choice must not depend on what this process ran before
    torch.manual_seed(cfg.seed)
    model = build_model(cfg.model, data.input_shape, data.output_dim, depth=cfg.depth, width=cfg.width,
                        act=cfg.act, norm=cfg.norm, residual=cfg.residual, init=cfg.init,
                        group_size=cfg.group_size, complex_weights=cfg.complex_weights,
                        norm_position=cfg.norm_position).to(device)
    if store is None:
        return _train(cfg, data, model, device, None, progress, callback, on_epoch)
    with store.open(cfg.to_dict()):
        finished = store.load_result()  # finished by another process while this one was building
        if finished is not None:
            return TrainResult.from_dict(finished)
        return _train(cfg, data, model, device, store, progress, callback, on_epoch)


def _train(cfg: TrainConfig, data, model: nn.Module, device: torch.device, store: Optional[RunStore],
           progress: bool, callback: Optional[Callable[[dict], Any]],
           on_epoch: Optional[Callable[[dict], bool]]) -> TrainResult:
    task = data.task
    loss_fn = F.cross_entropy if task == "classification" else F.mse_loss
    opt = make_optimizer(cfg, model)
    n = data.n_train
    batch = min(cfg.batch_size, n)
    steps_per_epoch = n // batch
    total = cfg.epochs * steps_per_epoch if cfg.steps is None else min(cfg.epochs * steps_per_epoch, cfg.steps)
    sched = make_schedule(cfg, opt, total)
    probe_x, probe_y = data.x_train[:cfg.probe_batch], data.y_train[:cfg.probe_batch]

    run: dict[str, Any] = {"step": 0, "history": [], "loss_sum": 0.0, "loss_batches": 0, "elapsed": 0.0,
                           "probes": {"timeline": []}}
    ckpt = store.load_checkpoint() if store is not None else None
    if ckpt is not None:
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        sched.load_state_dict(ckpt["scheduler"])
        torch.set_rng_state(ckpt["rng"])
        if device.type == "cuda" and ckpt.get("cuda_rng"):
            torch.cuda.set_rng_state_all(ckpt["cuda_rng"])
        run = ckpt["run"]
    elif cfg.probes:
        run["probes"]["init"] = run_probes(model, probe_x, probe_y, loss_fn)

    started = time.perf_counter() - run["elapsed"]
    saved_step = run["step"] if ckpt is not None else -1

    def save() -> None:
        nonlocal saved_step
        run["elapsed"] = time.perf_counter() - started
        store.save_checkpoint({
            "model": model.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
            "rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if device.type == "cuda" else [], "run": run})
        saved_step = run["step"]

    def end_epoch() -> bool:
        """Record the epoch's row (and probes, checkpoint); True when on_epoch asks to stop."""
        step = run["step"]
        epochs_done = step / steps_per_epoch
        row = {"epoch": int(epochs_done) if step % steps_per_epoch == 0 else round(epochs_done, 4), "step": step,
               "train_loss": run["loss_sum"] / max(1, run["loss_batches"]),
               **evaluate_splits(cfg, model, data, task),
               "lr": opt.param_groups[0]["lr"], "time_s": round(time.perf_counter() - started, 3)}
        run["history"].append(row)
        run["loss_sum"], run["loss_batches"] = 0.0, 0
        if store is not None:
            store.write_history(run["history"])
        if cfg.probes and cfg.probe_every and step % steps_per_epoch == 0 and (step // steps_per_epoch) % cfg.probe_every == 0:
            run["probes"]["timeline"].append({"epoch": row["epoch"], "step": step,
                                              **run_probes(model, probe_x, probe_y, loss_fn)})
        if store is not None and cfg.checkpoint_every and (
                step == total or (step % steps_per_epoch == 0 and (step // steps_per_epoch) % cfg.checkpoint_every == 0)):
            save()
        return bool(on_epoch(row)) if on_epoch is not None else False

    diverged = None
    at_boundary = True
    bar = tqdm(total=total, initial=run["step"], desc=f"{cfg.model} {cfg.act} depth {cfg.depth}", unit="step",
               disable=not progress or not sys.stderr.isatty(), leave=False)
    model.train()
    try:
        with deferred_signals() as stop:
            perm_epoch, perm = -1, None
            while run["step"] < total:
                epoch, pos = divmod(run["step"], steps_per_epoch)
                if epoch != perm_epoch:
                    perm_epoch, perm = epoch, _permutation(cfg.seed, epoch, n).to(device)
                idx = perm[pos * batch:(pos + 1) * batch]
                x, y = data.x_train[idx], data.y_train[idx]
                at_boundary = False
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(x), y)
                loss_value = loss.item()
                if not math.isfinite(loss_value):
                    found = first_nonfinite_forward(model, x) or {"layer": "loss", "module": ""}
                    diverged = {"where": "loss" if found["layer"] == "loss" else "forward", **found}
                else:
                    loss.backward()
                    gnorm = nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip or math.inf)
                    if not math.isfinite(float(gnorm)):
                        diverged = {"where": "gradient", **first_nonfinite_gradient(model)}
                if diverged is not None:
                    diverged = {"step": run["step"] + 1, "epoch": epoch + 1, **diverged}
                    at_boundary = True  # nothing was applied
                    break
                opt.step()
                sched.step()
                run["step"] += 1
                run["loss_sum"] += loss_value
                run["loss_batches"] += 1
                at_boundary = True
                bar.update(1)
                bar.set_postfix(loss=f"{loss_value:.4g}", refresh=False)
                stop_early = False
                if run["step"] % steps_per_epoch == 0 or run["step"] == total:
                    stop_early = end_epoch()
                elif store is not None and cfg.checkpoint_every_steps and run["step"] % cfg.checkpoint_every_steps == 0:
                    save()
                if callback is not None:
                    callback({"step": run["step"], "epoch": epoch + 1, "loss": loss_value, "total_steps": total})
                if stop:
                    if store is not None and saved_step != run["step"]:
                        save()
                    stop.raise_now()
                if stop_early:
                    break
    except BaseException:
        # Ctrl-C, SIGTERM or a crash between steps: keep every completed step.
        if store is not None and at_boundary and diverged is None and saved_step != run["step"]:
            save()
        raise
    finally:
        bar.close()

    return _finish(cfg, model, data, task, loss_fn, run, diverged, started, steps_per_epoch, probe_x, probe_y, store)


def _finish(cfg, model, data, task, loss_fn, run, diverged, started, steps_per_epoch, probe_x, probe_y, store) -> TrainResult:
    history = run["history"]
    metrics: dict[str, float] = {
        "train_loss": history[-1]["train_loss"] if history and diverged is None else math.nan,
        **evaluate_splits(cfg, model, data, task),
        "epochs": run["step"] / steps_per_epoch, "steps": float(run["step"]),
        "time_s": time.perf_counter() - started,
        "params": float(sum(p.numel() for p in model.parameters())),
    }
    probes: dict[str, Any] = {}
    if cfg.probes:
        final = run_probes(model, probe_x, probe_y, loss_fn)
        init = run["probes"].get("init", {})
        probes = {"layers": [label for label, _ in named_layers(model)],
                  "grad_norms_init": init.get("grad_norms", {}), "grad_norms_final": final["grad_norms"],
                  **{k: final[k] for k in STATS if k != "grad_norms"},
                  "init": init, "timeline": run["probes"]["timeline"]}
        metrics.update(summarize(final))
    collapsed = None
    if diverged is None:
        classes = data.num_classes if task == "classification" else None
        reason = collapse_reason(metrics, classes)
        if reason is not None:
            collapsed = {"reason": reason, "detail": describe_collapse(reason, metrics, classes), "hint": HINTS[reason]}
    status = "diverged" if diverged is not None else "collapsed" if collapsed is not None else "done"
    result = TrainResult(status=status, metrics=metrics, history=history, diverged=diverged, collapsed=collapsed,
                         probes=jsonable(probes), config=cfg.to_dict(),
                         out_dir=str(store.dir) if store is not None else None)
    if store is not None:
        store.write_result(result.to_dict())
    return result
