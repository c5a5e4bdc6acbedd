"""The Zorro fits the zorro suite reports: each variant fitted to Swish, GELU and DGELU.

Computed (not stored) when the report is built, by `actlab.activations.fit_zorro` with the
affine maps α·Z(β·x + γ) + δ on [−4, 4]; cached per process because the claims table and
the fit table ask for the same fits. The quick profile uses a coarser grid and fewer
L-BFGS steps (FIT_SETTINGS), the full profile the fitter's defaults.
"""
from __future__ import annotations

from functools import lru_cache

TARGETS = (("silu", "Swish"), ("gelu", "GELU"), ("dgelu", "DGELU"))
# Sigmoid- and Tanh-Zorro are Symmetric-Zorro under affine input/output maps, so with
# affine=True they would repeat the symmetric fit.
VARIANTS = {"quick": ("zorro", "zorro_sloped"), "full": ("zorro", "zorro_asymmetric", "zorro_sloped")}
FIT_SETTINGS = {"quick": {"points": 401, "steps": 100}, "full": {}}
INTERVAL = (-4.0, 4.0)


@lru_cache(maxsize=None)
def zorro_fit(target: str, variant: str, profile: str):
    from ...activations import fit_zorro

    return fit_zorro(target, variant, INTERVAL, affine=True, **FIT_SETTINGS.get(profile, {}))


def all_fits(profile: str) -> list:
    """[(target label, ZorroFit)] for every target and this profile's variants."""
    variants = VARIANTS.get(profile, VARIANTS["full"])
    return [(label, zorro_fit(target, variant, profile)) for target, label in TARGETS for variant in variants]


def fit_command(fit) -> str:
    return f"actlab fit {fit.target} --variant {fit.variant} --low {fit.interval[0]:g} --high {fit.interval[1]:g}"


def describe(fit) -> str:
    """'zorro_sloped a=0.106, b=0.002, m=1.82; α=…, β=…, γ=…, δ=…'."""
    params = ", ".join(f"{k}={v:.4g}" for k, v in fit.params.items())
    maps = ", ".join(f"{k}={v:.4g}" for k, v in (fit.affine or {}).items())
    return f"{fit.variant} {params}" + (f"; {maps}" if maps else "")
