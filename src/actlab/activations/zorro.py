"""The Zorro family (Roodschild, Gotay-Sardiñas, Jimenez, Will, arXiv 2409.19239).

Linear (= ReLU) on [0, 1], C¹ everywhere, sigmoid-shaped humps outside [0, 1].
With GS(x; a, b) = σ(a(x − b)) and k(a, b) = 1 + e^{ab}:

    Z(x) = k·x·GS(x; a, b)              x < 0
         = x                            0 ≤ x ≤ 1
         = 1 + k·(x−1)·σ(−a(x−1+b))     x > 1

Both humps are the same tail function of the distance t = max(−x, x − 1) ≥ 0
from [0, 1], with that side's (a, b):

    h(t) = k(a, b)·σ(−a(t + b)) = e^{−at}·(1 + e^{−ab}) / (1 + e^{−at}·e^{−ab})   (h(0) = 1, 0 < h ≤ 1)
    Z(x) = −t·h(t) for x < 0,     Z(x) = 1 + t·h(t) for x > 1

The second form never overflows (t ≥ 0, a > 0) and costs one exponential per
element: only the side x lies on is evaluated. Every variant below is this core
with its own parameters: the negative side uses (a_n, b_n), the upper side
(a_p, b_p) and a slope m on the upper tail:  x > 1: 1 + t·[m + (1 − m)·h(t)].
"""
from __future__ import annotations

import math
from typing import Optional

import torch

from .autograd import apply, elementwise_function
from .base import Activation, ActivationInfo
from .describe import describe
from .kernels import ElementwiseKernel
from .registry import register

SOURCE = "Roodschild et al., 'Zorro: A Flexible and Differentiable Parametric Family of Activation Functions', arXiv 2409.19239"


# --- the core: Z(x; a_n, b_n, a_p, b_p, m) ------------------------------------------
def _exp(v):
    """e^v of a parameter: a tensor, or a Python float when the fused CPU path compiles a
    kernel for the parameters' values (constant_params)."""
    return math.exp(v) if isinstance(v, float) else torch.exp(v)


def _same(neg, pos) -> bool:
    """Whether a parameter is known to be the same on both sides (one tensor, or equal numbers)."""
    return neg is pos or (isinstance(neg, float) and isinstance(pos, float) and neg == pos)


def _side(lo, neg, pos):
    """neg where x < 0, pos elsewhere; a parameter shared by both sides is used as it is,
    without a per-element select (the kernels are compute-bound: every operation counts)."""
    return neg if _same(neg, pos) else torch.where(lo, neg, pos)


# The distance t from [0, 1] is capped here: h(t) is 0 in float arithmetic long before (e^{−at}
# underflows), and the cap keeps t·h at x = ±inf the limit 0 instead of inf·0 = NaN.
T_MAX = 1e18


def _hump(x, an, bn, ap, bp):
    """The tail on the side x lies on: (x < 0, t, a, S, h, σ(ab)) with
    t = min(max(0, −x, x − 1), T_MAX), (a, b) that side's parameters, S = σ(a(t + b)) and
    h = k·σ(−a(t + b))."""
    lo = x < 0
    t = torch.where(lo, -x, (x - 1).clamp_min(0)).clamp_max(T_MAX)
    a = _side(lo, an, ap)
    shared = _same(an, ap) and _same(bn, bp)
    c = _exp(-an * bn) if shared else torch.where(lo, _exp(-an * bn), _exp(-ap * bp))  # e^{−ab}
    e = torch.exp(-a * t)
    s = 1 / (1 + e * c)
    return lo, t, a, s, e * (1 + c) * s, 1 / (1 + c)


def _fixed_zero(m) -> bool:
    return isinstance(m, float) and m == 0


def _sloped(m, v):
    """m + (1 − m)·v, the upper tail's mix with slope m; v itself for a fixed m = 0."""
    return v if _fixed_zero(m) else m + (1 - m) * v


def _slope_part(m, d):
    """m·d of the upper tail at d = x − 1 (uncapped: ∞ at x = ∞ when m > 0), 0 where m = 0."""
    return torch.where(m > 0, m * d, torch.zeros_like(d)) if isinstance(m, torch.Tensor) else m * d


