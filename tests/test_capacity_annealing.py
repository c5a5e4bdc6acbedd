"""Plain and replicated (robust-ensemble) annealing: exact bookkeeping, the sampled measure, determinism per seed,
the exact-enumeration reference and the CLI."""
import itertools
import json
import math

import numpy as np
import pytest
import torch

from actlab.capacity import empirical, solvers
from actlab.capacity.annealing import LINEAR, anneal_instance, replicated_anneal_instance
from actlab.capacity.machine import CommitteeMachine, random_problem
from actlab.cli import main
from actlab.errors import ActlabError


@pytest.mark.parametrize("energy", ["errors", "hinge"])
@pytest.mark.parametrize("act,K,N,tree", [("sign", 1, 31, True), ("relu", 4, 24, True), ("sign", 3, 7, False)])
def test_replicated_anneal_tracks_errors_exactly_and_is_deterministic_per_seed(act, K, N, tree, energy):
    m = CommitteeMachine(act, K, N, tree=tree)
    prob = random_problem(m, 4 * N, 4, generator=torch.Generator().manual_seed(4))   # too many patterns: unsolved
    run = dict(replicas=3, sweeps=15, beta=(0.5, 2.0), gamma=(0.1, 1.0), energy=energy)
    res = solvers.replicated_anneal(m, prob, seed=3, **run)
    assert torch.equal(m.errors(prob.patterns, prob.labels, res.weights), res.errors)
    assert bool((res.errors > 0).all()) and bool((res.steps == 15 * 3 * K * m.n).all())
    assert bool((res.weights.abs() == 1).all())
    again = solvers.replicated_anneal(m, prob, seed=3, **run)
    assert torch.equal(again.weights, res.weights) and torch.equal(again.steps, res.steps)
    other = solvers.replicated_anneal(m, prob, seed=4, **run)
    assert not torch.equal(other.weights, res.weights)
    plain = solvers.anneal(m, prob, sweeps=15, beta=(0.5, 2.0), energy=energy, seed=3)
    assert torch.equal(m.errors(prob.patterns, prob.labels, plain.weights), plain.errors)


def _tiny_unsolvable():
    """Perceptron N = 3 with a contradictory pair of patterns (never solved, so the chain never stops)."""
    rng = np.random.default_rng(0)
    X = np.vstack([2 * rng.integers(0, 2, (5, 3)) - 1, np.ones((1, 3)), -np.ones((1, 3))]).astype(np.int64)
    y = np.r_[2 * rng.integers(0, 2, 5) - 1, 1, 1].astype(np.int64)
    return np.ascontiguousarray(X.T[None]), y, np.ones(1, dtype=np.int64)


def _hinge(X, y, w):
    return int(np.maximum(0, 1 - y * (X @ w)).sum())


@pytest.mark.parametrize("beta,gamma", [(0.7, 0.4), (0.3, 1.2)])
def test_replicated_chain_samples_the_robust_ensemble(beta, gamma):
    """At fixed β, γ the chain's states follow P ∝ Π_a e^{−β E(W^a)} Π_i 2cosh(γ m_i): means of Σ_a E_a and
    Σ_i m_i² from many short independent chains match the exact averages over all 2^(3·3) states."""
    XT, y, c = _tiny_unsolvable()
    X = XT[0].T
    R, n = 3, 3
    configs = [np.array(s).reshape(R, n) for s in itertools.product([-1, 1], repeat=R * n)]
    weights, e_sum, m2 = [], [], []
    for W in configs:
        mm = W.sum(0)
        e = sum(_hinge(X, y, W[a]) for a in range(R))
        weights.append(math.exp(-beta * e) * np.prod(2 * np.cosh(gamma * mm)))
        e_sum.append(e)
        m2.append(int((mm ** 2).sum()))
    p = np.array(weights) / sum(weights)
    exact = (p @ e_sum, p @ m2)
    rng = np.random.default_rng(1)
    samples = []
    best = np.empty((1, n), dtype=np.int64)
    for seed in range(2000):
        W = rng.choice([-1, 1], (R, 1, n)).astype(np.int64)
        err, _ = replicated_anneal_instance(XT, y, c, W, True, LINEAR, True, 30, beta, beta, gamma, gamma, seed, best, False)
        assert err > 0
        samples.append((sum(_hinge(X, y, W[a, 0]) for a in range(R)), int((W[:, 0].sum(0) ** 2).sum())))
    samples = np.array(samples, dtype=float)
    for k in range(2):
        se = samples[:, k].std() / math.sqrt(len(samples))
        assert abs(samples[:, k].mean() - exact[k]) < 4 * se + 1e-9


