"""Claims and tables of the reduced CPU zplane run: the zplane suite's own hook, with this run's command."""
from actlab.suites.zplane.claims import claims as zplane_claims
from actlab.suites.zplane.claims import sections  # noqa: F401  (the same extra tables)

COMMAND = "ACTLAB_SUITES=examples/suites actlab reproduce zplane-cpu --profile full"


def claims(df, profile: str) -> list:
    return [{**claim, "command": COMMAND} for claim in zplane_claims(df, profile)]
