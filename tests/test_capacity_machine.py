"""Committee machines, solvers, empirical capacity and the CLI (small sizes, fast)."""
import json
import math

import numpy as np
import pytest
import torch

from actlab.capacity import empirical, solvers
from actlab.capacity.machine import CommitteeMachine, random_problem, random_weights
from actlab.cli import main
from actlab.errors import ActlabError


def _brute_force_errors(act, K, tree, X, y, W):
    """Pattern-by-pattern loops over the spec's definition; X (G, P, n), W (K, n)."""
    c = [1.0] * K if act == "sign" else [1.0] * (K // 2) + [-1.0] * (K // 2)
    g = (lambda v: max(v, 0.0)) if act == "relu" else (lambda v: float(np.sign(v)))
    errs = 0
    for mu in range(X.shape[1]):
        total = 0.0
        for l in range(K):
            xi = X[l if tree else 0, mu]
            total += c[l] * g(sum(W[l, i] * xi[i] for i in range(len(xi))) / math.sqrt(len(xi)))
        errs += y[mu] * total <= 0
    return errs


@pytest.mark.parametrize("act,K,tree,weights,patterns", [
    ("relu", 2, True, "binary", "pm1"), ("relu", 4, False, "spherical", "gaussian"),
    ("sign", 3, True, "binary", "pm1"), ("sign", 1, True, "spherical", "pm1"), ("sign", 3, False, "binary", "pm1")])
def test_errors_match_brute_force(act, K, tree, weights, patterns):
    m = CommitteeMachine(act, K, 4 * K if tree else 6, tree=tree)
    g = torch.Generator().manual_seed(0)
    prob = random_problem(m, 7, 3, patterns=patterns, generator=g, dtype=torch.float64)
    W = random_weights(m, 3, weights, generator=g, dtype=torch.float64)
    got = m.errors(prob.patterns, prob.labels, W)
    for b in range(3):
        assert int(got[b]) == _brute_force_errors(act, K, tree, prob.patterns[b].numpy(), prob.labels[b].numpy(),
                                                  W[b].numpy())


def test_ties_are_errors():
    m = CommitteeMachine("relu", 2, 2)
    X = torch.tensor([[[[1.0]], [[1.0]]]])          # both units see +1
    W = torch.tensor([[[1.0], [1.0]]])              # equal fields: output exactly 0
    assert int(m.errors(X, torch.tensor([[1.0]]), W)) == 1
    assert int(m.errors(X, torch.tensor([[-1.0]]), W)) == 1


def test_lp_matches_cover_counting_theorem():
    rng = np.random.default_rng(0)
    N, trials = 5, 150
    for P in (8, 10, 13):
        hits = sum(solvers.lp_feasible(rng.standard_normal((P, N)), rng.choice([-1.0, 1.0], P))
                   for _ in range(trials))
        p = empirical.cover_probability(P, N)
        assert abs(hits / trials - p) < 4 * math.sqrt(p * (1 - p) / trials) + 0.02
    assert empirical.cover_probability(10, 5) == pytest.approx(0.5)


@pytest.mark.parametrize("act,K,N,weights,solver", [("relu", 2, 12, "spherical", "gd"),
                                                    ("sign", 3, 15, "binary", "anneal"),
                                                    ("relu", 2, 12, "binary", "replicated")])
def test_solver_finds_planted_solution(act, K, N, weights, solver):
    m = CommitteeMachine(act, K, N)
    g = torch.Generator().manual_seed(1)
    teacher = random_weights(m, 4, weights, generator=g)
    prob = random_problem(m, int(1.5 * m.N), 4, teacher=teacher, generator=g)
    assert int(m.errors(prob.patterns, prob.labels, teacher).sum()) == 0
    opts = {"sweeps": 300} if solver == "anneal" else {"max_steps": 600}
    res = solvers.solve(m, prob, weights, solver, **opts)
    assert res.solved.float().mean() >= 0.75
    assert int(m.errors(prob.patterns, prob.labels, res.weights)[res.solved].sum()) == 0
    if weights == "binary":
        assert bool((res.weights.abs() == 1).all())


def test_alpha_at_half_recovers_a_logistic_threshold():
    alphas = np.linspace(0.5, 1.5, 11)
    rng = np.random.default_rng(0)
    solved = rng.binomial(400, 1 / (1 + np.exp((alphas - 1.0) / 0.1)))
    value, (lo, hi) = empirical.alpha_at_half(alphas, solved, 400, bootstrap=50)
    assert lo <= value <= hi and abs(value - 1.0) < 0.03


def test_perturbations_and_local_entropy_shapes():
    m = CommitteeMachine("sign", 1, 21)
    g = torch.Generator().manual_seed(2)
    teacher = random_weights(m, 2, "binary", generator=g)
    prob = random_problem(m, 10, 2, teacher=teacher, generator=g)
    curve = empirical.weight_perturbation(m, prob, teacher, "binary", [0.0, 0.2], trials=8)
    assert curve["train_error"][0] == 0 and curve["still_solution"][0] == 1
    le = empirical.local_entropy(m, prob, teacher, [1 / 21, 0.1], samples=64)
    assert all(s <= b + 1e-12 for s, b in zip(le["local_entropy"], le["ball_bound"]))
    noise = empirical.input_noise(m, prob, teacher, [0.0, 0.3], trials=2)
    assert noise["train_error"][0] == 0


@pytest.mark.parametrize("argv", [
    ["capacity", "theory", "--act", "tanh", "--K", "3"],
    ["capacity", "theory", "--act", "relu", "--K", "3"],
    ["capacity", "theory", "--act", "relu", "--K", "zero"],
    ["capacity", "simulate", "--act", "relu", "--K", "4", "--N", "10", "--alphas", "0.5"],
    ["capacity", "simulate", "--act", "sign", "--K", "3", "--N", "9", "--alphas", "x"],
    ["capacity", "simulate", "--act", "sign", "--K", "3", "--N", "9", "--alphas", "0.5", "--solver", "lp"],
    ["capacity", "theory", "--act", "relu", "--K", "4", "--points", "1"],
    ["capacity", "simulate", "--act", "sign", "--K", "1", "--N", "9", "--alphas", "0.5", "--weights", "binary",
     "--solver", "anneal", "--replicas", "3"],
    ["capacity", "simulate", "--act", "sign", "--K", "1", "--N", "9", "--alphas", "0.5", "--weights", "binary",
     "--solver", "anneal", "--beta", "1"],
    ["capacity", "table", "--out", "unused_dir", "--relu-K", "3"],
    ["capacity", "simulate", "--act", "sign", "--K", "1", "--N", "9", "--alphas", "0.5", "--reference"],
    ["capacity", "simulate", "--act", "sign", "--K", "1", "--N", "41", "--alphas", "0.5", "--weights", "binary",
     "--solver", "exact"],
    ["capacity", "table", "--out", "unused_dir", "--sign-K", "1,x"],
    ["capacity", "theory", "--act", "sign", "--K", "4", "--weights", "binary"],
    ["capacity", "theory", "--act", "relu", "--K", "4", "--weights", "binary"],
    ["capacity", "table", "--out", "unused_dir", "--binary-K", "3,6"],
    ["capacity", "table", "--out", "unused_dir", "--binary-K", "3,1001"],
])
def test_cli_bad_input_exits_2(argv, capsys):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse rejects bad choices itself, with the same one-line contract
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "error:" in err[0]


def test_cli_theory_and_simulate_json(capsys, tmp_path):
    assert main(["capacity", "theory", "--act", "relu", "--K", "inf", "--json"]) == 0
    assert '"value": 2.93' in capsys.readouterr().out
    plot = tmp_path / "p.png"
    assert main(["capacity", "simulate", "--act", "sign", "--K", "1", "--weights", "spherical", "--N", "8",
                 "--alphas", "1,3", "--instances", "8", "--solver", "lp", "--bootstrap", "10", "--json",
                 "--plot", str(plot)]) == 0
    assert '"solved"' in capsys.readouterr().out and plot.stat().st_size > 0


def test_cli_reference_is_exact_on_the_same_instances(capsys, tmp_path):
    plot = tmp_path / "ref.png"
    assert main(["capacity", "simulate", "--act", "sign", "--K", "1", "--weights", "binary", "--N", "11",
                 "--alphas", "0.5,1.5", "--instances", "8", "--solver", "anneal", "--sweeps", "30", "--beta", "0.5,4",
                 "--reference", "--bootstrap", "10",
                 "--json", "--plot", str(plot)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["reference"]["solver"] == "exact" and plot.stat().st_size > 0
    assert all(s <= r for s, r in zip(data["solved"], data["reference"]["solved"]))


def test_cli_table_writes_csv_figure_and_command(capsys, tmp_path):
    out = tmp_path / "tbl"
    assert main(["capacity", "table", "--out", str(out), "--relu-K", "2,4", "--sign-K", "1,3", "--binary-K", "3", "--points",
                 "256", "--scrambles", "4", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    rows = {(r["activation"], r["weights"], r["ansatz"], str(r["K"])): float(r["alpha_c"]) for r in data["rows"]}
    assert rows[("relu", "spherical", "rs", "2")] == 4 / 3 and rows[("sign", "spherical", "rs", "1")] == 2.0
    binary = [rows[("sign", "binary", "rs", K)] for K in ("1", "3", "inf")]
    assert binary == sorted(binary)
    assert (out / "fig_alpha_c.png").stat().st_size > 0
    assert "--relu-K 2,4" in json.loads((out / "meta.json").read_text())["command"]
    assert (out / "theory_alpha_c.csv").read_text().count("\n") == len(data["rows"]) + 1


def test_lp_decides_every_instance_at_the_critical_load_N200():
    """Regression: the free-w feasibility LP ended with HiGHS status 15 on ~half these instances."""
    m = CommitteeMachine("sign", 1, 200)
    prob = random_problem(m, 400, 10, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    res = solvers.solve(m, prob, "spherical", "lp")
    assert 0 < int(res.solved.sum()) < 10          # both answers occur at α = 2 (P(solvable) = ½ for Gaussian data)
    X, y = prob.patterns[:, 0].numpy(), prob.labels.numpy()
    for b in range(10):
        kappa, w = solvers.lp_margin(X[b], y[b])
        assert (kappa > 0) == bool(res.solved[b])
        if kappa > 0:
            assert (y[b] * (X[b] @ w)).min() > 0


@pytest.mark.parametrize("act,K,N,tree", [("sign", 1, 31, True), ("relu", 4, 24, True), ("sign", 3, 7, False)])
def test_anneal_tracks_errors_exactly_and_is_reproducible(act, K, N, tree):
    m = CommitteeMachine(act, K, N, tree=tree)
    prob = random_problem(m, 2 * N, 5, generator=torch.Generator().manual_seed(4))   # too many patterns: unsolved
    res = solvers.anneal(m, prob, sweeps=20, beta=(0.5, 2.0), seed=3)
    assert torch.equal(m.errors(prob.patterns, prob.labels, res.weights), res.errors)
    assert bool((res.errors > 0).all()) and bool((res.steps == 20 * K * m.n).all())
    again = solvers.anneal(m, prob, sweeps=20, beta=(0.5, 2.0), seed=3)
    assert torch.equal(again.weights, res.weights)
    with pytest.raises(ActlabError):
        solvers.anneal(m, random_problem(m, 3, 1, patterns="gaussian"), sweeps=1)
