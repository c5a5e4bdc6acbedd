"""The capacity suite: its specs load, its task computes what it says, and a tiny reproduce run gives a run
directory that `actlab report` and `load` accept, with verdicts over seeds."""
import json
import math

import pytest

from actlab.experiments import load, load_spec
from actlab.experiments.report import VERDICTS
from actlab.suites import available_suites, suite_spec_path
from actlab.suites.capacity.task import execute_capacity, robust_level, theoretical_capacity

TINY = """
name = "capacity-tiny"
task = "capacity"
include = [
  {part = "theory", act = "relu", K = 2, weights = "spherical", ansatz = "rs"},
  {part = "theory", act = "sign", K = 1, weights = "spherical", ansatz = "rs"},
  {part = "theory", act = "sign", K = 3, weights = "spherical", ansatz = "rs"},
  {part = "theory", act = "sign", K = 5, weights = "spherical", ansatz = "rs"},
  {part = "theory", act = "relu", K = "inf", weights = "spherical", ansatz = "rs"},
  {part = "theory", act = "sign", K = 1, weights = "binary", ansatz = "rs"},
  {part = "scan", act = "sign", K = 1, weights = "spherical", N = 12, solver = "lp", alphas = [1.0, 2.0, 3.0], instances = 4},
  {part = "robust", act = "relu", K = 4, weights = "binary", solver = "anneal", N = 12, load = 0.2, instances = 2, trials = 4, sweeps = 5, seed = 0},
  {part = "robust", act = "relu", K = 4, weights = "binary", solver = "anneal", N = 12, load = 0.2, instances = 2, trials = 4, sweeps = 5, seed = 1},
  {part = "robust", act = "relu", K = 4, weights = "binary", solver = "replicated", N = 12, load = 0.2, instances = 2, trials = 4, gd_steps = 20, seed = 0},
  {part = "robust", act = "relu", K = 4, weights = "binary", solver = "replicated", N = 12, load = 0.2, instances = 2, trials = 4, gd_steps = 20, seed = 1},
  {part = "robust", act = "sign", K = 3, weights = "binary", solver = "replicated", N = 12, load = 0.2, instances = 2, trials = 4, gd_steps = 20, seed = 0},
  {part = "robust", act = "sign", K = 3, weights = "binary", solver = "replicated", N = 12, load = 0.2, instances = 2, trials = 4, gd_steps = 20, seed = 1},
]
"""


@pytest.mark.parametrize("profile", ["quick", "full"])
def test_specs_load_with_four_or_more_seeds_per_robustness_setting(profile):
    assert "capacity" in available_suites()
    spec = load_spec(suite_spec_path("capacity", profile))
    assert {r.config["part"] for r in spec.runs()} == {"theory", "scan", "robust"}
    seeds: dict = {}
    for r in spec.runs():
        c = r.config
        if c["part"] == "robust":
            seeds.setdefault((c["act"], c["weights"], c["solver"], c["load"]), set()).add(c["seed"])
    assert len(seeds) >= 8 and all(len(s) >= 4 for s in seeds.values())


def test_robust_runs_are_loaded_by_the_theoretical_capacity():
    res = execute_capacity({"part": "robust", "act": "sign", "K": 3, "weights": "spherical", "solver": "gd", "N": 12,
                            "load": 0.25, "instances": 2, "trials": 4, "gd_steps": 30, "seed": 0}, None)
    alpha_th, what = theoretical_capacity("sign", 3, "spherical")
    assert res.metrics["alpha_theory"] == alpha_th and "RS α_c(K=3)" in what
    assert res.metrics["alpha"] == round(0.25 * alpha_th * 12) / 12
    assert theoretical_capacity("relu", 4, "binary")[0] == pytest.approx(0.904, abs=1e-3)   # K = ∞ binary RS


def test_robust_level_interpolates_the_half_crossing():
    assert robust_level([0.0, 0.1, 0.2], [1.0, 0.75, 0.25]) == pytest.approx(0.15)
    assert robust_level([0.0, 0.1], [1.0, 0.9]) == 0.1       # never crosses: the largest level, a lower bound


def test_bad_capacity_config_is_one_clear_error(tmp_path, run_cli):
    spec = tmp_path / "bad.toml"
    spec.write_text('task = "capacity"\n[[include]]\npart = "robust"\nact = "relu"\nK = 4\nN = 12\n'
                    'weights = "binary"\nsolver = "gd"\nload = 0.2\n')
    code, _, err = run_cli("run", str(spec), "--out", str(tmp_path / "r"))
    assert code == 2 and "binary weights are solved by anneal or replicated" in err and "Traceback" not in err


