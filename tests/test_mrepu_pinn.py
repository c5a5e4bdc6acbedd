"""The PINN trainer (Adam then L-BFGS) and the regression trainer of the MRePU suite."""
import math

import pytest
import torch

from actlab.data.pde import get_pde
from actlab.errors import ActlabError
from actlab.nn import DeepMLP
from actlab.train.pinn import PINNConfig, train_pinn
from actlab.train.regression import init_gaussian, train_regression

SMALL = dict(depth=2, width=16, n_collocation=64, n_condition=8, adam_steps=100, lbfgs_steps=100, lr=1e-2)


def test_pinn_solves_poisson_1d():
    res = train_pinn(get_pde("poisson1d"), PINNConfig(act="tanh", **SMALL))
    assert res.status == "done"
    assert res.rel_l2 < 1e-2
    assert res.history[-1]["loss"] == pytest.approx(res.loss)


def test_relu_pinn_cannot_fit_a_second_derivative():
    # ReLU's second derivative is 0 almost everywhere, so -u'' = f cannot be matched.
    res = train_pinn(get_pde("poisson1d"), PINNConfig(act="relu", **SMALL))
    assert res.rel_l2 > 0.5
    assert res.residual_loss > 1.0


def test_pinn_config_rejects_bad_values():
    with pytest.raises(ActlabError, match="dtype"):
        PINNConfig(dtype="float16")
    with pytest.raises(ActlabError, match="depth"):
        PINNConfig(depth=0)


def test_regression_trainer_fits_and_reports_divergence():
    torch.manual_seed(0)
    x = torch.rand(64, 2) * 2 - 1
    y = (x ** 2).sum(1, keepdim=True)
    net = init_gaussian(DeepMLP(2, 1, depth=2, width=16, act="tanh"), 0.0, 1.0)
    out = train_regression(net, x, y, x, y, steps=200, lr=1e-2)
    assert out["status"] == "done" and out["test_mse"] < 0.2 * out["train_mse_init"]
    # RePU far from its fixed point: the forward pass overflows, the run is a divergence, not an error
    net = init_gaussian(DeepMLP(2, 1, depth=12, width=16, act="repu(p=3)"), 0.0, 50.0)
    out = train_regression(net, x * 10, y, x * 10, y, steps=5)
    assert out["status"] == "diverged" and math.isnan(out["test_mse"])
