"""The 1/n theory (actlab.theory.fluctuations) against closed forms, finite differences and Monte Carlo."""
import math

import numpy as np
import pytest
import torch

from actlab import get_activation
from actlab.errors import ActlabError
from actlab.theory import second_moment
from actlab.theory.finite_width import sample_kernels
from actlab.theory.fluctuations import finite_width_prediction, fluctuation_moments, scale_invariant_exact


# --- the recursion's ingredients --------------------------------------------------------
def test_ingredients_closed_forms_relu_and_sin():
    K = np.array([0.3, 1.0, 7.0])
    m = fluctuation_moments("relu", K)
    np.testing.assert_allclose(m[:, 0], K / 2, rtol=1e-12)                     # ⟨σ²⟩ = K/2
    np.testing.assert_allclose(m[:, 1], 1.5 * K ** 2 - K ** 2 / 4, rtol=1e-12)  # ⟨σ⁴⟩ − ⟨σ²⟩² = 5K²/4
    np.testing.assert_allclose(m[:, 2], 0.0, atol=1e-13)                       # ⟨σ²⟩ linear in K
    e = np.exp(-2 * K)
    m = fluctuation_moments(torch.sin, K)                                      # ⟨sin²⟩ = (1 − e^{−2K})/2
    np.testing.assert_allclose(m[:, 0], (1 - e) / 2, rtol=1e-12)
    np.testing.assert_allclose(m[:, 1], (3 - 4 * e + e ** 4) / 8 - ((1 - e) / 2) ** 2, rtol=1e-10)
    np.testing.assert_allclose(m[:, 2], -2 * e, rtol=1e-10)


@pytest.mark.parametrize("name,K", [("tanh", 0.01), ("tanh", 0.7), ("gelu", 3.5), ("mrepu(p=3)", 1e-3),
                                    ("radial_bounding", 0.5), ("radial_bounding(group_size=4)", 0.3)])
def test_second_derivative_matches_finite_difference(name, K):
    h = 1e-3 * K
    s = second_moment(name, [K - h, K, K + h])
    fd = (s[2] - 2 * s[1] + s[0]) / h ** 2
    d2 = fluctuation_moments(name, [K])[0, 2]
    assert abs(d2 - fd) < 1e-5 * max(abs(fd), 1.0)
    assert abs(fluctuation_moments(name, [K])[0, 0] - s[1]) < 1e-13 * s[1]


@pytest.mark.parametrize("name,K", [("tanh", 0.8), ("radial_bounding", 0.6)])
def test_fourth_moment_matches_monte_carlo(name, K):
    """v per component: elementwise ⟨σ⁴⟩ − ⟨σ²⟩²; groups (E ρ⁴ − (E ρ²)²)/g, i.e. n·Var of the
    layer's mean of σ² over n units (n/g independent groups)."""
    gen = torch.Generator().manual_seed(0)
    n, reps = 64, 40000
    z = torch.randn(reps, n, generator=gen, dtype=torch.float64) * math.sqrt(K)
    mean_sq = (get_activation(name)(z) ** 2).mean(1)
    v = fluctuation_moments(name, [K])[0, 1]
    mc = n * float(mean_sq.var())
    assert abs(mc / v - 1) < 4 * math.sqrt(2 / reps) + 0.01


