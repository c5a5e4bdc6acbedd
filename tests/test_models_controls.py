"""Controls and strong baselines: the deep linear network, ReLU + LayerNorm post- and pre-norm, the
pre-LN residual MLP (resmlp); each model's defaults resolved into the recorded config."""
import pytest
import torch
from torch import nn

from actlab.data import load_dataset
from actlab.errors import ActlabError
from actlab.nn import MODEL_DEFAULTS, MODELS, DeepMLP, ResidualMLP, build_model, named_layers
from actlab.train import TrainConfig, fit

INITS = ("default", "orthogonal", "critical")


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits", seed=0, subset=(512, 256))


@pytest.mark.parametrize("init", INITS)
@pytest.mark.parametrize("kind,norm,position", [("mlp", None, None), ("mlp", "layernorm", "post"),
                                                ("mlp", "layernorm", "pre"), ("resmlp", None, "pre"),
                                                ("resmlp", None, "post")])
def test_controls_and_baselines_build_with_every_init(kind, norm, position, init):
    torch.manual_seed(0)
    net = build_model(kind, (64,), 10, depth=6, width=32, act="identity", norm=norm, init=init, norm_position=position)
    y = net(torch.randn(7, 64))
    assert y.shape == (7, 10) and torch.isfinite(y).all()
    labels = [label for label, _ in named_layers(net)]
    assert labels[-1] == "readout" and "layer 6" in labels


def test_deep_linear_network_is_linear():
    torch.manual_seed(0)
    net = DeepMLP(64, 10, depth=20, width=32, act="identity", init="orthogonal")  # biases 0: f(2x) = 2 f(x)
    x = torch.randn(5, 64)
    assert torch.allclose(net(2 * x), 2 * net(x), atol=1e-5)
    product = net.readout.weight
    for block in reversed(net.blocks):
        product = product @ block.linear.weight
    assert torch.allclose(net(x), x @ product.T, atol=1e-5)


@pytest.mark.parametrize("act,c_w", [("identity", 1.0), ("relu", 2.0)])
def test_critical_init_statistics_of_the_residual_mlp(act, c_w):
    torch.manual_seed(0)
    net = ResidualMLP(64, 10, depth=3, width=400, act=act, init="critical")
    w = net.blocks[1].linear.weight
    assert w.var().item() == pytest.approx(c_w / 400, rel=0.05)
    assert w.mean().abs().item() < 0.01
    assert torch.all(net.blocks[1].norm.weight == 1) and torch.all(net.blocks[1].norm.bias == 0)


def test_norm_positions():
    pre = DeepMLP(64, 10, depth=2, width=32, norm="layernorm", norm_position="pre")
    post = DeepMLP(64, 10, depth=2, width=32, norm="layernorm")
    assert pre.blocks[0].norm.normalized_shape == (64,) and post.blocks[0].norm.normalized_shape == (32,)
    x = torch.randn(3, 64)
    block = pre.blocks[0]  # σ(W LN(x) + b)
    assert torch.allclose(block(x), torch.relu(block.linear(nn.functional.layer_norm(x, (64,)))), atol=1e-6)
    res_pre, res_post = ResidualMLP(64, 10, depth=2, width=32), ResidualMLP(64, 10, depth=2, width=32,
                                                                          norm_position="post")
    assert isinstance(res_pre.norm, nn.LayerNorm) and isinstance(res_post.norm, nn.Identity)
    h = torch.randn(3, 32)
    b = res_pre.blocks[0]  # h + W σ(LN h) + b
    assert torch.allclose(b(h), h + b.linear(torch.relu(nn.functional.layer_norm(h, (32,)))), atol=1e-6)


def test_zplane_default_init_is_torchs_and_its_own_default_is_recorded():
    torch.manual_seed(0)
    torch_default = build_model("zplane", (20,), 3, depth=3, width=16, init="default")
    own = build_model("zplane", (20,), 3, depth=3, width=16)
    eye = torch.eye(16)
    w = torch_default.blocks[1].linear.weight
    assert not torch.allclose(w @ w.T, eye, atol=1e-2)           # "default" is torch's U(±1/√fan_in)
    w = own.blocks[1].linear.weight
    assert torch.allclose(w @ w.T, eye, atol=1e-5)               # unset: the model's own (orthogonal)
    assert TrainConfig(model="zplane").init == "orthogonal"
    assert TrainConfig(model="zplane", init="default").init == "default"
    cfg = TrainConfig(model="resmlp")
    assert (cfg.act, cfg.init, cfg.norm, cfg.norm_position) == ("relu", "default", "layernorm", "pre")
    assert TrainConfig(model="vit").norm == "layernorm" and TrainConfig(model="resnet").norm == "batchnorm"
    assert set(MODEL_DEFAULTS) == set(MODELS)


@pytest.mark.parametrize("bad,message", [
    ({"model": "cnn", "residual": True}, "no skip connections"),
    ({"model": "resnet", "residual": True}, "residual by construction"),
    ({"model": "mlp", "complex_weights": True}, "zplane model only"),
    ({"model": "vit", "norm": "batchnorm"}, "takes norm layernorm"),
    ({"model": "zplane", "norm": "layernorm"}, "takes norm none"),
    ({"model": "mlp", "norm_position": "pre"}, "needs a norm"),
    ({"model": "cnn", "norm": "batchnorm", "norm_position": "pre"}, "takes norm_position post"),
    ({"model": "mlp", "norm": "layernorm", "norm_position": "middle"}, "norm_position must be one of post, pre"),
])
def test_settings_a_model_would_ignore_are_errors(bad, message):
    with pytest.raises(ActlabError, match=message):
        TrainConfig(**bad)


@pytest.mark.parametrize("extra", [{"model": "mlp", "act": "identity", "init": "orthogonal"},
                                   {"model": "mlp", "act": "relu", "norm": "layernorm"},
                                   {"model": "mlp", "act": "relu", "norm": "layernorm", "norm_position": "pre"},
                                   {"model": "resmlp", "act": "relu"},
                                   {"model": "resmlp", "act": "relu", "init": "critical"}])
def test_controls_and_baselines_train_on_digits(digits, extra):
    cfg = TrainConfig(depth=8, width=32, data="digits", epochs=4, batch_size=32, lr=3e-3, device="cpu",
                      probe_every=0, checkpoint_every=0, **extra)
    result = fit(cfg, progress=False, dataset=digits)
    assert result.status == "done", result.collapsed
    assert result.metrics["test_acc"] > 0.6
