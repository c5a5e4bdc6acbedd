"""Gaussian expectations and susceptibilities against closed forms (relative 1e-10)."""
import dataclasses
import math

import numpy as np
import pytest
import torch
from scipy.special import erfc, factorial2

from actlab import ActlabError, get_activation
from actlab.theory import (bivariate_gaussian_expectation, gaussian_expectation, kernel_map, kernel_map_pair,
                           kernel_trajectory, pair_trajectory, second_moment, susceptibilities)
from actlab.theory.target import as_target



KS = np.array([1e-3, 0.05, 0.3, 1.0, 2.7, 10.0, 300.0])
TOL = 1e-10


def close(a, b, tol=TOL):
    np.testing.assert_allclose(a, b, rtol=tol, atol=0)


def test_relu_second_moment_and_susceptibilities():
    close(second_moment("relu", KS), KS / 2)
    par, perp = susceptibilities("relu", KS, C_W=2.0)
    close(par, np.ones_like(KS))
    close(perp, np.ones_like(KS))


@pytest.mark.parametrize("p", [2, 3])
def test_repu_closed_forms(p):
    act = get_activation(f"repu(p={p})")
    close(second_moment(act, KS), factorial2(2 * p - 1) / 2 * KS ** p)
    par, perp = susceptibilities(act, KS, C_W=1.0)
    close(perp, p * p * factorial2(2 * p - 3) / 2 * KS ** (p - 1))
    close(par / perp, np.full_like(KS, (2 * p - 1) / p))


def truncated_moments(n_max: int, K: float) -> list[float]:
    """M_n = ∫_{−1}^∞ zⁿ N(z; 0, K) dz by the spec's recursion."""
    phi = math.exp(-1 / (2 * K)) / math.sqrt(2 * math.pi * K)
    M = [0.5 * erfc(-1 / math.sqrt(2 * K)), K * phi]
    for n in range(2, n_max + 1):
        M.append((n - 1) * K * M[n - 2] + (-1) ** (n - 1) * K * phi)
    return M


def poly_expectation(coeffs: np.ndarray, K: float) -> float:
    M = truncated_moments(len(coeffs) - 1, K)
    return float(sum(c * m for c, m in zip(coeffs, M)))


@pytest.mark.parametrize("p", [2, 3])
def test_mrepu_truncated_moments(p):
    P = np.polynomial.Polynomial
    sigma = P([0, 1]) * P([1, 1]) ** p                  # z (z+1)^p on z >= −1
    slope = sigma.deriv()
    Ks = KS[KS < 50]  # at K = 300 the recursion itself loses digits to cancellation
    exact = np.array([[poly_expectation((sigma * sigma).coef, K),
                       poly_expectation((P([0, 1]) * slope * sigma).coef, K) / K,
                       poly_expectation((slope * slope).coef, K)] for K in Ks])
    close(second_moment(f"mrepu(p={p})", Ks), exact[:, 0])
    par, perp = susceptibilities(f"mrepu(p={p})", Ks, C_W=1.0)
    close(par, exact[:, 1])
    close(perp, exact[:, 2])


def test_erf_one_and_two_input_closed_forms():
    close(gaussian_expectation(lambda z: torch.erf(z) ** 2, KS), 2 / math.pi * np.arcsin(2 * KS / (1 + 2 * KS)))
    K = np.array([[1.3, 0.5], [0.5, 0.7]])
    exact = 2 / math.pi * math.asin(2 * K[0, 1] / math.sqrt((1 + 2 * K[0, 0]) * (1 + 2 * K[1, 1])))
    close(bivariate_gaussian_expectation(lambda a, b: torch.erf(a) * torch.erf(b), K), exact)


@pytest.mark.parametrize("rho", [0.4, -0.3, 0.999999])
def test_relu_arc_cosine_kernel(rho):
    k11, k22 = 1.3, 0.7
    k12 = rho * math.sqrt(k11 * k22)
    theta = math.acos(rho)
    exact = math.sqrt(k11 * k22) / (2 * math.pi) * (math.sin(theta) + (math.pi - theta) * math.cos(theta))
    out = kernel_map_pair("relu", [[k11, k12], [k12, k22]], C_b=0.0, C_W=2.0)
    close(out[0, 1], 2 * exact)
    close(np.diag(out), [k11, k22])


def test_unknown_kink_found_by_bisection():
    """A user's callable without breakpoints: kink at c = 0.3 ∉ any grid."""
    c = 0.3
    f = lambda z: torch.relu(z - c) ** 2  # noqa: E731
    for K in (0.2, 1.0, 5.0):
        s = math.sqrt(K)
        x = c / s
        exact = (K + c * c) * 0.5 * erfc(x / math.sqrt(2)) - c * s * math.exp(-x * x / 2) / math.sqrt(2 * math.pi)
        close(gaussian_expectation(f, K), exact)


def test_vectorised_equals_scalar_and_k_zero():
    many = gaussian_expectation(torch.tanh, KS)
    one = [gaussian_expectation(torch.tanh, float(K)) for K in KS]
    close(many, one, 1e-14)
    assert gaussian_expectation(torch.cos, 0.0) == 1.0
    close(gaussian_expectation(torch.cos, 2.0), math.exp(-1.0))


def test_kernel_trajectory_starts_at_the_first_layer():
    """Entry 0 is K⁽¹⁾ itself, entry l the kernel of layer l+1 (the book's and the CLI's numbering)."""
    traj = kernel_trajectory("tanh", 0.1, 1.2, 0.8, 2)
    assert traj[0] == 0.8 and len(traj) == 3
    close(traj[1], kernel_map("tanh", 0.8, 0.1, 1.2), 1e-15)
    close(traj[2], kernel_map("tanh", traj[1], 0.1, 1.2), 1e-15)