def core_value(x, an, bn, ap, bp, m):
    """Z(x) of the general core (see module docstring): 1 + m·t + (1 − m)·t·h(t) above 1."""
    lo, t, _, _, h, _ = _hump(x, an, bn, ap, bp)
    th = t * h
    upper = th if _fixed_zero(m) else _slope_part(m, x - 1) + (1 - m) * th
    return torch.where(lo, -th, torch.where(x > 1, 1 + upper, x))


def core_derivative(x, an, bn, ap, bp, m):
    """Z'(x): h(t)·(1 − a·t·σ(a(t+b))) below 0, m + (1−m)·(…) above 1, 1 inside."""
    lo, t, a, s, h, _ = _hump(x, an, bn, ap, bp)
    tail = h * (1 - a * t * s)
    return torch.where(lo, tail, torch.where(x > 1, _sloped(m, tail), torch.ones_like(x)))


def core_partials(x, an, bn, ap, bp, m):
    """(∂Z/∂a_n, ∂Z/∂b_n, ∂Z/∂a_p, ∂Z/∂b_p, ∂Z/∂m), each elementwise, from
    ∂ln h/∂a = b·σ(ab) − (t+b)·σ(a(t+b)) and ∂ln h/∂b = a·(σ(ab) − σ(a(t+b)))."""
    lo, t, a, s, h, sab = _hump(x, an, bn, ap, bp)
    b = _side(lo, bn, bp)
    hi, zero = x > 1, torch.zeros_like(x)
    w = torch.where(lo, -t * h, (1 - m) * t * h)
    da, db = w * (b * sab - (t + b) * s), w * a * (sab - s)
    return (
        torch.where(lo, da, zero),
        torch.where(lo, db, zero),
        torch.where(hi, da, zero),
        torch.where(hi, db, zero),
        torch.where(hi, (x - 1) - t * h, zero),  # t·(1 − h), with t uncapped
    )


# --- Symmetric-Zorro (confirmed) -----------------------------------------------------
def zorro_value(x, a, b):
    return core_value(x, a, b, a, b, 0.0)


def zorro_derivative(x, a, b):
    return core_derivative(x, a, b, a, b, 0.0)


def zorro_partials(x, a, b):
    dan, dbn, dap, dbp, _ = core_partials(x, a, b, a, b, 0.0)
    return dan + dap, dbn + dbp


# Triton core parameters (a_n, b_n, a_p, b_p, m, s) as positions among each variant's parameters.
ZorroFunction = elementwise_function("ZorroFunction", zorro_value, zorro_derivative, zorro_partials,
                                     ElementwiseKernel("zorro", (0, 1, 0, 1, -1, -1)),
                                     constant_params=True, table_forward=True)


def zorro(x: torch.Tensor, a: float | torch.Tensor = 1.2, b: float | torch.Tensor = 1.0) -> torch.Tensor:
    """Symmetric-Zorro Z(x; a, b). See `Zorro`."""
    return apply(ZorroFunction, zorro_value, x, a, b)


# --- Asymmetric-Zorro (reconstruction) -----------------------------------------------
def asymmetric_value(x, an, bn, ap, bp):
    return core_value(x, an, bn, ap, bp, 0.0)


def asymmetric_derivative(x, an, bn, ap, bp):
    return core_derivative(x, an, bn, ap, bp, 0.0)


def asymmetric_partials(x, an, bn, ap, bp):
    return core_partials(x, an, bn, ap, bp, 0.0)[:4]


AsymmetricZorroFunction = elementwise_function(
    "AsymmetricZorroFunction", asymmetric_value, asymmetric_derivative, asymmetric_partials,
    ElementwiseKernel("zorro", (0, 1, 2, 3, -1, -1)), constant_params=True, table_forward=True)


def zorro_asymmetric(x: torch.Tensor, a_n=1.2, b_n=1.0, a_p=1.2, b_p=1.0) -> torch.Tensor:
    """Asymmetric-Zorro (reconstruction): separate (a, b) below 0 and above 1."""
    return apply(AsymmetricZorroFunction, asymmetric_value, x, a_n, b_n, a_p, b_p)


# --- Sloped-Zorro (reconstruction) ---------------------------------------------------
def sloped_value(x, a, b, m):
    return core_value(x, a, b, a, b, m)


def sloped_derivative(x, a, b, m):
    return core_derivative(x, a, b, a, b, m)


