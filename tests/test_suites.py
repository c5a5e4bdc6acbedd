"""The built-in zplane and zorro suites: specs validate, a tiny override runs end to end
with a claims table, and the claims hooks say "not measured" when their runs are missing."""
from __future__ import annotations

import math
import tomllib

import pandas as pd
import pytest

from actlab.experiments import run_sweep
from actlab.experiments.report import VERDICTS
from actlab.experiments.spec import spec_from_dict
from actlab.suites import available_suites, suite_claims, suite_report, suite_spec_path

SUITES = ("zplane", "zorro")
TINY = {"epochs": 1, "n_train": 64, "n_test": 32, "width": 8, "batch_size": 32, "probe_batch": 32}


def tiny_spec(suite: str, sweep: dict, include_if) -> object:
    """The suite's quick spec shrunk: TINY sizes, the given sweep, the seed-0 includes `include_if` keeps."""
    path = suite_spec_path(suite, "quick")
    data = tomllib.loads(path.read_text())
    data["base"].update(TINY)
    data["sweep"] = sweep
    data["include"] = [{**row, **({"width": TINY["width"]} if "width" in row else {})}
                       for row in data.get("include", []) if row.get("seed", 0) == 0 and include_if(row)]
    return spec_from_dict(data, origin=f"tiny {path.name}")


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("profile", ("quick", "full"))
def test_suite_specs_load_and_validate(suite, profile):
    from actlab.experiments import load_spec

    assert profile in available_suites()[suite]
    spec = load_spec(suite_spec_path(suite, profile))
    runs = spec.runs()
    assert runs and spec.task == "train" and "depth" in spec.axes
    if suite == "zplane":
        acts = {r.config.get("act") for r in runs}
        assert {"radial_bounding", "relu", "tanh", "gelu", "zorro", "mrepu"} <= acts
        assert any(r.config.get("depth") == 100 for r in runs), "depth 100 is the claim's depth"
        assert any(r.config.get("norm") == "layernorm" for r in runs)
        assert any(r.config.get("complex_weights") for r in runs) and any(r.config.get("residual") for r in runs)
    else:
        models = {r.config.get("model") for r in runs}
        assert {"mlp", "cnn", "vit"} <= models
        assert {"zorro", "zorro_sloped", "relu", "gelu", "silu"} <= {r.config.get("act") for r in runs}


def test_reduced_cpu_spec_validates():
    from pathlib import Path

    from actlab.experiments import load_spec

    spec = load_spec(Path(__file__).parent.parent / "examples" / "suites" / "zplane-cpu_full.toml")
    assert {r.config.get("data") for r in spec.runs()} == {"fashion_mnist"}


