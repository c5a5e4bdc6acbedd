"""Finite-K spherical RS capacity: exact values, the sign order-statistics integral, ReLU QMC."""
import math

import numpy as np
import pytest
from scipy import special

from actlab.capacity import finite_k, replica


def test_exact_values_agree_with_the_random_routes():
    assert replica.alpha_c("relu", 2).value == pytest.approx(4 / 3, abs=1e-15)
    mc = finite_k.mean_d2_mc("relu", 2, samples=400_000, seed=1)
    assert abs(mc.value - 0.75) < 4 * mc.error
    qmc = finite_k.relu_mean_d2_qmc(2, points=2**12, scrambles=8)
    assert abs(qmc.value - 0.75) < 4 * qmc.error + 1e-12 and qmc.error < 2e-4
    assert finite_k.sign_mean_d2(1).value == pytest.approx(0.5, abs=1e-13)


def _sign_mean_d2_gauss_legendre(K: int, nodes: int = 1200) -> float:
    """The same integral on a fixed composite Gauss–Legendre grid."""
    x, w = np.polynomial.legendre.leggauss(40)
    edges = np.linspace(0.0, 60.0, nodes // 40 + 1)
    s = ((edges[1:] - edges[:-1])[:, None] * (x + 1) / 2 + edges[:-1, None]).ravel()
    ws = ((edges[1:] - edges[:-1])[:, None] * w / 2).ravel()
    tail = np.array([finite_k.sign_tail(K, v / math.sqrt(K)) for v in s])
    return float((ws * 2 * s / K * tail).sum())


@pytest.mark.parametrize("K", [3, 101, 10001])
def test_sign_integral_matches_an_independent_quadrature(K):
    r = finite_k.sign_mean_d2(K)
    assert r.value == pytest.approx(_sign_mean_d2_gauss_legendre(K), rel=1e-11)
    assert r.error < 1e-10 * r.value


def test_sign_tail_matches_high_precision_sums():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 30
    K, m = 2001, 1001
    for s in (0.5, 4.0):
        u = s / math.sqrt(K)
        p = mpmath.mpf(float(special.ndtr(u)))
        exact = mpmath.fsum((m - b) * mpmath.binomial(K, b) * p**b * (1 - p) ** (K - b) for b in range(m))
        assert finite_k.sign_tail(K, u) == pytest.approx(float(exact), rel=1e-11)


@pytest.mark.parametrize("K", [3, 9])
def test_sign_integral_matches_monte_carlo(K):
    mc = finite_k.mean_d2_mc("sign", K, samples=400_000, seed=K)
    assert abs(finite_k.sign_mean_d2(K).value - mc.value) < 4 * mc.error


def test_sign_rs_grows_like_sqrt_K_and_known_K3():
    assert 1 / finite_k.sign_mean_d2(3).value == pytest.approx(4.02, abs=0.01)   # Barkai, Hansel, Kanter (1990)
    ratios = [1 / finite_k.sign_mean_d2(K).value / finite_k.sign_rs_asymptote(K) for K in (101, 1001, 10001)]
    assert ratios[0] < ratios[1] < ratios[2] < 1 and ratios[2] > 0.97


def test_relu_control_variate_means_are_exact():
    z = np.random.default_rng(0).standard_normal((400_000, 6))
    v = finite_k.relu_controls(z)
    se = v.std(0) / math.sqrt(len(v))
    assert np.all(np.abs(v.mean(0) - finite_k.relu_control_means(6)) < 4 * se)


def test_relu_qmc_agrees_with_monte_carlo_and_is_monotone():
    q4 = finite_k.relu_mean_d2_qmc(4, points=2**12, scrambles=8)
    mc4 = finite_k.mean_d2_mc("relu", 4, samples=300_000, seed=2)
    assert abs(q4.value - mc4.value) < 4 * math.hypot(q4.error, mc4.error)
    alphas = [replica.alpha_c("relu", K, points=2**12, scrambles=8) for K in (4, 8, 16)]
    assert all(a.uncertainty < 3e-3 for a in alphas)
    assert alphas[0].value < alphas[1].value < alphas[2].value < replica.alpha_c("relu", "inf").value
