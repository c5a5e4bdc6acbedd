"""Experiment specs: expansion into runs, run ids, and validation messages that name the bad key."""
import sys

import pytest

from actlab.errors import ActlabError
from actlab.experiments import Field, RunResult, TaskSchema, parse_spec, register_task, run_id, tasks

SPEC = """
name = "grid"
task = "toy"
[base]
epochs = 2
lr = 0.5
[sweep]
activation = ["relu", "tanh"]
depth = [2, 4, 8]
seed = [0, 1]
"""


def test_sweep_expands_to_cartesian_product_in_written_order():
    spec = parse_spec(SPEC)
    runs = spec.runs()
    assert len(runs) == 2 * 3 * 2
    assert [r.position for r in runs] == list(range(12))
    assert runs[0].config == {"epochs": 2, "lr": 0.5, "activation": "relu", "depth": 2, "seed": 0}
    assert runs[1].config["seed"] == 1 and runs[2].config["depth"] == 4
    assert runs[-1].config == {"epochs": 2, "lr": 0.5, "activation": "tanh", "depth": 8, "seed": 1}
    assert len({r.id for r in runs}) == 12
    assert spec.axes == ["activation", "depth", "seed"]


def test_include_adds_runs_and_duplicates_collapse():
    spec = parse_spec(SPEC + """
[[include]]
activation = "identity"
depth = 16
[[include]]
activation = "relu"
depth = 2
seed = 0
""")
    runs = spec.runs()
    assert len(runs) == 13  # the second include repeats a grid point
    assert runs[-1].config["activation"] == "identity" and runs[-1].config["depth"] == 16


def test_run_id_ignores_key_order_and_int_float_spelling():
    assert run_id("toy", {"a": 1, "b": [1, 2]}) == run_id("toy", {"b": [1, 2], "a": 1})
    assert run_id("toy", {"a": 1}) != run_id("toy", {"a": 2})
    assert run_id("toy", {"a": 1}) != run_id("other", {"a": 1})
    as_int = parse_spec('task = "toy"\n[base]\nlr = 1\n').runs()[0]
    as_float = parse_spec('task = "toy"\n[base]\nlr = 1.0\n').runs()[0]
    assert as_int.id == as_float.id and as_int.config["lr"] == 1.0
    assert len(as_int.id) == 12


@pytest.mark.parametrize("text, fragments", [
    ('task = "toy"\n[base]\ndepht = 3\n', ["[base]", "unknown key 'depht'", "depth", "activation"]),
    ('task = "toy"\n[sweep]\nactivation = ["relu", "swish"]\n', ["activation[1]", "'swish'", "'relu', 'tanh'"]),
    ('task = "toy"\n[sweep]\ndepth = ["deep"]\n', ["'depth' must be int", "'deep'"]),
    ('task = "toy"\n[base]\nfail = 1\n', ["'fail' must be bool"]),
    ('task = "toy"\n[sweep]\ndepth = 3\n', ["axis 'depth' must be a non-empty list"]),
    ('task = "toy"\n[sweep]\ndepth = [2, 2]\n', ["lists a value twice"]),
    ('task = "nope"\n', ["unknown task 'nope'", "toy", "train"]),
    ('task = "toy"\nsweeps = 1\n', ["unknown top-level key 'sweeps'", "sweep"]),
    ('name = "x"\n', ["missing 'task'"]),
    ('task = "toy"\n[[include]]\nwidht = 3\n', ["[[include]] #1", "unknown key 'widht'"]),
    ('task = "toy"\n[sweep]\ndepth = [2]\n[report]\nx = "width"\n', ["'x' must be a sweep axis", "depth"]),
    ('task = "toy"\n[report]\nplot = "x"\n', ["[report]", "unknown key 'plot'", "group_by"]),
    ('task = "toy"\nname = "../up"\n', ["'name' must be a plain file name"]),
    ('task = "toy"\n[base\n', ["not valid TOML"]),
])
def test_validation_errors_name_the_key_and_the_allowed_values(text, fragments):
    with pytest.raises(ActlabError) as info:
        parse_spec(text, origin="bad.toml")
    message = str(info.value)
    assert message.startswith("bad.toml")
    for fragment in fragments:
        assert fragment in message


def _never_called(config, run_dir):
    return RunResult()


def _check_pair(config):
    if config.get("low", 0) > config.get("high", 1):
        raise ActlabError("'low' must not exceed 'high'")