def _claims_rows(text: str) -> list:
    section = text.split("## Claims", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| ") and "---" not in line][1:]


def test_zplane_tiny_run_has_claims_table(tmp_path):
    spec = tiny_spec("zplane", {"depth": [2], "act": ["relu"]}, lambda row: row["depth"] == 2)
    summary = run_sweep(spec, out=tmp_path, workers=0, progress=False, meta={"suite": "zplane", "profile": "quick"})
    assert summary.counts["failed"] == 0 and summary.counts["done"] + summary.counts["collapsed"] == 4
    text = suite_report(tmp_path).read_text()
    rows = _claims_rows(text)
    assert len(rows) == 4 and all(any(f"**{v}**" in r for v in VERDICTS) for r in rows)
    # Digits only and no depth-100 run: nothing of the claim can be measured.
    assert all("**not measured**" in r for r in rows)
    assert "actlab reproduce zplane --profile quick" in rows[0]
    assert "## Accuracy per activation and depth" in text and "RB vector" in text


def test_zorro_tiny_run_has_claims_and_fit_table(tmp_path, monkeypatch):
    from actlab.suites.zorro import fits

    monkeypatch.setitem(fits.VARIANTS, "quick", ("zorro_sloped",))
    monkeypatch.setitem(fits.FIT_SETTINGS, "quick", {"points": 101, "steps": 10})
    fits.zorro_fit.cache_clear()
    spec = tiny_spec("zorro", {"act": ["zorro", "relu"], "depth": [3], "norm": ["none"]},
                     lambda row: row["act"] in ("zorro", "relu") and row["model"] == "cnn")
    run_sweep(spec, out=tmp_path, workers=0, progress=False, meta={"suite": "zorro", "profile": "quick"})
    text = suite_report(tmp_path).read_text()
    fits.zorro_fit.cache_clear()
    rows = _claims_rows(text)
    assert len(rows) == 9 and all(any(f"**{v}**" in r for v in VERDICTS) for r in rows)
    by_claim = {r.split(" | ")[0]: r for r in rows}
    vit = next(r for c, r in by_claim.items() if "Transformer" in c)
    fc_bn = next(r for c, r in by_claim.items() if "BatchNorm" in c)
    assert "**not measured**" in vit and "**not measured**" in fc_bn  # no ViT and no BatchNorm run
    assert sum("Zorro approximates" in c for c in by_claim) == 3
    assert "## Zorro fitted to Swish, GELU and DGELU" in text and "zorro_sloped" in text


def _fake_results(**columns) -> pd.DataFrame:
    df = pd.DataFrame(columns)
    df.attrs.update(meta={}, axes=[], metric_keys=[], config_keys=list(columns))
    return df


def _zplane_frame(data: str, rb_acc: float, ln_acc: float, relu_acc: float, rb_status: str = "done"):
    return _fake_results(
        status=[rb_status, "done", "done"], data=[data] * 3, depth=[100] * 3, width=[256] * 3, epochs=[10] * 3,
        model=["zplane", "mlp", "mlp"], act=["radial_bounding", "relu", "relu"],
        group_size=[2, math.nan, math.nan], norm=[None, "layernorm", None], init=["default"] * 3,
        test_acc=[rb_acc, ln_acc, relu_acc], nonfinite_count=[0.0] * 3)


def test_zplane_claims_follow_the_results():
    verdicts = lambda df: [c["verdict"] for c in suite_claims("zplane", df, "full")]  # noqa: E731
    # MNIST present: the 98.34 % figure is judged.
    assert verdicts(_zplane_frame("mnist", 0.985, 0.98, 0.11)) == ["reproduced"] * 4
    assert verdicts(_zplane_frame("mnist", 0.95, 0.98, 0.11))[:3] == ["not reproduced", "reproduced",
                                                                      "not reproduced"]
    # Fashion-MNIST only: the MNIST claim is not measured, and says what was measured instead.
    claims = suite_claims("zplane", _zplane_frame("fashion_mnist", 0.88, 0.87, 0.10), "full")
    assert claims[0]["verdict"] == "not measured" and "Fashion-MNIST" in claims[0]["measured"]
    assert "88.00 %" in claims[0]["measured"]
    # A diverged RB run is not stable and counts as 0 %.
    assert verdicts(_zplane_frame("fashion_mnist", 0.88, 0.87, 0.10, rb_status="diverged"))[1:] == \
        ["not reproduced"] * 3


def test_zplane_claims_not_measured_without_runs():
    df = _zplane_frame("digits", 0.9, 0.9, 0.1)
    df = df[df["model"] != "zplane"]
    assert [c["verdict"] for c in suite_claims("zplane", df, "quick")] == ["not measured"] * 4


def test_zorro_claims_not_measured_without_runs(monkeypatch):
    from actlab.suites.zorro import claims as zorro, fits

    monkeypatch.setattr(fits, "all_fits", lambda profile: [])
    df = _fake_results(status=["failed"], data=["digits"], model=["mlp"], act=["zorro"], norm=["none"],
                       depth=[3], test_acc=[math.nan], dead_fraction=[math.nan], nonfinite_count=[math.nan],
                       grad_norm_first=[math.nan])
    claims = zorro.claims(df, "quick")
    assert [c["verdict"] for c in claims] == ["not measured"] * 6
