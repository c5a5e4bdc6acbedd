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
