"""Geometry of binary solutions (RS): Franz–Parisi entropy and large-deviation local entropy, known limits."""
import json
import math

import numpy as np
import pytest

from actlab.capacity import geometry, replica
from actlab.capacity.empirical import ball_entropy
from actlab.cli import main
from actlab.errors import ActlabError


def test_effective_overlap_curvature_is_the_derivative_of_the_slope():
    q, h = np.array([-0.7, -0.2, 0.3, 0.8]), 1e-6
    for act in ("relu", "sign", "linear"):
        fd = (replica.effective_overlap_slope(act, q + h) - replica.effective_overlap_slope(act, q - h)) / (2 * h)
        assert np.allclose(replica.effective_overlap_curvature(act, q), fd, rtol=1e-6, atol=1e-9)


def test_half_line_quadrature_integrates_gaussian_moments_of_abs_z():
    z, w = geometry._half_gauss(40)
    assert w.sum() == pytest.approx(1.0, abs=1e-13)
    assert w @ z == pytest.approx(math.sqrt(2 / math.pi), abs=1e-13)
    assert w @ z**2 == pytest.approx(1.0, abs=1e-13)
    assert w @ z**3 == pytest.approx(2 * math.sqrt(2 / math.pi), abs=1e-12)


@pytest.mark.parametrize("kind", ["linear", "relu", "sign"])
def test_local_entropy_energetic_derivatives_match_finite_differences(kind):
    q, delta, h = 0.6, 0.8, 1e-6
    e = geometry._energetic_le(kind, q, delta, 81)
    dq = (geometry._energetic_le(kind, q + h, delta, 81)["value"] - geometry._energetic_le(kind, q - h, delta, 81)["value"]) / (2 * h)
    dd = (geometry._energetic_le(kind, q, delta + h, 81)["value"] - geometry._energetic_le(kind, q, delta - h, 81)["value"]) / (2 * h)
    assert e["d_q"] == pytest.approx(dq, rel=1e-6)
    assert e["d_delta"] == pytest.approx(dd, rel=1e-6)


def test_local_entropy_tends_to_the_ball_at_small_load_and_small_distance():
    ds = np.array([0.1, 0.2, 0.3])
    H = ball_entropy(ds)
    gap = {a: H - geometry.local_entropy_curve("perceptron", a, ds, order=61).entropy for a in (0.05, 0.1)}
    assert np.all(gap[0.05] > 0) and np.all(gap[0.05] < 0.01)  # α → 0: every configuration solves, S = H(d)
    assert np.all(gap[0.05] < gap[0.1])
    ds = np.array([0.005, 0.05, 0.1, 0.2])
    mid = geometry.local_entropy_curve("perceptron", 0.5, ds, order=61).entropy
    assert np.all(np.isfinite(mid))
    assert 0 < ball_entropy(0.005) - mid[0] < 1e-6  # dense region: S(d) ≈ H(d) as d → 0, hence S → 0
    assert np.all(np.diff(mid) > 0)  # monotone at α = 0.5 (< 0.77, where RS local entropy breaks down)


def test_local_entropy_at_half_distance_is_the_equilibrium_entropy_and_changes_sign_at_capacity():
    ac = replica.alpha_c("sign", 1, "binary").value
    below = geometry.local_entropy_curve("perceptron", 0.99 * ac, [0.5], order=61).entropy[0]
    above = geometry.local_entropy_curve("perceptron", 1.01 * ac, [0.5], order=61).entropy[0]
    assert below > 0 > above
    # continuity of the dense-region branch into the equilibrium plateau
    s_eq = replica._binary_rs_entropy("linear", 0.5, 201)[0]
    curve = geometry.local_entropy_curve("perceptron", 0.5, [0.24, 0.3], order=61)
    assert curve.entropy[1] == pytest.approx(s_eq, abs=1e-12)
    assert s_eq - 2e-3 < curve.entropy[0] < s_eq


def test_franz_parisi_peaks_at_the_typical_distance_and_is_negative_near_zero():
    s_eq, Q, _ = replica._binary_rs_entropy("linear", 0.5, 201)
    d_typ = (1 - Q) / 2
    ds = [0.004, 0.005, d_typ - 0.01, d_typ + 0.01]
    fp = geometry.franz_parisi_curve("perceptron", 0.5, ds, order=31)
    assert np.all(np.isfinite(fp.entropy))
    # stationary at d_typ where it equals the equilibrium entropy: second-order gap on both sides
    assert 0 < s_eq - fp.entropy[2] < 1e-3 and 0 < s_eq - fp.entropy[3] < 1e-3
    # typical solutions are isolated (Huang & Kabashima 2014): no solutions at small distance
    assert fp.entropy[0] < 0 and fp.entropy[1] < 0
    le = geometry.local_entropy_curve("perceptron", 0.5, ds[:2], order=61)
    assert np.all(fp.entropy[:2] < le.entropy)  # a typical reference has fewer neighbours than the densest


def test_relu_dense_regions_are_denser_than_sign_at_the_same_fraction_of_capacity():
    ds = [0.02, 0.05]
    deficit = {}
    for m in ("relu", "sign"):
        c = geometry.local_entropy_curve(m, 0.5 * geometry.binary_capacity(m), ds, order=61)
        deficit[m] = ball_entropy(np.array(ds)) - c.entropy
    assert np.all(deficit["relu"] < deficit["sign"])


def test_sign_typical_solutions_are_more_isolated_than_relu():
    fp = {m: geometry.franz_parisi_curve(m, 0.5 * geometry.binary_capacity(m), [0.01], order=31).entropy[0]
          for m in ("relu", "sign")}
    assert fp["sign"] < 0 < fp["relu"]


@pytest.mark.parametrize("args", [("tanh", 0.5, [0.1]), ("relu", -1.0, [0.1]), ("relu", 0.5, [0.0]),
                                  ("relu", 0.5, [0.7]), ("relu", 0.5, [])])
def test_bad_input_raises(args):
    with pytest.raises(ActlabError):
        geometry.local_entropy_curve(*args)


def _cli(capsys, *args):
    code = main(["capacity", "geometry", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("args", [["--loads", "0.5", "--machines", "relu,tanh"], ["--loads", "1.2"],
                                  ["--loads", "0.5", "--alphas", "0.3"], ["--alphas", "0.3", "--d-min", "0.7"]])
def test_cli_bad_input_is_one_line_and_exit_2(capsys, args):
    code, _, err = _cli(capsys, *args)
    assert code == 2
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_cli_json_and_plot(tmp_path, capsys):
    png = tmp_path / "g.png"
    code, out, err = _cli(capsys, "--machines", "perceptron", "--alphas", "0.4", "--kind", "local-entropy",
                          "--points", "3", "--d-min", "0.05", "--json", "--plot", str(png))
    assert code == 0, err
    data = json.loads(out)
    assert data["command"].startswith("actlab capacity geometry") and len(data["curves"]) == 1
    assert len(data["curves"][0]["entropy"]) == 3 and png.stat().st_size > 0
