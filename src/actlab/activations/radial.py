"""Radial Bounding (Goo, Yun, Jung, 'Z-Plane Neural Networks', arXiv 2606.15669).

    RB(x) = x / max(1, ‖x‖₂)        per group of `group_size` consecutive features

the Euclidean projection of each group onto the unit ball. group_size = 2 reads
each pair as a complex number (a "phasor"); group_size = None is the whole vector.
Jacobian per group: I inside the ball, (I − x̂x̂ᵀ)/‖x‖ outside (radial direction
killed, tangential directions scaled by 1/‖x‖); at ‖x‖ = 1 the inside branch.
Computed as x·rsqrt(max(1, Σx²)), which never divides by ‖x‖ at x = 0; groups too
large for Σx² in float32 are divided by their largest component first (see LARGE),
so a huge vector maps to its unit vector and ±inf components to their direction.
"""
from __future__ import annotations

from typing import Optional

import torch

from ..errors import ActlabError
from . import fused, kernels
from .autograd import check_floating, compute_dtype, tracing_reference
from .base import Activation, ActivationInfo
from .describe import describe
from .registry import register

SOURCE = "Goo, Yun, Jung, 'Z-Plane Neural Networks: Bounded Geometric Activation Replaces ReLU and LayerNorm', arXiv 2606.15669"


