"""Focusing belief propagation: the message equations against scipy, the output node against brute force, solutions
checked by the machine, never beyond what exhaustive enumeration allows, and bad options refused."""
import itertools
import math

import numpy as np
import pytest
import torch
from scipy.special import log_ndtr

from actlab.capacity import solvers
from actlab.capacity.focusing import _output_node, bp_sweep, focusing_schedule
from actlab.capacity.machine import CommitteeMachine, Problem, random_problem
from actlab.cli import main
from actlab.errors import ActlabError


def test_perceptron_messages_are_the_gaussian_cavity_formula():
    """One pattern, no damping: u_i = ½ ln Φ(y(ω_i + ξ_i)/√V_i) − ½ ln Φ(y(ω_i − ξ_i)/√V_i) (scipy's log_ndtr)."""
    rng = np.random.default_rng(0)
    n = 9
    X = rng.choice([-1.0, 1.0], (1, 1, n))
    for y in (1.0, -1.0):
        U = rng.normal(0, 0.3, (1, 1, n))
        H = U[0] + rng.normal(0, 0.8, (1, n))
        cav = np.tanh(H[0] - U[0, 0])
        omega = X[0, 0] @ cav - X[0, 0] * cav
        sd = np.sqrt((1 - cav**2).sum() - (1 - cav**2))
        want = 0.5 * (log_ndtr(y * (omega + X[0, 0]) / sd) - log_ndtr(y * (omega - X[0, 0]) / sd))
        H_before, U_before = H.copy(), U.copy()
        bp_sweep(X, np.array([y]), U, H, np.array([0]), 0.0)
        np.testing.assert_allclose(U[0, 0], want, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(H, H_before + U[0] - U_before[0], atol=1e-12)


@pytest.mark.parametrize("K", [3, 5])
def test_output_node_against_brute_force(K):
    rng = np.random.default_rng(K)
    p = rng.uniform(0.05, 0.95, K)
    for y in (1.0, -1.0):
        log_a = np.empty((K, 2))
        _output_node(p, y, log_a)
        for l in range(K):
            for side, tau in enumerate((1, -1)):
                total = 0.0
                for taus in itertools.product((1, -1), repeat=K - 1):
                    others = np.delete(np.arange(K), l)
                    prob = np.prod([p[j] if t == 1 else 1 - p[j] for j, t in zip(others, taus)])
                    total += prob * (y * (tau + sum(taus)) > 0)
                assert math.exp(log_a[l, side]) == pytest.approx(total, abs=1e-12)


def test_focusing_protocols():
    assert focusing_schedule("reinforcement", 4) == [(math.inf, 1.0), (math.inf, 4 / 3), (math.inf, 2.0), (math.inf, 4.0)]
    gamma, y = focusing_schedule("pseudo", 4)[2]
    assert math.tanh(gamma) ** 2 == pytest.approx(0.5) and y == pytest.approx(3.0)


@pytest.mark.parametrize("K,N,alphas", [(1, 17, (0.3, 1.0)), (3, 15, (0.3, 1.2))])
def test_fbp_against_exact_enumeration(K, N, alphas):
    """Every instance solved at a low load; above capacity fBP solves only instances enumeration finds solvable,
    and every solution it reports is one (checked by the machine)."""
    m = CommitteeMachine("sign", K, N)
    for a in alphas:
        prob = random_problem(m, round(a * N), 10, generator=torch.Generator().manual_seed(round(100 * a)))
        exact = solvers.solve(m, prob, "binary", "exact")
        res = solvers.solve(m, prob, "binary", "fbp", steps=40, seed=2)
        assert torch.equal(m.errors(prob.patterns, prob.labels, res.weights), res.errors)
        assert bool((res.weights.abs() == 1).all())
        assert not bool((res.solved & ~exact.solved).any())
        if a < 0.5:
            assert bool(res.solved.all())
        else:
            assert int(exact.solved.sum()) < 10        # the load does reach unsolvable instances


def test_fbp_solves_most_instances_at_moderate_size_and_is_deterministic():
    m = CommitteeMachine("sign", 1, 201)
    prob = random_problem(m, 100, 4, generator=torch.Generator().manual_seed(5))
    res = solvers.fbp(m, prob, steps=100, seed=1)
    assert int(res.solved.sum()) >= 3
    assert torch.equal(m.errors(prob.patterns, prob.labels, res.weights), res.errors)
    assert bool((res.steps[res.solved] < 100).all())
    one = Problem(prob.patterns[:1], prob.labels[:1])
    again = solvers.fbp(m, one, steps=100, seed=1)
    assert torch.equal(again.weights, res.weights[:1]) and torch.equal(again.steps, res.steps[:1])


@pytest.mark.parametrize("bad", [{"steps": 0}, {"iters": 0}, {"damping": 1.0}, {"damping": -0.1}, {"init": 0.0},
                                 {"init": 1.0}, {"protocol": "scoping"}, {"tol": 0.0}])
def test_fbp_refuses_bad_options(bad):
    m = CommitteeMachine("sign", 1, 11)
    prob = random_problem(m, 3, 1)
    with pytest.raises(ActlabError):
        solvers.fbp(m, prob, **bad)


def test_fbp_refuses_relu_spherical_and_gaussian_patterns():
    relu = CommitteeMachine("relu", 2, 10)
    with pytest.raises(ActlabError, match="fbp: only sign units"):
        solvers.fbp(relu, random_problem(relu, 3, 1))
    m = CommitteeMachine("sign", 1, 11)
    with pytest.raises(ActlabError, match="binary"):
        solvers.fbp(m, random_problem(m, 3, 1), "spherical")
    with pytest.raises(ActlabError, match="pm1"):
        solvers.fbp(m, random_problem(m, 3, 1, patterns="gaussian"))


@pytest.mark.parametrize("extra", [["--fbp-steps", "0"], ["--fbp-iters", "-1"], ["--fbp-damping", "1"],
                                   ["--fbp-init", "0"], ["--sweeps", "10"], ["--gamma", "0.1,1"]])
def test_cli_fbp_bad_input_exits_2(extra, capsys):
    base = ["capacity", "simulate", "--act", "sign", "--K", "1", "--weights", "binary", "--N", "21",
            "--alphas", "0.5", "--instances", "2", "--solver", "fbp"]
    assert main(base + extra) == 2
    err = capsys.readouterr().err
    assert err.strip() and "Traceback" not in err


def test_cli_fbp_unknown_protocol_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:                      # argparse's choices: exit 2 with the usage line
        main(["capacity", "simulate", "--act", "sign", "--K", "1", "--weights", "binary", "--N", "21",
              "--alphas", "0.5", "--solver", "fbp", "--fbp-protocol", "scoping"])
    assert exc.value.code == 2 and "invalid choice: 'scoping'" in capsys.readouterr().err


def test_cli_fbp_on_another_solvers_run_exits_2(capsys):
    assert main(["capacity", "simulate", "--act", "sign", "--K", "1", "--weights", "binary", "--N", "21",
                 "--alphas", "0.5", "--solver", "anneal", "--fbp-steps", "10"]) == 2
    assert "--fbp-steps does not apply to --solver anneal" in capsys.readouterr().err


def test_cli_fbp_records_its_options(capsys):
    import json

    assert main(["capacity", "simulate", "--act", "sign", "--K", "1", "--weights", "binary", "--N", "21",
                 "--alphas", "0.3", "--instances", "4", "--solver", "fbp", "--fbp-steps", "50", "--fbp-protocol",
                 "pseudo", "--fbp-damping", "0.3", "--bootstrap", "2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["solver"] == "fbp" and data["solved"] == [4]
    assert data["solver_options"] == {"steps": 50, "protocol": "pseudo", "damping": 0.3}
    assert data["instance_solved"] == [[1, 1, 1, 1]] and data["cpu_seconds"] > 0
    assert all(1 <= s <= 50 for s in data["instance_steps"][0])    # BP iterations, within 50 steps × 1


def test_scan_records_each_instance_reproducibly():
    """A seed fixes the instances and the solver's randomness (the budget scan's pairing): the same run twice
    gives the same per-instance outcomes and BP iterations, and a budget of 3 steps uses at most 3."""
    from actlab.capacity.empirical import capacity_scan

    def run(steps):
        extra = capacity_scan("sign", 3, "binary", 21, [0.9], instances=6, solver="fbp", seed=5, bootstrap=1,
                              solver_options={"steps": steps}).extra
        return extra["instance_solved"], extra["instance_steps"]

    assert run(60) == run(60)
    assert all(s <= 3 for s in run(3)[1][0])


def test_cli_extrapolate_adds_up_one_load_over_cells_on_distinct_seeds(tmp_path, capsys):
    import json

    from actlab.capacity.empirical import wilson_interval

    def cell(name, alphas, solved, instances, seed):
        data = {"activation": "sign", "K": 1, "weights": "binary", "N": 1001, "solver": "fbp", "alphas": alphas,
                "solved": solved, "instances": instances, "alpha_half": float("nan"),
                "alpha_half_ci95": ["nan", "nan"], "seconds": 1.0, "solver_options": {"steps": 400}}
        if seed is not None:
            data["seed"] = seed
        (tmp_path / name).write_text(json.dumps(data))

    for i, seed in enumerate((1, 2)):
        cell(f"a07_{i}.json", [0.7], [4], 4, seed)             # 8/8 at 0.7 over two cells
        cell(f"a08_{i}.json", [0.8], [i], 4, seed + 10)        # 1/8 at 0.8
    assert main(["capacity", "extrapolate", str(tmp_path), "--json"]) == 0
    (group,) = json.loads(capsys.readouterr().out)["groups"]
    assert 0.7 < group["alpha_half"][0] < 0.8 and group["files"][0].count("+") == 3
    (a07, a08), wilson = group["loads"][0], wilson_interval(1, 8)
    assert a07[:3] == [0.7, 8, 8] and a08[:3] == [0.8, 1, 8] and a08[3:] == pytest.approx(list(wilson))
    cell("a08_2.json", [0.8], [0], 4, 13)                        # 0.8 on 12 instances, 0.7 on 8: fitted as such
    assert main(["capacity", "extrapolate", str(tmp_path), "--json"]) == 0
    (group,) = json.loads(capsys.readouterr().out)["groups"]
    assert 0.7 < group["alpha_half"][0] < 0.8
    cell("a08_2.json", [0.7], [4], 4, None)                      # unrecorded seed: not known to be independent
    assert main(["capacity", "extrapolate", str(tmp_path)]) == 2
    assert "not known to differ" in capsys.readouterr().err
