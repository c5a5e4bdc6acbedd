"""Custom autograd Functions that save only their input for backward.

An activation is described by three pure functions of float tensors:

    value(x, *params)          -> y
    derivative(x, *params)     -> dy/dx           (elementwise)
    param_partials(x, *params) -> (dy/dp_1, ...)  (elementwise, one per parameter)

`elementwise_function` turns them into a torch.autograd.Function whose forward
saves x (and the 0-d parameter tensors) and whose backward recomputes what it
needs from x. Half-precision inputs are computed in float32 and cast back.

Forward and backward run fused where they can (see actlab.activations.fused):
Triton kernels for CUDA tensors, the compiled reference formulas for large CPU
tensors, the eager reference otherwise. A double backward (create_graph) always
runs the reference backward, written in differentiable torch ops, so
gradgradcheck and PDE residuals work.
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

import torch

from . import fused, kernels
from .kernels import ElementwiseKernel

Fn = Callable[..., torch.Tensor]


def compute_dtype(x: torch.Tensor) -> torch.dtype:
    return torch.float32 if x.dtype in (torch.float16, torch.bfloat16) else x.dtype


def _cast(x: torch.Tensor, params: Sequence[torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor]]:
    dt = compute_dtype(x)
    return x.to(dt), [p.to(dt) for p in params]


def _reduce_to(grad: torch.Tensor, param: torch.Tensor) -> torch.Tensor:
    return grad.sum().to(param.dtype).reshape(param.shape)


def elementwise_function(name: str, value: Fn, derivative: Fn, param_partials: Fn,
                         kernel: Optional[ElementwiseKernel] = None,
                         constant_params: bool = False, table_forward: bool = False) -> type[torch.autograd.Function]:
    """Build the autograd.Function `name` from the value/derivative/partials triple;
    `kernel` says how it runs on the Triton kernels (None: CUDA runs the reference).
    constant_params: value and derivative also accept Python floats for the parameters;
    the fused CPU path then compiles a kernel for the values of fixed parameters (none
    requires grad; e.g. RePU's p = 2 as a product instead of exp(p·ln z)). Learnable ones
    keep the generic kernel, under no_grad too: their values change at every step.
    table_forward (with constant_params): on the fused CPU path, 16-bit inputs with fixed
    parameters read value(x) from a table of all 65 536 inputs, for formulas that cost
    more than a gather."""

    def constants(params: Sequence[torch.Tensor]) -> Optional[tuple[float, ...]]:
        # a learnable parameter requires grad (Activation.param), or was computed under inference_mode
        fixed = constant_params and not any(p.requires_grad or p.is_inference() for p in params)
        return tuple(map(float, params)) if fixed else None

    def forward(ctx, x: torch.Tensor, *params: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x, *params)
        if kernels.usable(x, kernel):
            return kernels.elementwise_forward(kernel, x, params)
        if fused.cpu_usable(x, name):
            ctx.constants = constants(params)  # the backward's too
            y = fused.elementwise_value(name, value, x, params, compute_dtype(x), ctx.constants, table_forward)
            if y is not None:
                return y
        xc, pc = _cast(x, params)
        return value(xc, *pc).to(x.dtype)

    def backward(ctx, grad: torch.Tensor):
        x, *params = ctx.saved_tensors
        needs = ctx.needs_input_grad
        if not torch.is_grad_enabled():  # create_graph needs the differentiable reference below
            if kernels.usable(x, kernel):
                return kernels.elementwise_backward(kernel, x, grad, params, needs)
            if fused.cpu_usable(x, name):
                grads = fused.elementwise_grads(name, derivative, param_partials, x, grad, params, needs,
                                                compute_dtype(x), getattr(ctx, "constants", None))
                if grads is not None:
                    return grads
        xc, pc = _cast(x, params)
        g = grad.to(xc.dtype)
        grad_x = (g * derivative(xc, *pc)).to(x.dtype) if needs[0] else None
        grad_params: list = [None] * len(params)
        if any(needs[1:]):
            for i, (p, d) in enumerate(zip(params, param_partials(xc, *pc))):
                if needs[i + 1]:
                    grad_params[i] = _reduce_to(g * d, p)
        return (grad_x, *grad_params)

    return type(name, (torch.autograd.Function,), {
        "forward": staticmethod(forward),
        "backward": staticmethod(backward),
        "kernel": kernel,
        "__doc__": f"Autograd Function for {value.__module__}.{value.__name__}: saves only its input.",
    })


def _as_param(p, dt: torch.dtype, device: torch.device) -> torch.Tensor:
    """p as a tensor of dt on device that still says whether p is learnable: under
    no_grad a converted copy would not require grad, and would pass for a fixed value."""
    t = torch.as_tensor(p, dtype=dt, device=device)
    if isinstance(p, torch.Tensor) and p.requires_grad and not t.requires_grad:
        t = t.detach().requires_grad_()
    return t


def check_floating(x: torch.Tensor, name: str) -> None:
    """Raise as torch's GELU does for an integer (or boolean) input, which the formulas would
    otherwise compute in integer arithmetic, silently truncated."""
    if not x.is_floating_point():
        raise RuntimeError(f"{name} is not implemented for {x.dtype}: activations need a floating-point "
                           "input (convert it with x.float())")


def tracing_reference(x: torch.Tensor, params: Sequence[torch.Tensor] = ()) -> bool:
    """Whether this call should trace the reference formula instead of the Function: under
    an ONNX export, and when torch.compile traces an inference (no gradient needed), where a
    Function adds nothing that inductor does not fuse itself and its forward's
    save_for_backward has no tensor to save (a fullgraph compile would fail)."""
    if not (torch.jit.is_tracing() or torch.compiler.is_compiling()):
        return False
    if not torch.is_grad_enabled() or not (x.requires_grad or any(p.requires_grad for p in params)):
        return True
    return torch.onnx.is_in_onnx_export()


def apply(function: type[torch.autograd.Function], reference: Fn, x: torch.Tensor, *params: torch.Tensor) -> torch.Tensor:
    """Run `function` on x; trace the reference formula instead where `tracing_reference`
    says so (a custom Function has no ONNX symbolic)."""
    check_floating(x, function.__name__)
    dt, device = compute_dtype(x), x.device
    params = tuple(p if isinstance(p, torch.Tensor) and p.dtype == dt and p.device == device
                   else _as_param(p, dt, device) for p in params)
    if tracing_reference(x, params):
        xc, pc = _cast(x, params)
        return reference(xc, *pc).to(x.dtype)
    return function.apply(x, *params)
