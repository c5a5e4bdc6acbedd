"""The fused CPU path (compiled reference formulas) and what every path must keep.

Compiling costs seconds per (activation, dtype), so the fused path itself is
exercised on a few activations (Sloped-Zorro with learnable parameters in float32
and fixed ones in 16 bits, Radial Bounding pairs in 16 bits); everything else here
runs on small tensors, which take the eager reference path in the default mode.
"""
import warnings

import pytest
import torch

import actlab
from actlab.activations import fused
from actlab.activations.radial import radial_bounding

NEW = ["radial_bounding", "radial_bounding(group_size=None)", "repu", "mrepu", "zorro", "zorro_asymmetric",
       "zorro_sigmoid", "zorro_tanh", "zorro_sloped"]


def _run(act, x, mode):
    act.zero_grad()
    x = x.detach().clone().requires_grad_(True)
    with fused.fused_mode(mode):
        y = act(x)
        y.backward(torch.linspace(-1, 1, y.numel()).reshape(y.shape).to(y.dtype))
    return y.detach(), x.grad, [p.grad.clone() for p in act.parameters()]


@pytest.mark.parametrize("spec, dtype", [("zorro_sloped", torch.float32), ("radial_bounding", torch.bfloat16),
                                         ("radial_bounding", torch.float16)])
def test_fused_cpu_path_matches_reference(spec, dtype):
    torch.manual_seed(0)
    act = actlab.get_activation(spec, **({} if "radial" in spec else dict(learnable=True, m=0.4)))
    x = (torch.randn(2, 3, 512) * 2).to(dtype)
    x[0, 0, :4] = torch.tensor([float("nan"), 0.0, 1.0, -1e-7])
    y0, g0, p0 = _run(act, x, "never")
    y1, g1, p1 = _run(act, x, "always")
    kernels = {("radial_bounding", "pair value", dtype), ("radial_bounding", "pair vjp", dtype)} if "radial" in spec \
        else {("SlopedZorroFunction", "value", dtype), ("SlopedZorroFunction", "grads", dtype)}
    assert kernels <= {k[:3] for k in fused._compiled}
    assert not any(hasattr(fn, "__wrapped__") for fn in fused._compiled.values())  # inductor's call, unwrapped
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == torch.float32 else dict(rtol=1.6e-2, atol=1e-2)
    assert y1.dtype == dtype and g1.dtype == dtype
    torch.testing.assert_close(y1, y0, equal_nan=True, **tol)
    torch.testing.assert_close(g1, g0, equal_nan=True, **tol)
    for a, b in zip(p1, p0):  # NaN at x[0,0,0] makes these NaN on both paths: compare without it
        assert torch.isnan(a) == torch.isnan(b)
    if dtype != torch.float32:  # the 16-bit pair words are the float32 kernel's result, rounded
        y32 = _run(act, x.float(), "always")[0].to(dtype)
        keep = ~torch.isnan(y32)
        assert torch.equal(y1[keep].view(torch.int16), y32[keep].view(torch.int16))
    if p0:
        x[0, 0, 0] = 0.0
        (_, _, p0), (_, _, p1) = _run(act, x, "never"), _run(act, x, "always")
        for a, b in zip(p1, p0):
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_16_bit_pair_words_are_exact_and_round_like_torch(dtype):
    """16-bit pairs travel as int32 words: every one of the 65 536 values is widened to
    float32 exactly, and float32 values are rounded back with integer arithmetic bit for
    bit like .to(dtype): ties to even, overflow to infinity, subnormals, NaN kept NaN."""
    special = [0x7F7FFFFF, 0x7F7F8000, 0x7F7F7FFF, 0x3F808000, 0x3F818000, 0x00008000, 0x00018000, 1,
               0x7F800000, 0x7FC00001, 0x7F800001, 0,
               0x477FEFFF, 0x477FF000, 0x477FE000, 0x47800000, 0x3F801000, 0x3F803000, 0x3F800FFF,  # float16:
               0x38800000, 0x387FF000, 0x387FFFFF, 0x33800000, 0x33800001, 0x33000000, 0x33000001, 0x33C00000]
    bits = torch.cat([torch.randint(-2**31, 2**31 - 1, (1 << 16,), dtype=torch.int32),
                      (torch.rand(1 << 16) * 2 ** 17 - 2 ** 16).view(torch.int32),  # the float16 range, densely
                      torch.tensor(special + [b - 2**31 for b in special], dtype=torch.int32)])  # and with the sign bit
    y = bits.view(torch.float32)
    got = fused._interleaved(y[0::2], y[1::2], dtype).view(dtype)
    want = y.to(dtype)
    nan = torch.isnan(want)
    assert torch.isnan(got[nan]).all()
    assert torch.equal(got[~nan].view(torch.int16), want[~nan].view(torch.int16))
    every = torch.arange(1 << 16, dtype=torch.int32).to(torch.int16).view(dtype)
    even, odd = fused._halves(fused._pair_words(every), dtype)
    widened, nan = torch.stack([even, odd], -1).reshape(-1), torch.isnan(every)
    assert torch.equal(widened[~nan].view(torch.int32), every.float()[~nan].view(torch.int32))
    assert torch.isnan(widened[nan]).all()


