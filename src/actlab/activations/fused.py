"""Which path an activation runs, and the fused CPU path.

The autograd Functions have three paths, chosen per call, never by the user:

    CUDA tensor, triton importable     Triton kernels (actlab.activations.kernels)
    CPU tensor, large enough           the reference formulas compiled by torch.compile
                                       (inductor's fused C++ pointwise kernels)
    otherwise                          the reference formulas, eager

The fused CPU path runs the *same* value / derivative / partials functions as the
reference (one source of truth), so an activation reads x once and writes y once
instead of making one memory pass per elementary op:

    forward     y      = value(x, *p)                     one kernel
    backward    grad_x = g·derivative(x, *p)              one kernel
                grad_p = Σ g·∂value/∂p                    fused with its reduction

It is used for CPU tensors of a training dtype (float32, bfloat16, float16;
float64 is for gradcheck and analysis and stays on the reference path) with at
least MIN_NUMEL elements (below that, the call overhead of a compiled function
exceeds the eager cost; see docs/performance.md), never inside an enclosing
torch.compile (which fuses the reference formulas itself) and never in a double
backward (create_graph: the differentiable reference backward runs).

Compilation happens once per (activation, dtype) at first use, with dynamic
shapes; inputs are flattened so that the rank does not matter either.
If it fails (no C++ compiler, ...), a warning is issued once and the reference
path runs from then on.

The environment variable ACTLAB_FUSED selects the mode at import:
    0 / off      the reference path everywhere (CPU and GPU)
    1 / on       the fused paths for every size
    auto (unset) as described above
`fused_mode(...)` changes it temporarily.
"""
from __future__ import annotations

import os
import types
import warnings
from contextlib import contextmanager
from typing import Callable, Iterator, Optional, Sequence

import torch

from ..errors import ActlabError

MODES = ("auto", "always", "never")
FUSED_DTYPES = (torch.float32, torch.bfloat16, torch.float16)
# Below this size the first-use compilation (seconds per activation and dtype) does
# not pay off for small models and tests, and the compiled kernel's fixed call cost
# weighs more; above it the fused path is 3.5-30x faster (docs/performance.md).
MIN_NUMEL = 1 << 16

_ENV = {"0": "never", "off": "never", "false": "never", "1": "always", "on": "always", "true": "always"}
mode: str = _ENV.get(os.environ.get("ACTLAB_FUSED", "auto").strip().lower(), "auto")

_compiled: dict[tuple, Callable] = {}
_broken = False


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


def cpu_usable(x: torch.Tensor) -> bool:
    """Whether the compiled CPU path should run on x now."""
    if mode == "never" or _broken or x.device.type != "cpu" or x.dtype not in FUSED_DTYPES:
        return False
    if torch.compiler.is_compiling():
        return False
    return x.numel() >= (2 if mode == "always" else MIN_NUMEL)  # sizes 0 and 1 would each recompile


def _own_code(fn: Callable) -> Callable:
    # dynamo keeps its cache (and its recompile limit) per code object; closures of
    # one `def` share theirs, so each compiled function gets a copy of its own.
    return types.FunctionType(fn.__code__.replace(), fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)


def _run(key: tuple, make: Callable[[], Callable], *args: torch.Tensor, dynamic: Optional[bool] = True):
    """The compiled `make()` (built once per key) applied to args; None if compiling failed."""
    global _broken
    fn = _compiled.get(key)
    try:
        if fn is None:
            fn = _compiled[key] = torch.compile(_own_code(make()), dynamic=dynamic, fullgraph=True)
        return fn(*args)
    except Exception as exc:  # no compiler, unsupported platform, ...: any failure means eager
        _broken = True
        _compiled.pop(key, None)
        warnings.warn(f"actlab: the fused CPU path is unavailable ({type(exc).__name__}: {str(exc)[:300]}); "
                      "the reference formulas run instead", RuntimeWarning, stacklevel=3)
        return None


def elementwise_value(name: str, value: Callable, x: torch.Tensor, params: Sequence[torch.Tensor],
                      dt: torch.dtype) -> Optional[torch.Tensor]:
    """value(x, *params) computed in dt, in one fused kernel; None if unavailable."""
    out_dtype = x.dtype

    def make():
        def fused_value(x, *p):
            return value(x.to(dt), *p).to(out_dtype)
        return fused_value

    y = _run((name, "value", x.dtype, len(params)), make, x.reshape(-1), *params)
    return None if y is None else y.view(x.shape)


def elementwise_grads(name: str, derivative: Callable, partials: Callable, x: torch.Tensor, grad: torch.Tensor,
                      params: Sequence[torch.Tensor], needs: Sequence[bool], dt: torch.dtype) -> Optional[tuple]:
    """(grad_x, *grad_params) with None where not needed; grad_x = g·derivative(x) in
    one kernel, each parameter's Σ g·∂y/∂p fused with its reduction. None if unavailable."""
    needs = tuple(bool(n) for n in needs)
    out_dtype = x.dtype

    def make():
        def fused_grads(x, g, *p):
            xc, gc = x.to(dt), g.to(dt)
            out = [(gc * derivative(xc, *p)).to(out_dtype)] if needs[0] else []
            if any(needs[1:]):
                out += [(gc * d).sum() for need, d in zip(needs[1:], partials(xc, *p)) if need]
            return out

        return fused_grads

    out = _run((name, "grads", x.dtype, needs), make, x.reshape(-1), grad.reshape(-1), *params)
    if out is None:
        return None
    it = iter(out)
    grads: list = [next(it).view(x.shape) if needs[0] else None]
    grads += [next(it).to(p.dtype).reshape(p.shape) if need else None for need, p in zip(needs[1:], params)]
    return tuple(grads)


def _rows(xg: torch.Tensor) -> torch.Tensor:
    rows = xg.reshape(-1, xg.shape[-1])
    torch._dynamo.maybe_mark_dynamic(rows, 0)
    return rows


def _group_key(xg: torch.Tensor):
    # small groups (pairs, ...) are specialised so that the group loop unrolls;
    # large ones (the whole vector) stay dynamic: one kernel for every width.
    g = xg.shape[-1]
    return g if g <= 16 else None


def group_value(name: str, value: Callable, xg: torch.Tensor, dt: torch.dtype) -> Optional[torch.Tensor]:
    """value(xg) of a group activation (reducing over the last axis), in one fused kernel."""
    out_dtype = xg.dtype

    def make():
        def fused_group_value(x):
            return value(x.to(dt)).to(out_dtype)
        return fused_group_value

    key = _group_key(xg)
    y = _run((name, "value", xg.dtype, key), make, _rows(xg), dynamic=None if key else True)
    return None if y is None else y.view(xg.shape)


def group_vjp(name: str, vjp: Callable, xg: torch.Tensor, grad: torch.Tensor, dt: torch.dtype) -> Optional[torch.Tensor]:
    """vjp(xg, grad) of a group activation, in one fused kernel."""
    out_dtype = xg.dtype

    def make():
        def fused_group_vjp(x, g):
            return vjp(x.to(dt), g.to(dt)).to(out_dtype)
        return fused_group_vjp

    key = _group_key(xg)
    gx = _run((name, "vjp", xg.dtype, key), make, _rows(xg), _rows(grad), dynamic=None if key else True)
    return None if gx is None else gx.view(xg.shape)