def test_tiny_reproduce_is_a_run_directory_with_verdicts(tmp_path, monkeypatch, run_cli):
    suites = tmp_path / "suites"
    suites.mkdir()
    (suites / "capTiny_quick.toml").write_text(TINY)
    (suites / "capTiny.py").write_text(
        "from actlab.suites.capacity.claims import claims, figures, sections  # noqa: F401\n")
    monkeypatch.setenv("ACTLAB_SUITES", str(suites))
    out = tmp_path / "run"
    code, _, err = run_cli("reproduce", "capTiny", "--out", str(out), "--workers", "0")
    assert code == 0, err
    df = load(out)
    assert len(df) == 13 and set(df["status"]) == {"done"}
    code, stdout, err = run_cli("report", str(out), "--json")
    assert code == 0, err
    report = (out / "report" / "index.md").read_text()
    claims = report.split("## Claims")[1].split("\n## ")[0]
    rows = [line for line in claims.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert all(any(f"**{v}**" in row for v in VERDICTS) for row in rows)
    assert "perceptron checks" in claims and "**reproduced**" in claims.split("perceptron checks")[1].split("\n")[0]
    relu_vs_sign = next(r for r in rows if r.startswith("| ReLU dense regions denser"))
    assert "n = 2 paired seeds" in relu_vs_sign or "no interval" in relu_vs_sign
    assert "## Robustness and local entropy over seeds" in report
    for name in ("fig_alpha_c_spherical", "fig_local_entropy_load_0.2"):
        assert (out / "report" / f"{name}.png").exists()
    art = json.loads(next((out / "runs").rglob("artifacts.json")).read_text())
    assert art  # per-run artifacts are stored like any run's
    assert math.isfinite(float(df[df["part"] == "theory"]["alpha_c"].min()))


def _robust_rows(solved: dict) -> "pd.DataFrame":
    """Robust-part rows for 4 seeds: ReLU replicated solutions more robust than sign's, each setting at its solved."""
    import pandas as pd

    rows = []
    for (act, solver), frac in solved.items():
        for seed in range(4):
            level = (0.02 if act == "relu" else 0.01) + 0.001 * seed + (0.005 if solver == "replicated" else 0.0)
            rows.append({"part": "robust", "act": act, "K": 4 if act == "relu" else 3, "weights": "binary",
                         "solver": solver, "load": 0.5, "seed": seed, "solved": frac, "robust_level": level,
                         "entropy_1": level, "alpha": 0.45, "status": "done"})
    return pd.DataFrame(rows)


def test_a_comparison_needs_both_solvers_to_solve_most_instances():
    from actlab.suites.capacity.claims import MIN_SOLVED, _robust_claims

    settings = [("relu", "replicated"), ("relu", "anneal"), ("sign", "replicated"), ("sign", "anneal")]
    solved_all = _robust_claims(_robust_rows({s: 0.9 for s in settings}), "cmd")
    relu_vs_sign = next(r for r in solved_all if r["claim"].startswith("ReLU solutions more robust than sign ones (binary"))
    assert relu_vs_sign["verdict"] == "reproduced"
    few = _robust_rows({**{s: 0.9 for s in settings}, ("sign", "replicated"): MIN_SOLVED / 2})
    judged = {r["claim"]: r for r in _robust_claims(few, "cmd")}
    vs = next(r for c, r in judged.items() if c.startswith("ReLU solutions more robust than sign ones (binary"))
    assert vs["verdict"] == "not measured" and "solved 90% vs 25%" in vs["measured"]
    dense = next(r for c, r in judged.items() if c.startswith("dense-region-seeking"))
    assert "sign binary: replicated − anneal solved 25% vs 90%" in dense["measured"]
    assert dense["verdict"] == "reproduced"   # the relu setting measured, the sign one left out


def test_an_unbracketed_scan_says_which_side(tmp_path):
    from actlab.suites.capacity.claims import _unbracketed

    run = tmp_path / "runs" / "abc"
    run.mkdir(parents=True)
    (run / "artifacts.json").write_text(json.dumps({"scan": {"alphas": [1.0, 1.5], "solved": [48, 28],
                                                             "instances": 48}}))
    assert _unbracketed(tmp_path, "abc") == "> 1.5 (not bracketed: 28/48 solved at the top α)"
    (run / "artifacts.json").write_text(json.dumps({"scan": {"alphas": [1.0, 1.5], "solved": [10, 2],
                                                             "instances": 48}}))
    assert _unbracketed(tmp_path, "abc") == "< 1 (not bracketed: 10/48 solved at the lowest α)"
