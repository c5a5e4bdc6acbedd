"""The `mrepu` task kind: one run of the MRePU suite (Kim & Kang, arXiv 2408.02697).

`part` selects what the run measures:

- kernel: K⁽ˡ⁾ vs depth at initialisation, measured on finite-width random MLPs
  (actlab.theory.finite_width: the median over sampled networks) and predicted by the kernel recursion,
  at C_W = cw_scale × the reference C_W: the critical point where one exists, for RePU
  (no critical point) the C_W that makes K0 its fixed point, K0/⟨σ²⟩_{K0} at C_b = 0.
- phase: one point (C_b, C_W) of the phase diagrams: the behaviour class (vanish /
  stable / explode, see `behaviour`) predicted and measured at every depth up to `depth`,
  and trainability: relative train MSE after `steps` Adam steps on a 2-input regression
  (a network of `train_depth` layers initialised at the same point).
- poly: test MSE on a synthetic target (actlab.data 'poly': xyz, x2y2, deg4, sin); the
  network is initialised by scheme (`init`) or, with C_W set, at the point (C_b, C_W).
- pinn: relative L2 error of a PINN (Adam then L-BFGS) on a PDE of actlab.data.pde.
- vision: test accuracy of an MLP or small ResNet (actlab.train.fit) on an image set.

The three training parts can be tuned (a spec's [tune], docs/protocol.md). Each reports one
error on the splits it evaluates, `val_error` and `test_error`, lower is better:

    poly    relative MSE, MSE / Var(y) of the split
    pinn    relative L2 error ‖u − u_ref‖/‖u_ref‖: validation on `val_points` random interior
            points (seeded apart from the collocation points), test on the evaluation grid
    vision  1 − accuracy

With val_fraction set, poly and vision carve that share of their training examples into a
validation split (actlab.data.dataset.validation_split); a PINN has no training examples to
carve (its training points carry no solution values), so it validates on its own points.
With eval_test = false (a tuning trial) the test split is not evaluated at all. poly and
pinn report the validation error 10 times per run, vision once per epoch, to
`report_epoch` (pruning).

Inputs of the kernel/phase/poly parts are rescaled so that their mean squared coordinate
is q0: the first layer's kernel is then K⁽¹⁾ = C_b + C_W q0. This matters for MRePU,
whose critical point (0, 1) is only marginal (a₁ = 3p(2p−1) > 0): its kernel blows up
near depth 1/(a₁ K⁽¹⁾), so deep MRePU networks need a small K⁽¹⁾ (reconstruction: the
paper's input scaling is not known to us).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from ...errors import ActlabError
from ...experiments.tasks import Field, RunResult, TaskSchema, register_task
from ...experiments.trial import report_epoch

PARTS = ("kernel", "phase", "poly", "pinn", "vision")
BAND = 100.0          # a kernel or backward signal that moves by more than this factor is not "stable"
CLASS_CODE = {"vanish": -1, "stable": 0, "explode": 1}
DEFAULT_K0 = 1e-3     # kernel: the first layer's kernel when the run does not set K0
LOGS = 10             # poly/pinn: validation rows (pruning rungs) per run: every steps/10 (Adam) steps


def behaviour(kernel_ratio: float, grad_ratio: float, band: float = BAND) -> str:
    """'explode', 'vanish' or 'stable' for a layer stack.

    kernel_ratio = K⁽ᴸ⁾/K⁽¹⁾ (forward signal), grad_ratio = Π χ⊥ (backward signal, the
    mean squared gradient at layer 1 over that at layer L). Either leaving [1/band, band]
    (or being non-finite) makes the stack explode or vanish; the forward signal decides
    first, since a diverged forward pass has no meaningful backward one.
    """
    for r in (kernel_ratio, grad_ratio):
        if not r <= band:  # NaN and inf included: an overflowed pass
            return "explode"
        if r < 1.0 / band:
            return "vanish"
    return "stable"


def reference_point(act: str, K0: float) -> tuple[float, float, str]:
    """(C_b, C_W, how) around which the kernel part scans C_W (see module docstring)."""
    from ...theory import critical_init, second_moment

    point = critical_init(act)
    if point.C_W is not None:
        return float(point.C_b), float(point.C_W), f"critical ({point.cls})"
    return 0.0, float(K0 / second_moment(act, K0)), "K0 is the fixed point (no critical point exists)"


# ---------------------------------------------------------------------------- kernel


def run_kernel(config: dict) -> RunResult:
    from ...theory import kernel_trajectory
    from ...theory.finite_width import inputs_with_kernel, measure, random_mlp, sample_kernels

    act, K0, seed = config["act"], config.get("K0", DEFAULT_K0), config.get("seed", 0)
    C_b, C_W_ref, how = reference_point(act, K0)
    C_W = config.get("cw_scale", 1.0) * C_W_ref
    depth, width = config.get("depth", 20), config.get("width", 256)
    pred = kernel_trajectory(act, C_b, C_W, K0, depth - 1)
    samples = sample_kernels(act, C_b, C_W, width, depth - 1, K0, n_nets=config.get("n_nets", 50), seed=seed)
    # The median network: near RePU's unstable fixed point a few networks whose kernel went
    # up dominate the mean (finite-width fluctuations are amplified double-exponentially too).
    with np.errstate(all="ignore"):
        meas, mean = np.median(samples, 0), samples.mean(0)
    grad_pred = float(np.prod(chi_perp(act, pred[:-1], C_W)))
    gen = torch.Generator().manual_seed(seed + 1)
    grads = []
    for _ in range(config.get("n_explicit", 2)):
        m = measure(random_mlp(act, width, depth, C_b, C_W, 32, gen), inputs_with_kernel(2, 32, (K0 - C_b) / C_W, gen),
                    jacobian=False, generator=gen)
        with np.errstate(all="ignore"):
            grads.append(m.grad_sq[0] / m.grad_sq[-1])  # ≈ Π_{l<L} χ⊥(K⁽ˡ⁾): layer L's signal back at layer 1
    grad_meas = float(np.median(grads)) if grads else math.nan
    finite = np.isfinite(pred) & np.isfinite(meas) & (pred > 1e-300) & (pred < 1e250)
    dev = np.abs(meas[finite] / pred[finite] - 1.0)   # where neither under- nor overflowed
    cls_pred = behaviour(float(pred[-1] / K0), grad_pred)
    cls_meas = behaviour(float(meas[-1] / K0), grad_meas)
    metrics = {
        "C_b_used": C_b, "C_W_used": C_W, "log10_K_ratio_pred": _log10(pred[-1] / K0),
        "log10_K_ratio_meas": _log10(meas[-1] / K0), "log10_grad_pred": _log10(grad_pred),
        "log10_grad_meas": _log10(grad_meas), "max_rel_dev": float(dev.max()) if dev.size else math.nan,
        "finite_layers": float(finite.sum()), "class_pred": CLASS_CODE[cls_pred], "class_meas": CLASS_CODE[cls_meas],
        "doubling_depth_pred": _first_depth(pred, 2 * K0, 0.5 * K0),
    }
    extra = {"kernel": {"layers": list(range(1, depth + 1)), "predicted": _jsonable(pred), "measured": _jsonable(meas),
                        "measured_mean": _jsonable(mean), "reference": how}}
    return RunResult(metrics=metrics, extra=extra)


def chi_perp(act: str, kernels: np.ndarray, C_W: float) -> np.ndarray:
    """χ⊥(K) = C_W⟨σ'²⟩_K along a trajectory: 0 at K = 0, inf where K or the expectation overflows."""
    from ...theory import susceptibilities

    out = np.full(len(kernels), math.inf)
    for i, K in enumerate(np.asarray(kernels, dtype=float)):
        if K == 0:
            out[i] = 0.0
        elif math.isfinite(K):
            try:
                out[i] = float(susceptibilities(act, float(K), C_W)[1])
            except ActlabError:  # ⟨σ'²⟩ overflows float64: the kernel has exploded
                pass
    return out


