"""Two-layer committee machines (tree and fully connected), batched over instances.

A machine has K hidden units with activation g and fixed second-layer weights c:

    h_l = W_l · ξ_l                      (raw field of unit l; ξ_l is its input group)
    λ_l = h_l / √n                       (normalised field, O(1) for random W, ξ)
    output = sign( Σ_l c_l g(λ_l) )

- ReLU: g(x) = max(0, x), K even, c_l = +1 for the first K/2 units and −1 for the rest.
- sign: g(x) = sign(x), K odd, c_l = +1 (majority vote); K = 1 is the perceptron.

A pattern (ξ, y) is an error when y · Σ_l c_l g(λ_l) ≤ 0 (ties are errors).

Tensor layout, chosen so that one `matmul` evaluates a whole batch of instances:

    patterns  (B, G, P, n)     G = K (tree: unit l sees group l) or G = 1 (fully
                               connected: every unit sees all n = N inputs);
                               B may be 1 to share one pattern set across instances
    labels    (B, P)           ±1
    weights   (B, K, n) or (B, R, K, n) with R replicas per instance
    fields    (B, K, P) or (B, R, K, P)

Error counts use the raw fields h (not λ): ReLU and sign are positively homogeneous,
so the output sign is the same, and for ±1 weights and patterns h is an integer held
exactly in floating point, which makes ties (output exactly 0) exact.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import torch
from torch import Tensor

from ..errors import ActlabError

ACTIVATIONS = ("relu", "sign")
WEIGHT_KINDS = ("spherical", "binary")
PATTERN_KINDS = ("pm1", "gaussian")


@dataclass(frozen=True)
class CommitteeMachine:
    """Architecture of a two-layer committee machine with N inputs and K hidden units."""

    activation: str
    K: int
    N: int
    tree: bool = True

    def __post_init__(self) -> None:
        check_architecture(self.activation, self.K)
        if self.N < 1:
            raise ActlabError(f"N must be a positive integer, got {self.N}")
        if self.tree and self.N % self.K:
            raise ActlabError(f"tree machine needs N divisible by K (N={self.N}, K={self.K}); pick N = K·n")

    @property
    def n(self) -> int:
        """Inputs seen by one hidden unit: N/K (tree) or N (fully connected)."""
        return self.N // self.K if self.tree else self.N

    @property
    def groups(self) -> int:
        """Number of input groups G in the pattern layout: K (tree) or 1 (fully connected)."""
        return self.K if self.tree else 1

    def readout(self, device=None, dtype=torch.float32) -> Tensor:
        """Second-layer weights c, shape (K,)."""
        return readout_weights(self.activation, self.K, device=device, dtype=dtype)

    def activate(self, fields: Tensor) -> Tensor:
        """g applied elementwise (exact, non-smooth)."""
        return torch.relu(fields) if self.activation == "relu" else torch.sign(fields)

    def fields(self, patterns: Tensor, weights: Tensor) -> Tensor:
        """Raw fields h = W·ξ: (B, K, P) for weights (B, K, n), (B, R, K, P) for (B, R, K, n)."""
        if weights.shape[-1] != patterns.shape[-1] or weights.shape[-2] != self.K:
            raise ActlabError(f"weights shape {tuple(weights.shape)} does not match K={self.K}, n={patterns.shape[-1]}")
        if weights.dim() == 4:
            patterns = patterns.unsqueeze(1)
        return torch.matmul(patterns, weights.unsqueeze(-1)).squeeze(-1)

    def output_field(self, patterns: Tensor, weights: Tensor) -> Tensor:
        """Σ_l c_l g(h_l), shape (B, [R,] P); its sign is the network output."""
        h = self.fields(patterns, weights)
        c = self.readout(h.device, h.dtype)
        return torch.einsum("...kp,k->...p", self.activate(h), c)

    def errors(self, patterns: Tensor, labels: Tensor, weights: Tensor) -> Tensor:
        """Number of patterns with y · Σ c_l g(λ_l) ≤ 0, shape (B, [R])."""
        out = self.output_field(patterns, weights)
        if out.dim() == 3:
            labels = labels.unsqueeze(1)
        return (labels * out <= 0).sum(-1)


def check_architecture(activation: str, K: int) -> None:
    """Raise ActlabError unless (activation, K) is a valid committee machine."""
    if activation not in ACTIVATIONS:
        raise ActlabError(f"unknown activation {activation!r}; allowed: {', '.join(ACTIVATIONS)}")
    if not isinstance(K, int) or K < 1:
        raise ActlabError(f"K must be a positive integer, got {K!r}")
    if activation == "relu" and K % 2:
        raise ActlabError(f"ReLU committee needs an even K (balanced ±1 readout), got K={K}")
    if activation == "sign" and K % 2 == 0:
        raise ActlabError(f"sign committee needs an odd K (majority vote), got K={K}")


def readout_weights(activation: str, K: int, device=None, dtype=torch.float32) -> Tensor:
    """c_l: +1 for the first K/2 units and −1 for the rest (ReLU), all +1 (sign)."""
    check_architecture(activation, K)
    c = torch.ones(K, device=device, dtype=dtype)
    if activation == "relu":
        c[K // 2:] = -1.0
    return c


@dataclass
class Problem:
    """B independent storage problems: patterns (B, G, P, n) and labels (B, P)."""

    patterns: Tensor
    labels: Tensor

    @property
    def P(self) -> int:
        return self.labels.shape[-1]

    @property
    def B(self) -> int:
        return self.labels.shape[0]


def random_problem(machine: CommitteeMachine, P: int, instances: int, *, patterns: str = "pm1",
                   teacher: Optional[Tensor] = None, generator: Optional[torch.Generator] = None,
                   device=None, dtype=torch.float32) -> Problem:
    """Random ±1 (or Gaussian) patterns with i.i.d. ±1 labels, or labels from `teacher` weights.

    teacher: (B, K, n) weights of a machine of the same architecture; labels y = sign of its
    output. Patterns on which the teacher's output is exactly 0 (a tie, an error for either
    label) are redrawn, so the teacher is a solution (a planted one).
    """
    if patterns not in PATTERN_KINDS:
        raise ActlabError(f"unknown pattern kind {patterns!r}; allowed: {', '.join(PATTERN_KINDS)}")
    if P < 1 or instances < 1:
        raise ActlabError(f"need P >= 1 and instances >= 1, got P={P}, instances={instances}")
    shape = (instances, machine.groups, P, machine.n)

    def draw() -> Tensor:
        if patterns == "pm1":
            return torch.randint(0, 2, shape, generator=generator, device=device).to(dtype) * 2 - 1
        return torch.randn(shape, generator=generator, device=device, dtype=dtype)

    X = draw()
    if teacher is None:
        y = torch.randint(0, 2, (instances, P), generator=generator, device=device).to(dtype) * 2 - 1
        return Problem(X, y)
    teacher = teacher.to(dtype)
    out = machine.output_field(X, teacher)
    for _ in range(1000):
        tie = out == 0                                          # (B, P)
        if not bool(tie.any()):
            break
        X = torch.where(tie[:, None, :, None], draw(), X)
        out = machine.output_field(X, teacher)
    else:
        raise ActlabError("could not draw patterns on which the teacher's output is non-zero")
    return Problem(X, torch.sign(out))


def random_weights(machine: CommitteeMachine, instances: int, weights: str, *, replicas: Optional[int] = None,
                   generator: Optional[torch.Generator] = None, device=None, dtype=torch.float32) -> Tensor:
    """Uniform random weights: binary ±1, or spherical (each unit with Σ_i W_li² = n)."""
    if weights not in WEIGHT_KINDS:
        raise ActlabError(f"unknown weights {weights!r}; allowed: {', '.join(WEIGHT_KINDS)}")
    lead = (instances,) if replicas is None else (instances, replicas)
    shape = lead + (machine.K, machine.n)
    if weights == "binary":
        return torch.randint(0, 2, shape, generator=generator, device=device).to(dtype) * 2 - 1
    return spherical_normalize(torch.randn(shape, generator=generator, device=device, dtype=dtype))


def spherical_normalize(W: Tensor) -> Tensor:
    """Rescale each unit (last axis) to Σ_i W_i² = n."""
    n = W.shape[-1]
    return W * (math.sqrt(n) / W.norm(dim=-1, keepdim=True).clamp_min(1e-30))