@pytest.mark.parametrize("group_size", [2, 4, None])
def test_one_group_kernel_serves_every_size_and_layout(group_size):
    """Radial Bounding's fused kernels (pairs as wide words, small groups unrolled, the whole
    vector as rows of any width) compile once and match the reference on any shape, including
    one row and views at an odd offset."""
    act = actlab.get_activation("radial_bounding", group_size=group_size)
    base = torch.randn(6, 2 * 97 * 4 + 1) * 1.5
    inputs = [base[:, 1:], base[:1, 1:], base[1:4, 1:33], base.t()[1:25].t()]
    before = set(fused._compiled)
    for x in inputs:
        y0, g0, _ = _run(act, x, "never")
        y1, g1, _ = _run(act, x, "always")
        torch.testing.assert_close(y1, y0, rtol=1e-6, atol=1e-6)
        torch.testing.assert_close(g1, g0, rtol=1e-5, atol=1e-5)
    assert len(set(fused._compiled) - before) <= 2  # one forward and one backward kernel


@pytest.mark.parametrize("no_grad", [torch.no_grad, torch.inference_mode])
def test_learnable_parameters_share_one_kernel_whatever_their_values(no_grad):
    """Only fixed parameters are compiled for their values: a learnable p, evaluated under
    no_grad or inference_mode after each update (bfloat16 model: a converted copy), keeps
    the generic kernel instead of compiling one per value."""
    act = actlab.get_activation("repu", learnable=True).to(torch.bfloat16)
    x = torch.randn(600).to(torch.bfloat16)
    before = set(fused._compiled)
    with fused.fused_mode("always"):
        for _ in range(3):
            with no_grad():
                act(x)
            with torch.no_grad():
                for p in act.parameters():
                    p.add_(0.05)
    assert [k[3] for k in set(fused._compiled) - before] in ([], [1])  # 1 parameter, no values