def sloped_partials(x, a, b, m):
    dan, dbn, dap, dbp, dm = core_partials(x, a, b, a, b, m)
    return dan + dap, dbn + dbp, dm


SlopedZorroFunction = elementwise_function("SlopedZorroFunction", sloped_value, sloped_derivative, sloped_partials,
                                           ElementwiseKernel("zorro", (0, 1, 0, 1, 2, -1)),
                                           constant_params=True, table_forward=True)


def zorro_sloped(x: torch.Tensor, a=1.2, b=1.0, m=1.0) -> torch.Tensor:
    """Sloped-Zorro (reconstruction): slope m on the upper tail."""
    return apply(SlopedZorroFunction, sloped_value, x, a, b, m)


# --- Sigmoid-Zorro and Tanh-Zorro (confirmed in the authors' code) -------------------
# Zs(x) = Z(s·x + ½);   Zt(x) = 2·Z((s·x + 1)/2) − 1.  Both are Z(c₁·x + c₀)·g + d.
def _affine_family(name: str, scale_in: float, shift: float, gain: float, offset: float):
    def value(x, s, a, b):
        return gain * zorro_value(scale_in * s * x + shift, a, b) + offset

    def derivative(x, s, a, b):
        return gain * scale_in * s * zorro_derivative(scale_in * s * x + shift, a, b)

    def partials(x, s, a, b):
        u = scale_in * s * x + shift
        da, db = zorro_partials(u, a, b)
        # x capped as t is (Z'(u) is 0 there): ∂/∂s = 0, not inf·0, at x = ±inf
        return gain * scale_in * x.clamp(-T_MAX, T_MAX) * zorro_derivative(u, a, b), gain * da, gain * db

    value.__name__ = f"{name}_value"
    kernel = ElementwiseKernel("zorro", (1, 2, 1, 2, -1, 0), (scale_in, shift, gain, offset))
    return value, elementwise_function(f"{name.title().replace('_', '')}Function", value, derivative, partials, kernel,
                                              constant_params=True, table_forward=True)


sigmoid_value, SigmoidZorroFunction = _affine_family("zorro_sigmoid", 1.0, 0.5, 1.0, 0.0)
tanh_value, TanhZorroFunction = _affine_family("zorro_tanh", 0.5, 0.5, 2.0, -1.0)


def zorro_sigmoid(x: torch.Tensor, s=0.5, a=4.0, b=2.0) -> torch.Tensor:
    """Sigmoid-Zorro Zs(x) = Z(s·x + ½; a, b)."""
    return apply(SigmoidZorroFunction, sigmoid_value, x, s, a, b)


def zorro_tanh(x: torch.Tensor, s=1.0, a=4.0, b=2.0) -> torch.Tensor:
    """Tanh-Zorro Zt(x) = 2·Z((s·x + 1)/2; a, b) − 1."""
    return apply(TanhZorroFunction, tanh_value, x, s, a, b)


# --- modules -------------------------------------------------------------------------
class _ZorroBase(Activation):
    functional = staticmethod(zorro)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return type(self).functional(x, *self.params(x))

    def _info(self, name: str, formula: str, provenance: str, breakpoints=(0.0, 1.0), upper=None) -> ActivationInfo:
        return describe(self, name, formula, breakpoints=breakpoints, smoothness=1,
                        bounds=(None, upper), provenance=provenance, source=SOURCE)


@register("zorro")
class Zorro(_ZorroBase):
    """Symmetric-Zorro: linear on [0, 1], C¹, point-symmetric about (½, ½).

    Z(x) = k·x·σ(a(x−b)) for x < 0, x on [0, 1], 1 + k·(x−1)·σ(−a(x−1+b)) for x > 1,
    with k = 1 + e^{ab}. Z'(x) = k·G·(1 + a·x·(1−G)) for x < 0 (G = σ(a(x−b))),
    mirrored above 1. Defaults a = 1.2, b = 1 (the authors' CNN setting).
    Bounded: the output lies in a finite interval. Parameters a, b > 0; learnable
    ones stay positive through softplus.

    Shape: any; elementwise. Example::

        >>> Zorro()(torch.tensor([0.5]))
        tensor([0.5000])
    """

    def __init__(self, a: float = 1.2, b: float = 1.0, learnable: bool = False, inplace: bool = False) -> None:
        super().__init__(inplace)
        self._add_param("a", a, learnable)
        self._add_param("b", b, learnable)

    @property
    def info(self) -> ActivationInfo:
        return self._info("zorro", "k·x·σ(a(x−b)) | x | 1 + k·(x−1)·σ(−a(x−1+b)),  k = 1 + e^{ab}",
                          "confirmed", upper=None)


