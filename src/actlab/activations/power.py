"""Rectified power units: RePU and MRePU (Kim & Kang, arXiv 2408.02697).

    RePU_p(z)  = max(0, z)^p                 (p = 1 is ReLU)
    MRePU_p(z) = z · max(0, z + 1)^p         (default p = 2)

p is an integer in the paper; any real p >= 1 is accepted here (then the
smoothness class is C^floor(p) for non-integer p, C^(p-1) for integer p).
"""
from __future__ import annotations

import math

import torch

from .autograd import apply, elementwise_function
from .base import Activation, ActivationInfo
from .describe import describe
from .kernels import ElementwiseKernel
from .registry import register

SOURCE_MREPU = "Kim & Kang, 'Why Rectified Power Unit Networks Fail and How to Improve It', arXiv 2408.02697"


def _pow(base: torch.Tensor, p: torch.Tensor | float) -> torch.Tensor:
    """base^p for base >= 0 and p >= 0. An integer p given as a number (the fused CPU kernel
    of a fixed p: `constant_params` of `elementwise_function`) is a product; otherwise
    exp(p·ln base) (0 at base = 0), a vectorised exp and log that fuse into one kernel,
    where pow with a tensor exponent runs ~2.5x slower."""
    if isinstance(p, float) and p.is_integer():
        return base ** int(p)
    return torch.exp(p * torch.log(base))


# --- RePU ---------------------------------------------------------------------------
def repu_value(z: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """max(0, z)^p."""
    return _pow(z.clamp_min(0), p)


def repu_derivative(z: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """p · z^(p−1) for z > 0, else 0."""
    pos = z > 0
    zs = torch.where(pos, z, torch.ones_like(z))
    return torch.where(pos, p * _pow(zs, p - 1), torch.zeros_like(z))


def repu_partials(z: torch.Tensor, p: torch.Tensor) -> tuple[torch.Tensor]:
    """d/dp = z^p ln z for z > 0."""
    pos = z > 0
    zs = torch.where(pos, z, torch.ones_like(z))
    return (torch.where(pos, _pow(zs, p) * torch.log(zs), torch.zeros_like(z)),)


# constant_params: the formulas also take p as a number; a fixed p is baked into the CPU kernel.
RePUFunction = elementwise_function("RePUFunction", repu_value, repu_derivative, repu_partials,
                                    ElementwiseKernel("repu"), constant_params=True)


def repu(z: torch.Tensor, p: float | torch.Tensor = 2.0) -> torch.Tensor:
    """RePU_p(z) = max(0, z)^p. See `RePU`."""
    return apply(RePUFunction, repu_value, z, p)


# --- MRePU --------------------------------------------------------------------------
def mrepu_value(z: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """z · max(0, z + 1)^p, with z capped below at −1 where the power is 0 anyway (so that
    z = −inf gives the limit 0, not −inf·0 = NaN)."""
    return z.clamp_min(-1) * _pow((z + 1).clamp_min(0), p)


def mrepu_derivative(z: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """(z+1)^(p−1) · ((p+1) z + 1) for z > −1, else 0."""
    inside = z > -1
    u = torch.where(inside, z + 1, torch.ones_like(z))
    return torch.where(inside, _pow(u, p - 1) * ((p + 1) * z + 1), torch.zeros_like(z))


def mrepu_partials(z: torch.Tensor, p: torch.Tensor) -> tuple[torch.Tensor]:
    """d/dp = z (z+1)^p ln(z+1) for z > −1."""
    inside = z > -1
    u = torch.where(inside, z + 1, torch.ones_like(z))
    return (torch.where(inside, z * _pow(u, p) * torch.log(u), torch.zeros_like(z)),)


MRePUFunction = elementwise_function("MRePUFunction", mrepu_value, mrepu_derivative, mrepu_partials,
                                     ElementwiseKernel("mrepu"), constant_params=True)


def mrepu(z: torch.Tensor, p: float | torch.Tensor = 2.0) -> torch.Tensor:
    """MRePU_p(z) = z · max(0, z + 1)^p. See `MRePU`."""
    return apply(MRePUFunction, mrepu_value, z, p)


def _smoothness(p: float) -> float:
    return p - 1 if float(p).is_integer() else math.floor(p)


class _PowerUnit(Activation):
    functional = staticmethod(repu)

    def __init__(self, p: float = 2.0, learnable: bool = False, inplace: bool = False) -> None:
        super().__init__(inplace)
        self._add_param("p", p, learnable, lower=1.0, inclusive=True)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return type(self).functional(z, *self.params(z))


@register("repu")
class RePU(_PowerUnit):
    """Rectified power unit, RePU_p(z) = max(0, z)^p.

    RePU_p'(z) = p·z^(p−1) for z > 0. For p >= 2 no initialisation is critical:
    χ∥/χ⊥ = (2p−1)/p for every kernel K (see actlab.theory).

    Shape: any; elementwise. Example::

        >>> RePU(p=3)(torch.tensor([-1.0, 2.0]))
        tensor([0., 8.])
    """

    @property
    def info(self) -> ActivationInfo:
        p = self.param_value("p")
        return describe(
            self, "repu", "max(0, z)^p", breakpoints=(0.0,), smoothness=_smoothness(p),
            bounds=(0.0, math.inf), lipschitz=1.0 if p == 1 else math.inf,
            provenance="confirmed", source=SOURCE_MREPU,
        )


@register("mrepu")
class MRePU(_PowerUnit):
    """Modified rectified power unit, MRePU_p(z) = z · max(0, z + 1)^p.

    MRePU'(z) = (z+1)^(p−1)·((p+1)z + 1) for z > −1, else 0; MRePU(0) = 0,
    MRePU'(0) = 1, MRePU''(0) = 2p, so it is in the K* = 0 universality class with
    critical (C_b, C_W) = (0, 1). C^(p−1) for integer p; a polynomial of degree
    p+1 on z >= −1.

    Shape: any; elementwise. Example::

        >>> MRePU(p=2)(torch.tensor([-2.0, 0.0, 1.0]))
        tensor([-0., 0., 4.])
    """

    functional = staticmethod(mrepu)

    @property
    def info(self) -> ActivationInfo:
        p = self.param_value("p")
        zmin = -1.0 / (p + 1)  # where MRePU' vanishes on (−1, 0)
        return describe(
            self, "mrepu", "z · max(0, z + 1)^p", breakpoints=(-1.0,), smoothness=_smoothness(p),
            bounds=(zmin * (zmin + 1) ** p, math.inf), lipschitz=math.inf,
            provenance="confirmed", source=SOURCE_MREPU,
        )
