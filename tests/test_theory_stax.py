"""N×N NNGP and NTK: closed forms and the Hermite expansion against the adaptive quadrature
(within 1e-8 of √(K_ii K_jj)), the layer composition, and a finite-width network's NTK."""
import dataclasses
import math

import numpy as np
import pytest
import torch

from actlab import ActlabError, get_activation
from actlab.theory import gaussian_expectation, nngp, ntk
import actlab.theory.dual as dual
from actlab.theory.dual import _fallback, pair_moments
from actlab.theory.stax import Kernels, dense, nonlinearity, serial
from actlab.theory.target import as_target

# three inputs: norms 0.7, 1, 1.8; correlations 0.4, −0.6, 0.9 (the Hermite series alone suffices)
Q = np.array([0.7, 1.0, 1.8])
R = np.array([[1.0, 0.4, -0.6], [0.4, 1.0, 0.9], [-0.6, 0.9, 1.0]])
K = R * np.sqrt(np.outer(Q, Q))
I, J = np.triu_indices(3, 1)


def reference(name: str) -> tuple[np.ndarray, np.ndarray]:
    """S_ij and D_ij of the upper pairs by the adaptive quadrature (no closed form)."""
    target = dataclasses.replace(as_target(name), dual=None)
    s = np.sqrt(Q)
    return _fallback(target, s[I], s[J], R[I, J], False), _fallback(target, s[I], s[J], R[I, J], True)


def check(S, D, name):
    ref_S, ref_D = reference(name)
    for got, ref in ((S, ref_S), (D, ref_D)):
        scale = np.sqrt(np.diag(got)[I] * np.diag(got)[J])
        assert np.all(np.abs(got[I, J] - ref) <= 1e-8 * scale), (name, got[I, J], ref)


@pytest.mark.parametrize("name", ["relu", "leaky_relu(negative_slope=0.2)", "identity", "erf", "gelu"])
def test_declared_closed_forms_match_the_quadrature(name):
    assert get_activation(name).info.dual is not None
    S, D = pair_moments(as_target(name), K)
    check(S, D, name)


@pytest.mark.parametrize("name", ["tanh", "gelu", "zorro", "mrepu"])
def test_hermite_expansion_matches_the_quadrature(name, monkeypatch):
    import actlab.theory.dual as dual

    monkeypatch.setattr(dual, "_fallback", lambda *a, **k: pytest.fail("the bound sent a pair to the fallback"))
    target = dataclasses.replace(as_target(name), dual=None)  # GELU declares a closed form: measure the expansion itself
    S, D = pair_moments(target, K)
    check(S, D, name)


def test_pairs_beyond_the_bound_use_the_quadrature():
    """Zorro near ρ = 1 and an exact duplicate (ρ = 1): the kinks slow the series down."""
    q = np.array([1.0, 1.0, 1.3])
    r = np.array([[1.0, 0.99999, 1.0], [0.99999, 1.0, 0.99999], [1.0, 0.99999, 1.0]])
    Kz = r * np.sqrt(np.outer(q, q))
    S, _ = pair_moments(as_target("zorro"), Kz, slopes=False)
    target = as_target("zorro")
    ref = _fallback(target, np.sqrt(q[I]), np.sqrt(q[J]), r[I, J], False)
    np.testing.assert_allclose(S[I, J], ref, rtol=1e-12)
    zorro = get_activation("zorro")
    line = gaussian_expectation(lambda z: zorro(z) * zorro(math.sqrt(1.3) * z), 1.0, [0.0, 1.0, 1 / math.sqrt(1.3)])
    assert abs(S[0, 2] - line) < 1e-13


@pytest.mark.parametrize("name", ["tanh", "zorro"])
def test_interpolated_coefficients_match_direct_ones_and_are_shared(name, monkeypatch):
    """Many distinct scales: the cell interpolants agree with the direct rule to ~1e-13 of
    √⟨σ²⟩, and a second batch in the same cells computes nothing new (the layers' cache)."""
    target = as_target(name)
    scales = np.linspace(0.6, 2.5, 40)
    cache = dual.CoefficientCache()
    got, direct = dual.coefficients(target, scales, cache=cache), dual._direct(target, scales, True)
    size = math.sqrt(max(direct[2].max(), direct[3].max()))
    for g, d in zip(got, direct):
        assert np.abs(g - d).max() <= 1e-12 * size
    monkeypatch.setattr(dual, "_direct", lambda *a: pytest.fail("recomputed a cached cell"))
    dual.coefficients(target, scales[5:35] * 1.001, cache=cache)


