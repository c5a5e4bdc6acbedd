"""The finite_width suite on a tiny profile: report, data, verdicts, resume."""
import json

import pytest

import actlab.suites.finite_width.suite as S
from actlab.errors import ActlabError


@pytest.fixture
def tiny(monkeypatch):
    monkeypatch.setitem(S.PROFILES, "tiny", S.Profile(widths=(64, 256), depth=6, nets=150, boost_below=64,
                                                       extra_widths=(512,), confirm_nets=300))
    monkeypatch.setattr(S, "CASES", ("relu", "tanh", "mrepu(p=3)"))
    return "tiny"


def test_tiny_profile_writes_report_data_and_figure_and_resumes(tmp_path, tiny, monkeypatch):
    index = S.run_suite(tiny, tmp_path)
    text = index.read_text()
    assert "## Claim: where L/n ≤ 0.02" in text and "Verdict" in text and "## Verdict on MRePU" in text
    assert (tmp_path / "finite_width.png").stat().st_size > 20_000
    rows = (tmp_path / "finite_width.csv").read_text().splitlines()
    assert len(rows) == 1 + (2 * 3 + 1) * 6 + 3 * (1 + 5)       # (cases × widths + extra) × layers + confirmation
    points = json.loads((tmp_path / "points.json").read_text())
    assert len(points) == 7 and all(len(p["var"]) == 6 for p in points.values())
    confirm = json.loads((tmp_path / "points_confirm.json").read_text())
    assert len(confirm) == 6 and all(p["nets"] == 300 for p in confirm.values())     # layers 1..⌊0.02n⌋
    assert sorted(len(p["layers"]) for p in confirm.values()) == [1, 1, 1, 5, 5, 5]

    def boom(*args, **kwargs):
        raise AssertionError("resampled a cached point")

    monkeypatch.setattr(S, "sample_point", boom)                 # a second run reads every point from points.json
    assert S.run_suite(tiny, tmp_path).read_text().split("sampling")[1] == text.split("sampling")[1]


def test_rows_compare_measured_and_predicted(tmp_path, tiny):
    p = S.PROFILES[tiny]
    layers = S.layer_grid(p.depth)
    inits = {"relu": S.case_init("relu", p.depth)}
    points = {("relu", 256, p.depth): S.sample_point("relu", inits["relu"], 256, p.depth, 2000, layers)}
    rows = S.build_rows(inits, points)
    last = rows[-1]
    assert last["layer"] == 6 and last["var_predicted"] == pytest.approx((5 * 5 + 2) / 256)
    assert last["var_exact"] == pytest.approx((1 + 2 / 256) * (1 + 5 / 256) ** 5 - 1)
    assert all(r["agrees"] for r in rows)                        # L/n ≤ 0.023: the 1/n theory holds
    assert S.summarize(rows, ["relu"])[0]["small_agree"] == sum(r["L_over_n"] <= 0.02 for r in rows)


def test_unknown_profile():
    with pytest.raises(ActlabError):
        S.run_suite("nope", ".")


def test_reproduce_dispatches_to_the_python_suite(tmp_path, monkeypatch, capsys):
    from actlab.cli import main

    calls = []

    def fake_run_suite(profile, out_dir):
        calls.append((profile, out_dir))
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "index.md").write_text("# finite width\n")
        return out_dir / "index.md"

    monkeypatch.setattr(S, "run_suite", fake_run_suite)
    assert main(["reproduce", "finite_width", "--profile", "full", "--out", str(tmp_path / "fw"), "--json"]) == 0
    assert calls == [("full", tmp_path / "fw")]
    assert json.loads(capsys.readouterr().out)["report"] == str(tmp_path / "fw" / "index.md")


def test_report_from_an_interrupted_run_lists_the_missing_points(tmp_path, tiny, monkeypatch):
    monkeypatch.setattr(S, "CASES", ("relu",))
    S.run_suite(tiny, tmp_path)
    cache = json.loads((tmp_path / "points.json").read_text())
    del cache[next(k for k in cache if k.startswith("relu|256|"))]
    (tmp_path / "points.json").write_text(json.dumps(cache))
    text = S.run_suite(tiny, tmp_path, sample=False).read_text()
    assert "**Incomplete run**: 1 points not sampled yet (relu n=256 (main))" in text
    assert "relu|256|" not in (tmp_path / "points.json").read_text()      # nothing sampled
