"""actlab.train: config validation, fit, resume after interruption, the NaN guard, probes, CLI."""
import json
import math
import os
import shutil
import signal

import pytest
import torch
from torch import nn

from actlab.cli import main
from actlab.data import load_dataset
from actlab.errors import ActlabError
from actlab.train import TrainConfig, fit, run_probes
from actlab.train import loop as loop_module
from actlab.train.probes import Saturation, dead_fraction, effective_rank, orthogonality


TINY = dict(model="mlp", depth=3, width=16, data="digits", n_train=256, n_test=128, epochs=3, batch_size=64,
            device="cpu", seed=3)


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", seed=3, subset=(256, 128))


def _same(a, b):
    drop = {"time_s"}
    return {k: v for k, v in a.items() if k not in drop} == {k: v for k, v in b.items() if k not in drop}


def test_config_validation_names_the_allowed_values():
    assert "depth" in TrainConfig.allowed_keys() and "probe_every" in TrainConfig.allowed_keys()
    with pytest.raises(ActlabError, match=r"unknown training key\(s\) dpeth; allowed: model, depth"):
        TrainConfig.from_dict({"dpeth": 3})
    with pytest.raises(ActlabError, match="optimizer must be one of adam, adamw, sgd"):
        TrainConfig.from_dict({"optimizer": "rmsprop"})
    with pytest.raises(ActlabError, match="depth must be an integer >= 1"):
        TrainConfig(depth=0)
    with pytest.raises(ActlabError, match="lr must be a finite number > 0"):
        TrainConfig(lr=-1.0)
    with pytest.raises(ActlabError, match="norm must be none, layernorm, batchnorm"):
        TrainConfig(norm="group")
    cfg = TrainConfig.from_dict({"norm": "none", "depth": 4.0, "group_size": "none", "model": "ZPLANE"})
    assert cfg.norm is None and cfg.depth == 4 and cfg.group_size is None and cfg.model == "zplane"
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg


def test_fit_trains_and_writes_metrics_files(tmp_path, digits):
    result = fit(TrainConfig(**TINY), out_dir=tmp_path, progress=False, dataset=digits)
    assert result.status == "done" and result.diverged is None
    m = result.metrics
    assert m["steps"] == 12 and m["epochs"] == 3 and 0 <= m["test_acc"] <= 1 and math.isfinite(m["train_loss"])
    assert [row["epoch"] for row in result.history] == [1, 2, 3]
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    assert json.loads((tmp_path / "metrics.json").read_text())[-1]["step"] == 12
    assert (tmp_path / "metrics.csv").read_text().splitlines()[0].startswith("epoch,step,train_loss")
    saved = json.loads((tmp_path / "result.json").read_text())
    assert saved["status"] == "done" and saved["metrics"]["test_acc"] == m["test_acc"]
    p = result.probes
    assert p["layers"] == ["layer 1", "layer 2", "layer 3", "readout"]
    for key in ("grad_norms_init", "grad_norms_final", "act_norms", "max_activation", "dead_fraction",
                "orthogonality", "effective_rank", "nonfinite_count"):
        assert set(p[key]) == set(p["layers"]), key
    assert len(p["timeline"]) == 3
    json.dumps(p)
    # a finished run is not trained again
    assert fit(TrainConfig(**TINY), out_dir=tmp_path, progress=False, dataset=digits).metrics == saved["metrics"]


def test_fit_is_deterministic_on_cpu(digits):
    cfg = TrainConfig(**{**TINY, "epochs": 1, "probes": False})
    a, b = fit(cfg, progress=False, dataset=digits), fit(cfg, progress=False, dataset=digits)
    assert _same(a.metrics, b.metrics)


@pytest.mark.parametrize("how", ["keyboard_interrupt", "sigint"])
def test_resume_after_interruption_reproduces_the_uninterrupted_run(tmp_path, digits, how):
    cfg = TrainConfig(**{**TINY, "schedule": "cosine", "model": "zplane", "optimizer": "adamw", "weight_decay": 0.01})
    full = fit(cfg, out_dir=tmp_path / "full", progress=False, dataset=digits)

    def interrupt(info):
        if info["step"] == 6:  # mid-epoch 2
            if how == "sigint":
                os.kill(os.getpid(), signal.SIGINT)
            else:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fit(cfg, out_dir=tmp_path / "cut", progress=False, dataset=digits, callback=interrupt)
    assert not (tmp_path / "cut" / "result.json").exists()
    resumed = fit(cfg, out_dir=tmp_path / "cut", progress=False, dataset=digits)
    assert resumed.status == "done"
    assert _same(resumed.metrics, full.metrics)
    assert [_same(a, b) for a, b in zip(resumed.history, full.history)] == [True] * 3
    assert resumed.probes["grad_norms_final"] == full.probes["grad_norms_final"]


