"""Which registry name a module of torch or of a common library computes.

`swap_activations(model, old="gelu")` finds nn.GELU, Hugging Face's GELUActivation and
timm's GELU by this table. Classes of other libraries are recognised by their module
and class name, so that no library is imported to recognise its classes (and a model
built with an older or newer release still matches).

A name matches the modules computing that function; "gelu" also matches GELU's
approximations (tanh, fast, quick), "gelu_tanh" only the tanh ones.
"""
from __future__ import annotations

from typing import Optional

from torch import nn

from .base import Activation
from .registry import _FACTORIES, resolve_name

TORCH: dict[type, str] = {
    nn.ReLU: "relu", nn.LeakyReLU: "leaky_relu", nn.ELU: "elu", nn.SiLU: "silu", nn.Mish: "mish",
    nn.Tanh: "tanh", nn.Sigmoid: "sigmoid", nn.Softplus: "softplus",
}

# torch's activation modules with no registry name: activations for old=None all the same
TORCH_OTHERS = (nn.ReLU6, nn.Hardtanh, nn.Hardswish, nn.Hardsigmoid, nn.PReLU, nn.SELU, nn.CELU, nn.Softsign,
                nn.Tanhshrink)

_HF = {
    "GELUActivation": "gelu", "QuickGELUActivation": "gelu",
    "GELUTanh": "gelu_tanh", "PytorchGELUTanh": "gelu_tanh", "NewGELUActivation": "gelu_tanh",
    "FastGELUActivation": "gelu_tanh", "AccurateGELUActivation": "gelu_tanh",
    "SiLUActivation": "silu", "MishActivation": "mish",
}
_TIMM = {
    "GELU": "gelu", "QuickGELU": "gelu", "GELUTanh": "gelu_tanh", "Swish": "silu", "SwishMe": "silu",
    "Mish": "mish", "MishMe": "mish", "Sigmoid": "sigmoid", "Tanh": "tanh",
}
# module of the defining class -> {class name: registry name}
FOREIGN: dict[str, dict[str, str]] = {
    "transformers.activations": _HF,
    "timm.layers.activations": _TIMM,
    "timm.layers.activations_me": _TIMM,
    "timm.models.layers.activations": _TIMM,  # timm < 0.9
    "timm.models.layers.activations_me": _TIMM,
}
# classes in those modules that are not activations one would swap (the identity)
_NOT_ACTIVATIONS = {"LinearActivation", "ClassInstantier"}

# what a name matches besides itself
FAMILIES = {"gelu": ("gelu", "gelu_tanh")}


def registry_name(module: nn.Module) -> Optional[str]:
    """The registry name of the function `module` computes, or None if it is not known."""
    if isinstance(module, Activation):
        name = getattr(module, "name", None)  # baselines share one class and differ by name
        if name is None:
            name = next((n for n, f in _FACTORIES.items() if f is type(module)), None)
        return name
    if isinstance(module, nn.GELU):
        return "gelu_tanh" if module.approximate == "tanh" else "gelu"
    cls = type(module)
    torch_name = next((TORCH[c] for c in cls.__mro__ if c in TORCH), None)
    return torch_name or FOREIGN.get(cls.__module__, {}).get(cls.__name__)


def is_activation(module: nn.Module) -> bool:
    """An actlab activation, one of torch's activation modules, or an activation class of
    a library in FOREIGN (Hugging Face's, timm's)."""
    cls = type(module)
    if isinstance(module, (Activation, nn.GELU, *TORCH, *TORCH_OTHERS)):
        return True
    return cls.__module__ in FOREIGN and cls.__name__ not in _NOT_ACTIVATIONS


def matches_name(module: nn.Module, name: str) -> bool:
    """Whether `module` computes the registered activation `name` (or an alias of it)."""
    key = resolve_name(name)
    return registry_name(module) in FAMILIES.get(key, (key,))
