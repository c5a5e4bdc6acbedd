"""Diagnostics probes, attachable to any torch model (labels from `actlab.nn.named_layers`).

On one batch, per labelled layer (h: the layer's output viewed as rows × units, where
units are features, channels of a feature map or token dimensions):

    act_norm            mean over examples of ‖h_i‖₂ (the whole output of example i)
    max_activation      max |h|
    grad_norm           ‖∂loss/∂θ‖₂ over the layer's parameters θ
    dead_fraction       fraction of units whose activation output is the same for every
                        example of the batch (max − min ≤ 1e-6·max(1, |mean|)): for ReLU a
                        unit that is never active; for a bounded unit one pinned at a bound
    saturation_fraction for activations with finite limits at ±∞ (tanh, sigmoid, …): the
                        fraction of outputs within 1 % of the range from a limit; for group
                        activations with a radial bound (Radial Bounding): the fraction of
                        groups on the sphere, ‖h_g‖ ≥ 0.99; None for unbounded activations
    orthogonality       mean |cos| between distinct units' activation vectors over the batch
                        (0: orthogonal representations, 1: all units collinear)
    effective_rank      exp(−Σ p_k log p_k), p_k = s_k / Σ s, s the singular values of h
                        (Roy & Vetterli 2007); 1 = a rank-one representation
    nonfinite_count     NaN/Inf entries in the layer's output and parameter gradients

Units are capped at 512 and rows at 1024 for the pairwise and spectral measures.
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Callable, Iterator, Optional

import torch
from torch import nn

from ..nn.layers import find_activation, named_layers

STATS = ("grad_norms", "act_norms", "max_activation", "dead_fraction", "saturation_fraction",
         "orthogonality", "effective_rank", "nonfinite_count")
MAX_UNITS, MAX_ROWS = 512, 1024


def as_rows(h: torch.Tensor) -> torch.Tensor:
    """(rows, units): (N, D) as is; (N, C, H, W) → (N·H·W, C); (N, T, D) → (N·T, D)."""
    h = h.detach().float()
    if h.ndim == 1:
        return h[:, None]
    if h.ndim == 4:
        return h.permute(0, 2, 3, 1).reshape(-1, h.shape[1])
    return h.reshape(-1, h.shape[-1])


def dead_fraction(a: torch.Tensor) -> float:
    rows = as_rows(a)
    spread = rows.amax(0) - rows.amin(0)
    tol = 1e-6 * rows.mean(0).abs().clamp_min(1.0)
    return float((spread <= tol).float().mean())


def orthogonality(h: torch.Tensor) -> Optional[float]:
    rows = as_rows(h)[:MAX_ROWS, :MAX_UNITS]
    norms = rows.norm(dim=0)
    rows = rows[:, norms > 0] / norms[norms > 0]
    k = rows.shape[1]
    if k < 2 or not torch.isfinite(rows).all():
        return None
    cos = (rows.T @ rows).abs()
    return float((cos.sum() - cos.diagonal().sum()) / (k * (k - 1)))


def effective_rank(h: torch.Tensor) -> Optional[float]:
    rows = as_rows(h)[:MAX_ROWS, :MAX_UNITS].double()
    if not torch.isfinite(rows).all():
        return None
    s = torch.linalg.svdvals(rows)
    if s.sum() <= 0:
        return 0.0
    p = s / s.sum()
    p = p[p > 0]
    return float(torch.exp(-(p * p.log()).sum()))


class Saturation:
    """How to measure saturation for one activation module (see module docstring)."""

    _cache: dict[tuple, tuple] = {}

    def __init__(self, act: nn.Module | None) -> None:
        self.kind, self.lo, self.hi, self.group = None, None, None, None
        if act is None:
            return
        key = (type(act).__name__, act.extra_repr())
        if key not in self._cache:
            self._cache[key] = self._describe(act)
        self.kind, self.lo, self.hi, self.group = self._cache[key]

    @staticmethod
    def _describe(act: nn.Module) -> tuple:
        info = getattr(act, "info", None)
        if info is not None and info.group_size is not None and info.radial is not None:
            bound = float(info.radial(torch.tensor([1e6], dtype=torch.float64))[0])
            return ("radial", None, bound, info.group_size) if math.isfinite(bound) else (None,) * 4
        tensors = [*act.parameters(), *act.buffers()]
        device = tensors[0].device if tensors else torch.device("cpu")
        with torch.no_grad():
            lo, hi = (float(v) for v in act(torch.tensor([-1e4, 1e4], device=device)))
        if info is not None:
            b_lo, b_hi = info.bounds
            tol = 1e-3 * max(1.0, abs(b_hi - b_lo)) if math.isfinite(b_hi - b_lo) else 0
            if not (math.isfinite(b_lo) and math.isfinite(b_hi) and abs(lo - b_lo) <= tol and abs(hi - b_hi) <= tol):
                return (None,) * 4
        elif not (math.isfinite(lo) and math.isfinite(hi) and abs(lo) < 1e3 and abs(hi) < 1e3):
            return (None,) * 4
        return ("elementwise", min(lo, hi), max(lo, hi), None)

    def fraction(self, a: torch.Tensor) -> Optional[float]:
        if self.kind is None:
            return None
        rows = as_rows(a)
        if self.kind == "radial":
            g = rows.shape[1] if not self.group else self.group
            norms = rows.reshape(rows.shape[0], -1, g).norm(dim=-1)
            return float((norms >= 0.99 * self.hi).float().mean())
        tol = 0.01 * (self.hi - self.lo)
        return float(((rows <= self.lo + tol) | (rows >= self.hi - tol)).float().mean())


@contextmanager
def recording(model: nn.Module) -> Iterator[dict]:
    """Forward hooks that keep, per labelled layer, its output and its activation's output."""
    store: dict[str, dict] = {}
    handles = []
    for label, layer in named_layers(model):
        slot = store.setdefault(label, {"layer": layer, "act": find_activation(layer)})
        handles.append(layer.register_forward_hook(lambda m, i, o, s=slot: s.__setitem__("out", o)))
        if slot["act"] is not None and slot["act"] is not layer:
            handles.append(slot["act"].register_forward_hook(lambda m, i, o, s=slot: s.__setitem__("act_out", o)))
    try:
        yield store
    finally:
        for h in handles:
            h.remove()


