"""actlab.nn: every model on every activation, init schemes, swap_activations, layer labels."""
import math

import pytest
import torch
from torch import nn

import actlab
from actlab.errors import ActlabError
from actlab.nn import (ComplexLinear, DeepMLP, PINNNet, SmallCNN, SmallResNet, SmallViT, ZPlaneMLP, build_model,
                       init_weights, named_layers, swap_activations)


ACTS = actlab.list_activations()
SHAPE = (1, 8, 8)


def _models(act):
    return {
        "mlp": DeepMLP(64, 3, depth=2, width=8, act=act, norm="layernorm", residual=True),
        "zplane": ZPlaneMLP(64, 3, depth=2, width=8, act=act, complex_weights=True),
        "cnn": SmallCNN(SHAPE, 3, depth=2, width=4, act=act, norm="batchnorm"),
        "resnet": SmallResNet(SHAPE, 3, depth=2, width=4, act=act),
        "vit": SmallViT(SHAPE, 3, depth=1, width=8, act=act),
        "pinn": PINNNet(2, 1, depth=2, width=8, act=act),
    }


@pytest.mark.parametrize("act", ACTS)
def test_every_model_runs_forward_and_backward_on_every_activation(act):
    torch.manual_seed(0)
    for kind, model in _models(act).items():
        x = torch.randn(4, 2) if kind == "pinn" else torch.randn(4, *SHAPE)
        y = model(x)
        assert y.shape == (4, 1 if kind == "pinn" else 3), kind
        y.square().sum().backward()
        grads = [p.grad for p in model.parameters() if p.requires_grad]
        assert all(g is not None and torch.isfinite(g).all() for g in grads), (kind, act)


def test_models_label_their_layers_in_forward_order():
    net = DeepMLP(10, 2, depth=37, width=4)
    labels = [label for label, _ in named_layers(net)]
    assert labels[0] == "layer 1" and labels[36] == "layer 37" and labels[-1] == "readout"
    generic = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    assert [n for n, _ in named_layers(generic)] == ["0", "1", "2"]


def test_complex_linear_is_multiplication_by_a_complex_matrix():
    torch.manual_seed(1)
    lin = ComplexLinear(6, 4, bias=False)
    x = torch.randn(5, 6)
    z = torch.complex(x[:, 0::2], x[:, 1::2])
    w = torch.complex(lin.real, lin.imag)
    expected = z @ w.T
    y = lin(x)
    assert torch.allclose(y[:, 0::2], expected.real, atol=1e-6) and torch.allclose(y[:, 1::2], expected.imag, atol=1e-6)


def test_zplane_orthogonal_init_gives_orthogonal_hidden_maps():
    torch.manual_seed(0)
    for complex_weights in (False, True):
        net = ZPlaneMLP(20, 3, depth=3, width=16, complex_weights=complex_weights)
        w = net.blocks[1].linear.weight
        assert torch.allclose(w @ w.T, torch.eye(16), atol=1e-5)
        assert isinstance(net.blocks[1].linear, ComplexLinear) == complex_weights
    assert net.logit_scale.requires_grad
    assert not any(isinstance(m, (nn.ReLU, nn.LayerNorm)) for m in net.modules())
    whole = ZPlaneMLP(20, 3, depth=2, width=6, group_size=None)
    assert whole.blocks[0].act.group_size is None


@pytest.mark.parametrize("scheme,var", [("kaiming", lambda fi, fo: 2 / fi), ("xavier", lambda fi, fo: 2 / (fi + fo)),
                                        ("orthogonal", lambda fi, fo: 1 / fi)])
def test_init_schemes_set_the_weight_variance(scheme, var):
    torch.manual_seed(0)
    net = init_weights(nn.Sequential(nn.Linear(400, 300)), scheme)
    w, b = net[0].weight, net[0].bias
    assert w.var().item() == pytest.approx(var(400, 300), rel=0.1)
    assert torch.all(b == 0)


@pytest.mark.parametrize("act", ["tanh", "relu", "gelu"])
def test_critical_init_draws_from_the_theory_engines_point(act):
    from actlab.theory import critical_init

    point = critical_init(act)
    torch.manual_seed(0)
    net = DeepMLP(400, 2, depth=2, width=300, act=act, init="critical")
    assert net.blocks[1].linear.weight.var().item() == pytest.approx(point.C_W / 300, rel=0.1)
    bias_var = net.blocks[1].linear.bias.var().item()
    assert bias_var == pytest.approx(point.C_b, rel=0.3) if point.C_b > 0 else bias_var == 0


