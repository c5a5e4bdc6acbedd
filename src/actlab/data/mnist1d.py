"""MNIST-1D, procedurally generated: ten 1-D digit templates under random transforms.

Reconstruction of the idea of Greydanus (2020), "Scaling down deep learning": a small
1-D classification set that, unlike 2-D MNIST, separates architectures (MLPs vs CNNs).
The templates and the exact transform parameters below are actlab's own; the
original's hand-drawn templates, transform order and padding scheme differ.

Each sample of class c, on a circular grid u_j = j / length, j = 0..length-1:

    w     = template_len / (template_len + pad) * scale,  pad ~ U{36..60}, scale ~ U[1 - 0.4, 1 + 0.4]
    v_j   = ((u_j - start) mod 1) / w,                   start = 1/2 - w/2 + U[-shift/2, shift/2]
    s_j   = T_c(v_j) if v_j < 1 else 0                   (T_c linearly interpolated, peak 1)
          + shear * (u_j - 1/2)                           shear ~ U[-0.5, 0.5]
          + corr_noise * g_j + iid_noise * e_j

with g the white noise e' smoothed by a circular Gaussian of width 2 samples and
rescaled to unit standard deviation, e, e' ~ N(0, 1); corr_noise = 0.1, iid_noise = 0.02,
shift = 0.5. Labels are balanced. With these defaults (seed 0, 4,000/1,000) logistic
regression on the raw signals scores ~0.19 and 5-nearest-neighbours ~0.59 (chance 0.1):
a linear model fails where a nonlinear one starts to work.
"""
from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from ..errors import ActlabError
from .dataset import RawSplit

TEMPLATES = np.array(
    [
        [5, 6, 6, 5, 3, 1, 1, 3, 5, 6, 6, 5],  # 0: a loop seen edge-on
        [0, 0, 1, 6, 6, 6, 6, 6, 6, 1, 0, 0],  # 1: one plateau
        [6, 6, 5, 4, 3, 2, 1, 0, 0, 3, 6, 6],  # 2: ramp down, then a step up
        [0, 3, 6, 3, 0, 3, 6, 3, 0, 3, 6, 3],  # 3: three peaks
        [0, 0, 6, 6, 0, 0, 0, 6, 6, 6, 0, 0],  # 4: two blocks
        [6, 6, 6, 6, 0, 0, 0, 3, 6, 3, 0, 0],  # 5: a block, then a peak
        [0, 1, 2, 3, 4, 5, 6, 6, 3, 0, 3, 6],  # 6: ramp up, then a V
        [6, 6, 6, 6, 6, 6, 5, 4, 3, 2, 1, 0],  # 7: plateau, then ramp down
        [3, 6, 3, 0, 3, 6, 6, 3, 0, 3, 6, 3],  # 8: peak, wide peak, peak
        [3, 6, 6, 3, 0, 0, 0, 0, 0, 0, 6, 6],  # 9: a peak, a gap, a step
    ],
    dtype=np.float64,
) / 6.0


def generate_mnist1d(
    n: int, seed: int = 0, length: int = 40, pad: tuple[int, int] = (36, 60), scale_coeff: float = 0.4,
    shear_scale: float = 0.5, corr_noise: float = 0.1, iid_noise: float = 0.02, shift: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """n signals (n, length) float32 and their labels (n,) int64, deterministic in seed."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % 10)
    template_len = TEMPLATES.shape[1]
    width = template_len / (template_len + rng.integers(pad[0], pad[1] + 1, n)) * rng.uniform(
        1 - scale_coeff, 1 + scale_coeff, n
    )
    start = 0.5 - width / 2 + rng.uniform(-shift / 2, shift / 2, n)
    u = np.arange(length) / length
    v = np.mod(u[None, :] - start[:, None], 1.0) / width[:, None]
    inside = v < 1
    pos = np.clip(v, 0, 1) * (template_len - 1)
    lo = np.minimum(pos.astype(np.int64), template_len - 2)
    frac = pos - lo
    rows = TEMPLATES[labels]
    shape = (1 - frac) * np.take_along_axis(rows, lo, 1) + frac * np.take_along_axis(rows, lo + 1, 1)
    signal = np.where(inside, shape, 0.0)
    signal += rng.uniform(-shear_scale, shear_scale, n)[:, None] * (u[None, :] - 0.5)
    smooth = gaussian_filter1d(rng.standard_normal((n, length)), sigma=2.0, axis=1, mode="wrap")
    signal += corr_noise * smooth / smooth.std()
    signal += iid_noise * rng.standard_normal((n, length))
    return signal.astype(np.float32), labels.astype(np.int64)


def mnist1d(seed: int = 0, n_train: int = 4000, n_test: int = 1000, length: int = 40) -> RawSplit:
    """MNIST-1D train/test (4,000 / 1,000 signals of length 40 by default, as in the original)."""
    if n_train < 1 or n_test < 1 or length < 8:
        raise ActlabError(f"mnist1d: need n_train, n_test >= 1 and length >= 8, got {n_train}, {n_test}, {length}")
    x, y = generate_mnist1d(n_train + n_test, seed=seed, length=length)
    x = x[:, None, :]
    return RawSplit(x[:n_train], y[:n_train], x[n_train:], y[n_train:], "classification", 10,
                    source=f"generated (mnist1d, seed={seed})")
