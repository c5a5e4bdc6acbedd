"""CIFAR-10 "python version": pickled batches in cifar-10-batches-py/ (Krizhevsky 2009).

Each of data_batch_1..5 and test_batch unpickles to a dict with b"data", a uint8 array
(N, 3072) holding the red, green and blue 32x32 planes of each image, and b"labels",
N ints in 0..9. Unpickling is restricted to numpy arrays and builtin containers so a
foreign pickle cannot run code.
"""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from ..errors import ActlabError

TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_FILE = "test_batch"

_ALLOWED = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("copyreg", "_reconstructor"),
    ("builtins", "object"),
}


class _NumpyOnlyUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in a CIFAR batch")
        if module.startswith("numpy.core.") and hasattr(np, "_core"):  # pickles written by numpy 1.x
            module = "numpy._core." + module.removeprefix("numpy.core.")
        return super().find_class(module, name)


def read_cifar_batch(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """One batch file -> (images uint8 (N, 3, 32, 32), labels int64 (N,))."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            batch = _NumpyOnlyUnpickler(fh, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as exc:
        raise ActlabError(f"{path}: not a CIFAR-10 python batch (corrupt or truncated pickle: {exc})") from None
    if not isinstance(batch, dict):
        raise ActlabError(f"{path}: not a CIFAR-10 python batch (a {type(batch).__name__}, expected a dict)")
    data = batch.get(b"data", batch.get("data"))
    labels = batch.get(b"labels", batch.get("labels"))
    if data is None or labels is None:
        raise ActlabError(f"{path}: not a CIFAR-10 python batch (no 'data' and 'labels' entries)")
    data = np.asarray(data)
    labels = np.asarray(labels, dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(labels) != len(data):
        raise ActlabError(
            f"{path}: malformed CIFAR-10 batch: data {data.dtype} {data.shape}, {len(labels)} labels; "
            "expected uint8 (N, 3072) and N labels"
        )
    return data.reshape(-1, 3, 32, 32), labels
