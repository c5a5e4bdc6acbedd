"""Models and initialisation schemes: every model takes its activation by name, spec
string or module, and labels its hidden layers for the diagnostics ("layer 37").

    >>> from actlab.nn import DeepMLP, build_model
    >>> net = DeepMLP(64, 10, depth=100, width=128, act="radial_bounding", init="orthogonal")
"""
from .complex_linear import ComplexLinear
from .conv import SmallCNN, SmallResNet
from .factory import MODEL_DEFAULTS, MODELS, build_model, resolve_model_settings
from .init import INIT_SCHEMES, critical_point, init_weights
from .layers import LabeledModel, find_activation, is_activation, named_layers
from .mlp import DeepMLP
from .pinn import PINNNet
from .resmlp import ResidualMLP
from .swap import Swap, register_with_transformers, swap_activations
from .vit import SmallViT
from .zplane import ZPlaneMLP

__all__ = [
    "DeepMLP", "ZPlaneMLP", "ResidualMLP", "ComplexLinear", "SmallCNN", "SmallResNet", "SmallViT", "PINNNet",
    "build_model", "MODELS", "MODEL_DEFAULTS", "resolve_model_settings", "init_weights", "INIT_SCHEMES",
    "critical_point", "swap_activations", "Swap", "register_with_transformers",
    "named_layers", "find_activation", "is_activation", "LabeledModel",
]
