"""Means, standard deviations and Student-t 95 % intervals over seeds, and of differences between arms.

    mean ± t_{0.975, n-1} · s / √n,         s the sample std (ddof = 1)

A difference between two arms is paired when both ran the same seeds (each seed
fixes the data split and batch order, so seed s of arm A and seed s of arm B
share their randomness): the interval is the t-interval of the per-seed
differences. Otherwise it is Welch's: se² = s_a²/n_a + s_b²/n_b, with the
Welch–Satterthwaite degrees of freedom. With fewer than two values an interval
is undefined (NaN bounds).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

LEVEL = 0.95


@dataclass(frozen=True)
class Interval:
    mean: float
    std: float      # sample std (ddof = 1); NaN for n < 2
    lo: float
    hi: float
    n: int
    paired: bool = False

    def fmt(self, digits: int = 3) -> str:
        """'0.912 [0.901, 0.923]' (the bounds left out when undefined)."""
        if not math.isfinite(self.mean):
            return "–"
        if not (math.isfinite(self.lo) and math.isfinite(self.hi)):
            return f"{self.mean:.{digits}g}"
        return f"{self.mean:.{digits}g} [{self.lo:.{digits}g}, {self.hi:.{digits}g}]"


def _t(df: float) -> float:
    from scipy.stats import t

    return float(t.ppf(0.5 + LEVEL / 2, df))


def _clean(values: Sequence[float]) -> list:
    return [float(v) for v in values if v is not None and math.isfinite(float(v))]


def t_interval(values: Sequence[float]) -> Interval:
    """The mean of `values` (non-finite ones dropped) with its 95 % t-interval."""
    xs = _clean(values)
    n = len(xs)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, math.nan, 0)
    mean = sum(xs) / n
    if n < 2:
        return Interval(mean, math.nan, math.nan, math.nan, 1)
    std = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1))
    half = _t(n - 1) * std / math.sqrt(n)
    return Interval(mean, std, mean - half, mean + half, n)


def difference(a: Mapping, b: Mapping) -> Interval:
    """The 95 % interval of mean(a) - mean(b); a, b map seed -> value (non-finite values dropped).

    Paired over seeds when both hold the same seeds (>= 2 of them), else Welch's.
    """
    a = {k: float(v) for k, v in a.items() if v is not None and math.isfinite(float(v))}
    b = {k: float(v) for k, v in b.items() if v is not None and math.isfinite(float(v))}
    if a and set(a) == set(b) and len(a) >= 2:
        d = t_interval([a[k] - b[k] for k in sorted(a)])
        return Interval(d.mean, d.std, d.lo, d.hi, d.n, paired=True)
    ia, ib = t_interval(list(a.values())), t_interval(list(b.values()))
    mean = ia.mean - ib.mean
    n = min(ia.n, ib.n)
    if n < 2:
        return Interval(mean, math.nan, math.nan, math.nan, n)
    va, vb = ia.std ** 2 / ia.n, ib.std ** 2 / ib.n
    se = math.sqrt(va + vb)
    if se == 0:
        return Interval(mean, 0.0, mean, mean, n)
    df = (va + vb) ** 2 / (va ** 2 / (ia.n - 1) + vb ** 2 / (ib.n - 1))
    half = _t(df) * se
    return Interval(mean, se, mean - half, mean + half, n)
