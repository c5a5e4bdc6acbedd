"""The NaN/Inf guard: which layer went non-finite first.

Checking every layer on every step would cost a synchronisation per layer, so the
training loop checks only the loss and the gradient norm; when either is non-finite it
replays the same forward pass (same parameters, same batch: deterministic) with hooks on
every module and reports the first one, in execution order, whose output is non-finite.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from ..nn.layers import named_layers


def _label_of(model: nn.Module) -> dict[int, str]:
    """id(module) → the label of the labelled layer that contains it."""
    owner = {}
    for label, layer in named_layers(model):
        for m in layer.modules():
            owner.setdefault(id(m), label)
    return owner


def _nonfinite(o) -> bool:
    if isinstance(o, torch.Tensor):
        return o.is_floating_point() and not bool(torch.isfinite(o).all())
    if isinstance(o, (tuple, list)):
        return any(_nonfinite(t) for t in o)
    return False


@torch.no_grad()
def first_nonfinite_forward(model: nn.Module, x: torch.Tensor) -> Optional[dict]:
    """{'layer': label, 'module': qualified name} of the first module whose output is
    non-finite on input x; {'layer': 'input'} when x itself is; None when all are finite."""
    if _nonfinite(x):
        return {"layer": "input", "module": ""}
    owner = _label_of(model)
    hits: list[tuple[str, nn.Module]] = []
    handles = [m.register_forward_hook(lambda mod, i, o, n=name: hits.append((n, mod)) if not hits and _nonfinite(o) else None)
               for name, m in model.named_modules() if name]
    buffers = {k: v.clone() for k, v in model.named_buffers()}
    try:
        out = model(x)
    finally:
        for h in handles:
            h.remove()
        for k, v in model.named_buffers():
            v.copy_(buffers[k])
    if hits:
        name, mod = hits[0]
        return {"layer": owner.get(id(mod), name), "module": name}
    if _nonfinite(out):
        return {"layer": "output", "module": ""}
    return None


def first_nonfinite_gradient(model: nn.Module) -> Optional[dict]:
    """The labelled layer whose parameter gradient is non-finite, first in backward order
    (the last in forward order)."""
    found = None
    for label, layer in named_layers(model):
        if any(p.grad is not None and not bool(torch.isfinite(p.grad).all()) for p in layer.parameters()):
            found = {"layer": label, "module": ""}
    if found is None:
        bad = [n for n, p in model.named_parameters() if p.grad is not None and not bool(torch.isfinite(p.grad).all())]
        found = {"layer": bad[-1], "module": bad[-1]} if bad else {"layer": "gradient", "module": ""}
    return found
