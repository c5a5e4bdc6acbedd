"""Verdict rules: when a claim "A beats B" counts as reproduced, contradicted or inconclusive.

A claim compares two arms on a test metric of their finals (one value per seed):
"A > B" (or "A < B") by more than `margin` (default 0). With d = mean(A) - mean(B)
and [lo, hi] its 95 % interval (actlab.experiments.stats.difference: paired over
seeds when both arms ran the same seeds, else Welch):

    claim A > B + margin:  reproduced   when lo > margin   (the interval lies on the claimed side)
                           contradicted when hi < margin   (it lies on the other side)
                           inconclusive otherwise
    claim A < B - margin:  the mirror image (reproduced when hi < -margin, contradicted when lo > -margin)

and, seeds split in two halves (sorted; the first ⌊n/2⌋ and the rest): a verdict
that is not "inconclusive" becomes "inconclusive" when the mean difference of
either half lies on the other side of the margin — the claim then flips between
seeds. Fewer than two seeds per arm: "inconclusive" (no interval).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

from ..errors import ActlabError
from .stats import Interval, difference

VERDICTS = ("reproduced", "contradicted", "inconclusive")
CLAIMS = (">", "<")


@dataclass(frozen=True)
class Verdict:
    verdict: str
    diff: Interval          # mean(A) - mean(B) with its 95 % interval
    halves: tuple           # the mean difference in each half of the seeds
    claim: str
    margin: float
    why: str                # one line: why this verdict

    def cell(self, digits: int = 3) -> str:
        """What a claims table shows: the difference, its interval, the seeds, the verdict."""
        kind = "paired seeds" if self.diff.paired else "seeds per arm (Welch)"
        bounds = (f" [{self.diff.lo:+.{digits}g}, {self.diff.hi:+.{digits}g}]"
                  if math.isfinite(self.diff.lo) else " (no interval)")
        mean = f"{self.diff.mean:+.{digits}g}" if math.isfinite(self.diff.mean) else "–"
        return f"Δ = {mean}{bounds}, 95 % CI, n = {self.diff.n} {kind}"


def judge(a: Mapping, b: Mapping, claim: str = ">", margin: float = 0.0) -> Verdict:
    """The verdict on "A `claim` B" from per-seed values (seed -> value) of the two arms."""
    if claim not in CLAIMS:
        raise ActlabError(f"a claim is 'A > B' or 'A < B'; got {claim!r}")
    diff = difference(a, b)
    sign = 1.0 if claim == ">" else -1.0
    threshold = sign * margin  # the difference the claim must clear
    halves = _halves(a, b)
    if not (math.isfinite(diff.lo) and math.isfinite(diff.hi)):
        return Verdict("inconclusive", diff, halves, claim, margin,
                       "fewer than two seeds per arm: no interval")
    claimed = diff.lo > threshold if sign > 0 else diff.hi < threshold
    other = diff.hi < threshold if sign > 0 else diff.lo > threshold
    if not (claimed or other):
        return Verdict("inconclusive", diff, halves, claim, margin, "the 95 % interval straddles the margin")
    verdict = "reproduced" if claimed else "contradicted"
    side = 1.0 if (diff.mean > threshold) else -1.0
    if any(not math.isfinite(h) or (h - threshold) * side <= 0 for h in halves):
        return Verdict("inconclusive", diff, halves, claim, margin,
                       f"would be {verdict}, but the two halves of the seeds disagree "
                       f"(mean differences {', '.join(f'{h:+.3g}' for h in halves)})")
    return Verdict(verdict, diff, halves, claim, margin,
                   "the 95 % interval lies on the claimed side" if claimed else
                   "the 95 % interval lies on the other side")


def _halves(a: Mapping, b: Mapping) -> tuple:
    """Mean difference in the first and second half of the seeds (common seeds when paired)."""
    def split(values: Mapping) -> tuple:
        keys = sorted(k for k, v in values.items() if v is not None and math.isfinite(float(v)))
        return keys[:len(keys) // 2], keys[len(keys) // 2:]

    common = {k: a[k] for k in a if k in b}
    if set(common) == set(a) == set(b):
        first, second = split(common)
        return tuple(_mean([a[k] - b[k] for k in part]) for part in (first, second))
    (a1, a2), (b1, b2) = split(a), split(b)
    return (_mean([a[k] for k in a1]) - _mean([b[k] for k in b1]),
            _mean([a[k] for k in a2]) - _mean([b[k] for k in b2]))


def _mean(xs: list) -> float:
    return sum(xs) / len(xs) if xs else math.nan


def finals_by_arm(df, metric: str) -> dict:
    """arm id -> {seed: `metric`} over the finished finals of a tuned run directory (load(run_dir))."""
    if "phase" not in df.columns:
        return {}
    finals = df[(df["phase"] == "final") & ~df["status"].isin(["pending", "running", "failed"])]
    out: dict = {}
    for _, r in finals.iterrows():
        if metric in r and r[metric] == r[metric]:  # not NaN
            out.setdefault(r["arm"], {})[int(r["seed"])] = float(r[metric])
    return out


def pick_arm(df, arms, metric: str = "val_acc", direction: str = "maximize"):
    """Of `arms` (ids), the one whose finals have the best mean validation `metric`, or None.

    For choosing among arms of one family (e.g. a model's initialisations) without
    looking at the test set: the finals' validation values are on the validation split.
    """
    values = finals_by_arm(df, metric)
    means = {a: sum(values[a].values()) / len(values[a]) for a in arms if values.get(a)}
    if not means:
        return None
    sign = 1.0 if direction == "maximize" else -1.0
    return max(means, key=lambda a: sign * means[a])


def final_values(df, metric: str, **where) -> dict:
    """seed -> `metric` of the finals of the one arm whose configuration matches `where`
    (in `actlab.experiments.load(run_dir)`); finished finals only (diverged ones count,
    with their metric where it is finite). Raises when `where` matches no arm or several."""
    finals = df[df["phase"] == "final"] if "phase" in df.columns else df.iloc[0:0]
    for key, value in where.items():
        if key not in finals.columns:
            raise ActlabError(f"no configuration key '{key}' in this run directory's finals")
        finals = finals[finals[key].isna()] if value is None else finals[finals[key] == value]
    arms = finals["arm"].unique() if len(finals) else []
    if len(arms) != 1:
        found = "no arm" if not len(arms) else f"{len(arms)} arms"
        raise ActlabError(f"{found} of the finals match {where}; name one arm")
    finished = finals[~finals["status"].isin(["pending", "running", "failed"])]
    return {int(r["seed"]): float(r[metric]) for _, r in finished.iterrows() if metric in r}


def claim_row(claim: str, paper: str, a: Mapping, b: Mapping, sense: str = ">", margin: float = 0.0) -> dict:
    """A claims-table row whose verdict comes from `judge`; `measured` shows the interval and the seeds."""
    v = judge(a, b, sense, margin)
    return {"claim": claim, "paper": paper, "measured": f"{v.cell()}; {v.why}", "verdict": v.verdict}
