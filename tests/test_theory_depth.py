"""Depth scales (Poole et al. 2016; Schoenholz et al. 2017) against the layer-by-layer kernel
recursion they summarise, closed forms for ReLU, and the CLI's --phase and plain answer."""
import json
import math

import numpy as np
import pytest

from actlab import ActlabError
from actlab.cli import main
from actlab.theory import kernel_trajectory, nngp
from actlab.theory.depth import depth_scales, order_chaos_line, scales_grid


@pytest.mark.parametrize("name,C_b,C_W", [("tanh", 0.05, 2.0), ("erf", 0.1, 2.5), ("zorro", 0.05, 2.5)])
def test_chaotic_point_matches_the_recursion(name, C_b, C_W):
    """From q*, iterate the 2×2 kernel: the correlation converges to c* and |c − c*| shrinks
    by χ_c = e^{−1/ξ_c} per layer."""
    d = depth_scales(name, C_b, C_W)
    assert d.phase == "chaotic" and d.chi_1 > 1 and 0 < d.c_star < 1
    np.testing.assert_allclose(kernel_trajectory(name, C_b, C_W, d.q_star, 3), d.q_star, rtol=1e-12)
    c0 = d.c_star + 1e-4
    depth = int(25 * d.xi_c) + 10  # the gap shrinks by e^{-25}
    K = nngp(name, C_b=C_b, C_W=C_W, depth=depth, K1=d.q_star * np.array([[1, c0], [c0, 1]]), layers=True)
    c = K[:, 0, 1] / K[:, 0, 0]
    assert abs(c[-1] - d.c_star) < 1e-12
    gap = c[:12] - d.c_star
    rate = gap[1:] / gap[:-1]
    assert abs(rate[-1] - d.chi_c) < 1e-3 and abs(-1 / math.log(rate[-1]) / d.xi_c - 1) < 2e-3


def test_ordered_relu_closed_forms():
    """ReLU: q* = C_b/(1 − C_W/2), χ₁ = χ_q = C_W/2, c* = 1, ξ_c = −1/ln(C_W/2)."""
    d = depth_scales("relu", 0.1, 1.5)
    assert d.phase == "ordered" and d.c_star == 1.0
    assert abs(d.q_star - 0.4) < 1e-13 and abs(d.chi_1 - 0.75) < 1e-13 and abs(d.chi_q - 0.75) < 1e-12
    assert abs(d.xi_c + 1 / math.log(0.75)) < 1e-10
    assert depth_scales("relu", 0.1, 2.5).phase == "unbounded"
    assert depth_scales("relu", 0.0, 2.0).phase == "critical"


def test_tanh_zero_bias():
    """C_b = 0: q* = 0; χ₁ = C_W (σ'(0) = 1): ordered below C_W = 1, critical at 1."""
    d = depth_scales("tanh", 0.0, 0.5)
    assert d.q_star == 0 and d.phase == "ordered" and abs(d.chi_1 - 0.5) < 1e-15
    assert depth_scales("tanh", 0.0, 1.0).phase == "critical"


def test_order_chaos_line_is_critical():
    C_b = np.array([0.0, 0.05, 0.3])
    line = order_chaos_line("tanh", C_b)
    assert abs(line[0] - 1) < 1e-9 and np.all(np.diff(line) > 0)
    for b, w in zip(C_b[1:], line[1:]):
        assert abs(depth_scales("tanh", b, w).chi_1 - 1) < 1e-9
    assert np.isnan(order_chaos_line("relu", [0.1])[0]) and abs(order_chaos_line("relu", [0.0])[0] - 2) < 1e-14


def test_grid_shapes_and_whole_vector_group_activations_need_the_width():
    g = scales_grid("erf", np.array([0.0, 0.1])[None, :], np.array([0.5, 1.0, 3.0])[:, None])
    assert g["xi_c"].shape == (3, 2) and set(g["phase"].ravel()) <= {"ordered", "chaotic", "critical"}
    with pytest.raises(ActlabError, match="width"):
        depth_scales("radial_bounding(group_size=None)", 0.0, 1.0)
    with pytest.raises(ActlabError):
        depth_scales("tanh", -1.0, 1.0)


def test_cli_phase_json_and_plot(tmp_path, capsys):
    png = tmp_path / "phase.png"
    code = main(["theory", "erf", "--phase", "--grid", "6", "--json", "--plot", str(png)])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and png.stat().st_size > 10_000
    assert len(data["C_W"]) == 6 and len(data["xi_c"]) == 6 and len(data["xi_c"][0]) == len(data["C_b"])
    assert abs(data["order_chaos_line"]["C_W"][0] - math.pi / 4) < 1e-6   # erf: σ'(0)² = 4/π


def test_cli_depth_answer(capsys):
    assert main(["theory", "tanh", "--cb", "0.05", "--cw", "1.2", "--depth", "50"]) == 0
    out = capsys.readouterr().out.strip().splitlines()[-1]
    assert out.strip().startswith("answer") and "beyond the trainable range" in out and "critical init" in out
    assert main(["theory", "mrepu", "--depth", "50"]) == 0
    assert "blows up near depth" in capsys.readouterr().out


def test_one_start_per_point():
    """q0 may be an array (K⁽¹⁾ = C_b + C_W·q_in per point): MRePU's kernel is bounded from a small
    start and unbounded from a large one at the same (C_b, C_W)."""
    g = scales_grid("mrepu", 0.05, np.array([0.1, 0.1, 1.0]), q0=np.array([0.15, 100.0, 1.05]))
    assert list(g["phase"]) == ["ordered", "unbounded", "unbounded"]
    single = depth_scales("mrepu", 0.05, 0.1, q0=0.15)
    assert g["xi_c"][0] == pytest.approx(single.xi_c, rel=1e-12)
    with pytest.raises(ActlabError, match="q0"):
        scales_grid("tanh", 0.05, 1.0, q0=-1.0)