# ---------------------------------------------------------------------------- phase


def run_phase(config: dict) -> RunResult:
    from ...nn import DeepMLP
    from ...theory import kernel_trajectory
    from ...theory.finite_width import inputs_with_kernel, measure, random_mlp
    from ...train.regression import init_gaussian, train_regression

    act, C_b, C_W = config["act"], config.get("C_b", 0.0), config.get("C_W", 1.0)
    depth, width, q0, seed = config.get("depth", 20), config.get("width", 128), config.get("q0", 1e-3), config.get("seed", 0)
    K1 = C_b + C_W * q0
    pred = kernel_trajectory(act, C_b, C_W, K1, depth - 1)
    with np.errstate(all="ignore"):
        grad_pred = np.concatenate([[1.0], np.cumprod(chi_perp(act, pred[:-1], C_W))])  # Π_{k<l} χ⊥, layers 1..L
    gen = torch.Generator().manual_seed(seed)
    stages = random_mlp(act, width, depth, C_b, C_W, in_dim=32, generator=gen)
    x = inputs_with_kernel(16, 32, q0, gen)
    m = measure(stages, x, jacobian=False, generator=gen)
    grad_meas = np.ones(depth)
    for l in range(1, depth):  # the backward signal of the l+1-layer network, from its top layer down to layer 1
        g = measure(stages[:l + 1], x, jacobian=False, generator=gen).grad_sq
        with np.errstate(all="ignore"):
            grad_meas[l] = g[0] / g[-1]
    cls_pred = [behaviour(float(pred[l] / K1), float(grad_pred[l])) for l in range(depth)]
    cls_meas = [behaviour(float(m.kernel[l] / m.kernel[0]) if m.kernel[0] > 0 else math.nan, float(grad_meas[l]))
                for l in range(depth)]

    metrics = {"K1": K1, "class_pred": CLASS_CODE[cls_pred[-1]], "class_meas": CLASS_CODE[cls_meas[-1]],
               "log10_K_ratio_pred": _log10(pred[-1] / K1), "log10_grad_pred": _log10(grad_pred[-1])}
    steps = config.get("steps", 0)
    if steps:
        x_tr, y_tr, x_te, y_te = _regression_data(config.get("target", "x2y2"), config.get("n_train", 256),
                                                  config.get("n_test", 256), q0, seed)
        torch.manual_seed(seed)
        net = init_gaussian(DeepMLP(x_tr.shape[1], 1, depth=config.get("train_depth", depth),
                                    width=config.get("train_width", 32), act=act),
                            C_b, C_W)
        fit = train_regression(net, x_tr, y_tr, x_te, y_te, steps=steps, lr=config.get("lr", 1e-3))
        metrics["final_loss_rel"] = fit["train_mse_rel"] if fit["status"] == "done" else math.inf
        metrics["trainable"] = float(fit["status"] == "done" and fit["train_mse_rel"] < config.get("trainable_below", 0.1))
    extra = {"phase": {"class_pred": [CLASS_CODE[c] for c in cls_pred], "class_meas": [CLASS_CODE[c] for c in cls_meas],
                       "kernel_pred": _jsonable(pred), "kernel_meas": _jsonable(m.kernel)}}
    return RunResult(metrics=metrics, extra=extra)


