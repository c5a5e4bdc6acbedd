"""Activation functions: modules, autograd Functions, metadata and one registry."""
from .base import Activation, ActivationInfo
from .registry import get_activation, list_activations, parse_spec, register

__all__ = ["Activation", "ActivationInfo", "get_activation", "list_activations", "parse_spec", "register"]
