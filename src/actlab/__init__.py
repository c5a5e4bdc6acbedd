"""actlab: activation functions and the stability of deep networks."""
from .errors import ActlabError
from .activations import get_activation, list_activations

__version__ = "0.1.0"

__all__ = ["ActlabError", "get_activation", "list_activations", "__version__"]
