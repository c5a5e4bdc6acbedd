"""Correctness of every activation: gradients, dtypes, shapes, compile, NaN, errors."""

import pytest
import torch
from torch.autograd import gradcheck, gradgradcheck

import actlab
from actlab import functional as AF
from actlab.activations import Activation

NEW = ["radial_bounding", "repu", "mrepu", "zorro", "zorro_asymmetric", "zorro_sigmoid", "zorro_tanh", "zorro_sloped"]
ALL = actlab.list_activations()


def grid_with_breakpoints(info, eps=1e-3):
    """float64 points that include the neighbourhoods of the breakpoints (not the kinks)."""
    pts = [torch.linspace(-4, 4, 33, dtype=torch.float64)]
    for b in info.breakpoints:
        pts.append(torch.tensor([b - eps, b + eps, b - 10 * eps, b + 10 * eps], dtype=torch.float64))
    x = torch.cat(pts)
    for b in info.breakpoints:
        x = x[(x - b).abs() > 1e-9]
    return x


def test_registry_lists_the_spec_names():
    expected = {"radial_bounding", "repu", "mrepu", "zorro", "zorro_asymmetric", "zorro_sigmoid", "zorro_tanh",
                "zorro_sloped", "relu", "leaky_relu", "elu", "gelu", "gelu_tanh", "silu", "mish", "tanh",
                "sigmoid", "softplus", "identity", "dsilu", "dgelu"}
    assert expected <= set(ALL)
    assert actlab.get_activation("swish").info.name == "silu"


@pytest.mark.parametrize("name", [n for n in NEW if n != "radial_bounding"])
@pytest.mark.parametrize("learnable", [False, True])
def test_gradcheck_elementwise(name, learnable):
    act = actlab.get_activation(name, **({"p": 2.5} if "repu" in name else {})).double()
    x = grid_with_breakpoints(act.info).requires_grad_(True)
    params = [p.detach().double().requires_grad_(learnable) for p in act.params()]
    fn = type(act).functional if hasattr(type(act), "functional") else getattr(AF, name)
    assert gradcheck(lambda x, *p: fn(x, *p), (x, *params))
    assert gradgradcheck(lambda x, *p: fn(x, *p), (x, *params))


@pytest.mark.parametrize("group_size", [1, 2, 4, None])
def test_gradcheck_radial_bounding(group_size):
    torch.manual_seed(0)
    # norms on both sides of the unit sphere, none on it
    x = torch.randn(6, 8, dtype=torch.float64) * torch.tensor([0.2, 0.5, 0.9, 1.2, 2.0, 4.0], dtype=torch.float64)[:, None]
    x.requires_grad_(True)
    assert gradcheck(lambda t: AF.radial_bounding(t, group_size), (x,))
    assert gradgradcheck(lambda t: AF.radial_bounding(t, group_size), (x,))


@pytest.mark.parametrize("name", ["zorro", "zorro_asymmetric", "zorro_sigmoid", "zorro_tanh", "zorro_sloped", "mrepu", "repu"])
def test_learnable_parameters_get_gradients_and_stay_valid(name):
    act = actlab.get_activation(name, learnable=True, **({"p": 2.5} if "repu" in name else {}))
    params = list(act.parameters())
    assert params, "learnable=True must expose nn.Parameters"
    act(torch.randn(64) * 3).square().sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in params)
    with torch.no_grad():
        for p in params:
            p.fill_(-50.0)  # the raw value: the constrained value must stay in range
    lower = 1.0 if "repu" in name else 0.0
    assert all(v.item() > lower - 1e-12 for v in act.params())


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
def test_dtypes_shapes_empty_nan(name, dtype):
    act = actlab.get_activation(name)
    for shape in [(0,), (3, 4), (2, 3, 4), (0, 6)]:
        x = torch.randn(shape).to(dtype).requires_grad_(True)
        y = act(x)
        assert y.shape == x.shape and y.dtype == dtype
        y.sum().backward()
        assert x.grad.shape == x.shape
    x = torch.tensor([float("nan"), 0.5, -0.3, 2.0], dtype=dtype)
    y = act(x)
    assert torch.isnan(y[0]) and torch.isfinite(y[2:]).all()  # [2:]: RB groups pairs


