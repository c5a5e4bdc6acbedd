"""The mrepu suite: its specs load, and a tiny end-to-end run produces the claims table and figures."""
import pytest

from actlab.experiments import load_spec
from actlab.experiments.report import VERDICTS
from actlab.suites import available_suites, suite_spec_path

TINY = """
name = "mrepu-tiny"
task = "mrepu"
include = [
  {part = "phase", act = "repu(p=2)", C_b = 0.0, C_W = 1.0, depth = 5, width = 16},
  {part = "phase", act = "mrepu(p=2)", C_b = 0.0, C_W = 1.0, depth = 5, width = 16},
  {part = "poly", act = "repu(p=2)", C_b = 0.0, C_W = 1.0, target = "x2y2", depth = 3, width = 8, steps = 5, n_train = 32, n_test = 32, q0 = 0.001},
  {part = "poly", act = "mrepu(p=2)", target = "x2y2", depth = 2, width = 8, steps = 5, n_train = 32, n_test = 32, q0 = 0.001},
  {part = "poly", act = "relu", target = "x2y2", depth = 2, width = 8, steps = 5, n_train = 32, n_test = 32, q0 = 0.001},
  {part = "pinn", act = "mrepu(p=2)", pde = "poisson1d", depth = 1, width = 4, n_collocation = 16, n_condition = 4, adam_steps = 3, lbfgs_steps = 2, val_points = 16},
  {part = "pinn", act = "relu", pde = "poisson1d", depth = 1, width = 4, n_collocation = 16, n_condition = 4, adam_steps = 3, lbfgs_steps = 2, val_points = 16},
]
[sweep]
part = ["kernel"]
act = ["repu(p=2)", "mrepu(p=2)"]
cw_scale = [1.0]
depth = [4]
width = [16]
n_nets = [2]
n_explicit = [1]
[tune]
trials = 2
metric = "val_error"
direction = "minimize"
final_seeds = [0, 1]
arms = { part = ["poly", "pinn"] }
[tune.params]
lr = { low = 1e-4, high = 1e-2, log = true }
"""


@pytest.mark.parametrize("profile", ["quick", "full"])
def test_suite_specs_load(profile):
    assert "mrepu" in available_suites()
    spec = load_spec(suite_spec_path("mrepu", profile))
    parts = {run.config["part"] for run in spec.runs()}
    assert parts == {"kernel", "phase", "poly", "pinn", "vision"}


def test_tiny_end_to_end_run_has_claims_and_figures(tmp_path, monkeypatch, run_cli):
    suites = tmp_path / "suites"
    suites.mkdir()
    (suites / "mrepuTiny_quick.toml").write_text(TINY)
    (suites / "mrepuTiny.py").write_text("from actlab.suites.mrepu.claims import claims, figures  # noqa: F401\n")
    monkeypatch.setenv("ACTLAB_SUITES", str(suites))
    out = tmp_path / "run"
    code, stdout, stderr = run_cli("reproduce", "mrepuTiny", "--out", str(out), "--workers", "0")
    assert code == 0, stderr
    report = (out / "report" / "index.md").read_text()
    claims = report.split("## Claims")[1].split("\n## ")[0]
    rows = [line for line in claims.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) == 7
    assert all(any(f"**{v}**" in row for v in VERDICTS) for row in rows)
    assert "RePU networks explode or vanish" in claims
    assert "not measured" in rows[-1]            # no vision run in the tiny spec
    for row in (rows[1], rows[3], rows[4]):       # training claims: verdict rules on the finals
        assert "95 % CI, n = 2" in row and any(f"**{v}**" in row for v in ("reproduced", "contradicted",
                                                                              "inconclusive"))
    for name in ("mrepu_kernel_depth_K0_0.001", "mrepu_phase_cb_cw", "mrepu_phase_cw_depth", "mrepu_poly",
                 "mrepu_trainability", "mrepu_pinn", "tuning_validation"):
        assert (out / "report" / f"{name}.png").exists()
        assert (out / "report" / f"{name}.csv").exists()
    assert "## Protocol" in report and "plain runs" in report


def test_tuned_parts_keep_the_test_set_out_of_trials(tmp_path):
    """A trial (eval_test = false) of each training part reports val_error only; a final both."""
    from actlab.suites.mrepu.task import execute_mrepu

    configs = [
        {"part": "poly", "act": "relu", "target": "x2y2", "depth": 2, "width": 8, "steps": 4, "n_train": 32,
         "n_test": 32},
        {"part": "pinn", "act": "tanh", "pde": "poisson1d", "depth": 1, "width": 4, "n_collocation": 16,
         "n_condition": 4, "adam_steps": 4, "lbfgs_steps": 0, "val_points": 8},
        {"part": "vision", "act": "relu", "model": "mlp", "data": "digits", "depth": 2, "width": 8, "epochs": 1,
         "n_train": 100, "n_test": 50},
    ]
    for config in configs:
        trial = execute_mrepu({**config, "val_fraction": 0.2, "eval_test": False}, tmp_path)
        assert "val_error" in trial.metrics and not any(k.startswith("test_") for k in trial.metrics), config["part"]
        assert all("val_error" in row for row in trial.history)
        final = execute_mrepu({**config, "val_fraction": 0.2, "eval_test": True}, tmp_path)
        assert {"val_error", "test_error"} <= set(final.metrics), config["part"]
