"""Finite-width probes: measure on real random networks what the kernel theory predicts.

Network (spec): z⁽¹⁾ = b⁽¹⁾ + W⁽¹⁾x, z⁽ˡ⁺¹⁾ = b⁽ˡ⁺¹⁾ + W⁽ˡ⁺¹⁾σ(z⁽ˡ⁾), W ~ N(0, C_W/fan_in),
b ~ N(0, C_b). A model is a list of stages (linear, activation): z = linear(h), h = act(z).

Measured per layer l = 1..L (each compared with its infinite-width prediction):
- kernel:     K̂⁽ˡ⁾ = mean over units and inputs of (z⁽ˡ⁾)²             ↔ kernel_trajectory;
              its mean and one input's variance to first order in 1/n ↔ fluctuations.finite_width_prediction
- gradients:  Ĝ⁽ˡ⁾ = mean of (∂(u·z⁽ᴸ⁾)/∂z⁽ˡ⁾)², u ~ N(0, I)            ↔ Π_{k=l}^{L−1} χ⊥(K⁽ᵏ⁾)
- Jacobian:   singular values s of J = ∂z⁽ᴸ⁾/∂x (n × n₀), with
              mean s² = tr(JᵀJ)/n₀ ↔ (n C_W/n₀)·Π_{l=1}^{L−1} χ⊥(K⁽ˡ⁾)

Kernel statistics over many networks use Gram-matrix sampling: given the layer
below, the rows of W⁽ˡ⁾ are independent, so the pre-activations of the B inputs at
one unit are exactly N(0, C_b + C_W·HHᵀ/n) and independent across units. Sampling
them directly (B²·n work per layer instead of n²·B) is exact in distribution for
the forward pass, so hundreds of networks cost what one explicit network does.
The single-network fluctuation is large (Var K̂/K² = (V⁽ᴸ⁾/K² + 2)/n to first order, V/K² = 5(L − 1)
for ReLU: ≈ 0.1 at L = 20, n = 1024), which is why many draws are needed
for percent-level comparisons. Gradients and Jacobians need the weights, so they
use explicit networks.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field
from typing import Callable, Optional, Sequence

import numpy as np
import torch
from torch import nn

from ..activations import get_activation
from ..errors import ActlabError
from .fluctuations import finite_width_prediction
from .kernels import check_depth, check_weights, kernel_trajectory, susceptibilities
from .target import as_target

Stage = tuple[nn.Linear, Callable[[torch.Tensor], torch.Tensor]]


def _activation_module(act) -> Callable[[torch.Tensor], torch.Tensor]:
    if isinstance(act, str):
        return get_activation(act)
    if not callable(act):
        raise ActlabError(f"an activation is a registry name, a spec string, an nn.Module or a callable, got {type(act).__name__}")
    return act


def _check_positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not float(value).is_integer() or value < 1:
        raise ActlabError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def random_mlp(act, width: int, depth: int, C_b: float, C_W: float, in_dim: int = 32,
               generator: Optional[torch.Generator] = None, dtype: torch.dtype = torch.float64,
               orthogonal: bool = False) -> list[Stage]:
    """`depth` stages (nn.Linear, act) with W ~ N(0, C_W/fan_in), b ~ N(0, C_b).

    orthogonal=True draws W = gain·Q with Q (semi-)orthogonal and gain² = C_W·max(1, fan_out/fan_in),
    which gives the same kernel recursion but a concentrated Jacobian spectrum
    (dynamical isometry, Saxe et al. 2014; Pennington et al. 2017). The Gram-matrix
    sampler assumes Gaussian weights, so measure such networks with `measure`.
    """
    C_b, C_W = check_weights(C_b, C_W)
    width, depth, in_dim = (_check_positive_int(v, n) for v, n in ((width, "width"), (depth, "depth"), (in_dim, "in_dim")))
    module = _activation_module(act)
    stages = []
    fan_in = in_dim
    for _ in range(depth):
        lin = nn.Linear(fan_in, width, dtype=dtype)
        with torch.no_grad():
            if orthogonal:
                nn.init.orthogonal_(lin.weight, gain=math.sqrt(C_W * max(1.0, width / fan_in)), generator=generator)
            else:
                lin.weight.normal_(0.0, math.sqrt(C_W / fan_in), generator=generator)
            lin.bias.normal_(0.0, math.sqrt(C_b), generator=generator)
        stages.append((lin, module))
        fan_in = width
    return stages


def inputs_with_kernel(n_inputs: int, in_dim: int, q: float, generator: Optional[torch.Generator] = None,
                       dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Random inputs (rows) with |x|²/n₀ = q exactly (directions uniform on the sphere)."""
    x = torch.randn(n_inputs, in_dim, generator=generator, dtype=dtype)
    return x * torch.sqrt(q * in_dim / (x * x).sum(1, keepdim=True))