# ---------------------------------------------------------------------------- poly


def run_poly(config: dict) -> RunResult:
    from ...nn import DeepMLP
    from ...nn.init import init_weights
    from ...train.regression import init_gaussian, train_regression

    act, seed, q0 = config["act"], config.get("seed", 0), config.get("q0", 1.0 / 3.0)
    x_tr, y_tr, x_te, y_te = _regression_data(config.get("target", "xyz"), config.get("n_train", 512),
                                              config.get("n_test", 512), q0, seed)
    x_va = y_va = None
    if config.get("val_fraction") is not None:
        from ...data.dataset import validation_split

        keep, held = validation_split(len(x_tr), config["val_fraction"], seed)
        x_tr, y_tr, x_va, y_va = x_tr[keep], y_tr[keep], x_tr[held], y_tr[held]
    if not config.get("eval_test", True):
        x_te = y_te = None
    torch.manual_seed(seed)
    net = DeepMLP(x_tr.shape[1], 1, depth=config.get("depth", 4), width=config.get("width", 32), act=act)
    if "C_W" in config:  # an explicit point of the (C_b, C_W) plane, as in the phase part
        init = f"gaussian(C_b={config.get('C_b', 0.0):g}, C_W={config['C_W']:g})"
        init_gaussian(net, config.get("C_b", 0.0), config["C_W"])
    else:
        init = config.get("init", "critical")
        try:
            init_weights(net, init, act)
        except ActlabError:
            if init != "critical":
                raise
            init = "xavier"  # RePU has no critical point: fall back (recorded in the artifacts)
            init_weights(net, init, act)
    steps = config.get("steps", 1000)
    fit = train_regression(net, x_tr, y_tr, x_te, y_te, steps=steps, lr=config.get("lr", 1e-3),
                           log_every=max(1, steps // LOGS), x_val=x_va, y_val=y_va,
                           on_log=lambda row: report_epoch(_with_error(row, "val", "val_mse_rel")))
    status = "done" if fit["status"] == "done" else "diverged"
    metrics = {k: fit[k] for k in ("train_mse", "train_mse_rel", "time_s", "test_mse", "test_mse_rel", "val_mse",
                                   "val_mse_rel") if k in fit}
    metrics.update(_errors(metrics, "mse_rel"))
    history = [_with_error(row, "val", "val_mse_rel") for row in fit["history"]]
    return RunResult(status=status, metrics=metrics, history=history,
                     diverged_at={"step": fit["diverged_at"], "layer": "loss"} if status == "diverged" else None,
                     extra={"init_used": init})


def _regression_data(target: str, n_train: int, n_test: int, q0: float, seed: int):
    """actlab.data 'poly' split (float32 tensors), inputs scaled to mean square q0.

    The raw inputs are U[−1, 1]^d (mean square 1/3), so x ↦ x·√(3 q0)."""
    from ...data import load_dataset

    ds = load_dataset("poly", seed=seed, target=target, n_train=n_train, n_test=n_test)
    s = math.sqrt(3.0 * q0)
    return ds.x_train * s, ds.y_train, ds.x_test * s, ds.y_test


def _with_error(row: dict, split: str, key: str) -> dict:
    """The row with `{split}_error` = row[key] added (the part's error; see ERROR)."""
    return {**row, f"{split}_error": row[key]} if key in row else row


def _errors(metrics: dict, suffix: str) -> dict:
    """val_error / test_error from the part's own metric (`val_<suffix>`, `test_<suffix>`) where present."""
    return {f"{split}_error": metrics[f"{split}_{suffix}"] for split in ("val", "test") if f"{split}_{suffix}" in metrics}


# ---------------------------------------------------------------------------- pinn


def run_pinn(config: dict) -> RunResult:
    from ...data.pde import get_pde
    from ...train.pinn import PINNConfig, train_pinn

    keys = ("act", "depth", "width", "init", "n_collocation", "n_condition", "adam_steps", "lr", "lbfgs_steps", "seed",
            "eval_test")
    cfg = PINNConfig(**{k: config[k] for k in keys if k in config},
                     val_points=config.get("val_points", 1024) if config.get("val_fraction") is not None else 0)
    res = train_pinn(get_pde(config.get("pde", "poisson1d")), cfg, log_every=max(1, cfg.adam_steps // LOGS),
                     on_log=lambda row: report_epoch(_with_error(row, "val", "val_rel_l2")))
    metrics = {"pinn_loss": res.loss, "residual_loss": res.residual_loss, "time_s": res.time_s}
    if cfg.eval_test:
        metrics["rel_l2"] = metrics["test_rel_l2"] = res.rel_l2
    if cfg.val_points:
        metrics["val_rel_l2"] = res.val_rel_l2
    metrics.update(_errors(metrics, "rel_l2"))
    history = [{"epoch": i + 1, "pinn_loss": h["loss"], **({"val_error": h["val_rel_l2"]} if "val_rel_l2" in h else {})}
               for i, h in enumerate(res.history)]
    return RunResult(status=res.status, metrics=metrics, history=history,
                     diverged_at={"step": res.diverged_at, "layer": "loss"} if res.status == "diverged" else None)


# ---------------------------------------------------------------------------- vision


def run_vision(config: dict, run_dir: Path) -> RunResult:
    from ...train import TrainConfig, fit

    keys = ("model", "depth", "width", "init", "data", "data_root", "n_train", "n_test", "epochs", "batch_size",
            "lr", "seed", "val_fraction", "eval_test")
    cfg = TrainConfig(act=config["act"], probes=False, checkpoint_every=0, device="cpu",
                      **{k: config[k] for k in keys if k in config})
    res = fit(cfg, out_dir=None, progress=False, on_epoch=lambda row: report_epoch(_accuracy_error(row)))
    metrics = _accuracy_error({k: v for k, v in res.metrics.items() if k.startswith(("val_", "test_"))})
    metrics["time_s"] = res.metrics.get("time_s", math.nan)
    history = [_accuracy_error({"epoch": h["epoch"], **{k: h[k] for k in ("val_acc", "test_acc") if k in h}})
               for h in res.history]
    return RunResult(status=res.status, metrics=metrics, history=history, diverged_at=res.diverged)


def _accuracy_error(row: dict) -> dict:
    """The row with val_error / test_error = 1 − accuracy added where the accuracy is there."""
    return {**row, **{f"{s}_error": 1.0 - row[f"{s}_acc"] for s in ("val", "test") if f"{s}_acc" in row}}


# ---------------------------------------------------------------------------- task


def execute_mrepu(config: dict, run_dir: Path) -> RunResult:
    """One run of the MRePU suite; `part` says which (see module docstring)."""
    torch.set_default_dtype(torch.float32)
    part = config.get("part")
    if part == "vision":
        return run_vision(config, run_dir)
    return {"kernel": run_kernel, "phase": run_phase, "poly": run_poly, "pinn": run_pinn}[part](config)


def _check(config: dict) -> None:
    if config.get("part") not in PARTS:
        raise ActlabError(f"the mrepu task needs part = one of {', '.join(PARTS)}; got {config.get('part')!r}")
    if "act" not in config:
        raise ActlabError("the mrepu task needs act (an activation name or spec string, e.g. \"mrepu(p=3)\")")
    from ...activations import get_activation

    get_activation(config["act"])


MREPU_SCHEMA = TaskSchema(fields={
    "part": Field(str, choices=PARTS, help="which experiment"),
    "act": Field(str, help="activation name or spec string"),
    "seed": Field(int), "depth": Field(int), "width": Field(int),
    "K0": Field(float, help="kernel: first layer's kernel"),
    "cw_scale": Field(float, help="kernel: C_W relative to the reference point"),
    "n_nets": Field(int, help="kernel: networks sampled for the measured kernel"),
    "n_explicit": Field(int, help="kernel: explicit networks for the measured gradients"),
    "C_b": Field(float), "C_W": Field(float),
    "q0": Field(float, help="phase/poly: mean squared input coordinate"),
    "train_width": Field(int, help="phase: width of the trained network"),
    "train_depth": Field(int, help="phase: depth of the trained network (default: depth)"),
    "trainable_below": Field(float, help="phase: relative train MSE under which a point counts as trainable"),
    "target": Field(str, help="phase/poly: poly target (xyz, x2y2, deg4, sin)"),
    "n_train": Field(int), "n_test": Field(int),
    "steps": Field(int, help="phase/poly: full-batch Adam steps"), "lr": Field(float),
    "init": Field(str, help="poly/pinn/vision: init scheme"),
    "pde": Field(str, help="pinn: burgers, poisson1d, poisson2d, heat"),
    "adam_steps": Field(int), "lbfgs_steps": Field(int), "n_collocation": Field(int), "n_condition": Field(int),
    "val_points": Field(int, help="pinn: validation points when val_fraction is set (default 1024)"),
    "val_fraction": Field(float, help="poly/vision: share of the training data held out for validation "
                                      "(pinn: switches its validation points on)"),
    "eval_test": Field(bool, help="poly/pinn/vision: evaluate the test split (false in tuning trials)"),
    "model": Field(str, choices=("mlp", "resnet", "cnn"), help="vision: model kind"),
    "data": Field(str, help="vision: dataset name"), "data_root": Field(str),
    "epochs": Field(int), "batch_size": Field(int),
}, check=_check)


def _log10(x: float) -> float:
    x = float(x)
    if math.isnan(x):
        return math.nan
    if x <= 0:
        return -math.inf
    return math.log10(x) if math.isfinite(x) else math.inf


def _first_depth(traj: np.ndarray, upper: float, lower: float) -> float:
    """First layer index at which the trajectory leaves [lower, upper] (inf if never)."""
    out = np.nonzero(~((traj <= upper) & (traj >= lower)))[0]
    return float(out[0]) if out.size else math.inf


def _jsonable(a) -> list:
    """A float array as a JSON list (inf/nan as None)."""
    return [float(v) if math.isfinite(v) else None for v in np.asarray(a, dtype=float).reshape(-1)]


register_task("mrepu", execute_mrepu, MREPU_SCHEMA, "one run of the MRePU suite (kernel, phase, poly, pinn, vision)")
