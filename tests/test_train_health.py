"""How a run ends: `collapsed` (at chance, or a vanished first-layer gradient) beside done and diverged,
in fit's result, the `actlab train` summary, the sweep store (kept on resume) and the report."""
import json
import sqlite3

import pytest

from actlab.cli import main
from actlab.data import load_dataset
from actlab.experiments import load, parse_spec, run_sweep
from actlab.experiments.report import build_report
from actlab.experiments.store import ResultStore
from actlab.train import TrainConfig, fit
from actlab.train.health import CHANCE_TOL, collapse_reason


def test_collapse_reasons_and_their_thresholds():
    healthy = {"test_acc": 0.9, "grad_norm_first": 1e-3, "grad_norm_last": 1.0}
    assert collapse_reason(healthy, 10) is None
    assert collapse_reason({**healthy, "test_acc": 0.1 + CHANCE_TOL}, 10) == "at chance"
    assert collapse_reason({**healthy, "test_acc": 0.1 + CHANCE_TOL + 0.005}, 10) is None
    assert collapse_reason({"val_acc": 0.5}, 2) == "at chance"                # a trial without the test set
    assert collapse_reason({**healthy, "grad_norm_first": 1e-9}, 10) == "gradient vanished"
    assert collapse_reason({**healthy, "grad_norm_first": 0.0, "grad_norm_last": 0.0}, 10) == "gradient vanished"
    assert collapse_reason({"test_mse": 3.0, "grad_norm_first": 1.0, "grad_norm_last": 1.0}, None) is None


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", seed=0, subset=(256, 128))


def test_a_deep_relu_net_at_torchs_default_init_is_collapsed_not_done(digits):
    # torch's U(±1/√fan_in) is a sixth of ReLU's critical variance: at depth 40 the input's signal is gone
    cfg = TrainConfig(model="mlp", act="relu", depth=40, width=32, init="default", epochs=2, batch_size=64,
                      device="cpu", probe_every=0, checkpoint_every=0)
    result = fit(cfg, progress=False, dataset=digits)
    assert result.status == "collapsed" and result.diverged is None
    assert result.collapsed["reason"] in ("at chance", "gradient vanished") and result.collapsed["hint"]
    healthy = fit(cfg.replace(init="kaiming", depth=4, epochs=4), progress=False, dataset=digits)
    assert healthy.status == "done" and healthy.collapsed is None


def test_cli_train_prints_the_collapse_and_a_hint(tmp_path, capsys):
    argv = ["train", "--act", "relu", "--depth", "40", "--width", "32", "--n-train", "256", "--n-test", "128",
            "--epochs", "1", "--batch-size", "64", "--probe-every", "0", "--no-plots", "--out", str(tmp_path / "r")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert ": collapsed" in out.splitlines()[0] and "init default" in out.splitlines()[0]
    line = next(x for x in out.splitlines() if x.strip().startswith("collapsed ("))
    assert "try" in line and "--init" in line
    assert json.loads((tmp_path / "r" / "result.json").read_text())["status"] == "collapsed"


def test_a_collapsed_sweep_run_is_a_result_kept_on_resume_and_reported(tmp_path):
    spec = parse_spec('name = "c"\ntask = "toy"\n[base]\nepochs = 2\n[sweep]\ncollapse = [false, true]\n')
    summary = run_sweep(spec, out=tmp_path, workers=0, progress=False)
    assert summary.counts["collapsed"] == 1 and summary.counts["done"] == 1 and summary.counts["failed"] == 0
    again = run_sweep(spec, out=tmp_path, workers=0, progress=False, resume=True)
    assert again.executed == 0                                  # nothing re-run
    df = load(tmp_path)
    assert sorted(df["status"]) == ["collapsed", "done"] and df["acc"].notna().all()
    text = build_report(tmp_path).read_text()
    assert "| runs | done | diverged | collapsed | failed |" in text
    assert "Collapsed runs" in text and "toy run collapsed on purpose" in text
    assert "`n` = runs done or collapsed" in text


def test_a_store_made_before_collapsed_existed_accepts_it(tmp_path):
    db = sqlite3.connect(tmp_path / "results.sqlite")
    db.executescript("""CREATE TABLE runs (id TEXT PRIMARY KEY, position INTEGER NOT NULL, task TEXT NOT NULL,
        config TEXT NOT NULL, status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'diverged',
        'failed')), error TEXT, metrics TEXT, diverged_at TEXT, started REAL, finished REAL, duration REAL,
        attempts INTEGER NOT NULL DEFAULT 0);
        INSERT INTO runs (id, position, task, config, status) VALUES ('a', 0, 'toy', '{}', 'done'),
                                                                     ('b', 1, 'toy', '{}', 'pending');""")
    db.commit()
    db.close()
    with ResultStore(tmp_path) as store:
        store.record("b", "collapsed", {"acc": 0.1})
        assert store.counts()["collapsed"] == 1 and store.counts()["done"] == 1
