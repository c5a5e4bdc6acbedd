"""The signal suite: specs validate, the claims follow the results (agreement of depth < 6ξ_c with
who trained, against the majority label, by the verdict rules), and a tiny run ends in a report with
the claims, the grid and the heatmap."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd
import pytest

from actlab.experiments import load, load_spec, run_sweep
from actlab.experiments.report import VERDICTS
from actlab.experiments.spec import spec_from_dict
from actlab.nn.init import parse_init
from actlab.suites import available_suites, suite_claims, suite_report, suite_spec_path
from actlab.suites.signal import claims as signal
from actlab.theory import depth_scales

CWS = (0.5, 1.0, 3.0)
DEPTHS = (2, 4, 8, 16, 32)


@pytest.mark.parametrize("profile", ("quick", "full", "cpu"))
def test_specs_load_and_keep_every_arm_equal(profile):
    assert profile in available_suites()["signal"]
    spec = load_spec(suite_spec_path("signal", profile))
    runs = spec.runs()
    assert {"tanh", "zorro", "mrepu"} <= {r.config["act"] for r in runs}
    assert {"lr", "optimizer", "epochs", "width"}.isdisjoint(spec.axes)  # one fixed choice for every cell
    inits = [parse_init(r.config["init"]) for r in runs]
    assert all(name == "gaussian" and p["c_b"] == 0.05 for name, p in inits)
    assert len({p["c_w"] for _, p in inits}) >= 7 and len({r.config["depth"] for r in runs}) >= 5
    assert {r.config["data"] for r in runs} == {"digits" if profile == "quick" else "fashion_mnist"}
    # every cell is an arm, offered the same three learning rates, each once, selected on validation
    tune = spec.tune
    assert tune is not None and not tune.arms and len(tune.final_seeds) >= 3 and tune.metric == "val_acc"
    assert tune.candidates() == [{"lr": 0.01}, {"lr": 0.001}, {"lr": 0.0001}]
    assert "lr" not in runs[0].config and tune.pruner.kind == "none"
    if profile == "cpu":  # the full grid, optimiser and tuning on Fashion-MNIST; only width and epochs less
        full_spec = load_spec(suite_spec_path("signal", "full"))
        full = full_spec.runs()
        design = ("act", "init", "depth", "optimizer", "momentum", "batch_size", "n_train", "n_test")
        assert {tuple(r.config.get(k) for k in design) for r in runs} == \
            {tuple(r.config.get(k) for k in design) for r in full}
        assert tune == full_spec.tune
        assert runs[0].config["width"] < full[0].config["width"] and runs[0].config["epochs"] < full[0].config["epochs"]


def _frame(act: str, trained, cws=CWS, seeds=(0, 1, 2), extra_status=None) -> pd.DataFrame:
    """Fake results: test accuracy 0.9 where trained(C_W, depth) else 0.1, every seed."""
    rows = []
    for cw in cws:
        for d in DEPTHS:
            for s in seeds:
                ok = trained(cw, d)
                rows.append({"status": extra_status or "done", "act": act, "data": "digits", "depth": d, "seed": s,
                             "init": f"gaussian(c_w={cw}, c_b=0.05)", "test_acc": (0.9 if ok else 0.1) + 0.01 * s})
    df = pd.DataFrame(rows)
    df.attrs.update(meta={}, axes=[], metric_keys=[], config_keys=list(df.columns))
    return df


def _boundary(act: str):
    xi = {cw: depth_scales(act, 0.05, cw, q0=0.05 + cw).xi_c for cw in CWS}
    return lambda cw, d: d < signal.K * xi[cw]


def test_claims_reproduced_when_the_boundary_separates_the_runs():
    rule = _boundary("tanh")
    assert len({rule(cw, d) for cw in CWS for d in DEPTHS}) == 2, "the grid must straddle the boundary"
    (row,) = suite_claims("signal", _frame("tanh", rule), "quick")
    assert row["verdict"] == "reproduced", row["measured"]
    assert "agreement 1" in row["measured"] and "Schoenholz" in row["paper"]
    assert "actlab reproduce signal --profile quick" == row["command"]


def test_claims_contradicted_when_the_runs_do_the_opposite():
    rule = _boundary("zorro")
    (row,) = suite_claims("signal", _frame("zorro", lambda cw, d: not rule(cw, d)), "quick")
    assert row["verdict"] == "contradicted", row["measured"]
    assert "no paper" in row["paper"]


def test_cells_without_a_finite_fixed_point_have_no_prediction():
    # MRePU at C_b = 0.05, K⁽¹⁾ = C_b + C_W: the kernel grows without bound for C_W ≥ 0.2
    df = _frame("mrepu", lambda cw, d: False, cws=(0.1, 1.0, 3.0), extra_status="diverged")
    (row,) = suite_claims("signal", df, "quick")
    assert "10 of 15 cells have no prediction (no finite q* (phase unbounded))" in row["measured"]
    assert "100 % diverged" in row["measured"]
    grid = signal.predicted(signal.cells(df))
    assert set(grid[grid["C_W"] > 0.5]["phase"]) == {"unbounded"} and grid[grid["C_W"] > 0.5]["predicted"].isna().all()


def _tuned_frame(act: str, trained_at) -> pd.DataFrame:
    """Fake tuned results: per cell three trials (lr 0.01, 0.001, 1e-4; val_acc 0.9 where trained_at(cw, d, lr)
    else 0.1) and finals at the best of them; a cell trained at no lr has its trials diverge and no finals."""
    rows, lrs = [], (0.01, 0.001, 0.0001)
    for cw in CWS:
        for d in DEPTHS:
            arm, common = f"{act}-{cw}-{d}", {"act": act, "data": "digits", "depth": d,
                                              "init": f"gaussian(c_w={cw}, c_b=0.05)"}
            ok = [lr for lr in lrs if trained_at(cw, d, lr)]
            for lr in lrs:
                rows.append({**common, "arm": arm, "phase": "trial", "lr": lr, "seed": 0, "test_acc": float("nan"),
                             "status": "done" if ok else "diverged", "val_acc": 0.9 if lr in ok else 0.1})
            for seed in (0, 1, 2) if ok else ():
                rows.append({**common, "arm": arm, "phase": "final", "lr": ok[0], "seed": seed, "status": "done",
                             "val_acc": 0.9, "test_acc": 0.9 + 0.01 * seed})
    df = pd.DataFrame(rows)
    df.attrs.update(meta={"tune": {"trials": 3, "final_seeds": [0, 1, 2], "params": {}}}, axes=[], metric_keys=[],
                    config_keys=list(df.columns))
    return df


def test_tuned_claims_use_the_finals_and_count_cells_that_diverged_at_every_lr():
    rule = _boundary("tanh")
    df = _tuned_frame("tanh", lambda cw, d, lr: rule(cw, d) and (lr == 0.001 or (lr == 0.01 and d <= 4)))
    grid = signal.cells(df)
    assert len(grid) == len(CWS) * len(DEPTHS) * 3  # finals, plus stand-ins for the cells without any
    assert set(grid.loc[grid["diverged"], "lr"].isna()) == {True} and not grid.loc[grid["diverged"], "trainable"].any()
    assert set(grid.loc[~grid["diverged"], "lr"]) <= {0.01, 0.001}
    (row,) = suite_claims("signal", df, "quick")
    assert row["verdict"] == "reproduced" and "agreement 1" in row["measured"], row["measured"]
    each = "\n".join(signal._each_lr(df, signal.predicted(grid)))
    line = next(x for x in each.splitlines() if x.startswith("| tanh"))
    *_, at_2, at_3, at_4, selected, _ = line.split("|")
    assert at_3.strip().startswith("1.000") and selected.strip().startswith("1.000")
    assert at_4.strip().endswith("; 0 % trained)") and not at_2.strip().startswith("1.000")  # 0.01: shallow only


def test_claims_not_measured_without_runs():
    df = _frame("tanh", lambda cw, d: True, extra_status="failed")
    (row,) = suite_claims("signal", df, "quick")
    assert row["verdict"] == "not measured"


def test_tiny_run_has_claims_grid_and_heatmap(tmp_path):
    data = tomllib.loads(suite_spec_path("signal", "quick").read_text())
    data["base"].update(epochs=1, n_train=64, n_test=32, width=8)
    data["sweep"] = {"act": ["tanh", "mrepu"], "init": ["gaussian(c_w=0.5, c_b=0.05)", "gaussian(c_w=3.0, c_b=0.05)"],
                     "depth": [1, 12]}
    data["tune"]["final_seeds"] = [0, 1]
    spec = spec_from_dict(data, origin="tiny signal quick")
    summary = run_sweep(spec, out=tmp_path, workers=0, progress=False, meta={"suite": "signal", "profile": "quick"})
    assert summary.counts["failed"] == 0
    text = suite_report(tmp_path).read_text()
    claims = text.split("## Claims", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in claims.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert len(rows) == 2 and all(any(f"**{v}**" in r for v in VERDICTS) for r in rows)
    assert "## The grid" in text and "### tanh" in text and "### mrepu" in text
    assert (tmp_path / "report" / "signal_heatmap.png").stat().st_size > 0
    grid = pd.read_csv(tmp_path / "report" / "signal_grid.csv")
    assert len(grid) == 8 and set(grid["seeds"]) == {2}  # the finals only, not the trials
    assert "selected per cell (lr in {0.01, 0.001, 0.0001})" in text and "## Protocol" in text
    assert "| activation | lr 0.01 | lr 0.001 | lr 0.0001 | selected per cell |" in text
    runs = load(tmp_path)
    for (act, init, depth), part in runs.groupby(["act", "init", "depth"]):
        cell = grid[(grid["act"] == act) & (grid["depth"] == depth) & (grid["C_W"] == parse_init(init)[1]["c_w"])]
        finals = part[part["phase"] == "final"]
        if len(finals):  # the grid shows the lr the finals ran with
            assert cell["lr"].item() == finals["lr"].iloc[0] and set(finals["seed"]) == {0, 1}
        else:  # no finals: every trial diverged, and the cell counts as diverged for every final seed
            assert (part["status"] == "diverged").all() and len(part) == 3
            assert cell["lr"].isna().item() and cell["acc"].item() == 0 and cell["trained"].item() == 0


def test_longer_budget_example_changes_only_the_budget():
    """examples/signal_longer.toml re-runs cpu-profile cells with more epochs (and also at a lower
    learning rate): everything else as there."""
    longer = load_spec(Path(__file__).parent.parent / "examples" / "signal_longer.toml").runs()
    cpu_spec = load_spec(suite_spec_path("signal", "cpu"))
    cpu = {tuple(r.config.get(k) for k in ("act", "init", "depth")): r.config for r in cpu_spec.runs()}
    for run in longer:
        same = cpu[tuple(run.config.get(k) for k in ("act", "init", "depth"))]
        assert {k: v for k, v in run.config.items() if k not in ("epochs", "lr", "seed")} == \
            {k: v for k, v in same.items() if k != "epochs"}
        assert run.config["epochs"] > same["epochs"] and run.config["seed"] in cpu_spec.tune.final_seeds
    assert {r.config["lr"] for r in longer} == {0.01, 0.001}  # two of the cpu profile's grid
    assert {0.01, 0.001} <= set(cpu_spec.tune.params["lr"].choices)
