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
    radial: ρ(r) for group activations, as a callable on float64 tensors; their
        breakpoints are radii where ρ has a kink.
    dual: closed-form two-input moments (q₁, q₂, c) ↦ (E σ(z₁)σ(z₂), E σ'(z₁)σ'(z₂)) for
        (z₁, z₂) ~ N(0, [[q₁, c], [c, q₂]]) where one exists: a declared `ClosedFormDual`
        (activations/duals.py; formulas in actlab.theory.closed_forms) or a function of
        broadcast arrays; the theory engine's N×N kernels use it instead of quadrature.
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
    dual: Optional[object] = field(default=None, compare=False)  # a ClosedFormDual or a function

    def as_dict(self) -> dict:
        """JSON-ready dict (infinities as strings, no callables)."""
        d = asdict(self)
        d.pop("radial")
        d.pop("dual")

        def clean(v):
            if isinstance(v, float) and math.isinf(v):
                return "inf" if v > 0 else "-inf"
            if isinstance(v, (tuple, list)):
                return [clean(x) for x in v]
            return v

        return {k: clean(v) for k, v in d.items()}


def check_param(name: str, value: float, lower: float = 0.0, inclusive: bool = False) -> float:
    """Validate a hyperparameter that must be > lower (>= lower when inclusive)."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ActlabError(f"parameter {name} must be a number, got {value!r}") from None
    ok = value >= lower if inclusive else value > lower
    if not ok or math.isinf(value) or math.isnan(value):
        rel = ">=" if inclusive else ">"
        raise ActlabError(f"parameter {name} must be a finite number {rel} {lower:g}, got {value:g}")
    return value


class Activation(nn.Module):
    """Base class: an elementwise (or group) activation with metadata and parameters.

    Subclasses call `_add_param(name, value, learnable, lower)` for each
    hyperparameter. A fixed parameter is a constant of the module, like nn.LeakyReLU's
    slope: a number, not state, so a model whose activations were swapped loads the
    original model's checkpoint, and no checkpoint or meta-device construction (Hugging
    Face's from_pretrained) can change it. A learnable one is an nn.Parameter
    `<name>_raw` with value = lower + softplus(raw), so it stays in its valid range
    (> lower) while it is trained; `<name>_raw` means that in every checkpoint. A
    learnable module's state loads into a fixed one, which then holds the trained values
    (the same function); a fixed one saves no state, so loading it strictly into a
    learnable module raises torch's error for the missing `<name>_raw` keys, and
    strict=False keeps the constructor's values.

    inplace: accepted so that any actlab class can be passed where torch's activations
    go (timm's `act_layer=`, `nn.ReLU(inplace=True)`-style factories); a no-op, since
    the autograd Function saves its input for the backward.
    """

    # state_dict format: 2 = fixed constants unsaved, <name>_raw only for learnable ones.
    # Version 1 saved fixed constants as persistent buffers <name>_raw holding the value.
    _version = 2

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self._lower: dict[str, float] = {}
        self._fixed: dict[str, float] = {}
        self._fixed_tensors: dict[tuple, tuple[torch.Tensor, ...]] = {}  # per (device, dtype), made at first use
        self.learnable = False
        self.inplace = bool(inplace)

    def _add_param(self, name: str, value: float, learnable: bool, lower: float = 0.0, inclusive: bool = False) -> None:
        value = check_param(name, value, lower, inclusive and not learnable)
        if learnable:
            t = torch.tensor(value, dtype=torch.float32)
            self.register_parameter(f"{name}_raw", nn.Parameter(_softplus_inverse(t - lower)))
        else:
            self._fixed[name] = value
        self._lower[name] = lower
        self.learnable = learnable

    def param(self, name: str) -> torch.Tensor:
        """The constrained value of hyperparameter `name` as a 0-d tensor."""
        if self.learnable:
            with torch.enable_grad():  # requires grad under no_grad too: the fused path keys on that
                return self._lower[name] + nn.functional.softplus(self._parameters[f"{name}_raw"])
        return torch.tensor(self._fixed[name])

    def params(self, x: Optional[torch.Tensor] = None) -> tuple[torch.Tensor, ...]:
        """The values of every hyperparameter as 0-d tensors; fixed ones on x's device in
        its compute dtype (float32 for 16-bit inputs), made once per device and dtype."""
        if self.learnable:
            return tuple(self.param(n) for n in self._lower)
        if x is None:
            return tuple(torch.tensor(v) for v in self._fixed.values())
        key = (x.device, x.dtype)
        fixed = self._fixed_tensors.get(key)
        if fixed is None:
            dt = torch.float32 if x.element_size() == 2 else x.dtype
            fixed = self._fixed_tensors[key] = tuple(torch.tensor(v, dtype=dt, device=x.device)
                                                     for v in self._fixed.values())
        return fixed

    def param_value(self, name: str) -> float:
        return float(self.param(name).detach()) if self.learnable else self._fixed[name]

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs) -> None:
        if not self.learnable:
            # a learnable module's parameters (or, format 1, saved constants) become the fixed values
            saved_values = (local_metadata or {}).get("version") == 1
            for name, lower in self._lower.items():
                raw = state_dict.pop(f"{prefix}{name}_raw", None)
                if raw is not None:
                    value = raw if saved_values else lower + nn.functional.softplus(raw.double())
                    self._fixed[name] = float(value)
                    self._fixed_tensors.clear()
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)

    @property
    def info(self) -> ActivationInfo:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def extra_repr(self) -> str:
        parts = [f"{n}={self.param_value(n):.4g}" for n in self._lower]
        if self.learnable:
            parts.append("learnable=True")
        return ", ".join(parts)


def _softplus_inverse(y: torch.Tensor) -> torch.Tensor:
    # log(e^y − 1), stable for large y
    return y + torch.log(-torch.expm1(-y))
