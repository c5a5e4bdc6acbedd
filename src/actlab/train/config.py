"""TrainConfig: everything one training run depends on, validated, JSON-able."""
from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass, fields
from typing import Any, Optional

from ..activations import get_activation
from ..data.registry import dataset_input_shape
from ..errors import ActlabError
from ..nn.factory import MODELS, build_model, resolve_model_settings
from ..nn.init import check_init
from ..nn.layers import NORM_POSITIONS, NORMS

OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("constant", "cosine")
DEVICES = ("auto", "cpu", "cuda")


@dataclass
class TrainConfig:
    """One training run.

    model: one of mlp, zplane, resmlp, cnn, resnet, vit (see actlab.nn.build_model for what
        depth and width mean for each).
    act, init, norm, norm_position: activation name or spec string; init scheme name ("default"
        is torch's own initialisation for every model; "gaussian(c_w=2.0, c_b=0.05)" draws
        W ~ N(0, C_W/fan_in), b ~ N(0, C_b), see actlab.nn.init); None, "layernorm" or "batchnorm"; "post"
        or "pre". Each left unset (None) is the model's own default (actlab.nn.MODEL_DEFAULTS,
        e.g. orthogonal init for zplane), resolved here, so that the config records what runs.
    residual: identity skips (mlp, zplane).
    group_size, complex_weights: the zplane model's Radial Bounding groups (2 or None
        for the whole vector) and complex-structured weights.
    data: dataset name or spec (actlab.data.load_dataset); data_root: its files' directory.
    n_train, n_test: random subset sizes (None: the whole split).
    val_fraction: carve this fraction of the training examples into a seeded validation
        split (actlab.data.dataset.validation_split; the draw depends on data and seed
        only); training uses the rest and every epoch records val_loss / val_acc (or
        val_mse). None: no validation split.
    eval_test: evaluate on the test split (per epoch and at the end). A tuning trial
        sets it false, so that selection never sees the test set.
    epochs: passes over the training set; steps: optional cap on optimiser steps.
    batch_size, lr, optimizer, momentum (sgd), weight_decay, schedule (per step),
    grad_clip (max global gradient norm, None for none), seed, device.
    probes: run the diagnostics at init, every `probe_every` epochs (0: only at init and
        end) and at the end, on the first `probe_batch` training examples.
    checkpoint_every: epochs between checkpoints (0: none); checkpoint_every_steps: also
        every this many steps (0: off). Checkpoints need an out_dir.
    """

    model: str = "mlp"
    depth: int = 4
    width: int = 128
    act: Optional[str] = None
    norm: Optional[str] = None
    norm_position: Optional[str] = None
    residual: bool = False
    init: Optional[str] = None
    group_size: Optional[int] = 2
    complex_weights: bool = False
    data: str = "digits"
    data_root: Optional[str] = None
    n_train: Optional[int] = None
    n_test: Optional[int] = None
    val_fraction: Optional[float] = None
    eval_test: bool = True
    epochs: int = 10
    steps: Optional[int] = None
    batch_size: int = 128
    lr: float = 1e-3
    optimizer: str = "adam"
    momentum: float = 0.9
    weight_decay: float = 0.0
    schedule: str = "constant"
    grad_clip: Optional[float] = None
    seed: int = 0
    device: str = "auto"
    probes: bool = True
    probe_every: int = 1
    probe_batch: int = 256
    checkpoint_every: int = 1
    checkpoint_every_steps: int = 0

    def __post_init__(self) -> None:
        self.validate()

    @classmethod
    def allowed_keys(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainConfig":
        """Build from a plain dict (a TOML table, JSON); unknown keys are an ActlabError."""
        if not isinstance(d, dict):
            raise ActlabError(f"a training config is a table of key = value, got {type(d).__name__}")
        unknown = sorted(set(d) - set(cls.allowed_keys()))
        if unknown:
            raise ActlabError(f"unknown training key(s) {', '.join(unknown)}; allowed: {', '.join(cls.allowed_keys())}")
        return cls(**d)

    def check_buildable(self) -> None:
        """Raise the ActlabError a run of this config would hit after loading its data, without
        loading it: the activation spec and its parameters, the dataset's name and options, and
        the model's options (the model is built once per distinct shape, at depth 1: every
        error is already in one block, and one block costs milliseconds)."""
        shape = dataset_input_shape(self.data)
        _check_model(self.model, shape, self.width, self.act, self.norm, self.norm_position, self.residual,
                     self.group_size, self.complex_weights)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def replace(self, **changes: Any) -> "TrainConfig":
        return dataclasses.replace(self, **changes)

    def validate(self) -> None:
        """Coerce the values a user may write loosely ("none", 1e3 for an int) and check them all."""
        if isinstance(self.norm, str) and self.norm.lower() in ("none", ""):
            self.norm = None
        if isinstance(self.group_size, str) and self.group_size.lower() in ("none", "all", "vector"):
            self.group_size = None
        if self.init is not None:
            self.init = check_init(self.init)  # a name, or gaussian(c_w=…, c_b=…)
        for key, allowed in (("model", MODELS), ("optimizer", OPTIMIZERS),
                             ("schedule", SCHEDULES), ("device", DEVICES), ("norm_position", NORM_POSITIONS)):
            value = getattr(self, key)
            if value is None and key == "norm_position":
                continue  # the model's default, resolved below
            if not isinstance(value, str) or value.lower() not in allowed:
                raise ActlabError(f"{key} must be one of {', '.join(allowed)}; got {value!r}")
            setattr(self, key, value.lower())
        if self.norm is not None and (not isinstance(self.norm, str) or self.norm.lower() not in NORMS):
            raise ActlabError(f"norm must be none, {', '.join(NORMS)}; got {self.norm!r}")
        self.norm = self.norm.lower() if self.norm else None
        if isinstance(self.act, str) and self.act.strip().lower() in ("none", "default", ""):
            self.act = None
        for key in (("act", "data") if self.act is not None else ("data",)):
            if not isinstance(getattr(self, key), str) or not getattr(self, key).strip():
                raise ActlabError(f"{key} must be a non-empty name or spec string; got {getattr(self, key)!r}")
        for key in ("depth", "width", "epochs", "batch_size", "probe_batch"):
            setattr(self, key, _int(key, getattr(self, key), 1))
        for key in ("seed", "probe_every", "checkpoint_every", "checkpoint_every_steps"):
            setattr(self, key, _int(key, getattr(self, key), 0))
        for key in ("n_train", "n_test", "steps"):
            if getattr(self, key) is not None:
                setattr(self, key, _int(key, getattr(self, key), 1))
        if self.group_size is not None:
            self.group_size = _int("group_size", self.group_size, 1)
        self.lr = _float("lr", self.lr, positive=True)
        self.momentum = _float("momentum", self.momentum)
        self.weight_decay = _float("weight_decay", self.weight_decay)
        if self.grad_clip is not None:
            self.grad_clip = _float("grad_clip", self.grad_clip, positive=True)
        if self.val_fraction is not None:
            self.val_fraction = _float("val_fraction", self.val_fraction, positive=True)
            if self.val_fraction >= 1:
                raise ActlabError(f"val_fraction must be in (0, 1); got {self.val_fraction!r}")
        for key in ("residual", "complex_weights", "probes", "eval_test"):
            if not isinstance(getattr(self, key), bool):
                raise ActlabError(f"{key} must be true or false; got {getattr(self, key)!r}")
        if self.data_root is not None and not isinstance(self.data_root, str):
            self.data_root = str(self.data_root)
        resolved = resolve_model_settings(self.model, self.act, self.init, self.norm, self.norm_position,
                                          self.residual, self.complex_weights)
        for key, value in resolved.items():
            setattr(self, key, value)


@functools.lru_cache(maxsize=256)
def _check_model(model: str, shape: tuple, width: int, act: Optional[str], norm: Optional[str],
                 norm_position: Optional[str], residual: bool, group_size: Optional[int],
                 complex_weights: bool) -> None:
    if act is not None:
        get_activation(act)
    # init "xavier": no QR decomposition (orthogonal) for a check; the scheme's name is checked by validate
    build_model(model, shape, 2, depth=1, width=width, act=act, norm=norm, norm_position=norm_position,
                residual=residual, init="xavier", group_size=group_size, complex_weights=complex_weights)


def _int(key: str, value: Any, lower: int) -> int:
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and float(value).is_integer()
    if not ok or value < lower:
        raise ActlabError(f"{key} must be an integer >= {lower}; got {value!r}")
    return int(value)


def _float(key: str, value: Any, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value < 0 or (positive and value == 0):
        raise ActlabError(f"{key} must be a finite number {'> 0' if positive else '>= 0'}; got {value!r}")
    return float(value)