@pytest.mark.parametrize("spec", ["mrepu(p=3)", "repu(p=2.5)"])
def test_fixed_power_is_compiled_for_its_value(spec):
    """A fixed p is baked into the kernel (an integer p as a product); values and gradients
    match the reference's exp(p·ln z) at and around the breakpoints."""
    act = actlab.get_activation(spec)
    x = torch.cat([torch.randn(400) * 2, torch.tensor([-1.0, -1 - 1e-6, -1 + 1e-6, 0.0, 1e-6, -1e-6, 1.0])])
    y0, g0, _ = _run(act, x, "never")
    y1, g1, _ = _run(act, x, "always")
    torch.testing.assert_close(y1, y0, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(g1, g0, rtol=1e-5, atol=1e-6)
    p = float(act.param("p"))
    assert any(key[3] == (p,) for key in fused._compiled if key[1] == "value")


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_fixed_zorro_in_16_bits_reads_a_table_of_the_reference(dtype):
    """16-bit inputs with fixed parameters: Zorro's forward reads a table of all 65 536
    inputs, which holds the reference formula's float32 result (parameters as numbers,
    like the compiled kernels) rounded to the dtype, bit for bit; one lookup kernel serves
    every table. The backward keeps the computed kernel; learnable parameters build no table."""
    from actlab.activations import zorro as Z

    every = torch.arange(1 << 16, dtype=torch.int32).to(torch.int16).view(dtype)
    act = actlab.get_activation("zorro_sloped", a=1.5, m=0.3)
    numbers = tuple(float(p) for p in act.params())
    y0, g0, _ = _run(act, every, "never")
    y1, g1, _ = _run(act, every, "always")
    assert ("SlopedZorroFunction", dtype, numbers) in fused._tables
    assert ("lookup", "table value", dtype) in {k[:3] for k in fused._compiled}
    want = Z.sloped_value(every.float(), *numbers).to(dtype)
    nan = torch.isnan(want)
    assert torch.equal(torch.isnan(y1), nan) and torch.equal(torch.isnan(y0), nan)
    assert torch.equal(y1[~nan].view(torch.int16), want[~nan].view(torch.int16))
    torch.testing.assert_close(y1, y0, equal_nan=True, rtol=1e-2, atol=1e-5)  # reference: parameters as tensors
    torch.testing.assert_close(g1, g0, equal_nan=True, rtol=1.6e-2, atol=1e-2)
    tables = set(fused._tables)
    _run(actlab.get_activation("zorro_sloped", learnable=True).to(dtype), every, "always")
    assert set(fused._tables) == tables


def test_expanded_gradient_takes_the_fused_path():
    """x.sum().backward() hands the backward a stride-0 gradient; the kernels need dense inputs."""
    act = actlab.get_activation("zorro_sloped", learnable=True, m=0.4)
    x = torch.randn(3, 100, requires_grad=True)
    with fused.fused_mode("always"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        act(x).sum().backward()
    assert not fused.failed and not [w for w in caught if "actlab" in str(w.message)]
    expected = torch.autograd.grad(act(x.detach().double().requires_grad_()).sum(), act.parameters())
    for p, e in zip(act.parameters(), expected):
        torch.testing.assert_close(p.grad.double(), e.double(), rtol=1e-4, atol=1e-4)


def test_fused_mode_switch_and_size_threshold(monkeypatch):
    assert fused.mode in fused.MODES
    small, big = torch.zeros(8), torch.zeros(fused.MIN_NUMEL)
    with fused.fused_mode("auto"):
        assert not fused.cpu_usable(small) and fused.cpu_usable(big)
        assert not fused.cpu_usable(big.double())  # float64 stays on the reference (gradcheck, analysis)
    with fused.fused_mode("never"):
        assert not fused.cpu_usable(big)
    with fused.fused_mode("always"):
        assert fused.cpu_usable(small)
    with pytest.raises(actlab.ActlabError, match="auto, always, never"):
        with fused.fused_mode("sometimes"):
            pass


def test_small_tensors_go_fused_once_their_eager_work_has_paid_for_a_compilation(monkeypatch):
    monkeypatch.setattr(fused, "AMORTISED_NUMEL", 64)
    monkeypatch.setattr(fused, "_eager_numel", {})
    small = torch.zeros(16)
    with fused.fused_mode("auto"):
        assert [fused.cpu_usable(small, "rb") for _ in range(4)] == [False, False, False, True]
        assert not fused.cpu_usable(small, "zorro")  # counted per activation
        assert not fused.cpu_usable(small)  # a caller that names nothing is never amortised
    with fused.fused_mode("never"):
        assert not fused.cpu_usable(small, "rb")
    before = fused.runs
    x = torch.randn(4, 16) * 2
    xd = x.double().requires_grad_()
    expected_y = radial_bounding(xd)
    (expected_g,) = torch.autograd.grad(expected_y.square().sum(), xd)
    with fused.fused_mode("auto"):
        for _ in range(3):  # the first calls run eagerly, then the 64 elements have been counted
            xs = x.clone().requires_grad_()
            y = radial_bounding(xs)
            y.square().sum().backward()
    assert fused.runs > before  # the last ones went through the compiled pair kernels
    torch.testing.assert_close(y.double(), expected_y.detach(), rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(xs.grad.double(), expected_g, rtol=1e-5, atol=1e-6)


def test_a_training_run_chooses_its_paths_as_in_a_fresh_process(monkeypatch):
    """fit forgets what earlier work in the process counted toward AMORTISED_NUMEL, so a run's
    numbers do not depend on what ran before it: the fused and eager formulas agree only to
    rounding, which training amplifies (a Zorro run of the signal suite ended at 74 % in a fresh
    process and at 69 % after three other runs in the same worker)."""
    from actlab.train import fit

    monkeypatch.setattr(fused, "AMORTISED_NUMEL", 1 << 14)
    monkeypatch.setattr(fused, "_eager_numel", {})
    cfg = dict(model="mlp", act="zorro", data="digits", depth=6, width=32, epochs=2, batch_size=32,
               n_train=512, n_test=128, lr=0.05, init="gaussian(c_w=3.0, c_b=0.05)", seed=0,
               probes=False, checkpoint_every=0)
    with fused.fused_mode("auto"):
        first = fit(cfg, progress=False)  # eager until 16k elements, then fused
        fit({**cfg, "seed": 1}, progress=False)  # counts far past the threshold
        again = fit(cfg, progress=False)
    assert fused.runs > 0
    assert [h["train_loss"] for h in again.history] == [h["train_loss"] for h in first.history]


def test_generated_call_keeps_a_callable_it_does_not_know():
    def plain(x):
        return [x]

    assert fused._generated_call(plain) is plain


def test_compile_failure_warns_once_and_falls_back(monkeypatch):
    def broken_compile(*args, **kwargs):
        raise RuntimeError("no C++ compiler")

    monkeypatch.setattr(fused, "_compiled", {})
    monkeypatch.setattr(fused, "failed", {})
    monkeypatch.setattr(torch._inductor, "compile", broken_compile)
    act = actlab.get_activation("mrepu")
    x = torch.linspace(-3, 3, 50)
    with fused.fused_mode("always"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y1 = act(x)
        y2 = act(x)
    assert len([w for w in caught if "fused CPU kernel" in str(w.message)]) == 1
    with fused.fused_mode("never"):
        torch.testing.assert_close(y1, act(x))
    torch.testing.assert_close(y1, y2)
    assert [k[:2] for k in fused.failed] == [("MRePUFunction", "value")]


@pytest.mark.parametrize("spec", NEW)
def test_saves_exactly_one_input_sized_tensor(spec):
    """Every activation keeps one tensor of the input's size for backward (plus 0-d parameters)."""
    act = actlab.get_activation(spec, **({} if "radial" in spec else dict(learnable=True)))
    x = torch.randn(4, 6, 8, requires_grad=True)
    saved = []

    def pack(t):
        saved.append(t)
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        y = act(x * 1.0)
    big = [t for t in saved if t.dim() > 0]
    assert len(big) == 1 and big[0].numel() == x.numel(), [tuple(t.shape) for t in saved]
    assert all(t.numel() == 1 for t in saved if t.dim() == 0)
    y.sum().backward()


@pytest.mark.parametrize("spec", ["zorro_tanh", "radial_bounding"])
def test_double_backward_uses_the_differentiable_reference(spec):
    act = actlab.get_activation(spec).double()
    x = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    with fused.fused_mode("always"):  # float64 never takes the fused path, and create_graph never does
        assert torch.autograd.gradgradcheck(lambda t: act(t), (x,))
        (gx,) = torch.autograd.grad(act(x).sum(), x, create_graph=True)
        assert gx.requires_grad


def test_whole_model_torch_compile_uses_reference_inside():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(8, 16), actlab.get_activation("zorro_sigmoid"),
                              torch.nn.Linear(16, 16), actlab.get_activation("radial_bounding"))
    compiled = torch.compile(net, backend="aot_eager", fullgraph=True)
    x = torch.randn(5, 8)
    with fused.fused_mode("always"):
        torch.testing.assert_close(compiled(x), net(x))
