"""Radial Bounding (Goo, Yun, Jung, 'Z-Plane Neural Networks', arXiv 2606.15669).

    RB(x) = x / max(1, ‖x‖₂)        per group of `group_size` consecutive features

the Euclidean projection of each group onto the unit ball. group_size = 2 reads
each pair as a complex number (a "phasor"); group_size = None is the whole vector.
Jacobian per group: I inside the ball, (I − x̂x̂ᵀ)/‖x‖ outside (radial direction
killed, tangential directions scaled by 1/‖x‖); at ‖x‖ = 1 the inside branch.
Computed as x·rsqrt(max(1, Σx²)), which never divides by ‖x‖ at x = 0; groups too
large for Σx² in float32 are scaled by a power of two first (see SCALE), so a huge
vector maps to its unit vector and ±inf components to their direction.
"""
from __future__ import annotations

import math
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


# Σx² overflows float32 once ‖x‖ ≳ 1.8e19, and x·rsqrt(inf) is 0. Groups where it
# overflowed are computed from u = x·SCALE (a power of two: exact), whose Σu² cannot
# overflow (16 components up to the largest float32) and is at least 2⁻⁴ there:
# RB(x) = u·rsqrt(Σu²). A group with infinite components maps to its limit, the unit
# vector along them. Every sum is over x (and g) alone, so the fused kernels read a
# group once.
SCALE = 2.0 ** -66


def _is_inf(x: torch.Tensor) -> torch.Tensor:
    return x.abs() == math.inf  # a comparison inductor vectorises (isinf it runs as a scalar loop)


def rb_sums(x: torch.Tensor, g: Optional[torch.Tensor] = None) -> tuple[torch.Tensor, ...]:
    """(Σx², Σu², number of infinite components) over the last axis, and with g also
    (Σx·g, Σu·g); u = x·SCALE. keepdim, for rb_component and rb_component_vjp."""
    u = x * SCALE
    sums = [x * x, u * u, _is_inf(x).to(x.dtype)] + ([] if g is None else [x * g, u * g])
    return tuple(t.sum(-1, keepdim=True) for t in sums)


def rb_component(x: torch.Tensor, sq: torch.Tensor, usq: torch.Tensor, n_inf: torch.Tensor) -> torch.Tensor:
    """The components of RB for groups with sums rb_sums(x): x·rsqrt(max(1, Σx²)); where
    Σx² overflowed u·rsqrt(Σu²), or along the infinite components."""
    big = sq == math.inf
    finite = x * torch.rsqrt(sq.clamp_min(1.0))
    scaled = x * SCALE * torch.rsqrt(torch.where(big, usq, torch.ones_like(usq)))
    direction = torch.where(_is_inf(x), torch.sign(x), torch.zeros_like(x)) * torch.rsqrt(n_inf.clamp_min(1.0))
    return torch.where(big, torch.where(n_inf > 0, direction, scaled), finite)


def rb_component_vjp(x: torch.Tensor, g: torch.Tensor, sq: torch.Tensor, usq: torch.Tensor, n_inf: torch.Tensor,
                     dot: torch.Tensor, udot: torch.Tensor) -> torch.Tensor:
    """The components of Jᵀg for groups with sums rb_sums(x, g): g inside the ball,
    (g − x·dot/sq)/√sq outside; where Σx² overflowed the same in u = x·SCALE,
    (g − u·udot/usq)·SCALE/√usq; 0 along infinite components (‖x‖ = ∞)."""
    big = sq == math.inf
    outside = sq > 1
    s = torch.where(outside & ~big, sq, torch.ones_like(sq))  # 1 where unused: no inf·0 in a double backward
    finite = torch.where(outside, (g - x * dot / s) * torch.rsqrt(s), g)
    us = torch.where(big, usq, torch.ones_like(usq))
    scaled = (g - x * SCALE * udot / us) * (torch.rsqrt(us) * SCALE)
    return torch.where(big, torch.where(n_inf > 0, torch.zeros_like(x), scaled), finite)


def rb_value(xg: torch.Tensor) -> torch.Tensor:
    """RB on the last axis: rb_component(x, *rb_sums(x))."""
    return rb_component(xg, *rb_sums(xg))


def rb_vjp(xg: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Jᵀg on the last axis: rb_component_vjp(x, g, *rb_sums(x, g))."""
    return rb_component_vjp(xg, g, *rb_sums(xg, g))


def rb_pair(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """RB of the pairs (a, b), componentwise (the fused path's pairs; see rb_value)."""
    sums = _pair_sums(a, b)
    return rb_component(a, *sums), rb_component(b, *sums)


def rb_pair_vjp(a: torch.Tensor, b: torch.Tensor, ga: torch.Tensor, gb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Jᵀg of the pairs (a, b) with gradients (ga, gb), componentwise (see rb_vjp)."""
    sums = _pair_sums(a, b, ga, gb)
    return rb_component_vjp(a, ga, *sums), rb_component_vjp(b, gb, *sums)


def _pair_sums(a, b, ga=None, gb=None):
    """rb_sums of the pairs (a, b) [with gradients (ga, gb)], elementwise."""
    ua, ub = a * SCALE, b * SCALE
    sums = [a * a + b * b, ua * ua + ub * ub, _is_inf(a).to(a.dtype) + _is_inf(b).to(b.dtype)]
    return tuple(sums + ([] if ga is None else [a * ga + b * gb, ua * ga + ub * gb]))


class RadialBoundingFunction(torch.autograd.Function):
    """RB on the last axis of a grouped tensor; saves only its input. Runs the Triton
    kernels on CUDA, the compiled reference on large CPU tensors (see actlab.activations.fused)."""

    @staticmethod
    def forward(ctx, xg: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(xg)
        if kernels.usable(xg, group=True):
            return kernels.radial_forward(xg)
        if fused.cpu_usable(xg):
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
            if fused.cpu_usable(xg):
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
