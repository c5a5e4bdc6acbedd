"""Binary-weight RS capacity of the sign tree at finite K (actlab.capacity.binary_tree and replica)."""
import itertools
import math
from functools import partial

import numpy as np
import pytest
from scipy import special

from actlab.capacity import binary_tree, replica
from actlab.capacity.finite_k import gaussian_sobol


def _log_majority_by_enumeration(t: np.ndarray) -> np.ndarray:
    """ln Σ_{τ: Σ τ > 0} Π_l Φ(τ_l t_l), every configuration summed in logs."""
    K = t.shape[1]
    terms = [special.log_ndtr(np.array(tau) * t).sum(1) for tau in itertools.product((1, -1), repeat=K)
             if sum(tau) > 0]
    return special.logsumexp(np.stack(terms), axis=0)


def _gauss_terms(K: int, order: int):
    z, w = binary_tree.symmetric_gauss_rule(K, order)
    return partial(binary_tree.tree_energetic, z=z, w=w)


def test_log_majority_equals_enumeration_and_its_gradient_a_finite_difference():
    rng = np.random.default_rng(0)
    t = np.concatenate([rng.normal(0, 3, (200, 5)), np.full((1, 5), -40.0), [[-60, -50, 30, 2, -45]]])
    log_tail, grad = binary_tree.log_majority(t)
    assert np.all(np.isfinite(log_tail)) and log_tail[-2] < -2000      # deep tails: no underflow
    assert log_tail == pytest.approx(_log_majority_by_enumeration(t), rel=1e-12, abs=1e-12)
    h = 1e-6
    for l in range(5):
        dt = np.zeros(5)
        dt[l] = h
        fd = (_log_majority_by_enumeration(t[:200] + dt) - _log_majority_by_enumeration(t[:200] - dt)) / (2 * h)
        assert grad[:200, l] == pytest.approx(fd, rel=1e-6, abs=1e-8)


def test_symmetric_rule_is_the_product_rule():
    z, w = binary_tree.symmetric_gauss_rule(3, 7)
    assert len(w) == math.comb(9, 3) and w.sum() == pytest.approx(1.0, rel=1e-13)
    x, v = special.roots_hermitenorm(7)
    v = v / math.sqrt(2 * math.pi)
    def f(a, b, c):
        return np.exp(0.3 * a) * (1 + b * b) * np.cos(c) + a * b

    def g(a, b, c):                                                # f symmetrised over its arguments
        return sum(f(*p) for p in itertools.permutations((a, b, c)))

    grid = np.meshgrid(x, x, x, indexing="ij")
    weights = v[:, None, None] * v[None, :, None] * v[None, None, :]
    assert float((w * g(*z.T)).sum()) == pytest.approx(float((weights * g(*grid)).sum()), rel=1e-13)


def test_tree_energetic_term_is_the_perceptrons_at_K1_and_matches_monte_carlo_at_K3():
    for q in (0.2, 0.6):
        tree = binary_tree.tree_energetic(q, *binary_tree.symmetric_gauss_rule(1, 41))
        assert tree == pytest.approx(replica._binary_rs_terms("linear", q, 41), rel=1e-12)
    q = 0.4
    GE, _ = binary_tree.tree_energetic(q, *binary_tree.symmetric_gauss_rule(3, 31))
    p = special.ndtr(math.sqrt(q / (1 - q)) * np.random.default_rng(0).standard_normal((400_000, 3)))
    log_majority = np.log(p[:, 0] * p[:, 1] + p[:, 0] * p[:, 2] + p[:, 1] * p[:, 2] - 2 * p.prod(1))
    assert GE == pytest.approx(log_majority.mean(), abs=4 * log_majority.std() / math.sqrt(len(p)))


@pytest.mark.parametrize("K", [5, 15])
def test_energetic_slope_is_a_finite_difference_of_the_same_rule(K):
    z, w = (binary_tree.symmetric_gauss_rule(K, 9) if K == 5
            else (gaussian_sobol(K, 10, np.random.default_rng(1)), np.full(2**10, 2.0**-10)))
    q, h = 0.45, 1e-5
    _, slope = binary_tree.tree_energetic(q, z, w)
    fd = (binary_tree.tree_energetic(q + h, z, w)[0] - binary_tree.tree_energetic(q - h, z, w)[0]) / (2 * h)
    assert slope == pytest.approx(fd, rel=1e-7)


def test_K3_reproduces_the_product_grid_value_and_K1_is_the_perceptron():
    k3 = replica.alpha_c("sign", 3, "binary")
    assert k3.value == pytest.approx(0.92061937, abs=8e-7)       # the 31³ product grid's value ± its stated error
    assert k3.uncertainty < 1e-8
    perceptron = replica._binary_rs_capacity(_gauss_terms(1, 401))
    assert perceptron == pytest.approx(replica.alpha_c("sign", 1, "binary").value, abs=1e-10)
    assert perceptron == pytest.approx(0.8331, abs=1e-4)          # Gardner–Derrida / Krauth–Mézard


def test_q_parametrised_root_agrees_with_the_fixed_load_saddle():
    for kind in ("linear", "sign"):
        value = replica._binary_rs_capacity(lambda q: replica._binary_rs_terms(kind, q, 201), 201)
        assert abs(replica._binary_rs_entropy(kind, value, 201)[0]) < 1e-9


def test_binary_tree_capacity_rises_monotonically_towards_K_infinity():
    values = [replica.alpha_c("sign", 1, "binary").value]
    for K, order in ((3, 15), (5, 11), (7, 9), (9, 9)):
        values.append(replica._binary_rs_capacity(_gauss_terms(K, order)))
    values.append(replica.alpha_c("sign", "inf", "binary").value)
    assert np.all(np.diff(values) > 1e-3)


def test_qmc_route_two_resolutions_agree_and_match_the_gauss_rule_at_K9():
    coarse = replica._binary_tree_capacity(13, points=2**8, scrambles=4, seed=0)
    fine = replica._binary_tree_capacity(13, points=2**10, scrambles=4, seed=1)
    assert 0 < fine.uncertainty and "QMC" in fine.method
    assert abs(coarse.value - fine.value) < 4 * math.hypot(coarse.uncertainty, fine.uncertainty)
    gauss = replica._binary_rs_capacity(_gauss_terms(9, 9))
    w = np.full(2**10, 2.0**-10)
    qmc = [replica._binary_rs_capacity(partial(binary_tree.tree_energetic, z=gaussian_sobol(9, 10, rng), w=w))
           for rng in (np.random.default_rng(s) for s in range(4))]
    assert abs(np.mean(qmc) - gauss) < 4 * np.std(qmc, ddof=1) / 2 + 2e-6