def test_plain_chain_samples_the_boltzmann_measure():
    XT, y, c = _tiny_unsolvable()
    X = XT[0].T
    beta = 0.6
    configs = [np.array(s) for s in itertools.product([-1, 1], repeat=3)]
    e = np.array([_hinge(X, y, w) for w in configs])
    p = np.exp(-beta * e) / np.exp(-beta * e).sum()
    rng = np.random.default_rng(2)
    got = []
    for seed in range(2000):
        W = rng.choice([-1, 1], (1, 3)).astype(np.int64)
        anneal_instance(XT, y, c, W, True, LINEAR, True, 30, beta, beta, seed)
        got.append(_hinge(X, y, W[0]))
    se = np.std(got) / math.sqrt(len(got))
    assert abs(np.mean(got) - p @ e) < 4 * se


@pytest.mark.parametrize("act,K,N", [("sign", 1, 21), ("sign", 3, 21), ("relu", 4, 24)])
def test_replicated_anneal_against_exact_enumeration(act, K, N):
    """Never solves an instance that has no solution, and finds one on nearly every instance that has one
    at a moderate load (the ground truth from `count_solutions` on the same instances)."""
    m = CommitteeMachine(act, K, N)
    prob = random_problem(m, round(0.5 * N) if act == "sign" else round(0.35 * N), 24,
                          generator=torch.Generator().manual_seed(11))
    exact = solvers.solve(m, prob, "binary", "exact")
    res = solvers.solve(m, prob, "binary", "replicated-anneal", sweeps=300, seed=1)
    assert not bool((res.solved & ~exact.solved).any())
    assert int(res.solved.sum()) >= int(exact.solved.sum()) - 1 and int(exact.solved.sum()) >= 12


def test_replicated_anneal_refuses_bad_input():
    m = CommitteeMachine("sign", 1, 9)
    prob = random_problem(m, 3, 1)
    for bad in (dict(replicas=4), dict(replicas=1), dict(gamma=(0.0, 1.0)), dict(sweeps=0), dict(energy="mse")):
        with pytest.raises(ActlabError):
            solvers.replicated_anneal(m, prob, **bad)
    with pytest.raises(ActlabError):
        solvers.replicated_anneal(m, prob, "spherical")
    with pytest.raises(ActlabError):
        solvers.replicated_anneal(m, random_problem(m, 3, 1, patterns="gaussian"))


@pytest.mark.parametrize("extra", [["--solver", "replicated-anneal", "--replicas", "4"],
                                   ["--solver", "replicated-anneal", "--gamma", "1"],
                                   ["--solver", "replicated-anneal", "--max-steps", "10"],
                                   ["--solver", "gd", "--energy", "hinge"],
                                   ["--solver", "anneal", "--gamma", "0.1,1"]])
def test_cli_replicated_anneal_bad_input_exits_2(extra, capsys):
    argv = ["capacity", "simulate", "--act", "sign", "--K", "1", "--N", "9", "--alphas", "0.5", "--weights",
            "binary"] + extra
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "error:" in err[0]


