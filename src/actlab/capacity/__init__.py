"""The capacity lab: committee machines, batched solvers, replica theory, robustness.

Reproduces the claims of Baldassi, Malatesta & Zecchina, PRL 123, 170602 (2019): the storage
capacity of a two-layer tree committee machine stays finite as K grows with ReLU hidden units
and diverges with sign units; dense, robust regions of solutions exist.

    from actlab.capacity import alpha_c, CommitteeMachine, random_problem, solve
    alpha_c("relu", "inf", "spherical", "rs")        # Estimate(value=2.934, ...)
"""
from .empirical import (CapacityScan, alpha_at_half, ball_entropy, capacity_scan, cover_probability, input_noise,
                        local_entropy, weight_perturbation)
from .enumeration import count_solutions
from .finite_k import mean_d2
from .machine import CommitteeMachine, Problem, random_problem, random_weights, readout_weights
from .replica import Estimate, alpha_c, effective_overlap, theory_table
from .solvers import (SolveResult, anneal, exact_solve, fbp, gradient_descent, lp_feasible, replicated,
                      replicated_anneal, solve)

__all__ = [
    "CapacityScan", "CommitteeMachine", "Estimate", "Problem", "SolveResult", "alpha_at_half", "alpha_c", "anneal",
    "ball_entropy", "capacity_scan", "count_solutions", "cover_probability", "effective_overlap", "exact_solve",
    "fbp", "gradient_descent", "input_noise", "local_entropy", "lp_feasible", "mean_d2", "random_problem", "random_weights",
    "readout_weights", "replicated", "replicated_anneal", "solve", "theory_table", "weight_perturbation",
]
