"""The finite_width suite: its specs, its task, and its report from a run directory (a tiny spec)."""
import json
import sqlite3

import pytest

import actlab.suites  # noqa: F401  (registers the finite_width task)
from actlab.errors import ActlabError
from actlab.experiments import load, run_sweep
from actlab.experiments.spec import parse_spec
from actlab.experiments.store import read_run_file
from actlab.suites import suite_report, suite_spec_path
from actlab.suites.finite_width import claims as C
from actlab.suites.finite_width import task as T

TINY = """
name = "finite_width-tiny"
task = "finite_width"
include = [
  {pass = "main", act = "relu", width = 64, depth = 6, nets = 150},
  {pass = "main", act = "relu", width = 256, depth = 6, nets = 150},
  {pass = "main", act = "mrepu(p=3)", width = 64, depth = 6, nets = 150},
  {pass = "main", act = "mrepu(p=3)", width = 256, depth = 6, nets = 150},
  {pass = "main", act = "mrepu(p=3)", width = 512, depth = 6, nets = 150},
  {pass = "confirm", act = "relu", width = 64, depth = 1, nets = 300},
  {pass = "confirm", act = "relu", width = 256, depth = 5, nets = 300},
  {pass = "confirm", act = "mrepu(p=3)", width = 64, depth = 1, nets = 300},
  {pass = "confirm", act = "mrepu(p=3)", width = 256, depth = 5, nets = 300},
]
[base]
seed = 0
k1_depth = 6
[report]
metrics = ["overflowed_last", "runaway_last"]
metric_figures = false
"""


@pytest.mark.parametrize("profile, runs, depth", [("quick", 30, 40), ("full", 74, 100)])
def test_profiles_expand_to_one_run_per_point_and_pass(profile, runs, depth):
    spec = parse_spec(suite_spec_path("finite_width", profile).read_text())
    expanded = spec.runs()
    assert len(expanded) == runs and {r.config["k1_depth"] for r in expanded} == {depth}
    for r in expanded:
        c = r.config
        if c["pass"] == "confirm":        # the claim's definition: layers 1..⌊0.02n⌋
            assert c["depth"] == int(C.SMALL * c["width"]) >= 1
        else:
            assert c["depth"] == depth


def test_bad_points_are_refused_before_any_run():
    with pytest.raises(ActlabError, match="no critical point"):
        parse_spec(TINY.replace('act = "relu", width = 64, depth = 6', 'act = "repu", width = 64, depth = 6'))
    with pytest.raises(ActlabError, match="'pass' must be one of"):
        parse_spec(TINY.replace('pass = "main"', 'pass = "mian"', 1))


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("fw") / "run"
    summary = run_sweep(parse_spec(TINY), out=out, workers=0, progress=False,
                        meta={"suite": "finite_width", "profile": "quick"})
    assert summary.counts["done"] == 9
    return out


def test_a_run_stores_its_sampled_point_and_is_reproducible(tiny_run):
    df = load(tiny_run)
    row = df[(df["act"] == "relu") & (df["width"] == 256) & (df["pass"] == "main")].iloc[0]
    sampled = read_run_file(tiny_run, row["id"], "artifacts.json")["sampled"]
    assert sampled["layers"] == T.layer_grid(6) and sampled["nets"] == 150
    assert row["K1"] == 1.0 and row["C_W"] == 2.0 and row["overflowed_last"] == 0
    seed = T.point_seed("relu", 256, 0, "main")
    assert T.sample_point("relu", T.case_init("relu", 6), 256, 6, 150, seed) == sampled   # seeded per point
    assert seed != T.point_seed("relu", 256, 0, "confirm")


