"""The protocol: [tune] validation, equal candidates per arm, pruning, finals, resume after kill -9."""
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
from actlab.experiments.protocol import ABORTED
from actlab.experiments.report import build_report

optuna = pytest.importorskip("optuna")

SRC = Path(__file__).resolve().parents[1] / "src"

TUNED = """
name = "tuned"
task = "toy"
[base]
epochs = 4
[sweep]
activation = ["relu", "tanh"]
[tune]
trials = 5
final_seeds = [0, 1, 2]
val_fraction = 0.25
[tune.params]
lr = { low = 1e-4, high = 1.0, log = true }
[tune.pruner]
min_resource = 1
reduction_factor = 2
"""


@pytest.fixture(scope="module")
def tuned_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("tuned") / "run"
    summary = run_sweep(parse_spec(TUNED), out=out, workers=0, progress=False)
    return out, summary


def _studies(run_dir):
    storage = f"sqlite:///{run_dir / 'tune.sqlite'}"
    return {s.study_name: optuna.load_study(study_name=s.study_name, storage=storage)
            for s in optuna.get_all_study_summaries(storage)}


def test_every_arm_gets_the_same_candidates_and_budget(tuned_dir):
    out, summary = tuned_dir
    assert summary.total == 2 * (5 + 3) and summary.executed == 16 and summary.failed == []
    df = load(out)
    trials = df[df["phase"] == "trial"]
    lrs = [sorted(trials.loc[trials["activation"] == a, "lr"]) for a in ("relu", "tanh")]
    assert lrs[0] == lrs[1] and len(set(lrs[0])) == 5
    assert all(1e-4 <= lr <= 1.0 for lr in lrs[0])
    studies = _studies(out)
    assert set(studies) == set(df["arm"]) and all(len(s.trials) == 5 for s in studies.values())
    assert set(trials["status"]) <= {"done", "pruned"} and (trials["status"] == "pruned").any()


def test_an_arm_whose_trials_diverge_is_offered_the_same_candidates(tmp_path):
    spec = parse_spec(TUNED.replace("trials = 5", "trials = 3") + '[[include]]\nactivation = "identity"\ndiverge_at = 1\n')
    summary = run_sweep(spec, out=tmp_path, workers=0, progress=False)
    df = load(tmp_path)
    trials = df[df["phase"] == "trial"]
    lrs = trials.groupby("activation")["lr"].apply(sorted)
    assert lrs["identity"] == lrs["relu"] == lrs["tanh"]
    assert (trials.loc[trials["activation"] == "identity", "status"] == "diverged").all()
    assert [why for _, why in summary.no_finals] == ["no trial ran to the end with a finite metric"]


def test_trials_never_see_the_test_set_and_finals_do(tuned_dir):
    out, _ = tuned_dir
    df = load(out)
    trials, finals = df[df["phase"] == "trial"], df[df["phase"] == "final"]
    assert (trials["eval_test"] == False).all() and trials["test_acc"].isna().all()  # noqa: E712
    assert (trials["seed"] == 0).all() and (trials["val_fraction"] == 0.25).all()
    for rid in trials["id"]:
        history = json.loads((out / "runs" / rid / "history.json").read_text())
        assert history and all("val_acc" in row and "test_acc" not in row for row in history)
    assert (finals["eval_test"] == True).all() and finals["test_acc"].notna().all()  # noqa: E712
    assert sorted(finals["seed"]) == [0, 0, 1, 1, 2, 2]


def test_finals_retrain_the_best_trial_that_ran_to_the_end(tuned_dir):
    out, _ = tuned_dir
    df = load(out)
    for arm, part in df.groupby("arm"):
        trials = part[part["phase"] == "trial"]
        done = trials[trials["status"] == "done"]
        best_lr = done.loc[done["val_acc"].idxmax(), "lr"]
        finals = part[part["phase"] == "final"]
        assert len(finals) == 3 and (finals["lr"] == best_lr).all()
    pruned = df[df["status"] == "pruned"].iloc[0]
    history = json.loads((out / "runs" / pruned["id"] / "history.json").read_text())
    assert len(history) < 4  # stopped at a rung


def test_pruning_is_told_to_the_study(tuned_dir):
    out, _ = tuned_dir
    df = load(out).set_index("id")
    for study in _studies(out).values():
        states = {t.state.name for t in study.trials}
        assert states <= {"COMPLETE", "PRUNED"} and "PRUNED" in states
        best = study.best_trial
        assert best.value == pytest.approx(df[(df["arm"] == study.study_name) & (df["phase"] == "trial")
                                              & (df["status"] == "done")]["val_acc"].max())