# --- the book's closed forms ----------------------------------------------------------------
@pytest.mark.parametrize("name,slopes", [("relu", (1.0, 0.0)), ("leaky_relu(negative_slope=0.2)", (1.0, 0.2))])
def test_scale_invariant_vertex_grows_linearly_with_the_books_coefficient(name, slopes):
    """At criticality V⁽ˡ⁾ = (l − 1)(3A₄/A₂² − 1)K² (ReLU: 5(l − 1)K²) and no mean shift."""
    a_pos, a_neg = slopes
    A2, A4 = (a_pos ** 2 + a_neg ** 2) / 2, (a_pos ** 4 + a_neg ** 4) / 2
    K1, n = 2.5, 200
    p = finite_width_prediction(name, 0.0, 1 / A2, K1, 30, n)
    l = p.layers
    np.testing.assert_allclose(p.kernel, K1, rtol=1e-12)
    np.testing.assert_allclose(p.vertex, (l - 1) * (3 * A4 / A2 ** 2 - 1) * K1 ** 2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(p.kernel_shift, 0.0, atol=1e-11)
    np.testing.assert_allclose(p.kurtosis, 3 * p.vertex / (n * K1 ** 2))
    if name == "relu":
        np.testing.assert_allclose(p.vertex / K1 ** 2, 5 * (l - 1), rtol=1e-12)


@pytest.mark.parametrize("act,a1", [("tanh", -2.0), (torch.sin, -1.0)])
def test_k_star_zero_class_vertex_and_shift_asymptotics(act, a1):
    """K*=0 class at criticality, K⁽ˡ⁾ ≈ 1/(−a₁l): V/K² → (2/3)l whatever a₁ (the book's result),
    and K₍₁₎ → 1/(3a₁) (the project's solution of the K₍₁₎ recursion: V ≈ 2/(3a₁²l),
    f'' ≈ 2a₁, χ∥ ≈ 1 − 2/l). Corrections are O(log l / l)."""
    p = finite_width_prediction(act, 0.0, 1.0, 1.0, 400, 1000)
    ratio = p.vertex / (p.kernel ** 2 * p.layers)
    assert abs(ratio[-1] / (2 / 3) - 1) < 0.03
    assert abs(ratio[-1] - 2 / 3) < abs(ratio[99] - 2 / 3) < abs(ratio[19] - 2 / 3)   # converging
    assert abs(p.kernel_shift[-1] * 3 * a1 - 1) < 0.05
    assert abs(p.kernel_shift[-1] * 3 * a1 - 1) < abs(p.kernel_shift[99] * 3 * a1 - 1)


def test_relu_exact_second_moment_and_the_convergence_of_the_expansion():
    """Exact at any width: E K̂⁽ᴸ⁾² = K²(1 + 2/n)(1 + 5/n)^{L−1}. The leading order (5(L − 1) + 2)K²/n
    misses the next order, so its relative error is c/n, c = (25(L−1)(L−2)/2 + 10(L−1))/(5(L−1) + 2)
    (≈ 5L/2): it halves as n doubles."""
    L, K1 = 20, 1.0
    errors = []
    for n in (400, 800, 1600, 3200):
        exact = scale_invariant_exact(1.0, 0.0, 2.0, K1, L, n)
        np.testing.assert_allclose(exact["mean"], K1, rtol=1e-14)
        np.testing.assert_allclose(exact["variance"][-1], (1 + 2 / n) * (1 + 5 / n) ** (L - 1) - 1, rtol=1e-12)
        lead = finite_width_prediction("relu", 0.0, 2.0, K1, L, n).variance[-1]
        errors.append(exact["variance"][-1] / lead - 1)
    errors = np.array(errors)
    assert np.all(errors > 0)
    halving = errors[:-1] / errors[1:]
    assert np.all(np.abs(halving - 2) < 0.08) and np.all(np.diff(np.abs(halving - 2)) < 0)
    c = (25 * (L - 1) * (L - 2) / 2 + 10 * (L - 1)) / (5 * (L - 1) + 2)
    assert abs(errors[-1] * 3200 / c - 1) < 0.02


def test_relu_exact_second_moment_matches_sampled_networks_where_the_expansion_fails():
    n, L = 32, 8                                    # L/n = 0.25: the 1/n expansion is off by 40 %
    s = sample_kernels("relu", 0.0, 2.0, n, L - 1, 1.0, n_inputs=1, n_nets=20000, seed=5)[:, -1]
    exact = scale_invariant_exact(1.0, 0.0, 2.0, 1.0, L, n)["variance"][-1]
    lead = finite_width_prediction("relu", 0.0, 2.0, 1.0, L, n).variance[-1]
    c = s - s.mean()
    se = math.sqrt(((c ** 4).mean() - s.var() ** 2) / len(s))
    assert abs(s.var() - exact) < 4 * se
    assert s.var() - lead > 5 * se


# --- Monte Carlo of networks -------------------------------------------------------------------
def _explicit_networks(act, C_b, C_W, K1, width, depth, n_nets, seed):
    """Explicit Gaussian networks on one input (independent of the Gram sampler): per network and
    layer the stochastic metric Ĝ = C_b + C_W·mean σ(z_prev)² and the empirical kernel K̂ = mean z²;
    and the last layer's preactivations (n_nets × width)."""
    f = get_activation(act)
    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(n_nets, width, generator=gen, dtype=torch.float64) * math.sqrt(K1)
    G, Kh = [torch.full((n_nets,), K1, dtype=torch.float64)], [(z * z).mean(1)]
    for _ in range(depth - 1):
        h = f(z)
        W = torch.randn(n_nets, width, width, generator=gen, dtype=torch.float64) * math.sqrt(C_W / width)
        z = torch.bmm(W, h.unsqueeze(2)).squeeze(2) + math.sqrt(C_b) * torch.randn(n_nets, width, generator=gen,
                                                                                       dtype=torch.float64)
        G.append(C_b + C_W * (h * h).mean(1))
        Kh.append((z * z).mean(1))
    return torch.stack(G, 1).numpy(), torch.stack(Kh, 1).numpy(), z.numpy()


def _var_se(x: np.ndarray) -> np.ndarray:
    c = x - x.mean(0)
    return np.sqrt(np.maximum((c ** 4).mean(0) - x.var(0) ** 2, 0) / len(x))


@pytest.mark.parametrize("act,C_b,C_W,K1", [("tanh", 0.0, 1.0, 1.0), ("relu", 0.0, 2.0, 1.0),
                                            ("gelu", 0.172922, 1.98306, 3.56155), ("radial_bounding", 0.0, 1.0, 0.5)])
def test_small_explicit_networks_pin_the_recursion(act, C_b, C_W, K1):
    """800 explicit networks of width 64, depth 3 (L/n ≈ 0.05): Var Ĝ⁽ˡ⁾ = V⁽ˡ⁾/n, Var K̂⁽ˡ⁾ = (V + 2K²)/n
    and E Ĝ⁽ˡ⁾ = K + K₍₁₎/n within 4 standard errors plus the next order (~L/n relative)."""
    n, L, N = 64, 3, 800
    G, Kh, _ = _explicit_networks(act, C_b, C_W, K1, n, L, N, seed=11)
    p = finite_width_prediction(act, C_b, C_W, K1, L, n)
    slack = 1.5 * L / n
    for meas, se, pred in ((G.var(0)[1:], _var_se(G)[1:], p.metric_variance[1:]),
                           (Kh.var(0), _var_se(Kh), p.variance)):
        assert np.all(np.abs(meas - pred) < 4 * se + slack * pred), (meas, pred, se)
    mean_se = G.std(0)[1:] / math.sqrt(N)
    assert np.all(np.abs(G.mean(0)[1:] - p.mean[1:]) < 4 * mean_se + 1e-12)


@pytest.mark.parametrize("act,C_b,C_W,K1", [("tanh", 0.0, 1.0, 1.0), ("relu", 0.0, 2.0, 1.0),
                                            ("gelu", 0.172922, 1.98306, 3.56155)])
def test_excess_kurtosis_of_preactivations_measured_directly(act, C_b, C_W, K1):
    """The excess kurtosis E z⁴/(E z²)² − 3 of the last layer's preactivations, pooled over 3000
    explicit networks × 64 units at depth 4, is the predicted 3V/(nK²) within 4 s.e. (from 20
    independent blocks of networks) plus the next order (~L/n relative). ReLU: exactly
    3((1 + 5/n)^{L−1} − 1), which the 1/n value 15·3/n misses by ~10 % here."""
    n, L, N, blocks = 64, 4, 3000, 20
    _, _, z = _explicit_networks(act, C_b, C_W, K1, n, L, N, seed=17)
    per_block = [(b ** 4).mean() / (b ** 2).mean() ** 2 - 3 for b in np.array_split(z, blocks)]
    measured, se = (z ** 4).mean() / (z ** 2).mean() ** 2 - 3, np.std(per_block, ddof=1) / math.sqrt(blocks)
    predicted = finite_width_prediction(act, C_b, C_W, K1, L, n).kurtosis[-1]
    assert predicted > 5 * se                         # a kurtosis resolved by the measurement
    assert abs(measured - predicted) < 4 * se + 1.5 * L / n * predicted, (measured, predicted, se)
    if act == "relu":
        assert abs(measured - 3 * ((1 + 5 / n) ** (L - 1) - 1)) < 4 * se


@pytest.mark.parametrize("act,K1", [("tanh", 1.0), ("radial_bounding", 0.5)])
def test_mean_shift_is_resolved_by_many_sampled_networks(act, K1):
    """20 000 sampled networks of width 64, depth 10: the measured n·(E K̂ − K) is the predicted K₍₁₎
    (a ~3 % shift, resolved at > 10 standard errors) within 4 s.e. plus 20 % (next order, L/n = 0.16)."""
    n, L = 64, 10
    s = sample_kernels(act, 0.0, 1.0, n, L - 1, K1, n_inputs=1, n_nets=20000, seed=3)
    p = finite_width_prediction(act, 0.0, 1.0, K1, L, n)
    shift = n * (s.mean(0) - p.kernel)
    se = n * s.std(0) / math.sqrt(len(s))
    assert abs(p.kernel_shift[-1]) > 10 * se[-1]
    assert abs(shift[-1] - p.kernel_shift[-1]) < 4 * se[-1] + 0.2 * abs(p.kernel_shift[-1])


# --- API -------------------------------------------------------------------------------------------
def test_width_for_accuracy_and_bad_input():
    p = finite_width_prediction("relu", 0.0, 2.0, 1.0, 100, 256)
    w = p.width_for(0.1)
    assert w["fluctuation"] == math.ceil((5 * 99 + 2) / 0.01) and w["shift"] == 1
    assert p.depth_to_width == 100 / 256
    q = finite_width_prediction("relu", 0.0, 2.0, 1.0, 100, w["fluctuation"])
    assert q.relative_fluctuation[-1] <= 0.1 < finite_width_prediction("relu", 0, 2, 1, 100, w["fluctuation"] - 1).relative_fluctuation[-1]
    with pytest.raises(ActlabError):
        p.width_for(1.5)
    with pytest.raises(ActlabError):
        finite_width_prediction("relu", 0.0, 2.0, 0.0, 10, 64)
    with pytest.raises(ActlabError):
        finite_width_prediction("relu", 0.0, 2.0, 1.0, 10, 0)
    d = p.as_dict()
    assert d["variance"][-1] == pytest.approx((5 * 99 + 2) / 256)


def test_no_critical_point_gives_nan_after_overflow():
    p = finite_width_prediction("repu", 0.0, 2 / 3, 10.0, 12, 64)    # ln K doubles per layer
    assert np.isnan(p.vertex[-1]) and np.isfinite(p.vertex[1])
    assert p.width_for(0.1) == {"fluctuation": None, "shift": None}
