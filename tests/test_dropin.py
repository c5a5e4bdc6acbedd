"""The drop-in contract: actlab activations behave like torch's and plug into third-party models.

Hugging Face models are built from tiny configs (no downloads). timm cannot be installed
beside the CPU torch here (docs/dropin.md says why), so its `act_layer` contract is
tested on a model class written below the way timm writes its blocks.
"""
import copy
import math
from collections import OrderedDict
import threading
import warnings
from functools import partial

import pytest
import torch
from torch import nn

import actlab
from actlab.activations import RadialBounding, Zorro, fused
from actlab.activations.equivalents import registry_name
from actlab.activations.registry import _FACTORIES
from actlab.nn import register_with_transformers, swap_activations

PARAMETRIC = ["repu", "mrepu", "zorro", "zorro_asymmetric", "zorro_sigmoid", "zorro_tanh", "zorro_sloped"]
NEW = PARAMETRIC + ["radial_bounding", "radial_bounding(group_size=None)"]


def _perturbed(spec: str) -> nn.Module:
    """A learnable activation whose parameters moved away from their defaults (as if trained)."""
    act = actlab.get_activation(spec, learnable=True)
    with torch.no_grad():
        for p in act.parameters():
            p.add_(0.3)
    return act


X = torch.linspace(-4, 5, 101)


# --- state_dict: one meaning per key -------------------------------------------------------
@pytest.mark.parametrize("spec", NEW)
def test_fixed_activations_save_nothing(spec):
    act = actlab.get_activation(spec)
    assert act.state_dict() == {} and list(act.buffers()) == []
    fresh = actlab.get_activation(spec)
    fresh.load_state_dict(act.state_dict(), strict=True)
    torch.testing.assert_close(fresh(X.reshape(-1, 1).repeat(1, 2)), act(X.reshape(-1, 1).repeat(1, 2)))


@pytest.mark.parametrize("spec", PARAMETRIC)
def test_learnable_state_round_trips_and_loads_into_a_fixed_module(spec):
    trained = _perturbed(spec)
    state = trained.state_dict()
    assert set(state) == {f"{n}_raw" for n in trained._lower}
    back = actlab.get_activation(spec, learnable=True)
    back.load_state_dict(state, strict=True)
    torch.testing.assert_close(back(X), trained(X), rtol=0, atol=0)
    fixed = actlab.get_activation(spec)  # learnable -> fixed: the trained values, fixed
    fixed.load_state_dict(state, strict=True)
    assert fixed.state_dict() == {}
    torch.testing.assert_close(fixed(X), trained(X).detach(), rtol=1e-6, atol=1e-6)
    for name in trained._lower:
        assert fixed.param_value(name) == pytest.approx(trained.param_value(name), rel=1e-6)


@pytest.mark.parametrize("spec", PARAMETRIC)
def test_fixed_state_into_a_learnable_module_raises_or_keeps_its_values(spec):
    learnable = actlab.get_activation(spec, learnable=True)
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "[a-z_]+_raw"'):
        learnable.load_state_dict(actlab.get_activation(spec).state_dict(), strict=True)
    before = learnable(X).detach()
    learnable.load_state_dict({}, strict=False)
    torch.testing.assert_close(learnable(X).detach(), before)


def test_checkpoints_of_the_first_format_still_load():
    """Format 1 saved a fixed module's constants as buffers a_raw, b_raw holding the values."""
    old = OrderedDict(a_raw=torch.tensor(1.7), b_raw=torch.tensor(0.6))
    old._metadata = {"": {"version": 1}}
    act = Zorro()
    act.load_state_dict(old, strict=True)
    assert (act.param_value("a"), act.param_value("b")) == (pytest.approx(1.7), pytest.approx(0.6))


def test_swapped_model_loads_the_original_checkpoint_both_ways():
    original = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8), nn.GELU(), nn.Linear(8, 2))
    swapped = copy.deepcopy(original)
    assert len(swap_activations(swapped, None, "zorro")) == 2
    swapped.load_state_dict(original.state_dict(), strict=True)
    original.load_state_dict(swapped.state_dict(), strict=True)
    learnable = copy.deepcopy(original)
    swap_activations(learnable, None, "zorro(learnable=true)")
    with torch.no_grad():
        learnable[1].a_raw.add_(0.5)
    again = copy.deepcopy(original)
    swap_activations(again, None, "zorro(learnable=true)")
    again.load_state_dict(learnable.state_dict(), strict=True)
    x = torch.randn(3, 4)
    assert torch.equal(again(x), learnable(x))


# --- constructors take torch's arguments ----------------------------------------------------
@pytest.mark.parametrize("name", sorted(_FACTORIES))
def test_every_activation_accepts_inplace(name):
    act = _FACTORIES[name](inplace=True)
    assert act.inplace is True
    assert actlab.get_activation(name, inplace=True).inplace is True
    assert act(torch.randn(4, 6)).shape == (4, 6)


