"""The compiled closed-form duals (actlab.theory.closed_forms): the symmetric N×N path (`gram`) equals the elementwise
(broadcasting) path exactly, and both equal the docstring formulas written here
independently, on random covariances with degenerate rows (zero variance, inputs exactly
collinear and anti-collinear); GELU's against the adaptive quadrature from the definition
over a grid of (q₁, q₂, ρ) up to |ρ| = 1, and its NNGP/NTK against the Hermite path."""
import dataclasses
import math

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import ndtr

from actlab import get_activation
from actlab.activations.duals import ab_relu_dual, erf_dual, gelu_dual
from actlab.theory.closed_forms import evaluate, gram
from actlab.theory.quadrature import bivariate_gaussian_expectation
from actlab.theory.stax import nngp, ntk
from actlab.theory.target import as_target


def ab_relu_reference(a_neg, a_pos):
    """E σσ = √(q₁q₂)/(2π)·[(a₊² + a₋²)(sin θ + (π − θ)cos θ) − 2a₊a₋(sin θ − θ cos θ)],
    E σ'σ' = [(a₊² + a₋²)(π − θ) + 2a₊a₋θ]/(2π), cos θ = c/√(q₁q₂) (0 where q₁q₂ = 0)."""
    def dual(q1, q2, c):
        norm = np.sqrt(q1 * q2)
        safe = np.where(norm > 0, norm, 1.0)
        theta = np.arccos(np.where(norm > 0, np.clip(c / safe, -1, 1), 0.0))
        sin, cos = np.sin(theta), np.cos(theta)
        even, cross = a_pos ** 2 + a_neg ** 2, 2 * a_pos * a_neg
        value = norm / (2 * np.pi) * (even * (sin + (np.pi - theta) * cos) - cross * (sin - theta * cos))
        return value, (even * (np.pi - theta) + cross * theta) / (2 * np.pi)
    return dual


def erf_reference(q1, q2, c):
    """E σσ = (2/π)arcsin(2c/√((1 + 2q₁)(1 + 2q₂))), E σ'σ' = (4/π)/√((1 + 2q₁)(1 + 2q₂) − 4c²)."""
    a, b = 1 + 2 * q1, 1 + 2 * q2
    return 2 / np.pi * np.arcsin(np.clip(2 * c / np.sqrt(a * b), -1, 1)), 4 / np.pi / np.sqrt(a * b - 4 * c * c)


def gelu_reference(q1, q2, c):
    """E σσ = c·P + (q₁q₂Δ + c²)/(2π a √Δ), E σ'σ' = P + c(3 + q₁ + q₂ + c²/Δ)/(2π a √Δ),
    a = (1 + q₁)(1 + q₂), Δ = a − c², P = 1/4 + arcsin(c/√a)/(2π)."""
    a = (1 + q1) * (1 + q2)
    delta = a - c * c
    P = 0.25 + np.arcsin(c / np.sqrt(a)) / (2 * np.pi)
    rest = 2 * np.pi * a * np.sqrt(delta)
    return c * P + (q1 * q2 * delta + c * c) / rest, P + c * (3 + q1 + q2 + c * c / delta) / rest


DUALS = {
    "relu": (ab_relu_dual(0.0, 1.0), ab_relu_reference(0.0, 1.0)),
    "leaky_relu(0.2)": (ab_relu_dual(0.2, 1.0), ab_relu_reference(0.2, 1.0)),
    "a- = -0.7, a+ = 0.3": (ab_relu_dual(-0.7, 0.3), ab_relu_reference(-0.7, 0.3)),
    "identity": (ab_relu_dual(1.0, 1.0), ab_relu_reference(1.0, 1.0)),
    "erf": (erf_dual, erf_reference),
    "gelu": (gelu_dual, gelu_reference),
}


