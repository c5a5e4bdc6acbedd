"""The built-in zplane and zorro suites under the protocol: specs validate with fair budgets, a
tiny override runs end to end with a claims table, and the claims follow the verdict rules."""
from __future__ import annotations

import tomllib

import pandas as pd
import pytest

from actlab.experiments import load_spec, run_sweep
from actlab.experiments.report import VERDICTS
from actlab.experiments.spec import spec_from_dict
from actlab.suites import available_suites, suite_claims, suite_report, suite_spec_path

SUITES = ("zplane", "zorro")
TINY = {"epochs": 2, "n_train": 120, "n_test": 40, "width": 8, "batch_size": 32, "probe_batch": 32}
INITS = {"default", "orthogonal", "critical"}


def tiny_spec(suite: str, keep) -> object:
    """The suite's quick spec shrunk: TINY sizes, 2 trials, 2 final seeds, only the arms `keep` accepts."""
    path = suite_spec_path(suite, "quick")
    data = tomllib.loads(path.read_text())
    data["base"].update(TINY)
    data["tune"].update(trials=2, final_seeds=[0, 1])
    data.pop("sweep", None)
    data["include"] = [{k: (TINY["width"] if k == "width" else v) for k, v in row.items()}
                       for row in data.get("include", []) if keep(row)]
    return spec_from_dict(data, origin=f"tiny {path.name}")


@pytest.mark.parametrize("suite, profile", [(s, p) for s in SUITES for p in ("quick", "full")] + [("zplane", "cpu"), ("zorro", "cpu")])
def test_suite_specs_are_tuned_fairly(suite, profile):
    assert profile in available_suites()[suite]
    spec = load_spec(suite_spec_path(suite, profile))
    tune = spec.tune
    assert spec.task == "train" and tune is not None
    lr = tune.params["lr"]
    assert lr.log and lr.low <= 1e-5 and lr.high >= 1e-2
    assert len(tune.final_seeds) >= (3 if profile == "quick" else 5)
    assert tune.metric.startswith("val_") and tune.pruner.kind == "asha"
    arms = [r.config for r in spec.runs()]
    if profile == "full":
        assert {a["data"] for a in arms} == {"fashion_mnist"} and all(a.get("n_train") is None for a in arms)
        assert all(a["epochs"] >= 10 for a in arms)
    if profile == "cpu":  # the full design, less data and fewer epochs, the whole test set
        assert {a["data"] for a in arms} == {"fashion_mnist"} and all(a.get("n_test") is None for a in arms)
        full = load_spec(suite_spec_path(suite, "full"))
        design = ("model", "act", "norm", "norm_position", "init", "depth", "width", "group_size", "batch_size")
        assert ({tuple(str(r.config.get(k)) for k in design) for r in spec.runs()}
                == {tuple(str(r.config.get(k)) for k in design) for r in full.runs()})
        assert tune.final_seeds == full.tune.final_seeds and tune.params == full.tune.params
    if suite == "zplane":
        families = {(a["model"], a["act"], str(a.get("group_size")), a.get("norm"), a.get("norm_position"))
                    for a in arms}
        assert families == {("zplane", "radial_bounding", "2", None, None), ("mlp", "identity", "None", None, None),
                            ("mlp", "relu", "None", "layernorm", "post"), ("mlp", "relu", "None", "layernorm", "pre"),
                            ("resmlp", "relu", "None", "layernorm", "pre"), ("mlp", "relu", "None", None, None),
                            ("mlp", "tanh", "None", None, None)}
        for family in families:  # every family with every initialisation, at one depth
            same = [a for a in arms if (a["model"], a["act"], str(a.get("group_size")), a.get("norm"),
                                        a.get("norm_position")) == family]
            assert sorted(a["init"] for a in same) == sorted(INITS)
        assert len({a["depth"] for a in arms}) == 1
        if profile != "quick":
            assert all(a["depth"] == 100 and a["width"] >= 128 for a in arms)
    else:
        acts = {"zorro", "zorro_asymmetric", "zorro_sloped", "zorro_sigmoid", "zorro_tanh", "relu", "gelu", "silu"}
        archs = {"mlp none", "mlp batchnorm", "cnn", "vit"}
        for arch in archs:
            assert {a["act"] for a in arms if " ".join([a["model"], *([a["norm"]] if a["model"] == "mlp" else [])])
                    == arch} == acts


def test_reduced_cpu_spec_validates():
    from pathlib import Path

    spec = load_spec(Path(__file__).parent.parent / "examples" / "suites" / "zplane-cpu_full.toml")
    assert {r.config.get("data") for r in spec.runs()} == {"fashion_mnist"}


