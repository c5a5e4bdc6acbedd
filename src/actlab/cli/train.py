"""`actlab train`: train one model, print a summary, write metrics (JSON/CSV) and plots."""
from __future__ import annotations

import re
from pathlib import Path

from ..errors import ActlabError
from .output import emit

# flag → TrainConfig key, for the flags whose value goes straight into the config
_VALUE_FLAGS = {
    "model": str, "depth": int, "width": int, "act": str, "norm": str, "norm_position": str, "init": str, "data": str,
    "data_root": str, "n_train": int, "n_test": int, "epochs": int, "steps": int, "batch_size": int,
    "lr": float, "optimizer": str, "schedule": str, "weight_decay": float, "momentum": float,
    "grad_clip": float, "seed": int, "device": str, "probe_every": int, "checkpoint_every": int,
    "checkpoint_every_steps": int,
}


def add_commands(sub) -> None:
    from ..nn.factory import MODELS
    from ..train.config import OPTIMIZERS, SCHEDULES

    p = sub.add_parser("train", help="train one model on one data set",
                       description="Train one model, print a summary, write metrics (JSON/CSV), "
                                   "curves and the per-layer gradient-norm profile to --out.")
    p.add_argument("--model", choices=MODELS, help="model family (default mlp)")
    p.add_argument("--depth", type=int, help="hidden layers / blocks (default 4)")
    p.add_argument("--width", type=int, help="units / channels / embedding size (default 128)")
    p.add_argument("--act", help="activation name or spec, e.g. 'zorro(a=1.5)' (default: the model's own; "
                   "radial_bounding for zplane, gelu for vit, relu otherwise)")
    p.add_argument("--norm", help="none, layernorm or batchnorm (default: the model's own; none for mlp)")
    p.add_argument("--norm-position", dest="norm_position", choices=("post", "pre"),
                   help="mlp, resmlp: the norm after each linear map (post) or on each layer's input (pre)")
    p.add_argument("--residual", action="store_true", help="identity skips around hidden layers")
    p.add_argument("--init", help="default (torch's own), kaiming, xavier, orthogonal, critical or "
                                  "'gaussian(c_w=C_W, c_b=C_b)' (default: the model's own; orthogonal for zplane, "
                                  "default otherwise)")
    p.add_argument("--group-size", dest="group_size", help="zplane: Radial Bounding group size, or 'none' for the whole vector")
    p.add_argument("--complex-weights", dest="complex_weights", action="store_true", help="zplane: complex-structured weights")
    p.add_argument("--data", help="dataset name or spec (default digits)")
    p.add_argument("--data-root", "--data-dir", dest="data_root", metavar="DIR",
                   help="directory of the data set's files (default: $ACTLAB_DATA, then the system's)")
    p.add_argument("--n-train", dest="n_train", type=int, help="random training subset size")
    p.add_argument("--n-test", dest="n_test", type=int, help="random test subset size")
    p.add_argument("--epochs", type=int, help="epochs (default 10)")
    p.add_argument("--steps", type=int, help="cap on optimiser steps")
    p.add_argument("--batch-size", dest="batch_size", type=int, help="batch size (default 128)")
    p.add_argument("--lr", type=float, help="learning rate (default 1e-3)")
    p.add_argument("--optimizer", choices=OPTIMIZERS, help="default adam")
    p.add_argument("--schedule", choices=SCHEDULES, help="default constant")
    p.add_argument("--weight-decay", dest="weight_decay", type=float)
    p.add_argument("--momentum", type=float, help="sgd momentum (default 0.9)")
    p.add_argument("--grad-clip", dest="grad_clip", type=float, help="clip the global gradient norm")
    p.add_argument("--seed", type=int, help="default 0")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), help="default auto")
    p.add_argument("--probe-every", dest="probe_every", type=int, help="epochs between probes (0: init and end only)")
    p.add_argument("--no-probes", dest="probes", action="store_false", default=None, help="skip the diagnostics")
    p.add_argument("--checkpoint-every", dest="checkpoint_every", type=int, help="epochs between checkpoints (default 1)")
    p.add_argument("--checkpoint-every-steps", dest="checkpoint_every_steps", type=int, help="also every N steps")
    p.add_argument("--threads", type=int, help="torch CPU threads")
    p.add_argument("--out", help="run directory (default runs/train/MODEL-ACT-dDEPTH-wWIDTH-sSEED)")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --out from its last checkpoint (begins it if it never started)")
    p.add_argument("--no-plots", dest="plots", action="store_false", help="do not write PNG figures")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run_train)