def test_report_of_the_run_directory(tiny_run, tmp_path):
    index = suite_report(tiny_run, out=tmp_path)
    text = index.read_text()
    assert "## Claims" in text and "## Claim: where L/n ≤ 0.02" in text and "## Verdict on MRePU" in text
    assert "| relu |" in text and "How the expansion breaks" not in text   # layer 20 not in a depth-6 run
    assert (tmp_path / "finite_width.png").stat().st_size > 20_000
    rows = (tmp_path / "finite_width.csv").read_text().splitlines()
    assert len(rows) == 1 + 5 * 6 + 2 * (1 + 5)               # main points × layers + confirmation layers
    df = load(tiny_run)
    claims = C.claims(df, "quick")
    summary = C.analysis(df)["summary"]
    agree, small = sum(s["small_agree"] for s in summary), sum(s["small_points"] for s in summary)
    assert small == 12 and f"{agree}/12 points agree (300 networks per point)" in claims[0]["measured"]
    assert claims[0]["verdict"] == ("reproduced" if agree == small else "not reproduced")
    verdict = C.analysis(df)["verdict"]
    assert verdict["fit_widths"] == [64, 256, 512] and f"a = {verdict['a']:.4g}" in claims[1]["measured"]
    assert claims[1]["verdict"] == {"explained": "reproduced", "not explained": "not reproduced",
                                    "inconclusive": "inconclusive"}[verdict["verdict"]]


def test_an_unfinished_point_is_listed_and_its_claim_not_measured(tiny_run, tmp_path):
    copy = tmp_path / "run"
    copy.mkdir()
    for name in ("results.sqlite", "spec.toml"):
        (copy / name).write_bytes((tiny_run / name).read_bytes())
    (copy / "runs").symlink_to(tiny_run / "runs")
    db = sqlite3.connect(copy / "results.sqlite")
    with db:
        db.execute("UPDATE runs SET status = 'pending' WHERE config LIKE '%\"confirm\"%' AND config LIKE '%256%' "
                   "AND config LIKE '%relu%'")
    db.close()
    text = suite_report(copy, out=tmp_path / "report").read_text()
    assert "**Incomplete run**: 1 points not sampled (relu n=256 (confirm, pending))" in text
    assert C.claims(load(copy), "quick")[0]["verdict"] == "not measured"


def test_rows_compare_measured_and_predicted():
    init = T.case_init("relu", 6)
    point = T.sample_point("relu", init, 256, 6, 2000, seed=1)
    rows = C.build_rows({"relu": init}, {("relu", 256, 6): point})
    last = rows[-1]
    assert last["layer"] == 6 and last["var_predicted"] == pytest.approx((5 * 5 + 2) / 256)
    assert last["var_exact"] == pytest.approx((1 + 2 / 256) * (1 + 5 / 256) ** 5 - 1)
    assert all(r["agrees"] for r in rows)                        # L/n ≤ 0.023: the 1/n theory holds
    assert C.summarize(rows, ["relu"])[0]["small_agree"] == sum(r["L_over_n"] <= 0.02 for r in rows)


def test_reproduce_makes_a_run_directory_that_report_and_load_accept(tmp_path, monkeypatch, capsys):
    """The CLI path of `actlab reproduce finite_width`, on the tiny spec (a profile takes minutes)."""
    from actlab.cli import main
    from actlab.suites import registry

    spec = tmp_path / "tiny.toml"
    spec.write_text(TINY)
    monkeypatch.setattr(registry, "suite_spec_path", lambda suite, profile: spec)
    out = tmp_path / "fw"
    assert main(["reproduce", "finite_width", "--out", str(out), "--workers", "0", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["counts"]["done"] == 9 and result["report"] == str(out / "report" / "index.md")
    assert main(["report", str(out), "--out", str(tmp_path / "again"), "--json"]) == 0
    assert "## Verdict on MRePU" in (tmp_path / "again" / "index.md").read_text()
    assert len(load(out)) == 9 and load(out).attrs["meta"]["suite"] == "finite_width"
    assert main(["reproduce", "finite_width", "--out", str(out), "--workers", "0"]) == 2   # exists: --resume
    capsys.readouterr()
    assert main(["reproduce", "finite_width", "--out", str(out), "--workers", "0", "--resume", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["executed"] == 0
