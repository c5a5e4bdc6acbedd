"""Replace the activation modules of any torch model."""
from __future__ import annotations

from typing import Callable, Union

from torch import nn

from ..activations import get_activation
from ..errors import ActlabError
from .layers import ActSpec, is_activation, make_activation

Matcher = Union[type, tuple, str, Callable[[nn.Module], bool], None]


def _matcher(old: Matcher) -> Callable[[nn.Module], bool]:
    if old is None:
        return is_activation
    if isinstance(old, type) or (isinstance(old, tuple) and all(isinstance(t, type) for t in old)):
        return lambda m: isinstance(m, old)
    if isinstance(old, str):  # an actlab registry name: match modules that print like a fresh one
        probe = get_activation(old)
        if "(" in old:  # parameters given: they must agree too
            return lambda m: type(m) is type(probe) and m.extra_repr() == probe.extra_repr()
        name = getattr(probe, "name", None)  # baselines share one class and differ by name
        return lambda m: type(m) is type(probe) and getattr(m, "name", None) == name
    if callable(old):
        return old
    raise ActlabError(f"old must be a module class, a tuple of classes, an activation name, a predicate or None; got {old!r}")


def swap_activations(model: nn.Module, old: Matcher = nn.ReLU, new: ActSpec | Callable[[], nn.Module] = "zorro") -> int:
    """Replace every submodule of `model` matched by `old` with a fresh activation `new`.

    old: a class (nn.ReLU), a tuple of classes, an actlab name ("relu"), a predicate
        module → bool, or None (every activation module).
    new: a name or spec string, a module (deep-copied per replacement) or a factory.
    Returns the number of modules replaced. Activations called functionally inside
    `forward` (F.relu) are not modules and cannot be swapped.

        >>> net = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))
        >>> swap_activations(net, nn.ReLU, "zorro")
        1
    """
    match = _matcher(old)
    build = new if callable(new) and not isinstance(new, nn.Module) else (lambda: make_activation(new))
    build()  # a bad spec fails before the model is touched
    count = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if match(child):
                setattr(parent, name, build())
                count += 1
    return count