def test_cli_replicated_anneal_with_reference(capsys):
    assert main(["capacity", "simulate", "--act", "sign", "--K", "3", "--weights", "binary", "--N", "15",
                 "--alphas", "0.4,1.2", "--instances", "8", "--solver", "replicated-anneal", "--sweeps", "100",
                 "--beta", "0.2,5", "--gamma", "0.05,3", "--replicas", "3", "--energy", "hinge", "--reference",
                 "--bootstrap", "10", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["solver"] == "replicated-anneal"
    assert all(s <= r for s, r in zip(data["solved"], data["reference"]["solved"]))
    assert data["solved"][0] == data["reference"]["solved"][0]


def test_extrapolate_threshold_recovers_a_planted_law():
    Ns = [101, 201, 401, 1001]
    values = [0.7 - 1.2 / math.sqrt(n) for n in Ns]
    fit = empirical.extrapolate_threshold(Ns, values, [(v - 0.02, v + 0.02) for v in values])
    assert fit["alpha_inf"] == pytest.approx(0.7, abs=1e-9) and fit["slope"] == pytest.approx(-1.2, abs=1e-7)
    lo, hi = fit["alpha_inf_ci95"]
    assert lo < 0.7 < hi and fit["dof"] == 2
    with pytest.raises(ActlabError):
        empirical.extrapolate_threshold(Ns[:3], [values[0], math.nan, values[2]], [(0, 1)] * 3)


def _cell(N, solver, alpha_half, options):
    return {"activation": "sign", "K": 1, "weights": "binary", "N": N, "solver": solver, "alphas": [0.5],
            "solved": [4], "instances": 8, "alpha_half": alpha_half,
            "alpha_half_ci95": [alpha_half - 0.03, alpha_half + 0.03], "seconds": 1.0, "solver_options": options}


def test_cli_extrapolate_groups_cells_by_solver_and_writes_table_and_figure(tmp_path, capsys):
    cells = tmp_path / "cells"
    cells.mkdir()
    for N in (101, 201, 401):
        plain = _cell(N, "anneal", 0.5 - 1.0 / math.sqrt(N), {"energy": "hinge", "sweeps": 30})
        plain["reference"] = dict(_cell(N, "exact", 0.83, None), solver_options=None)
        (cells / f"plain_{N}.json").write_text(json.dumps(plain))
        (cells / f"repl_{N}.json").write_text(json.dumps(_cell(N, "replicated-anneal", 0.7 - 1.0 / math.sqrt(N),
                                                                 {"replicas": 3, "gamma": [0.05, 5.0]})))
    (cells / "unrelated.json").write_text("[1, 2]")
    out = tmp_path / "out"
    assert main(["capacity", "extrapolate", str(cells), "--out", str(out), "--json"]) == 0
    groups = json.loads(capsys.readouterr().out)["groups"]
    fits = {g["solver"]: g["fit"]["alpha_inf"] for g in groups}
    assert fits["anneal"] == pytest.approx(0.5, abs=1e-6) and fits["replicated-anneal"] == pytest.approx(0.7, abs=1e-6)
    assert fits["exact"] == pytest.approx(0.83, abs=1e-6)
    assert (out / "fig_alpha_half_vs_N.png").stat().st_size > 0
    assert len((out / "alpha_half_vs_N.csv").read_text().splitlines()) == 1 + 9
    assert json.loads((out / "extrapolation.json").read_text())["command"].startswith("actlab capacity extrapolate")


def test_cli_extrapolate_draws_one_figure_per_machine_with_its_rs_capacity(tmp_path, monkeypatch, capsys):
    from actlab.capacity import replica

    asked = []
    monkeypatch.setattr(replica, "alpha_c", lambda *a: asked.append(a) or replica.Estimate(0.9, 0.0, "stub"))
    for K, Ns in ((1, (101, 201, 401)), (3, (99, 201, 501))):
        for N in Ns:
            (tmp_path / f"k{K}_{N}.json").write_text(json.dumps(dict(_cell(N, "fbp", 0.7, {}), K=K)))
    out = tmp_path / "out"
    assert main(["capacity", "extrapolate", str(tmp_path), "--out", str(out)]) == 0
    assert (out / "fig_alpha_half_vs_N.png").exists() and (out / "fig_alpha_half_vs_N_sign_K3_binary.png").exists()
    assert sorted(asked) == [("sign", 1, "binary"), ("sign", 3, "binary")]


@pytest.mark.parametrize("make", [lambda p: p / "missing", lambda p: p])
def test_cli_extrapolate_bad_folder_exits_2(make, tmp_path, capsys):
    assert main(["capacity", "extrapolate", str(make(tmp_path))]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "error:" in err[0]


def test_cli_extrapolate_pools_the_cells_of_one_size(tmp_path, capsys):
    for N in (101, 201, 401):
        (tmp_path / f"a_{N}.json").write_text(json.dumps(_cell(N, "anneal", 0.5 - 1.0 / math.sqrt(N), {})))
    finer = dict(_cell(401, "anneal", 0.0, {}), alphas=[0.3, 0.7], solved=[8, 0])
    (tmp_path / "a_401_fine.json").write_text(json.dumps(finer))
    assert main(["capacity", "extrapolate", str(tmp_path), "--json"]) == 0
    (group,) = json.loads(capsys.readouterr().out)["groups"]
    assert group["N"] == [101, 201, 401] and group["files"][-1] == "a_401.json+a_401_fine.json"
    assert 0.3 < group["alpha_half"][-1] < 0.7                 # refitted on the pooled loads 0.3, 0.5, 0.7
    (tmp_path / "a_401_again.json").write_text(json.dumps(_cell(401, "anneal", 0.4, {})))  # load 0.5 twice
    assert main(["capacity", "extrapolate", str(tmp_path)]) == 2
