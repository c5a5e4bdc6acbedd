"""actlab: activation functions and the stability of deep networks.

    >>> import actlab
    >>> actlab.get_activation("zorro(a=1.5,b=0.8)")
    Zorro(a=1.5, b=0.8)

The subpackages (actlab.functional, actlab.theory, actlab.nn, actlab.capacity, ...)
load at their first use, so that `import actlab` costs little more than torch
(benchmarks/bench_import.py).
"""
from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from .errors import ActlabError
from .activations import get_activation, list_activations

__version__ = "0.1.0"

__all__ = ["ActlabError", "get_activation", "list_activations", "__version__"]


def __getattr__(name: str) -> ModuleType:
    """actlab.<subpackage>, imported at its first use."""
    if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
