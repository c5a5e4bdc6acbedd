"""Replica theory of the committee-machine capacity: perceptron checks and the d² solver."""
import math

import numpy as np
import pytest

from actlab.capacity import finite_k, replica
from actlab.errors import ActlabError


def test_spherical_perceptron_rs_is_gardner_two():
    assert replica.alpha_c("sign", 1).value == 2.0
    est = replica.alpha_c("sign", 1, "spherical", "rs", method="mc", samples=100_000, seed=3)
    assert abs(est.value - 2.0) < 4 * est.uncertainty + 1e-9
    assert 0 < est.uncertainty < 0.05


def test_binary_perceptron_rs_zero_entropy_is_0833():
    est = replica.alpha_c("sign", 1, "binary", "rs")
    assert est.value == pytest.approx(0.8330, abs=2e-4)


def test_relu_rs_infinite_K_closed_form_and_finite_K_approach_it():
    inf = replica.alpha_c("relu", "inf", "spherical", "rs")
    assert inf.value == pytest.approx(2 * math.pi / (math.pi - 1), rel=1e-12)
    k16 = replica.alpha_c("relu", 16, "spherical", "rs", points=2**10)
    k2 = replica.alpha_c("relu", 2, "spherical", "rs")
    assert k2.value < k16.value < inf.value + 4 * k16.uncertainty


def test_sign_diverges_at_infinite_K_and_grows_with_K():
    est = replica.alpha_c("sign", "inf", "spherical", "rs")
    assert math.isinf(est.value) and "diverges" in est.message
    a3 = replica.alpha_c("sign", 3).value
    a15 = replica.alpha_c("sign", 15).value
    assert a15 > a3 > 2.5


def test_one_rsb_reduces_to_gardner_for_the_perceptron_and_lowers_relu():
    value, _, _ = replica._one_rsb_capacity("linear", 101)
    assert value == pytest.approx(2.0, abs=1e-6)
    rsb = replica.alpha_c("relu", "inf", "spherical", "1rsb")
    assert 2.0 < rsb.value < replica.alpha_c("relu", "inf").value


def test_effective_overlap_matches_monte_carlo():
    rng = np.random.default_rng(0)
    q = 0.6
    u = rng.standard_normal(400_000)
    v = q * u + math.sqrt(1 - q * q) * rng.standard_normal(400_000)
    for act, g in (("relu", lambda x: np.maximum(x, 0)), ("sign", np.sign)):
        gu, gv = g(u), g(v)
        mc = (np.mean(gu * gv) - gu.mean() * gv.mean()) / gu.var()
        assert replica.effective_overlap(act, q) == pytest.approx(mc, abs=0.01)


def _d2_brute_force(z, act):
    """Grid search of min ‖x‖² s.t. Σ c g(z+x) ≥ 0 (closure), K = 2 ReLU or K = 3 sign."""
    grid = np.linspace(-4, 4, 801)
    if act == "relu":
        x1, x2 = np.meshgrid(grid, grid, indexing="ij")
        ok = np.maximum(z[0] + x1, 0) - np.maximum(z[1] + x2, 0) >= 0
        ok &= z[0] + x1 >= 0  # the + unit must reach 0 (limit of > 0)
        return float(((x1**2 + x2**2)[ok]).min())
    raise AssertionError


def test_d2_relu_matches_brute_force_for_K2():
    rng = np.random.default_rng(1)
    z = rng.standard_normal((12, 2))
    exact = finite_k.d2_relu(z)
    for zi, e in zip(z, exact):
        assert e == pytest.approx(_d2_brute_force(zi, "relu"), abs=0.02)


def test_d2_relu_is_feasible_and_no_random_point_beats_it_K4():
    rng = np.random.default_rng(2)
    z = rng.standard_normal((60, 4))
    d2 = finite_k.d2_relu(z)
    x = rng.standard_normal((60, 5000, 4)) * 1.5
    out = np.maximum(z[:, None] + x, 0)
    feasible = out[..., :2].sum(-1) - out[..., 2:].sum(-1) > 0
    cost = np.where(feasible, (x**2).sum(-1), np.inf).min(1)
    assert np.all(cost >= d2 - 1e-9)


def test_d2_sign_is_sum_of_smallest_costs():
    z = np.array([[-1.0, -2.0, 0.5], [-0.1, -0.3, -0.2]])
    assert finite_k.d2_sign(z) == pytest.approx([1.0, 0.01 + 0.04])


@pytest.mark.parametrize("args", [("tanh", 3, "spherical", "rs"), ("relu", 3, "spherical", "rs"),
                                  ("sign", 2, "spherical", "rs"), ("relu", "x", "spherical", "rs"),
                                  ("relu", 4, "binary", "rs"), ("sign", 4, "binary", "rs"), ("sign", 203, "binary", "rs"),
                                  ("relu", 4, "spherical", "1rsb"), ("relu", 4, "spherical", "2rsb")])
def test_bad_input_raises_actlab_error(args):
    with pytest.raises(ActlabError):
        replica.alpha_c(*args)


@pytest.mark.parametrize("kw", [{"method": "exact"}, {"points": 1}])
def test_bad_finite_K_options_raise(kw):
    with pytest.raises(ActlabError):
        replica.alpha_c("relu", 4, **kw)