def _grouped(x: torch.Tensor, group_size: Optional[int], dim: int) -> torch.Tensor:
    """View x as (..., groups, group_size) with the group axis last."""
    x = x.movedim(dim, -1)
    n = x.shape[-1]
    g = n if group_size is None else group_size
    if g == 0 or n % g:
        raise ActlabError(f"radial_bounding: group_size={group_size} must divide the size {n} of dim {dim}")
    return x.reshape(*x.shape[:-1], n // g, g)


def _ungrouped(y: torch.Tensor, like: torch.Tensor, dim: int) -> torch.Tensor:
    return y.reshape(like.movedim(dim, -1).shape).movedim(-1, dim)


# Σx² overflows float32 once |x| ≳ 1.8e19 (and x·rsqrt(inf) is 0): groups whose largest
# component exceeds this are divided by it first, RB(x) = RB(x/m) there, since both lie
# outside the ball and have the same direction. Below it Σx² cannot overflow (g < 2^48).
LARGE = 2.0 ** 40


def rb_scaled(x: torch.Tensor, amax: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(u, m): the components u = x/m of groups whose largest |component| is amax, with
    m = amax for large groups and 1 otherwise (u = x exactly). An infinite component
    becomes ±1 and the finite ones 0: the limit of RB along it."""
    m = torch.where(amax > LARGE, amax, torch.ones_like(amax))
    return torch.where(torch.isinf(x), torch.sign(x), x / m), m


def rb_component(u: torch.Tensor, usq: torch.Tensor) -> torch.Tensor:
    """u · rsqrt(max(1, usq)): the components of RB for scaled groups u with Σu² = usq."""
    return u * torch.rsqrt(usq.clamp_min(1.0))


def rb_component_vjp(u: torch.Tensor, g: torch.Tensor, usq: torch.Tensor, dot: torch.Tensor,
                     m: torch.Tensor) -> torch.Tensor:
    """The components of Jᵀg for scaled groups u = x/m with Σu² = usq and dot = u·g:
    g inside the ball, (g − u·dot/usq)/(m·√usq) = (g − x̂(x̂·g))/‖x‖ outside."""
    outside = (usq > 1) | (m > 1)
    s = torch.where(outside, usq, torch.ones_like(usq))
    return torch.where(outside, (g - u * dot / s) * torch.rsqrt(s) / m, g)


def rb_value(xg: torch.Tensor) -> torch.Tensor:
    """RB on the last axis: rb_component(u, Σu²) of the scaled groups."""
    u, _ = rb_scaled(xg, xg.abs().amax(-1, keepdim=True))
    return rb_component(u, (u * u).sum(-1, keepdim=True))


def rb_vjp(xg: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Jᵀg on the last axis: rb_component_vjp(u, g, Σu², Σu·g, m) of the scaled groups."""
    u, m = rb_scaled(xg, xg.abs().amax(-1, keepdim=True))
    return rb_component_vjp(u, g, (u * u).sum(-1, keepdim=True), (u * g).sum(-1, keepdim=True), m)


def rb_pair(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """RB of the pairs (a, b), componentwise (the fused path's pairs; see rb_value)."""
    (ua, m), (ub, _) = [rb_scaled(c, torch.maximum(a.abs(), b.abs())) for c in (a, b)]
    usq = ua * ua + ub * ub
    return rb_component(ua, usq), rb_component(ub, usq)


def rb_pair_vjp(a: torch.Tensor, b: torch.Tensor, ga: torch.Tensor, gb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Jᵀg of the pairs (a, b) with gradients (ga, gb), componentwise (see rb_vjp)."""
    (ua, m), (ub, _) = [rb_scaled(c, torch.maximum(a.abs(), b.abs())) for c in (a, b)]
    usq, dot = ua * ua + ub * ub, ua * ga + ub * gb
    return rb_component_vjp(ua, ga, usq, dot, m), rb_component_vjp(ub, gb, usq, dot, m)


class RadialBoundingFunction(torch.autograd.Function):
    """RB on the last axis of a grouped tensor; saves only its input. Runs the Triton
    kernels on CUDA, the compiled reference on large CPU tensors (see actlab.activations.fused)."""

    @staticmethod
    def forward(ctx, xg: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(xg)
        if kernels.usable(xg, group=True):
            return kernels.radial_forward(xg)
        if fused.cpu_usable(xg, "radial_bounding"):
            y = fused.group_value("radial_bounding", rb_value, xg, compute_dtype(xg), pair=rb_pair)
            if y is not None:
                return y
        return rb_value(xg.to(compute_dtype(xg))).to(xg.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (xg,) = ctx.saved_tensors
        dt = compute_dtype(xg)
        if not torch.is_grad_enabled():  # create_graph needs the differentiable reference below
            if kernels.usable(xg, group=True):
                return kernels.radial_backward(xg, grad)
            if fused.cpu_usable(xg, "radial_bounding"):
                gx = fused.group_vjp("radial_bounding", rb_vjp, xg, grad, dt, pair=rb_pair_vjp)
                if gx is not None:
                    return gx
        return rb_vjp(xg.to(dt), grad.to(dt)).to(xg.dtype)


def radial_bounding(x: torch.Tensor, group_size: Optional[int] = 2, dim: int = -1) -> torch.Tensor:
    """RB(x) = x / max(1, ‖x‖) per group of `group_size` features along `dim`
    (None: the whole vector). See `RadialBounding`."""
    check_floating(x, "radial_bounding")
    xg = _grouped(x, group_size, dim)
    if tracing_reference(xg):
        yg = rb_value(xg.to(compute_dtype(xg))).to(x.dtype)
    else:
        yg = RadialBoundingFunction.apply(xg)
    return _ungrouped(yg, x, dim)


@register("radial_bounding")
class RadialBounding(Activation):
    """Radial Bounding: project each group of features onto the unit ball.

    RB(x) = x / max(1, ‖x‖₂) per group of `group_size` consecutive features along
    `dim` (2: phasor pairs, the default; None or 0: the whole vector). 1-Lipschitz,
    phase preserving; the identity inside the ball. Per-pair RB is a real
    nonlinearity; whole-vector RB without biases is positively homogeneous.

    Shape: any, with the size of `dim` divisible by group_size. Example::

        >>> RadialBounding()(torch.tensor([3.0, 4.0, 0.1, 0.2]))
        tensor([0.6000, 0.8000, 0.1000, 0.2000])
    """

    def __init__(self, group_size: Optional[int] = 2, dim: int = -1, inplace: bool = False) -> None:
        super().__init__(inplace)
        if group_size is not None and (isinstance(group_size, bool) or not float(group_size).is_integer() or group_size < 0):
            raise ActlabError(f"radial_bounding: group_size must be a positive integer, 0 or None (whole vector), got {group_size!r}")
        self.group_size = None if not group_size else int(group_size)
        self.dim = int(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return radial_bounding(x, self.group_size, self.dim)

    def extra_repr(self) -> str:
        return f"group_size={self.group_size}, dim={self.dim}"

    @property
    def info(self) -> ActivationInfo:
        g = self.group_size
        # value/slope at 0 and bounds from the one-feature view; breakpoints are radial (r = 1).
        return describe(
            lambda x: x.clamp(-1.0, 1.0), "radial_bounding", "x / max(1, ‖x‖₂) per group",
            breakpoints=(1.0,), smoothness=0, bounds=(-1.0, 1.0), lipschitz=1.0,
            provenance="confirmed", source=SOURCE,
            group_size=0 if g is None else g, radial=lambda r: r.clamp_max(1.0),
        )
