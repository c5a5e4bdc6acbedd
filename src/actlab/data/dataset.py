"""The Dataset every loader returns: tensors, task metadata, the normalisation applied."""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from ..errors import ActlabError


@dataclass(frozen=True)
class RawSplit:
    """What a loader produces before subsetting and normalisation (numpy arrays).

    x arrays are divided by `scale` when converted to float32 (255 for uint8 images).
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    task: str
    num_classes: int | None
    source: str
    scale: float = 1.0


@dataclass
class Dataset:
    """Train, validation and test tensors of one dataset.

    x_val / y_val: a validation split carved out of the training data (None when
    none was asked for; see `build_dataset`); x_train then holds the rest.
    x: float32 (N, *input_shape). y: int64 (N,) class labels for classification,
    float32 (N, 1) targets for regression. When `mean`/`std` are set the inputs
    were standardised as x = (x_raw - mean) / std with statistics of the train split
    (per channel for images, per feature for vectors); x_raw = x * std + mean.
    """

    name: str
    task: str
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    num_classes: int | None
    input_shape: tuple[int, ...]
    mean: torch.Tensor | None = None
    std: torch.Tensor | None = None
    source: str = ""
    x_val: torch.Tensor | None = None
    y_val: torch.Tensor | None = None

    @property
    def n_train(self) -> int:
        return len(self.x_train)

    @property
    def n_val(self) -> int:
        return 0 if self.x_val is None else len(self.x_val)

    @property
    def n_test(self) -> int:
        return len(self.x_test)

    @property
    def input_dim(self) -> int:
        """Number of input features once flattened (for MLPs)."""
        return int(np.prod(self.input_shape))

    @property
    def output_dim(self) -> int:
        """Number of outputs a model needs: classes, or target columns."""
        return self.num_classes if self.task == "classification" else int(self.y_train.shape[1])

    def loader(
        self, split: str = "train", batch_size: int = 128, shuffle: bool | None = None, seed: int = 0,
        drop_last: bool = False,
    ) -> DataLoader:
        """A DataLoader over one split ("train", "val" or "test"); shuffled (seeded) for train unless told otherwise."""
        if split not in ("train", "val", "test"):
            raise ActlabError(f"split must be 'train', 'val' or 'test', got {split!r}")
        if split == "val" and self.x_val is None:
            raise ActlabError(f"{self.name} has no validation split; load it with val_fraction=...")
        x, y = {"train": (self.x_train, self.y_train), "val": (self.x_val, self.y_val),
                "test": (self.x_test, self.y_test)}[split]
        shuffle = split == "train" if shuffle is None else shuffle
        return DataLoader(
            TensorDataset(x, y), batch_size=batch_size, shuffle=shuffle, drop_last=drop_last,
            generator=torch.Generator().manual_seed(seed) if shuffle else None,
        )

    def to(self, device: str | torch.device) -> "Dataset":
        """A copy with every tensor on `device` (whole datasets here fit in memory)."""
        move = lambda t: None if t is None else t.to(device)  # noqa: E731
        return replace(
            self, x_train=move(self.x_train), y_train=move(self.y_train), x_test=move(self.x_test),
            y_test=move(self.y_test), mean=move(self.mean), std=move(self.std), x_val=move(self.x_val),
            y_val=move(self.y_val),
        )

    def __repr__(self) -> str:
        kind = f"{self.num_classes} classes" if self.task == "classification" else "regression"
        val = f", val={self.n_val}" if self.x_val is not None else ""
        return (f"Dataset({self.name!r}, {kind}, input_shape={self.input_shape}, "
                f"train={self.n_train}{val}, test={self.n_test})")


def _pick(n_wanted: int | None, n: int, rng: np.random.Generator, split: str, name: str) -> np.ndarray | None:
    if n_wanted is None or n_wanted == n:
        return None
    if not isinstance(n_wanted, (int, np.integer)) or not 0 < n_wanted <= n:
        raise ActlabError(f"{name}: subset {split} size must be an integer in 1..{n}, got {n_wanted!r}")
    return np.sort(rng.choice(n, size=int(n_wanted), replace=False))


def validation_split(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train indices, validation indices) of n training examples: a seeded draw of
    round(fraction·n) examples (at least 1, at most n - 1) for validation, both sorted.

    The draw is a function of (n, fraction, seed) only, so every run with the same
    data and seed sees the same split, whatever else its configuration says.
    """
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0 < fraction < 1:
        raise ActlabError(f"val_fraction must be a number in (0, 1); got {fraction!r}")
    if n < 2:
        raise ActlabError(f"a validation split needs at least 2 training examples; got {n}")
    n_val = min(n - 1, max(1, round(fraction * n)))
    order = np.random.default_rng([seed, 0x5A1]).permutation(n)  # a stream of its own: subsets are unaffected
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def build_dataset(
    name: str, raw: RawSplit, seed: int = 0, subset: tuple[int | None, int | None] | None = None,
    normalize: bool = True, val_fraction: float | None = None,
) -> Dataset:
    """Subset (seeded, without replacement), carve the validation split, convert to tensors
    and standardise on the remaining training examples.

    val_fraction: move this fraction of the (subset) training split into x_val / y_val
        (`validation_split`); the test split is never touched. Normalisation statistics
        come from the remaining training examples only.
    """
    x_train, y_train, x_test, y_test = raw.x_train, raw.y_train, raw.x_test, raw.y_test
    if subset is not None:
        if len(subset) != 2:
            raise ActlabError(f"{name}: subset is (n_train, n_test), got {subset!r}")
        rng = np.random.default_rng(seed)
        idx = _pick(subset[0], len(x_train), rng, "train", name)
        if idx is not None:
            x_train, y_train = x_train[idx], y_train[idx]
        idx = _pick(subset[1], len(x_test), rng, "test", name)
        if idx is not None:
            x_test, y_test = x_test[idx], y_test[idx]
    x_val = y_val = None
    if val_fraction is not None:
        keep, held = validation_split(len(x_train), val_fraction, seed)
        x_val, y_val = x_train[held], y_train[held]
        x_train, y_train = x_train[keep], y_train[keep]

    def inputs(x: np.ndarray) -> torch.Tensor:
        t = torch.from_numpy(np.array(x, dtype=np.float32))  # a copy: the steps below work in place
        return t.div_(raw.scale) if raw.scale != 1.0 else t

    def targets(y: np.ndarray) -> torch.Tensor:
        if raw.task == "classification":
            return torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64))
        return torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32)).reshape(len(y), -1)

    xt, xs = inputs(x_train), inputs(x_test)
    xv = inputs(x_val) if x_val is not None else None
    mean = std = None
    if normalize:
        # Statistics over every axis but the channel/feature axis 1.
        axes = [0, *range(2, xt.ndim)]
        mean = xt.mean(dim=axes, keepdim=True)[0]
        std = xt.std(dim=axes, keepdim=True)[0].clamp_min(1e-8)
        xt, xs = xt.sub_(mean).div_(std), xs.sub_(mean).div_(std)
        if xv is not None:
            xv = xv.sub_(mean).div_(std)
    return Dataset(
        name=name, task=raw.task, x_train=xt, y_train=targets(y_train), x_test=xs, y_test=targets(y_test),
        num_classes=raw.num_classes, input_shape=tuple(xt.shape[1:]), mean=mean, std=std, source=raw.source,
        x_val=xv, y_val=targets(y_val) if y_val is not None else None,
    )
