"""Critical initialisation and universality classes (the numbers come from the solver, not from here)."""
import math

import numpy as np
import pytest
import torch

from actlab.theory import CriticalInit, critical_init, kernel_map, susceptibilities, universality_class



def test_relu_and_leaky_relu_scale_invariant():
    c = critical_init("relu")
    assert (c.cls, c.C_b, c.C_W, c.K_star) == ("scale-invariant", 0.0, 2.0, None)
    slope = 0.2
    c = critical_init(f"leaky_relu(negative_slope={slope})")
    assert c.cls == "scale-invariant"
    assert abs(c.C_W - 2 / (1 + slope ** 2)) < 1e-12


def test_tanh_k_star_zero_class():
    c = critical_init("tanh")
    assert (c.cls, c.C_b, c.C_W, c.K_star) == ("K*=0", 0.0, 1.0, 0.0)
    assert abs(c.a1 + 2) < 1e-10 and abs(c.b1 + 2) < 1e-10
    assert "stable" in c.verdict and math.isinf(c.depth_scale)


@pytest.mark.parametrize("p", [2, 3])
def test_mrepu_is_marginal_k_star_zero(p):
    c = critical_init(f"mrepu(p={p})")
    assert (c.cls, c.C_b, c.C_W) == ("K*=0", 0.0, 1.0)
    assert abs(c.a1 - 3 * p * (2 * p - 1)) < 1e-10 * c.a1
    assert c.verdict.startswith("marginal")


@pytest.mark.parametrize("name", ["gelu", "swish"])
def test_half_stable_points_are_critical(name):
    c = critical_init(name)
    assert c.cls == "half-stable" and c.K_star > 0 and c.C_b >= 0 and c.C_W > 0
    par, perp = susceptibilities(name, c.K_star, C_W=c.C_W)
    assert abs(par - 1) < 1e-9 and abs(perp - 1) < 1e-9
    assert abs(kernel_map(name, c.K_star, c.C_b, c.C_W) - c.K_star) < 1e-9 * c.K_star


@pytest.mark.parametrize("p", [2, 3])
def test_repu_has_no_criticality(p):
    c = critical_init(f"repu(p={p})")
    assert c.cls == "none" and c.C_W is None and c.C_b is None
    assert abs(c.ratio - (2 * p - 1) / p) < 1e-12
    Ks = np.logspace(-2, 2, 5)
    par, perp = susceptibilities(f"repu(p={p})", Ks, C_W=0.7)
    np.testing.assert_allclose(par / perp, (2 * p - 1) / p, rtol=1e-10)


def test_sigmoid_has_no_critical_point():
    assert universality_class("sigmoid") == "none"


def test_user_callables_match_registry():
    c = critical_init(lambda z: torch.tanh(z))
    assert c.cls == "K*=0" and abs(c.a1 + 2) < 1e-10
    assert critical_init(torch.nn.ReLU()).C_W == 2.0
    g = critical_init(torch.nn.GELU())
    assert g.cls == "half-stable" and abs(g.K_star - critical_init("gelu").K_star) < 1e-9


def test_radial_bounding_is_k_star_zero_with_zero_a1():
    c = critical_init("radial_bounding(group_size=2)")
    assert (c.cls, c.C_b, c.C_W, c.a1, c.b1) == ("K*=0", 0.0, 1.0, 0.0, 0.0)
    assert critical_init("radial_bounding(group_size=0)", width=8).cls == "K*=0"


def test_as_dict_is_json_ready():
    import json

    d = critical_init("gelu").as_dict()
    assert isinstance(critical_init("gelu"), CriticalInit)
    assert json.loads(json.dumps(d))["cls"] == "half-stable"


def test_bad_activations_raise():
    from actlab import ActlabError

    with pytest.raises(ActlabError, match="differentiable"):
        critical_init(lambda z: torch.as_tensor(np.tanh(z.detach().numpy())))
    with pytest.raises(ActlabError):
        critical_init("not_an_activation")
    with pytest.raises(ActlabError):
        critical_init(None)


def test_constant_function_has_no_critical_point():
    assert critical_init(lambda z: torch.ones_like(z)).cls == "none"
