"""The two-input kernel at input correlation ρ ≈ 0 (orthogonal inputs): it used to bisect
rounding noise forever for odd σ. Reference: the first two Hermite terms,
E σ(z₁)σ(z₂) = ⟨σ⟩₁⟨σ⟩₂ + K₁₂⟨σ'⟩₁⟨σ'⟩₂ + O(ρ²) (the ρ² term is ~1e-24 here)."""
import math

import pytest
import torch

from actlab import ActlabError, get_activation
from actlab.theory import bivariate_gaussian_expectation, gaussian_expectation, kernel_map_pair
from actlab.theory.target import value_and_slope

K11, K22 = 1.0, 0.7


def linearised(act, k12: float) -> tuple[float, float]:
    """(⟨σ⟩₁⟨σ⟩₂ + K₁₂⟨σ'⟩₁⟨σ'⟩₂, the scale √(⟨σ²⟩₁⟨σ²⟩₂))."""
    bps = getattr(getattr(act, "info", None), "breakpoints", None)
    mean = [gaussian_expectation(act, K, bps) for K in (K11, K22)]
    slope = [gaussian_expectation(lambda z: value_and_slope(act, z)[1], K, bps) for K in (K11, K22)]
    square = [gaussian_expectation(lambda z: act(z) ** 2, K, bps) for K in (K11, K22)]
    return mean[0] * mean[1] + k12 * slope[0] * slope[1], math.sqrt(square[0] * square[1])


@pytest.mark.parametrize("name", ["tanh", "erf", "gelu", "zorro", "mrepu"])
@pytest.mark.parametrize("rho", [0.0, 1e-12, -1e-12])
def test_two_input_kernel_near_orthogonal_inputs(name, rho):
    act = torch.erf if name == "erf" else get_activation(name)
    k12 = rho * math.sqrt(K11 * K22)
    out = kernel_map_pair(act, [[K11, k12], [k12, K22]], C_b=0.0, C_W=1.0)[0, 1]
    expected, scale = linearised(act, k12)
    assert abs(out - expected) <= 1e-13 * scale
    if name in ("tanh", "erf") and rho != 0:  # odd σ: the whole value is the ρ-linear term, resolved to 1e-4
        assert abs(out / expected - 1) < 1e-4


def test_erf_arcsin_kernel_at_tiny_correlation():
    for k12 in (1e-12, -1e-12, 0.0):
        K = [[K11, k12], [k12, K22]]
        exact = 2 / math.pi * math.asin(2 * k12 / math.sqrt((1 + 2 * K11) * (1 + 2 * K22)))
        out = bivariate_gaussian_expectation(lambda a, b: torch.erf(a) * torch.erf(b), K)
        assert abs(out - exact) <= 1e-17 + 1e-4 * abs(exact)


def test_work_is_capped_with_a_clear_error():
    """An integrand that is pure noise never meets the stopping rule: a clear error, not 20 GB."""
    gen = torch.Generator().manual_seed(0)
    noise = lambda z: torch.rand(z.shape, generator=gen, dtype=torch.float64)  # noqa: E731
    with pytest.raises(ActlabError, match="did not converge"):
        gaussian_expectation(noise, 1.0)