def test_whole_config_check_and_lazy_schema_report_the_failing_point(monkeypatch):
    monkeypatch.setattr(tasks, "_TASKS", dict(tasks._TASKS))  # keep the test's tasks out of the registry
    calls = []

    def lazy():
        calls.append(1)
        return TaskSchema(keys=["low", "high"], check=_check_pair)

    register_task("pair_test", _never_called, lazy)
    assert not calls  # a lazy schema is built only when a spec is validated
    assert len(parse_spec('task = "pair_test"\n[sweep]\nlow = [0, 1]\nhigh = [3]\n').runs()) == 2
    assert calls
    with pytest.raises(ActlabError, match=r"p.toml: run \(low=5, high=3\): 'low' must not exceed 'high'"):
        parse_spec('task = "pair_test"\n[sweep]\nlow = [0, 5]\nhigh = [3]\n', origin="p.toml")
    register_task("typed_test", _never_called, TaskSchema(fields={"k": Field((int, str))}))
    assert len(parse_spec('task = "typed_test"\n[sweep]\nk = [1, "a"]\n').runs()) == 2


def test_train_task_follows_the_training_contract(monkeypatch, tmp_path):
    """The `train` adapter against a stand-in actlab.train with the agreed interface."""
    import types

    from actlab.experiments import load, run_sweep

    class TrainConfig(dict):
        @staticmethod
        def allowed_keys():
            return ("depth", "activation")

        @classmethod
        def from_dict(cls, config):
            if config.get("depth", 1) < 1:
                raise ActlabError("'depth' must be >= 1")
            return cls(config)

        def check_buildable(self):  # what a run would hit after loading its data
            if self.get("activation") == "nosuch":
                raise ActlabError("unknown activation 'nosuch'")

    def fit(cfg, out_dir, progress, on_epoch=None):
        assert progress is False and out_dir.is_dir() and callable(on_epoch)
        diverged = cfg["activation"] == "relu" and cfg["depth"] > 5
        return types.SimpleNamespace(
            status="diverged" if diverged else "done", metrics={"test_acc": 0.5 + 0.01 * cfg["depth"]},
            history=[{"epoch": 1, "loss": 1.0}], diverged={"step": 7, "layer": "blocks.3"} if diverged else None,
            collapsed=None, probes={"grad_norms_init": [1.0, 0.5]})

    monkeypatch.setitem(sys.modules, "actlab.train", types.SimpleNamespace(TrainConfig=TrainConfig, fit=fit))
    with pytest.raises(ActlabError, match="unknown key 'width'; allowed keys: activation, depth"):
        parse_spec('task = "train"\n[base]\nwidth = 3\n')
    with pytest.raises(ActlabError, match=r"run \(depth=0\): 'depth' must be >= 1"):
        parse_spec('task = "train"\n[sweep]\ndepth = [0]\n')
    with pytest.raises(ActlabError, match=r"run \(activation='nosuch'\): unknown activation 'nosuch'"):
        parse_spec('task = "train"\n[sweep]\nactivation = ["relu", "nosuch"]\n')
    spec = parse_spec('task = "train"\n[sweep]\nactivation = ["relu", "tanh"]\ndepth = [2, 10]\n')
    run_sweep(spec, out=tmp_path, workers=0, progress=False)
    df = load(tmp_path).set_index(["activation", "depth"])
    assert df.loc[("relu", 10), "status"] == "diverged" and df.loc[("relu", 10), "diverged_layer"] == "blocks.3"
    assert df.loc[("tanh", 10), "test_acc"] == pytest.approx(0.6)
    assert (df["status"] != "failed").all()


def test_run_result_turns_array_scalars_into_json():
    import json

    import numpy as np

    result = RunResult(metrics={"acc": np.float32(0.5)}, history=[{"epoch": np.int64(1), "loss": np.float64(2.0)}],
                       extra={"grad_norms_init": np.array([1.0, 0.25])}, diverged_at={"step": np.int64(3)})
    assert json.loads(json.dumps(result.__dict__)) == {
        "status": "done", "metrics": {"acc": 0.5}, "history": [{"epoch": 1, "loss": 2.0}],
        "diverged_at": {"step": 3}, "extra": {"grad_norms_init": [1.0, 0.25]}}
    with pytest.raises(ValueError, match="status must be one of done, diverged"):
        RunResult(status="failed")


def test_includes_without_a_sweep_are_the_whole_spec():
    only = parse_spec('task = "toy"\n[base]\nepochs = 1\n[[include]]\ndepth = 2\n[[include]]\ndepth = 3\n')
    assert [r.config for r in only.runs()] == [{"epochs": 1, "depth": 2}, {"epochs": 1, "depth": 3}]
    assert [r.config for r in parse_spec('task = "toy"\n[base]\nepochs = 1\n').runs()] == [{"epochs": 1}]