def _claims_rows(text: str) -> list:
    section = text.split("## Claims", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| ") and "---" not in line][1:]


def test_zplane_tiny_run_has_claims_with_intervals(tmp_path):
    spec = tiny_spec("zplane", lambda row: row["init"] == "default" and (
        row.get("group_size") == 2 or row.get("model") == "resmlp"
        or row.get("act") in ("identity", "relu") and "norm" not in row))
    run_sweep(spec, out=tmp_path, workers=0, progress=False, meta={"suite": "zplane", "profile": "quick"})
    text = suite_report(tmp_path).read_text()
    rows = _claims_rows(text)
    assert len(rows) == 4  # the MNIST figure, RB vs the deep linear control, the residual MLP and ReLU
    assert all(any(f"**{v}**" in r for v in VERDICTS) for r in rows)
    assert "not measured" in rows[0] and "beats the deep linear control" in rows[1] and "95 % CI" in rows[1]
    assert "replaces relu residual MLP (pre-LN)" in rows[2] and "replaces relu:" in rows[3]
    assert "n = 2 paired seeds" in rows[3] and "actlab reproduce zplane --profile quick" in rows[1]
    assert "## Families and their initialisation" in text and "## Protocol" in text
    assert "## RB pairs against each family at the same initialisation" in text
    assert (tmp_path / "report" / "zplane_families.png").exists() and "zplane_families.csv" in text


def test_zorro_tiny_run_has_claims_and_fit_table(tmp_path, monkeypatch):
    from actlab.suites.zorro import fits

    monkeypatch.setitem(fits.VARIANTS, "quick", ("zorro_sloped",))
    fits.zorro_fit.cache_clear()
    spec = tiny_spec("zorro", lambda row: row["act"] in ("zorro", "relu"))
    run_sweep(spec, out=tmp_path, workers=0, progress=False, meta={"suite": "zorro", "profile": "quick"})
    text = suite_report(tmp_path).read_text()
    fits.zorro_fit.cache_clear()
    rows = _claims_rows(text)
    assert any("zorro is as accurate as ReLU in a small CNN" in r and "95 % CI" in r for r in rows)
    assert sum("Zorro approximates" in r for r in rows) == 3
    assert "## Zorro fitted to Swish, GELU and DGELU" in text and "## Test accuracy per architecture" in text
    assert (tmp_path / "report" / "zorro_accuracy.png").exists() and "zorro_accuracy.csv" in text


def _finals(families: dict) -> pd.DataFrame:
    """Finals of synthetic arms: family -> {init: (val accs per seed, test accs per seed)}."""
    config = {"RB": dict(model="zplane", act="radial_bounding", group_size=2, norm=None),
              "linear": dict(model="mlp", act="identity", group_size=None, norm=None),
              "relu": dict(model="mlp", act="relu", group_size=None, norm=None),
              "relu_ln": dict(model="mlp", act="relu", group_size=None, norm="layernorm")}
    rows = []
    for name, inits in families.items():
        for init, (val, test) in inits.items():
            for seed, (v, t) in enumerate(zip(val, test)):
                rows.append({"id": f"{name}{init}{seed}", "status": "done", "phase": "final", "arm": f"{name}-{init}",
                             "seed": seed, "init": init, "data": "digits", "depth": 20, "val_acc": v,
                             "test_acc": t, **config[name]})
    df = pd.DataFrame(rows)
    df.attrs.update(meta={}, axes=[], metric_keys=["val_acc", "test_acc"], config_keys=[], run_dir=".")
    return df


def test_zplane_claims_follow_the_rules_and_choose_inits_on_validation():
    good, bad = ([0.9, 0.91, 0.92, 0.9], [0.90, 0.91, 0.92, 0.90]), ([0.1, 0.1, 0.11, 0.1], [0.1, 0.1, 0.11, 0.1])
    df = _finals({"RB": {"orthogonal": good, "default": bad},
                  "linear": {"default": ([0.5, 0.52, 0.51, 0.5], [0.5, 0.52, 0.51, 0.5])},
                  "relu": {"default": ([0.9, 0.9, 0.9, 0.9], [0.91, 0.90, 0.92, 0.905])},
                  # validation prefers "critical", although "default" has the better test accuracy
                  "relu_ln": {"critical": ([0.99, 0.99, 0.99, 0.99], [0.97, 0.98, 0.975, 0.97]),
                              "default": ([0.2, 0.2, 0.2, 0.2], [0.99, 0.99, 0.99, 0.99])}})
    claims = {c["claim"].split(";")[0]: c for c in suite_claims("zplane", df, "quick")}
    verdicts = {k: c["verdict"] for k, c in claims.items()}
    assert verdicts[next(k for k in verdicts if "deep linear" in k)] == "reproduced"
    assert verdicts[next(k for k in verdicts if "replaces relu + LayerNorm" in k)] == "contradicted"
    assert verdicts[next(k for k in verdicts if "replaces relu:" in k)] == "inconclusive"
    ln = claims[next(k for k in claims if "replaces relu + LayerNorm" in k)]
    assert "RB pairs (orthogonal)" in ln["measured"] and "relu + LayerNorm (critical)" in ln["measured"]
    # at the same init the picture differs: RB's default init loses to the control's
    from actlab.suites.zplane.claims import sections

    control = next(line for line in sections(df, "quick") if line.startswith("| deep linear (identity) | beats"))
    cells = control.strip(" |").split(" | ")[2:]  # one per init: the control ran with "default" only
    assert sum(c.startswith("**contradicted**") for c in cells) == 1 and cells.count("–") == 2


def test_claims_say_not_measured_without_the_protocol(monkeypatch):
    from actlab.suites.zorro import claims as zorro, fits

    monkeypatch.setattr(fits, "all_fits", lambda profile: [])
    df = pd.DataFrame({"status": ["done"], "act": ["zorro"], "test_acc": [0.5]})
    df.attrs.update(meta={}, axes=[], metric_keys=[], config_keys=[], run_dir=".")
    assert [c["verdict"] for c in suite_claims("zplane", df, "quick")] == ["not measured"]
    assert [c["verdict"] for c in zorro.claims(df, "quick")] == ["not measured"]


def test_zplane_same_init_table_does_not_judge_two_collapsed_arms():
    from actlab.suites.zplane.claims import _collapsed_arms

    df = pd.DataFrame({"phase": ["final"] * 5 + ["trial"], "arm": ["a", "a", "b", "b", "c", "d"],
                       "status": ["collapsed", "collapsed", "collapsed", "done", "done", "collapsed"]})
    assert _collapsed_arms(df) == {"a"}  # b trained once; c never collapsed; d's collapse was a trial
