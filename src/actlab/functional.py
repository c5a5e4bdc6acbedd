"""Functional forms of every actlab activation (the modules in actlab.activations wrap these)."""
from .activations.baselines import dgelu, dsilu
from .activations.power import mrepu, repu
from .activations.radial import radial_bounding
from .activations.zorro import zorro, zorro_asymmetric, zorro_sigmoid, zorro_sloped, zorro_tanh

__all__ = ["radial_bounding", "repu", "mrepu", "zorro", "zorro_asymmetric", "zorro_sigmoid",
           "zorro_sloped", "zorro_tanh", "dsilu", "dgelu"]