@pytest.mark.parametrize("name", ALL)
def test_float32_matches_float64(name):
    act = actlab.get_activation(name)
    x = torch.linspace(-6, 6, 1000)
    torch.testing.assert_close(act(x), act(x.double()).float(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", NEW)
def test_torch_compile(name):
    act = actlab.get_activation(name)
    compiled = torch.compile(act, backend="aot_eager", dynamic=False)
    x = torch.randn(4, 8, requires_grad=True)
    x2 = x.detach().clone().requires_grad_(True)
    y, y2 = compiled(x), act(x2)
    torch.testing.assert_close(y, y2)
    y.square().sum().backward()
    y2.square().sum().backward()
    torch.testing.assert_close(x.grad, x2.grad)


def test_saves_only_the_input_for_backward():
    for name in NEW:
        act = actlab.get_activation(name)
        x = torch.randn(8, 16, requires_grad=True)
        saved = []
        with torch.autograd.graph.saved_tensors_hooks(lambda t: saved.append(t) or t, lambda t: t):
            act(x)
        big = [t for t in saved if t.numel() > 1]
        assert len(big) == 1 and big[0].numel() == x.numel(), name


def test_repr_and_spec_strings():
    a = actlab.get_activation("zorro(a=1.5,b=0.8)")
    b = actlab.get_activation("zorro", a=1.5, b=0.8)
    assert repr(a) == repr(b) == "Zorro(a=1.5, b=0.8)"
    assert actlab.get_activation("mrepu(p=3)").param_value("p") == 3.0
    assert actlab.get_activation("radial_bounding(group_size=None)").group_size is None
    assert isinstance(actlab.get_activation(" MRePU ( p = 3 ) "), Activation)


@pytest.mark.parametrize("spec, fragment", [
    ("nosuch", "unknown activation"),
    ("zorro(a=1", "malformed"),
    ("zorro(a)", "malformed"),
    ("zorro(a=-1)", "must be a finite number > 0"),
    ("zorro(b=0)", "must be a finite number > 0"),
    ("mrepu(p=0.5)", ">= 1"),
    ("zorro(c=1)", "allowed: a, b, learnable"),
    ("zorro(a='x')", "not a number"),
    ("radial_bounding(group_size=1.5)", "positive integer"),
])
def test_bad_input_raises_actlab_error(spec, fragment):
    with pytest.raises(actlab.ActlabError, match=re_escape(fragment)):
        actlab.get_activation(spec)


def test_group_size_must_divide():
    with pytest.raises(actlab.ActlabError, match="must divide"):
        actlab.get_activation("radial_bounding(group_size=3)")(torch.randn(2, 8))


def test_metadata_is_declared_for_every_activation():
    for name in ALL:
        info = actlab.get_activation(name).info
        assert info.provenance in {"confirmed", "reconstruction", "baseline"}
        assert info.bounds[0] <= (info.value_at_0 or 0) <= info.bounds[1]
        d = info.as_dict()
        assert d["name"] and isinstance(d["breakpoints"], list)
    assert actlab.get_activation("zorro_sloped").info.provenance == "reconstruction"
    assert actlab.get_activation("zorro_asymmetric").info.provenance == "reconstruction"
    mrepu = actlab.get_activation("mrepu(p=3)").info
    assert (mrepu.value_at_0, mrepu.slope_at_0, mrepu.breakpoints, mrepu.smoothness) == (0.0, 1.0, (-1.0,), 2)
    assert actlab.get_activation("relu").info.slope_at_0 is None


def re_escape(s):
    import re

    return re.escape(s)
