"""PDE problems as data: domain, residual by autograd, conditions, reference solution.

    from actlab.data.pde import get_pde
    problem = get_pde("burgers")            # or "poisson1d", "poisson2d", "heat"
    problem = get_pde("heat", kappa=0.2)
"""
from __future__ import annotations

import inspect
from typing import Any

from ...errors import ActlabError
from .base import Condition, ConditionSample, PDEProblem, derivative
from .burgers import Burgers
from .heat import Heat1D
from .poisson import Poisson1D, Poisson2D

_PROBLEMS: dict[str, type[PDEProblem]] = {
    cls.name: cls for cls in (Burgers, Poisson1D, Poisson2D, Heat1D)
}


def list_pdes() -> list[str]:
    """Registered PDE problem names, sorted."""
    return sorted(_PROBLEMS)


def get_pde(name: str, **params: Any) -> PDEProblem:
    """Build a PDE problem by name; keyword arguments are the problem's parameters."""
    cls = _PROBLEMS.get(str(name).lower())
    if cls is None:
        raise ActlabError(f"unknown PDE problem {name!r}; known: {', '.join(list_pdes())}")
    allowed = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    unknown = [k for k in params if k not in allowed]
    if unknown:
        raise ActlabError(f"PDE problem {cls.name!r} has no parameter {', '.join(unknown)}; allowed: {', '.join(allowed)}")
    return cls(**params)


__all__ = [
    "Burgers", "Condition", "ConditionSample", "Heat1D", "PDEProblem", "Poisson1D", "Poisson2D",
    "derivative", "get_pde", "list_pdes",
]
