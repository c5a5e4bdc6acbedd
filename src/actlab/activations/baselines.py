"""Baselines every comparison needs, under the same registry: torch's functions plus
dsilu and dgelu, the derivative-shaped units the Zorro work relates its functions to.

    dsilu(x) = σ(x)·(1 + x·(1 − σ(x)))     (Elfwing et al. 2018; = SiLU'(x))
    dgelu(x) = Φ(x) + x·φ(x)               (= GELU'(x))
"""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F

from .base import Activation, ActivationInfo, check_param
from .describe import describe
from .duals import ab_relu_dual, erf_dual, gelu_dual
from .registry import register

INF = math.inf


# Beyond ±X_MAX σ and Φ are 0 or 1 and φ is 0 in float32 and float64, so both functions
# equal their limits there; capping x keeps x·0 at ±inf the limit 0 instead of inf·0 = NaN.
X_MAX = 1000.0


def dsilu(x: torch.Tensor) -> torch.Tensor:
    """SiLU'(x) = σ(x)·(1 + x·(1 − σ(x)))."""
    x = x.clamp(-X_MAX, X_MAX)
    s = torch.sigmoid(x)
    return s * (1 + x * (1 - s))


def dgelu(x: torch.Tensor) -> torch.Tensor:
    """GELU'(x) = Φ(x) + x·φ(x)."""
    x = x.clamp(-X_MAX, X_MAX)
    cdf = 0.5 * (1 + torch.erf(x / math.sqrt(2)))
    pdf = torch.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    return cdf + x * pdf


class Baseline(Activation):
    """A standard activation behind the registry, with its metadata."""

    def __init__(self, name: str, fn: Callable[[torch.Tensor], torch.Tensor], formula: str, *,
                 breakpoints: tuple[float, ...] = (), smoothness: float = INF,
                 bounds=(None, None), lipschitz=None, source: str = "", dual=None, inplace: bool = False,
                 **params: float) -> None:
        super().__init__(inplace)
        self.name, self.fn, self.formula = name, fn, formula
        self._meta = dict(breakpoints=breakpoints, smoothness=smoothness, bounds=bounds,
                          lipschitz=lipschitz, source=source, dual=dual)
        self.kwargs = params

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fn(x, **self.kwargs)

    def extra_repr(self) -> str:
        return ", ".join([self.name, *(f"{k}={v:g}" for k, v in self.kwargs.items())])

    @property
    def info(self) -> ActivationInfo:
        return describe(self, self.name, self.formula, provenance="baseline", **self._meta)


def _baseline(name: str, fn, formula: str, *aliases: str, **meta) -> None:
    register(name, *aliases)(lambda inplace=False: Baseline(name, fn, formula, inplace=inplace, **meta))


_baseline("relu", F.relu, "max(0, x)", breakpoints=(0.0,), smoothness=0, bounds=(0.0, INF), lipschitz=1.0,
          dual=ab_relu_dual(0.0, 1.0))
_baseline("gelu", F.gelu, "x·Φ(x)", bounds=(None, INF), source="Hendrycks & Gimpel 2016", dual=gelu_dual)
_baseline("gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), "½x(1 + tanh(√(2/π)(x + 0.044715x³)))",
          bounds=(None, INF), source="Hendrycks & Gimpel 2016")
_baseline("silu", F.silu, "x·σ(x)", "swish", bounds=(None, INF), source="Elfwing et al. 2018; Ramachandran et al. 2017")
_baseline("mish", F.mish, "x·tanh(softplus(x))", bounds=(None, INF), source="Misra 2019")
_baseline("tanh", torch.tanh, "tanh(x)", bounds=(-1.0, 1.0), lipschitz=1.0)
_baseline("sigmoid", torch.sigmoid, "1/(1 + e^{−x})", bounds=(0.0, 1.0), lipschitz=0.25)
_baseline("identity", lambda x: x, "x", bounds=(-INF, INF), lipschitz=1.0, dual=ab_relu_dual(1.0, 1.0))
_baseline("erf", torch.erf, "erf(x) = (2/√π)∫₀ˣ e^{−t²} dt", bounds=(-1.0, 1.0), lipschitz=2 / math.sqrt(math.pi),
          source="Williams 1997 (its arcsin kernel)", dual=erf_dual)
_baseline("dsilu", dsilu, "σ(x)·(1 + x·(1 − σ(x)))", source="Elfwing et al. 2018")
_baseline("dgelu", dgelu, "Φ(x) + x·φ(x)", source="derivative of GELU")


@register("leaky_relu")
def _leaky_relu(negative_slope: float = 0.01, inplace: bool = False) -> Baseline:
    negative_slope = check_param("negative_slope", negative_slope, lower=0.0, inclusive=True)
    return Baseline("leaky_relu", F.leaky_relu, "max(0, x) + negative_slope·min(0, x)", breakpoints=(0.0,),
                    smoothness=0, bounds=(-INF if negative_slope > 0 else 0.0, INF),
                    lipschitz=max(1.0, abs(float(negative_slope))), inplace=inplace,
                    negative_slope=float(negative_slope), dual=ab_relu_dual(float(negative_slope), 1.0))


@register("elu")
def _elu(alpha: float = 1.0, inplace: bool = False) -> Baseline:
    alpha = check_param("alpha", alpha)
    return Baseline("elu", F.elu, "x (x > 0), alpha·(e^x − 1) (x ≤ 0)", breakpoints=(0.0,),
                    smoothness=1 if alpha == 1 else 0, bounds=(-alpha, INF), lipschitz=max(1.0, alpha),
                    source="Clevert et al. 2015", inplace=inplace, alpha=alpha)


@register("softplus")
def _softplus(beta: float = 1.0, inplace: bool = False) -> Baseline:
    beta = check_param("beta", beta)
    return Baseline("softplus", F.softplus, "ln(1 + e^{beta·x})/beta", bounds=(0.0, INF), lipschitz=1.0, inplace=inplace, beta=beta)
