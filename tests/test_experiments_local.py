"""The local backend: worker processes survive failing, diverging and crashing runs; kill and resume."""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from actlab.cli import main
from actlab.errors import ActlabError
from actlab.experiments import load, parse_spec, run_sweep

SRC = Path(__file__).resolve().parents[1] / "src"

MIXED = """
name = "mixed"
task = "toy"
[base]
epochs = 3
[sweep]
activation = ["relu", "tanh"]
seed = [0, 1]
[[include]]
fail = true
[[include]]
crash = true
[[include]]
diverge_at = 2
depth = 5
[[include]]
sleep = 60.0
epochs = 1
"""


@pytest.fixture(scope="module")
def mixed_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("mixed") / "run"
    summary = run_sweep(parse_spec(MIXED), out=out, workers=2, progress=False, timeout=2.0)
    return out, summary


def test_local_backend_records_failures_without_losing_the_sweep(mixed_dir):
    out, summary = mixed_dir
    assert summary.total == summary.executed == 8
    assert summary.counts == {"pending": 0, "running": 0, "done": 4, "diverged": 1, "collapsed": 0, "pruned": 0, "failed": 3}
    df = load(out).set_index("id")
    raised = df[df["fail"] == True].iloc[0]  # noqa: E712
    assert raised["status"] == "failed" and raised["error"].startswith("RuntimeError: toy run failed on purpose")
    assert "Traceback" in raised["error"]
    crashed = df[df["crash"] == True].iloc[0]  # noqa: E712
    assert crashed["status"] == "failed" and "exit code 3" in crashed["error"]
    slow = df[df["sleep"] == 60.0].iloc[0]
    assert slow["status"] == "failed" and slow["error"].startswith("TimeoutError: the run passed the time limit of 2 s")
    assert 2.0 <= slow["duration"] < 30
    diverged = df[df["status"] == "diverged"].iloc[0]
    assert (diverged["diverged_step"], diverged["diverged_layer"]) == (2, "layer4")
    done = df[df["status"] == "done"]
    assert done["acc"].between(0, 1).all() and (done["attempts"] == 1).all()
    assert (done["duration"] >= 0).all()
    for rid in done.index:  # per-run files beside the database
        history = json.loads((out / "runs" / rid / "history.json").read_text())
        assert [h["epoch"] for h in history] == [1, 2, 3]
        assert history[-1]["acc"] == pytest.approx(done.loc[rid, "acc"])
        assert (out / "runs" / rid / "toy.txt").exists()  # written by the task itself, in its run dir
    with sqlite3.connect(out / "results.sqlite") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_existing_run_dir_needs_resume_and_resume_reruns_only_failed(mixed_dir, tmp_path):
    out, _ = mixed_dir
    with pytest.raises(ActlabError, match="--resume"):
        run_sweep(parse_spec(MIXED), out=out, workers=0)
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in os.listdir(out):
        if name.startswith("results.sqlite"):
            (copy / name).write_bytes((out / name).read_bytes())
    # edit the spec: drop the crashing and the slow run, add a seed. Resume runs the new runs and the failure
    # still in the spec (fail = true, which fails again); the crashed run, no longer in the spec, is left alone.
    edited = MIXED.replace("[[include]]\ncrash = true\n", "").replace("[[include]]\nsleep = 60.0\nepochs = 1\n", "")
    spec = parse_spec(edited.replace("seed = [0, 1]", "seed = [0, 1, 2]"))
    before = load(copy).set_index("id")
    summary = run_sweep(spec, out=copy, workers=0, resume=True, progress=False)
    after = load(copy).set_index("id")
    assert summary.total == 8 and summary.executed == 3
    assert len(after) == 10 and after.index.is_unique
    new = after.index.difference(before.index)
    assert sorted(after.loc[new, "seed"]) == [2, 2] and (after.loc[new, "status"] == "done").all()
    assert list(after[after["attempts"] == 2]["fail"]) == [True]
    assert after.loc[after["crash"] == True, "attempts"].tolist() == [1]  # noqa: E712
    unchanged = before[before["status"].isin(["done", "diverged"])].index
    assert (after.loc[unchanged, "finished"] == before.loc[unchanged, "finished"]).all()

def test_sigkill_then_resume_records_every_run_exactly_once(tmp_path):
    spec = tmp_path / "slow.toml"
    spec.write_text('name = "slow"\ntask = "toy"\n[base]\nepochs = 2\nsleep = 0.3\n[sweep]\nseed = [0, 1, 2, 3, 4, 5, 6, 7]\n')
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-m", "actlab", "run", str(spec), "--out", str(out), "--workers", "2"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    done = 0
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.1)
        try:
            with sqlite3.connect(out / "results.sqlite", timeout=5) as db:
                done = db.execute("SELECT COUNT(*) FROM runs WHERE status = 'done'").fetchone()[0]
        except sqlite3.OperationalError:  # not created yet
            continue
        if done >= 2:
            break
    assert proc.poll() is None, f"sweep ended before it could be killed: {proc.stderr.read().decode()}"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    interrupted = load(out)
    assert (interrupted["status"] == "done").sum() < 8  # killed partway

    assert main(["run", str(spec), "--out", str(out), "--workers", "1", "--resume"]) == 0
    with sqlite3.connect(out / "results.sqlite") as db:
        rows = db.execute("SELECT id, status, attempts FROM runs").fetchall()
    assert len(rows) == 8 and len({r[0] for r in rows}) == 8
    assert {r[1] for r in rows} == {"done"}
    assert {r[0] for r in rows} == {r.id for r in parse_spec(spec.read_text()).runs()}
    first_done = set(interrupted.loc[interrupted["status"] == "done", "id"])
    assert all(a == 1 for rid, _, a in rows if rid in first_done)  # finished runs were not run again


def test_cli_run_json_and_exit_codes(tmp_path, capsys):
    spec = tmp_path / "ok.toml"
    spec.write_text('task = "toy"\n[sweep]\nseed = [0, 1]\n')
    assert main(["run", str(spec), "--out", str(tmp_path / "a"), "--workers", "0", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["counts"]["done"] == 2 and summary["executed"] == 2
    bad = tmp_path / "bad.toml"
    bad.write_text('task = "toy"\n[sweep]\nseed = [0]\nfail = [true]\n')
    assert main(["run", str(bad), "--out", str(tmp_path / "b"), "--workers", "0"]) == 1
    assert "failed" in capsys.readouterr().out
    assert main(["run", str(tmp_path / "missing.toml")]) == 2
    assert "spec file not found" in capsys.readouterr().err
