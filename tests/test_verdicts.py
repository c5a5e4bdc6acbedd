"""Statistics over seeds and the verdict rules, on synthetic data: every branch."""
import math

import pandas as pd
import pytest
from scipy import stats as sps

from actlab.errors import ActlabError
from actlab.experiments.report import build_report
from actlab.experiments.stats import difference, t_interval
from actlab.experiments.verdicts import claim_row, final_values, judge


def test_t_interval_matches_scipy():
    xs = [0.91, 0.93, 0.92, 0.95, 0.90]
    ci = t_interval(xs)
    lo, hi = sps.t.interval(0.95, len(xs) - 1, loc=sum(xs) / 5, scale=sps.sem(xs))
    assert (ci.lo, ci.hi) == (pytest.approx(lo), pytest.approx(hi))
    assert ci.std == pytest.approx(pd.Series(xs).std()) and ci.n == 5
    assert "[" in ci.fmt()


def test_t_interval_of_one_or_no_value_has_no_bounds():
    one, none = t_interval([0.5, float("nan")]), t_interval([])
    assert one.n == 1 and one.mean == 0.5 and math.isnan(one.lo) and one.fmt() == "0.5"
    assert none.n == 0 and none.fmt() == "–"


def test_difference_is_paired_over_common_seeds_else_welch():
    a = {0: 0.90, 1: 0.92, 2: 0.95}
    b = {0: 0.80, 1: 0.83, 2: 0.84}
    paired = difference(a, b)
    ref = sps.ttest_rel(list(a.values()), list(b.values())).confidence_interval(0.95)
    assert paired.paired and (paired.lo, paired.hi) == (pytest.approx(ref.low), pytest.approx(ref.high))
    welch = difference(a, {3: 0.80, 4: 0.83, 5: 0.84})
    ref = sps.ttest_ind(list(a.values()), [0.80, 0.83, 0.84], equal_var=False).confidence_interval(0.95)
    assert not welch.paired and (welch.lo, welch.hi) == (pytest.approx(ref.low), pytest.approx(ref.high))


def test_reproduced_when_the_interval_lies_on_the_claimed_side():
    v = judge({0: 0.90, 1: 0.92, 2: 0.95, 3: 0.93}, {0: 0.80, 1: 0.83, 2: 0.84, 3: 0.82})
    assert v.verdict == "reproduced" and v.diff.lo > 0
    assert "n = 4 paired seeds" in v.cell() and "[+" in v.cell()


def test_contradicted_when_the_interval_lies_on_the_other_side():
    v = judge({0: 0.80, 1: 0.83, 2: 0.84}, {0: 0.90, 1: 0.92, 2: 0.95}, ">")
    assert v.verdict == "contradicted" and v.diff.hi < 0


def test_inconclusive_when_the_interval_straddles_zero():
    v = judge({0: 0.90, 1: 0.80, 2: 0.86}, {0: 0.85, 1: 0.84, 2: 0.86})
    assert v.verdict == "inconclusive" and v.diff.lo < 0 < v.diff.hi and "straddles" in v.why


def test_inconclusive_when_the_halves_of_the_seeds_disagree():
    # a clear mean gap carried by the second half; the first half's difference has the other sign
    a = {0: 0.700, 1: 0.710, 2: 0.720, 3: 0.730, 4: 0.99, 5: 0.99, 6: 0.99, 7: 0.99}
    b = {0: 0.702, 1: 0.712, 2: 0.722, 3: 0.732, 4: 0.59, 5: 0.59, 6: 0.59, 7: 0.59}
    full = difference(a, b)
    assert full.lo > 0  # the interval alone would say "reproduced"
    v = judge(a, b)
    assert v.verdict == "inconclusive" and "halves" in v.why
    assert v.halves[0] < 0 < v.halves[1]


def test_inconclusive_with_fewer_than_two_seeds():
    v = judge({0: 0.99}, {0: 0.10})
    assert v.verdict == "inconclusive" and "fewer than two seeds" in v.why and "no interval" in v.cell()


def test_claim_less_than_and_margin():
    a, b = {0: 0.10, 1: 0.12, 2: 0.11}, {0: 0.30, 1: 0.31, 2: 0.33}
    assert judge(a, b, "<").verdict == "reproduced"
    assert judge(b, a, "<").verdict == "contradicted"
    # A beats B by about 0.2: by more than 0.1 -> reproduced; by more than 0.5 -> contradicted
    assert judge(b, a, ">", margin=0.1).verdict == "reproduced"
    assert judge(b, a, ">", margin=0.5).verdict == "contradicted"
    with pytest.raises(ActlabError, match="'A > B' or 'A < B'"):
        judge(a, b, ">=")


def test_unpaired_seeds_use_welch_and_still_judge():
    v = judge({0: 0.90, 1: 0.92, 2: 0.95}, {5: 0.50, 6: 0.52, 7: 0.51})
    assert v.verdict == "reproduced" and not v.diff.paired and "Welch" in v.cell()


def _finals_frame():
    rows = []
    for arm, act, base in (("a1", "rb", 0.9), ("a2", "relu", 0.8)):
        for seed in range(3):
            rows.append({"id": f"{arm}{seed}", "status": "done", "phase": "final", "arm": arm, "act": act,
                         "seed": seed, "test_acc": base + 0.01 * seed})
        rows.append({"id": f"{arm}t", "status": "done", "phase": "trial", "arm": arm, "act": act, "seed": 0,
                     "test_acc": float("nan")})
    return pd.DataFrame(rows)


def test_final_values_selects_one_arm():
    df = _finals_frame()
    assert final_values(df, "test_acc", act="rb") == {0: 0.9, 1: pytest.approx(0.91), 2: pytest.approx(0.92)}
    with pytest.raises(ActlabError, match="2 arms"):
        final_values(df, "test_acc")
    with pytest.raises(ActlabError, match="no arm"):
        final_values(df, "test_acc", act="tanh")
    row = claim_row("RB beats ReLU", "Fig. 1", final_values(df, "test_acc", act="rb"),
                    final_values(df, "test_acc", act="relu"))
    assert row["verdict"] == "reproduced" and "95 % CI" in row["measured"] and "n = 3" in row["measured"]


def test_report_accepts_the_new_verdicts(tmp_path):
    from actlab.experiments import parse_spec, run_sweep

    run_sweep(parse_spec('task = "toy"\n[sweep]\nseed = [0, 1]\n'), out=tmp_path, workers=0, progress=False)
    claims = [{"claim": c, "paper": "-", "measured": "-", "command": "", "verdict": c}
              for c in ("reproduced", "contradicted", "inconclusive")]
    text = build_report(tmp_path, claims=claims).read_text()
    assert "**contradicted**" in text and "**inconclusive**" in text
