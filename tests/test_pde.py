"""actlab.data.pde: residuals by autograd, conditions, references (Burgers by Cole-Hopf)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from actlab.data.pde import derivative, get_pde, list_pdes
from actlab.errors import ActlabError

CLOSED_FORM = ["poisson1d", "poisson2d", "heat"]


def test_registry():
    assert list_pdes() == ["burgers", "heat", "poisson1d", "poisson2d"]
    assert get_pde("heat", kappa=0.3).kappa == 0.3
    with pytest.raises(ActlabError, match="unknown PDE problem.*known: burgers"):
        get_pde("navier_stokes")
    with pytest.raises(ActlabError, match="no parameter nu; allowed: k"):
        get_pde("poisson1d", nu=1.0)
    with pytest.raises(ActlabError, match="positive integer"):
        get_pde("poisson2d", k=1.5)


def test_derivative_helper():
    p = torch.tensor([[0.5, 2.0], [-1.0, 0.3]], dtype=torch.float64, requires_grad=True)
    u = p[:, :1] ** 2 * p[:, 1:] ** 3
    assert torch.allclose(derivative(u, p, 0), 2 * p[:, :1] * p[:, 1:] ** 3)
    assert torch.allclose(derivative(u, p, 1, 1), 6 * p[:, :1] ** 2 * p[:, 1:])
    assert torch.allclose(derivative(u, p, 0, 1), 6 * p[:, :1] * p[:, 1:] ** 2)


@pytest.mark.parametrize("name", CLOSED_FORM)
@pytest.mark.parametrize("k", [1, 3])
def test_closed_form_references_are_exact(name, k):
    problem = get_pde(name, k=k)
    pts = problem.sample_collocation(500, seed=1, dtype=torch.float64)
    r = problem.residual(problem.reference, pts)
    assert r.shape == (500, 1)
    assert r.abs().max().item() < 1e-9 * (k * math.pi) ** 2
    # ...and a wrong solution is not: the residual test can fail.
    off = problem.residual(lambda p: problem.reference(p) + 0.5 * p[:, :1] ** 2, pts)
    assert off.abs().max().item() > 0.05


@pytest.mark.parametrize("name", CLOSED_FORM + ["burgers"])
def test_conditions_lie_on_faces_and_match_reference(name):
    problem = get_pde(name)
    samples = problem.sample_conditions(32, seed=3, dtype=torch.float64)
    assert [s.name for s in samples] == [c.name for c in problem.conditions]
    for sample, cond in zip(samples, problem.conditions):
        assert sample.points.shape == (32, problem.dim) and sample.values.shape == (32, 1)
        on_face = torch.zeros(32, dtype=torch.bool)
        for axis, at in cond.faces:
            on_face |= sample.points[:, axis] == at
        assert on_face.all()
        lo, hi = torch.tensor(problem.lower, dtype=torch.float64), torch.tensor(problem.upper, dtype=torch.float64)
        assert ((sample.points >= lo) & (sample.points <= hi)).all()
        # The reference satisfies every condition (Burgers: to quadrature accuracy).
        assert torch.allclose(problem.reference(sample.points), sample.values, atol=1e-12)
    faces = {tuple(s.points[:, 0].unique().tolist()) for s in samples if s.name == "boundary"}
    assert faces and all(len(f) >= 2 for f in faces)  # both ends sampled


def test_sampling_is_seeded_and_in_the_box():
    problem = get_pde("burgers")
    a, b, c = (problem.sample_collocation(1000, seed=s) for s in (7, 7, 8))
    assert a.dtype == torch.float32 and a.shape == (1000, 2)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a[:, 0].min() >= -1 and a[:, 0].max() <= 1 and a[:, 1].min() >= 0 and a[:, 1].max() <= 1
    assert problem.grid(11).shape == (121, 2)


def test_residual_of_a_network_is_differentiable():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    problem = get_pde("burgers")
    pts = problem.sample_collocation(128, seed=0)
    loss = problem.residual(net, pts).pow(2).mean()
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in net.parameters())
    err = problem.relative_l2(net, n_points=21)
    assert isinstance(err, float) and err > 0.1


@pytest.mark.parametrize("name", CLOSED_FORM + ["burgers"])
def test_relative_l2(name):
    problem = get_pde(name)
    n = 21
    assert problem.relative_l2(problem.reference, n_points=n) < 1e-12
    assert problem.relative_l2(lambda p: 1.5 * problem.reference(p), n_points=n) == pytest.approx(0.5, rel=1e-9)
    assert problem.relative_l2(lambda p: problem.reference(p).float(), n_points=n) < 1e-6


# --- Burgers: the Cole-Hopf reference ----------------------------------------------------------

@pytest.fixture(scope="module")
def burgers():
    return get_pde("burgers")


def test_burgers_initial_and_boundary_values(burgers):
    x = np.linspace(-1, 1, 41)
    u0 = burgers.reference(np.stack([x, np.zeros_like(x)], 1))
    np.testing.assert_allclose(u0[:, 0], -np.sin(np.pi * x), atol=1e-14)
    t = np.linspace(0.01, 1, 25)
    for edge in (-1.0, 1.0):
        ub = burgers.reference(np.stack([np.full_like(t, edge), t], 1))
        assert np.abs(ub).max() < 1e-12
    # Just after t = 0 the solution is still close to the initial condition.
    small_t = burgers.reference(np.stack([x, np.full_like(x, 1e-4)], 1))[:, 0]
    assert np.abs(small_t + np.sin(np.pi * x)).max() < 1e-3


def test_burgers_reference_is_odd_and_forms_a_shock(burgers):
    x = np.linspace(-1, 1, 201)
    xt = np.stack([x, np.ones_like(x)], 1)
    u = burgers.reference(xt)[:, 0]
    np.testing.assert_allclose(u, -u[::-1], atol=1e-12)
    assert abs(u[100]) < 1e-12 and u[99] > 0.5 and u[101] < -0.5  # the jump at x = 0


def test_burgers_finite_difference_residual(burgers):
    """Central differences of the reference satisfy u_t + u u_x = nu u_xx."""
    rng = np.random.default_rng(0)
    smooth = np.stack([rng.uniform(0.1, 1.0, 40) * rng.choice([-1, 1], 40), rng.uniform(0.05, 1.0, 40)], 1)
    near_shock = np.stack([rng.uniform(-0.02, 0.02, 20), rng.uniform(0.3, 1.0, 20)], 1)
    for pts, h in ((smooth, 1e-4), (near_shock, 1e-5)):
        def u(dx=0.0, dt=0.0):
            return burgers.reference(pts + np.array([dx, dt]))[:, 0]

        u0 = u()
        u_x = (u(h) - u(-h)) / (2 * h)
        u_xx = (u(h) - 2 * u0 + u(-h)) / h**2
        u_t = (u(dt=h) - u(dt=-h)) / (2 * h)
        residual = u_t + u0 * u_x - burgers.nu * u_xx
        scale = np.abs(u_t) + np.abs(u0 * u_x) + np.abs(burgers.nu * u_xx)
        assert np.all(np.abs(residual) <= 1e-5 * scale + 1e-6), np.abs(residual / scale).max()
    assert scale.max() > 10  # the near-shock points do see the steep gradient


def test_burgers_autograd_residual_of_reference(burgers):
    pts = burgers.sample_collocation(100, seed=2, dtype=torch.float64)
    pts[:, 1].clamp_(min=1e-3)  # ds/dt is infinite at t = 0
    assert burgers.residual(burgers.reference, pts).abs().max().item() < 1e-8


def test_burgers_matches_basdevant_benchmark(burgers):
    """Basdevant et al. (1986): max |u_x| at x = 0 is 152.00516, reached at t = 1.6037/pi."""
    pts = torch.tensor([[0.0, 1.6037 / math.pi]], dtype=torch.float64, requires_grad=True)
    u_x = derivative(burgers.reference(pts), pts, 0)
    assert abs(u_x.item()) == pytest.approx(152.00516, abs=2e-5)


def test_burgers_quadrature_converged():
    grid = get_pde("burgers").grid(9)
    coarse, fine = get_pde("burgers", nodes=200).exact(grid), get_pde("burgers", nodes=800).exact(grid)
    assert (coarse - fine).abs().max().item() < 1e-12