def test_report_of_a_tuned_sweep(tuned_dir):
    out, _ = tuned_dir
    text = build_report(out).read_text()
    assert "## Protocol" in text and "### Finals" in text and "lr log-uniform in [0.0001, 1]" in text
    assert "| activation=relu |" in text and "95 % CI" in text and "3/3" in text
    assert "| arm | done | collapsed | pruned | diverged | failed | best lr |" in text  # trials by outcome
    assert (out / "report" / "tuning_validation.png").exists()
    assert "tanh" in (out / "report" / "tuning_validation.csv").read_text()
    assert (out / "report" / "finals.csv").exists()


def test_resume_of_a_finished_tuned_sweep_runs_nothing(tuned_dir, tmp_path):
    out, _ = tuned_dir
    summary = run_sweep(parse_spec(TUNED), out=out, workers=0, resume=True, progress=False)
    assert summary.executed == 0 and sum(summary.counts.values()) == 16
    with pytest.raises(ActlabError, match="changes \\[tune\\]"):
        run_sweep(parse_spec(TUNED.replace("trials = 5", "trials = 6")), out=out, workers=0, resume=True)


def test_a_failed_trial_stays_open_blocks_its_finals_and_is_rerun_on_resume(tmp_path):
    spec = parse_spec(TUNED.replace('[tune.params]', '[tune.params]\nfail = { choices = [false, true] }'))
    summary = run_sweep(spec, out=tmp_path, workers=0, progress=False)
    assert summary.failed and len(summary.no_finals) == 2
    assert all("tuning incomplete" in why for _, why in summary.no_finals)
    df = load(tmp_path)
    assert (df["phase"] == "final").sum() == 0
    open_trials = [t for s in _studies(tmp_path).values() for t in s.trials if t.state.name == "RUNNING"]
    assert len(open_trials) == (df["status"] == "failed").sum()
    again = run_sweep(spec, out=tmp_path, workers=0, resume=True, progress=False)
    assert again.executed == len(open_trials)  # only the failed runs, with their parameters
    assert load(tmp_path)["attempts"].max() == 2


BAD_TUNE = [
    ("[tune.params]\nlr = { low = 1e-4, high = 1.0, log = true }\nwidth_x = { low = 1, high = 2 }",
     "unknown parameter 'width_x'"),
    ("[tune.params]\nlr = { low = 1.0, high = 1.0 }", "empty or inverted range"),
    ("[tune.params]\nlr = { low = 1.0, high = 0.1 }", "empty or inverted range"),
    ("[tune.params]\nlr = { low = 0.0, high = 0.1, log = true }", "log scale needs positive bounds"),
    ("[tune.params]\nlr = { low = -1.0, high = 0.1, log = true }", "log scale needs positive bounds"),
    ("[tune.params]\nlr = { choices = [] }", "'choices' must be a non-empty list"),
    ("[tune.params]\nlr = { low = 1e-4, high = 1.0, scale = 2 }", "unknown key 'scale'"),
    ("[tune.params]\nseed = { low = 0, high = 3 }", "'seed' is set by the protocol"),
    ("[tune.params]\nactivation = { choices = [\"relu\"] }", "'activation' is set by the spec"),
    ("[tune.params]\nlr = { low = 1e-4, high = 1.0, log = true }\n[[include]]\nlr = 0.1\nactivation = \"relu\"",
     "'lr' is set by the spec"),
    ("[tune.params]", "'params' must be a table"),
]
BAD_TOP = [
    ("trials = 0", "'trials' must be an integer >= 1"),
    ("trials = 2.5", "'trials' must be an integer >= 1"),
    ("val_fraction = 0.0", "'val_fraction' must be a number in (0, 1)"),
    ("val_fraction = 1.0", "'val_fraction' must be a number in (0, 1)"),
    ("val_fraction = 1.5", "'val_fraction' must be a number in (0, 1)"),
    ("metric = \"test_acc\"", "must name a validation metric"),
    ("direction = \"up\"", "'direction' must be one of maximize, minimize"),
    ("final_seeds = []", "'final_seeds' must be a non-empty list"),
    ("budget = 3", "unknown key 'budget'"),
    ("arms = { depth = [2] }", "'depth' is not a key of this spec"),
    ("arms = { activation = [] }", "'activation' must be a non-empty list"),
    ("arms = { activation = [\"identity\"] }", "'arms' selects no point of the sweep"),
    ("arms = [\"relu\"]", "must be a table of key = [values]"),
    ("sampler = \"grid\"", "sampler 'grid' needs every searched parameter as { choices = [..] }; 'lr' is a range"),
    ("sampler = \"tpe\"", "'sampler' must be one of qmc, random, grid"),
]


