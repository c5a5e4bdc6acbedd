"""Triton kernels against the reference formulas: values, grad_x, parameter gradients.

On a GPU these tests run directly on CUDA tensors. Without one, the only test that
runs here, `test_in_triton_interpreter`, re-runs this module in one subprocess
with TRITON_INTERPRET=1 (which must be set before triton is imported), where the
kernels execute on CPU tensors. Without triton everything is skipped.
"""
import importlib.util
import os
import re
import subprocess
import sys

import pytest
import torch

import actlab
from actlab.activations import fused, kernels
from actlab.activations import power as P
from actlab.activations import radial as R
from actlab.activations import zorro as Z

HAS_TRITON = importlib.util.find_spec("triton") is not None
INTERPRETED = os.environ.get("TRITON_INTERPRET") == "1"
DEVICE = "cuda" if torch.cuda.is_available() else ("cpu" if INTERPRETED else None)
direct = pytest.mark.skipif(DEVICE is None or not HAS_TRITON, reason="needs a GPU or the Triton interpreter")

FUNCTIONS = {
    "repu": P.RePUFunction, "mrepu": P.MRePUFunction, "zorro": Z.ZorroFunction,
    "zorro_asymmetric": Z.AsymmetricZorroFunction, "zorro_sloped": Z.SlopedZorroFunction,
    "zorro_sigmoid": Z.SigmoidZorroFunction, "zorro_tanh": Z.TanhZorroFunction,
}
# Non-default parameters, so that each core parameter has its own value.
PARAMS = {
    "repu": dict(p=2.5), "mrepu": dict(p=3.0), "zorro": dict(a=1.5, b=0.8),
    "zorro_asymmetric": dict(a_n=1.5, b_n=0.7, a_p=2.5, b_p=1.3), "zorro_sloped": dict(a=1.1, b=0.9, m=0.3),
    "zorro_sigmoid": dict(s=0.7, a=3.0, b=1.5), "zorro_tanh": dict(s=1.3, a=2.0, b=2.5),
}
# Where each one (at PARAMS) has its kinks: the breakpoints in x of the core's 0 and 1.
BREAKPOINTS = {
    "repu": (0.0,), "mrepu": (-1.0,), "zorro": (0.0, 1.0), "zorro_asymmetric": (0.0, 1.0), "zorro_sloped": (0.0, 1.0),
    "zorro_sigmoid": (-0.5 / 0.7, 0.5 / 0.7), "zorro_tanh": (-1 / 1.3, 1 / 1.3),
}
TOL = {torch.float32: dict(rtol=2e-5, atol=2e-5), torch.float16: dict(rtol=2e-3, atol=2e-3),
       torch.bfloat16: dict(rtol=1.6e-2, atol=1e-2)}


