"""Which path an activation runs, and the fused CPU path.

The autograd Functions have three paths, chosen per call, never by the user:

    CUDA tensor, triton importable     Triton kernels (actlab.activations.kernels)
    CPU tensor, large enough           the reference formulas compiled by inductor
                                       (fused C++ pointwise kernels)
    otherwise                          the reference formulas, eager

The fused CPU path runs the *same* value / derivative / partials functions as the
reference (one source of truth), so an activation reads x once and writes y once
instead of making one memory pass per elementary op:

    forward     y      = value(x, *p)                     one kernel
    backward    grad_x = g·derivative(x, *p)              one kernel
                grad_p = Σ g·∂value/∂p                    fused with its reduction

It is used for CPU tensors of a training dtype (float32, bfloat16, float16;
float64 is for gradcheck and analysis and stays on the reference path) with at
least MIN_NUMEL elements, or once the smaller tensors of one activation have added up to
AMORTISED_NUMEL elements in this process since the last `reset_amortisation` (below that, the
first-use compilation does not pay off; every training run resets the count, so that its
numbers do not depend on what ran before it), never inside an enclosing torch.compile (which
fuses the reference formulas itself) and never in a double backward (create_graph: the
differentiable reference backward runs).

Each kernel is traced once (make_fx, every dimension symbolic) and compiled by
inductor at first use, once per (activation, dtype, gradients needed): one
kernel serves every size. Elementwise inputs are flattened; group activations
pass pairs as wide words (see _pair_words), other small groups flat with their size
baked in, the whole vector as rows of any width. Kernels are compiled one at a time
under a lock (tracing and inductor are not thread-safe), so threads making their
first calls at once wait for one compilation per kernel. If compiling a kernel fails
(no C++ compiler, ...), a warning names it and that kernel runs the reference
formulas from then on (`failed` says why); every other kernel stays fused. `runs`
counts the calls a compiled kernel served.

The environment variable ACTLAB_FUSED selects the mode at import:
    0 / off      the reference path everywhere (CPU and GPU)
    1 / on       the fused paths for every size
    auto (unset) as described above
`fused_mode(...)` changes it temporarily.
"""
from __future__ import annotations

import os
import sys
import threading
import warnings
from contextlib import contextmanager
from typing import Callable, Iterator, Optional, Sequence

import torch

from ..errors import ActlabError

MODES = ("auto", "always", "never")
FUSED_DTYPES = (torch.float32, torch.bfloat16, torch.float16)
# Below this size the first-use compilation (seconds per activation and dtype) does
# not pay off for small models and tests; at 4M elements the fused path is 5-35x
# faster than the eager formulas (docs/performance.md).
MIN_NUMEL = 1 << 16
# Small tensors of one activation go fused once the elements they ran through the eager formulas
# add up to this: the rent-or-buy rule. A multi-op formula (Radial Bounding on pairs: six ops
# forward, ten backward) costs about 0.1 µs per element eagerly at 16k-element tensors, so 64M
# elements are about the 3-8 s its two kernels take to compile (docs/performance.md), and no
# process pays more than twice the better of the two choices. Training a 100-layer width-128
# network crosses it within its first epoch (RB pairs: 200 -> 110 ms per step); tests and
# the quick profiles' small networks never do.
AMORTISED_NUMEL = 1 << 26

_ENV = {"0": "never", "off": "never", "false": "never", "1": "always", "on": "always", "true": "always"}
mode: str = _ENV.get(os.environ.get("ACTLAB_FUSED", "auto").strip().lower(), "auto")

_compiled: dict[tuple, Callable] = {}
failed: dict[tuple, str] = {}  # kernel key -> why it could not be compiled (it runs the reference)
runs = 0  # calls served by a compiled kernel: how tests and benchmarks see the fused path in use
_eager_numel: dict[str, int] = {}  # activation name -> elements its small tensors ran eagerly
_compile_lock = threading.Lock()