def test_resume_from_a_periodic_checkpoint_after_a_kill(tmp_path, digits):
    """A killed process leaves its last periodic checkpoint: resuming from it (epoch 1 of 3)
    gives the uninterrupted run's final metrics."""
    cfg = TrainConfig(**{**TINY, "optimizer": "sgd", "lr": 0.05})
    snapshot = tmp_path / "killed"

    def copy_after_epoch_1(info):
        if info["step"] == 5:  # the epoch-1 checkpoint exists; later ones would not have been written
            shutil.copytree(tmp_path / "full", snapshot)

    full = fit(cfg, out_dir=tmp_path / "full", progress=False, dataset=digits, callback=copy_after_epoch_1)
    assert torch.load(snapshot / "checkpoint.pt", weights_only=True)["run"]["step"] == 4
    resumed = fit(cfg, out_dir=snapshot, progress=False, dataset=digits)
    assert _same(resumed.metrics, full.metrics)


def test_resume_refuses_a_different_config(tmp_path, digits):
    fit(TrainConfig(**{**TINY, "epochs": 1, "probes": False}), out_dir=tmp_path, progress=False, dataset=digits)
    with pytest.raises(ActlabError, match="different config.*depth"):
        fit(TrainConfig(**{**TINY, "epochs": 1, "probes": False, "depth": 2}), out_dir=tmp_path, progress=False)


class Poison(nn.Module):
    """Passes its input through until switched on, then returns NaN."""

    on = False

    def forward(self, x):
        return x * math.nan if Poison.on else x


def test_nan_guard_names_the_step_and_the_first_bad_layer(tmp_path, digits, monkeypatch):
    build = loop_module.build_model

    def poisoned(*args, **kw):
        model = build(*args, **kw)
        model.blocks[1].act = nn.Sequential(model.blocks[1].act, Poison())
        return model

    monkeypatch.setattr(loop_module, "build_model", poisoned)
    monkeypatch.setattr(Poison, "on", False)

    def switch_on(info):
        if info["step"] == 5:
            Poison.on = True

    result = fit(TrainConfig(**TINY), out_dir=tmp_path, progress=False, dataset=digits, callback=switch_on)
    assert result.status == "diverged"
    assert result.diverged == {"step": 6, "epoch": 2, "where": "forward", "layer": "layer 2",
                               "module": "blocks.1.act.1"}
    assert math.isnan(result.metrics["train_loss"])
    assert json.loads((tmp_path / "result.json").read_text())["diverged"]["layer"] == "layer 2"


def test_nan_guard_fires_on_a_diverging_learning_rate(digits):
    cfg = TrainConfig(**{**TINY, "optimizer": "sgd", "lr": 1e12, "depth": 6, "act": "relu"})
    result = fit(cfg, progress=False, dataset=digits)
    assert result.status == "diverged"
    d = result.diverged
    assert d["step"] >= 2 and d["where"] in ("forward", "loss", "gradient") and d["layer"]
    assert result.metrics["steps"] == d["step"] - 1


def test_probes_measure_what_they_say():
    h = torch.randn(64, 8)
    h[:, :2] = 0.0
    assert dead_fraction(torch.relu(h)) == pytest.approx(0.25)  # the two zero columns
    rank_one = torch.randn(64, 1) @ torch.randn(1, 8)
    assert effective_rank(rank_one) == pytest.approx(1.0, abs=1e-3)
    assert effective_rank(torch.eye(8)) == pytest.approx(8.0)
    assert orthogonality(torch.eye(8)) == pytest.approx(0.0) and orthogonality(rank_one) == pytest.approx(1.0, abs=1e-5)
    import actlab

    rb = actlab.get_activation("radial_bounding")
    assert Saturation(rb).fraction(rb(torch.tensor([[3.0, 4.0, 0.1, 0.1]]))) == 0.5
    assert Saturation(actlab.get_activation("tanh")).fraction(torch.tensor([0.0, 0.995, -0.999, 0.5])) == 0.5
    assert Saturation(actlab.get_activation("relu")).kind is None
    assert Saturation(actlab.get_activation("zorro")).kind is None  # bounded, but its bounds are not limits


def test_probes_attach_to_any_model_and_leave_it_unchanged():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    before = {k: v.clone() for k, v in net.state_dict().items()}
    out = run_probes(net, torch.randn(32, 5), torch.randint(0, 3, (32,)), nn.functional.cross_entropy)
    assert set(out["grad_norms"]) == {"0", "1", "2", "3"} and out["grad_norms"]["2"] is None
    assert out["dead_fraction"]["2"] is not None and out["nonfinite_count"]["3"] == 0
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert all(p.grad is None for p in net.parameters())


