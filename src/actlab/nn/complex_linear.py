"""A linear map of C^{n/2} written as a real matrix on interleaved (re, im) pairs.

Feature 2k is Re z_k and feature 2k+1 is Im z_k (the pairs Radial Bounding with
group_size = 2 treats as phasors). With A, B real (out/2 × in/2), the map
z ↦ (A + iB) z is, on the real features, the block matrix

    [[A, −B],
     [B,  A]]      (each 2 × 2 block [[a, −b], [b, a]] is multiplication by a + ib)

interleaved so that every block acts on one phasor.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ..errors import ActlabError
from .init import GAUSSIAN


class ComplexLinear(nn.Module):
    """y = W x + b with W the real form of a complex matrix A + iB (see module docstring).

    Args:
        in_features, out_features: even real sizes (twice the complex sizes).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True) -> None:
        super().__init__()
        if in_features % 2 or out_features % 2:
            raise ActlabError(f"complex-structured weights need even sizes, got {in_features} → {out_features}")
        self.in_features, self.out_features = in_features, out_features
        self.real = nn.Parameter(torch.empty(out_features // 2, in_features // 2))
        self.imag = nn.Parameter(torch.empty(out_features // 2, in_features // 2))
        self.bias = nn.Parameter(torch.empty(out_features)) if bias else None
        self.reset_parameters_by("default")

    @property
    def weight(self) -> torch.Tensor:
        """The real (out, in) matrix with 2×2 blocks [[a, −b], [b, a]]."""
        a, b = self.real, self.imag
        w = torch.stack([torch.stack([a, -b], dim=-1), torch.stack([b, a], dim=-1)], dim=1)
        return w.reshape(self.out_features, self.in_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.linear(x, self.weight, self.bias)

    @torch.no_grad()
    def reset_parameters_by(self, scheme: str, c_b: float = 0.0, c_w: float = 1.0) -> None:
        """Initialise A, B so that the real matrix has the scheme's statistics.

        default: U(±1/√in) per entry (torch's Linear default); kaiming, xavier, critical / gaussian:
        Gaussian entries with variance 2/in, 2/(in+out), C_W/in; orthogonal: A + iB a
        random (semi-)unitary matrix, whose real form is (semi-)orthogonal.
        """
        n_in, n_out = self.in_features, self.out_features
        if scheme == "orthogonal":
            q = _random_unitary(n_out // 2, n_in // 2)
            self.real.copy_(q.real)
            self.imag.copy_(q.imag)
        else:
            if scheme == "default":
                bound = 1 / math.sqrt(n_in)
                self.real.uniform_(-bound, bound), self.imag.uniform_(-bound, bound)
            else:
                var = {"kaiming": 2 / n_in, "xavier": 2 / (n_in + n_out), "critical": c_w / n_in, "gaussian": c_w / n_in}[scheme]
                self.real.normal_(0, math.sqrt(var)), self.imag.normal_(0, math.sqrt(var))
        if self.bias is not None:
            if scheme == "default":
                self.bias.uniform_(-1 / math.sqrt(n_in), 1 / math.sqrt(n_in))
            elif scheme in GAUSSIAN:
                self.bias.normal_(0, math.sqrt(c_b))
            else:
                self.bias.zero_()

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


def _random_unitary(rows: int, cols: int) -> torch.Tensor:
    """A Haar-like random matrix with orthonormal columns (rows ≥ cols) or rows."""
    tall = rows >= cols
    shape = (rows, cols) if tall else (cols, rows)
    z = torch.complex(torch.randn(shape), torch.randn(shape)) / math.sqrt(2)
    q, r = torch.linalg.qr(z)
    d = torch.diagonal(r)
    q = q * (d / d.abs().clamp_min(1e-12))  # fix the phases so that q is uniformly distributed
    return q if tall else q.mH
