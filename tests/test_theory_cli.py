"""`actlab theory`: JSON output, user functions, plots, exit 2 on bad input."""
import json

import pytest

from actlab.cli import main



def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_gelu_json(capsys):
    code, out, _ = run(capsys, "theory", "gelu", "--json", "--depth", "5")
    assert code == 0
    data = json.loads(out)
    assert data["critical"]["cls"] == "half-stable"
    assert len(data["trajectory"]) == 5
    assert abs(data["trajectory"][-1] / data["critical"]["K_star"] - 1) < 1e-9


def test_user_function_from_current_directory(tmp_path, monkeypatch, capsys):
    (tmp_path / "my_units.py").write_text(
        "import torch\n\ndef scaled_tanh(z):\n    return 2.0 * torch.tanh(z)\n")
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "theory", "my_units:scaled_tanh", "--json", "--depth", "3")
    assert code == 0
    crit = json.loads(out)["critical"]
    assert crit["cls"] == "K*=0" and abs(crit["C_W"] - 0.25) < 1e-12


def test_plot_with_measurement(tmp_path, capsys):
    png = tmp_path / "k.png"
    code, out, _ = run(capsys, "theory", "tanh", "--depth", "6", "--plot", str(png), "--measure", "64", "--nets", "8")
    assert code == 0 and png.stat().st_size > 10_000
    assert "stable" in out and "measured at width 64" in out


def test_no_criticality_text(capsys):
    code, out, _ = run(capsys, "theory", "repu(p=3)", "--depth", "3")
    assert code == 0 and "class none" in out and "double-exponentially" in out


@pytest.mark.parametrize("argv", [
    ["theory", "no_such_activation"],
    ["theory", "tanh", "--cw", "-1"],
    ["theory", "tanh", "--depth", "0"],
    ["theory", "nonexistent_module_xyz:f"],
    ["theory", "radial_bounding(group_size=0)"],
    ["theory", "radial_bounding(group_size=None)", "--phase"],
    ["theory", "radial_bounding(group_size=None)", "--width", "64", "--phase", "--cb-max", "-1"],
    ["theory", "relu", "--accuracy", "1.5"],
])
def test_bad_input_exits_2(capsys, argv):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse rejects malformed options itself
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "error" in err


def test_width_recommendation_of_the_one_over_n_theory(capsys):
    """ReLU at criticality: Var K̂/K² = (5(L − 1) + 2)/n, so 10 % at depth 100 needs n ≥ 497/0.01."""
    code, out, _ = run(capsys, "theory", "relu", "--depth", "100", "--json")
    assert code == 0
    assert json.loads(out)["finite_width"]["width_for"] == {"fluctuation": 49700, "shift": 1}
    code, out, _ = run(capsys, "theory", "relu", "--depth", "100")
    assert "for depth 100, width ≥ 49,700 keeps the kernel's relative fluctuation" in out


def test_measure_shows_the_one_over_n_prediction_beside_the_measurement(capsys):
    code, out, _ = run(capsys, "theory", "tanh", "--depth", "5", "--measure", "64", "--nets", "50", "--accuracy", "0.2")
    assert code == 0
    assert "L/n = 0.0781" in out and "1/n theory" in out and "Var K̂⁽5⁾" in out and "under 20 %" in out
    code, out, _ = run(capsys, "theory", "tanh", "--depth", "5", "--measure", "64", "--nets", "50", "--json")
    data = json.loads(out)
    m = data["measured"]
    assert len(m["kernel_variance_measured"]) == 5 and len(m["kernel_predicted_finite"]) == 5
    assert data["finite_width"]["prediction"]["width"] == 64