@dataclass
class Measurement:
    """What `measure` finds on one network for a batch of inputs (layers 1..L)."""

    kernel: np.ndarray           # K̂⁽ˡ⁾, shape (L,)
    grad_sq: np.ndarray          # Ĝ⁽ˡ⁾, shape (L,)
    jacobian_singular_values: np.ndarray  # of ∂z⁽ᴸ⁾/∂x for the first input, shape (min(n_L, n₀),)


def measure(stages: Sequence[Stage], x: torch.Tensor, jacobian: bool = True,
            generator: Optional[torch.Generator] = None) -> Measurement:
    """Per-layer kernel, backward signal and input–output Jacobian of a stage list.

    x: (B, n₀) inputs. The backward signal uses the loss u·z⁽ᴸ⁾ with u ~ N(0, I), so
    Ĝ⁽ᴸ⁾ ≈ 1 and Ĝ⁽ˡ⁾/Ĝ⁽ˡ⁺¹⁾ ≈ χ⊥(K⁽ˡ⁾). The Jacobian columns J·e_k come from the
    double-vjp trick (d/du of Jᵀu), which needs a differentiable backward.
    """
    if not stages:
        raise ActlabError("a model needs at least one (linear, activation) stage")
    with torch.enable_grad():
        zs, h = [], x
        for lin, act in stages:
            z = lin(h)
            zs.append(z)
            h = act(z)
        u = torch.randn(zs[-1].shape, generator=generator, dtype=zs[-1].dtype)
        grads = torch.autograd.grad((zs[-1] * u).sum(), zs, allow_unused=True)
    kernel = np.array([float((z.detach() ** 2).mean()) for z in zs])
    grad_sq = np.array([float((g ** 2).mean()) if g is not None else 0.0 for g in grads])
    sv = jacobian_singular_values(stages, x[:1]) if jacobian else np.array([])
    return Measurement(kernel, grad_sq, sv)


def jacobian_singular_values(stages: Sequence[Stage], x: torch.Tensor) -> np.ndarray:
    """Singular values of ∂z⁽ᴸ⁾/∂x at one input x (shape (1, n₀)), largest first."""
    with torch.enable_grad():
        xx = x.detach().clone().requires_grad_(True)
        h = xx
        for i, (lin, act) in enumerate(stages):
            z = lin(h)
            h = act(z) if i < len(stages) - 1 else z
        u = torch.zeros_like(h, requires_grad=True)
        (jt_u,) = torch.autograd.grad(h, xx, grad_outputs=u, create_graph=True)
        cols = []
        for k in range(xx.shape[1]):
            e = torch.zeros_like(xx)
            e[0, k] = 1.0
            (col,) = torch.autograd.grad(jt_u, u, grad_outputs=e, retain_graph=True)
            cols.append(col[0])
    J = torch.stack(cols, dim=1).detach()
    return torch.linalg.svdvals(J).numpy()