def _spec(top: str = "", params: str = "[tune.params]\nlr = { low = 1e-4, high = 1.0, log = true }"):
    top = top if top.startswith("trials") else f"trials = 3\n{top}"
    return (f'name = "bad"\ntask = "toy"\n[sweep]\nactivation = ["relu", "tanh"]\n'
            f'[tune]\n{top}\n{params}\n')


@pytest.mark.parametrize("params,message", BAD_TUNE)
def test_bad_tune_params_are_one_clear_error(params, message):
    with pytest.raises(ActlabError, match=r"\[tune\]") as info:
        parse_spec(_spec(params=params))
    assert message in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("top,message", BAD_TOP)
def test_bad_tune_settings_are_one_clear_error(top, message):
    with pytest.raises(ActlabError, match=r"\[tune\]") as info:
        parse_spec(_spec(top=top))
    assert message in str(info.value)


def test_grid_sampler_offers_every_combination_once_in_the_order_written(tmp_path):
    grid = "[tune.params]\nlr = { choices = [0.1, 0.01] }\ngain = { choices = [0.5, 1.0, 2.0] }"
    with pytest.raises(ActlabError, match=r"'trials' must be 6 \(the grid's size\); got 3"):
        parse_spec(_spec(top='sampler = "grid"', params=grid))
    spec = parse_spec(_spec(top='trials = 6\nsampler = "grid"\nfinal_seeds = [0]', params=grid))
    expected = [{"lr": lr, "gain": g} for lr in (0.1, 0.01) for g in (0.5, 1.0, 2.0)]
    assert spec.tune.candidates() == expected
    assert "grid: every combination of the choices, each once" in "\n".join(spec.tune.describe())
    run_sweep(spec, out=tmp_path, workers=0, progress=False)
    for study in _studies(tmp_path).values():  # each arm tried every combination, in that order
        assert [t.params for t in sorted(study.trials, key=lambda t: t.number)] == expected


def test_points_that_are_not_arms_run_once_as_plain_runs(tmp_path):
    spec = parse_spec(TUNED.replace("[tune]\n", "[tune]\narms = { activation = [\"relu\"] }\n")
                      .replace('["relu", "tanh"]', '["relu", "tanh", "identity"]'))
    summary = run_sweep(spec, out=tmp_path / "run", workers=0, progress=False)
    df = load(tmp_path / "run")
    plain = df[df["phase"].isna()]
    assert summary.total == (5 + 3) + 2 and len(df) == 10 and summary.failed == []
    assert sorted(plain["activation"]) == ["identity", "tanh"] and plain["arm"].isna().all()
    assert "lr" not in plain.columns or plain["lr"].isna().all()          # run with their own configuration
    assert set(df[df["phase"].notna()]["activation"]) == {"relu"}
    report = build_report(tmp_path / "run").read_text()
    assert "the other points are plain runs" in report and "activation=identity" not in report.split("## Runs")[0]