def test_critical_init_without_a_critical_point_is_a_user_error():
    with pytest.raises(ActlabError, match="no critical point"):
        DeepMLP(4, 2, act="sigmoid", init="critical")
    with pytest.raises(ActlabError, match="no critical point"):
        ZPlaneMLP(4, 2, width=4, act="repu(p=2)", init="critical")


def test_unknown_init_and_norm_are_user_errors():
    with pytest.raises(ActlabError, match="init must be one of default, kaiming"):
        DeepMLP(4, 2, init="lecun")
    with pytest.raises(ActlabError, match="layernorm"):
        DeepMLP(4, 2, norm="groupnorm")
    with pytest.raises(ActlabError, match="allowed: mlp, zplane"):
        build_model("lstm", (4,), 2, depth=1, width=4, act="relu")
    with pytest.raises(ActlabError, match="image"):
        build_model("cnn", (40,), 2, depth=1, width=4, act="relu")


def test_swap_activations_replaces_modules_anywhere():
    net = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Sequential(nn.Linear(4, 4), nn.ReLU()), nn.Tanh())
    assert [s.path for s in swap_activations(net, nn.ReLU, "zorro(a=1.5)")] == ["1", "2.1"]
    zorros = [m for m in net.modules() if isinstance(m, actlab.activations.Zorro)]
    assert len(zorros) == 2 and zorros[0] is not zorros[1] and zorros[0].param_value("a") == 1.5
    assert len(swap_activations(net, None, nn.GELU)) == 3  # every activation, from a factory
    assert net(torch.randn(2, 4)).shape == (2, 4)
    mlp = DeepMLP(4, 2, depth=3, width=4, act="relu")
    with pytest.warns(UserWarning, match="no module of DeepMLP matched"):
        assert swap_activations(mlp, "gelu", "tanh") == []
    assert len(swap_activations(mlp, "relu", "mrepu(p=3)")) == 3
    with pytest.raises(ActlabError, match="unknown activation"):
        swap_activations(mlp, "mrepu", "nope")


def test_radial_bounding_in_conv_models_groups_channels():
    net = SmallCNN((1, 7, 7), 2, depth=1, width=4, act="radial_bounding")
    assert net.blocks[0].act.dim == 1
    h = net.blocks[0].act(torch.randn(2, 4, 3, 3) * 10)
    pair_norms = h.reshape(2, 2, 2, 3, 3).norm(dim=2)
    assert torch.all(pair_norms <= 1 + 1e-5) and math.isclose(float(pair_norms.max()), 1.0, rel_tol=1e-4)


def test_gaussian_init_draws_at_the_given_point():
    torch.manual_seed(0)
    net = DeepMLP(400, 2, depth=2, width=300, act="tanh", init="Gaussian(C_W=2.5, c_b=0.3)")
    assert net.blocks[1].linear.weight.var().item() == pytest.approx(2.5 / 300, rel=0.1)
    assert net.blocks[1].linear.bias.var().item() == pytest.approx(0.3, rel=0.3)
    zplane = ZPlaneMLP(64, 2, depth=2, width=256, complex_weights=True, init="gaussian(c_w=2.0)")
    assert zplane.blocks[1].linear.weight.var().item() == pytest.approx(2.0 / 256, rel=0.1)
    assert zplane.blocks[1].linear.bias.abs().max().item() == 0.0  # c_b defaults to 0


def test_gaussian_init_in_a_training_config_is_canonical():
    from actlab.train import TrainConfig

    assert TrainConfig(init="Gaussian(C_W=2, c_b=0.05)").init == "gaussian(c_w=2.0, c_b=0.05)"
    assert TrainConfig(init="KAIMING").init == "kaiming"


@pytest.mark.parametrize("scheme,match", [("gaussian", "c_w"), ("gaussian(c_w=-1)", "c_w > 0"),
                                          ("gaussian(c_w=1, c_b=-0.1)", "c_b >= 0"),
                                          ("gaussian(c_w=1, gain=2)", "takes c_w"),
                                          ("kaiming(c_w=1)", "takes no parameters"),
                                          ("gaussian(c_w=", "malformed init scheme")])
def test_bad_gaussian_init_is_a_user_error(scheme, match):
    with pytest.raises(ActlabError, match=match):
        DeepMLP(4, 2, init=scheme)