class TimmStyleMlp(nn.Module):
    """How timm writes a block: the activation is a class, called with inplace=True."""

    def __init__(self, act_layer=nn.GELU):
        super().__init__()
        self.fc1, self.act, self.fc2 = nn.Linear(6, 8), act_layer(inplace=True), nn.Linear(8, 3)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


def create_act_layer(name_or_layer, inplace=None, **kwargs):
    """timm's create_act_layer, as it treats a class it does not know."""
    layer = name_or_layer
    return layer(**kwargs) if inplace is None else layer(inplace=inplace, **kwargs)


@pytest.mark.parametrize("act_layer", [Zorro, RadialBounding, partial(Zorro, a=1.5, learnable=True),
                                       actlab.activations.MRePU, actlab.activations.SigmoidZorro])
def test_classes_work_as_timm_act_layer(act_layer):
    model = TimmStyleMlp(act_layer)
    model(torch.randn(5, 6)).sum().backward()
    assert create_act_layer(act_layer, inplace=True)(torch.ones(2, 2)).shape == (2, 2)
    assert create_act_layer(act_layer)(torch.ones(2, 2)).shape == (2, 2)


# --- swap_activations matches by registry name --------------------------------------------
@pytest.mark.parametrize("old, modules, matched", [
    ("relu", [nn.ReLU(), nn.ReLU6(), nn.LeakyReLU()], 1),
    ("gelu", [nn.GELU(), nn.GELU(approximate="tanh"), nn.SiLU()], 2),
    ("gelu_tanh", [nn.GELU(), nn.GELU(approximate="tanh")], 1),
    ("swish", [nn.SiLU(), nn.Sigmoid()], 1),
    ("silu", [nn.SiLU(), actlab.get_activation("swish")], 2),
    ("tanh", [nn.Tanh(), nn.Hardtanh()], 1),
    ("sigmoid", [nn.Sigmoid(), nn.Hardsigmoid()], 1),
    ("leaky_relu", [nn.LeakyReLU(0.2), nn.ReLU()], 1),
    ("mish", [nn.Mish()], 1), ("elu", [nn.ELU()], 1), ("softplus", [nn.Softplus()], 1),
])
def test_names_match_torch_classes(old, modules, matched):
    model = nn.Sequential(*modules)
    swaps = swap_activations(model, old, "zorro")
    assert len(swaps) == matched and all(isinstance(s.new, Zorro) for s in swaps)


def _foreign(module: str, name: str) -> nn.Module:
    """An instance of a class defined as `module`.`name` (timm's activation classes, here
    without timm), computing GELU."""
    cls = type(name, (nn.Module,), {"__module__": module, "forward": lambda self, x: nn.functional.gelu(x)})
    return cls()


def test_names_match_library_classes_without_importing_them():
    model = nn.Sequential(_foreign("timm.layers.activations", "GELU"), _foreign("timm.layers.activations_me", "SwishMe"),
                          _foreign("timm.layers.activations", "GELUTanh"), _foreign("elsewhere", "GELU"))
    assert [s.path for s in swap_activations(model, "gelu", "zorro")] == ["0", "2"]
    assert [s.path for s in swap_activations(model, "swish", "zorro")] == ["1"]


def test_swap_reports_what_it_replaced_and_says_when_nothing_matched():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 2), nn.GELU()))
    (swap,) = swap_activations(model, lambda m: isinstance(m, nn.GELU), "zorro")  # a predicate
    assert swap.path == "1.1" and isinstance(swap.old, nn.GELU) and swap.new is model[1][1]
    assert str(swap) == "1.1: GELU(approximate='none') -> Zorro(a=1.2, b=1)"
    with pytest.warns(UserWarning, match=r"no module of Sequential matched old='relu'.*Zorro x1"):
        assert swap_activations(model, "relu", "tanh") == []
    with pytest.raises(actlab.ActlabError, match="no module of Sequential matched"):
        swap_activations(model, nn.ReLU, "tanh", strict=True)
    assert len(swap_activations(model, (Zorro, nn.Linear), "tanh", strict=True)) == 3  # classes