@contextmanager
def fused_mode(new_mode: str) -> Iterator[None]:
    """Temporarily run with `new_mode` ("auto", "always" or "never")."""
    global mode
    if new_mode not in MODES:
        raise ActlabError(f"fused mode must be one of {', '.join(MODES)}, got {new_mode!r}")
    old, mode = mode, new_mode
    try:
        yield
    finally:
        mode = old


def reset_amortisation() -> None:
    """Forget the elements counted toward AMORTISED_NUMEL: what runs next chooses its paths as in
    a fresh process. The training loops (`actlab.train.fit`, `train_regression`, `train_pinn`) call
    it at the start of every run, so that a run's numbers do not depend on what ran before it in
    the process (the fused and eager formulas agree only to rounding, which training amplifies).
    Compiled kernels are kept."""
    _eager_numel.clear()


def cpu_usable(x: torch.Tensor, name: Optional[str] = None) -> bool:
    """Whether the compiled CPU path should run on x now: x is at least MIN_NUMEL elements,
    or activation `name`'s smaller tensors have already run AMORTISED_NUMEL elements eagerly."""
    if mode == "never" or not x.is_cpu or x.dtype not in FUSED_DTYPES:
        return False
    if torch.compiler.is_compiling():
        return False
    if x.numel() >= (2 if mode == "always" else MIN_NUMEL):  # 0 or 1 element: not worth a kernel call
        return True
    if name is None or mode == "always":
        return False
    seen = _eager_numel[name] = _eager_numel.get(name, 0) + x.numel()
    return seen >= AMORTISED_NUMEL


def _example(t: torch.Tensor) -> torch.Tensor:
    # tracing gives every dimension a symbol, except sizes 0 and 1, which it bakes in:
    # trace on a stand-in with no such size, so that one kernel serves every size.
    return torch.zeros([max(n, 2) for n in t.shape], dtype=t.dtype)


def _compile(fn: Callable, args: Sequence[torch.Tensor]) -> Callable:
    """fn compiled by inductor for inputs like args, every dimension dynamic.

    The graph is traced once (make_fx, symbolic shapes) and handed to inductor directly;
    torch.compile would put dynamo's frame evaluation and guards in front of every call,
    which costs 3x the kernel's own launch cost and 60 µs per call once a large matmul
    has evicted them from the caches (docs/performance.md).
    """
    from torch.fx.experimental.proxy_tensor import make_fx

    with torch.no_grad():
        graph = make_fx(fn, tracing_mode="symbolic")(*[_example(a) for a in args])
    fakes = [node.meta["val"] for node in graph.graph.nodes if node.op == "placeholder"]
    return _generated_call(torch._inductor.compile(graph, fakes))


def _generated_call(compiled: Callable) -> Callable:
    """The `call(args)` inductor generated for `compiled`, taking the arguments unboxed.

    torch._inductor.compile wraps it in aot_autograd's runtime wrapper and inductor's
    graph object, about 60 Python calls that do nothing for these graphs (no autograd, no
    mutated or aliased inputs, CPU kernels with nothing to autotune) and cost 5–7 µs
    per call in a network (docs/performance.md). A torch whose wrappers differ keeps them."""
    inner = compiled
    while hasattr(inner, "__wrapped__"):
        inner = inner.__wrapped__
    call = getattr(inner, "current_callable", None)
    if call is None:
        return compiled
    return lambda *args: call(list(args))  # boxed: the generated call empties its list


def _fail(key: tuple, exc: Exception) -> None:
    """Record that kernel `key` cannot run; the reference formulas run for it from now on."""
    _compiled.pop(key, None)
    if key not in failed:
        failed[key] = f"{type(exc).__name__}: {str(exc)[:300]}"
        warnings.warn(f"actlab: the fused CPU kernel {key[:3]} is unavailable ({failed[key]}); the reference "
                      "formulas run for it instead", RuntimeWarning, stacklevel=4)


def _kernel(key: tuple, make: Callable[[], Callable], args: Sequence[torch.Tensor]) -> Optional[Callable]:
    """The compiled `make()` for `key`, compiled at its first use (once, whatever the
    number of threads asking); None if it could not be compiled."""
    fn = _compiled.get(key)
    if fn is None and key not in failed:
        with _compile_lock:
            fn = _compiled.get(key)  # another thread may have compiled it while this one waited
            if fn is None and key not in failed:
                try:
                    fn = _compiled[key] = _compile(make(), args)
                except Exception as exc:  # no compiler, unsupported platform, ...: this kernel runs eager
                    _fail(key, exc)
    return fn


