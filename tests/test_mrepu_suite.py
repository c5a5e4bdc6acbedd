"""The mrepu suite: its specs load, and a tiny end-to-end run produces the claims table and figures."""
import pytest

from actlab.experiments import load_spec
from actlab.experiments.report import VERDICTS
from actlab.suites import available_suites, suite_spec_path

TINY = """
name = "mrepu-tiny"
task = "mrepu"
include = [
  {part = "phase", act = "repu(p=2)", C_b = 0.0, C_W = 1.0, depth = 5, width = 16, steps = 5, n_train = 32, n_test = 32},
  {part = "phase", act = "mrepu(p=2)", C_b = 0.0, C_W = 1.0, depth = 5, width = 16, steps = 5, n_train = 32, n_test = 32},
  {part = "poly", act = "mrepu(p=2)", target = "x2y2", depth = 2, width = 8, steps = 5, n_train = 32, n_test = 32, q0 = 0.001},
  {part = "poly", act = "relu", target = "x2y2", depth = 2, width = 8, steps = 5, n_train = 32, n_test = 32},
  {part = "pinn", act = "mrepu(p=2)", pde = "poisson1d", depth = 1, width = 4, n_collocation = 16, n_condition = 4, adam_steps = 3, lbfgs_steps = 2},
  {part = "pinn", act = "relu", pde = "poisson1d", depth = 1, width = 4, n_collocation = 16, n_condition = 4, adam_steps = 3, lbfgs_steps = 2},
]
[sweep]
part = ["kernel"]
act = ["repu(p=2)", "mrepu(p=2)"]
cw_scale = [1.0]
depth = [4]
width = [16]
n_nets = [2]
n_explicit = [1]
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
    claims = report.split("## Claims")[1].split("## Runs")[0]
    rows = [line for line in claims.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) == 7
    assert all(any(f"**{v}**" in row for v in VERDICTS) for row in rows)
    assert "RePU networks explode or vanish" in claims
    assert "not measured" in rows[-1]            # no vision run in the tiny spec
    for name in ("mrepu_kernel_depth_K0_0.001", "mrepu_phase_cb_cw", "mrepu_phase_cw_depth", "mrepu_poly", "mrepu_pinn"):
        assert (out / "report" / f"{name}.png").exists()
        assert (out / "report" / f"{name}.csv").exists()