def _config_dict(args) -> dict:
    d = {k: getattr(args, k) for k in _VALUE_FLAGS if getattr(args, k) is not None}
    for flag in ("residual", "complex_weights"):
        if getattr(args, flag):
            d[flag] = True
    if args.probes is False:
        d["probes"] = False
    if args.group_size is not None:
        g = args.group_size.strip().lower()
        if g in ("none", "all", "vector"):
            d["group_size"] = None
        elif g.isdigit():
            d["group_size"] = int(g)
        else:
            raise ActlabError(f"--group-size must be a positive integer or 'none', got {args.group_size!r}")
    return d


def _out_dir(args, cfg) -> Path:
    if args.out:
        return Path(args.out)
    name = re.sub(r"[^A-Za-z0-9_.=-]+", "_", f"{cfg.model}-{cfg.act}-d{cfg.depth}-w{cfg.width}-s{cfg.seed}")
    base = Path("runs") / "train" / name
    if args.resume:
        return base
    path, i = base, 1
    while path.exists() and any(path.iterdir()):
        i += 1
        path = base.with_name(f"{name}-{i}")
    return path


def run_train(args) -> int:
    import torch

    from ..train import TrainConfig, fit
    from ..train.plots import plot_run

    cfg = TrainConfig.from_dict(_config_dict(args))
    cfg.check_buildable()
    if args.threads:
        torch.set_num_threads(args.threads)
    out = _out_dir(args, cfg)
    result = fit(cfg, out_dir=out, progress=not args.json, resume=args.resume)
    figures = [str(p) for p in plot_run(result, out)] if args.plots else []
    data = {**result.to_dict(), "figures": figures}
    data.pop("probes")  # the full probes are in result.json; the summary keeps the scalars
    emit(args, data, _summary(result, out, figures))
    return 0


def _summary(result, out: Path, figures: list[str]) -> str:
    m, cfg = result.metrics, result.config
    norm = f"{cfg['norm']} ({cfg['norm_position']})" if cfg["norm"] else "none"
    lines = [f"{cfg['model']} depth {cfg['depth']} width {cfg['width']} act {cfg['act']} norm {norm} "
             f"init {cfg['init']} on {cfg['data']}: {result.status}"]
    if result.diverged:
        d = result.diverged
        lines.append(f"  diverged at step {d['step']} (epoch {d['epoch']}): non-finite {d['where']} "
                     f"first in {d['layer']}" + (f" ({d['module']})" if d.get("module") else ""))
    if result.collapsed:
        lines.append(f"  collapsed ({result.collapsed['reason']}): {result.collapsed['detail']}; "
                     f"{result.collapsed['hint']}")
    score = "".join(f"{split} {kind} {m[f'{split}_{kind}']:.4g}  {split} loss {m[f'{split}_loss']:.4g}  "
                    for split in ("val", "test") for kind in ("acc", "mse") if f"{split}_{kind}" in m)
    lines.append(f"  {score}train loss {m['train_loss']:.4g}  "
                 f"({m['epochs']:.3g} epochs, {int(m['steps'])} steps, {m['time_s']:.1f} s)")
    probes = result.probes
    if probes.get("grad_norms_init"):
        gi, gf = list(probes["grad_norms_init"].values()), list(probes["grad_norms_final"].values())
        names = list(probes["grad_norms_init"])  # the model's own labels: "layer 1", or "embed" / "stem" first
        last = -2 if len(gi) > 1 else 0          # the last entry is the readout
        lines.append(f"  grad norm {names[0]} → {names[last]}: init {_fmt(gi[0])} → {_fmt(gi[last])}, "
                     f"end {_fmt(gf[0])} → {_fmt(gf[last])}")
        for key, how in (("max_activation", "largest over layers"), ("dead_fraction", "mean over layers"),
                         ("saturation_fraction", "mean over layers"), ("effective_rank", "mean over layers")):
            if key in m:
                lines.append(f"  {key.replace('_', ' ')} ({how}): {m[key]:.4g}")
    lines.append(f"  files: {out}/ (metrics.json, metrics.csv, result.json{''.join(', ' + Path(f).name for f in figures)})")
    return "\n".join(lines)


def _fmt(v) -> str:
    return "n/a" if v is None else f"{v:.3g}"