def _run(key: tuple, make: Callable[[], Callable], *args: torch.Tensor) -> Optional[list]:
    """The outputs of the compiled `make()` (built once per key) on args; None if it is unavailable."""
    global runs
    key += (torch.get_num_threads() > 1,)  # inductor emits the OpenMP loop only when threads > 1
    args = [a.contiguous() for a in args]  # the kernels index densely (a gradient may come expanded)
    fn = _kernel(key, make, args)
    if fn is None:
        return None
    try:
        out = fn(*args)
    except Exception as exc:  # a kernel that compiled but cannot run here
        _fail(key, exc)
        return None
    runs += 1
    return out


def elementwise_value(name: str, value: Callable, x: torch.Tensor, params: Sequence[torch.Tensor],
                      dt: torch.dtype, constants: Optional[tuple[float, ...]] = None,
                      table: bool = False) -> Optional[torch.Tensor]:
    """value(x, *params) computed in dt, in one fused kernel; None if unavailable.
    With `constants` (the parameters' values) the kernel is compiled for those values.
    With `table` too, 16-bit inputs read their result from a table (see _value_table)."""
    out_dtype = x.dtype
    if table and constants is not None and x.element_size() == 2:
        values = _value_table(name, value, x.dtype, constants)
        out = _run(("lookup", "table value", x.dtype), lambda: _lookup, x.reshape(-1), values)  # one kernel, every table
        return None if out is None else out[0].view(x.shape)

    def make():
        def fused_value(x, *p):
            return [value(x.to(dt), *(constants or p)).to(out_dtype)]
        return fused_value

    args = (x.reshape(-1),) if constants else (x.reshape(-1), *params)
    out = _run((name, "value", x.dtype, constants or len(params)), make, *args)
    return None if out is None else out[0].view(x.shape)


# A 16-bit dtype has 65 536 values: for fixed parameters, the forward of a formula that
# costs more than a gather (Zorro: an exponential and a division per element) reads
# value(x) from a table of every input's result, computed once by the reference formula
# in float32 with the parameters as numbers (as the compiled kernels take them), rounded.
_tables: dict[tuple, torch.Tensor] = {}


def _value_table(name: str, value: Callable, dtype: torch.dtype, constants: tuple[float, ...]) -> torch.Tensor:
    """value at every bit pattern of dtype, as int16 bits, indexed by the pattern read as unsigned."""
    key = (name, dtype, constants)
    if key not in _tables:
        every = torch.arange(1 << 16, dtype=torch.int32).to(torch.int16).view(dtype)
        _tables[key] = value(every.float(), *constants).to(dtype).view(torch.int16)
    return _tables[key]


def _lookup(x, table):  # no annotations: traced, they would become graph globals that inductor's cache cannot key
    """[table[bits of x]] as x's dtype: the traced forward of the table path."""
    return [table[x.view(torch.int16).to(torch.int32) & 0xFFFF].view(x.dtype)]


def elementwise_grads(name: str, derivative: Callable, partials: Callable, x: torch.Tensor, grad: torch.Tensor,
                      params: Sequence[torch.Tensor], needs: tuple[bool, ...], dt: torch.dtype,
                      constants: Optional[tuple[float, ...]] = None) -> Optional[tuple]:
    """(grad_x, *grad_params) with None where not needed; grad_x = g·derivative(x) in
    one kernel, each parameter's Σ g·∂y/∂p fused with its reduction. None if unavailable.
    With `constants` (only when no parameter gradient is needed) the kernel is compiled for them."""
    out_dtype = x.dtype

    def make():
        def fused_grads(x, g, *p):
            xc, gc = x.to(dt), g.to(dt)
            out = [(gc * derivative(xc, *(constants or p))).to(out_dtype)] if needs[0] else []
            if any(needs[1:]):
                out += [(gc * d).sum() for need, d in zip(needs[1:], partials(xc, *p)) if need]
            return out

        return fused_grads

    flat = (x.reshape(-1), grad.reshape(-1))
    out = _run((name, "grads", x.dtype, needs, constants), make, *(flat if constants else (*flat, *params)))
    if out is None:
        return None
    it = iter(out)
    grads: list = [next(it).view(x.shape) if needs[0] else None]
    grads += [next(it).to(p.dtype).reshape(p.shape) if need else None for need, p in zip(needs[1:], params)]
    return tuple(grads)