# --- the fused CPU path under threads -------------------------------------------------------
def test_threads_making_first_calls_at_once_keep_the_fused_path(monkeypatch):
    monkeypatch.setattr(fused, "_compiled", {})
    monkeypatch.setattr(fused, "failed", {})
    acts = [actlab.get_activation("zorro") for _ in range(8)]
    x = torch.randn(3000)
    barrier, errors = threading.Barrier(8), []

    def first_call(i):
        try:
            barrier.wait()
            acts[i](x)  # a forward: one kernel to compile
        except Exception as exc:  # collected: an exception in a thread would not fail the test
            errors.append(exc)

    with fused.fused_mode("always"), warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        threads = [threading.Thread(target=first_call, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == [] and fused.failed == {}
        assert len(fused._compiled) == 1  # compiled once
        runs = fused.runs
        y = acts[0](x)
        assert fused.runs == runs + 1  # the compiled kernel ran
    with fused.fused_mode("never"):
        torch.testing.assert_close(y, acts[0](x))


def test_a_kernel_that_fails_to_compile_falls_back_alone(monkeypatch):
    compile_ = fused._compile

    def compile_all_but_mrepu(fn, args):
        if fn.__name__ == "fused_value" and args[0].numel() == 77:
            raise RuntimeError("simulated compiler failure")
        return compile_(fn, args)

    monkeypatch.setattr(fused, "_compiled", {})
    monkeypatch.setattr(fused, "failed", {})
    monkeypatch.setattr(fused, "_compile", compile_all_but_mrepu)
    mrepu, zorro = actlab.get_activation("mrepu"), actlab.get_activation("zorro")
    with fused.fused_mode("always"):
        with pytest.warns(RuntimeWarning, match="MRePUFunction.*simulated compiler failure"):
            y = mrepu(torch.linspace(-2, 2, 77))
        runs = fused.runs
        zorro(torch.linspace(-2, 2, 50))
        assert fused.runs == runs + 1 and list(fused.failed)[0][:2] == ("MRePUFunction", "value")
    with fused.fused_mode("never"):
        torch.testing.assert_close(y, mrepu(torch.linspace(-2, 2, 77)))


# --- torch.compile of inference -------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(_FACTORIES))
@pytest.mark.parametrize("learnable", [False, True])
def test_inference_compiles_as_one_graph(name, learnable):
    if learnable and name not in PARAMETRIC:
        pytest.skip("no parameters")
    torch._dynamo.reset()
    act = actlab.get_activation(name, **({"learnable": True} if learnable else {}))
    x = torch.randn(4, 6)
    compiled = torch.compile(act, fullgraph=True, backend="eager")  # dynamo's one-graph capture is the check
    for context in (torch.no_grad, torch.inference_mode):
        with context():
            torch.testing.assert_close(compiled(x), act(x))


@pytest.mark.parametrize("name", ["zorro", "radial_bounding"])
def test_inference_compiles_with_inductor(name):
    torch._dynamo.reset()
    act = actlab.get_activation(name)
    x = torch.randn(4, 6)
    with torch.inference_mode():
        torch.testing.assert_close(torch.compile(act, fullgraph=True)(x), act(x))


# --- inputs torch's activations refuse or handle --------------------------------------------
@pytest.mark.parametrize("spec", NEW)
def test_integer_inputs_raise(spec):
    act = actlab.get_activation(spec)
    with pytest.raises(RuntimeError, match="floating-point"):
        act(torch.arange(-2, 4).reshape(3, 2))
    with pytest.raises(RuntimeError, match="floating-point"):
        act(torch.ones(2, 2, dtype=torch.bool))


@pytest.mark.parametrize("group_size, mode", [(2, "never"), (4, "never"), (None, "never"), (2, "always"),
                                             (None, "always")])
def test_radial_bounding_is_overflow_safe(group_size, mode):
    x = torch.tensor([[3e19, 4e19, 0.0, 0.0], [float("inf"), 1.0, -2e38, 0.0], [0.3, 0.4, 0.0, 0.1]],
                     requires_grad=True)
    with fused.fused_mode(mode):
        y = actlab.functional.radial_bounding(x, group_size)
        y.backward(torch.ones_like(y))
    assert torch.isfinite(x.grad).all()
    torch.testing.assert_close(y[0, :2], torch.tensor([0.6, 0.8]))  # the unit vector of a huge vector
    assert y[1, 0] == 1 and y[1, 1] == 0  # an infinite component: its direction
    torch.testing.assert_close(y[2], actlab.functional.radial_bounding(x[2:].detach().double(), group_size)[0].float())


def _bounded_sides(act) -> tuple[bool, bool]:
    lo, hi = act.info.bounds
    return math.isfinite(lo), math.isfinite(hi)


# actlab's own formulas (the other baselines are torch's functions, with torch's behaviour);
# the fused path compiles these formulas, checked on one activation (compiling costs seconds)
OWN_FORMULAS = PARAMETRIC + ["dsilu", "dgelu"]


@pytest.mark.parametrize("name, mode", [(n, "never") for n in OWN_FORMULAS] + [("zorro_tanh", "always")])
def test_bounded_activations_give_their_limits_at_infinity(name, mode):
    act = actlab.get_activation(name)
    lower, upper = _bounded_sides(act)
    assert lower or upper
    x = torch.tensor([-math.inf, -1e30, 1e30, math.inf], requires_grad=True)
    with fused.fused_mode(mode):
        y = act(x)
        y.sum().backward()
    if lower:
        assert y[0] == y[1] and torch.isfinite(y[0]) and torch.isfinite(x.grad[0])
    if upper:
        assert y[3] == y[2] and torch.isfinite(y[3]) and torch.isfinite(x.grad[3])


# --- the package ----------------------------------------------------------------------------
def test_import_actlab_gives_the_subpackages(run_cli):
    import importlib.resources

    for sub in ("functional", "activations", "theory", "nn", "capacity", "data", "train", "experiments"):
        assert getattr(actlab, sub).__name__ == f"actlab.{sub}"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        actlab.nope
    code, out, _ = run_cli("--version")
    assert code == 0 and out.strip() == f"actlab {actlab.__version__}"
    assert importlib.resources.files("actlab").joinpath("py.typed").is_file()


# --- Hugging Face models built from configs ---------------------------------------------------
TINY = dict(vocab_size=64, num_hidden_layers=2, num_attention_heads=2, hidden_size=16, intermediate_size=32,
            max_position_embeddings=32)


def _bert(**config):
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    return transformers.BertModel(transformers.BertConfig(**{**TINY, **config})).eval()


def _gpt2():
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    config = transformers.GPT2Config(vocab_size=64, n_embd=16, n_layer=2, n_head=2, n_positions=32,
                                     bos_token_id=0, eos_token_id=0, pad_token_id=0)
    return transformers.GPT2LMHeadModel(config).eval()


IDS = torch.randint(1, 64, (2, 9), generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("build, feed_forward", [
    (_bert, "encoder.layer.{}.intermediate.intermediate_act_fn"), (_gpt2, "transformer.h.{}.mlp.act")])
def test_transformers_models_swap_train_save_and_load(build, feed_forward, tmp_path):
    original = build()
    swapped = copy.deepcopy(original)
    swaps = swap_activations(swapped, "gelu", "zorro", strict=True)
    assert [s.path for s in swaps] == [feed_forward.format(i) for i in range(2)]  # every feed-forward one
    assert not any(registry_name(m) in ("gelu", "gelu_tanh") for m in swapped.modules())
    # the original checkpoint loads into the swapped model and back, strictly
    swapped.load_state_dict(original.state_dict(), strict=True)
    original.load_state_dict(swapped.state_dict(), strict=True)
    # trains: forward and backward through the swapped activations
    swapped.train()
    out = swapped(IDS)
    (out.logits if hasattr(out, "logits") else out.last_hidden_state).square().mean().backward()
    assert all(torch.isfinite(p.grad).all() for p in swapped.parameters() if p.grad is not None)
    # learnable parameters: save, load into a fresh swapped model, same outputs
    learnable = copy.deepcopy(original)
    swap_activations(learnable, "gelu", "zorro(learnable=true)")
    with torch.no_grad():
        for p in learnable.parameters():
            p.add_(0.01)
    torch.save(learnable.state_dict(), tmp_path / "ckpt.pt")
    again = copy.deepcopy(original)
    swap_activations(again, "gelu", "zorro(learnable=true)")
    again.load_state_dict(torch.load(tmp_path / "ckpt.pt"), strict=True)
    learnable.eval(), again.eval()
    with torch.no_grad():
        a, b = learnable(IDS), again(IDS)
    key = "logits" if hasattr(a, "logits") else "last_hidden_state"
    assert torch.equal(a[key], b[key])
    if hasattr(learnable, "generate"):
        kwargs = dict(max_new_tokens=5, do_sample=False, pad_token_id=0)
        assert torch.equal(learnable.generate(IDS, **kwargs), again.generate(IDS, **kwargs))


def test_transformers_configs_name_actlab_activations(tmp_path):
    transformers = pytest.importorskip("transformers")
    keys = register_with_transformers()
    assert "zorro" in keys and "gelu" not in keys  # Hugging Face's own names stay its own
    assert register_with_transformers("zorro(a=1.5,learnable=true)") == ["zorro(a=1.5,learnable=true)"]
    for act, save in (("zorro", {}), ("zorro(a=1.5,learnable=true)", {"safe_serialization": True})):
        model = _bert(hidden_act=act)
        assert isinstance(model.encoder.layer[0].intermediate.intermediate_act_fn, Zorro)
        model.save_pretrained(tmp_path / "m", **save)
        loaded = transformers.BertModel.from_pretrained(tmp_path / "m").eval()
        assert loaded.encoder.layer[1].intermediate.intermediate_act_fn.param_value("a") == pytest.approx(
            model.encoder.layer[1].intermediate.intermediate_act_fn.param_value("a"))
        with torch.no_grad():
            assert torch.equal(loaded(IDS).last_hidden_state, model(IDS).last_hidden_state)
    with pytest.raises(actlab.ActlabError, match="unknown activation"):
        register_with_transformers("nope")
