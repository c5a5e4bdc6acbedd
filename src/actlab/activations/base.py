"""What every actlab activation declares about itself, and the module base class."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Callable, Optional

import torch
from torch import nn

from ..errors import ActlabError


@dataclass(frozen=True)
class ActivationInfo:
    """Metadata of an activation at its current parameters.

    breakpoints: points where the function or a derivative has a kink or jump (the
        theory engine splits Gaussian integrals there).
    smoothness: k of the class C^k (math.inf for smooth functions).
    bounds: (lower, upper) of the output; ±math.inf when unbounded.
    lipschitz: the global Lipschitz constant when known, else None.
    value_at_0, slope_at_0: σ(0) and σ'(0) (None where undefined).
    provenance: "confirmed" (formula from the source work), "reconstruction" (the
        project's reading of an unknown detail) or "baseline" (a standard function).
    source: the work the function comes from.
    formula: the defining formula, for humans.
    group_size: None for elementwise functions; for isotropic group activations
        f(z) = z·ρ(‖z‖)/‖z‖, the size g of a group (0 = the whole vector).
    radial: ρ(r) for group activations, as a callable on float64 tensors.
    """

    name: str
    formula: str
    breakpoints: tuple[float, ...] = ()
    smoothness: float = math.inf
    bounds: tuple[float, float] = (-math.inf, math.inf)
    lipschitz: Optional[float] = None
    value_at_0: Optional[float] = None
    slope_at_0: Optional[float] = None
    provenance: str = "baseline"
    source: str = ""
    group_size: Optional[int] = None
    radial: Optional[Callable[[torch.Tensor], torch.Tensor]] = field(default=None, compare=False)

    def as_dict(self) -> dict:
        """JSON-ready dict (infinities as strings, no callables)."""
        d = asdict(self)
        d.pop("radial")

        def clean(v):
            if isinstance(v, float) and math.isinf(v):
                return "inf" if v > 0 else "-inf"
            if isinstance(v, (tuple, list)):
                return [clean(x) for x in v]
            return v

        return {k: clean(v) for k, v in d.items()}


def positive(name: str, value: float) -> float:
    """Check a hyperparameter that must be > 0."""
    value = float(value)
    if not value > 0 or math.isinf(value):
        raise ActlabError(f"parameter {name} must be a finite number > 0, got {value}")
    return value


class Activation(nn.Module):
    """Base class: an elementwise (or group) activation with metadata and parameters.

    Subclasses call `_add_param(name, value, learnable, transform)` for each
    hyperparameter. A fixed parameter is a buffer; a learnable one is an
    nn.Parameter holding the raw value that `transform`'s inverse maps to, so the
    constrained value (e.g. a > 0 through softplus) is always valid.
    """

    registry_name: str = ""

    def _add_param(self, name: str, value: float, learnable: bool, positive_only: bool = True) -> None:
        if positive_only:
            value = positive(name, value)
        t = torch.tensor(float(value), dtype=torch.float32)
        if learnable:
            raw = _softplus_inverse(t) if positive_only else t
            self.register_parameter(f"{name}_raw", nn.Parameter(raw))
        else:
            self.register_buffer(f"{name}_raw", t)
        self._positive = getattr(self, "_positive", {}) | {name: positive_only}
        self._learnable = learnable

    def param(self, name: str) -> torch.Tensor:
        """The constrained value of hyperparameter `name` as a 0-d tensor."""
        raw = getattr(self, f"{name}_raw")
        if self._learnable and self._positive[name]:
            return nn.functional.softplus(raw)
        return raw

    def param_value(self, name: str) -> float:
        return float(self.param(name).detach())

    @property
    def info(self) -> ActivationInfo:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def extra_repr(self) -> str:
        names = list(getattr(self, "_positive", {}))
        parts = [f"{n}={self.param_value(n):.4g}" for n in names]
        if names and self._learnable:
            parts.append("learnable=True")
        return ", ".join(parts)


def _softplus_inverse(y: torch.Tensor) -> torch.Tensor:
    # log(e^y − 1), stable for large y
    return y + torch.log(-torch.expm1(-y))
