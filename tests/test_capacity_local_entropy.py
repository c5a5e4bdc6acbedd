"""The local-entropy estimator around binary solutions: exact counting, incremental fields, the study CLI."""
import itertools
import json
import math

import numpy as np
import pytest
import torch

from actlab.capacity import empirical
from actlab.capacity.dense_regions import deficit_summary, measure_cell, per_instance_deficit
from actlab.capacity.machine import CommitteeMachine, random_problem, random_weights
from actlab.capacity.neighbours import base_fields, solves_after_flips
from actlab.cli import main
from actlab.errors import ActlabError


def _planted(act: str, K: int, N: int, P: int, seed: int, tree: bool = True):
    m = CommitteeMachine(act, K, N, tree=tree)
    g = torch.Generator().manual_seed(seed)
    teacher = random_weights(m, 1, "binary", generator=g)
    return m, random_problem(m, P, 1, teacher=teacher, generator=g), teacher


def _exact_fraction(m, prob, W, k: int) -> float:
    """Enumerate every configuration at Hamming distance k from W: the fraction that solves."""
    flat = W.reshape(-1)
    subsets = list(itertools.combinations(range(flat.numel()), k))
    batch = flat.repeat(len(subsets), 1)
    for r, s in enumerate(subsets):
        batch[r, list(s)] *= -1
    errors = m.errors(prob.patterns, prob.labels, batch.view(1, len(subsets), m.K, m.n))
    return float((errors == 0).double().mean())


@pytest.mark.parametrize("act,K", [("sign", 1), ("relu", 2), ("sign", 3)])
def test_estimator_matches_exact_counting_at_N_12(act, K):
    m, prob, W = _planted(act, K, 12, 5, seed=K)
    ks = [1, 2, 3]
    le = empirical.local_entropy(m, prob, W, [k / 12 for k in ks], samples=6000, seed=1)
    assert le["k"] == ks
    for j, k in enumerate(ks):
        p = _exact_fraction(m, prob, W, k)
        p_hat, n = le["p_hat"][j], le["draws"][j][0]
        assert n == 6000
        assert abs(p_hat - p) <= 4 * math.sqrt(p * (1 - p) / n) + 1e-12, (k, p, p_hat)
        if p > 0:
            lo, hi = le["p_wilson95"][j][0]
            assert lo - 0.01 <= p <= hi + 0.01
            assert le["deficit"][j][0] == pytest.approx(-math.log(p_hat) / 12)
            assert le["S"][j][0] == pytest.approx(le["ball_bound"][j] - le["deficit"][j][0])


def test_stopping_at_a_number_of_hits_and_a_zero_count_gives_a_bound():
    m, prob, W = _planted("sign", 3, 12, 5, seed=3)
    le = empirical.local_entropy(m, prob, W, [1 / 12, 0.5], samples=5000, successes=50, seed=0)
    assert le["hits"][0][0] == 50 and le["draws"][0][0] < 5000
    y = -prob.labels                                     # W misclassifies every pattern: nothing near it solves
    le = empirical.local_entropy(m, type(prob)(prob.patterns, y), W, [1 / 12], samples=300, seed=0)
    assert le["hits"][0] == [0] and math.isnan(le["deficit"][0][0]) and le["local_entropy"][0] == -math.inf
    lo, hi = le["deficit_ci95"][0][0]
    assert 0 < lo < math.inf and hi == math.inf       # the bound −(1/N) ln p_hi


