"""The reproduction suites, one home per work: its spec (quick / full TOML), task code,
claims and figures together (see `registry` for the layout and the hook functions).

    zplane/     Radial Bounding + Z-Plane MLP (Goo, Yun, Jung, arXiv 2606.15669)
    mrepu/      MRePU and the effective field theory of RePU networks (Kim & Kang, arXiv 2408.02697)
    zorro/      the Zorro family (Roodschild et al., arXiv 2409.19239)
    capacity/   capacity of ReLU committee machines (Baldassi, Malatesta & Zecchina, PRL 2019)
    finite_width/  the 1/n theory of the kernel against sampled networks (docs/theory.md)

This layer sits on top of actlab.experiments (the generic runner and report engine), which
imports nothing from here. Importing it registers the suites' own task kinds (`mrepu`, `capacity`,
`finite_width`).
"""
from . import registry
from .capacity import task as _capacity_task  # noqa: F401  (registers the `capacity` task kind)
from .finite_width import task as _finite_width_task  # noqa: F401  (registers the `finite_width` task kind)
from .mrepu import task as _mrepu_task  # noqa: F401  (registers the `mrepu` task kind)
from .registry import PROFILES, available_suites, reproduce, suite_claims, suite_report, suite_spec_path

__all__ = ["PROFILES", "available_suites", "registry", "reproduce", "suite_claims", "suite_report",
           "suite_spec_path"]
