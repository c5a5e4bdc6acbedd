"""Signal propagation and criticality for any activation (infinite and finite width).

    >>> from actlab import theory
    >>> theory.critical_init("tanh").C_W
    1.0
    >>> [round(chi, 12) for chi in theory.susceptibilities("relu", 1.0, C_W=2.0)]
    [1.0, 1.0]

Layers: `quadrature` (Gaussian expectations), `target` (what the theory needs from an
activation, elementwise or group), `kernels` (kernel map, susceptibilities,
trajectories), `dual` (N×N two-input moments: closed forms, Hermite expansion), `isotropic`
(the two-input kernel of group activations by the isotropic reduction), `vector` (whole-vector
group activations at width n: two-input kernel and depth scales at leading order in 1/n),
`stax` (NNGP and NTK as composed layer maps), `depth` (q*, c*, ξ_q, ξ_c, phases),
`criticality` (critical init, universality class),
`fluctuations` (the 1/n theory of finite width: four-point vertex, kernel shift), `finite_width`
(measurements on real networks), `plot` (the figure of `actlab theory --plot`).
"""
from .criticality import CLASSES, CriticalInit, critical_init, universality_class
from .depth import DepthScales, depth_scales, order_chaos_line
from .finite_width import compare_trajectories
from .fluctuations import FiniteWidthPrediction, finite_width_prediction
from .kernels import (kernel_map, kernel_map_pair, kernel_trajectory, pair_trajectory, second_moment,
                      susceptibilities)
from .quadrature import bivariate_gaussian_expectation, gaussian_expectation
from .stax import nngp, ntk

__all__ = [
    "CLASSES", "CriticalInit", "critical_init", "universality_class", "compare_trajectories",
    "FiniteWidthPrediction", "finite_width_prediction",
    "DepthScales", "depth_scales", "order_chaos_line",
    "kernel_map", "kernel_map_pair", "kernel_trajectory", "pair_trajectory", "second_moment", "susceptibilities",
    "bivariate_gaussian_expectation", "gaussian_expectation", "nngp", "ntk",
]