# Groups up to this size are compiled for their size, so that the loop over a group
# unrolls; larger ones (the whole vector) as rows of any width: one kernel for every width.
SMALL_GROUP = 16


def _group_key(xg: torch.Tensor) -> Optional[int]:
    g = xg.shape[-1]
    return g if g <= SMALL_GROUP else None


def _group_input(t: torch.Tensor) -> torch.Tensor:
    g = t.shape[-1]
    return t.reshape(-1) if g <= SMALL_GROUP else t.reshape(-1, g).contiguous()


def _as_rows(x: torch.Tensor, g: int) -> torch.Tensor:
    return x.view(-1, g) if g <= SMALL_GROUP else x


# Pairs travel as wide integer words, so that inductor emits full vector loads and
# stores: x[0::2] and x[1::2], or a reduction over a group axis of size 2, compile to a
# scalar loop per pair. float32 pairs are int64 words; 16-bit pairs int32 words, widened
# to float32 and rounded back with integer arithmetic (inductor runs the int16 <->
# bfloat16/float16 bit casts as scalar loops). Little-endian: the even element is the
# low half of its word.
_HIGH16 = -(1 << 16)  # 0xFFFF0000 as an int32


def _pair_words(t: torch.Tensor) -> torch.Tensor:
    """The flat pairs of t as words (see above)."""
    flat = t.reshape(-1)
    if flat.storage_offset() % 2 or flat.stride(0) != 1:  # a gradient may come expanded
        flat = flat.clone()  # the wide view needs aligned pairs
    return flat.view(torch.int32 if t.element_size() == 2 else torch.int64)