def test_in_triton_interpreter():
    if not HAS_TRITON:
        pytest.skip("triton is not installed")
    if DEVICE is not None:
        pytest.skip("the kernel tests run directly in this process")
    env = {**os.environ, "TRITON_INTERPRET": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", __file__],
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def _ptx(fn, dtype: str, meta: dict, ints: dict) -> str:
    """PTX of fn for sm_90, compiled without a GPU. Like triton's launcher, pointers are
    16-byte aligned and an integer argument divisible by 16 is declared so."""
    from triton import compile as triton_compile
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    pointers = [n for n in fn.arg_names if n.endswith("_ptr")]
    sig = {n: "*fp32" if re.fullmatch(r"p\d_ptr|part_ptr", n) else f"*{dtype}" for n in pointers}
    sig.update({n: "i64" for n in ints})
    sig.update({n: "constexpr" for n in meta})
    aligned = pointers + [n for n, v in ints.items() if v % 16 == 0]
    attrs = {(fn.arg_names.index(n),): [["tt.divisibility", 16]] for n in aligned}
    source = ASTSource(fn=fn, signature=sig, constexprs=meta, attrs=attrs)
    return triton_compile(source, target=GPUTarget("cuda", 90, 32)).asm["ptx"]


def _accesses(ptx: str) -> set:
    """The kinds of global loads and stores in ptx, e.g. {"ld.global.v4.b32", "st.global.v4.b32"}."""
    return set(re.findall(r"(?:ld|st)\.global(?:\.v\d)?\.b\d+", ptx))


@pytest.mark.skipif(not HAS_TRITON or INTERPRETED, reason="needs triton's compiler (not the interpreter)")
@pytest.mark.parametrize("dtype", ["fp32", "bf16", "fp16"])
def test_kernels_compile_for_a_gpu_target_with_16_byte_accesses(dtype):
    """Lowered to machine code for sm_90 without a GPU: catches what the interpreter lets
    through, and checks that every tensor moves 16 bytes per load and store instruction
    (narrower accesses cap a memory-bound kernel well below the copy's bandwidth)."""
    from actlab.activations.kernels import triton_kernels as tk

    wide = {"ld.global.v4.b32", "st.global.v4.b32"}
    for function in (Z.TanhZorroFunction, P.MRePUFunction, P.RePUFunction):
        meta = tk._meta(function.kernel)
        assert _accesses(_ptx(tk._elementwise_fwd, dtype, meta, dict(n=1 << 20))) - {"ld.global.b32"} == wide
        ptx = _ptx(tk._elementwise_bwd, dtype, dict(meta, NEED_X=True, NEED_P=True), dict(n=1 << 20))
        assert _accesses(ptx) - {"ld.global.b32", "st.global.b32"} == wide  # scalars: parameters, partial sums
    # Groups that fill a tile (pairs, fours, the whole vector), a row longer than a tile, and
    # rows that leave part of their tile empty, of a size divisible by 8 (16 bytes in 16-bit).
    for rows, size in ((4096, 2), (4096, 4), (64, 1024), (8, 4800), (64, 1000), (512, 24)):
        _, (R, g_units), meta = tk._rb_launch(torch.empty(rows, size, device="meta"))
        for fn in (tk._rb_fwd, tk._rb_bwd):
            assert _accesses(_ptx(fn, dtype, meta, dict(R=R, G_UNITS=g_units))) == wide, (fn.__name__, size)


def _grid(name: str) -> torch.Tensor:
    """Points around every breakpoint (at, and 1e-6, 1e-3, 0.1 away), a spread, NaN and ±inf."""
    pts = [torch.linspace(-6, 6, 97)]
    for b in BREAKPOINTS[name]:
        pts.append(torch.tensor([b + d for d in (0.0, 1e-6, -1e-6, 1e-3, -1e-3, 0.1, -0.1)]))
    pts.append(torch.tensor([float("nan"), float("inf"), -float("inf"), 30.0, -30.0]))
    return torch.cat(pts)


def _reference(function, x, params, g):
    """y, grad_x and parameter gradients of the reference path, computed in float32 on CPU."""
    xr = x.detach().cpu().float().requires_grad_(True)
    pr = [p.detach().cpu().float().requires_grad_(True) for p in params]
    with fused.fused_mode("never"):
        y = function.apply(xr, *pr)
        y.backward(g.cpu().float())
    return y.detach(), xr.grad, [p.grad for p in pr]


@direct
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_elementwise_kernels_match_reference(name, dtype):
    function = FUNCTIONS[name]
    act = actlab.get_activation(name, **PARAMS[name])
    params = [p.detach().to(DEVICE) for p in act.params()]
    x = _grid(name).to(dtype).to(DEVICE)
    g = torch.linspace(-1, 1, x.numel()).to(dtype).to(DEVICE)
    y_ref, gx_ref, _ = _reference(function, x, params, g)
    y = kernels.elementwise_forward(function.kernel, x, params)
    grads = kernels.elementwise_backward(function.kernel, x, g, params, (True,) * (1 + len(params)))
    assert y.dtype == dtype and grads[0].dtype == dtype
    torch.testing.assert_close(y.cpu().float(), y_ref.to(dtype).float(), equal_nan=True, **TOL[dtype])
    torch.testing.assert_close(grads[0].cpu().float(), gx_ref.to(dtype).float(), equal_nan=True, **TOL[dtype])
    fixed = kernels.elementwise_backward(function.kernel, x, g, params, (True,) + (False,) * len(params))
    torch.testing.assert_close(fixed[0], grads[0], rtol=0, atol=0, equal_nan=True)  # fixed parameters: grad_x alone
    assert all(p is None for p in fixed[1:])
    # Parameter gradients on finite inputs (±inf make the sums NaN on both paths).
    finite = torch.isfinite(x)
    _, _, gp_ref = _reference(function, x[finite], params, g[finite])
    gp = kernels.elementwise_backward(function.kernel, x[finite], g[finite], params, (False,) + (True,) * len(params))
    assert gp[0] is None
    for got, want in zip(gp[1:], gp_ref):
        torch.testing.assert_close(got.cpu(), want, rtol=1e-4, atol=1e-4 * max(1.0, float(want.abs())))


@direct
def test_parameter_gradients_reduce_over_many_blocks():
    """Several thousand elements: per-block partial sums, then one sum."""
    torch.manual_seed(0)
    x = (torch.randn(5000) * 2).to(DEVICE)
    g = torch.randn(5000).to(DEVICE)
    for name in ("zorro_sloped", "mrepu"):
        function, act = FUNCTIONS[name], actlab.get_activation(name, **PARAMS[name])
        params = [p.detach().to(DEVICE) for p in act.params()]
        _, gx_ref, gp_ref = _reference(function, x, params, g)
        gx, *gp = kernels.elementwise_backward(function.kernel, x, g, params, (True,) * (1 + len(params)))
        torch.testing.assert_close(gx.cpu(), gx_ref, **TOL[torch.float32])
        for got, want in zip(gp, gp_ref):
            torch.testing.assert_close(got.cpu(), want, rtol=1e-4, atol=1e-3)


@direct
def test_empty_input():
    x = torch.empty(0, 3, device=DEVICE)
    p = [torch.tensor(2.0, device=DEVICE)]
    assert kernels.elementwise_forward(P.MRePUFunction.kernel, x, p).shape == (0, 3)
    gx, gp = kernels.elementwise_backward(P.MRePUFunction.kernel, x, x, p, (True, True))
    assert gx.shape == (0, 3) and float(gp) == 0.0
    assert kernels.radial_forward(torch.empty(0, 4, 2, device=DEVICE)).shape == (0, 4, 2)


@direct
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("group_size, width", [(1, 6), (2, 12), (3, 12), (4, 12), (6, 12), (None, 12), (None, 1000), (None, 3000), (None, 4800), (2, 4800)])
def test_radial_bounding_kernels_match_reference(group_size, width, dtype):
    torch.manual_seed(0)
    rows = torch.tensor([0.05, 0.3, 0.7, 1.0, 3.0, 50.0])[:, None]
    scale = width ** 0.5 if group_size is None else (group_size ** 0.5)
    x = torch.randn(6, width) * rows / scale * 1.5
    x[2, 0] = float("nan")  # its group turns NaN, the others stay finite
    x[4, :2] = torch.tensor([3e19, -4e19])  # Σx² overflows float32: the group's unit vector
    x[5, -1] = float("inf")  # the limit along it
    xg = R._grouped(x.to(dtype), group_size, -1)
    g = torch.randn(xg.shape).to(dtype)
    y = kernels.radial_forward(xg.to(DEVICE))
    gx = kernels.radial_backward(xg.to(DEVICE), g.to(DEVICE))
    assert y.dtype == dtype and gx.dtype == dtype
    y_ref = R.rb_value(xg.float()).to(dtype)
    gx_ref = R.rb_vjp(xg.float(), g.float()).to(dtype)
    torch.testing.assert_close(y.cpu(), y_ref, equal_nan=True, **TOL[dtype])
    torch.testing.assert_close(gx.cpu(), gx_ref, equal_nan=True, **TOL[dtype])


@pytest.mark.skipif(not torch.cuda.is_available() or not HAS_TRITON, reason="needs a GPU")
@pytest.mark.parametrize("name", ["radial_bounding", "radial_bounding(group_size=None)", *sorted(FUNCTIONS)])
def test_public_api_on_cuda_matches_cpu(name):
    """The autograd Functions dispatch to the kernels for CUDA tensors, learnable parameters included."""
    learnable = {} if "radial" in name else dict(learnable=True)
    act = actlab.get_activation(name, **learnable)
    x = torch.randn(64, 48) * 2
    outs = []
    for device in ("cpu", "cuda"):
        a = act.to(device)
        a.zero_grad()
        xd = x.to(device).requires_grad_(True)
        y = a(xd)
        y.backward(torch.ones_like(y))
        outs.append((y.detach().cpu(), xd.grad.cpu(), [p.grad.cpu() for p in a.parameters()]))
    (y0, g0, p0), (y1, g1, p1) = outs
    torch.testing.assert_close(y1, y0, **TOL[torch.float32])
    torch.testing.assert_close(g1, g0, **TOL[torch.float32])
    for a, b in zip(p1, p0):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-3)
