"""Whole-vector Radial Bounding at width n (actlab.theory.vector): the leading-order two-input
kernel against explicit random networks built with the real RB module, the exact one-layer
cosine law, the closed forms of the depth scales against the numerical fixed-point machinery,
actlab's Z-Plane MLP at its default init, and the CLI."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from actlab.activations.radial import RadialBounding
from actlab.cli import main
from actlab.errors import ActlabError
from actlab.nn.init import init_weights
from actlab.nn.zplane import ZPlaneMLP
from actlab.theory import depth_scales, kernel_map_pair, order_chaos_line, pair_trajectory
from actlab.theory.depth import scales_grid
from actlab.theory.vector import cosine_moments

RB = "radial_bounding(group_size=None)"
WHOLE = RadialBounding(group_size=None)


def sampled_kernels(n: int, C_b: float, C_W: float, K1: np.ndarray, depth: int, nets: int, seed: int) -> torch.Tensor:
    """Empirical preactivation kernels z_α·z_β/n of two inputs, shape (nets, depth + 1, 2, 2):
    layer 1 drawn from N(0, K1 ⊗ I_n), then z ← W·RB(z) + b, W ~ N(0, C_W/n), b ~ N(0, C_b)."""
    gen = torch.Generator().manual_seed(seed)
    chol = torch.linalg.cholesky(torch.tensor(K1, dtype=torch.float64))
    z = torch.randn(nets, n, 2, generator=gen, dtype=torch.float64) @ chol.T
    out = [torch.einsum("kia,kib->kab", z, z) / n]
    for _ in range(depth):
        h = WHOLE(z.transpose(1, 2)).transpose(1, 2)  # RB on each input's whole vector
        W = torch.randn(nets, n, n, generator=gen, dtype=torch.float64) * math.sqrt(C_W / n)
        b = torch.randn(nets, n, 1, generator=gen, dtype=torch.float64) * math.sqrt(C_b)
        z = W @ h + b
        out.append(torch.einsum("kia,kib->kab", z, z) / n)
    return torch.stack(out, 1)


def correlation(K: torch.Tensor) -> torch.Tensor:
    return K[..., 0, 1] / (K[..., 0, 0] * K[..., 1, 1]).sqrt()


@pytest.mark.parametrize("n,nets", [(64, 400), (256, 40)])
def test_leading_order_kernel_matches_random_networks(n, nets):
    """Two orthogonal inputs through 10 layers at n·C_b = 0.3, C_W = 1.5 (ξ_c ≈ 5.5): the mean
    sampled kernel and correlation agree with pair_trajectory within 4 standard errors at every
    layer, while the correlation moves from 0 to ≈ 0.84."""
    C_b, C_W, depth = 0.3 / n, 1.5, 10
    K1 = np.eye(2)
    pred = pair_trajectory(RB, C_b, C_W, K1, depth, width=n)
    K = sampled_kernels(n, C_b, C_W, K1, depth, nets, seed=n)
    se = (K.std(0) / math.sqrt(nets)).numpy()
    assert np.all(np.abs(K.mean(0).numpy() - pred) <= 4 * se + 1e-12)
    c = correlation(K)
    c_pred = pred[:, 0, 1] / np.sqrt(pred[:, 0, 0] * pred[:, 1, 1])
    assert np.all(np.abs(c.mean(0).numpy() - c_pred) <= 4 * (c.std(0) / math.sqrt(nets)).numpy() + 1e-12)
    assert c_pred[-1] > 0.8


def test_exact_cosine_law_of_one_layer():
    """C_b = 0: RB rescales each input, so the output cosine of a layer is the uncentred sample
    correlation of its Gaussian preactivations, whose mean and variance given the input cosine
    c₁ are cosine_moments(c₁, n) exactly: 10 000 networks of width 16 agree within 4 s.e., and
    the O(1/n) drift they measure (≈ −0.012 at c = 0.5) is more than 4 s.e. from the leading order."""
    n, nets = 16, 10000
    K = sampled_kernels(n, 0.0, 1.0, np.array([[2.0, 1.0], [1.0, 2.0]]), 1, nets, seed=1)
    c1, c2 = correlation(K[:, 0]).numpy(), correlation(K[:, 1]).numpy()
    mean, var = cosine_moments(c1, n)
    resid = c2 - mean  # E resid = 0, E resid² = E var(c₁)
    assert abs(resid.mean()) < 4 * resid.std() / math.sqrt(nets)
    assert abs((c2 - c1).mean()) > 4 * (c2 - c1).std() / math.sqrt(nets)  # the leading order (c' = c) is rejected
    assert abs((resid ** 2).mean() - var.mean()) < 4 * (resid ** 2).std() / math.sqrt(nets)
    m, v = cosine_moments(np.array([0.0, 0.5, 1.0, -0.5]), 256)
    assert m[0] == 0 and v[0] == pytest.approx(1 / 256) and m[2] == pytest.approx(1) and v[2] == 0
    assert m[1] == pytest.approx(0.5 * (1 - 0.75 / 512), rel=1e-5) and m[3] == -m[1]


@pytest.mark.parametrize("n", [16, 256, 1024])
def test_cosine_law_near_one(n):
    """The exact mean map's slope at c = 1 is 1 + 1/(n − 2) (from ₂F₁'s derivative at 1; at n = 256
    scipy's hyp2f1 returns nan there and the series takes over), and the mean is continuous into 1."""
    h = 1e-7
    m, v = cosine_moments(np.array([1 - h, 1 - 2 * h]), n)
    assert (1 - m[0]) / h == pytest.approx(1 + 1 / (n - 2), rel=1e-5) and np.all(np.isfinite(v))
    assert (m[0] - m[1]) / h == pytest.approx(1 + 1 / (n - 2), rel=1e-5)