def _grad_norm(layer: nn.Module) -> tuple[Optional[float], int]:
    grads = [p.grad for p in layer.parameters() if p.grad is not None]
    if not grads:
        return None, 0
    bad = sum(int((~torch.isfinite(g)).sum()) for g in grads)
    return float(torch.sqrt(sum((g.double() ** 2).sum() for g in grads))), bad


def run_probes(model: nn.Module, x: torch.Tensor, y: torch.Tensor,
               loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> dict:
    """All the diagnostics on one batch: {stat: {layer label: value}} for each of STATS,
    plus "loss". The model's buffers (BatchNorm statistics) and gradients are left as found."""
    buffers = {k: v.clone() for k, v in model.named_buffers()}
    saved_grads = [p.grad for p in model.parameters()]
    for p in model.parameters():
        p.grad = None
    try:
        with recording(model) as store:
            loss = loss_fn(model(x), y)
            if loss.requires_grad:
                loss.backward()
        out = {stat: {} for stat in STATS}
        for label, slot in store.items():
            h = slot.get("out")
            if not isinstance(h, torch.Tensor):
                continue
            a = slot.get("act_out", h if slot["act"] is not None else None)
            gnorm, bad_grads = _grad_norm(slot["layer"])
            finite = bool(torch.isfinite(h).all())
            out["grad_norms"][label] = gnorm
            out["act_norms"][label] = float(as_rows(h.reshape(h.shape[0], -1)).norm(dim=1).mean()) if finite else None
            out["max_activation"][label] = float(h.detach().abs().max()) if finite else None
            out["dead_fraction"][label] = dead_fraction(a) if a is not None and finite else None
            out["saturation_fraction"][label] = Saturation(slot["act"]).fraction(a) if a is not None and finite else None
            out["orthogonality"][label] = orthogonality(h) if finite else None
            out["effective_rank"][label] = effective_rank(h) if finite else None
            out["nonfinite_count"][label] = int((~torch.isfinite(h)).sum()) + bad_grads
        out["loss"] = float(loss.detach())
        return out
    finally:
        with torch.no_grad():
            for k, v in model.named_buffers():
                v.copy_(buffers[k])
        for p, g in zip(model.parameters(), saved_grads):
            p.grad = g


def summarize(probe: dict) -> dict[str, float]:
    """Scalars for a metrics table: gradient norms of the first and last hidden layer, the
    largest activation, the mean dead and saturated fractions, the non-finite count."""
    hidden = [k for k in probe["grad_norms"] if k not in ("readout",)]

    def vals(stat):
        return [v for k, v in probe[stat].items() if k in hidden and v is not None]

    out: dict[str, float] = {}
    g = [probe["grad_norms"][k] for k in hidden if probe["grad_norms"].get(k) is not None]
    if g:
        out["grad_norm_first"], out["grad_norm_last"] = g[0], g[-1]
    for stat, reduce in (("max_activation", max), ("dead_fraction", _mean), ("saturation_fraction", _mean),
                         ("orthogonality", _mean), ("effective_rank", _mean)):
        v = vals(stat)
        if v:
            out[stat] = reduce(v)
    out["nonfinite_count"] = float(sum(probe["nonfinite_count"].values()))
    return out


def _mean(v: list[float]) -> float:
    return sum(v) / len(v)
