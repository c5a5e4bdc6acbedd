"""Closed-form two-input moments ("dual activations", Daniely et al. 2016) that an
activation may declare next to its breakpoints, for the theory engine's N×N kernels.

A dual maps the covariance of a Gaussian pair, (z₁, z₂) ~ N(0, [[q₁, c], [c, q₂]]),
to (E σ(z₁)σ(z₂), E σ'(z₁)σ'(z₂)). Here an activation only *declares* which closed form
it has: a `ClosedFormDual` names the formula (`kind`) and its parameters. The formulas,
their derivations and their compiled evaluation are the theory engine's
(actlab.theory.closed_forms: `evaluate(dual, q1, q2, c)` elementwise, `gram(dual, K)` on
an N×N covariance), which also takes any plain function of broadcast arrays
(q1, q2, c) ↦ (E σσ, E σ'σ') declared as `dual`.
"""
from __future__ import annotations

from dataclasses import dataclass

AB_RELU, ERF, GELU = 0, 1, 2  # the kinds of closed form (theory.closed_forms' formulas)


@dataclass(frozen=True)
class ClosedFormDual:
    """A declared closed form: `kind` names it (AB_RELU: a₊·max(z, 0) + a₋·min(z, 0) with
    params (a₊² + a₋², 2a₊a₋); ERF: erf(z); GELU: z·Φ(z); the last two take no params)."""

    kind: int
    params: tuple[float, float] = (0.0, 0.0)


def ab_relu_dual(a_neg: float, a_pos: float) -> ClosedFormDual:
    """The dual of a₊·max(z, 0) + a₋·min(z, 0)."""
    return ClosedFormDual(AB_RELU, (a_pos ** 2 + a_neg ** 2, 2 * a_pos * a_neg))


erf_dual = ClosedFormDual(ERF)  # the dual of erf(z)
gelu_dual = ClosedFormDual(GELU)  # the dual of z·Φ(z)