def degenerate_covariance(seed: int, n: int = 40) -> np.ndarray:
    """XXᵀ/n₀ of random inputs at scales 1e-3…1e2, with input 0 zero (q = 0), input 2 = input 1
    (cos θ = 1) and input 3 = −2.5 × input 1 (cos θ = −1), those entries set exactly."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 8)) * 10.0 ** rng.uniform(-1.5, 1, size=(n, 1))
    X[0] = 0.0
    K = X @ X.T / 8
    K = 0.5 * (K + K.T)
    for j, f in ((2, 1.0), (3, -2.5)):  # z_j = f·z_1: the row and column of j are f times those of 1
        K[j, :] = K[:, j] = f * K[1, :]
        K[j, j] = f * f * K[1, 1]
    return K


@pytest.mark.parametrize("name", list(DUALS))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_symmetric_path_equals_elementwise_path_and_the_formulas(name, seed):
    dual, reference = DUALS[name]
    K = degenerate_covariance(seed)
    d = np.diag(K)
    S, D = gram(dual, K)
    S_el, D_el = evaluate(dual, d[:, None], d[None, :], K)
    np.testing.assert_array_equal(S, S_el)  # one compiled formula behind both
    np.testing.assert_array_equal(D, D_el)
    np.testing.assert_array_equal(S, S.T)
    S_only, none = gram(dual, K, slopes=False)
    assert none is None
    np.testing.assert_array_equal(S_only, S)
    S_ref, D_ref = reference(d[:, None], d[None, :], K)
    scale = np.sqrt(np.outer(np.diag(S_ref), np.diag(S_ref)))
    assert np.all(np.abs(S - S_ref) <= 1e-14 * scale + 1e-300), np.max(np.abs(S - S_ref) / (scale + 1e-300))
    # where E σ'σ' changes sign (GELU's anti-collinear inputs; a₊a₋ < 0 at θ = π(a₊² + a₋²)/(a₊ − a₋)²) a relative
    # error next to its zero is rounding over ~0, so such a slope is measured on its scale √(D_ii D_jj)
    slope_scale = np.sqrt(np.outer(np.diag(D_ref), np.diag(D_ref))) if np.any(D_ref < 0) else np.abs(D_ref)
    assert np.all(np.abs(D - D_ref) <= 1e-14 * slope_scale), np.max(np.abs(D - D_ref) / slope_scale)


def test_degenerate_entries_take_their_limits():
    K = degenerate_covariance(0)
    S, D = gram(ab_relu_dual(0.0, 1.0), K)
    assert np.all(S[0] == 0.0) and np.all(D[0, 1:] == 0.25)      # q = 0: cos θ = 0, E σ'σ' = 1/4
    assert S[1, 2] == pytest.approx(K[1, 1] / 2, rel=1e-15)      # collinear: E relu(z)² = q/2
    assert S[1, 3] == 0.0 and D[1, 3] == 0.0                     # anti-collinear: never both positive
    S_id, D_id = gram(ab_relu_dual(1.0, 1.0), K)
    np.testing.assert_allclose(S_id, K, rtol=1e-13, atol=1e-13 * K.max())  # identity: E z₁z₂ = c
    np.testing.assert_allclose(D_id, 1.0, rtol=1e-15)


def test_elementwise_path_broadcasts():
    value, slope = evaluate(erf_dual, np.array([[0.5], [1.0]]), np.array([0.5, 2.0, 3.0]), 0.1)
    assert value.shape == slope.shape == (2, 3)
    ref = erf_reference(np.array([[0.5], [1.0]]), np.array([0.5, 2.0, 3.0]), 0.1)
    np.testing.assert_allclose(value, ref[0], rtol=1e-15)
    v, s = evaluate(ab_relu_dual(0.0, 1.0), 1.0, 1.0, 1.0)
    assert v.shape == () and float(v) == pytest.approx(0.5, rel=1e-15) and float(s) == pytest.approx(0.5, rel=1e-15)


@pytest.mark.parametrize("act", ["relu", "erf"])
def test_layers_kept_are_not_overwritten_by_later_layers(act):
    """The dense layer updates new arrays in place: every kept layer equals its own run."""
    X = np.random.default_rng(3).normal(size=(5, 4))
    Ks, Ts = nngp(act, X, 0.1, 1.5, 4, layers=True), ntk(act, X, 0.1, 1.5, 4, layers=True)
    for depth in (1, 2, 4):
        np.testing.assert_array_equal(Ks[depth - 1], nngp(act, X, 0.1, 1.5, depth))
        np.testing.assert_array_equal(Ts[depth - 1], ntk(act, X, 0.1, 1.5, depth))


TOL_HERMITE = 1e-13
GELU_SCALES = [(1.0, 1.0), (1e-4, 2.5), (0.3, 40.0), (1e3, 1e3)]
RHOS = [0.0, 1e-12, -1e-12, 0.5, -0.5, 1 - 1e-12, -(1 - 1e-12), 1.0, -1.0]


@pytest.mark.parametrize("q1,q2", GELU_SCALES)
def test_gelu_dual_matches_the_adaptive_quadrature(q1, q2):
    """E gelu(z₁)gelu(z₂) within 1e-12 of √(q₁q₂), E dgelu(z₁)dgelu(z₂) within 1e-12 of
    √(E dgelu(z₁)² E dgelu(z₂)²), against the nested quadrature of the registered functions."""
    gelu, slope = get_activation("gelu"), get_activation("dgelu")  # dgelu(z) = Φ(z) + z·φ(z)
    c = np.array(RHOS) * math.sqrt(q1 * q2)
    value, derivative = evaluate(gelu_dual, q1, q2, c)
    diag = [evaluate(gelu_dual, q, q, q)[1] for q in (q1, q2)]
    slope_scale = math.sqrt(float(diag[0] * diag[1]))
    for k, ck in enumerate(c):
        K = np.array([[q1, ck], [ck, q2]])
        ref = bivariate_gaussian_expectation(lambda a, b: gelu(a) * gelu(b), K)
        ref_slope = bivariate_gaussian_expectation(lambda a, b: slope(a) * slope(b), K)
        assert abs(value[k] - ref) <= 1e-12 * math.sqrt(q1 * q2), (RHOS[k], value[k], ref)
        assert abs(derivative[k] - ref_slope) <= 1e-12 * slope_scale, (RHOS[k], derivative[k], ref_slope)


def test_gelu_dual_limits():
    """Exact limits: q₁ = 0 (σ(0) = 0, σ'(0) = 1/2, E σ' = 1/2), ρ = 0 (E σ = q/√(2π(1 + q))),
    finite moments past |ρ| = 1 by rounding (no NaN), and the anti-collinear pair at huge q."""
    v, d = evaluate(gelu_dual, 0.0, [0.5, 3.0, 1e6], 0.0)
    assert np.all(v == 0.0) and np.all(d == 0.25)
    q1, q2 = 0.7, 2.0
    v, d = evaluate(gelu_dual, q1, q2, 0.0)
    assert float(v) == pytest.approx(q1 * q2 / (2 * math.pi * math.sqrt((1 + q1) * (1 + q2))), rel=1e-15)
    assert float(d) == 0.25
    over = np.array([1.0, -1.0]) * math.sqrt(q1 * q2) * (1 + 1e-15)
    v, d = evaluate(gelu_dual, q1, q2, over)
    assert np.all(np.isfinite(v)) and np.all(np.isfinite(d))
    np.testing.assert_allclose(v, evaluate(gelu_dual, q1, q2, np.array([1.0, -1.0]) * math.sqrt(q1 * q2))[0], rtol=1e-14)
    q = 1e8  # anti-collinear: E σ(z)σ(−z) → −∫u²Φ(u)Φ(−u)du/√(2πq), a difference of terms ~√q
    tail = quad(lambda u: u * u * ndtr(u) * ndtr(-u), -np.inf, np.inf, epsabs=0, epsrel=1e-13)[0]
    assert float(evaluate(gelu_dual, q, q, -q)[0]) == pytest.approx(-tail / math.sqrt(2 * math.pi * q), rel=1e-6)


@pytest.mark.parametrize("parameterization", ["ntk", "standard"])
def test_gelu_nngp_and_ntk_equal_the_hermite_path(parameterization):
    """N = 16 inputs at scales 0.1…10 with an exact duplicate and an exact negative, 5 layers:
    the closed form against the Hermite expansion (tol 1e-13, the declared dual removed)."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(16, 6)) * 10.0 ** rng.uniform(-0.5, 0.5, size=(16, 1))
    X[1], X[2] = X[0], -X[0]
    hermite = dataclasses.replace(as_target("gelu"), dual=None)
    C_b, C_W = 0.1, 1.7
    K = nngp("gelu", X, C_b, C_W, 5, layers=True)
    K_h = nngp(hermite, X, C_b, C_W, 5, layers=True, tol=1e-13)
    T = ntk("gelu", X, C_b, C_W, 5, parameterization=parameterization)
    T_h = ntk(hermite, X, C_b, C_W, 5, parameterization=parameterization, tol=1e-13)
    for got, ref in [*zip(K, K_h), (T, T_h)]:
        scale = np.sqrt(np.outer(np.diag(ref), np.diag(ref)))
        assert np.all(np.abs(got - ref) <= TOL_HERMITE * scale), np.max(np.abs(got - ref) / scale)