def test_each_row_takes_the_terms_its_pairs_need():
    """N = 12 inputs (two clusters: correlations near 0 and near 1) at distinct scales: the
    per-row truncation within tol of the full M_MAX-term series, wherever that series' own
    bound is 1e-14 (the pairs nearest |ρ| = 1 may go to the quadrature instead)."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(12, 3)) + np.array([2.0, 0.0, 0.0]) * (np.arange(12) % 2)[:, None]
    Kx = X @ X.T / 3 + 1e-3 * np.eye(12)
    target = as_target("tanh")
    S, D = pair_moments(target, Kx, tol=1e-12)
    a, b, square, slope_square = dual.coefficients(target, np.sqrt(np.diag(Kx)))
    s = np.sqrt(np.diag(Kx))
    rho = Kx / np.outer(s, s)
    for coef, total, got in ((a, square, S), (b, slope_square, D)):
        full = sum(np.outer(coef[:, n], coef[:, n]) * rho ** n for n in range(dual.M_MAX + 1))
        np.fill_diagonal(full, total)
        tail = dual._tails(coef, total)[:, -1]
        sure = np.abs(rho) ** (dual.M_MAX + 1) * np.sqrt(np.outer(tail, tail)) <= 1e-14
        assert sure.sum() >= 100
        scale = np.sqrt(np.outer(total, total))
        assert np.all(np.abs(got - full)[sure] <= 2e-12 * scale[sure])


def relu_step(k11, k22, k12):
    """The arc-cosine NNGP map and its derivative kernel at (C_b, C_W) = (0, 2)."""
    theta = math.acos(max(-1.0, min(1.0, k12 / math.sqrt(k11 * k22))))
    return (math.sqrt(k11 * k22) * (math.sin(theta) + (math.pi - theta) * math.cos(theta)) / math.pi,
            (math.pi - theta) / math.pi)


@pytest.mark.parametrize("parameterization", ["ntk", "standard"])
def test_relu_ntk_follows_the_arc_cosine_recursion(parameterization):
    X = np.array([[1.0, 0.0, 0.5], [0.3, 0.8, -0.2]])
    depth, C_b, C_W = 4, 0.1, 2.0
    lam_b, lam_W = (C_b, C_W) if parameterization == "ntk" else (1.0, 1.0)
    G = X @ X.T / 3
    Kl, Tl = C_b + C_W * G, lam_b + lam_W * G
    for _ in range(depth - 1):
        S = np.empty((2, 2))
        D = np.empty((2, 2))
        for a in range(2):
            for b in range(2):
                s, d = relu_step(Kl[a, a], Kl[b, b], Kl[a, b])
                S[a, b], D[a, b] = s / 2, d / 2   # relu_step is at C_W = 2: E σσ = value/2
        Kl, Tl = C_b + C_W * S, lam_b + lam_W * S + C_W * D * Tl
    np.testing.assert_allclose(nngp("relu", X, C_b, C_W, depth), Kl, rtol=1e-13)
    np.testing.assert_allclose(ntk("relu", X, C_b, C_W, depth, parameterization=parameterization), Tl, rtol=1e-13)


def test_layers_compose_like_serial_and_K1_matches_X():
    X = np.random.default_rng(0).normal(size=(4, 5))
    all_layers = nngp("tanh", X, 0.05, 1.3, 3, layers=True)
    assert all_layers.shape == (3, 4, 4)
    step = serial(nonlinearity("tanh"), dense(0.05, 1.3))
    k = step(step(Kernels(all_layers[0], None)))
    np.testing.assert_allclose(k.nngp, all_layers[-1], rtol=1e-14)
    np.testing.assert_allclose(nngp("tanh", C_b=0.05, C_W=1.3, depth=3, K1=all_layers[0]), all_layers[-1], rtol=1e-14)
    thetas = ntk("tanh", X, 0.05, 1.3, 3, layers=True)
    np.testing.assert_allclose(ntk("tanh", C_b=0.05, C_W=1.3, depth=3, K1=all_layers[0]), thetas[-1], rtol=1e-13)


@pytest.mark.parametrize("name", ["relu", "erf", "gelu", "leaky_relu(negative_slope=0.2)"])
@pytest.mark.parametrize("parameterization", ["ntk", "standard"])
@pytest.mark.parametrize("n", [2, 5])
def test_closed_forms_run_in_one_compiled_call_as_the_layer_maps_compose(name, parameterization, n):
    """nngp/ntk of an activation with a compiled dual take all layers in one call
    (closed_forms.layers; a pair of inputs in registers, n = 2); the same layers composed as
    maps (serial) give the same kernels."""
    X = np.random.default_rng(3).normal(size=(5, 4))[:n]
    X[1] = -X[0]
    C_b, C_W, depth = 0.1, 1.6, 6
    Ks = nngp(name, X, C_b, C_W, depth, layers=True)
    Ts = ntk(name, X, C_b, C_W, depth, parameterization=parameterization, layers=True)
    state = dense(C_b, C_W, parameterization)(Kernels(X @ X.T / 4, np.zeros((n, n))))
    step = serial(nonlinearity(name), dense(C_b, C_W, parameterization))
    for layer in range(depth):
        np.testing.assert_allclose(Ks[layer], state.nngp, rtol=1e-14, atol=0)
        np.testing.assert_allclose(Ts[layer], state.ntk, rtol=1e-14, atol=0)
        state = step(state)
    np.testing.assert_array_equal(nngp(name, X, C_b, C_W, depth), Ks[-1])
    np.testing.assert_array_equal(ntk(name, X, C_b, C_W, depth, parameterization=parameterization), Ts[-1])
    np.testing.assert_allclose(ntk(name, C_b=C_b, C_W=C_W, depth=depth, K1=Ks[0], parameterization=parameterization),
                               Ts[-1], rtol=1e-13)
    assert nngp(name, X, C_b, C_W, 1).shape == (n, n)


@pytest.mark.parametrize("kernel", [nngp, ntk])
@pytest.mark.parametrize("n", [2, 3])
def test_a_kernel_past_overflow_raises_in_the_compiled_loop_and_the_layer_maps(kernel, n):
    """ReLU at C_W = 1e10 grows the kernel by 5e9 per layer: past 1e250 after ~27 layers."""
    X = np.eye(n)
    kernel("relu", X, 0.0, 1e10, 20)  # still finite
    with pytest.raises(ActlabError, match="diverged"):
        kernel("relu", X, 0.0, 1e10, 40)
    state = Kernels(np.full((2, 2), 1e251), None)
    with pytest.raises(ActlabError, match="diverged"):
        nonlinearity("tanh")(state)


def test_ntk_of_a_wide_network():
    """Θ = Σ_params ∂f(x)∂f(x') of one random network of width 2048 (NTK parameterisation),
    f = the single output of layer 3, against the infinite-width NTK: O(√(depth/width)) apart."""
    torch.manual_seed(0)
    width, n0, C_b, C_W = 2048, 6, 0.2, 1.5
    X = torch.randn(3, n0, dtype=torch.float64)
    dims = [n0, width, width, 1]
    weights = [torch.randn(dims[i + 1], dims[i], dtype=torch.float64, requires_grad=True) for i in range(3)]
    biases = [torch.randn(dims[i + 1], dtype=torch.float64, requires_grad=True) for i in range(3)]

    def f(x):
        h = x
        for layer, (w, b) in enumerate(zip(weights, biases)):
            z = math.sqrt(C_W / dims[layer]) * h @ w.T + math.sqrt(C_b) * b
            h = torch.tanh(z) if layer < 2 else z
        return h[:, 0]

    grads = []
    for a in range(3):
        g = torch.autograd.grad(f(X[a:a + 1]).sum(), weights + biases)
        grads.append(torch.cat([t.reshape(-1) for t in g]))
    G = torch.stack(grads)
    empirical = (G @ G.T).numpy()
    theory = ntk("tanh", X.numpy(), C_b, C_W, 3)
    assert np.abs(empirical - theory).max() < 0.1 * np.abs(theory).max()


@pytest.mark.parametrize("call", [
    lambda: nngp("tanh", np.ones((2, 3)), 0.0, 1.0, 2, K1=np.eye(2)),
    lambda: nngp("tanh", None, 0.0, 1.0, 2),
    lambda: nngp("tanh", np.ones(3), 0.0, 1.0, 2),
    lambda: nngp("tanh", C_b=0.0, C_W=1.0, depth=2, K1=[[1.0, 2.0], [2.0, 1.0]]),
    lambda: nngp("tanh", np.ones((2, 3)), 0.0, 1.0, 0),
    lambda: ntk("tanh", np.ones((2, 3)), 0.0, 1.0, 2, parameterization="mup"),
    lambda: nngp("radial_bounding", np.ones((2, 3)), 0.0, 1.0, 2),
    lambda: nngp("tanh", np.ones((2, 3)), 0.0, 1.0, 2, tol=0.0),
])
def test_bad_input_raises(call):
    with pytest.raises(ActlabError):
        call()


@pytest.mark.parametrize("name", ["erf", "relu", "tanh"])  # compiled (pair and N×N) and layer maps
@pytest.mark.parametrize("n", [2, 3])
@pytest.mark.parametrize("bad", [math.nan, math.inf, 1e200])
@pytest.mark.filterwarnings("ignore:overflow encountered")  # numpy's, on XXᵀ of 1e200
def test_inputs_not_finite_or_overflowing_raise(name, n, bad):
    X = np.ones((n, 3))
    X[-1, 1] = bad
    for kernel in (nngp, ntk):
        with pytest.raises(ActlabError, match="X must be a finite"):
            kernel(name, X, 0.0, 1.0, 3)
