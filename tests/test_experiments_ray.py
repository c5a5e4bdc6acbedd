"""The Ray backend stores the same results table as the local one (skipped where Ray is absent)."""
import pandas as pd
import pytest

from actlab.errors import ActlabError
from actlab.experiments import load, parse_spec, run_sweep

ray = pytest.importorskip("ray")
# One xdist worker runs every test that starts or looks for a Ray cluster (`--address auto`
# finds any cluster on the machine), so none sees another's.
pytestmark = pytest.mark.xdist_group("ray")

SPEC = """
name = "tiny"
task = "toy"
[base]
epochs = 2
[sweep]
activation = ["relu", "tanh"]
seed = [0, 1]
[[include]]
fail = true
[[include]]
diverge_at = 1
[[include]]
sleep = 60.0
epochs = 1
"""


@pytest.fixture(scope="module")
def ray_instance():
    ray.init(num_cpus=2, num_gpus=0, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def _table(run_dir):
    df = load(run_dir).sort_values("id").reset_index(drop=True)
    df["error"] = df["error"].str.split(":").str[0]  # the messages' wording differs by backend
    return df.drop(columns=["duration", "started", "finished"])


def test_ray_matches_local(ray_instance, tmp_path):
    spec = parse_spec(SPEC)
    run_sweep(spec, out=tmp_path / "local", workers=1, progress=False, timeout=2.0)
    summary = run_sweep(spec, out=tmp_path / "ray", backend="ray", progress=False, timeout=2.0)
    assert summary.counts == {"pending": 0, "running": 0, "done": 4, "diverged": 1, "collapsed": 0, "pruned": 0, "failed": 2}
    local, remote = _table(tmp_path / "local"), _table(tmp_path / "ray")
    pd.testing.assert_frame_equal(local, remote)
    assert sorted(remote["error"].dropna()) == ["RuntimeError", "TimeoutError"]
    assert (tmp_path / "ray" / "runs" / local.loc[local["status"] == "done", "id"].iloc[0] / "history.json").exists()


def test_ray_refuses_more_gpus_per_run_than_the_cluster_has(ray_instance, tmp_path):
    with pytest.raises(ActlabError, match="--gpus-per-run 0.5 but the Ray cluster has 0 GPUs"):
        run_sweep(parse_spec(SPEC), out=tmp_path, backend="ray", gpus_per_run=0.5, progress=False)


def test_a_tuned_sweep_runs_on_ray_and_its_workers_report_to_the_study(ray_instance, tmp_path):
    optuna = pytest.importorskip("optuna")
    from test_experiments_tune import TUNED

    spec = parse_spec(TUNED)
    run_sweep(spec, out=tmp_path / "local", workers=0, progress=False)
    summary = run_sweep(spec, out=tmp_path / "ray", backend="ray", progress=False)
    assert summary.failed == [] and summary.no_finals == []
    local, remote = load(tmp_path / "local"), load(tmp_path / "ray")
    trial_ids = lambda df: set(df.loc[df["phase"] == "trial", "id"])  # noqa: E731
    assert trial_ids(remote) == trial_ids(local)  # the same candidates, whatever the timing
    assert (remote["phase"] == "final").sum() == 6 and remote["test_acc"].notna().sum() == 6
    storage = f"sqlite:///{tmp_path / 'ray' / 'tune.sqlite'}"
    for summary_ in optuna.get_all_study_summaries(storage):
        study = optuna.load_study(study_name=summary_.study_name, storage=storage)
        assert len(study.trials) == 5 and all(t.intermediate_values for t in study.trials)