def test_relu_kernel_trajectory_and_repu_double_exponential():
    close(kernel_trajectory("relu", 0.0, 2.0, 1.7, 5), np.full(6, 1.7))
    # RePU_2 at C_b = 0: K' = (3/2) C_W K², K* = 1/(1.5 C_W); K⁽ˡ⁾ = K*(K⁽⁰⁾/K*)^(2^l)
    C_W, K0 = 0.5, 2.5
    K_star = 1 / (1.5 * C_W)
    traj = kernel_trajectory("repu", 0.0, C_W, K0, 5)
    close(traj, K_star * (K0 / K_star) ** (2.0 ** np.arange(6)))
    assert np.isinf(kernel_trajectory("repu", 0.0, C_W, K0, 12)[-1])


def test_radial_bounding_group_one_is_a_clamp():
    """g = 1: RB is clamp(−1, 1) and the radial reduction must agree with the elementwise one."""
    clamp = lambda z: z.clamp(-1.0, 1.0)  # noqa: E731
    for a, b in zip(susceptibilities("radial_bounding(group_size=1)", KS), susceptibilities(clamp, KS)):
        close(a, b)
    close(second_moment("radial_bounding(group_size=1)", KS), gaussian_expectation(lambda z: clamp(z) ** 2, KS, breakpoints=[-1, 1]))


def test_radial_bounding_chi_parallel_is_the_derivative():
    K, h = 0.8, 1e-4
    m = second_moment("radial_bounding(group_size=4)", np.array([K - h, K + h]))
    par, _ = susceptibilities("radial_bounding(group_size=4)", K)
    assert abs(par - (m[1] - m[0]) / (2 * h)) < 1e-7


def test_radial_bounding_g2_monte_carlo():
    K, n = 0.9, 400_000
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(n, 2, generator=gen, dtype=torch.float64) * math.sqrt(K)
    v = torch.randn(n, 2, generator=gen, dtype=torch.float64)
    rb = get_activation("radial_bounding(group_size=2)")
    z.requires_grad_(True)
    y = rb(z)
    (jtv,) = torch.autograd.grad((y * v).sum(), z)
    per_sample = (jtv ** 2).sum(1) / 2          # E|Jᵀv|²/g = tr(JJᵀ)/g
    f2 = (y.detach() ** 2).sum(1) / 2
    par, perp = susceptibilities("radial_bounding(group_size=2)", K)
    for mc, exact in ((per_sample, perp), (f2, second_moment("radial_bounding", K))):
        sem = float(mc.std()) / math.sqrt(n)
        assert abs(float(mc.mean()) - exact) < 4 * sem


def test_whole_vector_radial_bounding_needs_width():
    rb = get_activation("radial_bounding(group_size=0)")
    with pytest.raises(ActlabError, match="width"):
        susceptibilities(rb, 1.0)
    close(np.array(susceptibilities(rb, 1.0, width=4)), np.array(susceptibilities("radial_bounding(group_size=4)", 1.0)))


@pytest.mark.parametrize("call", [
    lambda: gaussian_expectation(3.0, 1.0),
    lambda: gaussian_expectation(torch.tanh, -1.0),
    lambda: gaussian_expectation(torch.tanh, float("nan")),
    lambda: susceptibilities("tanh", 1.0, C_W=0.0),
    lambda: kernel_map("tanh", 1.0, C_b=-0.1, C_W=1.0),
    lambda: kernel_trajectory("tanh", 0.0, -1.0, 1.0, 3),
    lambda: kernel_trajectory("tanh", 0.0, 1.0, 1.0, 2.5),
    lambda: susceptibilities("relu", 0.0, C_W=2.0),
    lambda: bivariate_gaussian_expectation(lambda a, b: a * b, [[1.0, 2.0], [2.0, 1.0]]),
    lambda: gaussian_expectation(lambda z: torch.exp(z * z), 1.0),
    lambda: as_target(42),
])
def test_bad_input_raises(call):
    with pytest.raises(ActlabError):
        call()


def test_targets_from_names_are_cached_until_the_name_is_registered_again():
    """as_target caches what it builds from a spec string; registering the name again (a
    different function) must not be served from the cache."""
    from actlab.activations import registry

    first = as_target("tanh")
    assert as_target("tanh") is first and as_target("gelu") is not first
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.dual = None  # shared by every caller: never changed in place
    saved = registry._FACTORIES["tanh"]
    try:
        registry.register("tanh")(lambda inplace=False: torch.nn.Sigmoid())
        assert as_target("tanh") is not first
        close(second_moment("tanh", 1.0), gaussian_expectation(lambda z: torch.sigmoid(z) ** 2, 1.0))
    finally:
        registry.register("tanh")(saved)
    close(second_moment("tanh", 1.0), gaussian_expectation(lambda z: torch.tanh(z) ** 2, 1.0))


def test_pair_trajectory_iterates_the_arc_cosine_map():
    """ReLU at (0, 2): diagonal preserved, ρ' = (sin θ + (π − θ) cos θ)/π."""
    K0 = np.array([[1.0, 0.3], [0.3, 1.0]])
    traj = pair_trajectory("relu", 0.0, 2.0, K0, 2)
    rho = 0.3
    for layer in (1, 2):
        theta = math.acos(rho)
        rho = (math.sin(theta) + (math.pi - theta) * math.cos(theta)) / math.pi
        close(traj[layer], np.array([[1.0, rho], [rho, 1.0]]))
