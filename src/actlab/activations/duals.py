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


def _angle(q1: np.ndarray, q2: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    norm = np.sqrt(q1 * q2)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.where(norm > 0, c / np.where(norm > 0, norm, 1.0), 0.0)
    return norm, np.arccos(np.clip(cos, -1.0, 1.0))


def ab_relu_dual(a_neg: float, a_pos: float) -> Dual:
    """The dual of a₊·max(z, 0) + a₋·min(z, 0)."""
    even, cross = a_pos ** 2 + a_neg ** 2, 2 * a_pos * a_neg

    def dual(q1, q2, c):
        norm, theta = _angle(np.asarray(q1, float), np.asarray(q2, float), np.asarray(c, float))
        sin, cos = np.sin(theta), np.cos(theta)
        value = norm / (2 * math.pi) * (even * (sin + (math.pi - theta) * cos) - cross * (sin - theta * cos))
        return value, (even * (math.pi - theta) + cross * theta) / (2 * math.pi)

    return dual


def erf_dual(q1, q2, c) -> tuple[np.ndarray, np.ndarray]:
    """The dual of erf(z)."""
    q1, q2, c = (np.asarray(v, float) for v in (q1, q2, c))
    prod = (1 + 2 * q1) * (1 + 2 * q2)
    value = 2 / math.pi * np.arcsin(np.clip(2 * c / np.sqrt(prod), -1.0, 1.0))
    return value, 4 / math.pi / np.sqrt(np.maximum(prod - 4 * c * c, 1.0))