def sample_kernels(act, C_b: float, C_W: float, width: int, depth: int, K0: float = 1.0,
                   n_inputs: int = 2, n_nets: int = 200, seed: int = 0, per_input: bool = False) -> np.ndarray:
    """K̂⁽ˡ⁾ (mean of z² over units and inputs) for `n_nets` independent networks by
    exact Gram-matrix sampling (see module docstring): shape (n_nets, depth+1), entry l
    the kernel of layer l+1, entry 0 the first layer (K⁽¹⁾ = K0, entry 0 of kernel_trajectory).
    per_input=True keeps each input's K̂ (mean over units only): shape (n_nets, depth+1, n_inputs)."""
    C_b, C_W = check_weights(C_b, C_W)
    width, depth = _check_positive_int(width, "width"), check_depth(depth)
    n_inputs, n_nets = _check_positive_int(n_inputs, "n_inputs"), _check_positive_int(n_nets, "n_nets")
    q = _input_norm(K0, C_b, C_W)
    module = _activation_module(act)
    gen = torch.Generator().manual_seed(seed)
    x = inputs_with_kernel(n_inputs, 32, q, gen)
    gram = (C_b + C_W * x @ x.T / x.shape[1]).expand(n_nets, -1, -1)  # (N, B, B)
    out = []
    dead = torch.zeros(n_nets, dtype=torch.bool)  # networks whose kernel overflowed: inf from there on
    with torch.no_grad():
        for _ in range(depth + 1):
            dead |= ~torch.isfinite(gram).all(dim=2).all(dim=1)
            gram = torch.where(dead[:, None, None], torch.eye(n_inputs, dtype=gram.dtype), gram)
            z = _sample_preactivations(gram, width, gen)          # (N, B, n)
            k = (z * z).mean(dim=2)
            dead |= ~torch.isfinite(k).all(dim=1)
            k = k if per_input else k.mean(dim=1)
            out.append(torch.where(dead.view((-1,) + (1,) * (k.dim() - 1)), torch.full_like(k, math.inf), k))
            h = module(z)
            gram = C_b + C_W * h @ h.transpose(1, 2) / width
    return torch.stack(out, dim=1).numpy()


def _sample_preactivations(gram: torch.Tensor, width: int, gen: torch.Generator) -> torch.Tensor:
    """z with z[:, :, i] ~ N(0, gram) i.i.d. over units i (gram may be singular or huge)."""
    if gram.shape[1] == 1:  # one input: the root is a square root (no batched eigh or matmul: 5x faster)
        xi = torch.randn(gram.shape[0], 1, width, generator=gen, dtype=gram.dtype)
        return gram.clamp_min(0).sqrt() * xi
    evals, evecs = torch.linalg.eigh(gram)
    root = evecs * evals.clamp_min(0).sqrt().unsqueeze(1)     # gram = root rootᵀ
    xi = torch.randn(gram.shape[0], gram.shape[1], width, generator=gen, dtype=gram.dtype)
    return root @ xi


def _input_norm(K0: float, C_b: float, C_W: float) -> float:
    if not math.isfinite(K0) or K0 < C_b:
        raise ActlabError(f"K0 (the first layer's kernel C_b + C_W|x|²/n₀) must be finite and >= C_b = {C_b:g}, got {K0:g}")
    return (K0 - C_b) / C_W


@dataclass
class Comparison:
    """Measured and predicted per-layer quantities side by side (layers 1..depth)."""

    name: str
    C_b: float
    C_W: float
    width: int
    depth: int
    layers: np.ndarray
    kernel_predicted: np.ndarray
    kernel_measured: np.ndarray          # mean over the networks that stayed finite
    kernel_error: np.ndarray             # standard error of that mean
    kernel_median: np.ndarray            # median over networks (diverged ones count as inf)
    kernel_diverged: np.ndarray          # networks whose kernel overflowed, per layer (left out of the mean)
    kernel_predicted_finite: np.ndarray  # E K̂ to first order in 1/n: K + K₍₁₎/n (actlab.theory.fluctuations)
    kernel_variance_predicted: np.ndarray  # Var K̂ of one input to first order in 1/n: (V + 2K²)/n
    kernel_variance_measured: np.ndarray   # variance over networks of one input's K̂ (mean over the inputs)
    kernel_variance_error: np.ndarray      # its standard error (mean over inputs: an upper bound, inputs share networks)
    kurtosis_predicted: np.ndarray         # excess kurtosis 3V/(nK²) of the pre-activations
    grad_predicted: np.ndarray           # Π_{k=l}^{L−1} χ⊥(K⁽ᵏ⁾)
    grad_measured: np.ndarray
    grad_error: np.ndarray
    jacobian_ms_predicted: float         # predicted mean squared singular value
    jacobian_singular_values: np.ndarray = field(default_factory=lambda: np.array([]))

    def as_dict(self) -> dict:
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in asdict(self).items()}


