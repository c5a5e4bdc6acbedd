"""Fused GPU kernels (Triton) behind the activations' autograd Functions.

Used automatically for CUDA tensors of dtype float32, float16 or bfloat16 (math in
float32) when triton can be imported; a user never picks a kernel. The kernels
restate the reference formulas (triton cannot run torch code), with the same
names, in one module, `triton_kernels`, and tests check them against the
reference: values, grad_x and parameter gradients, at the breakpoints and for NaN.

One forward and one backward kernel per family:
    "repu", "mrepu"   elementwise, parameter p
    "zorro"           the general Zorro core Z(x; a_n, b_n, a_p, b_p, m) behind an
                      affine wrapper y = gain·Z(scale·s·x + shift) + offset, which
                      covers Symmetric-, Asymmetric-, Sloped-, Sigmoid- and Tanh-Zorro
    radial bounding   rows of any group size; groups larger than a block (the whole
                      vector) are a row reduction in chunks
Parameter gradients: each block writes its partial sums, then one sum over blocks.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional, Sequence

import torch

from .. import fused

KERNEL_DTYPES = (torch.float32, torch.float16, torch.bfloat16)
ZORRO_CORE = ("a_n", "b_n", "a_p", "b_p", "m", "s")


@dataclass(frozen=True)
class ElementwiseKernel:
    """How an elementwise activation runs on the Triton kernels.

    kind: "repu", "mrepu" (parameter p at position 0) or "zorro".
    params: for "zorro", the position of each core parameter ZORRO_CORE among the
        activation's parameters; -1 where the activation has none (then m = 0, s = 1).
    affine: (scale, shift, gain, offset) of y = gain·Z(scale·s·x + shift) + offset.
    """

    kind: str
    params: tuple[int, ...] = (0,)
    affine: tuple[float, float, float, float] = (1.0, 0.0, 1.0, 0.0)


@lru_cache(maxsize=None)
def available() -> bool:
    """Whether triton can be imported (checked once)."""
    try:
        importlib.import_module("triton")
    except Exception:  # ImportError, or a broken install raising anything else
        return False
    return True


def usable(x: torch.Tensor, kernel: Optional[ElementwiseKernel] = None, group: bool = False) -> bool:
    """Whether the Triton kernels should run on x now."""
    return ((kernel is not None or group) and x.is_cuda and x.dtype in KERNEL_DTYPES and fused.mode != "never"
            and not torch.compiler.is_compiling() and available())


def _impl():
    from . import triton_kernels

    return triton_kernels


def elementwise_forward(kernel: ElementwiseKernel, x: torch.Tensor, params: Sequence[torch.Tensor]) -> torch.Tensor:
    """y = activation(x) in one kernel."""
    return _impl().elementwise_forward(kernel, x, params)


def elementwise_backward(kernel: ElementwiseKernel, x: torch.Tensor, grad: torch.Tensor,
                         params: Sequence[torch.Tensor], needs: Sequence[bool]) -> tuple:
    """(grad_x, *grad_params), None where not needed, in one kernel plus a sum over blocks."""
    return _impl().elementwise_backward(kernel, x, grad, params, needs)


def radial_forward(xg: torch.Tensor) -> torch.Tensor:
    """Radial Bounding over the last axis of xg."""
    return _impl().radial_forward(xg)


def radial_backward(xg: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    """Jᵀg of Radial Bounding over the last axis of xg."""
    return _impl().radial_backward(xg, grad)
