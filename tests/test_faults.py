"""The fault corpus: bad input and environment faults, each exactly one line on stderr, no traceback, exit 2.

Grow it with every bug found: one row in CASES (arguments, with placeholders) and,
when the fault needs files, a SPECS entry or a SETUPS function. Placeholders:
    {tmp}        a fresh temporary directory
    {spec:NAME}  a file holding SPECS[NAME] (str: UTF-8 text; bytes: written as they are)
    {nowhere}    a place nobody can create (ENOENT under /proc, root included)
Cases run in-process (fast); SUBPROCESS_CASES run `python -m actlab` for real.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from actlab.places import RunLock

SRC = Path(__file__).resolve().parents[1] / "src"
NOWHERE = "/proc/actlab-nowhere/sub"

TOY = 'task = "toy"\n[base]\nepochs = 1\n'
TRAIN = 'task = "train"\n[base]\nepochs = 1\n'
SPECS = {
    "good": TOY,
    "latin1": 'task = "toy"\nname = "caf\xe9"\n'.encode("latin-1"),
    "utf16": TOY.encode("utf-16"),
    "not_toml": 'task = "toy"\n[base\n',
    "unknown_top_key": 'swep = 1\n' + TOY,
    "no_task": 'name = "x"\n',
    "unknown_task": 'task = "nosuch"\n',
    "name_slash": 'task = "toy"\nname = "a/b"\n',
    "base_not_table": 'task = "toy"\nbase = 3\n',
    "axis_not_list": TOY + '[sweep]\ndepth = 3\n',
    "axis_empty": TOY + '[sweep]\ndepth = []\n',
    "axis_duplicate": TOY + '[sweep]\ndepth = [2, 2]\n',
    "toy_unknown_key": TOY + 'dept = 3\n',
    "toy_wrong_type": TOY + 'depth = "deep"\n',
    "toy_bad_choice": TOY + 'activation = "swish"\n',
    "toy_bool_as_int": TOY + 'depth = true\n',
    "include_not_table": 'include = [1]\n' + TOY,
    "tensorboard_not_bool": 'task = "toy"\ntensorboard = "yes"\n',
    "report_x_not_axis": TOY + '[sweep]\ndepth = [2, 3]\n[report]\nx = "width"\n',
    "report_unknown_key": TOY + '[report]\ncolour = "red"\n',
    "report_metrics_not_list": TOY + '[report]\nmetrics = "acc"\n',
    "train_act_bad_param": TRAIN + '[sweep]\nact = ["relu", "zorro(a=-1)"]\n',
    "train_act_unknown": TRAIN + 'act = "swishh"\n',
    "train_act_malformed": TRAIN + 'act = "zorro(a=)"\n',
    "train_act_unknown_param": TRAIN + 'act = "mrepu(q=2)"\n',
    "train_data_typo": TRAIN + 'data = "mnsit"\n',
    "train_data_option": TRAIN + 'data = "poly(colour=1)"\n',
    "train_data_target": TRAIN + 'data = "poly(target=abc)"\n',
    "train_model_unknown": TRAIN + 'model = "transformer"\n',
    "train_zplane_norm": TRAIN + 'model = "zplane"\nnorm = "layernorm"\n',
    "train_vit_norm": TRAIN + 'model = "vit"\nnorm = "batchnorm"\n',
    "train_cnn_on_vectors": TRAIN + 'model = "cnn"\ndata = "poly"\n',
    "train_lr_negative": TRAIN + 'lr = -1\n',
    "train_epochs_zero": TRAIN + '[sweep]\nepochs = [1, 0]\n',
    "train_optimizer": TRAIN + 'optimizer = "adagrad"\n',
    "train_unknown_key": TRAIN + 'learning_rate = 0.1\n',
    "train_norm_unknown": TRAIN + 'norm = "groupnorm"\n',
    "train_init_unknown": TRAIN + 'init = "lecun"\n',
}


def _run_dir(tmp: Path) -> None:
    from actlab.experiments import parse_spec, run_sweep

    run_sweep(parse_spec(TOY), out=tmp / "sweep", workers=0, progress=False)


def _garbage_db(tmp: Path) -> None:
    (tmp / "bad").mkdir()
    (tmp / "bad" / "results.sqlite").write_bytes(b"this is not a database" * 100)


def _other_train_run(tmp: Path) -> None:
    (tmp / "trained").mkdir()
    (tmp / "trained" / "train_config.json").write_text('{"model": "mlp", "depth": 7}')


def _a_file(tmp: Path) -> None:
    (tmp / "file").write_text("not a directory")


SETUPS = {"run_dir": _run_dir, "garbage_db": _garbage_db, "other_train_run": _other_train_run, "a_file": _a_file}

CASES = [
    # ---- run: the spec file
    ("run-missing-spec", ["run", "{tmp}/nosuch.toml"], None),
    ("run-spec-is-a-directory", ["run", "{tmp}"], None),
    *[(f"run-spec-{name}", ["run", f"{{spec:{name}}}", "--out", "{tmp}/out"], None)
      for name in SPECS if name != "good"],
    # ---- run: flags and places
    ("run-workers-negative", ["run", "{spec:good}", "--workers", "-1", "--out", "{tmp}/o"], None),
    ("run-timeout-zero", ["run", "{spec:good}", "--timeout", "0", "--out", "{tmp}/o"], None),
    ("run-gpus-negative", ["run", "{spec:good}", "--gpus-per-run", "-1", "--out", "{tmp}/o"], None),
    ("run-backend-unknown", ["run", "{spec:good}", "--backend", "slurm"], None),
    ("run-workers-not-int", ["run", "{spec:good}", "--workers", "two"], None),
    ("run-unknown-flag", ["run", "{spec:good}", "--fast"], None),
    ("run-out-unwritable", ["run", "{spec:good}", "--out", "{nowhere}"], None),
    ("run-out-is-a-file", ["run", "{spec:good}", "--out", "{tmp}/file"], "a_file"),
    ("run-existing-without-resume", ["run", "{spec:good}", "--out", "{tmp}/sweep"], "run_dir"),
    ("run-locked-dir", ["run", "{spec:good}", "--out", "{tmp}/locked", "--workers", "0"], "locked"),
    ("run-resume-locked-dir", ["run", "{spec:good}", "--out", "{tmp}/locked", "--resume"], "locked"),
    # ---- report
    ("report-missing-dir", ["report", "{tmp}/nosuch"], None),
    ("report-not-a-run-dir", ["report", "{tmp}"], None),
    ("report-garbage-database", ["report", "{tmp}/bad"], "garbage_db"),
    ("report-out-unwritable", ["report", "{tmp}/sweep", "--out", "{nowhere}"], "run_dir"),
    ("report-out-is-a-file", ["report", "{tmp}/sweep", "--out", "{tmp}/file"], "run_dir+a_file"),
    ("report-no-dir", ["report"], None),
    # ---- reproduce
    ("reproduce-unknown-suite", ["reproduce", "nosuch", "--out", "{tmp}/r"], None),
    ("reproduce-unknown-profile", ["reproduce", "zplane", "--profile", "medium"], None),
    ("reproduce-out-unwritable", ["reproduce", "zplane", "--out", "{nowhere}"], None),
    # ---- train
    ("train-act-unknown", ["train", "--act", "swishh", "--out", "{tmp}/t"], None),
    ("train-act-bad-param", ["train", "--act", "zorro(a=-1)", "--out", "{tmp}/t"], None),
    ("train-data-typo", ["train", "--data", "mnsit", "--out", "{tmp}/t"], None),
    ("train-data-root-missing", ["train", "--data", "mnist", "--data-root", "{tmp}/nodata", "--out", "{tmp}/t"],
     None),
    ("train-data-dir-alias-missing", ["train", "--data", "mnist", "--data-dir", "{tmp}/nodata", "--out", "{tmp}/t"],
     None),
    ("train-epochs-zero", ["train", "--epochs", "0"], None),
    ("train-lr-not-a-number", ["train", "--lr", "fast"], None),
    ("train-zplane-norm", ["train", "--model", "zplane", "--norm", "layernorm", "--out", "{tmp}/t"], None),
    ("train-group-size", ["train", "--group-size", "two"], None),
    ("train-model-unknown", ["train", "--model", "transformer"], None),
    ("train-other-config", ["train", "--epochs", "1", "--out", "{tmp}/trained", "--resume"], "other_train_run"),
    ("train-out-unwritable", ["train", "--epochs", "1", "--n-train", "64", "--n-test", "32", "--depth", "1",
                              "--width", "8", "--no-probes", "--out", "{nowhere}"], None),
    # ---- activations and theory
    ("show-unknown", ["show", "nosuch"], None),
    ("show-plot-not-an-image", ["show", "relu", "--plot", "{tmp}/x.txt"], None),
    ("show-plot-unwritable", ["show", "relu", "--plot", "{nowhere}/a.png"], None),
    ("show-plot-is-a-directory", ["show", "relu", "--plot", "{tmp}"], None),
    ("gallery-out-unwritable", ["gallery", "--out", "{nowhere}"], None),
    ("fit-unknown-target", ["fit", "nosuch"], None),
    ("fit-bad-interval", ["fit", "gelu", "--low", "x"], None),
    ("theory-unknown", ["theory", "nosuch"], None),
    ("theory-plot-unwritable", ["theory", "relu", "--plot", "{nowhere}/k.png"], None),
    ("theory-plot-not-an-image", ["theory", "relu", "--plot", "{tmp}/k.txt"], None),
    ("theory-depth-zero", ["theory", "relu", "--depth", "0"], None),
    ("theory-missing-module", ["theory", "nosuchmodule:fn"], None),
    # ---- capacity and bench
    ("capacity-alphas", ["capacity", "simulate", "--act", "relu", "--K", "2", "--N", "4", "--alphas", "abc"], None),
    ("capacity-plot-not-an-image", ["capacity", "simulate", "--act", "relu", "--K", "2", "--N", "4",
                                    "--alphas", "1", "--plot", "{tmp}/p.txt"], None),
    ("capacity-act-choice", ["capacity", "theory", "--act", "tanh", "--K", "2"], None),
    ("capacity-missing-K", ["capacity", "theory", "--act", "relu"], None),
    ("capacity-table-out-unwritable", ["capacity", "table", "--out", "{nowhere}"], None),
    ("capacity-geometry-plot-not-an-image", ["capacity", "geometry", "--alphas", "0.3", "--plot", "{tmp}/g.txt"], None),
    ("capacity-geometry-loads-not-fractions", ["capacity", "geometry", "--loads", "0.5,1"], None),
    ("capacity-table-out-is-a-file", ["capacity", "table", "--out", "{tmp}/file"], "a_file"),
    ("bench-json-unwritable", ["bench", "activations", "--json", "{nowhere}/b.json"], None),
    ("bench-dtype", ["bench", "activations", "--dtype", "float8", "--size", "1024", "--repeats", "1"], None),
    # ---- the command line itself
    ("unknown-command", ["trian"], None),
    ("list-unknown-flag", ["list", "--verbose"], None),
]


def _expand(arg: str, tmp: Path) -> str:
    if arg.startswith("{spec:"):
        name = arg[len("{spec:"):-1]
        path = tmp / f"{name}.toml"
        text = SPECS[name]
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        return str(path)
    return arg.replace("{tmp}", str(tmp)).replace("{nowhere}", NOWHERE)


def _check(code, err: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err, err
    assert err.count("\n") == 1 and err.endswith("\n"), err  # exactly one line


def test_corpus_is_big_enough():
    assert len(CASES) + len(SUBPROCESS_CASES) >= 50


@pytest.mark.parametrize("args,setup", [pytest.param(a, s, id=i) for i, a, s in CASES])
def test_fault(run_cli, tmp_path, args, setup):
    lock = None
    for name in (setup or "").split("+"):
        if name == "locked":
            lock = RunLock(tmp_path / "locked")
            (tmp_path / "locked").mkdir()
            lock.acquire()
        elif name:
            SETUPS[name](tmp_path)
    try:
        code, _, err = run_cli(*[_expand(a, tmp_path) for a in args])
    finally:
        if lock is not None:
            lock.release()
    _check(code, err)
    if setup == "locked":
        assert f"pid {os.getpid()}" in err


SUBPROCESS_CASES = [
    ("ray-no-cluster", ["run", "{spec:good}", "--backend", "ray", "--address", "auto", "--out", "{tmp}/ray"]),
    ("spec-not-utf8", ["run", "{spec:latin1}", "--out", "{tmp}/o"]),
    ("report-not-a-run-dir", ["report", "{tmp}"]),
]


@pytest.mark.parametrize("args", [pytest.param(a, id=i) for i, a in SUBPROCESS_CASES])
@pytest.mark.xdist_group("ray")  # `--address auto` must not find the cluster of tests/test_experiments_ray.py
def test_fault_in_a_real_process(tmp_path, args):
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env["PYTHONPATH"] = str(SRC)
    r = subprocess.run([sys.executable, "-m", "actlab", *[_expand(a, tmp_path) for a in args]], capture_output=True,
                       text=True, env=env, cwd=tmp_path, timeout=300)
    _check(r.returncode, r.stderr)
    assert not (tmp_path / "ray").exists()  # nothing written before the cluster was reached


def test_internal_error_names_its_log(run_cli, tmp_path, monkeypatch):
    """A bug (not bad input) is one line too, exit 1, and its traceback is in the named log."""
    import actlab.cli.activations as acts

    monkeypatch.setenv("ACTLAB_LOG_DIR", str(tmp_path))
    monkeypatch.setattr(acts, "list_activations", lambda: 1 / 0)
    code, _, err = run_cli("list")
    assert code == 1 and err.count("\n") == 1 and "ZeroDivisionError" in err
    log = Path(err.split("traceback in ")[1].split(";")[0])
    assert log.parent == tmp_path and "Traceback" in log.read_text()