@register("zorro_asymmetric")
class AsymmetricZorro(_ZorroBase):
    """Asymmetric-Zorro (RECONSTRUCTION: the paper gives each side its own parameters).

    x < 0: k(a_n,b_n)·x·σ(a_n(x−b_n));  0 ≤ x ≤ 1: x;
    x > 1: 1 + k(a_p,b_p)·(x−1)·σ(−a_p(x−1+b_p)).
    """

    functional = staticmethod(zorro_asymmetric)

    def __init__(self, a_n: float = 1.2, b_n: float = 1.0, a_p: float = 1.2, b_p: float = 1.0,
                 learnable: bool = False, inplace: bool = False) -> None:
        super().__init__(inplace)
        for name, value in (("a_n", a_n), ("b_n", b_n), ("a_p", a_p), ("b_p", b_p)):
            self._add_param(name, value, learnable)

    @property
    def info(self) -> ActivationInfo:
        return self._info("zorro_asymmetric", "Zorro with (a_n, b_n) below 0 and (a_p, b_p) above 1", "reconstruction")


@register("zorro_sloped")
class SlopedZorro(_ZorroBase):
    """Sloped-Zorro (RECONSTRUCTION): a slope m >= 0 on the upper tail.

    x > 1: 1 + (x−1)·[m + (1−m)·k·σ(−a(x−1+b))]; other pieces as Symmetric-Zorro.
    m = 0 is Symmetric-Zorro; m = 1 (default) grows like ReLU, as GELU/Swish do.
    C¹ at x = 1 for every m since k·σ(−ab) = 1.
    """

    functional = staticmethod(zorro_sloped)

    def __init__(self, a: float = 1.2, b: float = 1.0, m: float = 1.0, learnable: bool = False,
                 inplace: bool = False) -> None:
        super().__init__(inplace)
        self._add_param("a", a, learnable)
        self._add_param("b", b, learnable)
        self._add_param("m", m, learnable, lower=0.0, inclusive=True)

    @property
    def info(self) -> ActivationInfo:
        m = self.param_value("m")
        return self._info("zorro_sloped", "Zorro with 1 + (x−1)·[m + (1−m)·k·σ(−a(x−1+b))] above 1",
                          "reconstruction", upper=math.inf if m > 0 else None)


class _AffineZorro(_ZorroBase):
    """Zorro composed with fixed affine maps of its input and output (s scales the input)."""

    default_s = 1.0

    def __init__(self, s: Optional[float] = None, a: float = 4.0, b: float = 2.0, learnable: bool = False,
                 inplace: bool = False) -> None:
        super().__init__(inplace)
        self._add_param("s", self.default_s if s is None else s, learnable)
        self._add_param("a", a, learnable)
        self._add_param("b", b, learnable)


@register("zorro_sigmoid")
class SigmoidZorro(_AffineZorro):
    """Sigmoid-Zorro Zs(x) = Z(s·x + ½; a, b): a sigmoid-like unit through (0, ½).

    Defaults s = ½, a = 4, b = 2 (the authors' LSTM-gate setting). Breakpoints at
    x = ∓1/(2s), where the inner argument crosses 0 and 1.
    """

    functional = staticmethod(zorro_sigmoid)
    default_s = 0.5

    @property
    def info(self) -> ActivationInfo:
        half = 0.5 / self.param_value("s")
        return self._info("zorro_sigmoid", "Z(s·x + ½; a, b)", "confirmed", breakpoints=(-half, half))


@register("zorro_tanh")
class TanhZorro(_AffineZorro):
    """Tanh-Zorro Zt(x) = 2·Z((s·x + 1)/2; a, b) − 1: a tanh-like unit through 0.

    Defaults s = 1, a = 4, b = 2. Breakpoints at x = ∓1/s.
    """

    functional = staticmethod(zorro_tanh)

    @property
    def info(self) -> ActivationInfo:
        one = 1.0 / self.param_value("s")
        return self._info("zorro_tanh", "2·Z((s·x + 1)/2; a, b) − 1", "confirmed", breakpoints=(-one, one))
