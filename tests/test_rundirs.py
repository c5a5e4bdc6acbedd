"""Run directories in real use: one owner at a time, readers while it runs and on read-only media,
nothing written by a training run that never started, progress in logs."""
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from actlab.errors import ActlabError
from actlab.experiments import load, parse_spec, run_sweep
from actlab.experiments.report import build_report
from actlab.places import RunLock

SRC = Path(__file__).resolve().parents[1] / "src"
SLOW_TOY = """
name = "slow"
task = "toy"
[base]
epochs = 2
sleep = 0.4
[sweep]
seed = [0, 1, 2, 3]
"""


def _actlab(*args, cwd, **kw) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(SRC), "ACTLAB_PROGRESS_SECONDS": "0"}
    return subprocess.Popen([sys.executable, "-m", "actlab", *map(str, args)], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def _some_run_started(out: Path) -> bool:
    try:
        return not load(out)["status"].eq("pending").all()
    except ActlabError:  # no store yet, or its tables not yet created
        return False


def test_two_concurrent_runs_on_one_directory(tmp_path):
    """The second `run --resume` exits 2 naming the first's pid; the first completes; each run is recorded once;
    `load` and `report` work while the first holds the directory."""
    (tmp_path / "slow.toml").write_text(SLOW_TOY)
    out = tmp_path / "runs"
    first = _actlab("run", "slow.toml", "--out", out, "--workers", "1", cwd=tmp_path)
    deadline = time.monotonic() + 120
    while not _some_run_started(out):
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()
        time.sleep(0.1)
    first.send_signal(signal.SIGSTOP)  # hold the first mid-sweep, however slow the second is to start
    try:
        second = _actlab("run", "slow.toml", "--out", out, "--resume", cwd=tmp_path)
        _, err = second.communicate(timeout=120)
        assert second.returncode == 2 and err.count("\n") == 1 and f"pid {first.pid}" in err, err
        assert len(load(out)) == 4 and build_report(out, out=tmp_path / "live-report").exists()
    finally:
        first.send_signal(signal.SIGCONT)
    stdout, stderr = first.communicate(timeout=300)
    assert first.returncode == 0, stderr
    df = load(out)
    assert len(df) == 4 and (df["status"] == "done").all() and (df["attempts"] == 1).all()
    progress = [line for line in stderr.splitlines() if line.startswith("actlab: slow ")]
    assert len(progress) == 4 and progress[-1].startswith("actlab: slow 4/4 runs (4 done, 0 diverged, 0 collapsed, 0 failed)")


def test_the_lock_dies_with_its_holder(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; sys.path.insert(0, sys.argv[1]); "
                               "from actlab.places import RunLock; RunLock(sys.argv[2]).acquire(); "
                               "print('held', flush=True); time.sleep(600)", str(SRC), str(tmp_path)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(ActlabError, match=f"pid {holder.pid}"):
        RunLock(tmp_path).acquire()
    holder.kill()  # SIGKILL: no cleanup ran, and still the lock is free
    holder.wait()
    with RunLock(tmp_path):
        pass


def _read_only_prefix(path: Path) -> list:
    """A command prefix under which `path` is read-only for real: chmod for a normal user;
    for root (whom chmod does not stop) a private read-only bind mount."""
    if os.geteuid() != 0:
        for p in [path, *path.rglob("*")]:
            p.chmod(p.stat().st_mode & ~0o222)
        return []
    unshare = shutil.which("unshare")
    probe = subprocess.run([unshare or "unshare", "-m", "sh", "-c", f"mount --bind -o ro '{path}' '{path}'"],
                           capture_output=True) if unshare else None
    if probe is None or probe.returncode != 0:
        pytest.skip("root without mount namespaces: no way to make a directory read-only here")
    return [unshare, "-m", "sh", "-c", f"mount --bind -o ro '{path}' '{path}' && exec \"$@\"", "sh"]


def test_report_and_load_on_read_only_media(tmp_path):
    out = tmp_path / "sweep"
    run_sweep(parse_spec(SLOW_TOY.replace("sleep = 0.4", "sleep = 0.0")), out=out, workers=0, progress=False)
    prefix = _read_only_prefix(out)
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    try:
        r = subprocess.run([*prefix, sys.executable, "-m", "actlab", "report", str(out)], capture_output=True,
                           text=True, env=env, timeout=300)
        assert r.returncode == 2 and r.stderr.count("\n") == 1 and "--out" in r.stderr, r.stderr
        r = subprocess.run([*prefix, sys.executable, "-m", "actlab", "report", str(out), "--out",
                            str(tmp_path / "rep")], capture_output=True, text=True, env=env, timeout=300)
        assert r.returncode == 0, r.stderr
        assert (tmp_path / "rep" / "index.md").exists() and not (out / "report").exists()
        r = subprocess.run([*prefix, sys.executable, "-c", "import sys; from actlab.experiments import load; "
                            "print(len(load(sys.argv[1])))", str(out)], capture_output=True, text=True, env=env,
                           timeout=300)
        assert r.returncode == 0 and r.stdout.strip() == "4", r.stderr
    finally:
        for p in [out, *out.rglob("*")]:
            p.chmod(p.stat().st_mode | 0o200)


def test_progress_lines_off_a_terminal(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ACTLAB_PROGRESS_SECONDS", "0")
    run_sweep(parse_spec(SLOW_TOY.replace("sleep = 0.4", "sleep = 0.0")), out=tmp_path, workers=0)
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(" runs")[0] for line in lines] == [f"actlab: slow {i}/4" for i in range(1, 5)]
    assert "elapsed" in lines[-1] and "left" in lines[0] and "left" not in lines[-1]


def test_progress_lines_are_throttled(capsys, monkeypatch):
    from actlab.progress import track

    monkeypatch.setenv("ACTLAB_PROGRESS_SECONDS", "3600")
    assert list(track(range(5), "scan", "alpha")) == list(range(5))
    assert capsys.readouterr().err.splitlines() == ["actlab: scan 5/5 alphas, 0:00 elapsed"]  # the last only


TINY = ["--depth", "1", "--width", "8", "--epochs", "1", "--n-train", "64", "--n-test", "32", "--no-probes",
        "--no-plots"]


def test_train_writes_nothing_until_it_can_start_and_resume_begins_a_fresh_run(run_cli, tmp_path):
    out = tmp_path / "t"
    code, _, err = run_cli("train", *TINY, "--data", "mnist", "--data-root", str(tmp_path / "nodata"),
                           "--out", str(out))
    assert code == 2 and "--data-root DIR" in err and not out.exists()
    code, _, err = run_cli("train", *TINY, "--out", str(out), "--resume")  # a run that never started: begun
    assert code == 0, err
    assert (out / "result.json").exists()


def test_a_held_training_directory_is_refused(tmp_path):
    from actlab.train import fit

    with RunLock(tmp_path):
        with pytest.raises(ActlabError, match=f"pid {os.getpid()}"):
            fit({"depth": 1, "width": 8, "epochs": 1, "n_train": 64, "n_test": 32, "probes": False},
                out_dir=tmp_path, progress=False)
    assert not (tmp_path / "train_config.json").exists()