def _halves(w: torch.Tensor, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """The even and odd elements of words w of dtype pairs as two dense float32 tensors (exact)."""
    if dtype == torch.bfloat16:  # the upper half of a float32
        return (w << 16).view(torch.float32), (w & _HIGH16).view(torch.float32)
    if dtype == torch.float16:
        return _f16_widened(w), _f16_widened(w >> 16)
    return (w & 0xFFFFFFFF).to(torch.int32).view(torch.float32), (w >> 32).to(torch.int32).view(torch.float32)


def _interleaved(a: torch.Tensor, b: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """The inverse of _halves: words of dtype pairs with a at even and b at odd positions."""
    if dtype == torch.bfloat16:
        return (_bf16_rounded(b) & _HIGH16) | ((_bf16_rounded(a) >> 16) & 0xFFFF)
    if dtype == torch.float16:
        return (_f16_rounded(b) << 16) | _f16_rounded(a)
    low = a.view(torch.int32).to(torch.int64) & 0xFFFFFFFF
    return low | (b.view(torch.int32).to(torch.int64) << 32)


def _bf16_rounded(y: torch.Tensor) -> torch.Tensor:
    """float32 y as int32 bits whose upper half is y rounded to bfloat16, to nearest, ties
    to even, NaN to 0x7FC0: what torch's .to(torch.bfloat16) gives."""
    # y != y is NaN: inductor vectorises that comparison, isnan it runs through a scalar loop
    bits = torch.where(y != y, 0x7FC00000, y.view(torch.int32))
    return bits + (((bits >> 16) & 1) + 0x7FFF)


def _f16_widened(h: torch.Tensor) -> torch.Tensor:
    """The float16 whose bits are the low 16 of int32 h, as float32 (exact): exponent and
    mantissa moved into place and rebiased (by 112 = 127 − 15), all-ones exponents kept
    all ones (infinity, NaN), subnormals as their mantissa times 2⁻²⁴."""
    magnitude = h & 0x7FFF
    shifted = magnitude << 13
    bits = torch.where(magnitude >= 0x7C00, shifted | 0x7F800000, shifted + (112 << 23))
    value = torch.where(magnitude < 0x400, magnitude.to(torch.float32) * 2.0 ** -24, bits.view(torch.float32))
    return torch.where((h & 0x8000) != 0, -value, value)


def _f16_rounded(y: torch.Tensor) -> torch.Tensor:
    """float32 y rounded to float16, to nearest, ties to even, as int32 bits in the low 16
    (the upper 16 zero): what torch's .to(torch.float16) gives, NaN as 0x7E00. Normal
    results round the mantissa's 13 dropped bits (+0xFFF, +1 if the kept part is odd);
    subnormal ones are counted in units of 2⁻²⁴ by the float addition |y| + 0.5, whose
    own rounding is the one wanted."""
    bits = y.view(torch.int32)
    magnitude = bits & 0x7FFFFFFF
    normal = (magnitude + ((15 - 127) << 23) + 0xFFF + ((magnitude >> 13) & 1)) >> 13
    subnormal = (y.abs() + 0.5).view(torch.int32) - 0x3F000000
    rounded = torch.where(magnitude < (113 << 23), subnormal, normal)  # rounding up past 65504 gives 0x7C00
    rounded = torch.where(magnitude >= (143 << 23), 0x7C00, rounded)  # overflow and infinity
    rounded = torch.where(magnitude > 0x7F800000, 0x7E00, rounded)  # NaN
    return rounded | ((bits >> 16) & 0x8000)


def _pairs_usable(xg: torch.Tensor, pair: Optional[Callable]) -> bool:
    return pair is not None and xg.shape[-1] == 2 and sys.byteorder == "little"


def group_value(name: str, value: Callable, xg: torch.Tensor, dt: torch.dtype,
                pair: Optional[Callable] = None) -> Optional[torch.Tensor]:
    """value(xg) of a group activation (reducing over the last axis), in one fused kernel.
    For groups of two, `pair(a, b)` gives both components of the pairs (a, b) (see _pair_words)."""
    out_dtype = xg.dtype
    if _pairs_usable(xg, pair):
        def make():
            def fused_pair_value(w):
                return [_interleaved(*pair(*_halves(w, out_dtype)), out_dtype)]
            return fused_pair_value

        out = _run((name, "pair value", xg.dtype), make, _pair_words(xg))
        return None if out is None else out[0].view(out_dtype).view(xg.shape)

    g = xg.shape[-1]

    def make():
        def fused_group_value(x):
            return [value(_as_rows(x, g).to(dt)).to(out_dtype)]
        return fused_group_value

    out = _run((name, "value", xg.dtype, _group_key(xg)), make, _group_input(xg))
    return None if out is None else out[0].view(xg.shape)


def group_vjp(name: str, vjp: Callable, xg: torch.Tensor, grad: torch.Tensor, dt: torch.dtype,
              pair: Optional[Callable] = None) -> Optional[torch.Tensor]:
    """vjp(xg, grad) of a group activation, in one fused kernel. For groups of two,
    `pair(a, b, g_a, g_b)` gives both components of the pairs' Jᵀg."""
    out_dtype = xg.dtype
    if _pairs_usable(xg, pair):
        def make():
            def fused_pair_vjp(w, gw):
                return [_interleaved(*pair(*_halves(w, out_dtype), *_halves(gw, out_dtype)), out_dtype)]
            return fused_pair_vjp

        out = _run((name, "pair vjp", xg.dtype), make, _pair_words(xg), _pair_words(grad))
        return None if out is None else out[0].view(out_dtype).view(xg.shape)

    size = xg.shape[-1]

    def make():
        def fused_group_vjp(x, g):
            return [vjp(_as_rows(x, size).to(dt), _as_rows(g, size).to(dt)).to(out_dtype)]
        return fused_group_vjp

    out = _run((name, "vjp", xg.dtype, _group_key(xg)), make, _group_input(xg), _group_input(grad))
    return None if out is None else out[0].view(xg.shape)
