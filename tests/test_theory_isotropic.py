"""The two-input kernel of group activations by the isotropic reduction (actlab.theory.isotropic):
exact for a linear radial profile in any group size, continuous into the one-input moments at
|c| = 1, odd in K₁₂, against Monte Carlo and against wide sampled Radial Bounding networks; large
groups (g = 256, 1024) against the closed form of the saturated regime and Monte Carlo; its slope
(Price's theorem) against Richardson differences of the kernel; depth scales of RB pairs consistent
with the layer recursion and, next to the critical line, with the kink's expansion."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from actlab.errors import ActlabError
from actlab.theory import (depth_scales, kernel_map_pair, order_chaos_line, pair_trajectory, second_moment,
                           susceptibilities)
from actlab.theory.finite_width import random_mlp
from actlab.theory.isotropic import log_ratio_bessel, pair_moment, pair_slope, pair_target
from actlab.theory.target import Group

RB = "radial_bounding"


@pytest.mark.parametrize("g", [1, 2, 3, 4, 16])
def test_linear_profile_gives_the_input_kernel_exactly(g):
    """ρ(r) = r: f is the identity, S₁₂ = K₁₂ and D₁₂ = 1 (the Bessel weights of the slope sum to the
    density of ‖v‖ for every ν, and K₁₂ = 0 and |c| = 1 take their own branches)."""
    identity = Group(rho=lambda r: r, group_size=g, radii=(), label="identity")
    K11 = np.array([0.5, 2.0, 1.0, 0.7, 0.4, 0.9])
    K22 = np.array([0.8, 2.0, 1.0, 0.3, 0.6, 0.9])
    K12 = np.array([0.3, -1.5, 0.999999, -0.2, 0.0, 0.9])
    assert pair_moment(identity, K11, K22, K12) == pytest.approx(K12, rel=1e-10, abs=1e-14)
    assert pair_slope(identity, K11, K22, K12) == pytest.approx(np.ones(6), rel=1e-13)


def test_rb_pairs_is_odd_zero_at_orthogonal_inputs_and_continuous_at_the_diagonal():
    target = pair_target(RB)
    S = pair_moment(target, [0.6, 0.6, 0.6], [1.1, 1.1, 1.1], [0.4, -0.4, 0.0])
    assert S[0] == pytest.approx(-S[1], rel=1e-13) and S[2] == 0.0
    K = 0.7
    line, near = pair_moment(target, [K, K], [K, K], [K, K * (1 - 1e-9)])
    assert line == pytest.approx(second_moment(RB, K), rel=1e-12)
    assert near == pytest.approx(line, rel=1e-8)
    # the slope at |c| = 1 is the one-input χ⊥/C_W; it leaves it as √(1 − c) (the kink at r = 1)
    chi_perp = susceptibilities(RB, K, 1.0)[1]
    on, near = pair_slope(target, [K, K], [K, K], [K, K * (1 - 1e-10)])
    assert on == pytest.approx(chi_perp, rel=1e-13)
    assert 0 < (on - near) / on < 1e-4
    with pytest.raises(ActlabError, match="positive semidefinite"):
        pair_moment(target, 0.5, 0.5, 0.6)


def test_rb_pairs_against_monte_carlo():
    rng = np.random.default_rng(1)
    n = 400_000
    rb = lambda z: z / np.maximum(1.0, np.linalg.norm(z, axis=-1, keepdims=True))  # noqa: E731
    for K11, K22, K12 in [(0.5, 0.5, 0.25), (2.0, 0.8, -0.9), (1.3, 1.3, 1.25)]:
        L = np.linalg.cholesky(np.array([[K11, K12], [K12, K22]]))
        x = rng.standard_normal((n, 2, 2))  # (sample, input, component of the pair)
        u, v = L[0, 0] * x[:, 0], L[1, 0] * x[:, 0] + L[1, 1] * x[:, 1]
        prod = (rb(u) * rb(v)).sum(-1) / 2
        err = prod.std() / math.sqrt(n)
        assert abs(pair_moment(pair_target(RB), K11, K22, K12)[0] - prod.mean()) < 4 * err


def test_rb_pairs_kernel_against_wide_sampled_networks():
    C_b, C_W, width, depth, nets = 0.05, 3.0, 1024, 4, 16
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, width, generator=gen, dtype=torch.float64)
    x[1] = 0.5 * x[0] + math.sqrt(0.75) * x[1]
    K1 = C_b + C_W * (x @ x.T).numpy() / width
    theory = pair_trajectory(RB, C_b, C_W, K1, depth - 1)
    samples = np.zeros((nets, depth, 2, 2))
    for n in range(nets):
        h = x
        for layer, (linear, act) in enumerate(random_mlp(RB, width, depth, C_b, C_W, in_dim=width, generator=gen)):
            z = linear(h)
            samples[n, layer] = (z @ z.T).detach().numpy() / width
            h = act(z)
    mean, se = samples.mean(0), samples.std(0, ddof=1) / math.sqrt(nets)
    # 4 s.e. of the network-to-network spread, plus 1 % for the O(1/width) shift of the mean
    assert np.all(np.abs(mean - theory) <= 4 * se + 0.01 * np.abs(theory))
    corr = theory[:, 0, 1] / np.sqrt(theory[:, 0, 0] * theory[:, 1, 1])
    assert corr[-1] < corr[0] - 0.1  # chaotic: the inputs decorrelate, and the networks follow


def test_rb_pairs_depth_scales_follow_the_layer_recursion():
    C_b = 0.05
    ordered = depth_scales(RB, C_b, 0.5)
    assert ordered.phase == "ordered" and ordered.c_star == 1.0
    assert ordered.chi_c == pytest.approx(susceptibilities(RB, ordered.q_star, 0.5)[1], rel=1e-12)
    chaotic = depth_scales(RB, C_b, 3.0)
    q, c = chaotic.q_star, chaotic.c_star
    assert chaotic.phase == "chaotic" and 0 < c < 1 and chaotic.chi_c < 1
    step = lambda c: kernel_map_pair(RB, q * np.array([[1, c], [c, 1]]), C_b, 3.0)[0, 1] / q  # noqa: E731
    assert step(c) == pytest.approx(c, abs=1e-9)  # c* is a fixed point of the layer map
    gap = 1e-3
    assert (step(c + gap) - c) / gap == pytest.approx(chaotic.chi_c, rel=2e-3)  # the gap shrinks by χ_c per layer
    assert chaotic.xi_c == pytest.approx(-1 / math.log(chaotic.chi_c))



def _mean_cosine(g: int, c: float) -> float:
    """E[û·v̂] of two standard Gaussian vectors in Rᵍ with correlation c (by mpmath):
    (2/g)(Γ((g+1)/2)/Γ(g/2))² c ₂F₁(½, ½; g/2 + 1; c²)."""
    import mpmath as mp

    ratio = mp.gamma(mp.mpf(g + 1) / 2) / mp.gamma(mp.mpf(g) / 2)
    return float(2 / mp.mpf(g) * ratio ** 2 * c * mp.hyp2f1(0.5, 0.5, mp.mpf(g) / 2 + 1, c * c))


@pytest.mark.parametrize("g", [256, 1024])
@pytest.mark.parametrize("K11, K22, K12", [(1.0, 1.0, 0.1), (2.0, 0.5, 0.9), (1.0, 1.0, -0.999)])
def test_large_groups_match_the_saturated_closed_form(g, K11, K22, K12):
    """With ‖u‖ ≈ √(g·K) ≫ 1 Radial Bounding is u/‖u‖ (P(‖u‖ < 1) < 1e-50 here), so S₁₂ = E[û·v̂]/g exactly;
    at g = 256 each factor of the inner Bessel term alone leaves float64 (it raised before)."""
    target = pair_target(f"radial_bounding(group_size={g})")
    c = K12 / math.sqrt(K11 * K22)
    assert pair_moment(target, K11, K22, K12)[0] == pytest.approx(_mean_cosine(g, c) / g, rel=1e-9)


def test_large_groups_below_saturation_against_monte_carlo():
    g, n = 256, 100_000
    rng = np.random.default_rng(3)
    rb = lambda z: z / np.maximum(1.0, np.linalg.norm(z, axis=-1, keepdims=True))  # noqa: E731
    for K11, K22, K12 in [(0.004, 0.005, -0.003), (0.003, 0.003, 0.0029)]:   # ‖u‖ ≈ 1: the kink matters
        L = np.linalg.cholesky(np.array([[K11, K12], [K12, K22]]))
        x = rng.standard_normal((n, 2, g))
        u, v = L[0, 0] * x[:, 0], L[1, 0] * x[:, 0] + L[1, 1] * x[:, 1]
        prod = (rb(u) * rb(v)).sum(-1) / g
        err = prod.std() / math.sqrt(n)
        assert abs(pair_moment(pair_target(f"radial_bounding(group_size={g})"), K11, K22, K12)[0] - prod.mean()) < 4 * err


def test_log_ratio_bessel_against_mpmath_across_the_underflow():
    import mpmath as mp

    nu = 128.0
    for t, m, s2 in [(16.0, 1.6, 0.99), (16.0, 0.01, 0.99), (1.0, 0.5, 0.99), (20.0, 20.0, 0.01), (0.3, 1e-3, 1.0)]:
        kappa = t * m / s2
        ref = float((nu - 1) * mp.log(mp.mpf(t) / m) + mp.log(mp.besseli(nu, kappa)) - kappa)
        assert log_ratio_bessel(nu, np.array([t]), np.array([m]), np.array([s2]))[0] == pytest.approx(ref, rel=1e-12)
    assert log_ratio_bessel(nu, np.array([1.0]), np.array([0.0]), np.array([1.0]))[0] == -math.inf


@pytest.mark.parametrize("g", [1, 2, 3, 4, 16])
def test_slope_is_the_derivative_of_the_kernel(g):
    """D₁₂ (Price's theorem, exact) against Richardson's extrapolation of central differences of S₁₂ with
    steps h and h/2 (truncation ~h⁴, rounding ~1e-16/h: ~1e-12 here; measured ≤ 5e-13), at kernels
    below, around and above RB's kink ‖u‖ = 1, equal and unequal variances, both signs of K₁₂;
    D is even in K₁₂ and K₁₂ = 0 (independent inputs) continues the general case."""
    target = pair_target(f"radial_bounding(group_size={g})")
    K11 = np.array([0.9, 1.8, 0.63, 0.05, 5.0]) / g
    K22 = np.array([0.9, 0.45, 1.17, 0.08, 3.0]) / g
    K12 = np.array([0.36, -0.54, 0.09, 0.06, -3.6]) / g
    D = pair_slope(target, K11, K22, K12)
    n = len(K11)

    def central(h: np.ndarray) -> np.ndarray:
        S = pair_moment(target, np.r_[K11, K11], np.r_[K22, K22], np.r_[K12 + h, K12 - h])
        return (S[:n] - S[n:]) / (2 * h)

    h = 1e-3 * np.sqrt(K11 * K22)
    assert D == pytest.approx((4 * central(h / 2) - central(h)) / 3, rel=1e-9)
    assert np.array_equal(pair_slope(target, K11, K22, -K12), D)
    zero, tiny = pair_slope(target, [K11[0]] * 2, [K22[1]] * 2, [0.0, 1e-9 * math.sqrt(K11[0] * K22[1])])
    assert zero == pytest.approx(tiny, rel=1e-9) and zero > 0


C_MAP_RHO = np.array([0.0, 1e-12, -1e-12, 0.5, -0.5, 1 - 1e-9, -(1 - 1e-9)])


@pytest.mark.parametrize("g", [2, 4])
def test_fixed_rule_matches_the_adaptive_reference(g):
    """The fast path (fixed tensor-product rule) against the adaptive reference: the c-map at
    ρ = 0, ±1e-12, ±0.5, ±(1 − 1e-9), and unequal variances from a small to a saturated kernel."""
    target = pair_target(f"radial_bounding(group_size={g})")
    q = 0.9 / g
    K11 = np.concatenate([np.full(7, q), [2 * q, 0.01, 30.0]])
    K22 = np.concatenate([np.full(7, q), [0.5 * q, 3.0, 30.0]])
    K12 = np.concatenate([q * C_MAP_RHO, [0.7 * q, 0.1, 29.0]])
    fixed = pair_moment(target, K11, K22, K12)
    reference = pair_moment(target, K11, K22, K12, method="adaptive")
    assert fixed[0] == 0.0 and fixed[1] == -fixed[2] and fixed[3] == -fixed[4]
    assert fixed == pytest.approx(reference, rel=1e-12, abs=0)
    # the slope on both rules (the adaptive one costs ~1 CPU-s per kernel): next to the diagonal, unequal variances
    pick = [5, 7]
    assert pair_slope(target, K11[pick], K22[pick], K12[pick]) == pytest.approx(
        pair_slope(target, K11[pick], K22[pick], K12[pick], method="adaptive"), rel=1e-12, abs=0)
    with pytest.raises(ActlabError, match="method"):
        pair_moment(target, q, q, 0.5 * q, method="quick")
    with pytest.raises(ActlabError, match="method"):
        pair_slope(target, q, q, 0.5 * q, method="quick")


@pytest.mark.parametrize("method", ["fixed", "adaptive"])
def test_near_the_diagonal_the_kernel_falls_with_the_one_input_slope(method):
    """S(1) − S(1 − d) = q·D(1)·d (1 − O(√d)), D(1) = χ⊥/C_W from the 1-D moments: within d = 1e-7
    of the diagonal Φ(a·r) turns within ~s/a ≈ 1e-4 of its kink, which the adaptive rule's panels
    missed before they got edges there (it then gave about half the drop)."""
    target = pair_target(RB)
    q = 0.45
    S1, D1 = second_moment(RB, q), susceptibilities(RB, q, 1.0)[1]
    for d in (1e-5, 1e-7, 1e-9):
        drop = S1 - pair_moment(target, q, q, q * (1 - d), method=method)[0]
        assert drop / (q * D1 * d) == pytest.approx(1.0, abs=0.2 * math.sqrt(d))


@pytest.mark.parametrize("name, C_b, C_W", [(RB, 0.0, 1.5), (RB, 0.05, 3.0), (RB, 0.05, 1.3),
                                            ("radial_bounding(group_size=4)", 0.05, 3.0)])
def test_chaotic_depth_scales_against_the_adaptive_reference(name, C_b, C_W):
    """c* and χ_c of the fast path against the reference map: one Newton step of the adaptive
    h(c) = (C_b + C_W S(c))/q − c from c* moves it by < 1e-9·c*, and χ_c, ξ_c agree with the adaptive
    rule's slope to 1e-12 (measured ≤ 2e-16 and 2e-14; chaotic at C_b = 0 with c* = 0, chaotic,
    near-critical with χ₁ = 1.015, groups of 4)."""
    d = depth_scales(name, C_b, C_W)
    target, q, c = pair_target(name), d.q_star, d.c_star
    assert d.phase == "chaotic" and (c == 0.0) == (C_b == 0.0)
    assert (C_b + C_W * pair_moment(target, q, q, q * c)[0]) / q - c == pytest.approx(0.0, abs=1e-14)
    h = (C_b + C_W * pair_moment(target, q, q, q * c, method="adaptive")[0]) / q - c
    chi_c = C_W * pair_slope(target, q, q, q * c, method="adaptive")[0]
    assert abs(h / (1 - chi_c)) <= 1e-9 * c
    assert d.chi_c == pytest.approx(chi_c, rel=1e-12)
    assert d.xi_c == pytest.approx(-1 / math.log(chi_c), rel=1e-12)
    assert d.q_star == pytest.approx(C_b + C_W * second_moment(name, q), rel=1e-14)
    assert d.chi_1 == pytest.approx(susceptibilities(name, q, C_W)[1], rel=1e-14)


def test_chaotic_points_next_to_the_critical_line():
    """At (0.05, 1.27) (χ₁ = 1.0037) and at C_W 1e-3 and 1e-4 above the critical line, c* lies
    ε ≈ 1e-3, 1.8e-5, 1.8e-7 below 1, where RB's kink makes S(1) − S(c) = qD(1)ε − Bε^{3/2} + O(ε²)
    (ε = 1 − c), so h(c) = ε(1 − χ₁) + χ₁ε^{3/2}B/(qD(1)) + … and at its root
    (1 − χ_c)/((χ₁ − 1)/2) = 1 + k√ε + …: measured k = 0.43, 0.47, 0.48 (before c* got the Newton step
    on ∫_c^1 (1 − C_W D), the last was 1.2: the plain h pinned c* to 2e-4 of ε there). χ_c is the exact
    slope: at (0.05, 1.27) it matches Richardson's extrapolation of the adaptive rule's differences with
    steps ε/100 and ε/200 (truncation ~1e-8, rounding ~1e-16/h) to 1e-9 (measured 2e-11), where the old
    central difference was off by 1e-3 in ξ_c."""
    line = float(order_chaos_line(RB, [0.05])[0])
    k = []
    for C_W, eps in [(1.27, 1e-3), (line * (1 + 1e-3), 1.8e-5), (line * (1 + 1e-4), 1.8e-7)]:
        d = depth_scales(RB, 0.05, C_W)
        assert d.phase == "chaotic" and 0.5 * eps < 1 - d.c_star < 2 * eps
        k.append(((1 - d.chi_c) / ((d.chi_1 - 1) / 2) - 1) / math.sqrt(1 - d.c_star))
        if C_W == 1.27:
            target, q, c = pair_target(RB), d.q_star, d.c_star
            h = (1 - c) / 100 * q

            def central(h: float) -> float:
                S = pair_moment(target, [q, q], [q, q], [q * c + h, q * c - h], method="adaptive")
                return (S[0] - S[1]) / (2 * h)

            assert d.chi_c == pytest.approx(C_W * (4 * central(h / 2) - central(h)) / 3, rel=1e-9)
    assert 0.3 < k[0] < 0.6 and k[2] == pytest.approx(k[1], rel=0.05)