@pytest.mark.parametrize("act,K,tree", [("sign", 1, True), ("relu", 4, True), ("sign", 3, False), ("relu", 2, False)])
def test_incremental_fields_agree_with_a_direct_recomputation(act, K, tree):
    N = 24 if tree else 8
    m, prob, W = _planted(act, K, N, N // 2, seed=7, tree=tree)
    X = prob.patterns[0].double().numpy()
    y = prob.labels[0].double().numpy()
    Wn = W[0].double().numpy()
    c = m.readout(dtype=torch.float64).numpy()
    h = base_fields(X, Wn, tree)
    assert np.array_equal(h, m.fields(prob.patterns, W)[0].double().numpy())
    rng = np.random.default_rng(0)
    outcomes = []
    for _ in range(300):
        k = int(rng.integers(1, 4))
        flips = rng.permutation(m.K * m.n)
        flipped = Wn.copy().reshape(-1)
        flipped[flips[:k]] *= -1
        direct = int(m.errors(prob.patterns, prob.labels, torch.from_numpy(flipped).float().view(1, m.K, m.n))[0]) == 0
        fast = solves_after_flips(X, y, c, Wn, h, rng.permutation(len(y)), flips, k, tree, act == "relu", np.zeros(K))
        assert fast == direct
        outcomes.append(direct)
    assert 0 < sum(outcomes) < len(outcomes)           # both outcomes were exercised


@pytest.mark.parametrize("kwargs", [dict(ds=[1.5]), dict(ds=[]), dict(ds=[0.1], samples=0), dict(ds=[0.1], halve=True)])
def test_bad_input_raises(kwargs):
    m, prob, W = _planted("sign", 3, 12, 5, seed=0)
    if kwargs.pop("halve", False):
        W = W / 2
    with pytest.raises(ActlabError):
        empirical.local_entropy(m, prob, W, **kwargs)
    with pytest.raises(ActlabError):
        measure_cell("tanh", 3, 12, 0.3, "plain", [0.1])


def _cli(capsys, *args):
    code = main(["capacity", "local-entropy", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("args", [["--machines", "relu,tanh"], ["--loads", "1.2"], ["--ds", "0.7"],
                                  ["--solvers", "fbp"], ["--K-relu", "3"], ["--instances", "1"],
                                  ["--theory", "/nonexistent.json"]])
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, capsys, args):
    code, _, err = _cli(capsys, "--out", str(tmp_path / "o"), "--N", "12", *args)
    assert code == 2
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_cli_cells_verdicts_plot_and_resume(tmp_path, capsys):
    theory = tmp_path / "theory.json"
    theory.write_text(json.dumps({"curves": [
        {"kind": "local-entropy", "machine": m, "load": 0.3, "alpha": 0.25, "d": [0.01, 0.1, 0.5],
         "entropy": [0.05, 0.3, None]} for m in ("perceptron", "sign")]}))
    out, png = tmp_path / "o", tmp_path / "f.png"
    args = ["--machines", "perceptron,sign", "--K-sign", "3", "--N", "21", "--instances", "4", "--ds", "0.05,0.1",
            "--samples", "2000", "--successes", "50", "--plain-sweeps", "100", "--replicated-sweeps", "50",
            "--theory", str(theory), "--out", str(out), "--plot", str(png), "--json"]
    code, text, err = _cli(capsys, *args)
    assert code == 0, err
    data = json.loads(text)
    assert data["command"].startswith("actlab capacity local-entropy") and len(data["cells"]) == 4
    cell = data["cells"][0]
    assert cell["N"] == 21 and cell["alpha"] == pytest.approx(round(0.3 * cell["alpha_c_rs_kinf"] * 21) / 21)
    assert [r["d"] for r in cell["deficit"]] == [0.05, 0.1]
    claims = {v["claim"] for v in data["verdicts"]}
    assert "perceptron: replicated denser than plain" in claims and "sign: replicated denser than plain" in claims
    assert all(v["verdict"] in ("reproduced", "contradicted", "inconclusive", "not measured") for v in data["verdicts"])
    assert png.stat().st_size > 0 and (out / "local_entropy_numerics.json").exists()
    stamps = {p.name: p.stat().st_mtime_ns for p in (out / "cells").iterdir()}
    assert len(stamps) == 4
    code, text2, _ = _cli(capsys, *args)                 # rerun: every cell is reused, the summary is the same
    assert code == 0 and {p.name: p.stat().st_mtime_ns for p in (out / "cells").iterdir()} == stamps
    assert json.loads(text2)["cells"] == data["cells"]


def test_deficit_summary_reports_a_bound_when_a_count_is_zero():
    cell = {"entropy": {"d": [0.1], "k": [2], "instances": [0, 1], "hits": [[5, 0]], "draws": [[100, 100]],
                        "deficit": [[0.1, math.nan]], "deficit_ci95": [[[0.08, 0.13], [0.2, math.inf]]]}}
    (row,) = deficit_summary(cell)
    assert row["kind"] == "lower bound" and row["deficit"] == pytest.approx(0.14) and row["hi"] == math.inf


def test_per_instance_deficit_gives_nan_or_the_bound_where_a_count_is_zero():
    cell = {"entropy": {"d": [0.1], "instances": [3, 5], "deficit": [[0.1, math.nan]],
                        "deficit_ci95": [[[0.08, 0.13], [0.2, math.inf]]]}}
    plain = per_instance_deficit(cell, 0.1)
    assert plain[3] == 0.1 and math.isnan(plain[5])
    assert per_instance_deficit(cell, 0.1, bounds=True) == {3: 0.1, 5: 0.2}
    assert per_instance_deficit(cell, 0.2) == {} and per_instance_deficit({}, 0.1) == {}
