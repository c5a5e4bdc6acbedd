"""Closed-form two-input moments ("dual activations", Daniely et al. 2016) that an
activation may declare next to its breakpoints, for the theory engine's N×N kernels.

A dual maps the covariance of a Gaussian pair, (z₁, z₂) ~ N(0, [[q₁, c], [c, q₂]]),
to (E σ(z₁)σ(z₂), E σ'(z₁)σ'(z₂)); arrays broadcast. With cos θ = c/√(q₁q₂):

- a₊·max(z, 0) + a₋·min(z, 0) (ReLU, leaky ReLU, identity; the arc-cosine kernel of
  Cho & Saul 2009, in neural-tangents' ABRelu form):
      E σσ   = √(q₁q₂)/(2π)·[(a₊² + a₋²)(sin θ + (π − θ)cos θ) − 2a₊a₋(sin θ − θ cos θ)]
      E σ'σ' = [(a₊² + a₋²)(π − θ) + 2a₊a₋θ]/(2π)
- erf(z) (Williams 1997):
      E σσ   = (2/π)·arcsin(2c/√((1 + 2q₁)(1 + 2q₂)))
      E σ'σ' = (4/π)/√((1 + 2q₁)(1 + 2q₂) − 4c²)       (σ' = (2/√π)e^{−z²})

Each is checked against the theory engine's adaptive quadrature by a test.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

Dual = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def _cosine(q1: np.ndarray, q2: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """√(q₁q₂) and cos θ = c/√(q₁q₂) in [−1, 1] (0 where q₁q₂ = 0)."""
    norm = np.sqrt(q1 * q2)
    cos = np.divide(c, norm, out=np.zeros(np.broadcast(norm, c).shape), where=norm > 0)
    return norm, np.clip(cos, -1.0, 1.0, out=cos)


def ab_relu_dual(a_neg: float, a_pos: float) -> Dual:
    """The dual of a₊·max(z, 0) + a₋·min(z, 0)."""
    even, cross = a_pos ** 2 + a_neg ** 2, 2 * a_pos * a_neg

    def dual(q1, q2, c):
        norm, cos = _cosine(np.asarray(q1, float), np.asarray(q2, float), np.asarray(c, float))
        theta = np.arccos(cos)
        sin = np.sqrt((1 - cos) * (1 + cos))  # = sin θ, without two more transcendental passes
        value = even * (sin + (math.pi - theta) * cos)
        slope = even * (math.pi - theta)
        if cross:
            value -= cross * (sin - theta * cos)
            slope += cross * theta
        return norm / (2 * math.pi) * value, slope / (2 * math.pi)

    return dual


def erf_dual(q1, q2, c) -> tuple[np.ndarray, np.ndarray]:
    """The dual of erf(z)."""
    q1, q2, c = (np.asarray(v, float) for v in (q1, q2, c))
    prod = (1 + 2 * q1) * (1 + 2 * q2)
    value = 2 / math.pi * np.arcsin(np.clip(2 * c / np.sqrt(prod), -1.0, 1.0))
    return value, 4 / math.pi / np.sqrt(np.maximum(prod - 4 * c * c, 1.0))