def test_cli_train_tiny_run_json(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", "--model", "zplane", "--depth", "3", "--width", "8", "--data", "digits", "--n-train", "128",
                 "--n-test", "64", "--epochs", "1", "--batch-size", "32", "--json", "--out", str(out)])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["status"] in ("done", "collapsed") and data["metrics"]["steps"] == 4  # 4 steps: may end at chance
    assert data["config"]["model"] == "zplane" and data["config"]["init"] == "orthogonal"  # the model's own, recorded
    for name in ("metrics.json", "metrics.csv", "result.json", "curves.png", "grad_profile.png"):
        assert (out / name).exists(), name
    # the same directory again without --resume is refused; with --resume it returns the finished run
    assert main(["train", "--depth", "3", "--out", str(out), "--json"]) == 2
    assert "already holds a run" in capsys.readouterr().err
    args = ["train", "--model", "zplane", "--depth", "3", "--width", "8", "--n-train", "128", "--n-test", "64",
            "--epochs", "1", "--batch-size", "32", "--out", str(out), "--resume"]
    assert main(args) == 0 and "zplane depth 3" in capsys.readouterr().out


@pytest.mark.parametrize("argv,message", [
    (["--act", "nope"], "unknown activation"),
    (["--depth", "0"], "depth must be an integer >= 1"),
    (["--init", "lecun"], "init must be one of"),
    (["--model", "cnn", "--data", "poly"], "image"),
])
def test_cli_train_bad_input_exits_2(tmp_path, capsys, argv, message):
    assert main(["train", "--epochs", "1", "--out", str(tmp_path / "r"), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


@pytest.mark.parametrize("model,extra", [("cnn", {"norm": "batchnorm"}), ("resnet", {}), ("vit", {}),
                                         ("zplane", {"complex_weights": True, "group_size": None})])
def test_fit_runs_every_model_kind(digits, model, extra):
    cfg = TrainConfig(**{**TINY, "model": model, "depth": 2, "width": 8, "steps": 2, "probe_every": 0, **extra})
    result = fit(cfg, progress=False, dataset=digits)
    assert result.status in ("done", "collapsed") and result.metrics["steps"] == 2  # 2 steps: maybe at chance
    assert result.probes["layers"][-1] == "readout" and result.probes["grad_norms_final"]["readout"] > 0


def test_fit_on_a_regression_task_reports_mse():
    cfg = TrainConfig(model="mlp", depth=2, width=16, act="tanh", data="poly", n_train=128, n_test=64, epochs=2,
                      batch_size=32, device="cpu", probes=False)
    result = fit(cfg, progress=False)
    assert result.status == "done" and result.metrics["test_mse"] == result.metrics["test_loss"] >= 0
    assert "test_acc" not in result.metrics


def test_step_checkpoints_are_written_between_epochs(tmp_path, digits):
    cfg = TrainConfig(**{**TINY, "epochs": 1, "checkpoint_every": 0, "checkpoint_every_steps": 3, "probes": False})
    seen = []
    fit(cfg, out_dir=tmp_path, progress=False, dataset=digits,
        callback=lambda info: seen.append(torch.load(tmp_path / "checkpoint.pt", weights_only=True)["run"]["step"])
        if (tmp_path / "checkpoint.pt").exists() else seen.append(None))
    assert seen == [None, None, 3, 3]


def test_validation_split_trials_never_evaluate_the_test_set(digits):
    cfg = TrainConfig(**{**TINY, "val_fraction": 0.25, "eval_test": False, "probes": False})
    result = fit(cfg, progress=False)
    assert all("val_acc" in row and "val_loss" in row and not any(k.startswith("test") for k in row)
               for row in result.history)
    assert "val_acc" in result.metrics and not any(k.startswith("test") for k in result.metrics)
    full = fit(TrainConfig(**{**TINY, "val_fraction": 0.25, "probes": False}), progress=False)
    assert {"val_acc", "test_acc"} <= set(full.history[-1]) and full.metrics["val_acc"] == result.metrics["val_acc"]
    given = fit(cfg, dataset=digits, progress=False)  # a dataset passed in is split the same way
    assert given.metrics["steps"] == 3 * ((256 - 64) // 64)


def test_on_epoch_stops_training_early(digits):
    seen = []
    result = fit(TrainConfig(**{**TINY, "probes": False}), dataset=digits, progress=False,
                 on_epoch=lambda row: seen.append(row["epoch"]) or len(seen) == 2)
    assert seen == [1, 2] and result.status == "done" and result.metrics["epochs"] == 2


@pytest.mark.parametrize("fraction", [0.0, 1.0, 1.5, -0.2])
def test_val_fraction_outside_0_1_is_an_error(fraction):
    with pytest.raises(ActlabError, match="val_fraction must be"):
        TrainConfig(val_fraction=fraction)