@pytest.mark.parametrize("n", [64, 256])
@pytest.mark.parametrize("C_b,C_W", [(0.05, 1.0), (1e-4, 2.0), (1e-3, 0.5), (0.002, 0.2), (0.0, 3.0), (0.0, 0.5)])
def test_depth_scales_closed_forms(n, C_b, C_W):
    """q*, χ_q, χ₁ = χ_c = 1 − C_b/q*, ξ_c from the numerical fixed-point machinery against the
    closed forms: outside the ball (nC_b + C_W >= 1) q* = C_b + C_W/n, χ_q = 0,
    χ_c = C_W/(nC_b + C_W); inside q* = C_b/(1 − C_W), χ_q = χ_c = C_W."""
    d = depth_scales(RB, C_b, C_W, width=n)
    outside = n * C_b + C_W >= 1
    q = C_b + C_W / n if outside else C_b / (1 - C_W)
    chi = C_W / (n * C_b + C_W) if outside else C_W
    assert d.width == n and d.c_star == 1.0 and d.q_star == pytest.approx(q, rel=1e-12, abs=1e-300)
    assert d.chi_q == pytest.approx(0.0 if outside else C_W, abs=1e-12)
    assert d.chi_1 == pytest.approx(chi, rel=1e-12) and d.chi_c == pytest.approx(chi, rel=1e-12)
    if C_b == 0 and outside:
        assert d.phase == "critical" and d.xi_c == math.inf
    else:
        assert d.phase == "ordered" and d.xi_c == pytest.approx(-1 / math.log(chi), rel=1e-10)
    if q > 0:  # the correlation gap shrinks by χ_c per layer of the two-input map
        step = lambda c: kernel_map_pair(RB, q * np.array([[1, c], [c, 1]]), C_b, C_W, width=n)[0, 1] / q  # noqa: E731
        assert 1 - step(0.6) == pytest.approx(chi * 0.4, rel=1e-10)


def test_order_chaos_line_and_grid():
    """No chaotic phase: the line is C_b = 0 (from C_W = 1 up), every C_b > 0 is ordered."""
    line = order_chaos_line(RB, [0.0, 0.01, 0.5], width=128)
    assert line[0] == pytest.approx(1.0) and np.all(np.isnan(line[1:]))
    g = scales_grid(RB, np.array([0.0, 1e-3, 0.1])[None, :], np.array([1.5, 4.0])[:, None], width=128)
    assert g["phase"].tolist() == [["critical", "ordered", "ordered"]] * 2
    assert g["xi_c"][1, 1] == pytest.approx(1 / math.log(1 + 128e-3 / 4.0))


def test_width_is_required_and_checked():
    with pytest.raises(ActlabError, match="width"):
        depth_scales(RB, 0.05, 1.0)
    with pytest.raises(ActlabError, match="width"):
        kernel_map_pair(RB, np.eye(2), 0.0, 1.0)
    with pytest.raises(ActlabError, match="positive semidefinite"):
        kernel_map_pair(RB, np.array([[1.0, 2.0], [2.0, 1.0]]), 0.0, 1.0, width=8)
    with pytest.raises(ActlabError, match="correlation"):
        cosine_moments(1.5, 64)


def test_zplane_mlp_default_init_is_an_exact_isometry_after_layer_one():
    """ZPlaneMLP(group_size=None) at its default init (orthogonal W, zero b): ‖W h‖ = ‖h‖ <= 1, so
    every hidden layer after the first is the identity inside the ball: norms and the cosine of
    two inputs are those of layer 1 at every depth (C_b = 0 with no finite-width fluctuation).
    Re-initialised in float64: float32 orthogonal matrices preserve norms only to ~1e-7."""
    torch.manual_seed(0)
    model = init_weights(ZPlaneMLP(20, 3, depth=30, width=64, group_size=None).double(), "orthogonal")
    h = torch.randn(2, 20, dtype=torch.float64)
    norms, cosines = [], []
    for block in model.blocks:
        h = block(h).detach()
        norms.append(h.norm(dim=1))
        cosines.append(float(h[0] @ h[1] / (h[0].norm() * h[1].norm())))
    assert torch.allclose(torch.stack(norms), norms[0].expand(30, 2), rtol=1e-12)
    assert np.allclose(cosines, cosines[0], atol=1e-12)
    d = depth_scales(RB, 0.0, 1.0, q0=float(norms[0].max()) ** 2 / 64, width=64)
    assert d.phase == "critical" and d.xi_c == math.inf


def test_cli_whole_vector(capsys):
    code = main(["theory", RB, "--width", "64", "--depth", "100", "--cb", "0.001", "--cw", "1", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    scales = data["answer"]["depth_scales"]
    assert scales["width"] == 64 and scales["xi_c"] == pytest.approx(1 / math.log(1 + 0.064))
    assert "6ξ_c" in data["answer"]["text"] and "L/n = 1.56" in data["answer"]["text"]
    code = main(["theory", RB, "--width", "64", "--phase", "--grid", "4", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["C_b"][-1] == pytest.approx(0.2 / 64) and data["order_chaos_line"]["C_W"][0] == 1.0
    assert {p for row in data["phase"] for p in row} == {"critical", "ordered"}

