"""The two-input kernel of group activations by the isotropic reduction (actlab.theory.isotropic):
exact for a linear radial profile in any group size, continuous into the one-input moments at
|c| = 1, odd in K₁₂, against Monte Carlo and against wide sampled Radial Bounding networks; large
groups (g = 256, 1024) against the closed form of the saturated regime and Monte Carlo; depth
scales of RB pairs consistent with the layer recursion."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from actlab.errors import ActlabError
from actlab.theory import depth_scales, kernel_map_pair, pair_trajectory, second_moment, susceptibilities
from actlab.theory.finite_width import random_mlp
from actlab.theory.isotropic import log_ratio_bessel, pair_moment, pair_slope, pair_target
from actlab.theory.target import Group

RB = "radial_bounding"


@pytest.mark.parametrize("g", [2, 3, 4])
def test_linear_profile_gives_the_input_kernel_exactly(g):
    identity = Group(rho=lambda r: r, group_size=g, radii=(), label="identity")
    K11 = np.array([0.5, 2.0, 1.0, 0.7])
    K22 = np.array([0.8, 2.0, 1.0, 0.3])
    K12 = np.array([0.3, -1.5, 0.999999, -0.2])
    assert pair_moment(identity, K11, K22, K12) == pytest.approx(K12, rel=1e-10, abs=1e-14)
    assert pair_slope(identity, K11, K22, K12) == pytest.approx(np.ones(4), rel=1e-7)


def test_rb_pairs_is_odd_zero_at_orthogonal_inputs_and_continuous_at_the_diagonal():
    target = pair_target(RB)
    S = pair_moment(target, [0.6, 0.6, 0.6], [1.1, 1.1, 1.1], [0.4, -0.4, 0.0])
    assert S[0] == pytest.approx(-S[1], rel=1e-13) and S[2] == 0.0
    K = 0.7
    line, near = pair_moment(target, [K, K], [K, K], [K, K * (1 - 1e-9)])
    assert line == pytest.approx(second_moment(RB, K), rel=1e-12)
    assert near == pytest.approx(line, rel=1e-8)
    # the slope at |c| → 1 is the one-input χ⊥/C_W (one-sided difference: ~√h accuracy for the kink)
    assert pair_slope(target, K, K, K)[0] == pytest.approx(susceptibilities(RB, K, 1.0)[1], rel=5e-3)
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
