"""Put actlab's activations into any torch model: by swapping its activation modules, or
by registering them where Hugging Face configs look activations up by name."""
from __future__ import annotations

import warnings
from collections import Counter
from functools import partial
from typing import Callable, NamedTuple, Union

from torch import nn

from ..activations import get_activation, list_activations
from ..activations.equivalents import is_activation, matches_name
from ..errors import ActlabError
from .layers import ActSpec, make_activation

Matcher = Union[type, tuple, str, Callable[[nn.Module], bool], None]


class Swap(NamedTuple):
    """One replacement: the module's qualified name in the model, the old and the new module."""

    path: str
    old: nn.Module
    new: nn.Module

    def __str__(self) -> str:
        return f"{self.path}: {self.old!r} -> {self.new!r}"


def _matcher(old: Matcher) -> Callable[[nn.Module], bool]:
    if old is None:
        return is_activation
    if isinstance(old, type) or (isinstance(old, tuple) and all(isinstance(t, type) for t in old)):
        return lambda m: isinstance(m, old)
    if isinstance(old, str):
        probe = get_activation(old)  # an unknown name fails here, listing the known ones
        if "(" in old:  # parameters given: an actlab module with the same parameters
            return lambda m: type(m) is type(probe) and m.extra_repr() == probe.extra_repr()
        return lambda m: matches_name(m, old)
    if callable(old):
        return old
    raise ActlabError(f"old must be a module class, a tuple of classes, an activation name, a predicate or None; got {old!r}")


def _found(model: nn.Module) -> str:
    counts = Counter(type(m).__name__ for m in model.modules() if is_activation(m))
    return ", ".join(f"{name} x{n}" for name, n in counts.most_common()) or "none"


def swap_activations(model: nn.Module, old: Matcher = "relu", new: ActSpec | Callable[[], nn.Module] = "zorro",
                     strict: bool = False) -> list[Swap]:
    """Replace every submodule of `model` matched by `old` with a fresh activation `new`.

    old: a registry name ("relu", "gelu", "silu"/"swish", "tanh", ...), which matches
        torch's, Hugging Face's and timm's classes computing that function as well as
        actlab's ("gelu" also matches GELU's tanh/fast/quick approximations; see
        actlab.activations.equivalents); a spec with parameters ("zorro(a=1.5)"), which
        matches actlab modules with those parameters; a class or tuple of classes; a
        predicate module -> bool; or None: every activation module. Default "relu".
    new: a name or spec string, a module (deep-copied per replacement) or a factory
        (a class such as actlab.activations.Zorro, or any callable returning a module).
    strict: raise an ActlabError when nothing matched; otherwise a warning says so.
    Returns the replacements made (`Swap(path, old, new)`, in model order; print one to
    read it). New modules go to the device of the model's first parameter. Activations
    called as functions inside `forward` (F.gelu, ACT2FN in some Hugging Face models)
    are not modules and cannot be swapped: see `register_with_transformers`.

        >>> net = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))
        >>> [str(s) for s in swap_activations(net, "relu", "zorro")]
        ['1: ReLU() -> Zorro(a=1.2, b=1)']
    """
    match = _matcher(old)
    build = new if callable(new) and not isinstance(new, nn.Module) else (lambda: make_activation(new))
    build()  # a bad spec fails before the model is touched
    device = next((p.device for p in model.parameters()), None)
    swaps: list[Swap] = []
    for parent_path, parent in list(model.named_modules()):
        for name, child in list(parent.named_children()):
            if match(child):
                replacement = build() if device is None else build().to(device)
                setattr(parent, name, replacement)
                swaps.append(Swap(f"{parent_path}.{name}" if parent_path else name, child, replacement))
    if not swaps:
        message = (f"swap_activations: no module of {type(model).__name__} matched old={old!r}; activation "
                   f"modules in it: {_found(model)}")
        if strict:
            raise ActlabError(message)
        warnings.warn(message, UserWarning, stacklevel=2)
    return swaps


_REGISTERED: set = set()  # keys this process registered, told apart from Hugging Face's own


def register_with_transformers(*specs: str) -> list[str]:
    """Make actlab's activations available where Hugging Face models look activations up by
    name (`transformers.activations.ACT2FN`, read for config.hidden_act and the like), so
    that `BertConfig(hidden_act="zorro")` builds BERT with Zorro:

        >>> actlab.nn.register_with_transformers()             # doctest: +SKIP
        >>> transformers.BertModel(transformers.BertConfig(hidden_act="zorro"))  # doctest: +SKIP

    specs: names or spec strings ("zorro(a=1.5,b=0.8)") to register under that string; by
        default every actlab name that Hugging Face does not define itself (its "relu",
        "gelu", ... stay its own). Registration lasts for the process: call it before
        `from_pretrained` of a model saved with an actlab activation. Returns the keys
        registered (again on a second call: registering is idempotent).
    """
    try:
        from transformers import activations as hf
    except ImportError:
        raise ActlabError("register_with_transformers needs Hugging Face transformers: pip install transformers") from None
    keys = list(specs) or [n for n in list_activations() if n not in hf.ACT2FN or n in _REGISTERED]
    for spec in keys:
        get_activation(spec)  # a bad spec fails here, not inside a model's constructor
        factory = partial(get_activation, spec)  # ACT2FN[key] calls it with no arguments
        hf.ACT2FN[spec] = factory
        hf.ACT2CLS[spec] = factory
        _REGISTERED.add(spec)
    return keys