def test_cli_exit_2_before_any_run_starts(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    for top, message in (("trials = 0", "'trials' must be"), ("val_fraction = 2.0", "'val_fraction'")):
        bad.write_text(_spec(top=top))
        out = tmp_path / "out"
        assert main(["run", str(bad), "--out", str(out), "--workers", "0"]) == 2
        err = capsys.readouterr().err.strip()
        assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err
        assert not out.exists()


def test_tune_needs_a_tunable_task_and_protocol_keys_left_to_it():
    with pytest.raises(ActlabError, match="'seed' is set by the protocol"):
        parse_spec(_spec().replace("[sweep]", "[base]\nseed = 3\n[sweep]"))
    train = ('task = "train"\n[base]\ndepth = 2\n[tune]\ntrials = 2\n[tune.params]\n'
             'lr = { low = 1e-5, high = 1e-2, log = true }\n')
    assert parse_spec(train).tune.params["lr"].log
    with pytest.raises(ActlabError, match="lr must be a finite number"):  # the task's own check of each end
        parse_spec(train.replace("low = 1e-5", "low = -1.0").replace(", log = true", ""))


def _reference_and_killed(tmp_path, spec_text):
    spec = tmp_path / "slow.toml"
    spec.write_text(spec_text)
    ref = tmp_path / "ref"  # one run at a time, like the killed sweep: the same order of trials
    run_sweep(parse_spec(spec_text), out=ref, workers=0, progress=False)
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-m", "actlab", "run", str(spec), "--out", str(out), "--workers", "1"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.1)
        try:
            with sqlite3.connect(out / "results.sqlite", timeout=5) as db:
                finished = db.execute("SELECT COUNT(*) FROM runs WHERE status IN ('done', 'pruned')").fetchone()[0]
        except sqlite3.OperationalError:
            continue
        if finished >= 3:
            break
    assert proc.poll() is None, f"sweep ended before it could be killed: {proc.stderr.read().decode()}"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return spec, ref, out


class _Killed(BaseException):
    pass


def test_a_sweep_killed_inside_the_studys_ask_resumes_as_an_uninterrupted_one(tmp_path, monkeypatch):
    """optuna's ask() marks a trial running before it stores the trial's parameters: a kill in
    between leaves a running trial without them. The resume must ask that candidate again (it
    used to run the arm's defaults, and then fail building the finals: KeyError 'lr')."""
    ref = tmp_path / "ref"
    run_sweep(parse_spec(TUNED), out=ref, workers=0, progress=False)
    real_ask, calls = optuna.Study.ask, []

    def ask(study, fixed_distributions=None):
        if study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.WAITING,)):  # a sweep's study
            calls.append(1)  # (the candidates come from asks on a study without a queue)
            if len(calls) == 3:
                study._pop_waiting_trial_id()  # ask()'s first step: the trial is now running, without parameters
                raise _Killed
        return real_ask(study, fixed_distributions)

    out = tmp_path / "run"
    monkeypatch.setattr(optuna.Study, "ask", ask)
    with pytest.raises(_Killed):
        run_sweep(parse_spec(TUNED), out=out, workers=0, progress=False)
    monkeypatch.setattr(optuna.Study, "ask", real_ask)
    assert [t.params for s in _studies(out).values() for t in s.trials if t.state.name == "RUNNING"] == [{}]
    run_sweep(parse_spec(TUNED), out=out, workers=0, resume=True, progress=False)
    after, expected = load(out).set_index("id"), load(ref).set_index("id")
    assert set(after.index) == set(expected.index)
    assert (after["status"] == expected.loc[after.index, "status"]).all()
    aborted = [t for s in _studies(out).values() for t in s.trials if t.user_attrs.get(ABORTED)]
    assert [t.state.name for t in aborted] == ["FAIL"]  # the set-aside trial is kept, flagged, not counted


def test_sigkill_then_resume_ends_as_an_uninterrupted_tuned_sweep(tmp_path):
    text = TUNED.replace("epochs = 4", "epochs = 4\nsleep = 0.1")
    spec, ref, out = _reference_and_killed(tmp_path, text)
    interrupted = load(out)
    assert (interrupted["status"].isin(["done", "pruned"])).sum() < 16
    assert main(["run", str(spec), "--out", str(out), "--workers", "0", "--resume"]) == 0
    after, expected = load(out).set_index("id"), load(ref).set_index("id")
    assert after.index.is_unique and set(after.index) == set(expected.index)
    assert (after["status"] == expected.loc[after.index, "status"]).all()
    for study in _studies(out).values():  # a kill inside ask() leaves a trial set aside (see the test above)
        counted = [t for t in study.trials if not t.user_attrs.get(ABORTED)]
        assert len(counted) == 5 and {t.state.name for t in counted} <= {"COMPLETE", "PRUNED"}
        assert {t.state.name for t in study.trials if t.user_attrs.get(ABORTED)} <= {"FAIL"}
    first_done = interrupted[interrupted["status"].isin(["done", "pruned"])]["id"]
    assert (after.loc[first_done, "attempts"] == 1).all()  # finished runs were not run again


def test_a_tuned_train_sweep_prunes_through_fit(tmp_path):
    spec = parse_spec('name = "t"\ntask = "train"\n[base]\ndepth = 2\nwidth = 16\nn_train = 300\nn_test = 100\n'
                      'epochs = 5\nbatch_size = 64\nprobes = false\ncheckpoint_every = 0\n'
                      '[tune]\ntrials = 4\nfinal_seeds = [0, 1]\n[tune.params]\n'
                      'lr = { low = 1e-5, high = 1e-1, log = true }\n[tune.pruner]\nreduction_factor = 2\n')
    summary = run_sweep(spec, out=tmp_path, workers=0, progress=False)
    assert summary.failed == [] and summary.no_finals == []
    df = load(tmp_path)
    trials, finals = df[df["phase"] == "trial"], df[df["phase"] == "final"]
    assert len(trials) == 4 and trials["test_acc"].isna().all() and trials["val_acc"].notna().all()
    pruned = trials[trials["status"] == "pruned"]
    assert len(pruned) >= 1 and (pruned["metric.epochs"] < 5).all()
    assert len(finals) == 2 and finals["test_acc"].notna().all() and finals["lr"].nunique() == 1
