"""Reports from a stored run directory, and the reproduce framework with a suite outside the package."""
import pandas as pd
import pytest

from actlab.cli import main
from actlab.errors import ActlabError
from actlab.experiments import load, parse_spec, run_sweep
from actlab.experiments.report import build_report
from actlab.suites import registry

SPEC = """
name = "depthwise"
task = "toy"
description = "Toy sweep for the report test."
[base]
epochs = 3
[sweep]
activation = ["relu", "tanh"]
depth = [2, 4, 8]
seed = [0, 1, 2]
[[include]]
activation = "identity"
depth = 3
diverge_at = 2
[report]
x = "depth"
metrics = ["acc", "dead_fraction"]
"""


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "run"
    run_sweep(parse_spec(SPEC), out=out, workers=0, progress=False)
    return out


def test_report_files_tables_and_figure_data(run_dir):
    index = build_report(run_dir)
    assert index == run_dir / "report" / "index.md"
    text = index.read_text()
    assert text.startswith("# depthwise") and "Toy sweep for the report test." in text
    assert "## Claims" not in text
    assert "| 19 | 18 | 1 | 0 |" in text  # runs, done, diverged, failed
    assert "Diverged runs:" in text and "layer2" in text
    for name in ("metric_acc", "metric_dead_fraction", "diverged_fraction", "curve_loss", "curve_acc", "profile_grad_norms_init",
                 "profile_grad_norms_final"):
        assert (run_dir / "report" / f"{name}.png").stat().st_size > 1000
        assert f"({name}.png)" in text and f"({name}.csv)" in text
    df = load(run_dir)
    done = df[df["status"] == "done"]
    # the figure's data: mean and std over the three seeds, per activation and depth
    fig = pd.read_csv(run_dir / "report" / "metric_acc.csv")
    assert len(fig) == 6 and set(fig["n"]) == {3}
    relu4 = done[(done["activation"] == "relu") & (done["depth"] == 4)]["acc"]
    row = fig[(fig["activation"] == "relu") & (fig["depth"] == 4)].iloc[0]
    assert row["mean"] == pytest.approx(relu4.mean()) and row["std"] == pytest.approx(relu4.std(ddof=0))
    summary = pd.read_csv(run_dir / "report" / "summary.csv")
    assert list(summary.columns[-3:]) == ["n", "acc", "dead_fraction"]
    assert f"{relu4.mean():.4g} ± {relu4.std(ddof=0):.2g}" in text
    frac = pd.read_csv(run_dir / "report" / "diverged_fraction.csv")
    assert frac.loc[(frac["activation"] == "identity") & (frac["depth"] == 3), "mean"].tolist() == [1.0]
    assert frac.loc[frac["activation"] == "relu", "mean"].eq(0).all()
    curve = pd.read_csv(run_dir / "report" / "curve_loss.csv")
    assert sorted(curve["epoch"].unique()) == [1, 2, 3]
    profile = pd.read_csv(run_dir / "report" / "profile_grad_norms_init.csv")
    assert profile[profile["depth"] == 8]["layer"].max() == 7


def test_claims_table_opens_the_report_and_verdicts_are_checked(run_dir):
    claims = [{"claim": "deep relu trains", "paper": "98.34 %", "measured": "87 %", "command": "actlab run x.toml",
               "verdict": "not reproduced"}]
    text = build_report(run_dir, claims=claims).read_text()
    assert text.index("## Claims") < text.index("## Runs")
    assert "| deep relu trains | 98.34 % | 87 % | `actlab run x.toml` | **not reproduced** |" in text
    with pytest.raises(ActlabError, match="verdict must be one of reproduced, contradicted, inconclusive, not reproduced, not measured"):
        build_report(run_dir, claims=[{**claims[0], "verdict": "sort of"}])
    with pytest.raises(ActlabError, match="lacks paper"):
        build_report(run_dir, claims=[{"claim": "c", "measured": "m", "command": "", "verdict": "not measured"}])


HOOK = '''
from actlab.experiments import read_run_file


def claims(df, profile):
    acc = df[df["status"] == "done"]["acc"].mean()
    profile_len = len(read_run_file(df.attrs["run_dir"], df["id"].iloc[0], "artifacts.json")["grad_norms_init"])
    return [{"claim": "toy accuracy above 0.1", "paper": "> 0.1", "measured": f"{acc:.3f}",
             "verdict": "reproduced" if acc > 0.1 else "not reproduced"},
            {"claim": "profile per layer", "paper": "3 layers", "measured": f"{profile_len} layers",
             "command": "custom", "verdict": "not measured"}]
'''


def test_reproduce_runs_a_suite_and_its_claims_hook(tmp_path, monkeypatch, capsys):
    suites = tmp_path / "suites"
    suites.mkdir()
    (suites / "demo_quick.toml").write_text('name = "demo"\ntask = "toy"\n[sweep]\nseed = [0, 1]\n')
    (suites / "demo.py").write_text(HOOK)
    monkeypatch.setenv("ACTLAB_SUITES", str(suites))
    out = tmp_path / "demo"
    assert main(["reproduce", "demo", "--out", str(out), "--workers", "0"]) == 0
    text = (out / "report" / "index.md").read_text()
    assert "| toy accuracy above 0.1 | > 0.1 |" in text
    assert "`actlab reproduce demo --profile quick` | **reproduced** |" in text
    assert "| profile per layer | 3 layers | 3 layers | `custom` | **not measured** |" in text
    (out / "report" / "index.md").unlink()
    assert main(["report", str(out)]) == 0  # the stored suite name brings the claims back
    assert "**reproduced**" in (out / "report" / "index.md").read_text()
    # 'all' and the listing of suites, without the suites shipped in the package
    monkeypatch.setattr(registry, "builtin_suites", lambda: [])
    assert main(["reproduce", "all", "--out", str(tmp_path / "all"), "--workers", "0", "--json"]) == 0
    assert '"suite": "demo"' in capsys.readouterr().out
    assert (tmp_path / "all" / "demo-quick" / "report" / "index.md").exists()
    assert main(["reproduce", "zzz"]) == 2
    err = capsys.readouterr().err
    assert "no suite 'zzz' with profile 'quick'; available suites: " in err and "demo (quick)" in err
    assert main(["reproduce", "demo", "--profile", "full"]) == 2


def test_report_of_a_directory_without_results_is_a_clear_error(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    assert "not a run directory" in capsys.readouterr().err


def test_tensorboard_scalars_per_run(tmp_path):
    pytest.importorskip("tensorboard")
    spec = parse_spec('task = "toy"\ntensorboard = true\n[base]\nepochs = 2\n[sweep]\nseed = [0]\n')
    run_sweep(spec, out=tmp_path, workers=0, progress=False)
    rid = spec.runs()[0].id
    assert list((tmp_path / "tensorboard" / rid).glob("events.out.tfevents.*"))


def test_metric_figures_hint_turns_the_generic_figures_off(tmp_path):
    spec = SPEC.replace("[report]", "[report]\nmetric_figures = false")
    out = tmp_path / "run"
    run_sweep(parse_spec(spec), out=out, workers=0, progress=False)
    text = build_report(out).read_text()
    assert "metric_acc.png" not in text and "diverged_fraction.png" not in text
    assert "(curve_loss.png)" in text  # per-epoch curves stay
    with pytest.raises(ActlabError, match="'metric_figures' must be true or false"):
        parse_spec(SPEC.replace("[report]", "[report]\nmetric_figures = 1"))
