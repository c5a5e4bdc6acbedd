"""Activation functions: modules, autograd Functions, metadata and one registry.

    >>> import actlab
    >>> act = actlab.get_activation("zorro(a=1.5,b=0.8)")
    >>> actlab.list_activations()[:3]
    ['dgelu', 'dsilu', 'elu']
"""
from .base import Activation, ActivationInfo
from .baselines import Baseline
from .fit import ZorroFit, fit_zorro
from .power import MRePU, RePU
from .radial import RadialBounding
from .registry import get_activation, list_activations, parse_spec, register, registry_revision
from .zorro import AsymmetricZorro, SigmoidZorro, SlopedZorro, TanhZorro, Zorro

__all__ = [
    "Activation", "ActivationInfo", "Baseline", "RadialBounding", "RePU", "MRePU", "Zorro",
    "AsymmetricZorro", "SigmoidZorro", "TanhZorro", "SlopedZorro", "ZorroFit", "fit_zorro",
    "get_activation", "list_activations", "parse_spec", "register", "registry_revision",
]
