"""The Ray backend stores the same results table as the local one (skipped where Ray is absent)."""
import pandas as pd
import pytest

from actlab.experiments import load, parse_spec, run_sweep

ray = pytest.importorskip("ray")

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
"""


@pytest.fixture(scope="module")
def ray_instance():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def _table(run_dir):
    df = load(run_dir).sort_values("id").reset_index(drop=True)
    df["error"] = df["error"].str.split("\n").str[0]
    return df.drop(columns=["duration", "started", "finished"])


def test_ray_matches_local(ray_instance, tmp_path):
    spec = parse_spec(SPEC)
    run_sweep(spec, out=tmp_path / "local", workers=2, progress=False)
    summary = run_sweep(spec, out=tmp_path / "ray", backend="ray", progress=False)
    assert summary.counts == {"pending": 0, "running": 0, "done": 4, "diverged": 1, "failed": 1}
    local, remote = _table(tmp_path / "local"), _table(tmp_path / "ray")
    pd.testing.assert_frame_equal(local, remote)
    assert (tmp_path / "ray" / "runs" / local.loc[local["status"] == "done", "id"].iloc[0] / "history.json").exists()
