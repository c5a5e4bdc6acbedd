"""Synthetic regression: smooth targets of a few inputs drawn uniformly in a box.

Targets (x_i are the input coordinates):
    xyz   x0 x1 x2                                        (3 inputs)
    x2y2  x0² + x1²                                       (2 inputs)
    deg4  x0⁴ − x1² x2² + x0 x1 x2 x3 + x3² − x0 x1       (4 inputs, degree 4)
    sin   sin(π x0) cos(π x1)                             (2 inputs, not a polynomial)
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..errors import ActlabError
from .dataset import RawSplit

TARGETS: dict[str, tuple[int, Callable[[np.ndarray], np.ndarray]]] = {
    "xyz": (3, lambda x: x[:, 0] * x[:, 1] * x[:, 2]),
    "x2y2": (2, lambda x: x[:, 0] ** 2 + x[:, 1] ** 2),
    "deg4": (4, lambda x: x[:, 0] ** 4 - x[:, 1] ** 2 * x[:, 2] ** 2 + x[:, 0] * x[:, 1] * x[:, 2] * x[:, 3]
             + x[:, 3] ** 2 - x[:, 0] * x[:, 1]),
    "sin": (2, lambda x: np.sin(np.pi * x[:, 0]) * np.cos(np.pi * x[:, 1])),
}


def target_function(target: str) -> Callable[[np.ndarray], np.ndarray]:
    """The function f: (N, d) -> (N,) behind a synthetic target."""
    if target not in TARGETS:
        raise ActlabError(f"poly: unknown target {target!r}; allowed: {', '.join(TARGETS)}")
    return TARGETS[target][1]


def poly(
    seed: int = 0, target: str = "xyz", n_train: int = 1000, n_test: int = 1000, low: float = -1.0,
    high: float = 1.0, noise: float = 0.0,
) -> RawSplit:
    """Inputs ~ U[low, high]^d, y = f(x) (+ N(0, noise²) on the train targets only)."""
    f = target_function(target)
    if n_train < 1 or n_test < 1 or not low < high or noise < 0:
        raise ActlabError(f"poly: need n_train, n_test >= 1, low < high, noise >= 0; "
                          f"got {n_train}, {n_test}, {low}, {high}, {noise}")
    dim = TARGETS[target][0]
    rng = np.random.default_rng(seed)
    x = rng.uniform(low, high, (n_train + n_test, dim))
    y = f(x)
    y[:n_train] += noise * rng.standard_normal(n_train)
    x, y = x.astype(np.float32), y.astype(np.float32)[:, None]
    return RawSplit(x[:n_train], y[:n_train], x[n_train:], y[n_train:], "regression", None,
                    source=f"generated (poly target={target}, seed={seed})")
