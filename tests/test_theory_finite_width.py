"""Finite-width measurements against the infinite-width predictions."""
import math

import numpy as np
import pytest
import torch
from torch import nn

from actlab.theory import critical_init, kernel_trajectory
from actlab.theory.finite_width import (compare_trajectories, inputs_with_kernel, measure, random_mlp,
                                        sample_kernels)



@pytest.mark.parametrize("name,K0", [("relu", 1.0), ("tanh", 1.0), ("mrepu", 1e-3)])  # MRePU: K0 below 1/(a₁·depth) = 1/360
def test_kernel_at_criticality_width_1024_depth_20(name, K0):
    c = critical_init(name)
    r = compare_trajectories(name, c.C_b, c.C_W, width=1024, depth=20, K0=K0, n_nets=300, n_explicit=0)
    dev = np.abs(r.kernel_measured / r.kernel_predicted - 1)
    assert dev.max() < 0.05                                   # a few percent
    assert np.all(np.abs(r.kernel_measured - r.kernel_predicted) < 4 * r.kernel_error + 0.01 * r.kernel_predicted)
    assert r.kernel_diverged.sum() == 0


def test_repu_double_exponential_blow_up():
    """RePU_2 at C_b = 0, C_W = 2/3 (K* = 1): ln K⁽ˡ⁾ = 2^l · ln K⁽⁰⁾ at infinite width."""
    K0, depth = math.e, 5
    samples = sample_kernels("repu", 0.0, 2 / 3, 1024, depth, K0, n_inputs=2, n_nets=200)
    measured = np.log(np.median(samples, axis=0))
    predicted = np.log(kernel_trajectory("repu", 0.0, 2 / 3, K0, depth))
    np.testing.assert_allclose(predicted, 2.0 ** np.arange(depth + 1), rtol=1e-10)
    np.testing.assert_allclose(measured, predicted, rtol=0.1)
    assert np.all(measured[1:] / measured[:-1] > 1.7)          # log K doubles: not a mere exponential


def test_gram_sampling_matches_explicit_networks():
    width, depth, K0, N = 128, 4, 1.0, 40
    gen = torch.Generator().manual_seed(1)
    explicit = []
    for _ in range(N):
        stages = random_mlp("tanh", width, depth, 0.1, 1.5, in_dim=16, generator=gen)
        explicit.append(measure(stages, inputs_with_kernel(2, 16, (K0 - 0.1) / 1.5, gen), jacobian=False).kernel)
    explicit = np.array(explicit)
    sampled = sample_kernels("tanh", 0.1, 1.5, width, depth - 1, K0, n_inputs=2, n_nets=400)
    sem = np.sqrt(explicit.var(0, ddof=1) / N + sampled.var(0, ddof=1) / len(sampled))
    assert np.all(np.abs(explicit.mean(0) - sampled.mean(0)) < 4 * sem)


def test_gradients_and_jacobian_follow_chi_perp():
    r = compare_trajectories("tanh", 0.0, 1.0, width=512, depth=8, K0=1.0, n_nets=20, n_explicit=4, in_dim=16)
    np.testing.assert_allclose(r.grad_measured, r.grad_predicted, rtol=0.25)
    assert r.jacobian_singular_values.shape == (16,)
    ms = float(np.mean(r.jacobian_singular_values ** 2))
    assert abs(ms / r.jacobian_ms_predicted - 1) < 0.3


def test_measure_accepts_a_plain_torch_stage_list():
    torch.manual_seed(0)
    stages = [(nn.Linear(8, 64, dtype=torch.float64), nn.Tanh()), (nn.Linear(64, 64, dtype=torch.float64), nn.Tanh())]
    m = measure(stages, torch.randn(5, 8, dtype=torch.float64))
    assert m.kernel.shape == (2,) and m.grad_sq.shape == (2,) and m.jacobian_singular_values.shape == (8,)
    assert np.all(m.kernel > 0)


def test_orthogonal_weights_give_dynamical_isometry_for_radial_bounding():
    """Inside the ball RB is the identity: with orthogonal W the Jacobian is an isometry
    (all singular values √(n/n₀) at C_W = 1), with Gaussian W its spectrum spreads."""
    spreads = {}
    for orthogonal in (False, True):
        gen = torch.Generator().manual_seed(0)
        stages = random_mlp("radial_bounding", 256, 10, 0.0, 1.0, in_dim=16, generator=gen, orthogonal=orthogonal)
        sv = measure(stages, inputs_with_kernel(4, 16, 0.01, gen), generator=gen).jacobian_singular_values
        spreads[orthogonal] = sv.std() / sv.mean()
        if orthogonal:
            np.testing.assert_allclose(sv, math.sqrt(256 / 16), rtol=1e-9)
    assert spreads[False] > 0.2