def compare_trajectories(act, C_b: float, C_W: float, width: int = 1024, depth: int = 20, K0: float = 1.0,
                         n_inputs: int = 2, n_nets: int = 200, n_explicit: int = 2, in_dim: int = 32,
                         seed: int = 0) -> Comparison:
    """Predicted vs measured kernel, backward signal and Jacobian for a random MLP.

    The kernel is measured on `n_nets` networks by exact Gram-matrix sampling, the
    gradients and Jacobian on `n_explicit` explicit networks (width² weights each).
    K0 is the first layer's kernel; inputs are scaled so that C_b + C_W|x|²/n₀ = K0.
    The kernel's mean and variance are predicted at infinite width and to first order
    in 1/n (`fluctuations.finite_width_prediction`).
    """
    C_b, C_W = check_weights(C_b, C_W)
    depth = _check_positive_int(depth, "depth")
    n_explicit = int(n_explicit)
    name = as_target(act, width).label
    predicted = kernel_trajectory(act, C_b, C_W, K0, depth - 1, width=width)
    one_over_n = _one_over_n(act, C_b, C_W, K0, depth, width)
    per_input = sample_kernels(act, C_b, C_W, width, depth - 1, K0, n_inputs, n_nets, seed, per_input=True)
    samples = per_input.mean(axis=2)
    ok = np.isfinite(samples)
    diverged = (~ok).sum(0)
    n = ok.sum(0)
    clean = np.where(ok, samples, np.nan)
    clean_inputs = np.where(ok[:, :, None], per_input, np.nan)
    with np.errstate(all="ignore"), warnings.catch_warnings():  # layers where every network diverged
        warnings.simplefilter("ignore", RuntimeWarning)
        k_mean = np.nanmean(clean, 0)
        k_err = np.where(n > 1, np.nanstd(clean, 0, ddof=1) / np.sqrt(np.maximum(n, 1)), np.nan)
        var, var_err = variance_with_error(clean_inputs)
        var, var_err = var.mean(axis=1), var_err.mean(axis=1)
    finite = np.isfinite(predicted) & (predicted > 0)
    chi_perp = np.full(depth, np.nan)
    if finite.all():
        chi_perp = np.asarray(susceptibilities(act, np.maximum(predicted, 1e-300), C_W, width=width)[1]).reshape(-1)
    grad_pred = np.array([np.prod(chi_perp[l:depth - 1]) for l in range(depth)])
    jac_pred = float(width * C_W / in_dim * np.prod(chi_perp[:depth - 1]))
    grads, svs = [], np.array([])
    if n_explicit > 0:
        gen = torch.Generator().manual_seed(seed + 1)
        q = _input_norm(K0, C_b, C_W)
        for i in range(n_explicit):
            stages = random_mlp(act, width, depth, C_b, C_W, in_dim, gen)
            m = measure(stages, inputs_with_kernel(n_inputs, in_dim, q, gen), jacobian=(i == 0), generator=gen)
            grads.append(m.grad_sq)
            if i == 0:
                svs = m.jacobian_singular_values
    g = np.array(grads) if grads else np.full((1, depth), np.nan)
    g_err = g.std(0, ddof=1) / math.sqrt(len(g)) if len(g) > 1 else np.full(depth, np.nan)
    return Comparison(name, C_b, C_W, int(width), depth, np.arange(1, depth + 1), predicted, k_mean, k_err,
                      np.median(np.where(ok, samples, np.inf), 0), diverged, one_over_n["mean"],
                      one_over_n["variance"], var, var_err, one_over_n["kurtosis"], grad_pred, g.mean(0), g_err, jac_pred, svs)


def variance_with_error(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sample variance over axis 0 (nan entries left out) and its standard error
    √((m₄ − s⁴)/N), m₄ the fourth central moment (no Gaussian assumption: K̂ is skewed)."""
    n = np.sum(np.isfinite(x), axis=0)
    c = x - np.nanmean(x, axis=0)
    var = np.nansum(c * c, axis=0) / np.maximum(n - 1, 1)
    m4 = np.nansum(c ** 4, axis=0) / np.maximum(n, 1)
    err = np.sqrt(np.maximum(m4 - var ** 2, 0.0) / np.maximum(n, 1))
    return np.where(n > 1, var, np.nan), np.where(n > 1, err, np.nan)


def _one_over_n(act, C_b: float, C_W: float, K0: float, depth: int, width: int) -> dict:
    """The 1/n predictions of E K̂, Var K̂ and the kurtosis (K0 = 0: a network that outputs 0, nothing to predict)."""
    if K0 <= 0:
        nan = np.full(depth, np.nan)
        return {"mean": nan, "variance": nan, "kurtosis": nan}
    p = finite_width_prediction(act, C_b, C_W, K0, depth, width)
    return {"mean": p.mean, "variance": p.variance, "kurtosis": p.kurtosis}
